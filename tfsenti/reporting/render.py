"""Rewrite every rendered results file from the records: `python -m tfsenti.reporting.render [--check]`.

Writes docs/RESULTS.md, docs/REPORT.md (what `cli.py report --format markdown` prints), one PNG per dataset
(docs/report-<dataset>.png) and README.md's results table (between its `report:start` / `report:end` markers, nothing
else of README). `--check` writes nothing and exits 1 when a Markdown file differs from what the records give.

Example:
    >>> "docs" in str(default_docs_dir()) and default_results_dir().name == "results"
    True
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Iterable, Sequence

from tfsenti.reporting.plots import plot_accuracy_vs_time
from tfsenti.reporting.records import Record, RecordError, load_records
from tfsenti.reporting.report import COLUMNS, format_markdown, format_text, survey_rows
from tfsenti.reporting.results_page import render_results_page
from tfsenti.reporting.survey import DATASETS

REPO = Path(__file__).resolve().parents[2]
README_BLOCK = re.compile(r"(<!-- report:start -->\n).*?(<!-- report:end -->)", re.S)
REPORT_TITLE = """# tfsenti against the survey

The survey's systems per dataset: the paper's figure, the survey's re-run, a corrected published figure where one
exists, and tfsenti's measured figure with the weights, protocol, cost and command behind it. Rendered from
[`results/`](../results) by `python cli.py report --format markdown > docs/REPORT.md` (or
`python -m tfsenti.reporting.render`, which also writes the plots, RESULTS.md and README's copy of this table).
Details of every run: [RESULTS.md](RESULTS.md).
"""


def default_results_dir() -> Path:
    """results/ of this checkout (an editable install), else ./results."""
    return REPO / "results" if (REPO / "results").is_dir() else Path.cwd() / "results"


def default_docs_dir() -> Path:
    return REPO / "docs" if (REPO / "docs").is_dir() else Path.cwd() / "docs"


def plot_name(dataset: str) -> str:
    return f"report-{dataset}.png"


README_COLUMNS = tuple(name for name in COLUMNS if name not in ("hardware", "command"))


def report(records: dict[str, Record], *, datasets: Iterable[str] = tuple(DATASETS), fmt: str = "text") -> str:
    """The survey table for `datasets` as `fmt`: 'text' for a terminal, 'markdown' for docs/REPORT.md."""
    datasets = list(datasets)
    rows = survey_rows(records, datasets)
    if fmt == "text":
        return format_text(rows)
    if fmt != "markdown":
        raise ValueError(f"format {fmt!r}: use 'text' or 'markdown'")
    return REPORT_TITLE + "\n" + format_markdown(rows, plots={name: plot_name(name) for name in datasets})


def readme_table(records: dict[str, Record], docs_name: str = "docs") -> str:
    """README's copy of the report: the table without hardware and commands, which docs/REPORT.md holds."""
    rows = survey_rows(records)
    table = format_markdown(rows, plots={name: f"{docs_name}/{plot_name(name)}" for name in DATASETS},
                            columns=README_COLUMNS)
    return table + (f"\nHardware and the command behind every figure: [{docs_name}/REPORT.md]({docs_name}/REPORT.md); "
                    f"every run in detail: [{docs_name}/RESULTS.md]({docs_name}/RESULTS.md).\n")


def write_plots(records: dict[str, Record], folder: str | Path,
                datasets: Iterable[str] = tuple(DATASETS)) -> list[Path]:
    """One PNG per dataset in `folder`."""
    return [plot_accuracy_vs_time(records.values(), name, Path(folder) / plot_name(name)) for name in datasets]


def rendered_markdown(records: dict[str, Record], docs: Path, readme: Path) -> dict[Path, str]:
    """Every rendered Markdown file and its content."""
    files = {docs / "RESULTS.md": render_results_page(records),
             docs / "REPORT.md": report(records, fmt="markdown")}
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if not README_BLOCK.search(text):
            raise RecordError("has no results table markers; put `<!-- report:start -->` and `<!-- report:end -->` "
                              "on lines of their own where the table goes", path=str(readme))
        table = readme_table(records, docs.name)
        files[readme] = README_BLOCK.sub(lambda match: match.group(1) + table + match.group(2), text)
    return files


def _write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tfsenti.reporting.render", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=default_results_dir(), help="folder of the records")
    parser.add_argument("--docs", type=Path, default=default_docs_dir(), help="where RESULTS.md etc. go")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="README holding the table markers")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a Markdown file is stale")
    args = parser.parse_args(argv)
    records = load_records(args.results)
    files = rendered_markdown(records, args.docs, args.readme)
    if args.check:
        stale = [path for path, text in files.items()
                 if not path.is_file() or path.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"stale: {path} (run python -m tfsenti.reporting.render)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        _write(path, text)
        print(f"wrote {path}")
    for path in write_plots(records, args.docs):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
