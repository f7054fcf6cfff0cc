"""`Record`, the unit every format reader yields, and the byte-level line reading the readers share.

Readers open files in binary mode and decode one physical line at a time, so one line of invalid UTF-8 becomes one
bad row instead of killing the file, and memory does not grow with the file size.

Example:
    >>> Record("great film", 1, "train/pos/0_9")
    Record(text='great film', label=1, id='train/pos/0_9')
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterator, NamedTuple

from tfsenti.data.dataset import UNLABELED, BadRows
from tfsenti.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"


class Record(NamedTuple):
    """One document: its text, integer label (`-1` = unlabeled) and a stable, unique id.

    Example:
        >>> Record("so-so", -1, "unsup/7_0").label
        -1
    """

    text: str
    label: int
    id: str


def is_gzip(path: str | Path) -> bool:
    """True when the file starts with the gzip magic bytes (whatever its name).

    Example:
        >>> is_gzip(__file__)
        False
    """
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def file_stem(path: str | Path) -> str:
    """The file name up to its first dot: `train.ft.txt.gz` -> `train`, used in record ids.

    Example:
        >>> file_stem("/data/train.ft.txt.gz")
        'train'
    """
    return Path(path).name.split(".", 1)[0]


def read_lines(path: str | Path, bad_rows: BadRows) -> Iterator[tuple[int, str]]:
    """Yield `(physical line number, text)` for each line of a plain or gzip file, without its line ending.

    Lines that are not valid UTF-8 are reported to `bad_rows` as "invalid UTF-8" and skipped; a leading byte-order
    mark is dropped. A truncated or corrupt gzip stream raises `DataError` naming the file and line.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> _ = open(path, "wb").write(b"one\\r\\ntwo\\n")
        >>> list(read_lines(path, BadRows()))
        [(1, 'one'), (2, 'two')]
    """
    path = Path(path)
    opener = gzip.open if is_gzip(path) else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if raw.endswith(b"\n"):
                    raw = raw[:-1]
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    report(bad_rows, path, number, "invalid UTF-8", f"byte {error.start}")
                    continue
                if number == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                yield number, text
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read the file past this line: {error}. Is the file truncated or corrupt? "
                        "Download or copy it again.", path=str(path), line=number + 1) from error


def json_objects(path: str | Path, bad_rows: BadRows) -> Iterator[tuple[int, dict]]:
    """Yield `(line number, object)` for each JSON object of a JSON Lines file (plain or gzip).

    Also reads the "JSON array, one record per line" variant (a leading `[`, trailing commas, a closing `]`). A line
    that is not valid JSON, or not an object, is an "invalid JSON" bad row; blank lines are skipped.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "a.json")
        >>> _ = open(path, "w").write('[{"a": 1},\\n{"a": 2}]\\n')
        >>> list(json_objects(path, BadRows()))
        [(1, {'a': 1}), (2, {'a': 2})]
    """
    path = Path(path)
    for number, line in read_lines(path, bad_rows):
        body = line.strip()
        if number == 1 and body.startswith("["):
            body = body[1:].lstrip()
        body = body.rstrip(",").rstrip()
        if body.endswith("}]"):  # the last record of a complete array
            body = body[:-1]
        if body in ("", "[", "]"):
            continue
        try:
            item = json.loads(body)
        except json.JSONDecodeError as error:
            report(bad_rows, path, number, "invalid JSON", f"{error.msg} at column {error.colno}")
            continue
        if not isinstance(item, dict):
            report(bad_rows, path, number, "invalid JSON", f"expected an object, found {type(item).__name__}")
            continue
        yield number, item


def report(bad_rows: BadRows, path: str | Path, line: int, kind: str, detail: str | None = None) -> None:
    """Record a bad row under a fixed `kind` ("empty text", "invalid JSON", ...), so counts group by kind.

    Under `strict` the row raises at once, and the error carries `detail` (e.g. the label that was found).

    Example:
        >>> bad = BadRows()
        >>> report(bad, "train.csv", 4, "unknown label", "'3', expected one of ['1', '2']")
        >>> bad.rows
        [('train.csv', 4, 'unknown label')]
    """
    reason = f"{kind} ({detail})" if detail and bad_rows.strict else kind
    bad_rows.add(str(path), line, reason)


def parse_binary_label(value: str, mapping: dict[str, int], path: Path, line: int, bad_rows: BadRows) -> int | None:
    """Map a label string through `mapping`, reporting "unknown label" (and returning None) when it is not there."""
    label = mapping.get(value.strip())
    if label is None:
        report(bad_rows, path, line, "unknown label", f"{value!r}, expected one of {sorted(mapping)}")
    return label


__all__ = ["Record", "UNLABELED", "is_gzip", "file_stem", "json_objects", "read_lines", "report", "parse_binary_label"]
