"""Precision policy (`float32`, `mixed_float16`, `mixed_bfloat16`) as a context manager around model building, and
`resolve_precision`, which turns `auto` into the precision that is fast on this machine's CPU.

Layers remember the policy they were built with, so only building needs the context. Keep the classifier head in
float32 (`dtype="float32"`) so that probabilities are float32.

Example:
    >>> import keras
    >>> with precision_policy("mixed_bfloat16"):
    ...     layer = keras.layers.Dense(2)
    >>> layer.compute_dtype, keras.mixed_precision.global_policy().name
    ('bfloat16', 'float32')
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of CPUs that compute bfloat16 natively
# benchmarks/bert_throughput.py on an AMD EPYC with AVX2 only (issue 33): MiniLM training, batch 16, length 128
EMULATED_BFLOAT16_COST = ("mixed_bfloat16 training ran at 0.15x the speed of PyTorch float32 where float32 ran at "
                          "0.85x, i.e. about 5.7 times slower than float32")

log = logging.getLogger("tfsenti")


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The feature flags of the first CPU listed in `cpuinfo` (empty where the file is absent, e.g. not Linux).

    `$TFSENTI_CPU_FLAGS` (space-separated flags) replaces the detection, e.g. where a container hides the host's
    /proc/cpuinfo, or to make `auto` choose the same on every machine (the test suite sets it to `avx2`).

    Example:
        >>> import os; os.environ["TFSENTI_CPU_FLAGS"] = "avx2 avx512_bf16"
        >>> sorted(cpu_flags())
        ['avx2', 'avx512_bf16']
        >>> del os.environ["TFSENTI_CPU_FLAGS"]
    """
    override = os.environ.get("TFSENTI_CPU_FLAGS")
    if override is not None:
        return set(override.split())
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.split(":", 1)[1].split()) if ":" in line else set()


def resolve_precision(name: str, flags: Iterable[str] | None = None) -> str:
    """The precision to train and predict in: `auto` becomes `mixed_bfloat16` where the CPU computes bfloat16
    natively (AVX512_BF16 or AMX), else `float32`; the choice is logged. An explicit `mixed_bfloat16` on a CPU
    without it is kept, with a warning giving the measured cost. (On GPUs pass `mixed_float16` yourself.)

    Example:
        >>> resolve_precision("auto", flags={"avx2", "avx512_bf16"}), resolve_precision("auto", flags={"avx2"})
        ('mixed_bfloat16', 'float32')
        >>> resolve_precision("mixed_float16", flags=set())
        'mixed_float16'
    """
    if name not in PRECISIONS + ("auto",):
        raise ValueError(f"Unknown precision {name!r}; choose one of {['auto', *PRECISIONS]}.")
    flags = cpu_flags() if flags is None else set(flags)
    native = sorted(flags & set(NATIVE_BFLOAT16_FLAGS))
    if name == "auto":
        chosen = "mixed_bfloat16" if native else "float32"
        log.info("precision auto -> %s (%s)", chosen, f"this CPU computes bfloat16 natively: {', '.join(native)}"
                 if native else "this CPU has no AVX512_BF16 or AMX: bfloat16 would be emulated")
        return chosen
    if name == "mixed_bfloat16" and not native:
        log.warning("precision mixed_bfloat16 on a CPU without AVX512_BF16 or AMX: bfloat16 is emulated here and "
                    "slow (measured on such a CPU: %s). Use --precision float32 (or auto).", EMULATED_BFLOAT16_COST)
    return name


@contextlib.contextmanager
def precision_policy(name: str):
    import keras

    if name not in PRECISIONS:
        raise ValueError(f"Unknown precision {name!r}; choose one of {list(PRECISIONS)}.")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
