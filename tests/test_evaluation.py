"""Metrics against hand-computed values."""

import numpy as np
import pytest

from tfsenti import evaluation


def test_binary_metrics_by_hand():
    labels = [0, 0, 1, 1, 1]
    probabilities = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    metrics = evaluation.classification_metrics(labels, probabilities)
    assert metrics["accuracy"] == pytest.approx(3 / 5)
    # class 0: P=1/2 R=1/2 F1=0.5; class 1: P=2/3 R=2/3 F1=2/3
    assert metrics["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    # positive scores 0.7, 0.4, 0.9 vs negative 0.2, 0.6: 5 of 6 pairs ordered correctly
    assert metrics["roc_auc"] == pytest.approx(5 / 6)
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.8, 0.4, 0.7, 0.4, 0.9])))


def test_auc_ties_count_half():
    assert evaluation.binary_roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_confusion_matrix_rows_are_true_labels():
    matrix = evaluation.confusion_matrix([0, 1, 1, 2], [0, 0, 1, 2], 3)
    assert matrix.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]


def test_misclassified_most_confident_first():
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.45, 0.55]])
    worst = evaluation.misclassified(["a", "b", "c"], np.array([1, 0, 0]), probabilities, k=2)
    assert [row[0] for row in worst] == ["a", "b"]


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="probabilities must be"):
        evaluation.classification_metrics([0, 1], np.ones((3, 2)) / 2)
