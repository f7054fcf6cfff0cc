"""`fit_resumable`: epochs of `model.fit` with checkpoints every N steps, mid-epoch resume, early stopping and
the best weights on validation.

The training position is the optimizer's micro-batch counter; epoch `e` always sees the same batches in the same
order (`make_dataset(e)` must be deterministic), so a restarted run restores the newest checkpoint, skips the
batches it already trained on and continues exactly where it stopped.

Example:
    >>> import keras, numpy as np, tempfile, tensorflow as tf
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> model.compile(keras.optimizers.Adam(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> x = np.array([[0, 1], [1, 0]] * 8, "float32"); y = np.array([1, 0] * 8)
    >>> data = lambda epoch: tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    >>> score = lambda: float((model.predict(x, verbose=0).argmax(1) == y).mean())
    >>> result = fit_resumable(model, data, steps_per_epoch=4, epochs=3, evaluate=score,
    ...                        checkpoint_dir=tempfile.mkdtemp(), verbose=0)
    >>> result.best_score
    1.0
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from tfsenti.training.callbacks import ScalarLogger, StepCheckpointer
from tfsenti.training.optimizer import micro_steps

log = logging.getLogger("tfsenti")


@dataclasses.dataclass
class FitResult:
    """What happened: epochs trained, the validation score per epoch, the best one, and whether we resumed."""

    epochs_run: int
    scores: list[float]
    best_score: float | None
    best_epoch: int | None
    resumed_from_step: int
    stopped_early: bool
    steps_trained: int  # micro-batches trained in total (this run and the runs it resumed)


def fit_resumable(
    model,
    make_dataset: Callable[[int], object],
    *,
    steps_per_epoch: int,
    epochs: int,
    checkpoint_dir: str | Path,
    evaluate: Callable[[], float] | None = None,
    patience: int | None = None,
    checkpoint_every: int = 200,
    log_dir: str | Path | None = None,
    log_every: int = 20,
    callbacks: list | None = None,
    verbose: int | str = "auto",
) -> FitResult:
    """Train `model` (compiled) for `epochs`, resuming from `checkpoint_dir` if a previous run left a checkpoint.

    `evaluate()` returns a validation score (higher is better) after each epoch; the weights of the best epoch are
    kept (`checkpoint_dir/best.weights.h5`) and restored at the end (Keras restores the optimizer state of that
    epoch with them); `patience` epochs without improvement stop
    training. `make_dataset(epoch)` returns that epoch's batches, the same ones every time it is called.

    Under a multi-worker strategy (the one in scope) every worker reads `checkpoint_dir` (shared storage), only the
    chief writes it; the others write the same checkpoints into a temporary folder that is removed at the end.
    """
    from tfsenti.training.distribute import chief_or_temporary, worker_role

    checkpoint_dir = Path(checkpoint_dir)
    role = worker_role()
    if role.is_chief:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
    with chief_or_temporary(checkpoint_dir, is_chief=role.is_chief, prefix="tfsenti-worker-checkpoints-") as written:
        return _fit(model, make_dataset, steps_per_epoch=steps_per_epoch, epochs=epochs, read_dir=checkpoint_dir,
                    write_dir=written, evaluate=evaluate, patience=patience, checkpoint_every=checkpoint_every,
                    log_dir=log_dir, log_every=log_every, callbacks=callbacks, verbose=verbose)


def _fit(model, make_dataset, *, steps_per_epoch, epochs, read_dir: Path, write_dir: Path, evaluate, patience,
         checkpoint_every, log_dir, log_every, callbacks, verbose) -> FitResult:
    import numpy as np
    import tensorflow as tf

    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    # -- progress that must survive a restart, saved with the weights and the optimizer state
    evaluated_epochs = tf.Variable(0, dtype=tf.int64, trainable=False)
    best_score = tf.Variable(-np.inf, dtype=tf.float64, trainable=False)
    best_epoch = tf.Variable(-1, dtype=tf.int64, trainable=False)
    stale_epochs = tf.Variable(0, dtype=tf.int64, trainable=False)
    scores = tf.Variable(np.full(max(epochs, 1), np.nan), dtype=tf.float64, trainable=False)
    stopped = tf.Variable(False, trainable=False)  # early stopping happened: a restart trains no further
    state = tf.train.Checkpoint(model=model, optimizer=optimizer, evaluated_epochs=evaluated_epochs,
                                best_score=best_score, best_epoch=best_epoch, stale_epochs=stale_epochs,
                                scores=scores, stopped=stopped)
    manager = tf.train.CheckpointManager(state, str(write_dir / "steps"), max_to_keep=2)
    best_file, kept_best_file = write_dir / "best.weights.h5", read_dir / "best.weights.h5"  # the chief's: shared
    resumed_from, latest = 0, tf.train.latest_checkpoint(str(read_dir / "steps"))
    if latest:
        state.restore(latest).assert_existing_objects_matched()
        resumed_from = micro_steps(optimizer)
        log.info("resuming from %s at step %d (epoch %d)", latest, resumed_from, resumed_from // steps_per_epoch + 1)

    def save():
        manager.save(checkpoint_number=micro_steps(optimizer))

    extra = [StepCheckpointer(save, every=checkpoint_every)]
    if log_dir is not None:
        extra.append(ScalarLogger(log_dir, every=log_every))
    train_epoch = epoch_trainer(model, verbose=verbose)
    first_epoch = epochs if bool(stopped.numpy()) else int(evaluated_epochs.numpy())
    for epoch in range(first_epoch, epochs):
        done = micro_steps(optimizer) - epoch * steps_per_epoch
        if done < steps_per_epoch:
            dataset = make_dataset(epoch)
            if done > 0:
                dataset = dataset.skip(done)
            train_epoch(dataset, callbacks=extra + list(callbacks or []))
        if evaluate is not None:
            score = float(evaluate())
            measured = scores.numpy()
            measured[epoch] = score
            scores.assign(measured)  # the whole variable: a mirrored one cannot be assigned a slice
            log.info("epoch %d: validation score %.4f", epoch + 1, score)
            if score > best_score.numpy():
                best_score.assign(score)
                best_epoch.assign(epoch)
                stale_epochs.assign(0)
                model.save_weights(str(best_file))
            else:
                stale_epochs.assign_add(1)
        evaluated_epochs.assign(epoch + 1)
        if patience is not None and evaluate is not None and stale_epochs.numpy() >= patience:
            stopped.assign(epoch + 1 < epochs)
        save()
        if bool(stopped.numpy()):
            break
    steps_trained = micro_steps(optimizer)
    if evaluate is not None and kept_best_file.is_file() and \
            int(best_epoch.numpy()) != int(evaluated_epochs.numpy()) - 1:
        log.info("restoring the weights of epoch %d (best validation score)", int(best_epoch.numpy()) + 1)
        model.load_weights(str(kept_best_file))
    measured = [float(s) for s in scores.numpy()[: int(evaluated_epochs.numpy())]]
    return FitResult(
        epochs_run=int(evaluated_epochs.numpy()), scores=measured,
        best_score=float(best_score.numpy()) if evaluate is not None and np.isfinite(best_score.numpy()) else None,
        best_epoch=int(best_epoch.numpy()) + 1 if int(best_epoch.numpy()) >= 0 else None,
        resumed_from_step=resumed_from, stopped_early=bool(stopped.numpy()), steps_trained=steps_trained,
    )


def epoch_trainer(model, *, verbose: int | str = "auto") -> Callable:
    """`train_epoch(dataset, callbacks=[...])`: one pass of `model.train_step` over `dataset`.

    `model.fit` where it works. With several workers (MultiWorkerMirroredStrategy) Keras 3's `fit` fails: it
    reduces the input batch and the scalar logs over an axis they do not have (keras-team/keras#20329), so there the
    same `train_step` runs per replica under `strategy.run` (the optimizer all-reduces the gradients) and the
    callbacks get this worker's logs after every step.
    """
    import keras
    import tensorflow as tf

    from tfsenti.training.distribute import worker_role

    strategy = tf.distribute.get_strategy()
    if worker_role(strategy).count == 1:
        return lambda dataset, callbacks: model.fit(dataset, epochs=1, verbose=verbose, callbacks=callbacks)

    @tf.function(reduce_retracing=True)
    def step(batch):
        logs = strategy.run(model.train_step, args=(batch,))
        return {key: strategy.experimental_local_results(value)[0] for key, value in logs.items()}

    def train_epoch(dataset, callbacks):
        hooks = keras.callbacks.CallbackList(callbacks, model=model)
        hooks.on_train_begin()
        logs = {}
        for index, batch in enumerate(strategy.experimental_distribute_dataset(dataset)):
            logs = {key: float(value) for key, value in step(batch).items()}
            hooks.on_train_batch_end(index, logs)
        hooks.on_train_end(logs)
        if verbose:
            log.info("trained %d steps: %s", micro_steps(model.optimizer),
                     ", ".join(f"{key} {value:.4f}" for key, value in logs.items()))

    return train_epoch
