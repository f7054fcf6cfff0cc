"""Shared Keras 3 training utilities: schedules, optimizer, precision, callbacks, resumable loop.

Modules (import the one you need; nothing heavy is imported here):
    schedules   linear warm-up then decay, one-cycle (LearningRateSchedule subclasses)
    optimizer   AdamW with clipping and gradient accumulation
    precision   float32 / mixed_float16 / mixed_bfloat16 policy as a context manager
    callbacks   TensorBoard scalars (learning rate included), step checkpoints
    loop        `fit_resumable`: epochs, checkpoint every N steps, resume mid-epoch, early stopping, best weights
"""
