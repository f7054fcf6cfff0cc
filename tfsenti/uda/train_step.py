"""`UDATrainer`: a Keras 3 model wrapping a classifier, whose `train_step` does one UDA update.

A batch is `({"labeled": x_l, "original": x_u, "augmented": x_a}, y_l)`: token dicts (token_ids, segment_ids,
padding_mask) for the labeled texts, the unlabeled texts and their augmented copies, i.e. the paper's
[labeled | unlabeled original | unlabeled augmented] layout. Without `original`/`augmented` the step is plain
supervised training with TSA (the supervised-only baseline at the same number of steps).

One step:
    z_o = classifier(x_u)  (training mode, outside the gradient tape: the target is a constant, stop_gradient)
    z_l, z_a = classifier([x_l | x_a])  (one forward pass under the tape)
    L = CE_TSA(z_l, y_l) + uda_coeff * KL(softmax(z_o / T) || softmax(z_a)) * confidence_mask
Both losses are divided by global counts (`tfsenti.uda.losses.global_mean`), so under a `tf.distribute` strategy
the replicas' gradients sum to the gradient of the global-batch loss. With mixed_float16 the optimizer is a
LossScaleOptimizer and the loss is scaled before the gradient.

Logged (and written to TensorBoard by the training loop): loss, supervised_loss, unsupervised_loss,
tsa_threshold, tsa_masked_fraction, confidence_mask_fraction (and the learning rate).

Example:
    >>> import keras
    >>> inputs = {n: keras.Input((None,), dtype="int32", name=n) for n in ("token_ids", "segment_ids",
    ...                                                                   "padding_mask")}
    >>> vectors = keras.layers.Embedding(10, 4)(inputs["token_ids"])[:, 0]
    >>> classifier = keras.Model(inputs, keras.layers.Dense(2)(vectors))
    >>> trainer = UDATrainer(classifier, num_classes=2, total_steps=10)
    >>> trainer.tsa_schedule, trainer.uda_coeff
    ('linear', 1.0)
"""

from __future__ import annotations

import keras

from tfsenti.uda.losses import consistency_loss, global_mean, global_sum, supervised_tsa_loss
from tfsenti.uda.tsa import check_schedule, tsa_threshold

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


class UDATrainer(keras.Model):
    """Trains `classifier` (token dict -> logits) with UDA; `call` is the classifier itself."""

    def __init__(self, classifier, *, num_classes: int, total_steps: int, tsa_schedule: str = "linear",
                 uda_coeff: float = 1.0, temperature: float = 1.0, confidence_threshold: float = -1.0,
                 trim_padding: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.classifier = classifier
        self.num_classes = num_classes
        self.total_steps = total_steps
        self.tsa_schedule = check_schedule(tsa_schedule)
        self.uda_coeff = uda_coeff
        self.temperature = temperature
        self.confidence_threshold = confidence_threshold
        self.trim_padding = trim_padding
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.supervised_tracker = keras.metrics.Mean(name="supervised_loss")
        self.unsupervised_tracker = keras.metrics.Mean(name="unsupervised_loss")
        self.tsa_masked_tracker = keras.metrics.Mean(name="tsa_masked_fraction")
        self.confidence_tracker = keras.metrics.Mean(name="confidence_mask_fraction")
        self.built = classifier.built  # its weights are the classifier's, which exist already

    def call(self, inputs, training=False):
        return self.classifier(inputs, training=training)

    @property
    def metrics(self):
        return [self.loss_tracker, self.supervised_tracker, self.unsupervised_tracker, self.tsa_masked_tracker,
                self.confidence_tracker]

    def _trim(self, inputs):
        """Drop the padding columns every row of the batch has (padding is masked: the result is unchanged)."""
        import tensorflow as tf

        if not self.trim_padding:
            return inputs
        width = tf.maximum(tf.reduce_max(tf.reduce_sum(tf.cast(inputs["padding_mask"], tf.int32), axis=1)), 1)
        return {name: inputs[name][:, :width] for name in INPUT_NAMES}

    def progress(self):
        """Fraction of training done, by the optimizer's micro-batch counter (drives the TSA threshold)."""
        import tensorflow as tf

        from tfsenti.training.optimizer import micro_step_counter

        step = tf.cast(micro_step_counter(self.optimizer), tf.float32)
        return step / float(max(self.total_steps, 1))

    def train_step(self, data):
        import tensorflow as tf

        batch, labels = data
        labeled = batch["labeled"]
        with_unlabeled = "original" in batch and self.uda_coeff != 0
        threshold = tsa_threshold(self.tsa_schedule, self.progress(), self.num_classes)
        if with_unlabeled:
            original_logits = tf.stop_gradient(self.classifier(self._trim(batch["original"]), training=True))
            labeled_size = tf.shape(labeled["token_ids"])[0]
            both = self._trim({name: tf.concat([_pad_to(labeled[name], batch["augmented"][name]),
                                                 _pad_to(batch["augmented"][name], labeled[name])], axis=0)
                               for name in INPUT_NAMES})
        with tf.GradientTape() as tape:
            if with_unlabeled:
                logits = self.classifier(both, training=True)
                labeled_logits, augmented_logits = logits[:labeled_size], logits[labeled_size:]
            else:
                labeled_logits = self.classifier(self._trim(labeled), training=True)
            supervised = supervised_tsa_loss(labeled_logits, labels, threshold=threshold)
            supervised_loss = global_mean(supervised.loss_sum, supervised.count)
            loss = supervised_loss
            if with_unlabeled:
                unsupervised = consistency_loss(original_logits, augmented_logits, temperature=self.temperature,
                                                confidence_threshold=self.confidence_threshold)
                unsupervised_loss = global_mean(unsupervised.loss_sum, unsupervised.count)
                loss = loss + self.uda_coeff * unsupervised_loss
            scaled = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply(gradients, variables)

        # -- logs: global values (summed over replicas), not this replica's share
        self.loss_tracker.update_state(global_sum(loss))
        self.supervised_tracker.update_state(global_sum(supervised_loss))
        self.tsa_masked_tracker.update_state(global_sum(supervised.masked) / global_sum(supervised.size))
        if with_unlabeled:
            self.unsupervised_tracker.update_state(global_sum(unsupervised_loss))
            self.confidence_tracker.update_state(global_sum(unsupervised.size - unsupervised.masked)
                                                 / global_sum(unsupervised.size))
        logs = {metric.name: metric.result() for metric in self.metrics}
        logs["tsa_threshold"] = threshold
        return logs


def _pad_to(tensor, other):
    """`tensor` right-padded with zeros to the width of `other` when that is wider."""
    import tensorflow as tf

    missing = tf.maximum(tf.shape(other)[1] - tf.shape(tensor)[1], 0)
    return tf.pad(tensor, [[0, 0], [0, missing]])
