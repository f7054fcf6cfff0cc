"""tfsenti.reporting: records round-trip and are checked field by field, the survey table, RESULTS.md and the plots
are rendered from the records only, and the committed rendered files are what the committed records give."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tfsenti.cli import main
from tfsenti.reporting import render
from tfsenti.reporting.records import (Protocol, Record, RecordError, clean_machine, dumps, load_record,
                                       load_records, record_from_json, write_record)
from tfsenti.reporting.report import format_markdown, format_text, survey_rows
from tfsenti.reporting.survey import SYSTEMS

REPO = Path(__file__).resolve().parents[1]


def make_record(**changes) -> Record:
    values = dict(
        name="NB-BON + dv-cosine, inductive", what="the ensemble", recipe="dvcosine", dataset="imdb",
        system="imdb/nbbon-dvcosine", date="2026-12-07", machine="AMD EPYC, 2 cores, no GPU, Linux, Python 3.11",
        command="python cli.py train --model dvcosine --data imdb", commit="0cd5f04", data="IMDB 22,500 / 25,000",
        protocol=Protocol("inductive", "22,500", "full (25,000)"), metrics={"test_accuracy": 0.9289},
        time={"train_s": 1758.0}, memory={"peak_rss_gib": 17.99})
    values.update(changes)
    return Record(**values)


def as_json(record: Record) -> dict:
    return json.loads(dumps(record))


# ---- records -----------------------------------------------------------------------------------------------------

def test_record_round_trip(tmp_path):
    record = make_record(rows=({"seed": 1, "test accuracy": 0.9}, {"seed": 2, "test accuracy": 0.8}),
                         notes="n", weights="proxy: MiniLM-L6")
    path = write_record(record, tmp_path / "imdb-dvcosine.json")
    assert load_record(path) == record
    assert load_records(tmp_path) == {"imdb-dvcosine": record}
    assert path.read_text(encoding="utf-8") == dumps(record)
    assert not [p for p in tmp_path.iterdir() if p.name != "imdb-dvcosine.json"]  # no partial file left


@pytest.mark.parametrize("change, field, allowed", [
    (lambda d: d.pop("command"), "command", "a non-empty string"),
    (lambda d: d["metrics"].update(test_accuracy=92.89), "metrics.test_accuracy", "a fraction in [0, 1]"),
    (lambda d: d["metrics"].update(test_accuracy="high"), "metrics.test_accuracy", "a finite number"),
    (lambda d: d["time"].update(train_minutes=3), "time.train_minutes", "keys ending in _s"),
    (lambda d: d["memory"].update(peak=3), "memory.peak", "keys ending in _gib or _mb"),
    (lambda d: d["protocol"].update(setting="semi"), "protocol.setting", "inductive | transductive | n/a"),
    (lambda d: d["protocol"].pop("test"), "protocol", "exactly setting, labels and test"),
    (lambda d: d.update(date="7 Dec"), "date", "an ISO date"),
    (lambda d: d.update(colour="red"), "colour", "the fields"),
    (lambda d: d.update(schema=0), "schema", "1"),
    (lambda d: d.update(rows=[{"a": 1}, {"b": 2}]), "rows", "the same keys"),
    (lambda d: d.update(command="python x.py --data-dir /work/shared/datasets"), "command", "relative paths"),
    (lambda d: d["protocol"].update(labels="see /home/me/notes"), "protocol.labels", "relative paths"),
])
def test_a_bad_record_names_the_file_and_the_field(tmp_path, change, field, allowed):
    data = as_json(make_record())
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RecordError) as raised:
        load_record(path)
    message = str(raised.value)
    assert str(path) in message and f"field {field!r}" in message and allowed in message


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  oops\n}', encoding="utf-8")
    with pytest.raises(RecordError, match=r"broken.json:3: not valid JSON"):
        load_record(path)


def test_write_record_refuses_a_bad_record(tmp_path):
    with pytest.raises(RecordError, match="metrics.test_accuracy"):
        write_record(make_record(metrics={"test_accuracy": 93.0}), tmp_path / "x.json")
    assert not list(tmp_path.iterdir())


def test_a_relative_data_path_is_allowed():
    record_from_json(as_json(make_record(command="python x.py --data-dir ../shared/datasets/imdb")))


def test_clean_machine_drops_notes_about_other_users():
    assert clean_machine("Intel Xeon, 2 cores (shared with other engineers' jobs), no GPU") == \
        "Intel Xeon, 2 cores, no GPU"


# ---- the survey table --------------------------------------------------------------------------------------------

def synthetic_records() -> dict[str, Record]:
    return {
        "imdb-dvcosine": make_record(),
        "imdb-dvcosine-transductive": make_record(
            name="NB-BON + dv-cosine, published protocol", metrics={"test_accuracy": 0.9337},
            protocol=Protocol("transductive", "22,500", "full (25,000)")),
        "imdb-ktrain": make_record(name="ktrain, MiniLM", recipe="ktrain", system="imdb/ktrain-bert",
                                   weights="proxy: MiniLM-L6 (6 layers)", metrics={"test_accuracy": 0.8711},
                                   protocol=Protocol("inductive", "4,000", "full (25,000)")),
        "nsmc-nbbon": make_record(name="NB-BON", recipe="nbbon", dataset="nsmc", system=None,
                                  metrics={"test_accuracy": 0.8778}, time={"train_s": 56.6}, memory={}),
        "nsmc-speed": make_record(name="speed only", recipe="predict", dataset="nsmc", system=None,
                                  metrics={"texts_per_s": 900.0}, protocol=Protocol("n/a", "n/a", "n/a")),
    }


def test_table_from_synthetic_records():
    rows = survey_rows(synthetic_records())
    by_run = {row.run: row for row in rows}
    dv = by_run["NB-BON + dv-cosine, inductive"]
    assert (dv.reported, dv.rerun, dv.corrected, dv.measured) == (0.9742, 0.97, 0.9368, 0.9289)
    assert dv.train_time == "29 min" and dv.peak_memory == "18.0 GiB" and dv.hardware == "AMD EPYC, 2 cores, no GPU"
    assert dv.protocol == "inductive; 22,500 labels; test full (25,000)"
    # inductive first, then the transductive run of the same system
    dv_rows = [row.run for row in rows if row.system == SYSTEMS["imdb/nbbon-dvcosine"].name]
    assert dv_rows == ["NB-BON + dv-cosine, inductive", "NB-BON + dv-cosine, published protocol"]
    assert by_run["ktrain, MiniLM"].weights == "proxy: MiniLM-L6 (paper: bert-base-uncased)"
    own = by_run["NB-BON"]
    assert own.system == "tfsenti's own" and own.reported is None and own.measured == 0.8778
    assert own.peak_memory == "not recorded"
    assert "speed only" not in by_run  # no accuracy: not a row of the survey table
    # every survey system has a row, in the survey's order, datasets in order
    assert [row.dataset for row in rows] == sorted([row.dataset for row in rows], key=["imdb", "nsmc", "amazon"].index)
    assert {row.system for row in rows} >= {system.name for system in SYSTEMS.values()}


def test_a_system_without_a_measurement_says_why():
    rows = survey_rows(synthetic_records(), datasets=["nsmc", "amazon"])
    kobert = next(row for row in rows if row.system == "KoBERT")
    assert kobert.measured is None and kobert.run.startswith("not measured: ")
    assert "not reachable offline" in kobert.run and kobert.reported == 0.89
    assert "not measured: KoBERT weights" in format_text(rows)
    assert "| not measured | not measured: KoBERT weights" in format_markdown(rows)


def test_an_unknown_survey_key_names_the_record():
    records = {"imdb-x": make_record(system="imdb/nonexistent")}
    with pytest.raises(RecordError, match=r"results/imdb-x.json.*'system'.*imdb/nbbon-dvcosine"):
        survey_rows(records)


def test_markdown_output():
    rows = survey_rows(synthetic_records(), datasets=["imdb"])
    text = format_markdown(rows, plots={"imdb": "report-imdb.png"})
    lines = text.splitlines()
    assert lines[0].startswith("| dataset | system (survey) | paper reported | survey re-run | corrected | tfsenti |")
    assert set(lines[1]) == {"|", "-"}
    assert all(line.count(" | ") == lines[0].count(" | ") for line in lines[2:2 + len(rows)])
    assert "| IMDB | NB-weighted bag of n-grams + dv-cosine | 97.42% | 97% | 93.68% | 92.89% |" in text
    assert "`python cli.py train --model dvcosine --data imdb`" in text
    assert "[IMDB](report-imdb.png)" in text and "feature-alignment bug" in text
    narrow = format_markdown(rows, columns=("dataset", "tfsenti"))
    assert narrow.splitlines()[2] == "| IMDB | 92.89% |"


def test_cli_report_from_a_results_folder(tmp_path):
    for record_id, record in synthetic_records().items():
        write_record(record, tmp_path / "results" / f"{record_id}.json")
    runner = CliRunner()
    text = runner.invoke(main, ["report", "--results", str(tmp_path / "results"), "--dataset", "imdb"])
    assert text.exit_code == 0, text.output
    assert "NB-weighted bag of n-grams + dv-cosine" in text.output and "KoBERT" not in text.output
    markdown = runner.invoke(main, ["report", "--results", str(tmp_path / "results"), "--format", "markdown",
                                    "--plots", str(tmp_path / "plots")])
    assert markdown.exit_code == 0, markdown.output
    assert markdown.output.startswith("# tfsenti against the survey") and "| NSMC | KoBERT |" in markdown.output
    for name in ("imdb", "nsmc", "amazon"):
        assert (tmp_path / "plots" / f"report-{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_report_names_a_bad_record(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({**as_json(make_record()), "metrics": {"test_accuracy": 92}}))
    result = CliRunner().invoke(main, ["report", "--results", str(tmp_path)])
    assert result.exit_code != 0 and "bad.json" in result.output and "metrics.test_accuracy" in result.output


def test_the_plot_is_written(tmp_path):
    paths = render.write_plots(synthetic_records(), tmp_path, ["imdb", "nsmc"])
    assert [path.name for path in paths] == ["report-imdb.png", "report-nsmc.png"]
    assert all(path.stat().st_size > 5000 and path.read_bytes()[:4] == b"\x89PNG" for path in paths)


# ---- the committed records and rendered files --------------------------------------------------------------------

def test_the_committed_records_all_load():
    records = load_records(REPO / "results")
    assert len(records) >= 15
    systems = {record.system for record in records.values()}
    assert {"imdb/nbbon-dvcosine", "imdb/ktrain-bert", "imdb/tfhub-nnlm", "amazon/uda"} <= systems
    survey_rows(records)  # every survey key is known


def test_the_committed_results_md_report_and_readme_are_rendered_from_the_records(tmp_path):
    records = load_records(REPO / "results")
    files = render.rendered_markdown(records, REPO / "docs", REPO / "README.md")
    for path, text in files.items():
        if path.name == "README.md":  # only the marked block is ours: compare that
            text, path_text = (render.README_BLOCK.search(item).group(0)
                               for item in (text, path.read_text(encoding="utf-8")))
            assert path_text == text, "README's results table is stale: python -m tfsenti.reporting.render"
        else:
            assert path.read_text(encoding="utf-8") == text, f"{path} is stale: python -m tfsenti.reporting.render"
    assert render.main(["--check"]) == 0


def test_report_markdown_is_docs_report_md():
    result = CliRunner().invoke(main, ["report", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == (REPO / "docs" / "REPORT.md").read_text(encoding="utf-8")


def test_results_md_is_short_and_carries_no_machine_paths_or_notes_about_other_users():
    text = (REPO / "docs" / "RESULTS.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 400
    for banned in ("/work/", "/tmp/", "/home/", "shared with other", "other engineers"):
        assert banned not in text, banned
