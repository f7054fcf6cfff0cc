"""Metrics identical for every recipe: accuracy, macro-F1, ROC-AUC, log-loss and the confusion matrix (NumPy only).

Example:
    >>> import numpy as np
    >>> probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> metrics = classification_metrics([0, 1, 1, 1], probabilities)
    >>> metrics["accuracy"], round(metrics["roc_auc"], 3)
    (0.75, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(labels: Sequence[int], predictions: Sequence[int], num_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predictions, np.int64)), 1)
    return matrix


def macro_f1(matrix: np.ndarray) -> float:
    true_positive = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positive / predicted, 0.0)
        recall = np.where(actual > 0, true_positive / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return float(f1.mean())


def binary_roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney U) statistic, ties counted half."""
    labels = np.asarray(labels).astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # average ranks over ties
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(scores)]])
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    rank_sum = ranks[labels].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def roc_auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Binary: AUC of the positive-class probability; multiclass: macro one-vs-rest AUC."""
    labels = np.asarray(labels)
    if probabilities.shape[1] == 2:
        return binary_roc_auc(labels == 1, probabilities[:, 1])
    scores = [binary_roc_auc(labels == c, probabilities[:, c]) for c in range(probabilities.shape[1])]
    return float(np.nanmean(scores))


def classification_metrics(labels: Sequence[int], probabilities: np.ndarray) -> dict[str, float]:
    """accuracy, macro_f1, roc_auc, log_loss and n for integer labels and an (n, C) probability matrix."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(f"probabilities must be (n, C) with n={len(labels)}, received shape {probabilities.shape}")
    if len(labels) == 0:
        raise ValueError("cannot compute metrics on an empty set")
    predictions = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predictions, probabilities.shape[1])
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)
    return {
        "accuracy": float((predictions == labels).mean()),
        "macro_f1": macro_f1(matrix),
        "roc_auc": roc_auc(labels, probabilities),
        "log_loss": float(-np.log(picked).mean()),
        "n": int(len(labels)),
    }


def misclassified(texts: Sequence[str], labels: np.ndarray, probabilities: np.ndarray, *, k: int = 10):
    """The k most confidently wrong examples as (text, true label, predicted label, confidence)."""
    predictions = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    confidence = probabilities[wrong, predictions[wrong]]
    worst = wrong[np.argsort(-confidence)[:k]]
    return [(texts[i], int(labels[i]), int(predictions[i]), float(probabilities[i, predictions[i]])) for i in worst]
