"""Shared training utilities: schedules, AdamW with gradient accumulation, precision policy, TensorBoard scalars,
and the resumable loop (best weights, early stopping), and the tf.distribute choices (strategy names, chief,
shard policies, refusals)."""

from __future__ import annotations

import json

import numpy as np
import pytest


def test_warmup_linear_decay_values():
    from tfsenti.training.schedules import WarmupLinearDecay

    schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    values = [float(schedule(step)) for step in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)
    assert WarmupLinearDecay.from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_one_cycle_rises_to_peak_then_anneals():
    from tfsenti.training.schedules import OneCycle, build_schedule

    schedule = OneCycle(1e-3, total_steps=100, warmup_fraction=0.3)
    values = np.array([float(schedule(step)) for step in range(101)])
    assert values[0] == pytest.approx(1e-3 / 25)
    assert values.argmax() == 30 and values.max() == pytest.approx(1e-3)
    assert np.all(np.diff(values[:31]) > 0) and np.all(np.diff(values[30:]) <= 0)
    assert values[-1] == pytest.approx(1e-7, abs=1e-9)
    assert isinstance(build_schedule("one_cycle", 1e-3, total_steps=10), OneCycle)
    assert build_schedule("constant", 0.1, total_steps=10) == 0.1
    with pytest.raises(ValueError, match="linear"):
        build_schedule("cosine", 1e-3, total_steps=10)


def _tiny_model(seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)])


def test_gradient_accumulation_equals_one_big_batch():
    """Two micro-batches of 4 accumulated = one update with the batch of 8 (same mean gradient)."""
    import keras

    from tfsenti.training.optimizer import build_optimizer, micro_steps

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.integers(0, 2, 8)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    big, small = _tiny_model(), _tiny_model()
    big.compile(build_optimizer(1e-2, clipnorm=None), loss)
    small.compile(build_optimizer(1e-2, clipnorm=None, accumulation_steps=2), loss)
    big.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    small.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(big.get_weights(), small.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert int(small.optimizer.iterations.numpy()) == 1 and micro_steps(small.optimizer) == 2
    with pytest.raises(ValueError, match="accumulation_steps"):
        build_optimizer(1e-3, accumulation_steps=0)


def test_precision_policy_is_scoped():
    import keras

    from tfsenti.training.precision import precision_policy

    with precision_policy("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
    assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match="mixed_float16"):
        with precision_policy("float8"):
            pass


def _event_scalars(folder):
    import tensorflow as tf

    found = {}
    for path in folder.rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    return found


def test_resumable_loop_keeps_best_epoch_stops_early_and_logs_learning_rate(tmp_path):
    import keras
    import tensorflow as tf

    from tfsenti.training.loop import fit_resumable
    from tfsenti.training.schedules import WarmupLinearDecay

    model = _tiny_model()
    model.compile(keras.optimizers.Adam(WarmupLinearDecay(0.05, total_steps=20, warmup_steps=4)),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(1).normal(size=(16, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    data = lambda epoch: tf.data.Dataset.from_tensor_slices((x, y)).batch(4)  # noqa: E731
    scores = iter([0.5, 0.9, 0.7, 0.6, 0.95])
    weights_at = {}

    def evaluate():
        weights_at[len(weights_at)] = [w.copy() for w in model.get_weights()]
        return next(scores)

    result = fit_resumable(model, data, steps_per_epoch=4, epochs=5, evaluate=evaluate, patience=2,
                           checkpoint_dir=tmp_path / "ckpt", checkpoint_every=2, log_dir=tmp_path / "logs",
                           log_every=1, verbose=0)
    assert (result.epochs_run, result.best_epoch, result.best_score, result.stopped_early) == (4, 2, 0.9, True)
    assert result.scores == [0.5, 0.9, 0.7, 0.6]
    for restored, best in zip(model.get_weights(), weights_at[1]):
        np.testing.assert_array_equal(restored, best)
    learning_rates = dict(_event_scalars(tmp_path / "logs")["train/learning_rate"])
    assert learning_rates[2] == pytest.approx(0.025) and learning_rates[4] == pytest.approx(0.05)

    # a finished run, started again, resumes at its end and trains nothing more
    again = fit_resumable(model, data, steps_per_epoch=4, epochs=5, evaluate=lambda: 0.0, patience=2,
                          checkpoint_dir=tmp_path / "ckpt", verbose=0)
    assert again.resumed_from_step == 16 and again.epochs_run == 4 and again.best_score == 0.9


# -- tfsenti.training.distribute ------------------------------------------------------------------------------------
def test_tf_config_names_the_chief_and_counts_workers():
    from tfsenti.training.distribute import WorkerRole, parse_tf_config

    cluster = {"worker": ["a:1", "b:1", "c:1"]}
    roles = [parse_tf_config(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}))
             for i in range(3)]
    assert roles == [WorkerRole(0, 3, True), WorkerRole(1, 3, False), WorkerRole(2, 3, False)]
    with_chief = {"chief": ["c:1"], "worker": ["a:1", "b:1"]}
    assert parse_tf_config(json.dumps({"cluster": with_chief, "task": {"type": "chief", "index": 0}})).is_chief
    worker0 = parse_tf_config(json.dumps({"cluster": with_chief, "task": {"type": "worker", "index": 0}}))
    assert worker0 == WorkerRole(1, 3, False)  # a cluster with a chief task: worker 0 is not the chief
    assert parse_tf_config("") == WorkerRole()


@pytest.mark.parametrize("text, message", [
    ("{not json", "not a valid cluster description"),
    ('{"cluster": {"worker": ["a:1"], "ps": ["b:1"]}, "task": {"type": "worker", "index": 0}}', r"\['ps'\]"),
])
def test_bad_tf_config_is_a_config_error(text, message):
    from tfsenti.errors import ConfigError
    from tfsenti.training.distribute import parse_tf_config

    with pytest.raises(ConfigError, match=message):
        parse_tf_config(text)


def test_only_the_chief_keeps_what_it_writes(tmp_path):
    from tfsenti.training.distribute import chief_or_temporary

    with chief_or_temporary(tmp_path / "runs", is_chief=True) as folder:
        assert folder == tmp_path / "runs"
    with pytest.raises(RuntimeError), chief_or_temporary(tmp_path / "runs", is_chief=False) as folder:
        assert folder != tmp_path / "runs" and folder.is_dir()
        (folder / "events").write_text("x")
        raise RuntimeError("a failed worker cleans up too")
    assert not folder.exists() and not (tmp_path / "runs").exists()


def test_shard_policy_is_chosen_per_input_kind():
    import tensorflow as tf

    from tfsenti.training.distribute import shard_by_policy

    policy = tf.data.experimental.AutoShardPolicy
    data = tf.data.Dataset.range(4)
    assert shard_by_policy(data, "generator").options().experimental_distribute.auto_shard_policy == policy.DATA
    assert shard_by_policy(data, "files").options().experimental_distribute.auto_shard_policy == policy.FILE
    with pytest.raises(ValueError, match="Unknown input kind 'rows'"):
        shard_by_policy(data, "rows")


@pytest.mark.parametrize("recipe, allowed", [("bert", True), ("uda", True), ("tfhub", True), ("ktrain", False),
                                             ("nbbon", False), ("dvcosine", False)])
def test_strategy_is_offered_to_keras_recipes_and_refused_with_a_reason_elsewhere(recipe, allowed):
    from tfsenti.api import build_run_config
    from tfsenti.errors import ConfigError

    if allowed:
        assert build_run_config(recipe, "imdb", strategy="mirrored").train.strategy == "mirrored"
    else:
        with pytest.raises(ConfigError, match=rf"not available for the {recipe} recipe: \w+.*--strategy default"):
            build_run_config(recipe, "imdb", strategy="mirrored")
    assert build_run_config(recipe, "imdb").train.strategy == "default"


def test_multi_worker_without_tf_config_and_batches_that_do_not_split_are_refused(monkeypatch):
    from tfsenti.config import build_config
    from tfsenti.errors import ConfigError
    from tfsenti.recipes.bert import BertRecipe
    from tfsenti.training.distribute import get_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="TF_CONFIG.*not set"):
        get_strategy("multi_worker")
    recipe = BertRecipe(build_config("bert", "imdb", default_file=False, overrides=["train.batch_size=6"]),
                        num_classes=2)
    assert recipe._micro_batch(2) == 6
    with pytest.raises(ConfigError, match="global batch and must split evenly over the 4 replicas.*multiple of 4"):
        recipe._micro_batch(4)


def test_cli_train_has_the_strategy_flag_and_says_the_batch_is_global():
    from click.testing import CliRunner

    import cli

    result = CliRunner().invoke(cli.main, ["train", "--help"], terminal_width=200)
    assert "--strategy [default|mirrored|multi_worker]" in result.output
    assert "global batch" in result.output and "TF_CONFIG" in result.output


def test_precision_auto_follows_native_bfloat16(monkeypatch, caplog):
    from tfsenti.recipes.bert import BertParams
    from tfsenti.training.precision import resolve_precision

    assert resolve_precision("auto", flags={"avx2", "avx512f"}) == "float32"
    assert resolve_precision("auto", flags={"avx2", "amx_bf16"}) == "mixed_bfloat16"
    with caplog.at_level("WARNING", logger="tfsenti"):
        assert resolve_precision("mixed_bfloat16", flags={"avx2"}) == "mixed_bfloat16"
    assert "emulated" in caplog.text and "slower than float32" in caplog.text
    monkeypatch.setenv("TFSENTI_CPU_FLAGS", "avx2 avx512_bf16")
    assert BertParams().precision == "mixed_bfloat16"
    monkeypatch.setenv("TFSENTI_CPU_FLAGS", "avx2")
    assert BertParams().precision == "float32" and BertParams(precision="mixed_float16").precision == "mixed_float16"
