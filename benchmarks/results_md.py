"""How a benchmark publishes a figure, and the lab notebook its investigation logs go to.

Publishing: build a `tfsenti.reporting.records.Record` and call `publish(record, "results/<name>.json")`: the record
is checked and written, then docs/RESULTS.md, docs/REPORT.md, README's table and the plots are rendered again from
results/ (`python -m tfsenti.reporting.render`). docs/RESULTS.md is never written section by section any more.

The notebook: `write_section` / `write_block` keep a benchmark's long Markdown logs (sweeps, grids) in
benchmarks/out/NOTEBOOK.md, which is git-ignored; a call aimed at docs/RESULTS.md goes there instead. Each benchmark
script owns a section, `<!-- section:NAME -->` ... `<!-- /section:NAME -->`. A script that runs once
per dataset (or per measurement) keeps blocks inside its section, `<!-- NAME:BLOCK -->` ... `<!-- /NAME:BLOCK -->`,
so that a run on one dataset replaces its own block and keeps the others. Files are replaced atomically (written
beside the target, then renamed), so an interrupted benchmark never leaves half a file.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "RESULTS.md"
    >>> write_block("dvcosine", "imdb", "93.7%", header="## dv-cosine", path=path)
    >>> write_block("dvcosine", "nsmc", "87.9%", header="## dv-cosine", path=path)
    >>> "93.7%" in path.read_text() and "87.9%" in path.read_text()
    True
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[1]
RENDERED = REPO / "docs" / "RESULTS.md"
NOTEBOOK = REPO / "benchmarks" / "out" / "NOTEBOOK.md"
RESULTS = NOTEBOOK  # the default of every writer below (the name older scripts import)


def publish(record, path: str | Path, *, results_md: str | Path | None = None) -> Path:
    """Write `record` (a tfsenti.reporting Record) to `path`; when `path` is in this checkout's results/, render
    docs/RESULTS.md and the report again from all the records. `results_md`: also write a RESULTS page of this
    record alone there (a quick check that leaves docs/ alone)."""
    from tfsenti.reporting.records import write_record
    from tfsenti.reporting.render import main as render
    from tfsenti.reporting.results_page import render_results_page

    path = write_record(record, path)
    if results_md is not None:
        _replace(Path(results_md), render_results_page({path.stem: record}))
    elif path.resolve().parent == (REPO / "results").resolve():
        render([])
    return path


def _target(path: Path) -> Path:
    """docs/RESULTS.md is rendered from results/: a notebook write aimed at it goes to the notebook."""
    if Path(path).resolve() == RENDERED.resolve():
        print(f"docs/RESULTS.md is rendered from results/; this section went to {NOTEBOOK.relative_to(REPO)} "
              "(publish a figure with results_md.publish)", file=sys.stderr)
        return NOTEBOOK
    return Path(path)


def write_section(section: str, markdown: str, *, path: Path = RESULTS) -> None:
    """Replace (or append) the whole section `section` with `markdown`."""
    path = _target(path)
    text = _read(path)
    new = f"<!-- section:{section} -->\n{markdown.strip()}\n<!-- /section:{section} -->"
    pattern = re.compile(rf"<!-- section:{re.escape(section)} -->.*?<!-- /section:{re.escape(section)} -->", re.S)
    text = pattern.sub(lambda _: new, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + new + "\n"
    _replace(path, text)


def write_block(section: str, name: str, markdown: str, *, header: str, path: Path = RESULTS,
                order: Sequence[str] = (), preamble: str = "") -> None:
    """Replace (or add) block `name` of `section`, keeping the section's other blocks.

    The section is rebuilt as `header`, then `preamble` (e.g. a summary table over the blocks), then the blocks:
    those named in `order` first, in that order, then the rest sorted by name (reruns never reshuffle it).
    """
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"block name {name!r}: use letters, digits, '_', '.' or '-'")
    path = _target(path)
    blocks = read_blocks(section, path=path)
    blocks[name] = markdown.strip()
    names = [n for n in order if n in blocks] + sorted(set(blocks) - set(order))
    body = "\n\n".join(f"<!-- {section}:{n} -->\n{blocks[n]}\n<!-- /{section}:{n} -->" for n in names)
    parts = [header.strip(), preamble.strip(), body]
    write_section(section, "\n\n".join(part for part in parts if part), path=path)


def read_blocks(section: str, *, path: Path = RESULTS) -> dict[str, str]:
    """The blocks currently inside `section`, by name (empty when the section or the file does not exist)."""
    text = _read(NOTEBOOK if Path(path).resolve() == RENDERED.resolve() else Path(path))
    match = re.search(rf"<!-- section:{re.escape(section)} -->(.*?)<!-- /section:{re.escape(section)} -->", text, re.S)
    if not match:
        return {}
    tag = re.escape(section)
    return dict(re.findall(rf"<!-- {tag}:([\w.-]+) -->\n(.*?)\n<!-- /{tag}:\1 -->", match.group(1), re.S))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else "# Results\n"


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
