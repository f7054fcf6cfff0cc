"""NB-BON: naive-Bayes-weighted bag of n-grams with logistic regression (NBSVM-LR, Wang & Manning 2012).

Binary presence features X (word and/or character n-grams, `tfsenti.text.ngrams`), the naive-Bayes log-count ratio
`r = log((p / |p|_1) / (q / |q|_1))` with `p = alpha + sum of positive rows`, `q = alpha + sum of negative rows`, and
an L2 logistic regression on `X * r` trained with a NumPy L-BFGS on sparse matrices (`C * sum(log loss) +
|w|^2 / 2`, the bias unpenalized, C as in scikit-learn). Optional Wang & Manning interpolation
`w <- (1 - beta) * mean|w| + beta * w`. `C_grid` is tuned on the validation split only.

More than two classes (C > 2, e.g. star ratings): one-vs-rest. The log-count ratio is defined for a split of the
documents in two, so class k gets its own ratio r_k (class k against the rest), its own regression on `X * r_k`
(with its own interpolation, mean|w_k|) and one logit; a single softmax regression would have to share one feature
scaling across classes, which loses what r_k says about class k. The C sigmoids are normalized to sum to 1
(`one_vs_rest_probabilities`, in the export graph too). Two classes are the special case of one regression
(label 1 against label 0), whose sigmoid gives [1 - p, p].

The exported SavedModel runs the same analyzer in TensorFlow ops, looks the features up in the kept vocabulary
(unseen ones are ignored), counts each once per document and adds the per-feature weights (r already folded in).

Example:
    >>> from tfsenti.config import build_config
    >>> from tfsenti.data.dataset import TextDataset
    >>> config = build_config("nbbon", "imdb", default_file=False, overrides=["params.min_df=1", "params.word_ngrams=[1, 1]"])
    >>> recipe = NBBONRecipe(config, num_classes=2)
    >>> train = TextDataset(["good fun", "great fun", "bad plot", "awful plot"] * 5, [1, 1, 0, 0] * 5)
    >>> _ = recipe.fit(train)
    >>> recipe.predict_proba(["good", "awful"]).argmax(axis=1).tolist()
    [1, 0]
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from tfsenti.recipes.base import Recipe
from tfsenti.text.naive_bayes import (document_frequency, frequent_columns, interpolated_weights, nb_ratio,
                                      nb_ratios, one_vs_rest_probabilities, one_vs_rest_targets, ratio_scaled,
                                      select_columns, train_logistic)
from tfsenti.text.ngrams import AnalyzerConfig, NgramAnalyzer
from tfsenti.text.vectorize import binary_matrix

__all__ = ["NBBONModel", "NBBONParams", "NBBONRecipe", "nb_ratio", "one_vs_rest_probabilities", "train_logistic"]


@dataclasses.dataclass(frozen=True)
class NBBONParams:
    """NB-BON settings; defaults suit English IMDB (word 1-3-grams).

    Example:
        >>> NBBONParams(char_ngrams=(1, 3), word_ngrams=(1, 2)).analyzer_config().char_ngrams
        (1, 3)
    """

    word_ngrams: tuple[int, int] | None = (1, 3)
    char_ngrams: tuple[int, int] | None = None
    lowercase: bool = True
    max_chars: int | None = None
    min_df: int = 3
    max_features: int | None = None
    alpha: float = 1.0
    C: float = 1.0
    interpolation: float | None = None
    max_iter: int = 200
    tol: float = 1e-5
    C_grid: tuple[float, ...] = ()
    refit_on_validation: bool = False
    n_jobs: int | None = None

    def __post_init__(self):
        if self.min_df < 1:
            raise ValueError(f"min_df must be >= 1, received {self.min_df}")
        if self.max_features is not None and self.max_features < 1:
            raise ValueError(f"max_features must be a positive integer or None, received {self.max_features}")
        if self.alpha <= 0 or self.C <= 0 or any(c <= 0 for c in self.C_grid):
            raise ValueError(f"alpha, C and C_grid must be positive, received alpha={self.alpha}, C={self.C}, "
                             f"C_grid={self.C_grid}")
        if self.interpolation is not None and not 0.0 <= self.interpolation <= 1.0:
            raise ValueError(f"interpolation (beta) must be in [0, 1] or None, received {self.interpolation}")
        self.analyzer_config()  # validates the n-gram ranges

    def analyzer_config(self) -> AnalyzerConfig:
        return AnalyzerConfig(self.word_ngrams, self.char_ngrams, self.lowercase, self.max_chars)


class NBBONRecipe(Recipe):
    """The `nbbon` recipe: NumPy/SciPy training, TensorFlow-graph serving (see the module docstring).

    Learned state: `vocabulary_` (feature -> column), `ratios_` (columns, K) NB log-count ratios, `coef_`
    (columns, K) float32 weights with the ratios folded in, `intercept_` (K,), `C_` (the C used); K = 1 for two
    classes, else the number of classes.
    """

    name: ClassVar[str] = "nbbon"
    Params: ClassVar[type] = NBBONParams

    # ---- training --------------------------------------------------------------------------------------------
    def fit(self, train, validation=None, *, unlabeled=None, log_dir=None) -> dict[str, float]:
        self.check_labels(train, validation)
        params: NBBONParams = self.params
        analyzer = NgramAnalyzer(params.analyzer_config())
        started = time.perf_counter()
        texts = list(train.texts) + (list(validation.texts) if validation is not None else [])
        matrix, names = binary_matrix(texts, analyzer, n_jobs=params.n_jobs)
        n_train = len(train)
        y_train = np.asarray(train.labels)
        metrics: dict[str, float] = {"analyze_seconds": time.perf_counter() - started}

        chosen_c = params.C
        if validation is not None:
            y_val = np.asarray(validation.labels)
            grid = sorted(set(params.C_grid)) or [params.C]
            state = NBBONModel.train(matrix[:n_train], y_train, self.num_classes, params, grid)
            best = None
            for c, model in state:
                proba = model.predict_proba(model.select(matrix[n_train:]))
                accuracy = float((proba.argmax(axis=1) == y_val).mean())
                loss = float(-np.log(np.clip(proba[np.arange(len(y_val)), y_val], 1e-12, None)).mean())
                metrics[f"validation_accuracy/C_{c:g}"] = accuracy  # TensorBoard-safe tag characters
                if best is None or (accuracy, -loss) > best[0]:
                    best = ((accuracy, -loss), c, model)
            (accuracy, neg_loss), chosen_c, model = best
            metrics.update(validation_accuracy=accuracy, validation_loss=-neg_loss)
            if params.refit_on_validation:
                y_all = np.concatenate([y_train, y_val])
                model = NBBONModel.train(matrix, y_all, self.num_classes, params, [chosen_c])[-1][1]
        else:
            model = NBBONModel.train(matrix, y_train, self.num_classes, params, [chosen_c])[-1][1]

        self.vocabulary_ = dict(zip([names[j] for j in model.columns.tolist()], range(len(model.columns))))
        del names, matrix
        self.ratios_, self.coef_, self.intercept_, self.C_ = model.ratios, model.coef, model.intercept, chosen_c
        self.is_fitted = True
        metrics.update(C=float(chosen_c), num_features=float(len(self.vocabulary_)),
                       fit_seconds=time.perf_counter() - started)
        return metrics

    # ---- inference -------------------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        analyzer = NgramAnalyzer(self.params.analyzer_config())
        matrix, _ = binary_matrix(list(texts), analyzer, vocabulary=self.vocabulary_, n_jobs=self.params.n_jobs)
        logits = matrix.astype(np.float64) @ self.coef_.astype(np.float64) + self.intercept_.astype(np.float64)
        return one_vs_rest_probabilities(logits, np).astype(np.float32)

    # ---- export ----------------------------------------------------------------------------------------------
    def export(self, export_dir: str | Path) -> Path:
        """SavedModel: TF analyzer -> vocabulary lookup -> unique per document -> weight sum -> probabilities."""
        self._check_fitted()
        import tensorflow as tf

        from tfsenti.export import save_serving_model
        from tfsenti.text.graph_features import distinct_feature_keys, vocabulary_table

        config = self.params.analyzer_config()
        size = len(self.vocabulary_)
        weights = tf.Variable(self.coef_.astype(np.float32), trainable=False, name="weights")
        bias = tf.Variable(self.intercept_.astype(np.float32), trainable=False, name="bias")
        if size == 0:  # min_df pruned every feature: the bias alone decides (a lookup table cannot be empty)
            def probabilities(text):
                logits = tf.zeros([tf.shape(text)[0], len(self.intercept_)], tf.float64) + tf.cast(bias, tf.float64)
                return tf.cast(one_vs_rest_probabilities(logits, tf), tf.float32)

            return save_serving_model(export_dir, probabilities_fn=probabilities,
                                      trackables={"weights": weights, "bias": bias})
        with vocabulary_table(self.vocabulary_) as table:
            def probabilities(text):
                keys = distinct_feature_keys(text, config, table, size)
                contributions = tf.cast(tf.gather(weights, keys % size), tf.float64)
                logits = tf.math.unsorted_segment_sum(contributions, keys // size, tf.shape(text)[0])
                return tf.cast(one_vs_rest_probabilities(logits + tf.cast(bias, tf.float64), tf), tf.float32)

            return save_serving_model(export_dir, probabilities_fn=probabilities,
                                      trackables={"vocabulary": table, "weights": weights, "bias": bias})


@dataclasses.dataclass
class NBBONModel:
    """One trained NB-BON model over a column subset of the full feature matrix (what `fit` chooses among).

    Example:
        >>> m = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1], [0, 1]] * 3))
        >>> params = NBBONParams(min_df=1)
        >>> (c, model), = NBBONModel.train(m, np.array([1, 1, 0, 0] * 3), 2, params, [1.0])
        >>> model.predict_proba(model.select(m[:1])).argmax(axis=1).tolist()
        [1]
    """

    columns: np.ndarray  # kept columns of the full matrix, in model order
    ratios: np.ndarray   # (d, K) float64
    coef: np.ndarray     # (d, K) float32, ratios folded in
    intercept: np.ndarray  # (K,) float64

    def select(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        return select_columns(matrix, self.columns)

    def predict_proba(self, selected: sp.csr_matrix) -> np.ndarray:
        logits = selected.astype(np.float64) @ self.coef.astype(np.float64) + self.intercept
        return one_vs_rest_probabilities(logits, np)

    @classmethod
    def train(cls, matrix: sp.csr_matrix, labels: np.ndarray, num_classes: int, params: NBBONParams,
              grid: Sequence[float]) -> list[tuple[float, NBBONModel]]:
        """Prune columns on these rows, compute r, and train one model per C in `grid` (warm-started, in order)."""
        columns = frequent_columns(document_frequency(matrix), params.min_df, params.max_features)
        selected = select_columns(matrix, columns)
        targets = one_vs_rest_targets(labels, num_classes)
        ratios = nb_ratios(selected, targets, params.alpha)
        scaled = [ratio_scaled(selected, ratios[:, k]) for k in range(len(targets))]
        del selected  # the scaled copies share its index arrays; its int8 data is no longer needed
        results, starts = [], [None] * len(targets)
        for c in grid:
            solutions = [train_logistic(scaled[k], targets[k], c, max_iter=params.max_iter, tol=params.tol,
                                        start=starts[k]) for k in range(len(targets))]
            starts = solutions
            weights = np.stack([s[:-1] for s in solutions], axis=1)
            if params.interpolation is not None:
                weights = interpolated_weights(weights, params.interpolation)
            intercept = np.array([s[-1] for s in solutions])
            results.append((c, cls(columns, ratios, (weights * ratios).astype(np.float32), intercept)))
        return results
