"""Result records: one small JSON file per published figure, the only source of docs/RESULTS.md and `cli.py report`.

A record says what was measured, when, on which machine, with which command and commit, on which data and split,
under which protocol, and what came out (metrics, time, memory). `load_record` checks every field and names the file
and the field when one is wrong; `write_record` writes it as JSON (fields in schema order, two-space indent) atomically.

Example:
    >>> import tempfile
    >>> record = Record(
    ...     name="NB-BON", what="NB-BON on IMDB", recipe="nbbon", dataset="imdb", date="2026-11-29",
    ...     machine="2 cores, no GPU", command="python cli.py train --model nbbon --data imdb", commit="f7d741e",
    ...     data="IMDB train 25,000 / test 25,000",
    ...     protocol=Protocol(setting="inductive", labels="25,000", test="full (25,000)"),
    ...     metrics={"test_accuracy": 0.9188}, time={"train_s": 56.9}, memory={"peak_rss_gib": 1.02})
    >>> path = write_record(record, Path(tempfile.mkdtemp()) / "imdb-nbbon.json")
    >>> load_record(path) == record
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from tfsenti.errors import DataError

SCHEMA = 1
SETTINGS = ("inductive", "transductive", "n/a")
# Paths of the machine a benchmark ran on: records are committed, so they must not carry them.
_ABSOLUTE_PATH = re.compile(r"(?:^|[\s'\"=(:,])/(?:work|home|Users|root|tmp|mnt|data|scratch|opt)/")


class RecordError(DataError):
    """A result record is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Protocol:
    """How a figure was obtained: `setting` inductive or transductive (test text seen in training, never its labels),
    `labels` the labelled training examples used, `test` the test split scored (full, or which subset)."""

    setting: str
    labels: str
    test: str


@dataclass(frozen=True)
class Record:
    """One published figure. Accuracies are fractions; `time` keys end in `_s` (seconds), `memory` keys in `_gib`
    or `_mb`; a value not measured is None. `system` ties the record to a row of the survey (tfsenti.reporting.survey);
    `rows` holds the figure's own detail table (one dict per row, the same keys in every row)."""

    name: str
    what: str
    recipe: str
    dataset: str
    date: str
    machine: str
    command: str
    commit: str
    data: str
    protocol: Protocol
    metrics: dict[str, float | None]
    time: dict[str, float | None]
    memory: dict[str, float | None]
    weights: str = "none (trained from scratch)"
    system: str | None = None
    notes: str = ""
    rows: tuple[dict[str, Any], ...] = ()

    @property
    def test_accuracy(self) -> float | None:
        return self.metrics.get("test_accuracy")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["rows"] = [dict(row) for row in self.rows]
        data["schema"] = SCHEMA
        return data


_TEXT_FIELDS = ("name", "what", "recipe", "dataset", "date", "machine", "command", "commit", "data")
_OPTIONAL_TEXT = ("weights", "notes")
_UNITS = {"time": ("_s",), "memory": ("_gib", "_mb")}


def record_from_json(data: Any, *, path: str | Path = "<record>") -> Record:
    """Check `data` (a parsed JSON object) field by field and build the Record; RecordError names the bad field."""
    where = str(path)

    def fail(name: str, received: Any, allowed: str, fix: str) -> RecordError:
        return RecordError(f"field {name!r}: received {received!r}; allowed: {allowed}. {fix}", path=where)

    if not isinstance(data, dict):
        raise fail("(record)", type(data).__name__, "a JSON object", "Write one object per file.")
    known = {f.name for f in dataclasses.fields(Record)} | {"schema"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise fail(unknown[0], data[unknown[0]], f"the fields {', '.join(sorted(known))}",
                   "Remove or rename it (see tfsenti/reporting/records.py).")
    if data.get("schema") != SCHEMA:
        raise fail("schema", data.get("schema"), str(SCHEMA), f"Write \"schema\": {SCHEMA}.")
    for name in _TEXT_FIELDS:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise fail(name, data.get(name), "a non-empty string", f"Give the record its {name}.")
    for name in _OPTIONAL_TEXT:
        if name in data and not isinstance(data[name], str):
            raise fail(name, data[name], "a string", "Write it as text.")
    if data.get("system") is not None and not isinstance(data["system"], str):
        raise fail("system", data["system"], "a survey key such as 'imdb/nbbon-dvcosine', or null", "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][\d:.+-]+)?", data["date"]):
        raise fail("date", data["date"], "an ISO date (2026-11-29) or date and time", "Write the run's date.")
    protocol = data.get("protocol")
    if not isinstance(protocol, dict) or set(protocol) != {"setting", "labels", "test"}:
        raise fail("protocol", protocol, "an object with exactly setting, labels and test",
                   "Say how the figure was obtained.")
    if protocol["setting"] not in SETTINGS:
        raise fail("protocol.setting", protocol["setting"], " | ".join(SETTINGS), "")
    for key in ("labels", "test"):
        if not isinstance(protocol[key], str) or not protocol[key].strip():
            raise fail(f"protocol.{key}", protocol[key], "a non-empty string", "")
    for group in ("metrics", "time", "memory"):
        values = data.get(group)
        if not isinstance(values, dict):
            raise fail(group, values, "an object of numbers (null where not measured)", "")
        for key, value in values.items():
            name = f"{group}.{key}"
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):
                raise fail(name, value, "a finite number >= 0, or null", "")
            if group in _UNITS and not key.endswith(_UNITS[group]):
                raise fail(name, value, f"keys ending in {' or '.join(_UNITS[group])} (the unit)",
                           f"Rename it, e.g. {key}{_UNITS[group][0]}.")
            if group == "metrics" and re.search(r"accuracy|f1|auc", key) and value is not None and value > 1:
                raise fail(name, value, "a fraction in [0, 1]", f"Write {value / 100:g}, not a percentage.")
    rows = data.get("rows", [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise fail("rows", rows, "a list of objects", "")
    if rows and any(list(row) != list(rows[0]) for row in rows):
        raise fail("rows", rows[0], "the same keys, in the same order, in every row", "")
    _check_no_machine_paths(data, where)
    values = {key: value for key, value in data.items() if key != "schema"}
    values["protocol"] = Protocol(**protocol)
    values["rows"] = tuple(rows)
    return Record(**values)


def _check_no_machine_paths(value: Any, where: str, name: str = "") -> None:
    if isinstance(value, str) and _ABSOLUTE_PATH.search(value):
        found = _ABSOLUTE_PATH.search(value).group(0).strip(" '\"=(:,")
        raise RecordError(f"field {name!r}: holds an absolute path of a machine ({found}...); allowed: relative "
                          "paths (../shared/datasets/...) or --data-dir. Rewrite it relative to the repository.",
                          path=where)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_machine_paths(item, where, f"{name}.{key}" if name else key)
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_no_machine_paths(item, where, f"{name}[{index}]")


def load_record(path: str | Path) -> Record:
    """Read and check one record file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RecordError(f"not valid JSON ({error.msg}); fix the file or rewrite it with write_record",
                          path=str(path), line=error.lineno) from error
    return record_from_json(data, path=path)


def load_records(folder: str | Path) -> dict[str, Record]:
    """Every `*.json` record of `folder`, by id (the file name without `.json`), sorted by id."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordError("the results folder does not exist; pass the folder holding the *.json records "
                          "(a checkout's results/)", path=str(folder))
    return {path.stem: load_record(path) for path in sorted(folder.glob("*.json"), key=lambda path: path.stem)}


def dumps(record: Record) -> str:
    """The JSON text of a record (what `write_record` writes): fields in schema order, rows as given."""
    return json.dumps(record.to_json(), indent=2, ensure_ascii=False) + "\n"


def write_record(record: Record, path: str | Path) -> Path:
    """Check `record` and write it to `path` atomically (beside it, then renamed)."""
    path = Path(path)
    record_from_json(json.loads(dumps(record)), path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.write_text(dumps(record), encoding="utf-8")
    partial.replace(path)
    return path


def clean_machine(text: str) -> str:
    """A machine description without remarks about who else used it (not a property of the machine).

    Example:
        >>> clean_machine("Intel Xeon, 2 cores (shared with other jobs), no GPU")
        'Intel Xeon, 2 cores, no GPU'
    """
    return re.sub(r"\s*\((?:shared|busy)[^)]*\)", "", text)


def by_dataset(records: Iterable[Record], dataset: str) -> list[Record]:
    """The records of one dataset, in the order given."""
    return [record for record in records if record.dataset == dataset]
