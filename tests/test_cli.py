"""The CLI end to end on a tiny NSMC-format dataset written on the spot: train -> evaluate -> predict."""

import json

import pytest
from click.testing import CliRunner

import cli
from toy_data import write_nsmc_folder


@pytest.fixture(scope="module")
def tiny_nsmc(tmp_path_factory):
    return write_nsmc_folder(tmp_path_factory.mktemp("nsmc"), train=200, test=60)


@pytest.fixture(scope="module")
def trained(tiny_nsmc, tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    result = CliRunner().invoke(cli.main, [
        "train", "--model", "nbbon", "--data", "nsmc", "--data-dir", str(tiny_nsmc), "--seed", "3",
        "--runs-dir", str(work / "runs"), "--models-dir", str(work / "saved_models"), "--name", "toy",
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return work, result.output


def test_train_writes_run_and_model(trained):
    work, output = trained
    assert "test accuracy" in output
    (run,) = (work / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.9
    assert {"accuracy", "macro_f1", "roc_auc"} <= set(metrics["validation"])
    assert metrics["train_seconds"] > 0 and metrics["export"]["max_abs_diff"] < 1e-4
    assert (work / "saved_models" / "toy" / "1" / "saved_model.pb").is_file()


def test_evaluate_saved_model(trained, tiny_nsmc):
    work, _ = trained
    result = CliRunner().invoke(cli.main, ["evaluate", str(work / "saved_models" / "toy"),
                                           "--data-dir", str(tiny_nsmc), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["dataset"] == "nsmc" and metrics["n"] == 60 and metrics["accuracy"] >= 0.9


def test_predict_from_arguments_file_and_stdin(trained, tmp_path):
    model = str(trained[0] / "saved_models" / "toy")
    runner = CliRunner()
    by_args = runner.invoke(cli.main, ["predict", model, "great wonderful superb", "awful boring terrible"])
    assert by_args.exit_code == 0, by_args.output
    first, second = by_args.stdout.strip().splitlines()
    assert first.startswith("positive") and second.startswith("negative")

    file = tmp_path / "texts.txt"
    file.write_text("최고 감동 재미있다\n", encoding="utf-8")
    by_file = runner.invoke(cli.main, ["predict", model, "--file", str(file), "--json"])
    assert json.loads(by_file.stdout)["label"] == "positive"

    by_stdin = runner.invoke(cli.main, ["predict", model], input="지루하다 최악 별로\n")
    assert by_stdin.stdout.startswith("negative")


def test_errors_are_one_clear_line(tiny_nsmc, tmp_path):
    runner = CliRunner()
    bad_key = runner.invoke(cli.main, ["train", "--model", "nbbon", "--data", "nsmc", "--data-dir", str(tiny_nsmc),
                                       "--set", "params.no_such=1"])
    assert bad_key.exit_code == 1 and "Unknown key(s) ['no_such']" in bad_key.output
    assert "Traceback" not in bad_key.output

    missing = runner.invoke(cli.main, ["train", "--model", "nbbon", "--data", "nsmc", "--data-dir", str(tmp_path)])
    assert missing.exit_code == 1 and "ratings_train.txt" in missing.output

    unknown = runner.invoke(cli.main, ["train", "--model", "nope", "--data", "imdb"])
    assert unknown.exit_code == 2 and "nbbon" in unknown.output

    pretrained = runner.invoke(cli.main, ["train", "--model", "nbbon", "--data", "nsmc", "--data-dir",
                                          str(tiny_nsmc), "--pretrained", "x"])
    assert pretrained.exit_code == 2 and "--pretrained has no meaning" in pretrained.output


def test_datasets_lists_every_known_dataset(tiny_nsmc):
    result = CliRunner().invoke(cli.main, ["datasets", "--data-dir", str(tiny_nsmc)])
    assert result.exit_code == 0, result.output
    for name in ("imdb", "nsmc", "amazon"):
        assert name in result.output


def test_help_teaches():
    result = CliRunner().invoke(cli.main, ["train", "--help"])
    assert "Examples:" in result.output and "--limit-train" in result.output


def test_trainable_flag_sets_the_tfhub_param_and_is_refused_elsewhere(tiny_nsmc, tmp_path, monkeypatch):
    import tfsenti.pipeline

    seen = {}

    class Result:
        metrics = {"test": {"accuracy": 0.5, "macro_f1": 0.5, "roc_auc": 0.5}, "train_seconds": 0.0}
        run_dir = model_dir = tmp_path

    def fake_train(config, **kwargs):
        seen["trainable"] = config.params.trainable
        return Result()

    monkeypatch.setattr(tfsenti.pipeline, "train", fake_train)
    runner = CliRunner()
    for flag, expected in (("--frozen", False), ("--trainable", True)):
        result = runner.invoke(cli.main, ["train", "--model", "tfhub", "--data", "nsmc", "--data-dir", str(tiny_nsmc),
                                          flag], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert seen.pop("trainable") is expected

    refused = runner.invoke(cli.main, ["train", "--model", "nbbon", "--data", "nsmc", "--data-dir", str(tiny_nsmc),
                                       "--frozen"])
    assert refused.exit_code == 2 and "--trainable/--frozen has no meaning" in refused.output
