"""Will fine-tuning a transformer fit in memory? An estimate from batch size x sequence length x model size, checked
before training, with a setting that fits (smaller micro-batch + gradient accumulation, or a smaller batch) when it
will not. One guard, `guard_training_memory`, serves every recipe that trains a transformer: `bert`, `uda`, `tfhub`
with a trainable BERT-type module, `ktrain`.

Model: weights, gradients and the two Adam(W) moments in float32 (16 bytes per parameter, +4 with gradient
accumulation, +2 for low-precision copies under mixed precision), activations kept for the backward pass of each
layer (Korthikanti et al. 2022: 17·s·b·h + 2.5·a·s²·b values per layer, float32 or 16-bit), times a safety factor
for the runtime's temporaries, plus the fixed cost of the TensorFlow runtime.

Checked against the peak RSS of MiniLM (6 layers, hidden 384, 12 heads) fine-tuned at length 256 in float32 on a
CPU: the tfhub recipe (a `hub build` module) measured 3.36 / 4.97 GiB at batch 16 / 32 (estimated 3.49 / 5.44), the
ktrain recipe 3.14 / 5.03 GiB (estimated the same). So `train --model tfhub --data imdb` with the config's batch 512
(about 53 GiB by the measured slope, 64 estimated) is refused on a 24 GiB machine, suggesting `--batch-size 164`
(about 18 GiB by the measured slope), instead of being OOM-killed in its first epoch.

Example:
    >>> estimate = estimate_training_memory(num_parameters=22_700_000, num_layers=6, hidden_dim=384, num_heads=12,
    ...                                     micro_batch=16, sequence_length=128)
    >>> 1.5 < estimate.total_gib < 4
    True
    >>> check_fits(estimate, available_bytes=64 * 2**30, batch_size=16)   # fits: returns None
    >>> guard_training_memory(recipe="tfhub", num_parameters=22_700_000, num_layers=6, hidden_dim=384,
    ...                       num_heads=12, batch_size=512, sequence_length=256, accumulation_steps=None,
    ...                       budget_gib=24)                                # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tfsenti.bert.memory.MemoryBudgetError: tfhub: training would need about ... Use --batch-size 1...
"""

from __future__ import annotations

import dataclasses
import logging

from tfsenti.errors import TfsentiError

log = logging.getLogger("tfsenti")

GIB = 2**30
RUNTIME_BYTES = int(1.2 * GIB)  # TensorFlow + keras_hub imported, graphs traced (measured: ~0.8-1.2 GiB)
ACTIVATION_SAFETY = 1.5
USABLE_FRACTION = 0.9
BERT_ALTERNATIVES = "or shorten params.sequence_length, or use --set params.precision=mixed_bfloat16"


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


def bert_parameter_count(*, vocabulary_size: int, hidden_dim: int, num_layers: int, intermediate_dim: int,
                         max_positions: int, type_vocabulary_size: int = 2, num_classes: int = 2) -> int:
    """Parameters of a BERT encoder with its pooler and a `num_classes` head (from a config, before building it).

    Example:
        >>> bert_parameter_count(vocabulary_size=30522, hidden_dim=768, num_layers=12, intermediate_dim=3072,
        ...                      max_positions=512)   # bert-base-uncased + a 2-class head
        109483778
    """
    h, i = hidden_dim, intermediate_dim
    embeddings = (vocabulary_size + max_positions + type_vocabulary_size) * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    return embeddings + num_layers * layer + (h * h + h) + (h * num_classes + num_classes)


def available_memory_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def check_fits(estimate: MemoryEstimate, *, available_bytes: int, batch_size: int, rows_per_example: int = 1,
               can_accumulate: bool = True, alternatives: str = BERT_ALTERNATIVES, recipe: str | None = None) -> None:
    """Raise MemoryBudgetError, with the numbers and a setting that fits, when `estimate` will not fit.

    The setting: a micro-batch dividing `batch_size` with gradient accumulation (same effective batch) when the
    recipe can accumulate, else the largest `--batch-size` that fits. `rows_per_example` is how many sequences one
    example of the batch puts through the model (UDA: the labeled text plus 2 x unsup_ratio unlabeled ones).
    """
    usable = available_bytes * USABLE_FRACTION
    if estimate.total_bytes <= usable:
        return None
    fixed = estimate.parameter_bytes + estimate.runtime_bytes
    fitting_rows = int((usable - fixed) // estimate.per_example_activation_bytes) if usable > fixed else 0
    fitting = min(fitting_rows // rows_per_example, batch_size)
    if can_accumulate:
        divisors = [m for m in range(fitting, 0, -1) if batch_size % m == 0]
        if divisors:
            micro = divisors[0]
            advice = (f"Use a micro-batch of {micro} with gradient accumulation over {batch_size // micro} steps "
                      f"(same effective batch {batch_size}): --set params.accumulation_steps={batch_size // micro}; "
                      f"{alternatives}.")
        else:
            advice = None
    else:
        advice = (f"Use --batch-size {fitting} or smaller (train.batch_size is {batch_size}; this recipe has no "
                  f"gradient accumulation); {alternatives}.") if fitting >= 1 else None
    if advice is None:
        advice = (f"Even a batch of 1 does not fit: {alternatives.removeprefix('or ')}, choose a smaller "
                  "--pretrained model, or free memory.")
    prefix = f"{recipe}: training" if recipe else "Training"
    raise MemoryBudgetError(
        f"{prefix} would need about {estimate.describe()}, but only {available_bytes / GIB:.2f} GiB is available "
        f"({USABLE_FRACTION:.0%} usable). {advice} (Override the available memory with "
        "--set params.memory_budget_gib=N if the estimate is wrong for your machine.)")


def guard_training_memory(*, recipe: str, num_parameters: int, num_layers: int, hidden_dim: int, num_heads: int,
                          batch_size: int, sequence_length: int, accumulation_steps: int | None = 1,
                          rows_per_example: int = 1, precision: str = "float32", budget_gib: float | None = None,
                          alternatives: str = BERT_ALTERNATIVES) -> MemoryEstimate:
    """Estimate one training step of `recipe`'s transformer and refuse it (MemoryBudgetError) before training starts
    when it will not fit in `budget_gib` (params.memory_budget_gib) or, when None, the memory available now.

    `accumulation_steps=None`: the recipe cannot accumulate gradients, so the advice is a smaller batch. Returns the
    estimate (logged) when it fits.
    """
    micro_batch = batch_size // (accumulation_steps or 1)
    estimate = estimate_training_memory(
        num_parameters=num_parameters, num_layers=num_layers, hidden_dim=hidden_dim, num_heads=num_heads,
        micro_batch=micro_batch * rows_per_example, sequence_length=sequence_length,
        accumulation_steps=accumulation_steps or 1, precision=precision)
    budget = int(budget_gib * GIB) if budget_gib else available_memory_bytes()
    check_fits(estimate, available_bytes=budget, batch_size=batch_size, rows_per_example=rows_per_example,
               can_accumulate=accumulation_steps is not None, alternatives=alternatives, recipe=recipe)
    log.info("%s: memory estimate %s", recipe, estimate.describe())
    return estimate
