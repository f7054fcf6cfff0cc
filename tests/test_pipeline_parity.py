"""The export parity check of `pipeline.train`: tolerance per precision, and a failed check keeps the run's metrics."""

import json
from types import SimpleNamespace

import pytest

from tfsenti import pipeline
from tfsenti.config import build_config
from tfsenti.errors import TfsentiError
from toy_data import write_nsmc_folder


def test_tolerance_follows_the_recipe_precision():
    def recipe(precision):
        return SimpleNamespace(params=SimpleNamespace(precision=precision))

    assert pipeline.parity_tolerance(recipe("float32")) == pipeline.PARITY_TOLERANCE == 1e-4
    for half in ("mixed_float16", "mixed_bfloat16"):
        assert pipeline.parity_tolerance(recipe(half)) == pipeline.HALF_PRECISION_PARITY_TOLERANCE
    assert pipeline.parity_tolerance(SimpleNamespace(params=SimpleNamespace(C=1.0))) == 1e-4  # no precision param


@pytest.fixture()
def tiny_nsmc(tmp_path):
    return write_nsmc_folder(tmp_path / "nsmc", train=120, test=40)


def test_failed_parity_check_raises_after_writing_the_metrics(tiny_nsmc, tmp_path, monkeypatch):
    config = build_config("nbbon", "nsmc", default_file=False, values={"data.data_dir": str(tiny_nsmc)})
    good = pipeline.train(config, runs_root=tmp_path / "runs", models_root=tmp_path / "models")
    assert good.metrics["export"]["max_abs_diff"] <= good.metrics["export"]["tolerance"] == 1e-4

    monkeypatch.setattr(pipeline, "reload_difference", lambda *args: 0.5)
    with pytest.raises(TfsentiError, match="max \\|dp\\| = 5.00e-01 > 0.0001") as failure:
        pipeline.train(config, runs_root=tmp_path / "runs2", models_root=tmp_path / "models")
    run_dir = next((tmp_path / "runs2").iterdir())
    assert str(run_dir) in str(failure.value)
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["export"]["max_abs_diff"] == 0.5 and "accuracy" in metrics["test"]
