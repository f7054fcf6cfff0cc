"""Readers for Amazon reviews: Zhang et al.'s polarity CSV, its fastText rendering, and McAuley's JSON lines.

All three render a review as `"title: text"`, so the CSV and fastText copies of a row give the same text.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
    >>> _ = open(path, "w", encoding="utf-8").write('"2","Great CD","My lovely Pat"\\n')
    >>> list(read_zhang_csv(path))
    [Record(text='Great CD: My lovely Pat', label=1, id='train:1')]
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Iterator, Literal

from tfsenti.data.dataset import UNLABELED, BadRows
from tfsenti.data.records import Record, file_stem, json_objects, parse_binary_label, read_lines, report

_ZHANG_LABELS = {"1": 0, "2": 1}
_MAX_RECORD_LINES = 200  # a quoted CSV field may span lines; a stray quote must not swallow the file
_POLARITY = {1: 0, 2: 0, 4: 1, 5: 1}


def render_review(title: str, text: str) -> str:
    """`"title: text"`, or whichever part is not empty: the fastText rendering of Zhang's rows.

    Example:
        >>> render_review("Great CD", "Loved it"), render_review("", "Loved it")
        ('Great CD: Loved it', 'Loved it')
    """
    title, text = title.strip(), text.strip()
    return f"{title}: {text}" if title and text else (title or text)


def read_zhang_csv(path: str | Path, *, bad_rows: BadRows | None = None) -> Iterator[Record]:
    """Stream Zhang-format polarity CSV rows: no header, `"label","title","text"`, label 1 = negative, 2 = positive.

    Labels become 0/1; ids are `"<file stem>:<line>"` (the row's first physical line). A quoted field may span
    lines (at most 200). Wrong column counts, unknown labels, empty texts and invalid UTF-8 are bad rows.

    Example:
        >>> [r.label for r in read_zhang_csv("amazon_polarity/test.csv")][:3]  # doctest: +SKIP
        [1, 1, 0]
    """
    path = Path(path)
    bad_rows = bad_rows if bad_rows is not None else BadRows()
    stem = file_stem(path)
    for number, line in _csv_records(path, bad_rows):
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line]))
        except csv.Error as error:
            report(bad_rows, path, number, "malformed CSV", str(error))
            continue
        if len(fields) != 3:
            report(bad_rows, path, number, "wrong column count", f"{len(fields)}, expected 3: label, title, text")
            continue
        label = parse_binary_label(fields[0], _ZHANG_LABELS, path, number, bad_rows)
        if label is None:
            continue
        text = render_review(fields[1], fields[2])
        if not text:
            report(bad_rows, path, number, "empty text")
            continue
        yield Record(text, label, f"{stem}:{number}")


def _csv_records(path: Path, bad_rows: BadRows) -> Iterator[tuple[int, str]]:
    """Join physical lines while a quoted field is open; yield (first line number, record text)."""
    start, parts = 0, []
    for number, line in read_lines(path, bad_rows):
        if not parts:
            start = number
        parts.append(line)
        if sum(part.count('"') for part in parts) % 2 == 0:
            yield start, "\n".join(parts)
            parts = []
        elif len(parts) >= _MAX_RECORD_LINES:
            report(bad_rows, path, start, "unbalanced quotes",
                   f"a quoted field is still open after {_MAX_RECORD_LINES} lines")
            parts = []
    if parts:
        report(bad_rows, path, start, "unbalanced quotes", "the file ends inside a quoted field")


def read_fasttext(path: str | Path, *, bad_rows: BadRows | None = None) -> Iterator[Record]:
    """Stream fastText-format lines `__label__2 title: text` (LF or CRLF); `__label__1/2` become 0/1.

    Ids are `"<file stem>:<line>"`. Lines without a `__label__N ` prefix are "wrong column count" bad rows.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "test.ft.txt")
        >>> _ = open(path, "wb").write(b"__label__1 Bad: broke in a day\\r\\n")
        >>> list(read_fasttext(path))
        [Record(text='Bad: broke in a day', label=0, id='test:1')]
    """
    path = Path(path)
    bad_rows = bad_rows if bad_rows is not None else BadRows()
    stem = file_stem(path)
    for number, line in read_lines(path, bad_rows):
        if not line.strip():
            continue
        head, _, text = line.partition(" ")
        if not head.startswith("__label__"):
            report(bad_rows, path, number, "wrong column count",
                   "expected `__label__N text`, found no `__label__` prefix")
            continue
        label = parse_binary_label(head[len("__label__"):], _ZHANG_LABELS, path, number, bad_rows)
        if label is None:
            continue
        if not text.strip():
            report(bad_rows, path, number, "empty text")
            continue
        yield Record(text.strip(), label, f"{stem}:{number}")


def read_mcauley_json(
    path: str | Path,
    *,
    keep: Literal["polarity", "all"] = "polarity",
    bad_rows: BadRows | None = None,
    counts: Counter | None = None,
) -> Iterator[Record]:
    """Stream McAuley-style reviews, one JSON object per line (plain or gzip), as `summary: reviewText`.

    `keep="polarity"`: `overall` 1-2 -> 0, 4-5 -> 1, and 3 is dropped (counted in `counts["neutral"]`, not a bad
    row). `keep="all"`: every review, unlabeled (-1). Also reads the "JSON array, one record per line" variant
    (leading `[`, trailing `,`); a record cut mid-way is an "invalid JSON" bad row. Ids are `"<file stem>:<line>"`.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "Gift_Cards_5.json")
        >>> _ = open(path, "w").write('{"overall": 5.0, "summary": "Nice", "reviewText": "Easy gift"}\\n')
        >>> list(read_mcauley_json(path))
        [Record(text='Nice: Easy gift', label=1, id='Gift_Cards_5:1')]
    """
    if keep not in ("polarity", "all"):
        raise ValueError(f"keep must be 'polarity' or 'all', received {keep!r}")
    path = Path(path)
    bad_rows = bad_rows if bad_rows is not None else BadRows()
    counts = counts if counts is not None else Counter()
    stem = file_stem(path)
    for number, review in json_objects(path, bad_rows):
        label = UNLABELED
        if keep == "polarity":
            try:
                stars = int(float(review["overall"]))
            except (KeyError, TypeError, ValueError):
                report(bad_rows, path, number, "unknown label", f"overall={review.get('overall')!r}, expected 1-5")
                continue
            if stars == 3:
                counts["neutral"] += 1
                continue
            if stars not in _POLARITY:
                report(bad_rows, path, number, "unknown label", f"overall={review['overall']!r}, expected 1-5")
                continue
            label = _POLARITY[stars]
        review_text = review.get("reviewText") or ""
        if not isinstance(review_text, str) or not review_text.strip():
            report(bad_rows, path, number, "empty text")
            continue
        summary = review.get("summary") or ""
        yield Record(render_review(summary if isinstance(summary, str) else "", review_text), label,
                     f"{stem}:{number}")


def read_unlabeled_reviews(paths: Iterable[str | Path], *, bad_rows: BadRows | None = None) -> Iterator[Record]:
    """Chain the review files in `paths` as unlabeled records (-1), choosing the reader by file type.

    `.json`/`.json.gz`: McAuley JSON (every review, 3 stars included); `.ft.txt`: fastText; `.csv`: Zhang CSV.

    Example:
        >>> texts = [r.text for r in read_unlabeled_reviews(find_unlabeled_files("amazon"))]  # doctest: +SKIP
    """
    bad_rows = bad_rows if bad_rows is not None else BadRows()
    for path in paths:
        name = Path(path).name.lower()
        if name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz")):
            records = read_mcauley_json(path, keep="all", bad_rows=bad_rows)
        elif name.endswith((".ft.txt", ".ft.txt.gz")):
            records = read_fasttext(path, bad_rows=bad_rows)
        elif name.endswith((".csv", ".csv.gz")):
            records = read_zhang_csv(path, bad_rows=bad_rows)
        else:
            raise ValueError(f"Cannot tell the format of {path}: expected a name ending in .json, .json.gz, "
                             ".jsonl, .ft.txt or .csv (optionally .gz).")
        folder = Path(path).parent.name
        for record in records:  # ids carry the folder: several sources have a train.ft.txt
            yield Record(record.text, UNLABELED, f"{folder}/{record.id}")
