"""The docstring examples of every tfsenti module run, as tests, with the suite's offline and temporary-cache set-up.

Heavy examples carry `# doctest: +SKIP` in the module; modules whose examples take more than ~10 s are `slow`.
One module: `.venv/bin/python -m pytest -q tests/test_doctests.py -k tfsenti.network`.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SLOW = {"tfsenti.embeddings.pair_sgd"}  # compiles its kernel on first use (about 20 s on 2 cores)


def module_names() -> list[str]:
    names = []
    for path in sorted((REPO / "tfsenti").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if "__pycache__" in parts or parts[-1] == "__main__":  # __main__ would run the CLI on import
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
                                  for name in module_names()])
def test_module_examples_run(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)


def test_a_failing_example_is_reported():
    module = type(importlib)("tfsenti_doctest_probe")
    module.__doc__ = ">>> 1 + 1\n3\n"
    runner = doctest.DocTestRunner()
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module, module.__name__):
        runner.run(test, out=report.append)
    assert runner.summarize(verbose=False).failed == 1 and "Expected:\n    3" in "".join(report)
