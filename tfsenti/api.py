"""The Python front door: `tfsenti.train`, `tfsenti.evaluate` and `tfsenti.load`, the same pipeline as the CLI.

`python cli.py train --model nbbon --data reviews.csv --label-column stars` and
`tfsenti.train(model="nbbon", data="reviews.csv", label_column="stars")` resolve the same config (recipe defaults,
then `configs/<data>/<model>.yaml` or the defaults for your text's language, then flags, then `--set`) and run the
same code; the CLI only parses flags and prints.

Example:
    >>> import tfsenti
    >>> run = tfsenti.train(model="nbbon", data="reviews.csv", label_column="stars")       # doctest: +SKIP
    >>> model = tfsenti.load(run.model_dir)                                                 # doctest: +SKIP
    >>> model.predict(["great value", "broke after a week"])                                # doctest: +SKIP
    ['5', '1']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def train(
    model: str,
    data: str,
    *,
    test: str | None = None,
    validation: str | None = None,
    text_columns: Sequence[str] | str = (),
    label_column: str | None = None,
    delimiter: str | None = None,
    pretrained: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    strategy: str | None = None,
    seed: int | None = None,
    limit_train: int | None = None,
    limit_test: int | None = None,
    data_dir: str | None = None,
    name: str | None = None,
    strict: bool = False,
    config_file: str | Path | None = None,
    params: dict[str, Any] | None = None,
    overrides: Iterable[str] = (),
    runs_dir: str | Path = "runs",
    models_dir: str | Path = "saved_models",
    progress: bool = True,
):
    """Train a `model` (recipe: nbbon, dvcosine, tfhub, bert, ktrain, uda) on `data`, evaluate, export.

    `data` is a known dataset (imdb, nsmc, amazon) or your own CSV / TSV / JSON Lines file (gzip or not) or folder
    with one sub-folder per class. `strategy` (default, mirrored, multi_worker) distributes the Keras recipes with
    tf.distribute; `batch_size` is then the global batch (docs/CLUSTER.md). `params` sets the recipe's own settings (`{"C": 0.5}` is `--set params.C=0.5`);
    `overrides` takes `--set` strings as they are. Returns a `TrainResult` (`run_dir`, `model_dir`, `metrics`).

    Example:
        >>> result = train("nbbon", "reviews.csv", text_columns=["title", "body"], label_column="stars")  # doctest: +SKIP
        >>> result.metrics["test"]["accuracy"]                                                            # doctest: +SKIP
        0.71
    """
    config = build_run_config(
        model, data, test=test, validation=validation, text_columns=text_columns, label_column=label_column,
        delimiter=delimiter, pretrained=pretrained, epochs=epochs, batch_size=batch_size, strategy=strategy,
        seed=seed, limit_train=limit_train, limit_test=limit_test, data_dir=data_dir, name=name, strict=strict,
        config_file=config_file, params=params, overrides=overrides)
    from tfsenti.pipeline import train as run_training

    return run_training(config, runs_root=runs_dir, models_root=models_dir, progress=progress)


def build_run_config(model: str, data: str, *, test=None, validation=None, text_columns=(), label_column=None,
                     delimiter=None, pretrained=None, epochs=None, batch_size=None, strategy=None, seed=None,
                     limit_train=None, limit_test=None, data_dir=None, name=None, strict=False, config_file=None, params=None,
                     overrides=(), extra_values: dict[str, Any] | None = None):
    """The RunConfig that `train` (and `python cli.py train`) runs, from the same arguments.

    Example:
        >>> config = build_run_config("nbbon", "nsmc", params={"C": 0.5})
        >>> config.config_file.endswith("nsmc/nbbon.yaml"), config.params.C, config.params.char_ngrams
        (True, 0.5, (1, 3))
    """
    from tfsenti.config import build_config

    if isinstance(text_columns, str):
        text_columns = [text_columns]
    values = {"data.test": test, "data.validation": validation, "data.label_column": label_column,
              "data.delimiter": delimiter, "data.data_dir": data_dir, "data.limit_train": limit_train,
              "data.limit_test": limit_test, "train.seed": seed, "train.epochs": epochs,
              "train.batch_size": batch_size, "train.strategy": strategy, "train.pretrained": pretrained,
              "name": name}
    values = {key: value for key, value in values.items() if value is not None}
    if text_columns:
        values["data.text_columns"] = list(text_columns)
    if strict:
        values["data.strict"] = True
    values.update({f"params.{key}": value for key, value in (params or {}).items()})
    values.update({key: value for key, value in (extra_values or {}).items() if value is not None})
    return build_config(model, data, config_file=config_file, overrides=list(overrides), values=values)


def evaluate(model_path: str | Path, data: str | None = None, *, text_columns: Sequence[str] | str = (),
             label_column: str | None = None, delimiter: str | None = None, **options) -> dict[str, Any]:
    """Score an exported model on a labelled file of yours or a known dataset's split (see `evaluate_model`).

    Example:
        >>> metrics = evaluate("saved_models/reviews-nbbon", "holdout.csv", label_column="stars")  # doctest: +SKIP
        >>> metrics["accuracy"], metrics["per_class"]["classes"]["5"]["recall"]                            # doctest: +SKIP
        (0.7, 0.91)
    """
    from tfsenti.pipeline import evaluate_model

    if isinstance(text_columns, str):
        text_columns = [text_columns]
    return evaluate_model(model_path, data=data, text_columns=tuple(text_columns), label_column=label_column,
                          delimiter=delimiter, **options)


@dataclasses.dataclass
class Model:
    """An exported tfsenti model, loaded: raw texts in, class names or probabilities out.

    Example:
        >>> model = load("saved_models/reviews-nbbon")                        # doctest: +SKIP
        >>> model.class_names                                                  # doctest: +SKIP
        ('1', '2', '3', '4', '5')
        >>> model.predict_proba(["great value"]).round(2)                      # doctest: +SKIP
        array([[0.01, 0.02, 0.05, 0.22, 0.7 ]], dtype=float32)
    """

    path: Path
    metadata: dict[str, Any]
    _loaded: Any = dataclasses.field(repr=False)

    @property
    def class_names(self) -> tuple[str, ...]:
        names = self.metadata.get("class_names")
        return tuple(names) if names else ()

    def predict_proba(self, texts: Sequence[str] | str, *, batch_size: int = 256) -> np.ndarray:
        """Probabilities, shape (len(texts), number of classes), rows summing to 1."""
        from tfsenti.export import predict_texts

        return predict_texts(self._loaded, _as_list(texts), batch_size=batch_size)["probabilities"]

    def predict(self, texts: Sequence[str] | str, *, batch_size: int = 256) -> list[str]:
        """The most probable class name of each text (its index as a string when the export has no names)."""
        indices = self.predict_proba(texts, batch_size=batch_size).argmax(axis=1)
        names = self.class_names
        return [names[i] if names else str(i) for i in indices.tolist()]


def load(path: str | Path) -> Model:
    """Load an export (`saved_models/<name>` for its newest version, or a version folder) for prediction.

    Example:
        >>> load("saved_models/imdb-nbbon").predict(["What a wonderful film"])   # doctest: +SKIP
        ['positive']
    """
    from tfsenti import export

    folder = export.resolve_version(path)
    return Model(path=folder, metadata=export.read_metadata(folder), _loaded=export.load_model(folder))


def _as_list(texts: Sequence[str] | str) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    return list(texts)
