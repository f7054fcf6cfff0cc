"""The ktrain recipe: a tiny checkpoint written on the spot -> converter -> ktrain's fit_onecycle -> ktrain's
predictor; the export's in-graph tokenization reproduces that predictor; lr-find writes its plot; offline errors."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from contract import PROBE_TEXTS
from test_ktrain_tokenizer import TRICKY
from tfsenti import export
from tfsenti.config import build_config
from tfsenti.errors import ConfigError, TfsentiError
from tfsenti.recipes import get_recipe_class
from tiny_hf_checkpoint import write_tiny_checkpoint
from toy_data import toy_dataset, write_nsmc_folder

EXPORT_TOLERANCE = 1e-5  # max |p_export - p_ktrain_predictor|: float32 noise only (padding is masked)
TINY = ["params.maxlen=32", "train.batch_size=8", "train.epochs=15", "params.learning_rate=0.003", "params.verbose=0"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny-bert") / "hf", seed=7)


@pytest.fixture(scope="module")
def fitted(checkpoint, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:  # module scope: conftest's per-test isolation is not active yet
        patch.setenv("TFSENTI_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("TFSENTI_OFFLINE", "1")
        return _fit(checkpoint, tmp_path_factory)


def _fit(checkpoint, tmp_path_factory):
    config = build_config("ktrain", "imdb", default_file=False, overrides=[f"train.pretrained={checkpoint}", *TINY])
    recipe = get_recipe_class("ktrain")(config, num_classes=2)
    run = tmp_path_factory.mktemp("run")
    summary = recipe.fit(toy_dataset(80, seed=1), toy_dataset(20, seed=2, prefix="val"), log_dir=run)
    return recipe, summary, run


def test_fit_onecycle_trains_the_converted_checkpoint(fitted):
    recipe, summary, run = fitted
    assert recipe.folder_.parent.name == "converted" and (recipe.folder_ / "tf_model.h5").is_file()
    held_out = toy_dataset(40, seed=3, prefix="test")
    probabilities = recipe.predict_proba(held_out.texts)
    assert probabilities.dtype == np.float32 and probabilities.shape == (40, 2)
    assert (probabilities.argmax(1) == held_out.labels).mean() >= 0.9
    assert summary["final_val_accuracy"] >= 0.9 and summary["steps"] == 15 * 10

    assert any((run / "ktrain").rglob("events.out.tfevents*")), "no TensorBoard events from fit"
    assert any((run / "ktrain" / "one_cycle").glob("events.out.tfevents*"))
    assert sorted(p.name for p in (run / "checkpoints").iterdir())[0].startswith("weights-01")


def test_one_cycle_schedule_rises_then_falls(fitted):
    import tensorflow as tf

    _, _, run = fitted
    (events,) = (run / "ktrain" / "one_cycle").glob("events.out.tfevents*")
    rates = [float(tf.make_ndarray(value.tensor)) for event in tf.compat.v1.train.summary_iterator(str(events))
             for value in event.summary.value if value.tag == "one_cycle/learning_rate"]
    assert len(rates) == 150
    peak = int(np.argmax(rates))
    assert 65 <= peak <= 85
    assert rates[0] == pytest.approx(0.0003, rel=0.05) and rates[peak] == pytest.approx(0.003, rel=0.05)
    assert rates[-1] < rates[0]


def test_export_tokenizes_in_graph_and_matches_ktrains_predictor(fitted, tmp_path):
    recipe, _, _ = fitted
    texts = PROBE_TEXTS + TRICKY + toy_dataset(30, seed=9).texts
    expected = np.asarray(recipe.predictor_.predict_proba(texts), np.float32)  # ktrain's own predictor
    model_dir = export.publish(recipe.export, "toy-ktrain", root=tmp_path)
    got = export.predict_texts(export.load_model(model_dir), texts)
    np.testing.assert_allclose(got["probabilities"], expected, atol=EXPORT_TOLERANCE)
    assert got["label"].tolist() == expected.argmax(1).tolist()
    assert not any(model_dir.rglob("*.sav")) and not any(model_dir.rglob("*.pkl"))  # nothing pickled


def test_lr_find_command_writes_plot_json_and_tensorboard_image(checkpoint, tmp_path):
    import cli

    folder = write_nsmc_folder(tmp_path / "nsmc", train=120, test=10)
    output = tmp_path / "lr"
    result = CliRunner().invoke(cli.main, [
        "lr-find", "--model", "ktrain", "--data", "nsmc", "--data-dir", str(folder), "--pretrained", str(checkpoint),
        "--batch-size", "8", "--set", "params.maxlen=32", "--set", "params.verbose=0", "--output-dir", str(output),
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "suggested learning rate:" in result.output
    assert (output / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curve = json.loads((output / "lr_find.json").read_text())
    assert len(curve["lrs"]) == len(curve["losses"]) >= 30 and curve["lrs"] == sorted(curve["lrs"])
    assert curve["lrs"][0] == pytest.approx(1e-7, rel=0.05)
    assert curve["lrs"][0] <= curve["suggested_lr"] <= curve["lrs"][-1]
    assert f"{curve['suggested_lr']:.2e}" in result.output

    import tensorflow as tf

    (events,) = (output / "lr_find").glob("events.out.tfevents*")
    tags = {value.tag for event in tf.compat.v1.train.summary_iterator(str(events)) for value in event.summary.value}
    assert {"lr_find/loss_vs_lr", "lr_find/loss", "lr_find/learning_rate"} <= tags


def test_lr_find_refuses_recipes_without_a_finder():
    import cli

    result = CliRunner().invoke(cli.main, ["lr-find", "--model", "nbbon", "--data", "imdb"])
    assert result.exit_code != 0 and "no learning-rate finder" in result.output


def test_a_model_name_offline_says_what_to_provide():
    config = build_config("ktrain", "imdb", default_file=False, overrides=["train.pretrained=bert-base-uncased", *TINY])
    recipe = get_recipe_class("ktrain")(config, num_classes=2)
    with pytest.raises(TfsentiError, match="bert-base-uncased.*local folder.*--pretrained minilm"):
        recipe.fit(toy_dataset(8, seed=1))


def test_maxlen_beyond_the_checkpoints_positions_is_refused(checkpoint):
    config = build_config("ktrain", "imdb", default_file=False, overrides=[f"train.pretrained={checkpoint}", *TINY,
                                                       "params.maxlen=512"])
    with pytest.raises(ConfigError, match="maxlen=512 exceeds the 64 positions"):
        get_recipe_class("ktrain")(config, num_classes=2).fit(toy_dataset(8, seed=1))


def test_memory_guard_refuses_before_preprocessing_and_names_a_batch_that_fits(checkpoint, tmp_path, monkeypatch):
    import re

    from tfsenti.bert import memory

    monkeypatch.setattr(memory, "available_memory_bytes",
                        lambda: int((memory.RUNTIME_BYTES + 8 * 2**20) / memory.USABLE_FRACTION))

    def recipe_with(batch_size):
        config = build_config("ktrain", "imdb", default_file=False, overrides=[
            f"train.pretrained={checkpoint}", *TINY, "params.maxlen=64", f"train.batch_size={batch_size}"])
        return get_recipe_class("ktrain")(config, num_classes=3)

    train = toy_dataset(30, seed=1, num_classes=3)
    with pytest.raises(memory.MemoryBudgetError) as raised:
        recipe_with(1024).fit(train, log_dir=tmp_path / "run")
    message = str(raised.value)
    assert message.startswith("ktrain: training would need about") and "micro-batch 1024 x length 64" in message
    assert "params.maxlen" in message and "GiB is available" in message
    assert not (tmp_path / "run" / "checkpoints").exists() and not (tmp_path / "run" / "ktrain").exists()
    batch = int(re.search(r"--batch-size (\d+) or smaller", message).group(1))
    assert 1 < batch < 1024

    fits, too_big = recipe_with(batch), recipe_with(batch + 1)
    fits.folder_ = too_big.folder_ = fits._checkpoint_folder(train.texts, None)
    fits._check_memory()  # the suggested batch passes the guard, one more does not
    with pytest.raises(memory.MemoryBudgetError):
        too_big._check_memory()


def test_three_classes_with_one_missing_from_training(checkpoint, tmp_path):
    """ktrain refuses integer labels that skip a class; the recipe's one-hot targets train a 3-output model anyway."""
    from tfsenti.data.dataset import TextDataset

    data = toy_dataset(24, seed=1, num_classes=3)
    present = np.flatnonzero(data.labels != 1)
    train = TextDataset([data.texts[i] for i in present], data.labels[present], class_names=data.class_names)
    config = build_config("ktrain", "imdb", default_file=False, overrides=[f"train.pretrained={checkpoint}", *TINY,
                                                                          "train.epochs=1", "params.checkpoints=false"])
    recipe = get_recipe_class("ktrain")(config, num_classes=3)
    recipe.fit(train, log_dir=tmp_path)
    probabilities = recipe.predict_proba(["great film", "awful film", ""])
    assert probabilities.shape == (3, 3) and recipe.model_.config.num_labels == 3
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
