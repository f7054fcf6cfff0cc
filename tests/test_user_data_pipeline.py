"""A user's own files through the CLI and the Python API: splits, classes, defaults, errors before any output."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from tfsenti import api, cli, export
from tfsenti.config import build_config
from tfsenti.errors import ConfigError, DataError

WORDS = {"1": ["awful", "broke", "refund", "terrible"], "3": ["okay", "average", "fine", "meh"],
         "5": ["great", "love", "perfect", "excellent"]}
KOREAN = {"neg": ["최악", "별로", "지루하다"], "pos": ["최고", "재미있다", "감동"]}
FILLER = ["the", "product", "it", "was", "and", "this", "item", "really"]


def write_reviews(path, n, *, seed, words=WORDS, columns=("title", "body", "stars"), filler=FILLER):
    """A CSV of n reviews whose class shows in its words; returns the path."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for index in range(n):
            label = list(words)[index % len(words)]
            body = " ".join(list(rng.choice(filler, 5)) + list(rng.choice(words[label], 2)))
            writer.writerow(([str(rng.choice(words[label]))] if len(columns) == 3 else []) + [body, label])
    return path


def run_cli(*args):
    return CliRunner().invoke(cli.main, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp("user-data")
    data = write_reviews(work / "reviews.csv", 240, seed=0)
    result = run_cli("train", "--model", "nbbon", "--data", data, "--text-column", "title", "--text-column",
                     "body", "--label-column", "stars", "--runs-dir", work / "runs", "--models-dir",
                     work / "saved_models")
    assert result.exit_code == 0, result.output
    return work, result.output


def test_train_on_a_csv_with_three_classes(trained):
    work, output = trained
    assert "export name: reviews-nbbon" in output and "config: configs/text-en/nbbon.yaml" in output
    model_dir = work / "saved_models" / "reviews-nbbon" / "1"
    metadata = export.read_metadata(model_dir)
    assert metadata["class_names"] == ["1", "3", "5"]
    assert "carved from" in metadata["splits"]["test"]["source"] and metadata["splits"]["test"]["size"] == 48
    (run,) = (work / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["sizes"] == {"train": 174, "validation": 18, "test": 48}
    assert metrics["test"]["accuracy"] >= 0.9 and "stratified" in metrics["splits"]["validation"]


def test_evaluate_a_holdout_file_prints_per_class_table(trained, tmp_path):
    work, _ = trained
    holdout = write_reviews(tmp_path / "holdout.csv", 60, seed=5, columns=("body", "stars"))
    result = run_cli("evaluate", work / "saved_models" / "reviews-nbbon", "--data", holdout, "--text-column",
                     "body", "--label-column", "stars", "--log-dir", tmp_path / "tb")
    assert result.exit_code == 0, result.output
    assert "precision" in result.output and "confusion matrix" in result.output
    assert list((tmp_path / "tb").rglob("events.out.tfevents*"))
    metrics = json.loads(run_cli("evaluate", work / "saved_models" / "reviews-nbbon", "--data", holdout,
                                 "--text-column", "body", "--label-column", "stars", "--json").stdout)
    assert metrics["n"] == 60 and metrics["class_names"] == ["1", "3", "5"]
    assert metrics["per_class"]["classes"]["3"]["support"] == 20
    assert np.array(metrics["confusion_matrix"]).sum() == 60


def test_predict_shows_class_names_and_api_agrees(trained):
    model_dir = trained[0] / "saved_models" / "reviews-nbbon"
    result = run_cli("predict", model_dir, "great love perfect", "awful broke refund")
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.strip().splitlines()] == ["5", "1"]
    model = api.load(model_dir)
    assert model.class_names == ("1", "3", "5")
    assert model.predict(["great love perfect", "okay fine meh"]) == ["5", "3"]
    assert model.predict_proba(["okay"]).shape == (1, 3)


def test_given_test_and_validation_files_and_unseen_test_label(tmp_path):
    train = write_reviews(tmp_path / "train.csv", 90, seed=1, columns=("body", "stars"))
    validation = write_reviews(tmp_path / "val.csv", 30, seed=2, columns=("body", "stars"))
    test = write_reviews(tmp_path / "test.csv", 30, seed=3, columns=("body", "stars"))
    with open(test, "a", encoding="utf-8") as handle:
        handle.write("a review with a class never trained on,4\n")
    result = api.train("nbbon", str(train), test=str(test), validation=str(validation), runs_dir=tmp_path / "runs",
                       models_dir=tmp_path / "models", progress=False)
    assert result.metrics["sizes"] == {"train": 90, "validation": 30, "test": 30}
    assert result.metrics["splits"]["test"].endswith("test.csv") and result.metrics["bad_rows"] == 1


def test_class_too_small_stops_before_anything_is_written(tmp_path):
    data = write_reviews(tmp_path / "reviews.csv", 40, seed=0, columns=("body", "stars"))
    with open(data, "a", encoding="utf-8") as handle:
        handle.write("the one review of its kind,2\n")
    result = run_cli("train", "--model", "nbbon", "--data", data, "--runs-dir", tmp_path / "runs", "--models-dir",
                     tmp_path / "models")
    assert result.exit_code != 0
    assert "class '2' has 1 example(s)" in result.output and "--test" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists() and not (tmp_path / "models").exists()


@pytest.mark.parametrize("flags, message", [
    (["--set", "data.validation_fraction=1.5"], "validation_fraction must be between 0 and 1"),
    (["--name", "../x"], "not a plain folder name"),
    (["--name", "/tmp/x"], "not a plain folder name"),
    (["--set", "data.limit_train=0"], "limit_train must be a positive number"),
])
def test_bad_settings_are_clear_errors(tmp_path, flags, message):
    data = write_reviews(tmp_path / "reviews.csv", 30, seed=0)
    result = run_cli("train", "--model", "nbbon", "--data", data, "--runs-dir", tmp_path / "runs", *flags)
    assert result.exit_code != 0 and message in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "runs").exists()


def test_defaults_follow_the_script_of_the_text(tmp_path):
    korean = write_reviews(tmp_path / "ko.csv", 40, seed=0, words=KOREAN, columns=("text", "label"),
                           filler=["영화", "배우", "정말", "그냥"])
    english = write_reviews(tmp_path / "en.csv", 40, seed=0, columns=("text", "label"))
    ko = build_config("nbbon", str(korean))
    en = build_config("nbbon", str(english))
    assert ko.config_file == "configs/text-ko/nbbon.yaml" and ko.params.char_ngrams == (1, 3)
    assert en.config_file == "configs/text-en/nbbon.yaml" and en.params.char_ngrams is None
    assert build_config("nbbon", str(korean), overrides=["params.char_ngrams=[2, 4]"]).params.char_ngrams == (2, 4)
    assert build_config("bert", str(korean)).train.pretrained == "bert_base_multi"


def test_api_and_cli_resolve_the_same_config(tmp_path):
    """The API reads configs/<data>/<model>.yaml as the CLI does (it used to skip it: 0.699 instead of 0.798)."""
    assert build_config("nbbon", "nsmc").params.char_ngrams == (1, 3)
    assert build_config("nbbon", "nsmc", default_file=False).params.char_ngrams is None
    from_api = api.build_run_config("nbbon", "nsmc", limit_train=100, params={"C": 0.5})
    result = run_cli("train", "--model", "nbbon", "--data", "nsmc", "--limit-train", "100", "--set", "params.C=0.5",
                     "--data-dir", tmp_path / "absent", "--runs-dir", tmp_path / "runs")
    assert result.exit_code != 0 and "ratings_train" in result.output  # stops at the data, after the config
    assert from_api.params.C == 0.5 and from_api.config_file == "configs/nsmc/nbbon.yaml"
    with pytest.raises(ConfigError, match="validation_fraction"):
        api.build_run_config("nbbon", "nsmc", overrides=["data.validation_fraction=0"])


def test_unknown_dataset_name_says_how_to_pass_a_file(tmp_path):
    result = run_cli("train", "--model", "nbbon", "--data", "yelp", "--runs-dir", tmp_path / "runs")
    assert result.exit_code != 0 and "--data reviews.csv" in result.output


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="missing.csv"):
        api.train("nbbon", str(tmp_path / "missing.csv"), runs_dir=tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists()


def test_tensorflow_start_up_noise_stays_out_of_the_output(trained):
    """No 'failed call to cuInit' and such on a machine without a GPU, unless --verbose."""
    model_dir = trained[0] / "saved_models" / "reviews-nbbon"
    completed = subprocess.run([sys.executable, "-m", "tfsenti", "predict", str(model_dir), "great"],
                               capture_output=True, text=True, timeout=300,
                               env={k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("5")
    for noise in ("cuInit", "cuda", "cpu_feature_guard", "oneDNN"):
        assert noise not in completed.stderr, completed.stderr
