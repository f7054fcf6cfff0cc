"""The Recipe protocol every model family implements (see DESIGN.md).

A recipe only stores its config in `__init__`; `fit` learns, `predict_proba` returns an (n, C) array whose rows
sum to 1, and `export` writes a SavedModel that takes raw text (`serving_default`: `text` -> `probabilities`,
`label`). The CLI, runs, evaluation and the TF Serving layout are shared and live elsewhere.

Example:
    >>> from tfsenti.recipes import get_recipe_class
    >>> from tfsenti.config import build_config
    >>> config = build_config("nbbon", "imdb", default_file=False)
    >>> recipe = get_recipe_class("nbbon")(config, num_classes=2)
    >>> recipe.is_fitted
    False
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tfsenti.errors import ConfigError, NotFittedError


class Recipe(abc.ABC):
    """Base class: subclasses set `name` and `Params`, and implement fit / predict_proba / export."""

    name: ClassVar[str]
    Params: ClassVar[type]
    uses_pretrained: ClassVar[bool] = False  # whether --pretrained means something for this recipe
    # why train.strategy must stay `default` (None: the recipe trains with Keras under any tf.distribute strategy)
    strategy_refusal: ClassVar[str | None] = "it does not train with Keras, so there is nothing to distribute"

    def __init__(self, config, *, num_classes: int):
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ConfigError(f"The {self.name} recipe needs num_classes >= 2 (an integer), received "
                              f"num_classes={num_classes!r}; pass the number of class names of the data.")
        self.config = config
        self.params = config.params
        self.num_classes = int(num_classes)
        self.is_fitted = False

    @abc.abstractmethod
    def fit(self, train, validation=None, *, unlabeled=None, log_dir: str | Path | None = None) -> dict[str, float]:
        """Learn from `train` (a TextDataset); returns a few summary numbers (validation metrics, losses)."""

    @abc.abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (len(texts), num_classes), float32, rows sum to 1."""

    @abc.abstractmethod
    def export(self, export_dir: str | Path) -> Path:
        """Write a SavedModel obeying the contract into the (new, empty) folder `export_dir`; return it."""

    def wants_unlabeled(self) -> bool:
        """Whether `fit` uses unlabeled text (the pipeline then passes the dataset's unlabeled split)."""
        return False

    def wants_test_texts(self) -> bool:
        """Whether `fit` takes the test split's texts, never its labels (the pipeline then passes
        `fit(..., test_texts=test.without_labels())`), as transductive dv-cosine does."""
        return False

    def check_labels(self, *datasets) -> None:
        """Refuse labelled data whose labels are not class indices below `num_classes` (a model for fewer classes
        would be silently wrong); None entries are skipped, unlabelled rows (-1) are allowed."""
        for dataset in datasets:
            if dataset is None or not len(dataset):
                continue
            labels = np.asarray(dataset.labels)
            bad = labels[(labels >= self.num_classes) | (labels < -1)]
            if bad.size:
                raise ConfigError(f"The {self.name} recipe was built for num_classes={self.num_classes} but the data "
                                  f"has label {int(bad[0])} (classes {list(dataset.class_names)}); labels must be in "
                                  f"[0, {self.num_classes}). Build the recipe with num_classes=len(class_names).")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(train) first.")

    def describe(self) -> dict[str, Any]:
        """Recipe name and its resolved params, for metadata."""
        return {"recipe": self.name, "params": dataclasses.asdict(self.params)}
