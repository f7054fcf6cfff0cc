"""`bert_encoder`: BERT's post-layer-norm transformer encoder in plain TensorFlow ops, written once.

Two graphs run it: `tfsenti.bert.inference_graph.FusedBertClassifier` (the bert recipe's prediction and export:
weights copied from a keras_hub BertBackbone into a compute dtype, query/key/value joined and the 1/sqrt(head size)
folded into the query weights, no dropout) and `tfsenti.hub.bert_module` (TF-Hub sentence-embedding modules built
from a checkpoint: float32 variables, query/key/value kept apart so each stays a trainable variable, the scale
applied to the scores, dropout when fine-tuning). Dense layers work on [batch * length, hidden] matrices so that each
MatMul + BiasAdd (+ GELU) is one fused oneDNN kernel on CPU; layer norm, softmax and its mask run in float32.

Example:
    >>> import numpy as np, tensorflow as tf
    >>> rng, hidden, inner = np.random.default_rng(0), 4, 8
    >>> w = lambda *shape: tf.constant(rng.normal(0, 0.2, shape), tf.float32)
    >>> layer = {"qkv_kernel": w(hidden, 3 * hidden), "qkv_bias": w(3 * hidden), "output_kernel": w(hidden, hidden),
    ...          "output_bias": w(hidden), "attention_norm_gamma": w(hidden) + 1, "attention_norm_beta": w(hidden),
    ...          "intermediate_kernel": w(hidden, inner), "intermediate_bias": w(inner),
    ...          "ffn_output_kernel": w(inner, hidden), "ffn_output_bias": w(hidden),
    ...          "ffn_norm_gamma": w(hidden) + 1, "ffn_norm_beta": w(hidden)}
    >>> embeddings = {"token": w(10, hidden), "position": w(8, hidden), "segment": w(hidden),
    ...               "norm_gamma": w(hidden) + 1, "norm_beta": w(hidden)}
    >>> settings = EncoderSettings(num_heads=2, embedding_epsilon=1e-12, layer_epsilons=(1e-12,),
    ...                            activations=("gelu",))
    >>> ids, mask = tf.constant([[2, 5, 3, 0]]), tf.constant([[1.0, 1.0, 1.0, 0.0]])
    >>> bert_encoder(ids, mask, embeddings, [layer], settings).shape
    TensorShape([1, 4, 4])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

ACTIVATIONS = ("gelu", "gelu_approximate", "relu")


@dataclasses.dataclass(frozen=True)
class EncoderSettings:
    """How the encoder computes: the embedding layer norm's epsilon, then one epsilon and one activation per layer.

    `score_scale` multiplies the attention scores (1.0 when the query weights already carry 1/sqrt(head size));
    `compute_dtype` is the dtype of the dense layers; `dropout` applies only when `training`.
    """

    num_heads: int
    embedding_epsilon: float
    layer_epsilons: tuple[float, ...]
    activations: tuple[str, ...]
    compute_dtype: str = "float32"
    score_scale: float = 1.0
    dropout: float = 0.0

    def __post_init__(self):
        unknown = sorted(set(self.activations) - set(ACTIVATIONS))
        if unknown:
            raise ValueError(f"Unknown activation(s) {unknown}; allowed: {list(ACTIVATIONS)}.")
        if len(self.layer_epsilons) != len(self.activations):
            raise ValueError(f"One epsilon and one activation per layer: received {len(self.layer_epsilons)} "
                             f"epsilons and {len(self.activations)} activations.")


def bert_encoder(token_ids, mask, embeddings: Mapping, layers: Sequence[Mapping], settings: EncoderSettings, *,
                 training: bool = False):
    """Sequence output [batch, length, hidden] (compute dtype) of `token_ids` [batch, length] under `mask` (float32,
    1 for real tokens). `embeddings`: token [V, H], position [P, H], segment [H] (segment 0), norm_gamma, norm_beta;
    each layer: qkv_kernel [H, 3H], qkv_bias, output_kernel/_bias, attention_norm_gamma/_beta,
    intermediate_kernel/_bias, ffn_output_kernel/_bias, ffn_norm_gamma/_beta."""
    import tensorflow as tf

    dtype = tf.as_dtype(settings.compute_dtype)
    batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
    hidden = int(embeddings["token"].shape[-1])
    heads = settings.num_heads
    head_dim = hidden // heads
    if len(layers) != len(settings.activations):
        raise ValueError(f"{len(layers)} layers of weights but settings for {len(settings.activations)}.")

    def norm(x, gamma, beta, epsilon):
        x = tf.cast(x, tf.float32)
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return tf.cast((x - mean) * tf.math.rsqrt(variance + epsilon) * gamma + beta, dtype)

    def dense(x, kernel, bias):
        return tf.nn.bias_add(tf.matmul(x, kernel), bias)

    def dropout(x):
        return tf.nn.dropout(x, rate=settings.dropout) if training and settings.dropout > 0 else x

    # -- embeddings: [batch * length, hidden] from here on
    x = tf.gather(embeddings["token"], token_ids) + embeddings["position"][None, :length] + embeddings["segment"]
    x = dropout(norm(tf.reshape(x, [-1, hidden]), embeddings["norm_gamma"], embeddings["norm_beta"],
                     settings.embedding_epsilon))
    attention_bias = (1.0 - tf.cast(mask, tf.float32)[:, None, None, :]) * -1e9
    # -- transformer layers
    for w, epsilon, activation in zip(layers, settings.layer_epsilons, settings.activations):
        qkv = tf.reshape(dense(x, w["qkv_kernel"], w["qkv_bias"]), [batch, length, 3, heads, head_dim])
        query, key, value = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]))  # each [batch, heads, length, dim]
        scores = tf.cast(tf.matmul(query, key, transpose_b=True), tf.float32)
        if settings.score_scale != 1.0:
            scores = scores * settings.score_scale
        weights = dropout(tf.cast(tf.nn.softmax(scores + attention_bias, axis=-1), dtype))
        context = tf.reshape(tf.transpose(tf.matmul(weights, value), [0, 2, 1, 3]), [-1, hidden])
        attended = dense(context, w["output_kernel"], w["output_bias"])
        x = norm(x + dropout(attended), w["attention_norm_gamma"], w["attention_norm_beta"], epsilon)
        inner = activate(dense(x, w["intermediate_kernel"], w["intermediate_bias"]), activation)
        outer = dense(inner, w["ffn_output_kernel"], w["ffn_output_bias"])
        x = norm(x + dropout(outer), w["ffn_norm_gamma"], w["ffn_norm_beta"], epsilon)
    return tf.reshape(x, [batch, length, hidden])


def activate(x, name: str):
    """`relu`, `gelu` (exact) or `gelu_approximate` (tanh form, keras_hub's BERT and gelu_new).

    Example:
        >>> import tensorflow as tf
        >>> float(activate(tf.constant(-1.0), "relu"))
        0.0
    """
    import tensorflow as tf

    if name == "relu":
        return tf.nn.relu(x)
    return tf.nn.gelu(x, approximate=name == "gelu_approximate")
