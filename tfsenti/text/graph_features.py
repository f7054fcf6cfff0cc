"""The in-graph twin of `vectorize.binary_matrix` for exported SavedModels: raw text -> the distinct known
features of each text (or every occurrence of them), in TensorFlow ops (used by the nbbon and dvcosine exports).

Example:
    >>> import tensorflow as tf
    >>> from tfsenti.text.ngrams import AnalyzerConfig, NgramAnalyzer
    >>> config = AnalyzerConfig(word_ngrams=(1, 1))
    >>> NgramAnalyzer(config)("good film")   # feature names, as in the vocabulary
    ['w:good', 'w:film']
    >>> with vocabulary_table({"w:good": 0, "w:film": 1}) as table:
    ...     keys = distinct_feature_keys(tf.constant(["good good film", "film"]), config, table, 2)
    >>> sorted(keys.numpy().tolist())   # document * 2 + column
    [0, 1, 3]
    >>> with vocabulary_table({"w:good": 0, "w:film": 1}) as table:
    ...     keys = feature_keys(tf.constant(["good good film", "film"]), config, table, 2)
    >>> sorted(keys.numpy().tolist())   # every occurrence
    [0, 0, 1, 3]
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from tfsenti.text.ngrams import AnalyzerConfig, tf_analyze


@contextlib.contextmanager
def vocabulary_table(vocabulary: Mapping[str, int]) -> Iterator:
    """A `tf.lookup.StaticHashTable` feature -> column (-1 when unknown), initialised from a vocabulary file (the
    SavedModel copies it as an asset instead of holding a huge constant). The file is deleted on exit: export
    inside the `with` block."""
    import tensorflow as tf

    size = len(vocabulary)
    if size == 0:
        raise ValueError("An empty vocabulary cannot become a lookup table; handle the no-feature case first.")
    staging = Path(tempfile.mkdtemp(prefix="tfsenti-vocab-"))
    try:
        names = [""] * size
        for feature, column in vocabulary.items():
            names[column] = feature
        vocab_file = staging / "vocabulary.txt"
        # features never hold line breaks: the analyzer turns every whitespace character into a space
        vocab_file.write_text("".join(name + "\n" for name in names), encoding="utf-8")
        yield tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(str(vocab_file), tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                                          tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER, vocab_size=size),
            default_value=-1)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def feature_keys(text, config: AnalyzerConfig, table, size: int):
    """`document * size + column` (int64, unordered) for every known feature OCCURRENCE of every text in the batch
    `text` (a 1-D string tensor), repeats kept (the in-graph twin of `binary_matrix(..., counts=True)`); features
    missing from `table` are dropped."""
    import tensorflow as tf

    features = tf_analyze(text, config)
    ids = table.lookup(features.flat_values)
    rows = features.value_rowids()
    known = ids >= 0
    return tf.boolean_mask(rows, known) * size + tf.boolean_mask(ids, known)


def distinct_feature_keys(text, config: AnalyzerConfig, table, size: int):
    """`document * size + column` (int64, unordered) for every distinct known feature of every text in the batch
    `text` (a 1-D string tensor); features missing from `table` are dropped."""
    import tensorflow as tf

    keys, _ = tf.unique(feature_keys(text, config, table, size))
    return keys
