"""Training Signal Annealing (TSA, Xie et al. 2019): a labeled example whose correct-class probability is already
above the threshold eta_t is left out of the supervised loss, so that the few labeled examples are not memorised
before the unlabeled consistency signal has taught the model anything.

    eta_t = alpha_t * (1 - 1/K) + 1/K,   t = step / total_steps in [0, 1],  K = number of classes
    linear: alpha_t = t      log: alpha_t = 1 - exp(-5 t)      exp: alpha_t = exp(5 (t - 1))
    none:   eta_t = 1 (nothing is masked)

Example:
    >>> round(float(tsa_threshold("linear", 0.5, num_classes=2)), 4)
    0.75
    >>> round(float(tsa_threshold("exp", 1.0, num_classes=2)), 4), round(float(tsa_threshold("log", 0.0, 2)), 4)
    (1.0, 0.5)
"""

from __future__ import annotations

TSA_SCHEDULES = ("linear", "log", "exp", "none")
SCALE = 5.0  # the paper's (and google-research/uda's) constant in the log and exp schedules


def check_schedule(name: str) -> str:
    """Return `name` if it is a TSA schedule, else raise ValueError listing the options."""
    if name not in TSA_SCHEDULES:
        raise ValueError(f"Unknown TSA schedule {name!r}; choose one of {list(TSA_SCHEDULES)} "
                         "(e.g. --set params.tsa=linear, or params.tsa=none to switch TSA off).")
    return name


def tsa_alpha(schedule: str, progress):
    """alpha_t of `schedule` at `progress` (a float or tensor in [0, 1]; clipped)."""
    import keras

    check_schedule(schedule)
    t = keras.ops.clip(keras.ops.cast(progress, "float32"), 0.0, 1.0)
    if schedule == "linear":
        return t
    if schedule == "log":
        return 1.0 - keras.ops.exp(-t * SCALE)
    if schedule == "exp":
        return keras.ops.exp((t - 1.0) * SCALE)
    return keras.ops.ones_like(t)  # none


def tsa_threshold(schedule: str, progress, num_classes: int):
    """eta_t: examples whose correct-class probability exceeds it are masked out of the supervised loss."""
    import keras

    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, received {num_classes}.")
    alpha = tsa_alpha(schedule, progress)
    if schedule == "none":
        return keras.ops.ones_like(alpha)
    return alpha * (1.0 - 1.0 / num_classes) + 1.0 / num_classes
