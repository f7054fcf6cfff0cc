"""The one pipeline: load data -> split -> fit -> evaluate (validation, then test once) -> export -> check reload.

The CLI is a thin layer over `train` and `evaluate_model`; recipes plug in through the registry.

Example:
    >>> from tfsenti.config import build_config
    >>> config = build_config("nbbon", "imdb", values={"data.limit_train": 2000, "data.limit_test": 500})
    >>> result = train(config)                                             # doctest: +SKIP
    >>> result.metrics["test"]["accuracy"] > 0.75                          # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from tfsenti import evaluation, export
from tfsenti.data import BadRows, TextDataset, get_spec, load_dataset
from tfsenti.errors import TfsentiError
from tfsenti.recipes import get_recipe_class
from tfsenti.runs import Run, log_evaluation, log_hparams

log = logging.getLogger("tfsenti")

PARITY_TOLERANCE = 1e-4  # max |p_exported - p_in_process|, checked on reload of every float32 export
# float16 / bfloat16 compute rounds every activation to 11 / 8 significant bits, and the export batches (pads) texts
# differently from in-process prediction, so the two roundings differ: a bfloat16 MiniLM measured 3.9e-4 on IMDB
HALF_PRECISION_PARITY_TOLERANCE = 5e-3


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    model_dir: Path
    metrics: dict[str, Any]


@dataclasses.dataclass
class PreparedData:
    """The splits one run uses: train and validation (carved from train), test, and optional unlabeled text."""

    train: TextDataset
    validation: TextDataset
    test: TextDataset
    unlabeled: TextDataset | None
    bad_rows: BadRows


def prepare_data(config, *, with_unlabeled: bool = False, progress: bool = True) -> PreparedData:
    """Load the dataset once and apply the limits, seeds and validation fraction of `config`.

    `with_unlabeled` also loads the dataset's unlabeled split (IMDB's 50k `unsup`) where it has one.
    """
    data, seed = config.data, config.train.seed
    splits = ["train", "test"]
    if with_unlabeled and "unsup" in get_spec(data.name).splits:
        splits.append("unsup")
    elif with_unlabeled:
        log.info("dataset %s has no unlabeled split; training without one", data.name)
    loaded = load_dataset(data.name, data_dir=data.data_dir, splits=splits, strict=data.strict, progress=progress)
    train_full, test = loaded["train"], loaded["test"]
    if data.limit_train:
        train_full = train_full.sample(data.limit_train, seed=seed)
    if data.limit_test:
        test = test.sample(data.limit_test, seed=seed + 1)
    train, validation = train_full.split_validation(data.validation_fraction, seed=seed)
    unlabeled = loaded["unsup"] if "unsup" in loaded else None
    return PreparedData(train, validation, test, unlabeled, loaded.bad_rows)


def train(config, *, runs_root: str | Path = "runs", models_root: str | Path = "saved_models",
          progress: bool = True) -> TrainResult:
    """Train, evaluate and export one model as described by `config` (a RunConfig)."""
    class_names = get_spec(config.data.name).class_names
    recipe = get_recipe_class(config.recipe)(config, num_classes=len(class_names))
    data = prepare_data(config, with_unlabeled=recipe.wants_unlabeled(), progress=progress)
    if len(data.bad_rows):
        log.warning("%s", data.bad_rows.summary())
    train_set, validation, test = data.train, data.validation, data.test

    run = Run.create(config, root=runs_root)
    log.info("run folder: %s (train %d, validation %d, test %d)", run.path, len(train_set), len(validation), len(test))
    started = time.perf_counter()
    fit_summary = recipe.fit(train_set, validation, unlabeled=data.unlabeled, log_dir=run.log_dir) or {}
    train_seconds = time.perf_counter() - started

    metrics: dict[str, Any] = {"train_seconds": train_seconds, "fit": fit_summary,
                               "sizes": {"train": len(train_set), "validation": len(validation), "test": len(test)},
                               "bad_rows": data.bad_rows.total}
    metrics["validation"] = _evaluate_split(recipe, validation, "validation", run.log_dir)
    started = time.perf_counter()
    metrics["test"] = _evaluate_split(recipe, test, "test", run.log_dir)  # read once, after every choice is made
    metrics["predict_seconds"] = time.perf_counter() - started
    run.write_metrics(metrics)
    log_hparams(run.log_dir, config, {f"validation_{k}": v for k, v in metrics["validation"].items()}
                | {f"test_{k}": v for k, v in metrics["test"].items()})

    metadata = {
        "dataset": config.data.name,
        "recipe": config.recipe,
        "class_names": list(train_set.class_names),
        "config": config.to_dict(),
        "metrics": {"validation": metrics["validation"], "test": metrics["test"]},
        "run_dir": str(run.path),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "signature": {"input": "text: tf.string [None]",
                      "outputs": "probabilities: float32 [None, C], label: int64 [None]"},
    }
    model_dir = export.publish(recipe.export, config.export_name, root=models_root, metadata=metadata)
    tolerance = parity_tolerance(recipe)
    difference = reload_difference(recipe, model_dir, test.texts[:64])
    metrics["export"] = {"path": str(model_dir), "max_abs_diff": difference, "tolerance": tolerance}
    run.write_metrics(metrics)  # before the verdict: a failed check must not lose the run's metrics
    if difference > tolerance:
        raise TfsentiError(f"The exported model at {model_dir} disagrees with the trained recipe: max |dp| = "
                           f"{difference:.2e} > {tolerance:g}. This is a bug in the recipe's export; the run's "
                           f"metrics are in {run.path}.")
    return TrainResult(run.path, model_dir, metrics)


def parity_tolerance(recipe) -> float:
    """Allowed max |p_exported - p_in_process|: PARITY_TOLERANCE, or HALF_PRECISION_PARITY_TOLERANCE for recipes
    that compute in float16 / bfloat16 (`params.precision`).

    Example:
        >>> from types import SimpleNamespace
        >>> parity_tolerance(SimpleNamespace(params=SimpleNamespace(precision="mixed_bfloat16")))
        0.005
    """
    precision = getattr(getattr(recipe, "params", None), "precision", "float32")
    return PARITY_TOLERANCE if precision == "float32" else HALF_PRECISION_PARITY_TOLERANCE


def reload_difference(recipe, model_dir: Path, texts: list[str]) -> float:
    """Reload the export and return max |p_exported - p_in_process| on `texts` plus an empty, a short and a Korean
    text."""
    sample = list(texts) + ["", "A short one.", "지루하고 별로였다"]
    expected = recipe.predict_proba(sample)
    got = export.predict_texts(export.load_model(model_dir), sample)["probabilities"]
    return float(np.abs(expected - got).max())


def evaluate_model(model_path: str | Path, *, data: str | None = None, data_dir: str | None = None,
                   split: str = "test", limit: int | None = None, seed: int = 1234,
                   log_dir: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Metrics of an exported SavedModel on a dataset split (by default the one it was trained for)."""
    metadata = export.read_metadata(model_path)
    name = data or metadata.get("dataset")
    if not name:
        raise TfsentiError(f"{model_path} has no tfsenti metadata naming its dataset; pass --data NAME.")
    dataset = load_dataset(name, data_dir=data_dir, splits=(split,), progress=progress)[split]
    if limit:
        dataset = dataset.sample(limit, seed=seed + 1)
    model = export.load_model(model_path)
    started = time.perf_counter()
    probabilities = export.predict_texts(model, dataset.texts)["probabilities"]
    seconds = time.perf_counter() - started
    metrics = evaluation.classification_metrics(dataset.labels, probabilities)
    metrics["predict_seconds"] = seconds
    if log_dir:
        log_evaluation(log_dir, f"evaluate-{split}", metrics,
                       confusion=evaluation.confusion_matrix(dataset.labels, probabilities.argmax(1),
                                                             probabilities.shape[1]),
                       class_names=dataset.class_names)
    return {"dataset": name, "split": split, "model": str(export.resolve_version(model_path)), **metrics}


def _evaluate_split(recipe, dataset: TextDataset, split: str, log_dir: Path) -> dict[str, float]:
    probabilities = recipe.predict_proba(dataset.texts)
    metrics = evaluation.classification_metrics(dataset.labels, probabilities)
    log_evaluation(
        log_dir, split, metrics,
        confusion=evaluation.confusion_matrix(dataset.labels, probabilities.argmax(1), probabilities.shape[1]),
        class_names=dataset.class_names,
        examples=evaluation.misclassified(dataset.texts, dataset.labels, probabilities, k=8),
    )
    return metrics
