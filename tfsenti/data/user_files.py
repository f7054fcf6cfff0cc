"""A user's own labelled files as `TextDataset` splits: `is_user_data`, `load_user_data`, `carve_split`.

The per-format readers live in `tfsenti.data.user_formats`; this module decides the splits, the class order
(taken from the training labels) and maps every split onto it.

Example:
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> train = os.path.join(folder, "reviews.csv")
    >>> _ = open(train, "w").write("text,stars\\ngood,5\\nbad,1\\nfine,10\\n")
    >>> data = load_user_data(train, progress=False)
    >>> data.class_names, data["train"].labels.tolist()
    (('1', '5', '10'), [1, 0, 2])
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from tfsenti.data.dataset import UNLABELED, BadRows, TextDataset
from tfsenti.data.records import report
from tfsenti.data.registry import REGISTRY
from tfsenti.data.user_formats import (
    ResolvedColumns,
    UserDataOptions,
    UserRecord,
    detect_format,
    read_user_file,
    split_folders,
)
from tfsenti.errors import ConfigError, DataError

_PATH_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".jsonl", ".json", ".ndjson")
_INTEGER = re.compile(r"[+-]?\d+")
_SPLIT_FLAGS = {"train": "--data", "test": "--test", "validation": "--validation"}


def is_user_data(data: str) -> bool:
    """True when `data` names a user's file or folder rather than a known dataset (`imdb`, `nsmc`, `amazon`).

    That is: not a registered name, and an existing path, or a string that looks like one (holds a path separator
    or ends in .csv .tsv .tab .txt .jsonl .json .ndjson, optionally .gz) even when missing, so that the caller can
    report it missing.

    Example:
        >>> is_user_data("imdb"), is_user_data("reviews.csv"), is_user_data("data/reviews"), is_user_data("yelp")
        (False, True, True, False)
    """
    data = str(data)
    if data in REGISTRY:
        return False
    if Path(data).exists():
        return True
    if "/" in data or os.sep in data or (os.altsep and os.altsep in data):
        return True
    name = data.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(_PATH_SUFFIXES)


@dataclasses.dataclass
class UserSplits:
    """The splits read from a user's files, mapped onto the training classes.

    `sources` and `formats` give each split's file (or folder) and its format; `columns` the columns chosen.

    Example:
        >>> data = UserSplits({"train": TextDataset(["a", "b"], [0, 1], class_names=("1", "2"))}, ("1", "2"),
        ...                   BadRows(), {"train": Path("r.csv")}, {"train": "csv"})
        >>> data.split_names, len(data["train"])
        (['train'], 2)
    """

    splits: dict[str, TextDataset]
    class_names: tuple[str, ...]
    bad_rows: BadRows
    sources: dict[str, Path]
    formats: dict[str, str]
    columns: dict[str, ResolvedColumns] = dataclasses.field(default_factory=dict)

    def __getitem__(self, split: str) -> TextDataset:
        try:
            return self.splits[split]
        except KeyError:
            raise KeyError(f"Split {split!r} was not read; read: {list(self.splits)}. Pass test=... or "
                           f"validation=... to load_user_data, or carve it with carve_split.") from None

    def __contains__(self, split: str) -> bool:
        return split in self.splits

    @property
    def split_names(self) -> list[str]:
        return list(self.splits)


def class_order(labels: set[str] | list[str]) -> tuple[str, ...]:
    """The class names in model order: numeric when every label is an integer ("1" < "2" < "10"), else sorted.

    Sorted strings are what `keras.utils.text_dataset_from_directory` and ktrain use.

    Example:
        >>> class_order({"10", "2", "1"}), class_order({"pos", "neg", "10"})
        (('1', '2', '10'), ('10', 'neg', 'pos'))
    """
    names = set(labels)
    if names and all(_INTEGER.fullmatch(name) for name in names):
        return tuple(sorted(names, key=lambda name: (int(name), name)))
    return tuple(sorted(names))


def load_user_data(
    train: str | Path,
    *,
    test: str | Path | None = None,
    validation: str | Path | None = None,
    options: UserDataOptions = UserDataOptions(),
    strict: bool = False,
    progress: bool = True,
    class_names: tuple[str, ...] | None = None,
) -> UserSplits:
    """Read a user's training file (and optional test / validation files) into `TextDataset`s.

    `train` may also be a folder holding train/ and test/ (and validation/ or val/) sub-folders, each with one
    sub-folder per class. The classes are the training labels (see `class_order`); fewer than 2 raises
    `DataError`. A test or validation row whose label is not a training class is a bad row "label not in training
    classes". Bad rows are skipped and counted in `.bad_rows`, or raise `DataError` at the first one when `strict`.
    `class_names` fixes the classes instead (an exported model's, to score a file of yours against it): every
    split is mapped onto them and a row with another label is a bad row "label not among the model's classes".

    Example:
        >>> data = load_user_data("reviews.csv", test="test.csv", options=UserDataOptions(label_column="stars"))  # doctest: +SKIP
        >>> data.class_names, data.split_names  # doctest: +SKIP
        (('1', '2', '3', '4', '5'), ['train', 'test'])
    """
    sources = _split_sources(Path(train), test, validation)
    bad_rows = BadRows(strict=strict)
    formats = {split: options.format or detect_format(path) for split, path in sources.items()}
    columns: dict[str, ResolvedColumns] = {}
    records: dict[str, list[UserRecord]] = {}
    for split, path in sources.items():
        records[split] = _read_split(split, path, options, bad_rows, columns, progress)
    unknown_label = "label not in training classes"
    if class_names is not None:
        class_names, unknown_label = tuple(class_names), "label not among the model's classes"
    else:
        class_names = class_order({record.label for record in records["train"]})
        if len(class_names) < 2:
            raise DataError(_too_few_classes(class_names, columns.get("train"), len(records["train"]), bad_rows),
                            path=str(sources["train"]))
    index = {name: position for position, name in enumerate(class_names)}
    splits = {}
    for split, path in sources.items():
        kept = []
        for record in records.pop(split):
            if record.label in index:
                kept.append(record)
            else:
                where = path / record.id if formats[split] == "folder" else path  # folder ids: class/file
                report(bad_rows, where, record.line, unknown_label,
                       f"{record.label!r}, the classes are {list(class_names)}")
        splits[split] = TextDataset(
            [record.text for record in kept],
            np.fromiter((index[record.label] for record in kept), dtype=np.int64, count=len(kept)),
            [record.id for record in kept],
            class_names,
        )
    return UserSplits(splits, class_names, bad_rows, sources, formats, columns)


def sample_texts(train: str | Path, options: UserDataOptions = UserDataOptions(), *, limit: int = 2000) -> list[str]:
    """Up to `limit` texts from the start of a user's training data, to choose defaults (e.g. by script) cheaply.

    Returns [] when the data cannot be read yet (missing file, unknown column): the full read reports that.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
        >>> _ = open(path, "w", encoding="utf-8").write("text,label\\n좋아요,1\\nbad,0\\n")
        >>> sample_texts(path), sample_texts(path + ".missing")
        (['좋아요', 'bad'], [])
    """
    import itertools

    from tfsenti.errors import TfsentiError

    path = Path(train)
    try:
        layout = split_folders(path) if path.is_dir() else None
        rows = read_user_file(layout["train"] if layout else path, options, bad_rows=BadRows())
        return [record.text for record in itertools.islice(rows, limit)]
    except (TfsentiError, OSError):
        return []


def _split_sources(train: Path, test, validation) -> dict[str, Path]:
    given = {"test": test, "validation": validation}
    sources = {"train": train}
    layout = split_folders(train) if train.is_dir() else None
    if layout is not None:
        for split, path in layout.items():
            if given.get(split) is not None:
                raise DataError(f"the folder already holds a {path.name}/ split and {_SPLIT_FLAGS[split]} "
                                f"{given[split]} was given too. Drop {_SPLIT_FLAGS[split]}, or pass the folder's "
                                "train/ as the training data.", path=str(train))
        sources = dict(layout)
    for split, path in given.items():
        if path is not None:
            sources[split] = Path(path)
    return sources


def _read_split(split: str, path: Path, options: UserDataOptions, bad_rows: BadRows,
                columns: dict[str, ResolvedColumns], progress: bool) -> list[UserRecord]:
    from tqdm.auto import tqdm

    def remember(chosen: ResolvedColumns) -> None:
        columns[split] = chosen

    kept = []
    with tqdm(desc=f"{split}: {path.name}", unit=" rows", disable=not progress, leave=False) as bar:
        for record in read_user_file(path, options, bad_rows=bad_rows, on_columns=remember):
            kept.append(record)
            bar.update()
    return kept


def _too_few_classes(class_names, chosen: ResolvedColumns | None, rows: int, bad_rows: BadRows) -> str:
    column = f"label column {chosen.label!r}" if chosen else "label column"
    if not class_names:
        return (f"no labelled row was read ({bad_rows.summary()}), so there are no classes. Check the file's "
                f"format, --text-column and --label-column.")
    other = [name for name in chosen.found if name != chosen.label] if chosen else []
    return (f"{column} holds one class only, {class_names[0]!r} ({rows} row(s)); a classifier needs at least 2. "
            f"Add examples of other classes, or pick another column with --label-column"
            + (f" (also found: {other})." if other else "."))


def carve_split(
    dataset: TextDataset, fraction: float, *, seed: int, name: str, source: str
) -> tuple[TextDataset, TextDataset]:
    """Carve a seeded, stratified `name` split (e.g. "test") of `fraction` off `dataset`: returns (rest, carved).

    Every class keeps at least one example on each side: a class with n >= 2 examples gives
    min(max(round(fraction * n), 1), n - 1) of them; a class with fewer raises `DataError` naming the class, its
    count, the fraction and the split. Unlabeled rows (-1) are split by the fraction as they are.

    Example:
        >>> ds = TextDataset(list("abcdef"), [0, 0, 0, 1, 1, 1], class_names=("neg", "pos"))
        >>> rest, carved = carve_split(ds, 0.1, seed=0, name="test", source="r.csv")
        >>> len(rest), sorted(carved.labels.tolist())
        (4, [0, 1])
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"the {name} fraction must be between 0 and 1 (exclusive), received {fraction}. "
                          "Pass e.g. 0.1 for 10%.")
    counts = Counter(dataset.labels.tolist())
    for position, class_name in enumerate(dataset.class_names):
        if counts.get(position, 0) < 2:
            flag = _SPLIT_FLAGS.get(name, f"--{name}")
            raise DataError(
                f"class {class_name!r} has {counts.get(position, 0)} example(s) in {source}; carving a "
                f"{fraction * 100:.3g}% {name} split needs at least 2 per class so that it appears on both sides "
                f"(the class would be missing from {name}). Add examples of that class, drop it, or pass "
                f"{flag} FILE.")
    rng = np.random.default_rng(seed)
    carved = []
    for label in sorted(counts):
        members = np.flatnonzero(dataset.labels == label)
        take = int(round(fraction * len(members)))
        if label != UNLABELED:
            take = min(max(take, 1), len(members) - 1)
        carved.append(rng.choice(members, size=take, replace=False))
    held_out = np.sort(np.concatenate(carved)) if carved else np.zeros(0, dtype=np.int64)
    mask = np.zeros(len(dataset), dtype=bool)
    mask[held_out] = True
    return dataset.subset(np.flatnonzero(~mask)), dataset.subset(held_out)


__all__ = [
    "ResolvedColumns",
    "UserDataOptions",
    "UserRecord",
    "UserSplits",
    "carve_split",
    "class_order",
    "detect_format",
    "is_user_data",
    "load_user_data",
    "read_user_file",
]
