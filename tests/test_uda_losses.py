"""UDA maths: TSA thresholds against their closed forms, the masked losses on hand-computed logits, the KL
direction, stop-gradient on the original branch, and the cross-replica reduction under tf.distribute."""

import math
import subprocess
import sys

import numpy as np
import pytest

from tfsenti.uda.losses import consistency_loss, global_mean, supervised_tsa_loss
from tfsenti.uda.tsa import TSA_SCHEDULES, tsa_threshold


@pytest.mark.parametrize("num_classes", [2, 5])
@pytest.mark.parametrize("t", [0.0, 0.1, 0.37, 0.5, 0.9, 1.0])
def test_tsa_thresholds_match_closed_forms(num_classes, t):
    k = num_classes
    expected = {
        "linear": t * (1 - 1 / k) + 1 / k,
        "log": (1 - math.exp(-5 * t)) * (1 - 1 / k) + 1 / k,
        "exp": math.exp(5 * (t - 1)) * (1 - 1 / k) + 1 / k,
        "none": 1.0,
    }
    for schedule in TSA_SCHEDULES:
        assert float(tsa_threshold(schedule, t, k)) == pytest.approx(expected[schedule], abs=1e-6), schedule


def test_tsa_threshold_clips_progress_and_orders_schedules():
    assert float(tsa_threshold("linear", 1.7, 2)) == pytest.approx(1.0)
    assert float(tsa_threshold("linear", -1.0, 2)) == pytest.approx(0.5)
    # at mid-training: log releases the most signal, exp the least
    values = {s: float(tsa_threshold(s, 0.5, 2)) for s in ("log", "linear", "exp")}
    assert values["log"] > values["linear"] > values["exp"]


def test_unknown_tsa_schedule_names_the_options():
    with pytest.raises(ValueError, match=r"cosine.*\['linear', 'log', 'exp', 'none'\]"):
        tsa_threshold("cosine", 0.5, 2)


def test_supervised_tsa_loss_on_hand_computed_logits():
    logits = np.array([[2.0, 0.0], [0.0, 0.0], [0.0, 3.0]], np.float32)
    labels = np.array([0, 0, 0])
    # correct-class probabilities: sigmoid(2) = 0.881 (> 0.6: masked), 0.5, 1 / (1 + e^3) = 0.047
    parts = supervised_tsa_loss(logits, labels, threshold=0.6)
    expected = (math.log(2.0) + math.log(1.0 + math.exp(3.0))) / 2
    assert float(global_mean(parts.loss_sum, parts.count)) == pytest.approx(expected, rel=1e-5)
    assert float(parts.masked) == 1.0 and float(parts.count) == 2.0
    # everything masked: the loss is 0, divided by max(0, 1)
    parts = supervised_tsa_loss(logits[:1], labels[:1], threshold=0.5)
    assert float(global_mean(parts.loss_sum, parts.count)) == 0.0
    # threshold 1: plain mean cross-entropy
    parts = supervised_tsa_loss(logits, labels, threshold=1.0)
    plain = np.mean([math.log(1 + math.exp(-2.0)), math.log(2.0), math.log(1 + math.exp(3.0))])
    assert float(global_mean(parts.loss_sum, parts.count)) == pytest.approx(plain, rel=1e-5)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _kl(p, q):
    return float(np.sum(p * (np.log(p) - np.log(q))))


def test_consistency_loss_direction_sharpening_and_confidence_mask():
    original = np.array([[2.0, 0.0], [0.0, 0.0]], np.float32)
    augmented = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    parts = consistency_loss(original, augmented, temperature=0.5, confidence_threshold=0.7)
    # row 0: max prob 0.88 > 0.7 kept; row 1: 0.5 masked; mean over both rows
    p0, q0 = _softmax(original[0] / 0.5), _softmax(augmented[0])
    expected = _kl(p0, q0) / 2
    assert float(global_mean(parts.loss_sum, parts.count)) == pytest.approx(expected, rel=1e-5)
    assert float(parts.masked) == 1.0
    reversed_direction = _kl(q0, p0) / 2
    assert abs(reversed_direction - expected) > 0.05  # the test can tell the two directions apart
    unsharpened = _kl(_softmax(original[0]), q0) / 2
    assert abs(unsharpened - expected) > 0.05
    # no mask, T = 1: mean KL over rows
    parts = consistency_loss(original, augmented, temperature=1.0)
    both = (_kl(_softmax(original[0]), q0) + _kl(_softmax(original[1]), _softmax(augmented[1]))) / 2
    assert float(global_mean(parts.loss_sum, parts.count)) == pytest.approx(both, rel=1e-5)


def test_no_gradient_flows_through_the_original_branch():
    import tensorflow as tf

    original = tf.Variable([[2.0, 0.0], [0.3, 0.1]])
    augmented = tf.Variable([[0.0, 1.0], [1.0, 0.0]])
    with tf.GradientTape(persistent=True) as tape:
        parts = consistency_loss(original, augmented, temperature=0.85)
        loss = global_mean(parts.loss_sum, parts.count)
    through_original = tape.gradient(loss, original)
    through_augmented = tape.gradient(loss, augmented)
    assert through_original is None or float(tf.reduce_max(tf.abs(through_original))) == 0.0
    assert float(tf.reduce_max(tf.abs(through_augmented))) > 1e-3


def test_tsa_mask_blocks_gradient_of_masked_examples():
    import tensorflow as tf

    logits = tf.Variable([[3.0, 0.0], [0.0, 0.0]])
    with tf.GradientTape() as tape:
        parts = supervised_tsa_loss(logits, tf.constant([0, 0]), threshold=0.6)
        loss = global_mean(parts.loss_sum, parts.count)
    gradient = tape.gradient(loss, logits).numpy()
    assert np.all(gradient[0] == 0.0) and np.any(gradient[1] != 0.0)


_REPLICAS = r"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tfsenti.uda.losses import global_mean, supervised_tsa_loss
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
logits = [tf.constant([[0.0, 0.0]]), tf.constant([[0.0, 1.0], [2.0, 0.0], [0.5, 0.0]])]
labels = [tf.constant([0]), tf.constant([0, 1, 0])]
values = strategy.experimental_distribute_values_from_function(
    lambda ctx: (logits[ctx.replica_id_in_sync_group], labels[ctx.replica_id_in_sync_group]))
def step(pair):
    parts = supervised_tsa_loss(pair[0], pair[1], threshold=1.0)
    return global_mean(parts.loss_sum, parts.count)
shares = strategy.run(tf.function(step), args=(values,))
total = float(strategy.reduce(tf.distribute.ReduceOp.SUM, shares, axis=None))
every = tf.concat(logits, 0); targets = tf.concat(labels, 0)
expected = float(tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, every)))
print(strategy.num_replicas_in_sync, total, expected)
"""


def test_losses_reduce_over_the_global_batch_across_replicas():
    completed = subprocess.run([sys.executable, "-c", _REPLICAS], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    replicas, total, expected = completed.stdout.split()[-3:]
    assert int(replicas) == 2
    # unequal replica batches (1 and 3 examples): the summed shares are the mean over all 4, not a mean of means
    assert float(total) == pytest.approx(float(expected), rel=1e-5)


def test_losses_on_more_than_two_classes():
    """3 and 5 classes: TSA starts at chance (1/K) and masks on the correct-class softmax probability; the
    consistency loss is the KL between the full K-class distributions."""
    k5 = np.log(np.array([[4.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0]], np.float32))  # p = 0.5, 0.2
    labels = np.array([0, 0])
    start = float(tsa_threshold("linear", 0.0, 5))
    assert start == pytest.approx(0.2)
    parts = supervised_tsa_loss(k5, labels, threshold=start)  # 0.5 > 0.2 masked; 0.2 (chance) kept
    assert float(parts.masked) == 1.0
    assert float(global_mean(parts.loss_sum, parts.count)) == pytest.approx(math.log(5.0), rel=1e-5)

    original = np.array([[2.0, 0.5, -1.0], [0.0, 0.6, 0.2]], np.float32)
    augmented = np.array([[0.3, 0.2, 0.1], [1.0, -1.0, 0.0]], np.float32)
    parts = consistency_loss(original, augmented, temperature=0.85, confidence_threshold=0.5)
    # row 0: max softmax 0.79 > 0.5 kept; row 1: 0.45 masked; the mean is over both rows
    assert _softmax(original[1]).max() < 0.5 < _softmax(original[0]).max()
    expected = _kl(_softmax(original[0] / 0.85), _softmax(augmented[0])) / 2
    assert float(global_mean(parts.loss_sum, parts.count)) == pytest.approx(expected, rel=1e-5)
    only_two = _kl(_softmax(original[0, :2] / 0.85), _softmax(augmented[0, :2])) / 2
    assert abs(only_two - expected) > 1e-3  # the third class counts
