"""The `uda` recipe end to end on a tiny scratch BERT: labeled subset + unlabeled pool + augmentation cache +
UDA steps, TensorBoard scalars, mixed precision, and config errors. (The export contract is in test_contract.)"""

from pathlib import Path

import numpy as np
import pytest

from tfsenti.config import build_config
from tfsenti.errors import ConfigError
from tfsenti.recipes import get_recipe_class
from toy_data import toy_dataset

TINY = ["train.pretrained=scratch", "params.scratch_hidden_dim=32", "params.pooling=mean", "train.batch_size=8",
        "params.learning_rate=0.003", "params.sequence_length=24", "params.dropout=0.0", "params.verbose=0",
        "params.extra_unlabeled=null", "params.log_every=1"]


def _tags(folder: Path) -> set[str]:
    import tensorflow as tf

    tags = set()
    for path in folder.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            tags |= {value.tag for value in event.summary.value}
    return tags


@pytest.mark.slow
def test_uda_end_to_end_on_a_tiny_backbone(tmp_path):
    config = build_config("uda", "imdb", default_file=False, overrides=TINY + [
        "train.epochs=2", "params.train_steps=40", "params.labeled_per_class=15", "params.unsup_ratio=2",
        f"params.cache_dir={tmp_path / 'cache'}"])
    train, validation = toy_dataset(80, seed=1), toy_dataset(20, seed=2, prefix="val")
    unsup = toy_dataset(30, seed=4, prefix="unsup").without_labels()
    recipe = get_recipe_class("uda")(config, num_classes=2)
    assert recipe.wants_unlabeled()
    summary = recipe.fit(train, validation, unlabeled=unsup, log_dir=tmp_path / "run")

    assert summary["labeled"] == 30 and summary["unlabeled_pool"] == 50 + 30 and summary["unlabeled_batch"] == 16
    assert summary["steps"] == 40 and summary["rounds_run"] == 2 and "best_validation_accuracy" in summary
    held_out = toy_dataset(40, seed=3, prefix="test")
    probabilities = recipe.predict_proba(held_out.texts)
    assert probabilities.dtype == np.float32 and probabilities.shape == (40, 2)
    assert (probabilities.argmax(1) == held_out.labels).mean() >= 0.8
    tags = _tags(tmp_path / "run" / "train")
    for name in ("supervised_loss", "unsupervised_loss", "tsa_threshold", "tsa_masked_fraction",
                 "confidence_mask_fraction", "learning_rate", "loss"):
        assert f"train/{name}" in tags, (name, tags)
    # the augmented copies were cached: one folder with aligned files
    [cached] = list((tmp_path / "cache").glob("aug-*"))
    original = (cached / "original.txt").read_text(encoding="utf-8").splitlines()
    augmented = (cached / "augmented.txt").read_text(encoding="utf-8").splitlines()
    assert len(original) == len(augmented) == 80 and original != augmented


def test_uda_trains_under_mixed_float16_with_loss_scaling(tmp_path):
    import keras

    config = build_config("uda", "imdb", default_file=False, overrides=TINY + [
        "train.epochs=1", "params.train_steps=3", "params.labeled_per_class=4", "params.unsup_ratio=1",
        "params.precision=mixed_float16", f"params.cache_dir={tmp_path / 'cache'}"])
    recipe = get_recipe_class("uda")(config, num_classes=2)
    recipe.fit(toy_dataset(24, seed=1), None)
    assert {layer.dtype_policy.name for layer in recipe.model_.layers} >= {"mixed_float16"}
    assert isinstance(recipe.trainer_.optimizer, keras.optimizers.LossScaleOptimizer)
    assert int(recipe.trainer_.optimizer.iterations.numpy()) == 3
    probabilities = recipe.predict_proba(["great film", "awful film"])
    assert probabilities.dtype == np.float32 and np.isfinite(probabilities).all()
    assert keras.mixed_precision.global_policy().name == "float32"  # the policy did not leak


def test_supervised_only_arm_needs_no_unlabeled_text():
    config = build_config("uda", "imdb", default_file=False, overrides=TINY + ["params.unsup_ratio=0"])
    assert not get_recipe_class("uda")(config, num_classes=2).wants_unlabeled()


@pytest.mark.parametrize("override, message", [
    ("params.tsa=cosine", r"Unknown TSA schedule 'cosine'.*'linear', 'log', 'exp', 'none'"),
    ("params.augmentation=eda", r"Unknown augmentation 'eda'.*'tf_idf', 'uniform', 'back_translation'"),
    ("train.strategy=tpu_pod", r"train.strategy' must be one of \['default', 'mirrored', 'multi_worker'\]"),
    ("params.unsup_ratio=-1", r"unsup_ratio must be >= 0"),
])
def test_config_errors_name_the_options(override, message):
    with pytest.raises(ConfigError, match=message):
        build_config("uda", "imdb", default_file=False, overrides=[override])


def test_empty_unlabeled_pool_is_a_clear_error(tmp_path):
    config = build_config("uda", "imdb", default_file=False, overrides=TINY + [
        "params.labeled_per_class=null", "params.train_steps=2", f"params.cache_dir={tmp_path}"])
    with pytest.raises(ConfigError, match="pool is empty"):
        get_recipe_class("uda")(config, num_classes=2).fit(toy_dataset(16, seed=1), None)


def test_cli_flags_map_to_uda_params():
    from click.testing import CliRunner

    import cli

    result = CliRunner().invoke(cli.main, ["train", "--help"])
    assert "--labeled-per-class" in result.output and "--precision" in result.output
    result = CliRunner().invoke(cli.main, ["train", "--model", "nbbon", "--data", "imdb", "--labeled-per-class", "5"])
    assert result.exit_code != 0 and "labeled_per_class" in result.output


_MIRRORED = r"""
import sys, tempfile
import tfsenti
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tfsenti.config import build_config
from tfsenti.recipes import get_recipe_class
from toy_data import toy_dataset
overrides = sys.argv[1:] + ["train.epochs=1", "params.train_steps=3", "params.labeled_per_class=8",
                            "params.unsup_ratio=1", "train.strategy=mirrored",
                            f"params.cache_dir={tempfile.mkdtemp()}"]
recipe = get_recipe_class("uda")(build_config("uda", "imdb", default_file=False, overrides=overrides), num_classes=2)
recipe.fit(toy_dataset(40, seed=1), None)
probabilities = recipe.predict_proba(["great", "awful"])
print(recipe.trainer_.distribute_strategy.num_replicas_in_sync, int(recipe.trainer_.optimizer.iterations.numpy()),
      float(probabilities.sum()))
"""


@pytest.mark.slow
def test_uda_step_runs_under_a_mirrored_strategy_with_two_replicas():
    import os
    import subprocess
    import sys

    here = Path(__file__).resolve().parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(here.parent), str(here)]))
    completed = subprocess.run([sys.executable, "-c", _MIRRORED, *TINY], capture_output=True, text=True,
                               timeout=600, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    replicas, steps, total = completed.stdout.split()[-3:]
    assert (int(replicas), int(steps)) == (2, 3) and float(total) == pytest.approx(2.0, abs=1e-4)
