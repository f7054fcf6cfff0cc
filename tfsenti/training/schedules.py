"""Learning-rate schedules: linear warm-up then linear decay, and one-cycle (warm-up, then cosine annealing).

Both are Keras 3 `LearningRateSchedule`s, serializable with `get_config`, evaluated at the optimizer's step.

Example:
    >>> schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    >>> [round(float(schedule(step)), 6) for step in (0, 5, 10, 55, 100)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    >>> one_cycle = OneCycle(1e-3, total_steps=100, warmup_fraction=0.3)
    >>> round(float(one_cycle(30)), 6), float(one_cycle(100)) < 1e-5
    (0.001, True)
"""

from __future__ import annotations

import math

import keras

SCHEDULES = ("linear", "one_cycle", "constant")


@keras.saving.register_keras_serializable(package="tfsenti")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """0 -> `peak` linearly over `warmup_steps`, then linearly down to `end` at `total_steps` (BERT's schedule)."""

    def __init__(self, peak: float, *, total_steps: int, warmup_steps: int = 0, end: float = 0.0):
        self.peak, self.total_steps, self.warmup_steps, self.end = peak, total_steps, warmup_steps, end

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = keras.ops.maximum(float(self.warmup_steps), 1.0)
        rising = self.peak * step / warmup
        decay_span = keras.ops.maximum(float(self.total_steps - self.warmup_steps), 1.0)
        progress = keras.ops.clip((step - self.warmup_steps) / decay_span, 0.0, 1.0)
        falling = self.peak + (self.end - self.peak) * progress
        return keras.ops.where(step < self.warmup_steps, rising, falling)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps,
                "end": self.end}


@keras.saving.register_keras_serializable(package="tfsenti")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Smith's one-cycle policy: `peak / div` -> `peak` linearly (warm-up), then cosine down to `peak / final_div`."""

    def __init__(self, peak: float, *, total_steps: int, warmup_fraction: float = 0.3, div: float = 25.0,
                 final_div: float = 1e4):
        self.peak, self.total_steps, self.warmup_fraction = peak, total_steps, warmup_fraction
        self.div, self.final_div = div, final_div

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = max(float(round(self.total_steps * self.warmup_fraction)), 1.0)
        start, end = self.peak / self.div, self.peak / self.final_div
        rising = start + (self.peak - start) * keras.ops.minimum(step / warmup, 1.0)
        progress = keras.ops.clip((step - warmup) / max(self.total_steps - warmup, 1.0), 0.0, 1.0)
        falling = end + (self.peak - end) * 0.5 * (1.0 + keras.ops.cos(math.pi * progress))
        return keras.ops.where(step < warmup, rising, falling)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_fraction": self.warmup_fraction,
                "div": self.div, "final_div": self.final_div}


def build_schedule(name: str, peak: float, *, total_steps: int, warmup_fraction: float = 0.1):
    """A schedule by name: `linear` (warm-up + linear decay), `one_cycle`, or `constant` (a float)."""
    if name == "linear":
        return WarmupLinearDecay(peak, total_steps=total_steps, warmup_steps=int(round(total_steps * warmup_fraction)))
    if name == "one_cycle":
        return OneCycle(peak, total_steps=total_steps, warmup_fraction=warmup_fraction or 0.3)
    if name == "constant":
        return peak
    raise ValueError(f"Unknown learning-rate schedule {name!r}; choose one of {list(SCHEDULES)}.")
