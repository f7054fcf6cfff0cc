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
from tfsenti.data.user_files import UserDataOptions, carve_split, is_user_data, load_user_data
from tfsenti.errors import DataError, TfsentiError
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
    """The splits one run uses: train and validation (carved from train), test, and optional unlabeled text.

    `origins` says where each split came from (a file, or how it was carved), for the run's output and metadata.
    """

    train: TextDataset
    validation: TextDataset
    test: TextDataset
    unlabeled: TextDataset | None
    bad_rows: BadRows
    origins: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.train.class_names


def prepare_data(config, *, with_unlabeled: bool = False, progress: bool = True) -> PreparedData:
    """Load the data once and apply the limits, seeds and split fractions of `config`.

    A known dataset (imdb, nsmc, amazon) gives its train and test splits, validation carved from train; a user's own
    file or folder gives its splits from `data.test` / `data.validation` files or carves them (seeded, stratified).
    `with_unlabeled` also loads a known dataset's unlabeled split (IMDB's 50k `unsup`) where it has one. Every class
    must appear in every split: otherwise a DataError names the class and the counts, before anything is written.
    """
    if is_user_data(config.data.name):
        prepared = _prepare_user_data(config, progress=progress)
    else:
        prepared = _prepare_known_dataset(config, with_unlabeled=with_unlabeled, progress=progress)
    check_splits(prepared, config.data.name)
    return prepared


def _prepare_user_data(config, *, progress: bool) -> PreparedData:
    data, seed = config.data, config.train.seed
    options = UserDataOptions(text_columns=data.text_columns, label_column=data.label_column,
                              delimiter=data.delimiter)
    loaded = load_user_data(data.name, test=data.test, validation=data.validation, options=options,
                            strict=data.strict, progress=progress)
    full = loaded.splits["train"]
    origins = {"train": str(loaded.sources.get("train", data.name))}
    if "test" in loaded.splits:
        test = loaded.splits["test"]
        origins["test"] = str(loaded.sources.get("test", data.test))
    else:
        full, test = carve_split(full, data.test_fraction, seed=seed, name="test", source=data.name)
        origins["test"] = (f"carved from {data.name}: {data.test_fraction:.0%} of its rows, stratified by class, "
                           f"seed {seed} (pass --test FILE to use your own)")
    if data.limit_train:
        full = full.sample(data.limit_train, seed=seed)
    if "validation" in loaded.splits:
        train, validation = full, loaded.splits["validation"]
        origins["validation"] = str(loaded.sources.get("validation", data.validation))
    else:
        train, validation = carve_split(full, data.validation_fraction, seed=seed, name="validation",
                                        source=origins["train"])
        origins["validation"] = (f"carved from the training rows: {data.validation_fraction:.0%}, stratified by "
                                 f"class, seed {seed}")
    if data.limit_test:
        test = test.sample(data.limit_test, seed=seed + 1)
    return PreparedData(train, validation, test, None, loaded.bad_rows, origins)


def check_splits(prepared: PreparedData, source: str) -> None:
    """Raise DataError when a split is empty or a class has no example in train, validation or test.

    Example:
        >>> ds = TextDataset(["a", "b"], [0, 1])
        >>> check_splits(PreparedData(ds, ds, ds.subset([0]), None, BadRows()), "toy")
        Traceback (most recent call last):
        ...
        tfsenti.errors.DataError: toy: class 'positive' has no example in the test split (train 1, validation 1, test 0 examples of it). Every class needs examples in train, validation and test: add examples of that class, drop it from the data, or give the splits as files (--test FILE, --validation FILE).
    """
    splits = {"train": prepared.train, "validation": prepared.validation, "test": prepared.test}
    for name, split in splits.items():
        if not len(split):
            raise DataError(f"the {name} split is empty; it needs examples of every class. Give more data, a "
                            "smaller --limit, or the split as a file.", path=source)
    counts = {name: split.label_counts() for name, split in splits.items()}
    for class_name in prepared.class_names:
        for name in splits:
            if not counts[name].get(class_name):
                found = ", ".join(f"{split} {counts[split].get(class_name, 0)}" for split in splits)
                raise DataError(
                    f"class {class_name!r} has no example in the {name} split ({found} examples of it). Every "
                    "class needs examples in train, validation and test: add examples of that class, drop it from "
                    "the data, or give the splits as files (--test FILE, --validation FILE).", path=source)


def _prepare_known_dataset(config, *, with_unlabeled: bool, progress: bool) -> PreparedData:
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
    origins = {"train": f"{data.name} train split", "test": f"{data.name} test split",
               "validation": f"carved from the training rows: {data.validation_fraction:.0%}, stratified by class, "
                             f"seed {seed}"}
    return PreparedData(train, validation, test, unlabeled, loaded.bad_rows, origins)


def train(config, *, runs_root: str | Path = "runs", models_root: str | Path = "saved_models",
          progress: bool = True) -> TrainResult:
    """Train, evaluate and export one model as described by `config` (a RunConfig).

    The data is read and checked before the run folder is created, so bad data leaves nothing half-written.
    Under `train.strategy=multi_worker` only the chief writes into `runs_root` and `models_root`; the other workers
    run the same steps into temporary folders that are removed when they return (their TrainResult names them).
    """
    from tfsenti.training import distribute

    if config.train.strategy == "default":
        return _train(config, runs_root=runs_root, models_root=models_root, progress=progress)
    # created first: multi-worker configures TensorFlow's collectives before any other op runs
    role = distribute.worker_role(distribute.get_strategy(config.train.strategy))
    with distribute.chief_or_temporary(runs_root, is_chief=role.is_chief) as runs_here, \
            distribute.chief_or_temporary(models_root, is_chief=role.is_chief) as models_here:
        return _train(config, runs_root=runs_here, models_root=models_here, progress=progress)


def _train(config, *, runs_root: str | Path, models_root: str | Path, progress: bool) -> TrainResult:
    recipe_class = get_recipe_class(config.recipe)
    if is_user_data(config.data.name):
        data = prepare_data(config, progress=progress)
        recipe = recipe_class(config, num_classes=len(data.class_names))
    else:
        recipe = recipe_class(config, num_classes=len(get_spec(config.data.name).class_names))
        data = prepare_data(config, with_unlabeled=recipe.wants_unlabeled(), progress=progress)
    if len(data.bad_rows):
        log.warning("%s", data.bad_rows.summary())
    train_set, validation, test = data.train, data.validation, data.test
    for split, origin in data.origins.items():
        log.info("%s: %s", split, origin)
    log.info("classes: %s", ", ".join(f"{name} ({count})" for name, count in train_set.label_counts().items()))

    run = Run.create(config, root=runs_root)
    log.info("run folder: %s (train %d, validation %d, test %d)", run.path, len(train_set), len(validation), len(test))
    started = time.perf_counter()
    handed = {"test_texts": test.without_labels()} if recipe.wants_test_texts() else {}  # texts, never labels
    fit_summary = recipe.fit(train_set, validation, unlabeled=data.unlabeled, log_dir=run.log_dir, **handed) or {}
    train_seconds = time.perf_counter() - started

    metrics: dict[str, Any] = {"train_seconds": train_seconds, "fit": fit_summary,
                               "sizes": {"train": len(train_set), "validation": len(validation), "test": len(test)},
                               "splits": data.origins, "bad_rows": data.bad_rows.total}
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
        "splits": {name: {"source": origin, "size": metrics["sizes"][name]} for name, origin in data.origins.items()},
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
                   log_dir: str | Path | None = None, progress: bool = True, text_columns: tuple[str, ...] = (),
                   label_column: str | None = None, delimiter: str | None = None,
                   strict: bool = False) -> dict[str, Any]:
    """Metrics of an exported SavedModel on a labelled file of yours or a known dataset's split (by default the one
    it was trained for), with per-class precision / recall / F1 and the confusion matrix.

    A user's file is read with `text_columns` / `label_column` / `delimiter` as in training; its labels must be among
    the model's class names (rows with another label are bad rows, or stop the run under `strict`).
    """
    metadata = export.read_metadata(model_path)
    name = data or _default_evaluation_data(metadata, model_path)
    class_names = tuple(metadata.get("class_names") or ())
    if is_user_data(name):
        if not class_names:
            raise TfsentiError(f"{model_path} has no class names in its metadata, so the labels of {name} cannot be "
                               "matched to its outputs; re-export it with this version of tfsenti.")
        options = UserDataOptions(text_columns=tuple(text_columns), label_column=label_column, delimiter=delimiter)
        loaded = load_user_data(name, options=options, strict=strict, progress=progress, class_names=class_names)
        dataset, split, bad_rows = loaded.splits["train"], Path(name).name, loaded.bad_rows
        if not len(dataset):
            raise DataError(f"no usable labelled row ({bad_rows.summary()}).", path=name)
    else:
        loaded = load_dataset(name, data_dir=data_dir, splits=(split,), strict=strict, progress=progress)
        dataset, bad_rows = loaded[split], loaded.bad_rows
    if len(bad_rows):
        log.warning("%s", bad_rows.summary())
    if limit:
        dataset = dataset.sample(limit, seed=seed + 1)
    model = export.load_model(model_path)
    started = time.perf_counter()
    probabilities = export.predict_texts(model, dataset.texts)["probabilities"]
    seconds = time.perf_counter() - started
    if probabilities.shape[1] != dataset.num_classes:
        raise TfsentiError(f"{model_path} predicts {probabilities.shape[1]} classes but {name} has "
                           f"{dataset.num_classes} ({', '.join(dataset.class_names)}); evaluate it on data with "
                           "the classes it was trained on.")
    metrics = evaluation.classification_metrics(dataset.labels, probabilities)
    confusion = evaluation.confusion_matrix(dataset.labels, probabilities.argmax(1), probabilities.shape[1])
    metrics["predict_seconds"] = seconds
    metrics["bad_rows"] = bad_rows.total
    metrics["class_names"] = list(dataset.class_names)
    metrics["per_class"] = evaluation.per_class_report(dataset.labels, probabilities, dataset.class_names)
    metrics["confusion_matrix"] = confusion.tolist()
    if log_dir:
        log_evaluation(log_dir, f"evaluate-{split}", metrics, confusion=confusion, class_names=dataset.class_names,
                       report=evaluation.format_report(metrics["per_class"], confusion, dataset.class_names))
    return {"dataset": name, "split": split, "model": str(export.resolve_version(model_path)), **metrics}


def _default_evaluation_data(metadata: dict[str, Any], model_path) -> str:
    """The data a model is evaluated on without --data: its known dataset, or the test file it was trained with."""
    name = metadata.get("dataset")
    if not name:
        raise TfsentiError(f"{model_path} has no tfsenti metadata naming its dataset; pass --data NAME_OR_FILE.")
    if not is_user_data(name):
        return name
    test_file = (metadata.get("config") or {}).get("data", {}).get("test")
    if test_file:
        return test_file
    raise TfsentiError(f"{model_path} was trained on {name} with a test split carved from it; pass the labelled "
                       "file to score with --data FILE (and --text-column / --label-column as in training).")


def _evaluate_split(recipe, dataset: TextDataset, split: str, log_dir: Path) -> dict[str, float]:
    probabilities = recipe.predict_proba(dataset.texts)
    metrics = evaluation.classification_metrics(dataset.labels, probabilities)
    confusion = evaluation.confusion_matrix(dataset.labels, probabilities.argmax(1), probabilities.shape[1])
    report = evaluation.per_class_report(dataset.labels, probabilities, dataset.class_names)
    log_evaluation(
        log_dir, split, metrics, confusion=confusion, class_names=dataset.class_names,
        examples=evaluation.misclassified(dataset.texts, dataset.labels, probabilities, k=8),
        report=evaluation.format_report(report, confusion, dataset.class_names),
    )
    return metrics
