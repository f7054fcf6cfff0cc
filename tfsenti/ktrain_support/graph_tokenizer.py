"""Hugging Face's BERT tokenizer (BertTokenizerFast) rebuilt from TensorFlow and tensorflow_text ops, for exports.

ktrain tokenizes in Python; a tfsenti SavedModel takes raw text, so the same tokenization must run inside the graph.
`GraphWordPiece` reproduces HF's BertNormalizer + BertPreTokenizer + WordPiece step by step:

1. clean: tab/newline/CR -> space; NUL, U+FFFD and control/format characters (Cc, Cf, Co) removed; Unicode
   spaces (Zs, U+2028/2029) -> space;
2. strip accents (NFD, then drop Mn marks) when `strip_accents` (HF: defaults to `lowercase`), then lower-case
   (`tf.strings.lower`, UTF-8). tensorflow_text's own `lower_case=True` applies NFKC case folding, which HF does not
   (ligatures, superscripts, `´`, `ß` would differ), so it is not used;
3. split on whitespace, keep ASCII/Unicode punctuation and CJK ideographs as single tokens;
4. words longer than 100 characters -> [UNK] (HF counts characters, tensorflow_text bytes);
5. WordPiece with the checkpoint's vocab.txt; truncate to `sequence_length - 2`; [CLS] ... [SEP]; pad with [PAD]
   to the longest text of the batch (`tfsenti.bert.preprocessor.pack_pieces`, shared by every in-graph tokenizer).

Why not keras_hub's tokenizer, which the bert recipe and TF-Hub BERT modules share: it case-folds and maps
compatibility characters (`Straße`, `ﬁ`, `½`, `x²` come out differently) and splits words at control characters,
so an export would not tokenize as ktrain trained (see `tfsenti.bert.preprocessor`).

Example:
    >>> tokenizer = GraphWordPiece(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "film", "!", "##s"],
    ...                            sequence_length=8)
    >>> tokenizer(["Good films!"])["input_ids"].numpy().tolist()
    [[2, 4, 5, 7, 6, 3]]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tfsenti.errors import TfsentiError

PUNCTUATION = r"[!-/]|[:-@]|[\[-`]|[{-~]|[\p{P}]"
CJK = (r"[\x{4E00}-\x{9FFF}]|[\x{3400}-\x{4DBF}]|[\x{20000}-\x{2A6DF}]|[\x{2A700}-\x{2B73F}]|[\x{2B740}-\x{2B81F}]"
       r"|[\x{2B820}-\x{2CEAF}]|[\x{F900}-\x{FAFF}]|[\x{2F800}-\x{2FA1F}]")
MAX_CHARS_PER_WORD = 100


class GraphWordPiece:
    """BERT WordPiece tokenization in graph ops, matching transformers' BertTokenizerFast on the same vocabulary.

    Call it on a tf.string tensor of shape [None]; it returns int32 `input_ids`, `attention_mask` and
    `token_type_ids` of shape [None, width], width = min(longest text + 2, sequence_length). Keep `trackables()`
    on the exported module so that the vocabulary table is saved.
    """

    def __init__(self, vocabulary: Sequence[str], *, sequence_length: int, lowercase: bool = True,
                 strip_accents: bool | None = None, split_cjk: bool = True, unknown_token: str = "[UNK]",
                 cls_token: str = "[CLS]", sep_token: str = "[SEP]", pad_token: str = "[PAD]"):
        self.vocabulary = list(vocabulary)
        self.sequence_length = sequence_length
        self.lowercase = lowercase
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.split_cjk = split_cjk
        self.unknown_token, self.cls_token, self.sep_token, self.pad_token = (unknown_token, cls_token, sep_token,
                                                                              pad_token)
        self.wordpiece_ = None

    @classmethod
    def from_folder(cls, folder: str | Path, *, sequence_length: int) -> GraphWordPiece:
        """Read vocab.txt and the lower-casing settings of tokenizer_config.json of a Hugging Face folder."""
        folder = Path(folder)
        vocab_file = folder / "vocab.txt"
        if not vocab_file.is_file():
            raise TfsentiError(f"{folder} has no vocab.txt: the in-graph export supports WordPiece (BERT-family) "
                               "tokenizers only. Use a BERT-family checkpoint (bert-*, MiniLM, ELECTRA, ...).")
        settings = {}
        if (folder / "tokenizer_config.json").is_file():
            settings = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        special = {}
        if (folder / "special_tokens_map.json").is_file():
            special = json.loads((folder / "special_tokens_map.json").read_text(encoding="utf-8"))

        def token(name: str, default: str) -> str:
            value = special.get(name, settings.get(name, default))
            return value.get("content", default) if isinstance(value, dict) else (value or default)

        vocabulary = vocab_file.read_text(encoding="utf-8").split("\n")
        if vocabulary and vocabulary[-1] == "":
            vocabulary = vocabulary[:-1]
        return cls([line.rstrip("\r") for line in vocabulary], sequence_length=sequence_length,
                   lowercase=bool(settings.get("do_lower_case", True)), strip_accents=settings.get("strip_accents"),
                   split_cjk=bool(settings.get("tokenize_chinese_chars", True)),
                   unknown_token=token("unk_token", "[UNK]"), cls_token=token("cls_token", "[CLS]"),
                   sep_token=token("sep_token", "[SEP]"), pad_token=token("pad_token", "[PAD]"))

    def _token_id(self, token: str) -> int:
        try:
            return self.vocabulary.index(token)
        except ValueError:
            raise TfsentiError(f"The vocabulary has no {token!r} token; a BERT vocab.txt needs [PAD], [UNK], [CLS] "
                               "and [SEP].") from None

    def _build(self):
        import tensorflow as tf
        import tensorflow_text as tf_text

        if self.wordpiece_ is None:
            table = tf.lookup.StaticVocabularyTable(
                tf.lookup.KeyValueTensorInitializer(tf.constant(self.vocabulary),
                                                    tf.range(len(self.vocabulary), dtype=tf.int64)),
                num_oov_buckets=1)
            self.wordpiece_ = tf_text.WordpieceTokenizer(
                table, token_out_type=tf.int64, unknown_token=self.unknown_token,
                max_bytes_per_word=4 * MAX_CHARS_PER_WORD)  # the character limit is applied before, as HF does
            self.special_ids_ = {name: self._token_id(token) for name, token in (
                ("cls", self.cls_token), ("sep", self.sep_token), ("pad", self.pad_token))}
        return self.wordpiece_

    def trackables(self) -> dict:
        """Objects an exported module must hold (the vocabulary table lives in the WordPiece tokenizer)."""
        return {"wordpiece": self._build()}

    def normalize(self, text):
        """Step 1-2: HF's BertNormalizer."""
        import tensorflow as tf
        import tensorflow_text as tf_text

        text = tf.strings.regex_replace(text, r"[\t\n\r]", " ")
        text = tf.strings.regex_replace(text, r"[\x{0}\x{FFFD}\p{Cc}\p{Cf}\p{Co}]", "")
        text = tf.strings.regex_replace(text, r"[\p{Zs}\x{2028}\x{2029}]", " ")
        if self.strip_accents:
            text = tf_text.normalize_utf8(text, "NFD")
            text = tf.strings.regex_replace(text, r"\p{Mn}", "")
        if self.lowercase:
            text = tf.strings.lower(text, encoding="utf-8")
        return text

    def words(self, text):
        """Step 3-4: HF's BertPreTokenizer, plus the 100-character word limit."""
        import tensorflow as tf
        import tensorflow_text as tf_text

        kept = PUNCTUATION + ("|" + CJK if self.split_cjk else "")
        words = tf_text.regex_split(self.normalize(text), r"\s+|" + kept, kept)
        too_long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        return words.with_flat_values(tf.where(too_long, self.unknown_token, words.flat_values))

    def token_ids(self, text):
        """Word-piece ids without special tokens: a RaggedTensor [batch, (tokens)] of int64."""
        wordpiece = self._build()
        return wordpiece.tokenize(self.words(text)).merge_dims(-2, -1)

    def __call__(self, text) -> dict:
        import tensorflow as tf

        from tfsenti.bert.preprocessor import pack_pieces

        text = tf.convert_to_tensor(text, dtype=tf.string)
        dense, mask = pack_pieces(self.token_ids(text), cls_id=self.special_ids_["cls"],
                                  sep_id=self.special_ids_["sep"], pad_id=self.special_ids_["pad"],
                                  sequence_length=self.sequence_length, pad_to_longest=True)
        return {"input_ids": tf.cast(dense, tf.int32), "attention_mask": mask,
                "token_type_ids": tf.zeros_like(dense, dtype=tf.int32)}
