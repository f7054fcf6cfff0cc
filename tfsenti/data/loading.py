"""`load_dataset`: a known dataset's splits as `TextDataset`s, plus `list_datasets` and the format table.

Example:
    >>> data = load_dataset("nsmc", data_dir="../shared/datasets", splits=["test"])  # doctest: +SKIP
    >>> len(data["test"]), data.bad_rows.summary()  # doctest: +SKIP
    (49997, 'skipped 3 bad row(s): empty text: 3 (first: ...ratings_test.txt.gz:...)')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Iterator

import numpy as np

from tfsenti.data.amazon import read_fasttext, read_zhang_csv
from tfsenti.data.dataset import BadRows, TextDataset
from tfsenti.data.imdb import imdb_order_key, read_imdb
from tfsenti.data.locate import candidate_folders, find_sources, get_spec, locate
from tfsenti.data.nsmc import read_nsmc
from tfsenti.data.records import Record
from tfsenti.data.registry import REGISTRY
from tfsenti.errors import DatasetNotFoundError

# (path, splits, bad_rows) -> (split, record); one call may serve several splits stored in one file
SplitReader = Callable[[Path, Sequence[str], BadRows], Iterator[tuple[str, Record]]]


@dataclasses.dataclass(frozen=True)
class Format:
    """How to read one storage format: a multi-split reader and an optional id sort key for a stable order."""

    read: SplitReader
    order_key: Callable[[str], object] | None = None


def _single(reader: Callable[..., Iterator[Record]]) -> SplitReader:
    def read(path: Path, splits: Sequence[str], bad_rows: BadRows) -> Iterator[tuple[str, Record]]:
        for record in reader(path, bad_rows=bad_rows):
            yield splits[0], record
    return read


FORMATS: dict[str, Format] = {
    "imdb": Format(lambda path, splits, bad: read_imdb(path, splits, bad_rows=bad), order_key=imdb_order_key),
    "nsmc": Format(_single(read_nsmc)),
    "zhang_csv": Format(_single(read_zhang_csv)),
    "fasttext": Format(_single(read_fasttext)),
}


@dataclasses.dataclass
class DatasetSplits:
    """The splits of one dataset, the bad rows skipped while reading them, and the folder they came from.

    Example:
        >>> data = DatasetSplits("toy", {"train": TextDataset(["good"], [1])}, BadRows(), Path("."))
        >>> len(data["train"]), data.split_names
        (1, ['train'])
    """

    name: str
    splits: dict[str, TextDataset]
    bad_rows: BadRows
    source: Path

    def __getitem__(self, split: str) -> TextDataset:
        try:
            return self.splits[split]
        except KeyError:
            raise KeyError(f"Split {split!r} was not loaded for {self.name!r}; loaded: {list(self.splits)}. "
                           f"Pass splits=[..., {split!r}] to load_dataset.") from None

    def __contains__(self, split: str) -> bool:
        return split in self.splits

    @property
    def split_names(self) -> list[str]:
        return list(self.splits)


def load_dataset(
    name: str,
    *,
    data_dir: str | Path | None = None,
    splits: Sequence[str] = ("train", "test"),
    strict: bool = False,
    progress: bool = True,
) -> DatasetSplits:
    """Load `splits` of a known dataset (`imdb`, `nsmc`, `amazon`) into memory, finding the files with `locate`.

    Bad rows are skipped and counted in `.bad_rows` (with `strict=True` the first one raises `DataError` naming
    file and line). Records keep a stable order: file order, or id order where the format defines one (IMDB).

    Example:
        >>> data = load_dataset("imdb", data_dir="../shared/datasets", splits=["test"])  # doctest: +SKIP
        >>> data["test"].label_counts()  # doctest: +SKIP
        {'negative': 12500, 'positive': 12500}
    """
    from tqdm.auto import tqdm

    spec = get_spec(name)
    if isinstance(splits, str):
        splits = (splits,)
    splits = tuple(dict.fromkeys(splits))
    folder = locate(name, data_dir, splits=splits, progress=progress)
    sources = find_sources(spec, folder, splits)
    assert sources is not None  # locate() returned a folder holding every split
    bad_rows = BadRows(strict=strict)
    groups: dict[tuple[Path, str], list[str]] = {}
    for split, (path, source) in sources.items():
        groups.setdefault((path, source.format), []).append(split)
    collected: dict[str, list[Record]] = {split: [] for split in splits}
    for (path, format_name), group in groups.items():
        reader = FORMATS[format_name]
        label = f"{name} {'+'.join(group)}"
        with tqdm(desc=label, unit=" rows", disable=not progress, leave=False) as bar:
            for split, record in reader.read(path, group, bad_rows):
                collected[split].append(record)
                bar.update()
        if reader.order_key is not None:
            for split in group:
                collected[split].sort(key=lambda record: reader.order_key(record.id))
    datasets = {}
    for split in splits:
        records = collected.pop(split)
        datasets[split] = TextDataset(
            [record.text for record in records],
            np.fromiter((record.label for record in records), dtype=np.int64, count=len(records)),
            [record.id for record in records],
            spec.class_names,
        )
    return DatasetSplits(name=name, splits=datasets, bad_rows=bad_rows, source=folder)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What `list_datasets` reports about one known dataset.

    Example:
        >>> info = next(i for i in list_datasets() if i.name == "nsmc")
        >>> info.splits, info.files["train"]
        (('train', 'test'), 'ratings_train.txt or ratings_train.txt.gz')
    """

    name: str
    description: str
    splits: tuple[str, ...]
    languages: tuple[str, ...]
    class_names: tuple[str, ...]
    files: dict[str, str]
    searched: tuple[Path, ...]
    location: Path | None
    urls: tuple[str, ...]

    @property
    def present(self) -> bool:
        return self.location is not None


def list_datasets(data_dir: str | Path | None = None) -> list[DatasetInfo]:
    """Every known dataset, with the files it expects, the folders searched and where (if anywhere) it is present.

    Nothing is downloaded.

    Example:
        >>> sorted(info.name for info in list_datasets())
        ['amazon', 'imdb', 'nsmc']
    """
    infos = []
    for spec in REGISTRY.values():
        folders = candidate_folders(spec, data_dir)
        location = next((folder for folder, _ in folders if find_sources(spec, folder, spec.splits[:2])), None)
        infos.append(DatasetInfo(
            name=spec.name,
            description=spec.description,
            splits=spec.splits,
            languages=spec.languages,
            class_names=spec.class_names,
            files={split: spec.expected_files(split) for split in spec.splits},
            searched=tuple(folder for folder, _ in folders),
            location=location,
            urls=tuple(item.url for item in spec.downloads),
        ))
    return infos


def find_unlabeled_files(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """Extra unlabeled review files for `name` (e.g. McAuley JSON beside the Amazon data), sorted; may be empty.

    Looked for inside the dataset folder and in the `unlabeled_folders` of its spec beside it. Nothing is
    downloaded.

    Example:
        >>> files = find_unlabeled_files("amazon", "../shared/datasets")  # doctest: +SKIP
        >>> [f.name for f in files][:2]  # doctest: +SKIP
        ['AMAZON_FASHION_5.json.gz', 'All_Beauty_5.json.gz']
    """
    if name not in REGISTRY:  # a user's own file: extra unlabeled text only through a recipe's own setting
        return []
    spec = get_spec(name)
    if not spec.unlabeled_globs:
        return []
    try:
        folder = locate(name, data_dir, download=False)
    except DatasetNotFoundError:  # no labelled data: still look beside data_dir
        folder = None
    roots = [folder] if folder is not None else []
    bases = [Path(data_dir)] if data_dir is not None else []
    if folder is not None:
        bases.append(folder.parent)
    for base in bases:
        roots += [base / sub for sub in spec.unlabeled_folders]
    found: dict[Path, None] = {}
    for root in roots:
        if root.is_dir():
            for pattern in spec.unlabeled_globs:
                for path in sorted(root.glob(pattern)):
                    if path.is_file():
                        found[path] = None
    return list(found)
