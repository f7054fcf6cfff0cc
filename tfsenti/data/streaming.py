"""`tf.data` pipelines over the streaming readers, in constant memory (TensorFlow is imported only when called).

Example:
    >>> ds = stream_tf_dataset(read_nsmc, "ratings_train.txt.gz", batch_size=32)  # doctest: +SKIP
    >>> texts, labels = next(iter(ds))  # doctest: +SKIP
    >>> texts.shape, labels.dtype  # doctest: +SKIP
    (TensorShape([32]), tf.int64)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tfsenti.data.dataset import BadRows
from tfsenti.data.records import Record


def to_tf_dataset(records: Callable[[], Iterable[Record]], *, batch_size: int | None = None,
                  drop_unlabeled: bool = False) -> Any:
    """A `tf.data.Dataset` of `(text, label)` (tf.string, tf.int64) from a zero-argument record factory.

    The factory is called again for each pass (epoch), so a reader generator restarts from the file and nothing
    is held in memory. `batch_size` batches the pairs; `drop_unlabeled` skips label -1.

    Example:
        >>> from tfsenti.data import Record
        >>> ds = to_tf_dataset(lambda: [Record("good", 1, "a"), Record("bad", 0, "b")], batch_size=2)
        >>> [labels.numpy().tolist() for _, labels in ds]  # doctest: +SKIP
        [[1, 0]]
    """
    import tensorflow as tf

    def generate():
        for record in records():
            if drop_unlabeled and record.label < 0:
                continue
            yield record.text, record.label

    dataset = tf.data.Dataset.from_generator(
        generate,
        output_signature=(tf.TensorSpec(shape=(), dtype=tf.string), tf.TensorSpec(shape=(), dtype=tf.int64)),
    )
    return dataset.batch(batch_size) if batch_size else dataset


def stream_tf_dataset(reader: Callable[..., Iterable[Record]], path: str | Path, batch_size: int | None = 32, *,
                      bad_rows: BadRows | None = None, **reader_kwargs: Any) -> Any:
    """`to_tf_dataset` over `reader(path, bad_rows=..., **reader_kwargs)`, e.g. `read_zhang_csv` on a huge CSV.

    Example:
        >>> from tfsenti.data import read_zhang_csv
        >>> ds = stream_tf_dataset(read_zhang_csv, "train.csv", batch_size=64)  # doctest: +SKIP
    """
    bad_rows = bad_rows if bad_rows is not None else BadRows()
    return to_tf_dataset(lambda: reader(path, bad_rows=bad_rows, **reader_kwargs), batch_size=batch_size)
