"""Metrics against hand-computed values and scikit-learn."""

import json

import numpy as np
import pytest

from tfsenti import evaluation
from tfsenti.errors import DataError


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


@pytest.mark.parametrize("num_classes, seed", [(3, 0), (5, 1), (5, 2)])
def test_per_class_report_matches_scikit_learn(num_classes, seed):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, 300)
    probabilities = rng.dirichlet(np.ones(num_classes), 300)
    probabilities[labels == 0, 0] += 0.5  # some skill, so that classes differ
    probabilities[:, num_classes - 1] *= 0.2  # the last class is seldom predicted
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    names = [f"class {c}" for c in range(num_classes)]
    report = evaluation.per_class_report(labels, probabilities, names)
    expected = metrics.classification_report(labels, probabilities.argmax(1), labels=list(range(num_classes)),
                                             target_names=names, output_dict=True, zero_division=0)
    for name in names:
        for key in ("precision", "recall", "f1-score", "support"):
            assert report["classes"][name][key.replace("-score", "")] == pytest.approx(expected[name][key]), (name, key)
    for ours, theirs in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        for key in ("precision", "recall", "f1-score", "support"):
            assert report[ours][key.replace("-score", "")] == pytest.approx(expected[theirs][key]), (ours, key)
    assert report["accuracy"] == pytest.approx(expected["accuracy"])
    assert report["macro_avg"]["f1"] == pytest.approx(evaluation.classification_metrics(labels, probabilities)
                                                      ["macro_f1"])
    assert evaluation.confusion_matrix(labels, probabilities.argmax(1), num_classes).tolist() == \
        metrics.confusion_matrix(labels, probabilities.argmax(1), labels=list(range(num_classes))).tolist()


def test_per_class_report_never_predicted_and_absent_classes_score_zero():
    probabilities = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1]])
    report = evaluation.per_class_report([0, 1, 1], probabilities, ["a", "b", "c"])
    assert report["classes"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert report["classes"]["b"]["precision"] == 1.0 and report["classes"]["b"]["recall"] == 0.5
    json.dumps(report)  # builtins only: it goes into metrics.json


def test_per_class_report_rejects_mismatched_names():
    with pytest.raises(DataError, match="one class name per probability column"):
        evaluation.per_class_report([0, 1], np.full((2, 2), 0.5), ["only one"])
    with pytest.raises(DataError, match="labels must lie in 0..1"):
        evaluation.per_class_report([0, 2], np.full((2, 2), 0.5), ["a", "b"])


def test_format_report_table_and_confusion_with_class_names():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 40)
    probabilities = rng.dirichlet(np.ones(3), 40)
    names = ["부정", "neutral", "positive"]
    report = evaluation.per_class_report(labels, probabilities, names)
    confusion = evaluation.confusion_matrix(labels, probabilities.argmax(1), 3)
    text = evaluation.format_report(report, confusion.tolist(), names)  # lists, as read back from metrics.json
    lines = text.splitlines()
    assert lines[0].split() == ["precision", "recall", "f1", "support"]
    for name, line in zip(names, lines[1:4]):
        scores = report["classes"][name]
        assert line.split() == [name, f"{scores['precision']:.4f}", f"{scores['recall']:.4f}",
                                f"{scores['f1']:.4f}", str(scores["support"])]
    assert any(line.split()[:2] == ["weighted", "avg"] for line in lines)
    header = lines.index("confusion matrix (rows: true class, columns: predicted class)") + 1
    assert lines[header].split()[-3:] == names
    for name, counts, line in zip(names, confusion, lines[header + 1:]):  # rows are the true classes
        assert line.split() == [name, *map(str, counts)]
    # columns line up: every count ends in the column where its class name ends (Hangul is two columns wide)
    assert len({tuple(_token_ends(line)[-3:]) for line in lines[header:header + 4]}) == 1


def _token_ends(line):
    """The terminal column where each whitespace-separated token of `line` ends."""
    ends, column, previous = [], 0, " "
    for char in line + " ":
        if char == " " and previous != " ":
            ends.append(column)
        column += evaluation.display_width(char)
        previous = char
    return ends

def test_format_report_rejects_a_confusion_matrix_of_other_classes():
    report = evaluation.per_class_report([0, 1], np.array([[0.9, 0.1], [0.2, 0.8]]), ["a", "b"])
    with pytest.raises(DataError, match="must be 2 x 2"):
        evaluation.format_report(report, np.zeros((3, 3)), ["a", "b"])
