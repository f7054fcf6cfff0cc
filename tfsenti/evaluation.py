"""Metrics identical for every recipe: accuracy, macro-F1, ROC-AUC, log-loss, the confusion matrix and a per-class
report (precision, recall, F1, support), NumPy only.

Example:
    >>> import numpy as np
    >>> probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> metrics = classification_metrics([0, 1, 1, 1], probabilities)
    >>> metrics["accuracy"], round(metrics["roc_auc"], 3)
    (0.75, 1.0)
    >>> report = per_class_report([0, 1, 1, 1], probabilities, ["negative", "positive"])
    >>> report["classes"]["positive"]
    {'precision': 1.0, 'recall': 0.6666666666666666, 'f1': 0.8, 'support': 3}
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from tfsenti.errors import DataError


def confusion_matrix(labels: Sequence[int], predictions: Sequence[int], num_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predictions, np.int64)), 1)
    return matrix


def class_scores(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix (rows = true class); a class never
    predicted has precision 0 and one never present recall 0 (scikit-learn's `zero_division=0`).

    Example:
        >>> precision, recall, f1, support = class_scores(np.array([[1, 0], [1, 2]]))
        >>> precision.tolist(), recall.round(3).tolist(), support.tolist()
        ([0.5, 1.0], [1.0, 0.667], [1, 3])
    """
    true_positive = np.diag(matrix).astype(np.float64)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positive / predicted, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1, support


def macro_f1(matrix: np.ndarray) -> float:
    return float(class_scores(matrix)[2].mean())


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


def per_class_report(labels: Sequence[int], probabilities: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """Precision, recall, F1 and support of every class (predicted class = argmax), with macro and weighted averages.

    A class never predicted has precision 0, one absent from `labels` recall 0 (scikit-learn's `zero_division=0`).
    The result holds only builtins (JSON-ready): `classes` (name -> scores), `macro_avg`, `weighted_avg`
    (support-weighted), `accuracy` and `support` (number of examples).

    Example:
        >>> probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
        >>> report = per_class_report([0, 1, 1, 1], probabilities, ["negative", "positive"])
        >>> report["classes"]["negative"]
        {'precision': 0.5, 'recall': 1.0, 'f1': 0.6666666666666666, 'support': 1}
        >>> round(report["macro_avg"]["f1"], 4), report["accuracy"], report["support"]
        (0.7333, 0.75, 4)
    """
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities)
    names = [str(name) for name in class_names]
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or probabilities.shape[1] != len(names):
        raise DataError(f"per_class_report needs probabilities of shape (n, C) = ({len(labels)}, {len(names)}) for "
                        f"{len(labels)} labels and {len(names)} class names, received shape {probabilities.shape}. "
                        "Pass one class name per probability column.")
    if len(set(names)) != len(names):
        raise DataError(f"class names must be distinct, received {names}. Rename the repeated classes.")
    if len(labels) == 0:
        raise DataError("cannot report on an empty set: no labels were given.")
    if labels.min() < 0 or labels.max() >= len(names):
        raise DataError(f"labels must lie in 0..{len(names) - 1} (one per class name), received values from "
                        f"{labels.min()} to {labels.max()}. Map labels to class indices first.")
    matrix = confusion_matrix(labels, probabilities.argmax(axis=1), len(names))
    precision, recall, f1, support = class_scores(matrix)
    scores = np.stack([precision, recall, f1], axis=1)
    weights = support / support.sum()

    def row(values: np.ndarray, count: int) -> dict[str, Any]:
        return {"precision": float(values[0]), "recall": float(values[1]), "f1": float(values[2]),
                "support": int(count)}

    return {
        "classes": {name: row(scores[c], support[c]) for c, name in enumerate(names)},
        "macro_avg": row(scores.mean(axis=0), support.sum()),
        "weighted_avg": row(weights @ scores, support.sum()),
        "accuracy": float(np.trace(matrix) / support.sum()),
        "support": int(support.sum()),
    }


def format_report(report: dict[str, Any], confusion, class_names: Sequence[str]) -> str:
    """A text table of `per_class_report`'s scores, then the confusion matrix with class names as headers (rows =
    true class, columns = predicted class). `confusion` may be an array or nested lists (as in metrics.json).

    Example:
        >>> probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
        >>> names = ["negative", "positive"]
        >>> report = per_class_report([0, 1, 1, 1], probabilities, names)
        >>> print(format_report(report, confusion_matrix([0, 1, 1, 1], [0, 1, 0, 1], 2), names))
                      precision  recall      f1  support
        negative         0.5000  1.0000  0.6667        1
        positive         1.0000  0.6667  0.8000        3
        <BLANKLINE>
        macro avg        0.7500  0.8333  0.7333        4
        weighted avg     0.8750  0.7500  0.7667        4
        accuracy                         0.7500        4
        <BLANKLINE>
        confusion matrix (rows: true class, columns: predicted class)
        true \\ predicted  negative  positive
        negative                 1         0
        positive                 1         2
    """
    names = [str(name) for name in class_names]
    confusion = np.asarray(confusion, dtype=np.int64)
    if confusion.shape != (len(names), len(names)):
        raise DataError(f"the confusion matrix must be {len(names)} x {len(names)} (one row and column per class "
                        f"name), received shape {confusion.shape}. Pass the class names the matrix was counted for.")
    missing = [name for name in names if name not in report.get("classes", {})]
    if missing:
        raise DataError(f"the report has no scores for {missing}; it holds {list(report.get('classes', {}))}. "
                        "Pass the report and class names of the same evaluation.")
    # ---- scores
    label_width = max(display_width(text) for text in [*names, "weighted avg"])
    header = pad("", label_width) + "  precision  recall      f1  support"

    def score_line(label: str, scores: dict[str, Any]) -> str:
        return (f"{pad(label, label_width)}  {scores['precision']:>9.4f}  {scores['recall']:>6.4f}  "
                f"{scores['f1']:>6.4f}  {scores['support']:>7d}")

    lines = [header, *(score_line(name, report["classes"][name]) for name in names), ""]
    lines += [score_line("macro avg", report["macro_avg"]), score_line("weighted avg", report["weighted_avg"])]
    lines.append(f"{pad('accuracy', label_width)}  {'':>9}  {'':>6}  {report['accuracy']:>6.4f}  "
                 f"{report['support']:>7d}")
    # ---- confusion matrix
    corner = "true \\ predicted"
    row_width = max(display_width(text) for text in [*names, corner])
    column_width = max(max(display_width(name) for name in names), len(str(confusion.max(initial=0))))
    lines += ["", "confusion matrix (rows: true class, columns: predicted class)",
              pad(corner, row_width) + "".join("  " + pad(name, column_width, right=True) for name in names)]
    for name, counts in zip(names, confusion):
        lines.append(pad(name, row_width) + "".join(f"  {count:>{column_width}d}" for count in counts))
    return "\n".join(line.rstrip() for line in lines)


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (East Asian) characters count two.

    Example:
        >>> display_width("긍정"), display_width("positive")
        (4, 8)
    """
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns (aligned left, or right with `right=True`)."""
    fill = " " * max(width - display_width(text), 0)
    return fill + text if right else text + fill
