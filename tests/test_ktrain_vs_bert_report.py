"""benchmarks/ktrain_vs_bert.py: runs of several seeds with the same settings add up to one verdict on the mean gap;
runs with other settings never join it."""

import argparse
import json
from pathlib import Path

import ktrain_vs_bert


def _args(tmp_path, **changes):
    values = dict(data="imdb", limit_train=4444, limit_test=None, epochs=1, batch_size=16, pretrained="minilm",
                  sequence_length=256, learning_rate=1e-4, recipes=["ktrain", "bert"], seed=1234,
                  results=str(tmp_path / "RESULTS.md"))
    values.update(changes)
    return argparse.Namespace(**values)


def _record(out: Path, recipe: str, seed: int, accuracy: float, *, limit_train: int = 4444) -> None:
    length_key = "maxlen" if recipe == "ktrain" else "sequence_length"
    config = {"data": {"name": "imdb", "limit_train": limit_train, "limit_test": None},
              "train": {"seed": seed, "epochs": 1, "batch_size": 16, "pretrained": "minilm"},
              "params": {length_key: 256, "learning_rate": 1e-4}}
    scores = {"accuracy": accuracy, "macro_f1": accuracy, "roc_auc": 0.95}
    metrics = {"train_seconds": 600.0, "predict_seconds": 1000.0, "test": scores, "validation": scores,
               "sizes": {"train": 4000, "validation": 444, "test": 25000}, "export": {"max_abs_diff": 0.0}}
    record = {"recipe": recipe, "config": config, "wall_seconds": 1800.0, "peak_rss_mib": 3000.0,
              "metrics": metrics, "command": f"bench --seed {seed}", "date": "2026-11-30", "machine": "test"}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{recipe}-seed{seed}.json").write_text(json.dumps(record), encoding="utf-8")


def _section(tmp_path) -> str:
    return (tmp_path / "RESULTS.md").read_text(encoding="utf-8")


def test_the_verdict_is_the_mean_gap_over_seeds(tmp_path):
    out = tmp_path / "out"
    _record(out, "ktrain", 1234, 0.8713)
    _record(out, "bert", 1234, 0.8776)
    ktrain_vs_bert.write_section(_args(tmp_path), out, {})
    assert "mean over 1 seed(s) -0.63 points" in _section(tmp_path) and "**missed**" in _section(tmp_path)

    _record(out, "ktrain", 7, 0.8801)
    _record(out, "bert", 7, 0.8790)
    ktrain_vs_bert.write_section(_args(tmp_path, seed=7), out, {})
    text = _section(tmp_path)
    assert "seed 7 +0.11, seed 1234 -0.63" in text
    assert "mean over 2 seed(s) -0.26 points" in text and "within 0.5): met" in text
    assert text.count("| ktrain | ") == 2 and text.count("| bert | ") == 2


def test_other_settings_and_unfinished_recipes(tmp_path):
    out = tmp_path / "out"
    _record(out, "ktrain", 1234, 0.8713)
    _record(out, "bert", 1234, 0.8776)
    _record(out, "ktrain", 5, 0.99, limit_train=2222)  # another comparison: must not join this one
    _record(out, "bert", 5, 0.50, limit_train=2222)
    _record(out, "ktrain", 9, 0.88)                     # bert of seed 9 failed
    ktrain_vs_bert.write_section(_args(tmp_path, seed=9), out, {"bert": "worker exited with status 1"})
    text = _section(tmp_path)
    assert "| bert | 9 | not finished: worker exited with status 1 |" in text
    assert "| 5 |" not in text
    assert "mean over 1 seed(s) -0.63 points" in text


def test_a_seed_where_every_recipe_failed_is_still_shown(tmp_path):
    out = tmp_path / "out"
    _record(out, "ktrain", 1234, 0.8713)
    _record(out, "bert", 1234, 0.8776)
    errors = {"ktrain": "worker exited with status 137", "bert": "worker exited with status 1"}
    ktrain_vs_bert.write_section(_args(tmp_path, seed=3), out, errors)
    text = _section(tmp_path)
    assert "| ktrain | 3 | not finished: worker exited with status 137 |" in text
    assert "| bert | 3 | not finished: worker exited with status 1 |" in text
    assert "mean over 1 seed(s) -0.63 points" in text
