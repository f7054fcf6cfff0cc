"""The one entry point of the benchmarks: list them, or run one under the benchmark lock.

    .venv/bin/python -m benchmarks                       # the benchmarks and what each measures
    .venv/bin/python -m benchmarks NAME [ARGS ...]       # run benchmarks/NAME.py with ARGS, holding the lock
    .venv/bin/python -m benchmarks --no-lock NAME ...    # a quick check that must not wait for the lock
    .venv/bin/python -m benchmarks NAME --help           # the benchmark's own options

A benchmark runs in its own process, exactly as `python benchmarks/NAME.py ARGS` would, with the lock
(`harness.lock_path()`: $TFSENTI_BENCH_LOCK or benchmarks/out/bench.lock) held until it ends, so two benchmarks
never share the CPUs. The exit status is the benchmark's.

Example:
    >>> "bert_accuracy" in available()
    True
    >>> main(["no_such_benchmark"])
    Traceback (most recent call last):
    ...
    SystemExit: Unknown benchmark 'no_such_benchmark'. Available: ...
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def available(folder: Path = FOLDER) -> dict[str, str]:
    """Runnable benchmarks (scripts with a `__main__` block) of `folder`, by name, with their first docstring line."""
    found = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) for node in tree.body):
            continue
        summary = " ".join((ast.get_docstring(tree) or "").split("\n\n", 1)[0].split())
        found[path.stem] = summary.split(". ", 1)[0].rstrip(".") if summary else ""
    return found


def run(name: str, args: Sequence[str], *, folder: Path = FOLDER, lock: bool = True,
        lock_file: Path | None = None) -> int:
    """Run benchmark `name` with `args` in a child process (holding the lock unless `lock=False`); its exit status."""
    try:  # `python -m benchmarks` from the repository: the package
        from benchmarks.harness import REPO, benchmark_lock
    except ModuleNotFoundError:  # this file loaded on its own (tests): benchmarks/ itself is on the path
        from harness import REPO, benchmark_lock

    benchmarks = available(folder)
    if name not in benchmarks:
        raise SystemExit(f"Unknown benchmark {name!r}. Available: {', '.join(benchmarks)}. "
                         "List them with `python -m benchmarks`.")
    argv = [sys.executable, str(folder / f"{name}.py"), *args]
    if not lock:
        return subprocess.run(argv, cwd=REPO, check=False).returncode
    with benchmark_lock(lock_file):
        return subprocess.run(argv, cwd=REPO, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lock = "--no-lock" not in argv[:1]
    argv = argv[1:] if not lock else argv
    if not argv or argv[0] in ("list", "-h", "--help"):
        width = max(map(len, available()), default=0)
        print(__doc__.split("\n\nExample:")[0].strip() + "\n\nBenchmarks:")
        for name, summary in available().items():
            print(f"  {name:<{width}}  {summary}")
        return 0
    return run(argv[0], argv[1:], lock=lock)


if __name__ == "__main__":
    raise SystemExit(main())
