"""UDA's data: a seeded, balanced labeled subset, the unlabeled pool written to disk, and tf.data streams over it.

- `labeled_subset(train, per_class=10, seed=...)`: N examples of every class (N=10 on a binary task gives the
  paper's 20 labels); the rest of train, without its labels, joins the unlabeled pool.
- `write_pool(records, folder)`: streams `(id, text)` pairs into `pool-<sha256>.tsv` (`id<TAB>text` per line), so the
  pool never has to be in memory; `pool_records` chains the rest of train, a dataset's unlabeled split (IMDB's 50k
  `unsup`) and extra review files (McAuley JSON, Zhang CSV, fastText, read by `tfsenti.data.read_unlabeled_reviews`).
- `unlabeled_pairs(pairs, ...)`: a `tf.data` pipeline over the aligned original/augmented files
  (`TextLineDataset`s, a bounded shuffle buffer): memory does not grow with the file.

Example:
    >>> from tfsenti.data import TextDataset
    >>> train = TextDataset(["a", "b", "c", "d", "e", "f"], [0, 1, 0, 1, 0, 1])
    >>> labeled, rest = labeled_subset(train, per_class=2, seed=0)
    >>> sorted(labeled.labels.tolist()), len(rest)
    ([0, 0, 1, 1], 2)
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from tfsenti.data.dataset import TextDataset
from tfsenti.uda.augment import normalize_line


def labeled_subset(train: TextDataset, *, per_class: int, seed: int) -> tuple[TextDataset, TextDataset]:
    """(labeled, rest): `per_class` seeded examples of each class, and every other example."""
    if per_class < 1:
        raise ValueError(f"labeled_per_class must be >= 1, received {per_class}.")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(train.num_classes):
        members = np.flatnonzero(train.labels == label)
        if len(members) < per_class:
            raise ValueError(f"labeled_per_class={per_class} but class {train.class_names[label]!r} has only "
                             f"{len(members)} training examples; lower labeled_per_class or use more data.")
        chosen.append(rng.choice(members, size=per_class, replace=False))
    picked = rng.permutation(np.concatenate(chosen))
    mask = np.zeros(len(train), dtype=bool)
    mask[picked] = True
    return train.subset(picked), train.subset(np.flatnonzero(~mask))


def pool_records(*, datasets: Sequence[TextDataset] = (), files: Sequence[str | Path] = (),
                 limit: int | None = None) -> Iterator[tuple[str, str]]:
    """(id, text) of the unlabeled pool: `datasets` (labels ignored) then the review `files`, streamed, at most
    `limit` texts in total, empty texts skipped."""
    from tfsenti.data import read_unlabeled_reviews

    def chained():
        for dataset in datasets:
            yield from zip(dataset.ids, dataset.texts)
        if files:
            for record in read_unlabeled_reviews(files):
                yield record.id, record.text

    count = 0
    for doc_id, text in chained():
        if limit is not None and count >= limit:
            return
        text = normalize_line(text)
        if text:
            count += 1
            yield normalize_line(str(doc_id)), text


@dataclasses.dataclass(frozen=True)
class PoolFile:
    path: Path
    count: int
    sha256: str


def write_pool(records: Iterable[tuple[str, str]], folder: str | Path) -> PoolFile:
    """Write `(id, text)` pairs to `folder/pool-<sha256 of the content>.tsv` (streamed; reused if present)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".pool.{os.getpid()}.tmp"
    digest, count = hashlib.sha256(), 0
    with open(staging, "w", encoding="utf-8") as handle:
        for doc_id, text in records:
            line = f"{doc_id}\t{text}\n"
            digest.update(line.encode("utf-8"))
            handle.write(line)
            count += 1
    sha = digest.hexdigest()
    path = folder / f"pool-{sha[:24]}.tsv"
    if path.is_file():
        staging.unlink()
    else:
        staging.rename(path)
    return PoolFile(path, count, sha)


def unlabeled_pairs(original: str | Path, augmented: str | Path, *, batch_size: int, seed: int, skip: int = 0,
                    shuffle_buffer: int = 10_000):
    """Endless batches `(original_texts, augmented_texts)` (tf.string, shape [batch_size]) streamed from the two
    aligned files; `skip` lines are skipped first (each epoch starts further into the pool), then a seeded shuffle
    with a bounded buffer."""
    import tensorflow as tf

    lines = tf.data.Dataset.zip(tf.data.TextLineDataset(str(original)), tf.data.TextLineDataset(str(augmented)))
    return (lines.repeat().skip(skip).shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=False)
            .batch(batch_size, drop_remainder=True))
