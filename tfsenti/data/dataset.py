"""In-memory labelled text: `TextDataset`, plus `BadRows`, the record of skipped input rows.

Example:
    >>> ds = TextDataset(["good", "bad", "fine", "awful"], [1, 0, 1, 0], class_names=("negative", "positive"))
    >>> train, validation = ds.split_validation(0.5, seed=0)
    >>> len(train), len(validation), sorted(validation.labels.tolist())
    (2, 2, [0, 1])
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Iterator

import numpy as np

from tfsenti.errors import DataError

UNLABELED = -1


@dataclasses.dataclass(frozen=True, eq=False)
class TextDataset:
    """Texts, integer labels (`-1` = unlabelled) and unique document ids, index-aligned.

    `ids` identify documents across every derived view (subsets, samples, feature matrices): code that joins two
    per-document tables must join them by id, never by position alone.
    """

    texts: list[str]
    labels: np.ndarray
    ids: list[str] = None  # type: ignore[assignment]
    class_names: tuple[str, ...] = ("negative", "positive")

    def __post_init__(self):
        labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "texts", list(self.texts))
        ids = list(self.ids) if self.ids is not None else [str(i) for i in range(len(self.texts))]
        object.__setattr__(self, "ids", ids)
        if not (len(self.texts) == len(labels) == len(ids)):
            raise ValueError(f"texts, labels and ids differ in length: {len(self.texts)}, {len(labels)}, {len(ids)}")
        bad = labels[(labels != UNLABELED) & ((labels < 0) | (labels >= len(self.class_names)))]
        if bad.size:
            raise ValueError(f"labels must be in [0, {len(self.class_names)}) or -1, found {bad[0]}")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_labeled(self) -> bool:
        return bool(len(self)) and bool((self.labels != UNLABELED).all())

    def subset(self, indices: Sequence[int] | np.ndarray) -> TextDataset:
        """The rows at `indices`, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return TextDataset(
            [self.texts[i] for i in indices],
            self.labels[indices],
            [self.ids[i] for i in indices],
            self.class_names,
        )

    def sample(self, n: int | None, *, seed: int) -> TextDataset:
        """A seeded random sample of `n` rows, stratified by label (all rows, shuffled, when n is None or >= len)."""
        rng = np.random.default_rng(seed)
        if n is None or n >= len(self):
            return self.subset(rng.permutation(len(self)))
        if n <= 0:
            raise ValueError(f"sample size must be positive, received {n}")
        chosen = _stratified_pick(self.labels, n / len(self), rng)
        return self.subset(rng.permutation(chosen))

    def split_validation(self, fraction: float, *, seed: int) -> tuple[TextDataset, TextDataset]:
        """Carve a stratified, seeded validation split off this (training) set: returns (train, validation)."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"validation fraction must be in (0, 1), received {fraction}")
        rng = np.random.default_rng(seed)
        held_out = _stratified_pick(self.labels, fraction, rng)
        mask = np.zeros(len(self), dtype=bool)
        mask[held_out] = True
        return self.subset(np.flatnonzero(~mask)), self.subset(np.sort(held_out))

    def without_labels(self) -> TextDataset:
        return TextDataset(self.texts, np.full(len(self), UNLABELED), self.ids, self.class_names)

    def label_counts(self) -> dict[str, int]:
        counts = Counter(self.labels.tolist())
        named = {name: counts.get(index, 0) for index, name in enumerate(self.class_names)}
        if counts.get(UNLABELED):
            named["unlabeled"] = counts[UNLABELED]
        return named


def _stratified_pick(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    picked = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        take = int(round(fraction * len(members)))
        picked.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


@dataclasses.dataclass
class BadRows:
    """Rows skipped while reading, with where and why; raises at the first one when `strict`.

    Example:
        >>> bad = BadRows()
        >>> bad.add("train.csv", 3, "empty text")
        >>> print(bad.summary())
        skipped 1 bad row(s): empty text: 1 (first: train.csv:3)
    """

    strict: bool = False
    rows: list[tuple[str, int, str]] = dataclasses.field(default_factory=list)
    max_kept: int = 1000
    total: int = 0
    by_reason: Counter = dataclasses.field(default_factory=Counter)

    def add(self, path: str, line: int, reason: str) -> None:
        if self.strict:
            raise DataError(f"{reason} (the row is rejected because --strict is set; drop --strict to skip "
                            "bad rows and count them instead)", path=str(path), line=line)
        self.total += 1
        self.by_reason[reason] += 1
        if len(self.rows) < self.max_kept:
            self.rows.append((str(path), line, reason))

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[tuple[str, int, str]]:
        return iter(self.rows)

    def summary(self) -> str:
        if not self.total:
            return "no bad rows"
        parts = []
        for reason, count in self.by_reason.most_common():
            first = next((f"{p}:{n}" for p, n, r in self.rows if r == reason), "?")
            parts.append(f"{reason}: {count} (first: {first})")
        return f"skipped {self.total} bad row(s): " + "; ".join(parts)
