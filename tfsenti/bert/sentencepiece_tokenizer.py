"""`SentencePieceVocabTokenizer`: SentencePiece pieces mapped to a BERT vocabulary, as KoBERT tokenizes.

KoBERT (SKT) splits text with a SentencePiece model (spiece.model) and maps each piece to an id through its own
vocab.txt (8,002 entries, `[UNK]`, `[PAD]`, `[CLS]`, `[SEP]`, `[MASK]` first), so ids differ from the model's own.
Both steps are graph ops (tensorflow_text + a lookup table), so the same object tokenizes for training and inside
the exported SavedModel. Without a vocab.txt the SentencePiece ids are used as they are.

Example:
    >>> import io, sentencepiece as spm
    >>> proto = io.BytesIO()
    >>> spm.SentencePieceTrainer.train(sentence_iterator=iter(["정말 재미있다", "지루하다 최악"] * 50),
    ...     model_writer=proto, vocab_size=30, model_type="unigram", hard_vocab_limit=False, minloglevel=3)
    >>> pieces = piece_list(proto.getvalue())
    >>> tokenizer = SentencePieceVocabTokenizer(proto.getvalue(), ["[UNK]", "[PAD]", "[CLS]", "[SEP]"] + pieces)
    >>> tokenizer.cls_token_id, tokenizer(["정말 재미있다"]).to_list()[0][0] >= 4
    (2, True)
"""

from __future__ import annotations

import tensorflow as tf

from tfsenti.errors import ConfigError

SPECIAL_TOKENS = ("[UNK]", "[PAD]", "[CLS]", "[SEP]")


def piece_list(proto: bytes) -> list[str]:
    """All pieces of a SentencePiece model, in id order."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=proto)
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


class SentencePieceVocabTokenizer(tf.Module):
    """Text -> SentencePiece pieces -> ids of `vocabulary` (unknown pieces -> `[UNK]`), a ragged int32 tensor."""

    def __init__(self, proto: bytes, vocabulary: list[str] | None = None, *, name: str = "sentencepiece_vocab"):
        super().__init__(name=name)
        import tensorflow_text as tf_text

        self.proto = proto
        self.vocabulary = list(vocabulary) if vocabulary is not None else piece_list(proto)
        index = {token: i for i, token in enumerate(self.vocabulary)}
        missing = [token for token in SPECIAL_TOKENS if token not in index]
        if missing:
            raise ConfigError(f"The vocabulary lacks the special token(s) {missing}; a BERT vocabulary needs "
                              f"{list(SPECIAL_TOKENS)}. Received {len(self.vocabulary)} entries starting "
                              f"{self.vocabulary[:6]}. Put the checkpoint's vocab.txt (KoBERT ships one) beside "
                              "spiece.model.")
        self.unk_token_id, self.pad_token_id = index["[UNK]"], index["[PAD]"]
        self.cls_token_id, self.sep_token_id = index["[CLS]"], index["[SEP]"]
        self._pieces = tf_text.SentencepieceTokenizer(model=proto, out_type=tf.string)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(self.vocabulary), tf.range(len(self.vocabulary),
                                                                                         dtype=tf.int32)),
            default_value=self.unk_token_id)

    def __call__(self, texts) -> tf.RaggedTensor:
        pieces = self._pieces.tokenize(tf.convert_to_tensor(texts, dtype=tf.string))
        return tf.ragged.map_flat_values(self._table.lookup, pieces)

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocabulary)
