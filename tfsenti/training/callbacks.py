"""Keras callbacks for long runs: TensorBoard scalars with the learning rate, and checkpoints every N steps.

Example:
    >>> import tempfile
    >>> logger = ScalarLogger(tempfile.mkdtemp(), every=10)
    >>> logger.every
    10
"""

from __future__ import annotations

from pathlib import Path

import keras

from tfsenti.training.optimizer import micro_steps


class ScalarLogger(keras.callbacks.Callback):
    """Every `every` micro-batches, write `train/loss` (running epoch mean), `train/learning_rate` and any other
    logged metric to TensorBoard under `log_dir/train`, stepped by the optimizer's micro-batch counter."""

    def __init__(self, log_dir: str | Path, *, every: int = 20):
        super().__init__()
        self.log_dir, self.every = Path(log_dir), every
        self._writer = None

    def on_train_batch_end(self, batch, logs=None):
        import tensorflow as tf

        optimizer = self.model.optimizer
        step = micro_steps(optimizer)
        if step % self.every:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir / "train"))
        with self._writer.as_default():
            tf.summary.scalar("train/learning_rate", float(keras.ops.convert_to_numpy(optimizer.learning_rate)),
                              step=step)
            for key, value in (logs or {}).items():
                tf.summary.scalar(f"train/{key}", float(value), step=step)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()


class StepCheckpointer(keras.callbacks.Callback):
    """Call `save()` every `every` micro-batches (counted by the optimizer, so it survives restarts)."""

    def __init__(self, save, *, every: int):
        super().__init__()
        self.save, self.every = save, every

    def on_train_batch_end(self, batch, logs=None):
        if self.every and micro_steps(self.model.optimizer) % self.every == 0:
            self.save()
