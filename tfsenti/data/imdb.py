"""Reader for the IMDB Large Movie Review Dataset (Maas et al. 2011): the `aclImdb/` folder or its tarball.

The tarball is read in streaming mode (one pass, no extraction): on a first load that is faster than extracting
100k small files, and it never writes anywhere. Texts are kept as they are, `<br />` included.

Example:
    >>> records = list(read_imdb_folder("datasets/imdb/aclImdb_v1.tar.gz", "test"))  # doctest: +SKIP
    >>> len(records), records[0].id  # doctest: +SKIP
    (25000, 'test/neg/0_2')
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Iterator

from tfsenti.data.archive import check_member
from tfsenti.data.dataset import UNLABELED, BadRows
from tfsenti.data.records import Record, report
from tfsenti.errors import DataError

SPLITS = ("train", "test", "unsup")
# split -> [(folder inside aclImdb/, sub-folder, label)]
_FOLDERS = {
    "train": (("train", "neg", 0), ("train", "pos", 1)),
    "test": (("test", "neg", 0), ("test", "pos", 1)),
    "unsup": (("train", "unsup", UNLABELED),),
}
_MEMBER = re.compile(r"(?:^|/)(train|test)/(neg|pos|unsup)/(\d+)_(\d+)\.txt$")
_SUBFOLDER_ORDER = {"neg": 0, "pos": 1, "unsup": 2}


def read_imdb_folder(root: str | Path, split: str, *, bad_rows: BadRows | None = None) -> Iterator[Record]:
    """Stream one IMDB split from an extracted `aclImdb/` folder (or its parent) or from `aclImdb_v1.tar.gz`.

    Splits: `train`, `test` (neg = 0, pos = 1, from the folders) and `unsup` (50k reviews, label -1). Ids look like
    `"train/pos/123_9"` (`<id>_<stars>`). A folder is read in id order (neg first); a tarball in archive order.

    Example:
        >>> next(iter(read_imdb_folder("aclImdb", "train"))).id  # doctest: +SKIP
        'train/neg/0_3'
    """
    for _, record in read_imdb(root, (split,), bad_rows=bad_rows):
        yield record


def read_imdb(
    root: str | Path, splits: Sequence[str] = ("train", "test"), *, bad_rows: BadRows | None = None
) -> Iterator[tuple[str, Record]]:
    """Stream `(split, record)` for several IMDB splits at once: a tarball is read in a single pass.

    Example:
        >>> from collections import Counter
        >>> Counter(split for split, _ in read_imdb("aclImdb_v1.tar.gz", ("test", "unsup")))  # doctest: +SKIP
        Counter({'unsup': 50000, 'test': 25000})
    """
    unknown = [split for split in splits if split not in _FOLDERS]
    if unknown:
        raise ValueError(f"Unknown IMDB split(s) {unknown}; choose from {list(SPLITS)}.")
    bad_rows = bad_rows if bad_rows is not None else BadRows()
    root = Path(root)
    if root.is_file():
        yield from _read_tar(root, splits, bad_rows)
        return
    folder = _find_acl_folder(root)
    for split in splits:
        for top, sub, label in _FOLDERS[split]:
            directory = folder / top / sub
            if not directory.is_dir():
                raise DataError(f"IMDB folder {directory} is missing; the `aclImdb/` tree looks incomplete. "
                                "Extract aclImdb_v1.tar.gz again.", path=str(directory))
            for path in sorted(directory.glob("*.txt"), key=_numeric_key):
                record = _decode(path.read_bytes(), f"{top}/{sub}/{path.stem}", label, str(path), bad_rows)
                if record is not None:
                    yield split, record


def imdb_order_key(record_id: str) -> tuple[int, int]:
    """Sort key putting records of one split in folder order (neg, pos, unsup), then numeric id.

    Example:
        >>> sorted(["train/pos/2_9", "train/neg/10_1", "train/neg/9_2"], key=imdb_order_key)
        ['train/neg/9_2', 'train/neg/10_1', 'train/pos/2_9']
    """
    _, sub, stem = record_id.split("/")
    return _SUBFOLDER_ORDER.get(sub, 3), int(stem.split("_")[0])


def _find_acl_folder(root: Path) -> Path:
    for candidate in (root, root / "aclImdb"):
        if (candidate / "train").is_dir() or (candidate / "test").is_dir():
            return candidate
    raise DataError(f"{root} holds neither an `aclImdb/` folder nor `train/` and `test/` folders. Pass the folder "
                    "extracted from aclImdb_v1.tar.gz, or the tarball itself.", path=str(root))


def _numeric_key(path: Path) -> tuple[int, str]:
    head = path.stem.split("_")[0]
    return (int(head), path.name) if head.isdigit() else (1 << 62, path.name)


def _read_tar(archive: Path, splits: Sequence[str], bad_rows: BadRows) -> Iterator[tuple[str, Record]]:
    wanted = {(top, sub): (split, label) for split in splits for top, sub, label in _FOLDERS[split]}
    try:
        with tarfile.open(archive, "r|*") as tar:
            for member in tar:
                check_member(member, archive)
                match = _MEMBER.search(member.name) if member.isfile() else None
                if match is None or (match[1], match[2]) not in wanted:
                    continue
                split, label = wanted[(match[1], match[2])]
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                record = _decode(data, f"{match[1]}/{match[2]}/{match[3]}_{match[4]}", label,
                                 f"{archive}::{member.name}", bad_rows)
                if record is not None:
                    yield split, record
    except (tarfile.ReadError, EOFError, OSError) as error:
        raise DataError(f"cannot read the IMDB archive ({error}); it may be truncated or not a tar file. Download "
                        "or copy aclImdb_v1.tar.gz again.", path=str(archive)) from error


def _decode(data: bytes, record_id: str, label: int, where: str, bad_rows: BadRows) -> Record | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        report(bad_rows, where, 1, "invalid UTF-8", f"byte {error.start}")
        return None
    if not text.strip():
        report(bad_rows, where, 1, "empty text")
        return None
    return Record(text, label, record_id)
