"""The survey table: for each dataset and system, the paper's figures beside tfsenti's, from the records only.

One row per measurement of a survey system (a system without one gets a row that says why), then tfsenti's own
rows for that dataset. `format_text` prints it for a terminal, `format_markdown` writes docs/REPORT.md and README's
results table.

Example:
    >>> from tfsenti.reporting.records import Protocol, Record
    >>> record = Record(name="NB-BON + dv-cosine", what="ensemble", recipe="dvcosine", dataset="imdb",
    ...     system="imdb/nbbon-dvcosine", date="2026-12-07", machine="AMD EPYC, 2 cores, no GPU, Linux",
    ...     command="python cli.py train --model dvcosine --data imdb", commit="0cd5f04", data="IMDB",
    ...     protocol=Protocol("inductive", "22,500", "full (25,000)"), metrics={"test_accuracy": 0.9289},
    ...     time={"train_s": 1758.0}, memory={"peak_rss_gib": 18.0})
    >>> rows = survey_rows({"imdb-dvcosine": record}, datasets=["imdb"])
    >>> [(row.system, percent(row.measured)) for row in rows][:2]
    [('NB-weighted bag of n-grams + dv-cosine', '92.89%'), ('ktrain BERT, one-cycle LR 2e-5', '-')]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from tfsenti.reporting.records import Record, RecordError, clean_machine
from tfsenti.reporting.survey import DATASETS, SYSTEMS, SurveySystem, systems_of

RECIPE_ORDER = ("nbbon", "dvcosine", "tfhub", "bert", "ktrain", "uda")
NOT_MEASURED = "not measured"
OWN = "tfsenti's own"


@dataclass(frozen=True)
class ReportRow:
    """One line of the survey table (accuracies as fractions, None where there is no figure)."""

    dataset: str
    system: str
    reported: float | None
    rerun: float | None
    corrected: float | None
    measured: float | None
    run: str
    weights: str
    protocol: str
    train_time: str
    peak_memory: str
    hardware: str
    command: str
    record_id: str | None = None


def survey_rows(records: Mapping[str, Record], datasets: Iterable[str] = tuple(DATASETS)) -> list[ReportRow]:
    """The table's rows for `datasets`, from `records` (by id); a survey system with no record says why."""
    for record_id, record in records.items():
        if record.system is not None and record.system not in SYSTEMS:
            raise RecordError(f"field 'system': received {record.system!r}; allowed: null (tfsenti's own figure) or "
                              f"one of {', '.join(SYSTEMS)}. Fix the record or add the system to "
                              "tfsenti/reporting/survey.py.", path=f"results/{record_id}.json")
    rows: list[ReportRow] = []
    for dataset in datasets:
        for system in systems_of(dataset):
            matched = sorted(((rid, rec) for rid, rec in records.items() if rec.system == system.key),
                             key=lambda item: (item[1].protocol.setting != "inductive", item[0]))
            rows += [_row(rid, rec, system) for rid, rec in matched] or [_unmeasured(system)]
        own = [(rid, rec) for rid, rec in records.items()
               if rec.dataset == dataset and rec.system is None and rec.test_accuracy is not None]
        own.sort(key=lambda item: (_recipe_rank(item[1].recipe), item[0]))
        rows += [_row(rid, rec, None) for rid, rec in own]
    return rows


def _recipe_rank(recipe: str) -> int:
    return RECIPE_ORDER.index(recipe) if recipe in RECIPE_ORDER else len(RECIPE_ORDER)


def _row(record_id: str, record: Record, system: SurveySystem | None) -> ReportRow:
    weights = short(record.weights)
    if system is not None and system.paper_weights != "none" and "proxy" in record.weights:
        weights += f" (paper: {system.paper_weights})"
    protocol = record.protocol
    return ReportRow(
        dataset=record.dataset,
        system=system.name if system else OWN,
        reported=system.reported if system else None,
        rerun=system.rerun if system else None,
        corrected=system.corrected if system else None,
        measured=record.test_accuracy,
        run=record.name,
        weights=weights,
        protocol=protocol_text(record),
        train_time=train_time(record),
        peak_memory=gib(record.memory.get("peak_rss_gib")),
        hardware=hardware(record.machine),
        command=record.command,
        record_id=record_id,
    )


def _unmeasured(system: SurveySystem) -> ReportRow:
    why = system.offline or "no record in results/ yet"
    return ReportRow(dataset=system.dataset, system=system.name, reported=system.reported, rerun=system.rerun,
                     corrected=system.corrected, measured=None, run=f"{NOT_MEASURED}: {why}",
                     weights=system.paper_weights, protocol="-", train_time="-", peak_memory="-", hardware="-",
                     command="-")


# ---- formatting of single values ----------------------------------------------------------------------------------

def protocol_text(record: Record) -> str:
    """`'inductive; 22,500 labels; test full (25,000)'`, or the labels note alone for a figure with no protocol."""
    protocol = record.protocol
    if protocol.setting == "n/a":
        return protocol.labels
    return f"{protocol.setting}; {protocol.labels} labels; test {protocol.test}"


def train_time(record: Record) -> str:
    """The training time, `'not recorded'` when measured-but-lost, `'-'` when the figure involves no training."""
    return duration(record.time["train_s"]) if "train_s" in record.time else "-"


def percent(value: float | None) -> str:
    """`0.9289` -> `'92.89%'`; None -> `'-'`."""
    return "-" if value is None else f"{100 * value:.2f}%".replace(".00%", "%")


def duration(seconds: float | None) -> str:
    """Seconds as a short duration: `'6.5 s'`, `'29 min'`, `'1.4 h'`; None -> `'not recorded'`."""
    if seconds is None:
        return "not recorded"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def gib(value: float | None) -> str:
    return "not recorded" if value is None else f"{value:.1f} GiB"


def hardware(machine: str) -> str:
    """The hardware part of a machine description (CPU, cores, GPU), without OS and Python versions."""
    parts = clean_machine(machine).split(", ")
    gpu = next((index for index, part in enumerate(parts) if "GPU" in part), None)
    return ", ".join(parts[: gpu + 1] if gpu is not None else parts[:2])


def short(weights: str) -> str:
    """The name part of a weights description (up to its first comma or parenthesis)."""
    cut = min((index for index in (weights.find(", "), weights.find(" (")) if index > 0), default=len(weights))
    return weights[:cut]


# ---- the table ----------------------------------------------------------------------------------------------------

COLUMNS = ("dataset", "system (survey)", "paper reported", "survey re-run", "corrected", "tfsenti", "tfsenti run",
           "weights", "protocol", "train time", "peak memory", "hardware", "command")


def _cells(row: ReportRow) -> list[str]:
    return [DATASETS.get(row.dataset, row.dataset), row.system, percent(row.reported), percent(row.rerun),
            percent(row.corrected), percent(row.measured) if row.measured is not None else NOT_MEASURED, row.run,
            row.weights, row.protocol, row.train_time, row.peak_memory, row.hardware, row.command]


def _footnotes(rows: list[ReportRow]) -> list[str]:
    keys = {row.system for row in rows}
    notes = []
    for system in SYSTEMS.values():
        if system.name in keys and (system.corrected_note or system.note):
            notes.append(f"{system.name}: {system.corrected_note or system.note}.")
    return notes


def format_markdown(rows: list[ReportRow], *, plots: Mapping[str, str] | None = None,
                    columns: Sequence[str] = COLUMNS) -> str:
    """The table as Markdown (the command in code spans) with the survey's notes and links to the plots;
    `columns` picks and orders the columns (names of COLUMNS)."""
    unknown = [name for name in columns if name not in COLUMNS]
    if unknown:
        raise ValueError(f"columns {unknown}: allowed are {', '.join(COLUMNS)}")
    escape = lambda text: text.replace("|", "\\|")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = dict(zip(COLUMNS, (escape(cell) for cell in _cells(row))))
        cells["command"] = f"`{cells['command']}`" if row.command != "-" else "-"
        lines.append("| " + " | ".join(cells[name] for name in columns) + " |")
    lines += ["", *(f"- {note}" for note in _footnotes(rows))]
    if plots:
        lines += ["", "Accuracy against training time, one point per run: " +
                  ", ".join(f"[{DATASETS.get(name, name)}]({path})" for name, path in plots.items()) + "."]
    return "\n".join(lines).rstrip() + "\n"


def format_text(rows: list[ReportRow]) -> str:
    """The table for a terminal: the figures in aligned columns, then each row's details by number."""
    head = ("#", "dataset", "system (survey)", "reported", "re-run", "corrected", "tfsenti", "train time",
            "peak memory")
    table = [head]
    for number, row in enumerate(rows, 1):
        cells = _cells(row)
        system = f"{row.run} (tfsenti's own)" if row.system == OWN else row.system
        table.append((str(number), cells[0], system, cells[2], cells[3], cells[4], cells[5], row.train_time,
                      row.peak_memory))
    widths = [max(len(line[column]) for line in table) for column in range(len(head))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("")
    for number, row in enumerate(rows, 1):
        if row.measured is None:
            lines.append(f"[{number}] {row.run}")
            continue
        lines.append(f"[{number}] {row.run}; weights: {row.weights}; {row.protocol}; {row.hardware}")
        lines.append(f"    {row.command}")
    lines += ["", *_footnotes(rows)]
    return "\n".join(lines).rstrip() + "\n"
