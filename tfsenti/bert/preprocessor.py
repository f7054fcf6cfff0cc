"""`BertPacker`: raw text -> `token_ids`, `segment_ids`, `padding_mask` of a fixed length, in graph ops only.

Texts are tokenized (WordPiece via keras_hub's BertTokenizer, or SentencePiece via `SentencePieceVocabTokenizer`),
truncated to `sequence_length - 2` tokens (`head`: the first ones; `head_tail`: the first quarter and the last
three quarters, which suits long reviews whose verdict comes at the end, Sun et al. 2019), framed by
`[CLS]` ... `[SEP]` and padded. The same object runs in tf.data for training and inside the exported
SavedModel, so the two tokenize identically; `tokenize` is exported too, for parity checks. Empty texts give
`[CLS] [SEP]`.

In-graph WordPiece in tfsenti: `pack_pieces` (truncate, frame, pad) serves every tokenizer, and the word-level step
is keras_hub's WordPiece tokenizer for both the bert recipe and the TF-Hub BERT modules (`tfsenti.hub.bert_module`).
The ktrain recipe keeps its own, `tfsenti.ktrain_support.graph_tokenizer.GraphWordPiece`, because ktrain trains
with Hugging Face's Python tokenizer and the export must see the same pieces: Hugging Face neither case-folds
(`Straße` -> `st ##raße`, keras_hub `st ##ras ##se`; `x²` keeps `²`) nor maps compatibility characters (`ﬁ`, `½`),
and it drops control characters without splitting the word around them; keras_hub (and tensorflow_text's
FastBertTokenizer) do otherwise on the MiniLM vocabulary. Moving the bert recipe to the Hugging Face rules would
change the tokens, hence the numbers, of every model it has exported.

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
        token_ids, padding_mask = pack_pieces(
            tf.cast(self.tokenizer(texts), tf.int32), cls_id=self.cls_id, sep_id=self.sep_id, pad_id=self.pad_id,
            sequence_length=self.sequence_length, truncation=self.truncation)
        return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids), "padding_mask": padding_mask}


def pack_pieces(pieces: tf.RaggedTensor, *, cls_id: int, sep_id: int, pad_id: int, sequence_length: int,
                truncation: str = "head", pad_to_longest: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
    """Word-piece ids [batch, (pieces)] -> (`token_ids`, int32 `padding_mask`), each [batch, width]: truncated to
    `sequence_length - 2` pieces (`truncate_pieces`), framed by [CLS] ... [SEP], padded with `pad_id` to
    `sequence_length` (or, with `pad_to_longest`, to the longest framed row). Every in-graph BERT tokenizer of tfsenti
    packs with this function; ids keep the dtype of `pieces`.

    Example:
        >>> ids, mask = pack_pieces(tf.ragged.constant([[7, 8, 9], []]), cls_id=2, sep_id=3, pad_id=0,
        ...                         sequence_length=4, pad_to_longest=True)
        >>> ids.numpy().tolist(), mask.numpy().tolist()
        ([[2, 7, 8, 3], [2, 3, 0, 0]], [[1, 1, 1, 1], [1, 1, 0, 0]])
    """
    pieces = truncate_pieces(pieces, sequence_length - 2, truncation)
    rows = pieces.nrows()
    cls = tf.fill([rows, 1], tf.constant(cls_id, pieces.dtype))
    sep = tf.fill([rows, 1], tf.constant(sep_id, pieces.dtype))
    framed = tf.concat([cls, pieces, sep], axis=1)
    shape = None if pad_to_longest else [None, sequence_length]
    token_ids = framed.to_tensor(default_value=tf.constant(pad_id, pieces.dtype), shape=shape)
    padding_mask = tf.ones_like(framed, dtype=tf.int32).to_tensor(default_value=0, shape=shape)
    return token_ids, padding_mask


def truncate_pieces(pieces: tf.RaggedTensor, keep: int, truncation: str = "head") -> tf.RaggedTensor:
    """At most `keep` pieces a row: `head` keeps the first ones, `head_tail` the first quarter of `keep` and the last
    three quarters (the middle of long rows is dropped).

    Example:
        >>> truncate_pieces(tf.ragged.constant([list(range(10)), [1]]), 4, "head_tail").to_list()
        [[0, 7, 8, 9], [1]]
    """
    if truncation not in TRUNCATIONS:
        raise ValueError(f"Unknown truncation {truncation!r}; choose one of {list(TRUNCATIONS)}.")
    if truncation == "head":
        return pieces[:, :keep]
    head = keep // 4
    lengths = pieces.row_lengths()
    positions = tf.ragged.range(tf.minimum(lengths, keep))
    skipped = tf.maximum(lengths - keep, 0)[:, None]  # pieces dropped from the middle of long rows
    positions = tf.where(positions >= head, positions + tf.cast(skipped, positions.dtype), positions)
    return tf.gather(pieces, positions, batch_dims=1)
