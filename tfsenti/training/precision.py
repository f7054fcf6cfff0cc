"""Precision policy (`float32`, `mixed_float16`, `mixed_bfloat16`) as a context manager around model building.

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

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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
