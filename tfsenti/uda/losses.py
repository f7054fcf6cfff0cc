"""The two UDA losses, as (numerator, denominator) pieces so that a `tf.distribute` strategy can reduce them over
the global batch exactly (`global_mean`), plus the masks they report to TensorBoard.

- `supervised_tsa_loss`: per-example cross-entropy; an example whose correct-class probability exceeds the TSA
  threshold is masked; loss = sum(ce * mask) / max(sum(mask), 1) over the global labeled batch.
- `consistency_loss`: KL(stop_gradient(softmax(z_orig / T)) || softmax(z_aug)) per unlabeled example, times a
  confidence mask (max softmax(z_orig) > threshold), averaged over the global unlabeled batch (as google-research/uda
  does: masked examples count in the denominator).

Example:
    >>> import numpy as np
    >>> parts = supervised_tsa_loss(np.array([[2.0, 0.0], [0.0, 0.0]]), np.array([0, 0]), threshold=0.6)
    >>> round(float(global_mean(parts.loss_sum, parts.count)), 4)   # example 0 (p=0.88) is masked
    0.6931
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class LossParts:
    """Sum of the kept per-example losses, the count to divide by, and how many examples the mask removed."""

    loss_sum: object
    count: object
    masked: object
    size: object


def global_sum(value):
    """Sum of `value` over the replicas of the current `tf.distribute` strategy (itself without one)."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def global_mean(local_sum, local_count):
    """This replica's share of the global mean: local_sum / max(global count, 1).

    Summed over replicas (as the optimizer sums gradients) it is the mean over the global batch, whatever the number
    of replicas.
    """
    import tensorflow as tf

    return local_sum / tf.maximum(global_sum(tf.cast(local_count, tf.float32)), 1.0)


def supervised_tsa_loss(logits, labels, *, threshold) -> LossParts:
    """Cross-entropy on the labeled examples whose correct-class probability is <= `threshold`."""
    import tensorflow as tf

    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    correct_probability = tf.exp(-per_example)
    keep = tf.stop_gradient(tf.cast(correct_probability <= tf.cast(threshold, tf.float32), tf.float32))
    size = tf.cast(tf.shape(labels)[0], tf.float32)
    return LossParts(loss_sum=tf.reduce_sum(per_example * keep), count=tf.reduce_sum(keep),
                     masked=size - tf.reduce_sum(keep), size=size)


def kl_divergence_with_logits(p_logits, q_logits):
    """KL(softmax(p_logits) || softmax(q_logits)) per row."""
    import tensorflow as tf

    p = tf.nn.softmax(p_logits, axis=-1)
    return tf.reduce_sum(p * (tf.nn.log_softmax(p_logits, axis=-1) - tf.nn.log_softmax(q_logits, axis=-1)), axis=-1)


def consistency_loss(original_logits, augmented_logits, *, temperature: float = 1.0,
                     confidence_threshold: float = -1.0) -> LossParts:
    """KL(stop_gradient(softmax(original / T)) || softmax(augmented)), masked where the original's (unsharpened)
    max probability is <= `confidence_threshold`; `count` is the batch size (mean over every unlabeled example)."""
    import tensorflow as tf

    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, received {temperature}.")
    original = tf.stop_gradient(tf.cast(original_logits, tf.float32))
    augmented = tf.cast(augmented_logits, tf.float32)
    per_example = kl_divergence_with_logits(original / temperature, augmented)
    confident = tf.cast(tf.reduce_max(tf.nn.softmax(original, axis=-1), axis=-1) > confidence_threshold, tf.float32)
    size = tf.cast(tf.shape(per_example)[0], tf.float32)
    return LossParts(loss_sum=tf.reduce_sum(per_example * confident), count=size,
                     masked=size - tf.reduce_sum(confident), size=size)
