"""benchmarks/: one entry point (`python -m benchmarks`) that lists the scripts and runs one under the lock; shared
helpers in benchmarks/harness.py; no machine paths in the scripts."""

from __future__ import annotations

import fcntl
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
LOCK_PROBE = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(0 if sys.argv[2:] == ["--flag", "two words"] else 4)  # held by the runner, arguments intact
sys.exit(3)  # the lock was free: nobody held it
"""


def entry_point():
    spec = importlib.util.spec_from_file_location("benchmarks_main", BENCHMARKS / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_probe(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "probe.py").write_text(f'"""Checks the lock. More text."""\n{LOCK_PROBE}\nif __name__ == "__main__":\n'
                                     "    pass\n", encoding="utf-8")
    (folder / "helper.py").write_text('"""A helper, not a benchmark."""\n', encoding="utf-8")


def test_the_list_holds_the_scripts_and_not_the_helpers():
    found = entry_point().available()
    assert {"bert_accuracy", "bert_throughput", "tfhub", "uda", "predict_streaming"} <= set(found)
    assert not {"harness", "results_md", "bert_results", "__main__", "__init__"} & set(found)
    assert all(found.values()), "every benchmark says in its docstring what it measures"


def test_a_benchmark_runs_with_its_arguments_while_the_lock_is_held(tmp_path):
    main = entry_point()
    write_probe(tmp_path / "scripts")
    lock = tmp_path / "bench.lock"
    assert main.available(tmp_path / "scripts") == {"probe": "Checks the lock"}
    args = [str(lock), "--flag", "two words"]
    assert main.run("probe", args, folder=tmp_path / "scripts", lock_file=lock) == 0
    assert main.run("probe", args, folder=tmp_path / "scripts", lock=False) == 3
    with open(lock, "a") as handle:  # released afterwards
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_the_lock_lives_in_the_ignored_out_folder_or_where_the_environment_says(monkeypatch, tmp_path):
    import harness

    monkeypatch.delenv("TFSENTI_BENCH_LOCK", raising=False)
    assert harness.lock_path() == BENCHMARKS / "out" / "bench.lock"
    monkeypatch.setenv("TFSENTI_BENCH_LOCK", str(tmp_path / "shared.lock"))
    assert harness.lock_path() == tmp_path / "shared.lock"
    monkeypatch.delenv("TFSENTI_PEER_PYTHON", raising=False)
    assert Path(harness.peer_python()).relative_to(BENCHMARKS / "out")
    monkeypatch.setenv("TFSENTI_PEER_PYTHON", "/opt/peer/bin/python")
    assert harness.peer_python() == "/opt/peer/bin/python"


def test_an_unknown_name_lists_the_benchmarks():
    with pytest.raises(SystemExit, match=r"Unknown benchmark 'nope'\. Available: .*bert_accuracy"):
        entry_point().main(["nope"])


def test_python_dash_m_benchmarks_lists_them():
    done = subprocess.run([sys.executable, "-m", "benchmarks"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "bert_throughput" in done.stdout and "--no-lock" in done.stdout


def test_no_script_carries_a_machine_path():
    machine_path = re.compile(r"(?<![\w.])/(tmp|work|home|root|Users|opt)/")
    found = [f"{path.name}:{number}: {line.strip()}" for path in sorted(BENCHMARKS.glob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if machine_path.search(line)]
    assert not found, "\n".join(found)
