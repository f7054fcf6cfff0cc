"""Naive-Bayes-weighted linear models of binary n-gram features (NBSVM-LR), shared by `nbbon` and `dvcosine`.

Wang & Manning's log-count ratio `r = log((p / |p|_1) / (q / |q|_1))` (`p = alpha + sum of the positive rows`,
`q = alpha + sum of the others`), one per one-vs-rest target; the columns kept by document frequency; the L2
logistic regression (`train_logistic`, NumPy L-BFGS) and the one-vs-rest probabilities; the ensemble of NB-BON
features with dense features (`NBEnsembleModel`: dv-cosine's document vectors) and its choice on validation.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> presence = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 0]]))
    >>> targets = one_vs_rest_targets(np.array([1, 0, 1]), num_classes=2)
    >>> columns = frequent_columns(document_frequency(presence), min_count=2)
    >>> columns.tolist()
    [0, 1]
    >>> np.round(nb_ratios(select_columns(presence, columns), targets, alpha=1.0), 3).tolist()
    [[-0.288], [0.405]]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax


def one_vs_rest_targets(labels: np.ndarray, num_classes: int) -> list[np.ndarray]:
    """Boolean targets of the one-vs-rest models: one (label == 1) for two classes, else one per class.

    Example:
        >>> [t.tolist() for t in one_vs_rest_targets(np.array([0, 2, 1]), 3)]
        [[True, False, False], [False, False, True], [False, True, False]]
    """
    labels = np.asarray(labels)
    return [labels == 1] if num_classes == 2 else [labels == k for k in range(num_classes)]


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


def nb_ratios(matrix: sp.csr_matrix, targets: Sequence[np.ndarray], alpha: float) -> np.ndarray:
    """(columns, len(targets)) log-count ratios, one column per target (empty when `matrix` has no column).

    Example:
        >>> nb_ratios(sp.csr_matrix((3, 0)), [np.array([True, False, True])], 1.0).shape
        (0, 1)
    """
    if not matrix.shape[1]:
        return np.zeros((0, len(targets)))
    return np.stack([nb_ratio(matrix, target, alpha) for target in targets], axis=1)


def ratio_scaled(matrix: sp.csr_matrix, ratios: np.ndarray) -> sp.csr_matrix:
    """`matrix * r` for binary features: the stored entries take their column's ratio (float64).

    Example:
        >>> ratio_scaled(sp.csr_matrix(np.array([[1, 0], [1, 1]])), np.array([0.5, -2.0])).toarray().tolist()
        [[0.5, 0.0], [0.5, -2.0]]
    """
    return sp.csr_matrix((np.asarray(ratios, dtype=np.float64)[matrix.indices], matrix.indices, matrix.indptr),
                         shape=matrix.shape)


def document_frequency(matrix: sp.csr_matrix) -> np.ndarray:
    """Number of rows (documents) holding each column of a binary CSR matrix."""
    return np.bincount(matrix.indices, minlength=matrix.shape[1])


def frequent_columns(document_frequency: np.ndarray, min_count: int, max_columns: int | None = None) -> np.ndarray:
    """Sorted columns seen in >= `min_count` documents; with `max_columns`, only that many of the most frequent.

    Example:
        >>> frequent_columns(np.array([5, 1, 3, 4]), 2).tolist(), frequent_columns(np.array([5, 1, 3, 4]), 2, 2).tolist()
        ([0, 2, 3], [0, 3])
    """
    document_frequency = np.asarray(document_frequency)
    columns = np.flatnonzero(document_frequency >= min_count)
    if max_columns is not None and len(columns) > max_columns:
        columns = np.sort(columns[np.argsort(-document_frequency[columns], kind="stable")[:max_columns]])
    return columns


def select_columns(matrix: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """`matrix[:, columns]` for sorted `columns`, renumbered 0..len(columns)-1, stored values kept.

    Memory-lean (int32 temporaries): it runs on whole training matrices, where every byte per entry counts.

    Example:
        >>> select_columns(sp.csr_matrix(np.array([[1, 2, 3], [4, 0, 6]])), np.array([0, 2])).toarray().tolist()
        [[1, 3], [4, 6]]
    """
    remap = np.full(matrix.shape[1], -1, dtype=np.int32)
    remap[columns] = np.arange(len(columns), dtype=np.int32)
    indices = remap[matrix.indices]
    keep = indices >= 0
    kept_before = np.zeros(len(keep) + 1, dtype=np.int32 if len(keep) < 2**31 else np.int64)
    np.cumsum(keep, out=kept_before[1:])
    indptr = kept_before[matrix.indptr].astype(np.int64)  # kept entries before each row's start
    return sp.csr_matrix((matrix.data[keep], indices[keep], indptr), shape=(matrix.shape[0], len(columns)))


def interpolated_weights(weights: np.ndarray, beta: float) -> np.ndarray:
    """Wang & Manning's interpolation of each column of (features, K) weights: `(1 - beta) * mean|w| + beta * w`.

    Example:
        >>> interpolated_weights(np.array([[1.0], [-3.0]]), 0.5).ravel().tolist()
        [1.5, -0.5]
    """
    return (1.0 - beta) * np.abs(weights).mean(axis=0, keepdims=True) + beta * weights


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


@dataclasses.dataclass
class NBEnsembleModel:
    """One-vs-rest linear model over [NB-BON features ; dense features] (e.g. dv-cosine document vectors).

    Example:
        >>> m = NBEnsembleModel(np.array([[1.0], [-1.0]]), np.array([[2.0]]), np.zeros(1))
        >>> m.probabilities(sp.csr_matrix(np.array([[1, 0]])), np.array([[0.5]])).round(3).tolist()
        [[0.119, 0.881]]
    """

    nb_coef: np.ndarray      # (NB columns, K) float32, ratios folded in
    vector_coef: np.ndarray  # (dim, K) float32, vector scale folded in
    intercept: np.ndarray    # (K,) float64
    nb_mean_abs: np.ndarray | None = None  # (K,) mean |w| of the NB-BON weights before r was folded in

    def interpolated(self, beta: float, ratios: np.ndarray) -> NBEnsembleModel:
        """Wang & Manning's interpolation for the ensemble: NB-BON weights `(1 - beta) * mean|w| + beta * w`
        (r folded in afterwards, as trained), vector weights `beta * w`, intercept unchanged; beta 1: this model.

        Example:
            >>> m = NBEnsembleModel(np.array([[2.0], [-1.0]]), np.array([[4.0]]), np.zeros(1), np.array([1.0]))
            >>> half = m.interpolated(0.5, np.array([[2.0], [1.0]]))  # w = [1, -1], mean|w| = 1, r = [2, 1]
            >>> half.nb_coef.ravel().tolist(), half.vector_coef.ravel().tolist()
            ([2.0, 0.0], [2.0])
        """
        if beta == 1.0:
            return self
        nb_coef = beta * self.nb_coef.astype(np.float64) + (1.0 - beta) * self.nb_mean_abs[None, :] * ratios
        return NBEnsembleModel(nb_coef.astype(np.float32), (beta * self.vector_coef).astype(np.float32),
                            self.intercept, self.nb_mean_abs)

    def probabilities(self, nb: sp.csr_matrix, vectors: np.ndarray) -> np.ndarray:
        logits = (nb.astype(np.float64) @ self.nb_coef.astype(np.float64)
                  + vectors.astype(np.float64) @ self.vector_coef.astype(np.float64) + self.intercept)
        return one_vs_rest_probabilities(logits)


def nb_keep_probabilities(presence: sp.csr_matrix, targets: Sequence[np.ndarray], alpha: float,
                          tau: float) -> np.ndarray:
    """Keep probability of each embedding n-gram by its naive-Bayes weight (Zhang & Arefyev 2022):
    min(1, exp(|r| / tau) / 3), r its log-count ratio for `targets` (the largest |r_k| when there are several):
    never less than a third of an n-gram's pairs. Give it the TRAINING rows and labels only.

    Example:
        >>> m = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 0], [1, 0, 1]], dtype=np.float32))
        >>> targets = one_vs_rest_targets(np.array([1, 0, 1, 0]), 2)
        >>> [round(float(k), 2) for k in nb_keep_probabilities(m, targets, 0.5, 2.0)]  # |r| = log 5 for 1 and 2
        [0.33, 0.75, 0.75]
    """
    weight = np.abs(nb_ratios(presence, targets, alpha)).max(axis=1)
    return np.minimum(1.0, np.exp(weight / tau) / 3.0).astype(np.float32)


def train_nb_ensemble(nb: sp.csr_matrix, vectors: np.ndarray, ratios: np.ndarray, targets, C: float, scale: float,
                      *, max_iter: int = 200, tol: float = 1e-5) -> NBEnsembleModel:
    """One L2 logistic regression per target on [nb * r ; scale * vector] (one-vs-rest when K > 2); `nb` binary.

    Example:
        >>> nb, vectors = sp.csr_matrix(np.array([[1, 0], [0, 1]] * 4)), np.array([[1.0], [-1.0]] * 4)
        >>> targets = one_vs_rest_targets(np.array([1, 0] * 4), 2)
        >>> model = train_nb_ensemble(nb, vectors, nb_ratios(nb, targets, 1.0), targets, C=1.0, scale=1.0)
        >>> model.probabilities(nb[:2], vectors[:2]).argmax(axis=1).tolist()
        [1, 0]
    """
    nb_coefs, vector_coefs, intercepts, nb_mean_abs = [], [], [], []
    n_nb = nb.shape[1]
    for k, target in enumerate(targets):
        scaled = ratio_scaled(nb, ratios[:, k]) if n_nb else nb
        design = sp.hstack([scaled, sp.csr_matrix(scale * vectors.astype(np.float64))], format="csr")
        solution = train_logistic(design, target, C, max_iter=max_iter, tol=tol)
        nb_coefs.append(solution[:n_nb] * ratios[:, k] if n_nb else np.zeros(0))
        nb_mean_abs.append(np.abs(solution[:n_nb]).mean() if n_nb else 0.0)
        vector_coefs.append(solution[n_nb:-1] * scale)
        intercepts.append(solution[-1])
    return NBEnsembleModel(np.stack(nb_coefs, axis=1).astype(np.float32),
                        np.stack(vector_coefs, axis=1).astype(np.float32), np.array(intercepts),
                        np.array(nb_mean_abs))


def choose_nb_ensemble(nb: sp.csr_matrix, vectors: np.ndarray, ratios: np.ndarray, targets, *, C_grid, scale_grid,
                       betas, validation=None, max_iter: int = 200, tol: float = 1e-5
                       ) -> tuple[NBEnsembleModel, tuple[float, float, float], dict[str, float]]:
    """One `train_nb_ensemble` per (C, scale) of the grids, interpolated per beta (no new regression): the model
    with the best accuracy on `validation` (nb, vectors, labels), the first (smallest C and scale, largest beta)
    without one. Returns (model, (C, scale, beta), {"C_1_scale_1[_beta_0.5]": validation accuracy}).

    Example:
        >>> nb, vectors = sp.csr_matrix(np.array([[1, 0], [0, 1]] * 4)), np.zeros((8, 1))
        >>> targets = one_vs_rest_targets(np.array([1, 0] * 4), 2)
        >>> model, chosen, scores = choose_nb_ensemble(nb, vectors, nb_ratios(nb, targets, 1.0), targets,
        ...     C_grid=[1.0, 0.1], scale_grid=[1.0], betas=[1.0], validation=(nb[:2], vectors[:2], np.array([1, 0])))
        >>> chosen, sorted(scores)
        ((0.1, 1.0, 1.0), ['C_0.1_scale_1', 'C_1_scale_1'])
    """
    grid = [(c, s) for c in sorted(set(C_grid)) for s in sorted(set(scale_grid))]
    betas = sorted(set(betas), reverse=True)
    if validation is None or len(grid) * len(betas) == 1:
        model = train_nb_ensemble(nb, vectors, ratios, targets, *grid[0], max_iter=max_iter, tol=tol)
        return model.interpolated(betas[0], ratios), (*grid[0], betas[0]), {}
    nb_validation, vectors_validation, labels = validation
    best, scores = None, {}
    for c, scale in grid:
        trained = train_nb_ensemble(nb, vectors, ratios, targets, c, scale, max_iter=max_iter, tol=tol)
        for beta in betas:
            model = trained.interpolated(beta, ratios)
            predicted = model.probabilities(nb_validation, vectors_validation).argmax(1)
            accuracy = float((predicted == np.asarray(labels)).mean())
            scores[f"C_{c:g}_scale_{scale:g}" + (f"_beta_{beta:g}" if len(betas) > 1 else "")] = accuracy
            if best is None or accuracy > best[0]:
                best = (accuracy, (c, scale, beta), model)
    return best[2], best[1], scores
