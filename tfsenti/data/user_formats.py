"""Readers for a user's own labelled files: CSV / TSV with a header, JSON Lines, and one folder per class.

`read_user_file` streams `UserRecord`s from one file or folder (plain or gzip, told by the gzip magic bytes), so
memory does not grow with the file; malformed rows go to `BadRows` with file and line, like the named datasets.
Several text columns are joined with "\\n" in the order given, empty parts dropped.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "reviews.csv")
    >>> _ = open(path, "w", encoding="utf-8").write('title,body,stars\\nGreat,"Works, well",5.0\\n')
    >>> options = UserDataOptions(text_columns=("title", "body"))
    >>> list(read_user_file(path, options, bad_rows=BadRows()))
    [UserRecord(text='Great\\nWorks, well', label='5', id='reviews:2', line=2)]
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import itertools
import logging
import math
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Iterator, NamedTuple, TextIO

from tfsenti.data.dataset import BadRows
from tfsenti.data.records import file_stem, is_gzip, json_objects, report
from tfsenti.errors import ConfigError, DataError

log = logging.getLogger("tfsenti")

USER_FORMATS = ("csv", "tsv", "jsonl", "folder")
TEXT_COLUMN_NAMES = ("text", "review", "sentence", "content", "document", "body", "comment")
LABEL_COLUMN_NAMES = ("label", "labels", "sentiment", "stars", "rating", "overall", "score", "class", "target",
                      "polarity")
SPLIT_FOLDERS = {"train": "train", "test": "test", "validation": "validation", "val": "validation"}

_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                   ".json": "jsonl"}
_SNIFFED_DELIMITERS = (";", "|", "\t")
_SURROGATE = re.compile("[\udc80-\udcff]")
_INTEGRAL_STRING = re.compile(r"[+-]?\d+\.0*")
_JSON_SAMPLE_ROWS = 100  # JSON Lines columns: the keys of the first objects (a key may be absent from one row)


class UserRecord(NamedTuple):
    """One row of a user's file: its text, label as a string, id and first physical line (1 for folder files).

    Example:
        >>> UserRecord("fine", "4", "reviews:7", 7).label
        '4'
    """

    text: str
    label: str
    id: str
    line: int


@dataclasses.dataclass(frozen=True)
class UserDataOptions:
    """How to read a user's files; every field has a default that guesses.

    `text_columns`: the columns joined (with "\\n", in this order, empty parts dropped) into the text; empty means
    the first of text, review, sentence, content, document, body, comment present (any case). `label_column`: None
    means the first of label, labels, sentiment, stars, rating, overall, score, class, target, polarity present.
    `delimiter`: None means "," for CSV (or the one of ; | tab the header holds when it has no comma) and tab for
    TSV; "\\t" and "tab" are read as a tab. `format`: one of csv, tsv, jsonl, folder, instead of `detect_format`.

    Example:
        >>> UserDataOptions(text_columns="body", delimiter="tab")
        UserDataOptions(text_columns=('body',), label_column=None, delimiter='\\t', format=None)
    """

    text_columns: tuple[str, ...] = ()
    label_column: str | None = None
    delimiter: str | None = None
    format: str | None = None

    def __post_init__(self):
        columns = (self.text_columns,) if isinstance(self.text_columns, str) else tuple(self.text_columns or ())
        object.__setattr__(self, "text_columns", columns)
        delimiter = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(self.delimiter, self.delimiter)
        if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
            raise ConfigError(f"delimiter must be one character other than a quote or a line break, received "
                              f"{self.delimiter!r}. Pass e.g. ',', ';', '|' or '\\t'.")
        object.__setattr__(self, "delimiter", delimiter)
        if self.format is not None and self.format not in USER_FORMATS:
            raise ConfigError(f"format must be one of {list(USER_FORMATS)}, received {self.format!r}. Leave it "
                              "unset to tell the format from the file name or contents.")


@dataclasses.dataclass(frozen=True)
class ResolvedColumns:
    """The columns a reader chose (after guessing or matching case), and the columns the file has.

    Example:
        >>> ResolvedColumns(("review",), "stars", ("id", "review", "stars")).label
        'stars'
    """

    text: tuple[str, ...]
    label: str
    found: tuple[str, ...]


def normalize_label(value: Any) -> str | None:
    """A label value as a class name: integral numbers -> "5", bools -> "true"/"false", strings stripped.

    Strings that spell an integral decimal ("5.0") become "5" too. None, NaN, empty strings, lists and objects
    give None (a missing label).

    Example:
        >>> [normalize_label(v) for v in (5, 5.0, "5", " 5 ", "5.0", True, " pos ", 4.5, "", None)]
        ['5', '5', '5', '5', '5', 'true', 'pos', '4.5', None, None]
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        value = value.strip()
        if _INTEGRAL_STRING.fullmatch(value):
            return str(int(float(value)))
        return value or None
    return None


def detect_format(path: str | Path) -> str:
    """"csv", "tsv", "jsonl" or "folder", from the name (.csv, .tsv/.tab, .jsonl/.ndjson/.json, gzip'd or not).

    Other names are sniffed from the first bytes (decompressed when gzip): "{" means JSON Lines, anything else CSV
    (whose delimiter the reader sniffs). A missing path raises `DataError` naming it.

    Example:
        >>> detect_format("reviews.tsv.gz")  # doctest: +SKIP
        'tsv'
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "reviews.txt")
        >>> _ = open(path, "w").write('{"text": "good", "label": 1}\\n')
        >>> detect_format(path)
        'jsonl'
    """
    path = Path(path)
    if path.is_dir():
        return "folder"
    if not path.is_file():
        raise DataError("no such file or folder. Pass an existing CSV, TSV or JSON Lines file (optionally gzip'd), "
                        "or a folder with one sub-folder per class.", path=str(path))
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffix]
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4096)
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read the start of the file: {error}. Is it truncated or corrupt?",
                        path=str(path)) from error
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if head.startswith(b"{") else "csv"


def split_folders(path: str | Path) -> dict[str, Path] | None:
    """The split sub-folders of a folder laid out as train/ and test/ (and validation/ or val/), or None.

    A folder counts as split when it holds a `train/` sub-folder that itself holds (class) folders.

    Example:
        >>> import tempfile, os
        >>> root = tempfile.mkdtemp()
        >>> for sub in ("train/pos", "train/neg", "val/pos"):
        ...     os.makedirs(os.path.join(root, sub))
        >>> sorted(split_folders(root))
        ['train', 'validation']
    """
    path = Path(path)
    train = path / "train"
    if not train.is_dir() or not any(child.is_dir() for child in train.iterdir()):
        return None
    return {split: path / folder for folder, split in SPLIT_FOLDERS.items() if (path / folder).is_dir()}


def read_user_file(
    path: str | Path,
    options: UserDataOptions,
    *,
    bad_rows: BadRows,
    on_columns: Callable[[ResolvedColumns], None] | None = None,
) -> Iterator[UserRecord]:
    """Stream the labelled rows of one CSV / TSV / JSON Lines file, or one folder with a sub-folder per class.

    Labels are normalised to strings (see `normalize_label`); ids are `"<file stem>:<line>"`, or
    `"<class>/<path below the class folder>"` for folders. Malformed rows ("invalid UTF-8", "wrong column count",
    "empty text", "missing label", "invalid JSON", "missing field", ...) go to `bad_rows`. `on_columns`, when
    given, receives the columns chosen once they are known. An unknown column name raises `DataError`.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
        >>> _ = open(path, "w").write('{"review": "Great", "stars": 5.0}\\n{"review": "Poor"}\\n')
        >>> bad = BadRows()
        >>> list(read_user_file(path, UserDataOptions(), bad_rows=bad)), dict(bad.by_reason)
        ([UserRecord(text='Great', label='5', id='r:1', line=1)], {'missing field': 1})
    """
    path = Path(path)
    found_format = detect_format(path)  # also raises DataError naming a missing path
    data_format = options.format or found_format
    if (data_format == "folder") != (found_format == "folder"):
        raise DataError(f"format {data_format!r} was asked for, but this is a {'folder' if path.is_dir() else 'file'}"
                        ". Drop the format option, or pass a folder only with format 'folder'.", path=str(path))
    notify = on_columns or (lambda columns: None)
    if data_format == "folder":
        return read_class_folder(path, bad_rows=bad_rows, on_columns=notify)
    if data_format == "jsonl":
        return read_json_lines(path, options, bad_rows=bad_rows, on_columns=notify)
    return read_delimited(path, options, bad_rows=bad_rows, on_columns=notify, tabs=data_format == "tsv")


# ---------------------------------------------------------------------------------------------- column choice
def resolve_columns(found: Iterable[str], options: UserDataOptions, path: Path, where: str) -> ResolvedColumns:
    """Match the requested (or guessed) text and label columns against the columns `found`; `DataError` if absent.

    Names match exactly, else case-insensitively. `where` says what `found` is ("header", "keys of the first
    objects") for the error message.

    Example:
        >>> resolve_columns(["ID", "Review", "Stars"], UserDataOptions(), Path("r.csv"), "header")
        ResolvedColumns(text=('Review',), label='Stars', found=('ID', 'Review', 'Stars'))
    """
    found = tuple(found)
    lowered: dict[str, str] = {}
    for name in found:
        lowered.setdefault(name.strip().lower(), name)

    def match(name: str) -> str | None:
        return name if name in found else lowered.get(name.strip().lower())

    def missing(what: str, name: str, flag: str) -> DataError:
        return DataError(f"{what} {name!r} is not in the {where} {list(found)}. Pass {flag} with one of those "
                         "names (matching is exact, then case-insensitive).", path=str(path))

    if options.text_columns:
        text = []
        for name in options.text_columns:
            resolved = match(name)
            if resolved is None:
                raise missing("text column", name, "--text-column")
            text.append(resolved)
    else:
        guess = next((match(name) for name in TEXT_COLUMN_NAMES if match(name) is not None), None)
        if guess is None:
            raise DataError(f"no text column: none of {list(TEXT_COLUMN_NAMES)} is in the {where} {list(found)}. "
                            "Name it with --text-column (repeat it to join several columns).", path=str(path))
        text = [guess]
    if options.label_column is not None:
        label = match(options.label_column)
        if label is None:
            raise missing("label column", options.label_column, "--label-column")
    else:
        label = next((match(name) for name in LABEL_COLUMN_NAMES if match(name) is not None), None)
        if label is None:
            raise DataError(f"no label column: none of {list(LABEL_COLUMN_NAMES)} is in the {where} {list(found)}. "
                            "Name it with --label-column.", path=str(path))
    if label in text:
        raise DataError(f"column {label!r} is both a text column and the label column. Pass --text-column and "
                        "--label-column with different names.", path=str(path))
    return ResolvedColumns(tuple(text), label, found)


def join_text(parts: Iterable[Any]) -> str:
    """The text of a row: its text parts stripped and joined with "\\n", empty (or None) parts dropped.

    Example:
        >>> join_text(["Great", "  ", None, " Works well "])
        'Great\\nWorks well'
    """
    kept = (str(part).strip() for part in parts if part is not None and not isinstance(part, (dict, list)))
    return "\n".join(part for part in kept if part)


# ------------------------------------------------------------------------------------------------- CSV / TSV
def open_text(path: Path) -> TextIO:
    """A text stream over a plain or gzip file for the csv module: UTF-8 (BOM dropped), newline='', and bytes
    that are not UTF-8 kept as surrogates (`surrogateescape`) so that the row holding them can be reported."""
    raw = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def sniff_delimiter(header_line: str) -> str:
    """"," when the header line holds a comma, else the most frequent of ; | tab in it, else ",".

    Example:
        >>> sniff_delimiter("text;label\\n"), sniff_delimiter("text,label;x\\n"), sniff_delimiter("text\\n")
        (';', ',', ',')
    """
    if "," in header_line:
        return ","
    counts = {delimiter: header_line.count(delimiter) for delimiter in _SNIFFED_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def raise_field_size_limit() -> None:
    """Let the csv module read fields of any practical size (its default drops fields over 131,072 characters).

    The limit is process-wide; it is only ever raised, never lowered.
    """
    limit = 2**31 - 1
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def read_delimited(
    path: Path,
    options: UserDataOptions,
    *,
    bad_rows: BadRows,
    on_columns: Callable[[ResolvedColumns], None],
    tabs: bool = False,
) -> Iterator[UserRecord]:
    """Stream a CSV (or TSV, `tabs=True`) file with a header row; quoted fields may hold delimiters and line breaks.

    Each record is reported at its FIRST physical line. Example: see the module docstring.
    """
    raise_field_size_limit()
    stem = file_stem(path)
    line = 0
    try:
        with open_text(path) as stream:
            header_line = stream.readline()
            delimiter = options.delimiter or ("\t" if tabs else sniff_delimiter(header_line))
            reader = csv.reader(itertools.chain([header_line], stream), delimiter=delimiter)
            header = next(reader, None)
            if not header or not "".join(header).strip():
                raise DataError("the file has no header row. The first row must name the columns, e.g. "
                                "`text,label`.", path=str(path))
            header = [name.strip() for name in header]
            columns = resolve_columns(header, options, path, "header")
            on_columns(columns)
            text_at = [header.index(name) for name in columns.text]
            label_at = header.index(columns.label)
            while True:
                line = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    report(bad_rows, path, line, "malformed CSV", str(error))
                    continue
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                bad_field = next((i for i, field in enumerate(row) if _SURROGATE.search(field)), None)
                if bad_field is not None:
                    column = header[bad_field] if bad_field < len(header) else f"#{bad_field + 1}"
                    report(bad_rows, path, line, "invalid UTF-8", f"in column {column!r}")
                    continue
                if len(row) != len(header):
                    report(bad_rows, path, line, "wrong column count",
                           f"{len(row)} field(s), the header has {len(header)}; delimiter {delimiter!r}")
                    continue
                text = join_text(row[i] for i in text_at)
                if not text:
                    report(bad_rows, path, line, "empty text", f"column(s) {list(columns.text)}")
                    continue
                label = normalize_label(row[label_at])
                if label is None:
                    report(bad_rows, path, line, "missing label", f"column {columns.label!r}")
                    continue
                yield UserRecord(text, label, f"{stem}:{line}", line)
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read the file past this line: {error}. Is the file truncated or corrupt? "
                        "Copy or export it again.", path=str(path), line=max(line, 1)) from error


# ------------------------------------------------------------------------------------------------ JSON Lines
def read_json_lines(
    path: Path,
    options: UserDataOptions,
    *,
    bad_rows: BadRows,
    on_columns: Callable[[ResolvedColumns], None],
) -> Iterator[UserRecord]:
    """Stream a JSON Lines file: one object per line, its top-level keys as columns.

    The columns are matched against the keys of the first 100 objects. Also reads a JSON array written one
    object per line (leading "[", trailing commas). A row missing the label key, or every text key, is a
    "missing field"; with several text columns a missing key is an empty part.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "r.jsonl")
        >>> _ = open(path, "w").write('{"text": "Good", "label": true}\\n[1]\\n')
        >>> bad = BadRows()
        >>> list(read_json_lines(Path(path), UserDataOptions(), bad_rows=bad, on_columns=print))
        ResolvedColumns(text=('text',), label='label', found=('text', 'label'))
        [UserRecord(text='Good', label='true', id='r:1', line=1)]
        >>> [(Path(file).name, line, reason) for file, line, reason in bad.rows]
        [('r.jsonl', 2, 'invalid JSON')]
    """
    stem = file_stem(path)
    sample = list(itertools.islice(json_objects(path, BadRows()), _JSON_SAMPLE_ROWS))  # a first, silent look
    if not sample:
        for _ in json_objects(path, bad_rows):  # no object at all: report the lines
            pass
        return
    keys: dict[str, None] = {}
    for _, item in sample:
        keys.update(dict.fromkeys(item))
    columns = resolve_columns(keys, options, path, f"keys of the first {len(sample)} object(s)")
    on_columns(columns)
    for line, item in json_objects(path, bad_rows):
        present = [name for name in columns.text if name in item]
        if columns.label not in item or not present:
            absent = [name for name in (*columns.text, columns.label) if name not in item]
            report(bad_rows, path, line, "missing field", f"no key {absent}")
            continue
        text = join_text(item.get(name) for name in columns.text)
        if not text:
            report(bad_rows, path, line, "empty text", f"key(s) {list(columns.text)}")
            continue
        label = normalize_label(item[columns.label])
        if label is None:
            report(bad_rows, path, line, "missing label", f"{columns.label}={item[columns.label]!r}")
            continue
        yield UserRecord(text, label, f"{stem}:{line}", line)


# ---------------------------------------------------------------------------------------------------- folder
def read_class_folder(
    path: Path,
    *,
    bad_rows: BadRows,
    on_columns: Callable[[ResolvedColumns], None] = lambda columns: None,
) -> Iterator[UserRecord]:
    """Stream a folder with one sub-folder per class; every *.txt or *.txt.gz file below a class folder is one
    document (as `keras.utils.text_dataset_from_directory`), in sorted order.

    Files in the folder itself are ignored with a warning; hidden files and folders are skipped. A file that is
    not UTF-8, or empty, is a bad row at `file:1`. A folder laid out as train/ test/ raises `DataError`
    (`load_user_data` reads those splits).

    Example:
        >>> import tempfile, os
        >>> root = tempfile.mkdtemp()
        >>> os.makedirs(os.path.join(root, "pos", "2024"))
        >>> _ = open(os.path.join(root, "pos", "2024", "a.txt"), "w").write("Loved it\\n")
        >>> list(read_class_folder(Path(root), bad_rows=BadRows()))
        [UserRecord(text='Loved it', label='pos', id='pos/2024/a.txt', line=1)]
    """
    if split_folders(path) is not None:
        raise DataError("this folder holds split folders (train/, test/, ...), not class folders. Load it with "
                        "load_user_data, or read one split's folder, e.g. train/.", path=str(path))
    children = sorted((child for child in path.iterdir() if not child.name.startswith(".")),
                      key=lambda child: child.name)
    stray = [child.name for child in children if child.is_file()]
    if stray:
        log.warning("%s: ignoring %d file(s) outside the class folders (%s); put each document in the "
                    "sub-folder named after its class", path, len(stray), ", ".join(stray[:5]))
    on_columns(ResolvedColumns(("file contents",), "class folder name",
                               tuple(child.name for child in children if child.is_dir())))
    for class_dir in (child for child in children if child.is_dir()):
        label = normalize_label(class_dir.name) or class_dir.name
        for file in _text_files(class_dir):
            relative = file.relative_to(class_dir).as_posix()
            text = _read_document(file, bad_rows)
            if text is not None:
                yield UserRecord(text, label, f"{class_dir.name}/{relative}", 1)


def _text_files(class_dir: Path) -> list[Path]:
    files = []
    for file in class_dir.rglob("*"):
        relative = file.relative_to(class_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if file.name.lower().endswith((".txt", ".txt.gz")) and file.is_file():
            files.append(file)
    return sorted(files, key=lambda file: file.relative_to(class_dir).as_posix())


def _read_document(file: Path, bad_rows: BadRows) -> str | None:
    opener = gzip.open if is_gzip(file) else open
    try:
        with opener(file, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        report(bad_rows, file, 1, "unreadable file", str(error))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        report(bad_rows, file, 1, "invalid UTF-8", f"byte {error.start}")
        return None
    text = text.lstrip("\ufeff").strip()
    if not text:
        report(bad_rows, file, 1, "empty text")
        return None
    return text


__all__ = [
    "LABEL_COLUMN_NAMES",
    "ResolvedColumns",
    "TEXT_COLUMN_NAMES",
    "USER_FORMATS",
    "UserDataOptions",
    "UserRecord",
    "detect_format",
    "join_text",
    "normalize_label",
    "read_class_folder",
    "read_delimited",
    "read_json_lines",
    "read_user_file",
    "resolve_columns",
    "sniff_delimiter",
    "split_folders",
]
