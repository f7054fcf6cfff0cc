"""One line describing the machine a benchmark ran on, for the Machine: line of each docs/RESULTS.md section.

Example:
    >>> "cores" in machine()
    True
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """CPU model, core count, OS and Python version (this project's machines are shared and have no GPU)."""
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, no GPU, {platform.platform()}, "
            f"Python {platform.python_version()}")


SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8",
              "amx_tile")


def cpu_flags(wanted: tuple[str, ...] = SIMD_FLAGS) -> list[str]:
    """Those of `wanted` (vector-instruction flags that change TensorFlow's speed) that /proc/cpuinfo lists.

    Example:
        >>> set(cpu_flags()) <= set(SIMD_FLAGS)
        True
    """
    try:
        line = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return []
    present = set(line.split(":", 1)[1].split())
    return [flag for flag in wanted if flag in present]
