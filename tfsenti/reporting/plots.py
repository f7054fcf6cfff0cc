"""One picture per dataset: test accuracy against training time, a point per run, the papers' figures as lines.

Drawn on `tfsenti.reporting.figures.new_figure` (an Agg canvas, no pyplot, no global backend switch), from the
records only.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from tfsenti.reporting.records import Protocol, Record
    >>> record = Record(name="NB-BON", what="NB-BON", recipe="nbbon", dataset="imdb", date="2026-11-29",
    ...     machine="2 cores", command="python cli.py train --model nbbon --data imdb", commit="f7d741e",
    ...     data="IMDB", protocol=Protocol("inductive", "25,000", "full (25,000)"),
    ...     metrics={"test_accuracy": 0.9188}, time={"train_s": 56.9}, memory={})
    >>> path = plot_accuracy_vs_time([record], "imdb", Path(tempfile.mkdtemp()) / "imdb.png")
    >>> path.read_bytes()[:4] == b"\\x89PNG"
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tfsenti.reporting.records import Record
from tfsenti.reporting.survey import DATASETS, systems_of


def plottable(records: Iterable[Record], dataset: str) -> list[Record]:
    """The records of `dataset` that have both a test accuracy and a training time."""
    return [record for record in records if record.dataset == dataset and record.test_accuracy is not None
            and record.time.get("train_s") is not None]


def plot_accuracy_vs_time(records: Iterable[Record], dataset: str, path: str | Path) -> Path:
    """Write the PNG for `dataset` to `path` (a log time axis; grey lines: the papers' reported figures)."""
    from tfsenti.reporting.figures import new_figure

    points = plottable(records, dataset)
    figure, axes = new_figure(8, 5, dpi=100)
    for rank, record in enumerate(sorted(points, key=lambda record: record.test_accuracy)):
        seconds, accuracy = record.time["train_s"], 100 * record.test_accuracy
        marker = "s" if record.protocol.setting == "transductive" else "o"
        axes.scatter([seconds / 60], [accuracy], marker=marker, s=40, zorder=3)
        # labels alternate above and below their points, so that systems of close accuracy stay readable
        axes.annotate(record.name, (seconds / 60, accuracy), textcoords="offset points",
                      xytext=(6, 4 if rank % 2 else -11), fontsize=8)
    styles = iter([":", "--", "-.", (0, (1, 3)), (0, (5, 3)), (0, (3, 1, 1, 1, 1, 1))])
    for system in systems_of(dataset):
        rerun = system.rerun if system.rerun != system.reported else None
        for value, kind in ((system.reported, "reported"), (rerun, "survey re-run"), (system.corrected, "corrected")):
            if value is not None:
                axes.axhline(100 * value, linestyle=next(styles, ":"), linewidth=1, color="grey",
                             label=f"{system.name}: {kind} {100 * value:.2f}%")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper left", bbox_to_anchor=(0, -0.13), fontsize=7, title="the papers' figures",
                    title_fontsize=7, frameon=False)
    if points:
        minutes = [record.time["train_s"] / 60 for record in points]
        axes.set_xlim(min(minutes) / 2, max(minutes) * 6)
    axes.set_xscale("log")
    axes.set_xlabel("training time (minutes, log scale)")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(f"{DATASETS.get(dataset, dataset)}: accuracy against training time "
                   "(circle: inductive, square: transductive)", fontsize=10)
    axes.grid(True, which="both", linewidth=0.3)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", bbox_inches="tight", metadata={"Software": None})
    return path
