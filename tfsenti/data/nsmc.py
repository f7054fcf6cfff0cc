"""Reader for the Naver Sentiment Movie Corpus (NSMC): tab-separated `id<TAB>document<TAB>label`, plain or gzip.

Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ratings_test.txt")
    >>> rows = "id\\tdocument\\tlabel\\n9976970\\t아 더빙.. 진짜 짜증나네요\\t0\\n"
    >>> _ = open(path, "w", encoding="utf-8").write(rows)
    >>> list(read_nsmc(path))
    [Record(text='아 더빙.. 진짜 짜증나네요', label=0, id='9976970')]
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from tfsenti.data.dataset import BadRows
from tfsenti.data.records import Record, parse_binary_label, read_lines, report

HEADER = ("id", "document", "label")
_LABELS = {"0": 0, "1": 1}


def read_nsmc(path: str | Path, *, bad_rows: BadRows | None = None) -> Iterator[Record]:
    """Stream NSMC records; the header line is skipped, ids come from the `id` column.

    Documents quoted pandas-style (`"say ""hi"" now"`) are unquoted as pandas would. Rows with a column count other than
    3, a label other than 0/1, an empty document or invalid UTF-8 are reported to `bad_rows` and skipped.

    Example:
        >>> bad = BadRows()
        >>> records = list(read_nsmc("ratings_train.txt.gz", bad_rows=bad))  # doctest: +SKIP
        >>> len(records), len(bad)  # doctest: +SKIP
        (149995, 5)
    """
    path = Path(path)
    bad_rows = bad_rows if bad_rows is not None else BadRows()
    for number, line in read_lines(path, bad_rows):
        if not line.strip():
            if number == 1:
                report(bad_rows, path, number, "missing header", "empty line where `id<TAB>document<TAB>label` belongs")
            continue  # a blank line (e.g. at the end of a file) holds no row
        fields = next(csv.reader([line], delimiter="\t"))
        if number == 1 and tuple(field.strip() for field in fields) == HEADER:
            continue
        if len(fields) != 3:
            report(bad_rows, path, number, "wrong column count", f"{len(fields)}, expected 3: id, document, label")
            continue
        doc_id, text, raw_label = fields
        label = parse_binary_label(raw_label, _LABELS, path, number, bad_rows)
        if label is None:
            continue
        if not text.strip():
            report(bad_rows, path, number, "empty text")
            continue
        yield Record(text, label, doc_id.strip())
