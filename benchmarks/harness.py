"""What every benchmark shares: the machine description, the real data folders, the benchmark lock, peer
environments and the command line a record stores. Records themselves are written by `results_md.publish`.

Run benchmarks through the one entry point, which holds the lock while a script runs:
    .venv/bin/python -m benchmarks                      # list them
    .venv/bin/python -m benchmarks bert_accuracy --data imdb --limit-train 10000

Environment variables:
    TFSENTI_BENCH_LOCK: the lock file (default benchmarks/out/bench.lock, git-ignored); give every checkout on a
        machine the same one so that two benchmarks never share the CPUs.
    TFSENTI_PEER_PYTHON: the interpreter of the peer environment (default benchmarks/out/peer-venv/bin/python).

Example:
    >>> "cores" in machine() and set(cpu_flags()) <= set(SIMD_FLAGS)
    True
    >>> command("uda", ["--data", "amazon", "--note", "two words"])
    ".venv/bin/python -m benchmarks uda --data amazon --note 'two words'"
    >>> shared_data_dir("no-such-dataset") is None
    True
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"  # git-ignored: stores, notebooks, the lock, peer environments
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
FOLDERS = {"imdb": "imdb", "nsmc": "nsmc", "amazon": "amazon_polarity"}
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8",
              "amx_tile")
PEER_SETUP = ("python3.11 -m venv benchmarks/out/peer-venv && benchmarks/out/peer-venv/bin/pip install "
              "torch==2.13.0 transformers==4.57.6 safetensors numpy")


# -- the machine ---------------------------------------------------------------------------------------------------
def machine() -> str:
    """CPU model, core count, vector-instruction flags, OS and Python version, in one line."""
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    flags = cpu_flags()
    return (f"{cpu}, {os.cpu_count()} cores{' (' + ' '.join(flags) + ')' if flags else ''}, no GPU, "
            f"{platform.platform()}, Python {platform.python_version()}")


def cpu_flags(wanted: tuple[str, ...] = SIMD_FLAGS) -> list[str]:
    """Those of `wanted` (vector-instruction flags that change TensorFlow's speed) that /proc/cpuinfo lists."""
    try:
        line = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return []
    present = set(line.split(":", 1)[1].split())
    return [flag for flag in wanted if flag in present]


# -- data ----------------------------------------------------------------------------------------------------------
def shared_data_dir(name: str) -> str | None:
    """The shared folder of dataset `name` (`../shared/datasets/<folder>` beside the repository), or None when it is
    absent (the loaders then look elsewhere and say what to provide)."""
    path = SHARED_DATASETS / FOLDERS.get(name, name)
    return str(path) if path.is_dir() else None


# -- the lock ------------------------------------------------------------------------------------------------------
def lock_path() -> Path:
    """`$TFSENTI_BENCH_LOCK`, else benchmarks/out/bench.lock."""
    return Path(os.environ.get("TFSENTI_BENCH_LOCK") or OUT / "bench.lock").expanduser()


@contextlib.contextmanager
def benchmark_lock(path: str | Path | None = None) -> Iterator[Path]:
    """Hold the benchmark lock (an exclusive `flock`, released when the process ends, even killed); waits, saying
    so, while another benchmark holds it.

    Example:
        >>> import tempfile
        >>> with benchmark_lock(Path(tempfile.mkdtemp()) / "bench.lock") as held:
        ...     held.name
        'bench.lock'
    """
    path = Path(path) if path is not None else lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another benchmark holds {path}; waiting for it to finish ...", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- peers and commands --------------------------------------------------------------------------------------------
def peer_python() -> str:
    """The interpreter of the peer environment (PyTorch + transformers): `$TFSENTI_PEER_PYTHON`, else
    benchmarks/out/peer-venv/bin/python (made by `PEER_SETUP`)."""
    return os.environ.get("TFSENTI_PEER_PYTHON") or str(OUT / "peer-venv" / "bin" / "python")


def command(name: str, argv: Sequence[str]) -> str:
    """The command line a record stores for benchmark `name` run with `argv` (relative paths, no machine paths)."""
    return ".venv/bin/python -m benchmarks " + shlex.join([name, *argv])
