"""Will fine-tuning fit in memory? An estimate from batch size x sequence length x model size, checked before
training, with a suggestion (smaller micro-batch + gradient accumulation, same effective batch) when it will not.

Model: weights, gradients and the two AdamW moments in float32 (16 bytes per parameter, +4 with gradient
accumulation, +2 for low-precision copies under mixed precision), activations kept for the backward pass of each
layer (Korthikanti et al. 2022: 17·s·b·h + 2.5·a·s²·b values per layer, float32 or 16-bit), times a safety factor
for the runtime's temporaries, plus the fixed cost of the TensorFlow runtime.

Example:
    >>> estimate = estimate_training_memory(num_parameters=22_700_000, num_layers=6, hidden_dim=384, num_heads=12,
    ...                                     micro_batch=16, sequence_length=128)
    >>> 1.5 < estimate.total_gib < 4
    True
    >>> check_fits(estimate, available_bytes=64 * 2**30, batch_size=16)   # fits: returns None
"""

from __future__ import annotations

import dataclasses

from tfsenti.errors import TfsentiError

GIB = 2**30
RUNTIME_BYTES = int(1.2 * GIB)  # TensorFlow + keras_hub imported, graphs traced (measured: ~0.8-1.2 GiB)
ACTIVATION_SAFETY = 1.5
USABLE_FRACTION = 0.9


class MemoryBudgetError(TfsentiError, MemoryError):
    """Training would not fit in memory; the message gives the numbers and a setting that fits."""


@dataclasses.dataclass(frozen=True)
class MemoryEstimate:
    parameter_bytes: int
    activation_bytes: int
    runtime_bytes: int
    micro_batch: int
    sequence_length: int
    accumulation_steps: int
    precision: str
    per_example_activation_bytes: float

    @property
    def total_bytes(self) -> int:
        return self.parameter_bytes + self.activation_bytes + self.runtime_bytes

    @property
    def total_gib(self) -> float:
        return self.total_bytes / GIB

    def describe(self) -> str:
        return (f"{self.total_gib:.2f} GiB = parameters+optimizer {self.parameter_bytes / GIB:.2f} GiB + "
                f"activations {self.activation_bytes / GIB:.2f} GiB (micro-batch {self.micro_batch} x "
                f"length {self.sequence_length}, {self.precision}) + runtime {self.runtime_bytes / GIB:.2f} GiB")


def estimate_training_memory(*, num_parameters: int, num_layers: int, hidden_dim: int, num_heads: int,
                             micro_batch: int, sequence_length: int, accumulation_steps: int = 1,
                             precision: str = "float32") -> MemoryEstimate:
    """Peak resident memory of one fine-tuning step (see the module docstring for the model)."""
    per_parameter = 16 + (4 if accumulation_steps > 1 else 0) + (2 if precision != "float32" else 0)
    value_bytes = 4 if precision == "float32" else 2.2
    s, h, a = sequence_length, hidden_dim, num_heads
    per_example = num_layers * (17 * s * h + 2.5 * a * s * s) * value_bytes * ACTIVATION_SAFETY
    return MemoryEstimate(
        parameter_bytes=int(num_parameters * per_parameter), activation_bytes=int(per_example * micro_batch),
        runtime_bytes=RUNTIME_BYTES, micro_batch=micro_batch, sequence_length=sequence_length,
        accumulation_steps=accumulation_steps, precision=precision, per_example_activation_bytes=per_example)


def available_memory_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def check_fits(estimate: MemoryEstimate, *, available_bytes: int, batch_size: int) -> None:
    """Raise MemoryBudgetError, with the numbers and a micro-batch/accumulation that fits, when it will not fit."""
    usable = available_bytes * USABLE_FRACTION
    if estimate.total_bytes <= usable:
        return None
    fixed = estimate.parameter_bytes + estimate.runtime_bytes
    fitting = int((usable - fixed) // estimate.per_example_activation_bytes) if usable > fixed else 0
    divisors = [m for m in range(min(fitting, batch_size), 0, -1) if batch_size % m == 0]
    if divisors:
        micro = divisors[0]
        advice = (f"Use a micro-batch of {micro} with gradient accumulation over {batch_size // micro} steps "
                  f"(same effective batch {batch_size}): --set params.accumulation_steps={batch_size // micro}; "
                  "or shorten params.sequence_length, or use --set params.precision=mixed_bfloat16.")
    else:
        advice = ("Even a micro-batch of 1 does not fit: shorten params.sequence_length, choose a smaller "
                  "--pretrained model, or free memory.")
    raise MemoryBudgetError(
        f"Training would need about {estimate.describe()}, but only {available_bytes / GIB:.2f} GiB is available "
        f"({USABLE_FRACTION:.0%} usable). {advice} (Override the available memory with "
        "--set params.memory_budget_gib=N if the estimate is wrong for your machine.)")
