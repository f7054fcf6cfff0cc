"""`BertPacker`: raw text -> `token_ids`, `segment_ids`, `padding_mask` of a fixed length, in graph ops only.

Texts are tokenized (WordPiece via keras_hub's BertTokenizer, or SentencePiece via `SentencePieceVocabTokenizer`),
truncated to `sequence_length - 2` tokens (`head`: the first ones; `head_tail`: the first quarter and the last
three quarters, which suits long reviews whose verdict comes at the end, Sun et al. 2019), framed by
`[CLS]` ... `[SEP]` and padded. The same object runs in tf.data for training and inside the exported
SavedModel, so the two tokenize identically; `tokenize` is exported too, for parity checks. Empty texts give
`[CLS] [SEP]`.

Example:
    >>> import keras_hub
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "film"]
    >>> packer = BertPacker(keras_hub.models.BertTokenizer(vocabulary=vocab), sequence_length=6)
    >>> packer(["good film", ""])["token_ids"].numpy().tolist()
    [[2, 5, 6, 3, 0, 0], [2, 3, 0, 0, 0, 0]]
"""

from __future__ import annotations

import tensorflow as tf

TRUNCATIONS = ("head", "head_tail")


class BertPacker(tf.Module):
    """Tokenize, truncate, add `[CLS]`/`[SEP]`, pad to `sequence_length`."""

    def __init__(self, tokenizer, *, sequence_length: int, truncation: str = "head", name: str = "bert_packer"):
        super().__init__(name=name)
        if truncation not in TRUNCATIONS:
            raise ValueError(f"Unknown truncation {truncation!r}; choose one of {list(TRUNCATIONS)}.")
        self.truncation = truncation
        if sequence_length < 2:
            raise ValueError(f"sequence_length must be >= 2 ([CLS] and [SEP]), received {sequence_length}.")
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.cls_id, self.sep_id = int(tokenizer.cls_token_id), int(tokenizer.sep_token_id)
        self.pad_id = int(tokenizer.pad_token_id)
        self.tokenize = tf.function(self._pack, input_signature=[tf.TensorSpec([None], tf.string)])

    def __call__(self, texts):
        return self.tokenize(tf.convert_to_tensor(texts, dtype=tf.string))

    def _pack(self, texts):
        ids = self._truncate(tf.cast(self.tokenizer(texts), tf.int32))
        rows = tf.shape(texts)[0]
        cls = tf.fill([rows, 1], self.cls_id)
        sep = tf.fill([rows, 1], self.sep_id)
        framed = tf.concat([cls, ids, sep], axis=1)
        shape = [None, self.sequence_length]
        token_ids = framed.to_tensor(default_value=self.pad_id, shape=shape)
        padding_mask = tf.ones_like(framed, dtype=tf.int32).to_tensor(default_value=0, shape=shape)
        return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids), "padding_mask": padding_mask}

    def _truncate(self, ids: tf.RaggedTensor) -> tf.RaggedTensor:
        keep = self.sequence_length - 2
        if self.truncation == "head":
            return ids[:, :keep]
        head = keep // 4
        lengths = ids.row_lengths()
        positions = tf.ragged.range(tf.minimum(lengths, keep))
        skipped = tf.maximum(lengths - keep, 0)[:, None]  # tokens dropped from the middle of long rows
        positions = tf.where(positions >= head, positions + tf.cast(skipped, positions.dtype), positions)
        return tf.gather(ids, positions, batch_dims=1)
