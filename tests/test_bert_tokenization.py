"""Tokenizer parity: the graph tokenizers (used for training and inside the export) against the reference Python
tokenizers of their ecosystems (Hugging Face's BertTokenizer for WordPiece, `sentencepiece` + vocab.txt for
KoBERT), on English and Korean text; truncation and empty texts."""

from __future__ import annotations

import numpy as np
import pytest

from bert_fixtures import kobert_vocabulary, sentencepiece_model, wordpiece_vocabulary

TEXTS = ["The movie was GREAT, loved it! Amélie's café", "boring and awful <br /><br /> hated it", "",
         "정말 재미있다 최고", "지루하다 최악 별로", "acting... dull; plot?", "unknownword 영화 😡"]


def _packed(packer, texts):
    out = packer(texts)
    ids, mask = out["token_ids"].numpy(), out["padding_mask"].numpy()
    return [row[: m.sum()].tolist() for row, m in zip(ids, mask)]


@pytest.mark.parametrize("lowercase", [True, False])
def test_wordpiece_matches_hugging_face_reference(tmp_path, lowercase):
    """Uncased (lowercase + accent stripping, as bert-base-uncased) on English, cased (as mBERT) on both
    languages. Known difference, not tested: with accent stripping Hugging Face decomposes Hangul syllables into
    jamo (NFD), keras_hub keeps them composed, so Korean through an *uncased* vocabulary differs."""
    import keras_hub
    from transformers import BertTokenizer as ReferenceTokenizer

    from tfsenti.bert.preprocessor import BertPacker

    vocabulary = wordpiece_vocabulary()
    if not lowercase:
        vocabulary = vocabulary + ["The", "GREAT", "Am"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    reference = ReferenceTokenizer(str(tmp_path / "vocab.txt"), do_lower_case=lowercase)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=lowercase, strip_accents=lowercase)
    packer = BertPacker(tokenizer, sequence_length=12)
    texts = [t for t in TEXTS if not lowercase or not any("\uac00" <= c <= "\ud7a3" for c in t)]
    expected = [reference.encode(text, truncation=True, max_length=12) for text in texts]
    assert _packed(packer, texts) == expected
    assert any(reference.unk_token_id in row for row in expected)  # the check covers unknown words too


def test_sentencepiece_matches_sentencepiece_reference():
    import sentencepiece as spm

    from tfsenti.bert.preprocessor import BertPacker
    from tfsenti.bert.sentencepiece_tokenizer import SentencePieceVocabTokenizer

    proto = sentencepiece_model()
    vocabulary = kobert_vocabulary(proto)
    index = {token: i for i, token in enumerate(vocabulary)}
    processor = spm.SentencePieceProcessor(model_proto=proto)
    packer = BertPacker(SentencePieceVocabTokenizer(proto, vocabulary), sequence_length=16)
    expected = []
    for text in TEXTS:
        ids = [index.get(piece, index["[UNK]"]) for piece in processor.encode(text, out_type=str)][:14]
        expected.append([index["[CLS]"]] + ids + [index["[SEP]"]])
    got = _packed(packer, TEXTS)
    assert got == expected
    # the vocab.txt order differs from the SentencePiece ids, so mapping through it is really exercised
    assert [processor.piece_to_id(p) for p in vocabulary[5:10]] != list(range(5, 10))
    assert packer(TEXTS)["token_ids"].numpy()[:, -1].tolist().count(index["[PAD]"]) >= 1


def test_sentencepiece_vocabulary_without_special_tokens_is_refused():
    from tfsenti.bert.sentencepiece_tokenizer import SentencePieceVocabTokenizer

    with pytest.raises(ValueError, match=r"\[CLS\]"):
        SentencePieceVocabTokenizer(sentencepiece_model(), ["[UNK]", "[PAD]", "a", "b"])


def test_truncation_head_and_head_tail_on_long_and_empty_texts():
    import keras_hub

    from tfsenti.bert.preprocessor import BertPacker

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(40)]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary)
    long_text = " ".join(f"w{i}" for i in range(40))
    head = BertPacker(tokenizer, sequence_length=10)(["w1 w2", long_text, ""])
    assert head["token_ids"].numpy().tolist() == [
        [2, 6, 7, 3, 0, 0, 0, 0, 0, 0], [2] + list(range(5, 13)) + [3], [2, 3] + [0] * 8]
    np.testing.assert_array_equal(head["padding_mask"].numpy().sum(1), [4, 10, 2])
    both = BertPacker(tokenizer, sequence_length=10, truncation="head_tail")([long_text, "w1 w2"])
    # 8 kept tokens: the first 2 (w0, w1) and the last 6 (w34..w39)
    assert both["token_ids"].numpy().tolist()[0] == [2, 5, 6] + list(range(39, 45)) + [3]
    assert both["token_ids"].numpy().tolist()[1] == [2, 6, 7, 3, 0, 0, 0, 0, 0, 0]
