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
from scipy.special import expit, softmax

from tfsenti.recipes.base import Recipe
from tfsenti.text.ngrams import AnalyzerConfig, NgramAnalyzer
from tfsenti.text.vectorize import binary_matrix


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
            state = _Fitted.train(matrix[:n_train], y_train, self.num_classes, params, grid)
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
                model = _Fitted.train(matrix, y_all, self.num_classes, params, [chosen_c])[-1][1]
        else:
            model = _Fitted.train(matrix, y_train, self.num_classes, params, [chosen_c])[-1][1]

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


def one_vs_rest_probabilities(logits, ops=np):
    """(n, 1) logits -> [1 - sigmoid, sigmoid]; (n, K) one-vs-rest logits -> the K sigmoids normalized to sum 1,
    as softmax(log sigmoid): the same numbers, but a row whose sigmoids all underflow still sums to 1. NumPy or TF.

    Example:
        >>> logits = np.array([[0.0, 0.0, np.log(3.0)], [-2000.0, -2000.0, -2000.0]])
        >>> one_vs_rest_probabilities(logits).round(3).tolist()
        [[0.286, 0.286, 0.429], [0.333, 0.333, 0.333]]
    """
    if ops is np:
        if logits.shape[1] == 1:
            positive = expit(logits[:, 0])
            return np.stack([1.0 - positive, positive], axis=1)
        return softmax(-np.logaddexp(0.0, -logits), axis=1)
    if logits.shape[1] == 1:
        positive = ops.sigmoid(logits[:, 0])
        return ops.stack([1.0 - positive, positive], axis=1)
    return ops.nn.softmax(ops.math.log_sigmoid(logits), axis=1)


@dataclasses.dataclass
class _Fitted:
    """One trained model over a column subset of the full feature matrix."""

    columns: np.ndarray  # kept columns of the full matrix, in model order
    ratios: np.ndarray   # (d, K) float64
    coef: np.ndarray     # (d, K) float32, ratios folded in
    intercept: np.ndarray  # (K,) float64

    def select(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        return _select_columns(matrix, self.columns)

    def predict_proba(self, selected: sp.csr_matrix) -> np.ndarray:
        logits = selected.astype(np.float64) @ self.coef.astype(np.float64) + self.intercept
        return one_vs_rest_probabilities(logits, np)

    @classmethod
    def train(cls, matrix: sp.csr_matrix, labels: np.ndarray, num_classes: int, params: NBBONParams,
              grid: Sequence[float]) -> list[tuple[float, _Fitted]]:
        """Prune columns on these rows, compute r, and train one model per C in `grid` (warm-started, in order)."""
        columns = _kept_columns(matrix, params.min_df, params.max_features)
        selected = _select_columns(matrix, columns)
        targets = [labels == 1] if num_classes == 2 else [labels == k for k in range(num_classes)]
        ratios = np.stack([nb_ratio(selected, target, params.alpha) for target in targets], axis=1)
        scaled = [sp.csr_matrix((ratios[selected.indices, k], selected.indices, selected.indptr),
                                shape=selected.shape) for k in range(len(targets))]
        del selected  # the scaled copies share its index arrays; its int8 data is no longer needed
        results, starts = [], [None] * len(targets)
        for c in grid:
            solutions = [train_logistic(scaled[k], targets[k], c, max_iter=params.max_iter, tol=params.tol,
                                        start=starts[k]) for k in range(len(targets))]
            starts = solutions
            weights = np.stack([s[:-1] for s in solutions], axis=1)
            if params.interpolation is not None:
                beta = params.interpolation
                weights = (1.0 - beta) * np.abs(weights).mean(axis=0, keepdims=True) + beta * weights
            intercept = np.array([s[-1] for s in solutions])
            results.append((c, cls(columns, ratios, (weights * ratios).astype(np.float32), intercept)))
        return results


def nb_ratio(matrix: sp.csr_matrix, positive: np.ndarray, alpha: float) -> np.ndarray:
    """Wang & Manning's log-count ratio of binary features: log((p/|p|_1) / (q/|q|_1)).

    Example:
        >>> m = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1]]))
        >>> np.round(nb_ratio(m, np.array([True, True, False]), 1.0), 4).tolist()
        [0.5878, -0.5108]
    """
    positive = np.asarray(positive, dtype=bool)
    p = alpha + np.asarray(matrix[positive].sum(axis=0), dtype=np.float64).ravel()
    q = alpha + np.asarray(matrix[~positive].sum(axis=0), dtype=np.float64).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def train_logistic(features: sp.csr_matrix, target: np.ndarray, C: float, *, max_iter: int = 200,
                   tol: float = 1e-5, start: np.ndarray | None = None, memory: int = 10) -> np.ndarray:
    """L2 logistic regression by L-BFGS: minimizes `C * sum(log loss) + |w|^2 / 2`; returns [w..., b].

    Stops after `max_iter` iterations or when the largest gradient entry of the objective divided by n is <= `tol`.
    A plain (unbounded) L-BFGS in NumPy, float64 throughout: SciPy's L-BFGS-B spends ~0.2 s per iteration on its
    bound-constraint bookkeeping at a million features, more than the sparse products themselves. The line search
    backtracks from the full quasi-Newton step (Armijo); pairs failing the curvature test are not stored.

    Example:
        >>> x = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]] * 4))
        >>> solution = train_logistic(x, np.array([1, 0] * 4), C=10.0)
        >>> bool(solution[0] > 0 > solution[1])
        True
    """
    y = np.asarray(target, dtype=np.float64)
    n, d = features.shape
    transposed = features.T  # a CSC view of the same arrays: X^T e without a transposed copy
    scale = 1.0 / max(n, 1)  # objective divided by n: same optimum, better-conditioned tolerances

    def objective(wb):
        w, b = wb[:-1], wb[-1]
        z = features @ w
        z += b
        loss = C * float(np.sum(np.logaddexp(0.0, z) - y * z)) + 0.5 * float(w @ w)
        error = expit(z)
        error -= y
        error *= C
        gradient = np.empty_like(wb)
        gradient[:-1] = transposed @ error
        gradient[:-1] += w
        gradient[-1] = error.sum()
        gradient *= scale
        return loss * scale, gradient

    x = np.zeros(d + 1) if start is None else np.array(start, dtype=np.float64)
    value, gradient = objective(x)
    pairs: list[tuple[np.ndarray, np.ndarray, float]] = []  # (s, y, 1 / y.s), oldest first
    for _ in range(max_iter):
        if np.abs(gradient).max() <= tol:
            break
        direction = _lbfgs_direction(gradient, pairs)
        slope = float(gradient @ direction)
        if slope >= 0:  # not a descent direction (numerical trouble): restart from steepest descent
            pairs.clear()
            direction = -gradient / max(1.0, float(np.linalg.norm(gradient)))
            slope = float(gradient @ direction)
        step = 1.0
        for _ in range(40):
            candidate = x + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope:
                break
            # minimum of the quadratic through value, slope and new_value, kept within [0.1, 0.5] of the step
            excess = new_value - value - slope * step
            step *= min(0.5, max(0.1, -slope * step / (2.0 * excess))) if np.isfinite(excess) and excess > 0 else 0.1
        else:
            break  # no decrease found: at the precision limit
        s, change = candidate - x, new_gradient - gradient
        curvature = float(s @ change)
        if curvature > 1e-12 * float(change @ change):
            pairs.append((s, change, 1.0 / curvature))
            if len(pairs) > memory:
                pairs.pop(0)
        decrease = value - new_value
        x, value, gradient = candidate, new_value, new_gradient
        if decrease <= 1e-12 * max(abs(value), 1.0):
            break
    return x


def _lbfgs_direction(gradient: np.ndarray, pairs) -> np.ndarray:
    """The two-loop recursion: -H g for the inverse-Hessian approximation H of the stored pairs."""
    if not pairs:
        return -gradient / max(1.0, float(np.linalg.norm(gradient)))
    q = gradient.copy()
    alphas = []
    for s, change, rho in reversed(pairs):
        alpha = rho * float(s @ q)
        q -= alpha * change
        alphas.append(alpha)
    s, change, rho = pairs[-1]
    q *= 1.0 / (rho * float(change @ change))  # gamma = s.y / y.y
    for (s, change, rho), alpha in zip(pairs, reversed(alphas)):
        beta = rho * float(change @ q)
        q += (alpha - beta) * s
    return -q


def _kept_columns(matrix: sp.csr_matrix, min_df: int, max_features: int | None) -> np.ndarray:
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    columns = np.flatnonzero(df >= min_df)
    if max_features is not None and len(columns) > max_features:
        order = np.argsort(-df[columns], kind="stable")[:max_features]
        columns = np.sort(columns[order])
    return columns


def _select_columns(matrix: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    # int32 temporaries: this runs on the whole training matrix, where every byte per entry counts
    remap = np.full(matrix.shape[1], -1, dtype=np.int32)
    remap[columns] = np.arange(len(columns), dtype=np.int32)
    indices = remap[matrix.indices]
    keep = indices >= 0
    kept_before = np.zeros(len(keep) + 1, dtype=np.int32 if len(keep) < 2**31 else np.int64)
    np.cumsum(keep, out=kept_before[1:])
    indptr = kept_before[matrix.indptr].astype(np.int64)  # kept entries before each row's start
    return sp.csr_matrix((matrix.data[keep], indices[keep], indptr), shape=(matrix.shape[0], len(columns)))
