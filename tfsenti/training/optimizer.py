"""AdamW with gradient clipping and gradient accumulation (big effective batches in small memory).

With `accumulation_steps=k`, Keras 3 averages the gradients of k micro-batches and applies them once; the schedule
then advances once per k micro-batches (`optimizer.iterations`), while `optimizer._iterations` counts micro-batches.

Example:
    >>> optimizer = build_optimizer(1e-3, accumulation_steps=4, clipnorm=1.0)
    >>> optimizer.gradient_accumulation_steps, optimizer.clipnorm
    (4, 1.0)
"""

from __future__ import annotations

import keras


def build_optimizer(learning_rate, *, weight_decay: float = 0.01, clipnorm: float | None = 1.0,
                    accumulation_steps: int = 1, epsilon: float = 1e-6):
    """AdamW (LayerNorm and bias weights excluded from decay, as in BERT)."""
    if accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be >= 1, received {accumulation_steps}.")
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate, weight_decay=weight_decay, epsilon=epsilon, clipnorm=clipnorm,
        gradient_accumulation_steps=accumulation_steps if accumulation_steps > 1 else None,
    )
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


def micro_step_counter(optimizer):
    """The variable counting micro-batches (equals `iterations` without accumulation); loss-scale wrappers are
    looked through."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return inner._iterations


def micro_steps(optimizer) -> int:
    """How many micro-batches the optimizer has seen."""
    return int(micro_step_counter(optimizer).numpy())
