"""`FusedBertClassifier`: the inference forward pass of a trained tfsenti BERT classifier (keras_hub BertBackbone +
pooling + dense head) rewritten for speed on CPU, used for prediction and export.

Why: keras_hub's layers run every dense layer as a Tensordot on 3-D tensors, so TensorFlow's oneDNN rewrite cannot
fuse MatMul + BiasAdd + GELU; under mixed_bfloat16 the separate element-wise GELU ops were the largest cost after the
matrix products in a TensorFlow profiler trace. Here the same function runs on [batch * length, hidden] matrices with
the weights copied once into the compute dtype (query/key/value joined into one matrix, the 1/sqrt(head size)
folded into the query weights), so each dense layer is one fused oneDNN kernel (AMX on CPUs that have it). Layer
norm, attention softmax, mean pooling and the head run in float32 (Keras mixed precision does the same for layer
norm and the head); the [CLS] pooler dense runs in the compute dtype like the other dense layers.
Batches are trimmed to their longest text before the encoder (padding is masked, so this changes nothing but time).

Sibling: tfsenti.hub.bert_module._Encoder is the same post-layer-norm encoder for hub modules (float32, dropout,
trainable variables); a fix to one (attention, layer norm, activation) likely belongs in the other too.

The weights are a snapshot: build it after training (the `bert` recipe does, lazily, and drops it when it trains).

Example:
    >>> graph = FusedBertClassifier(recipe.model_, pooling="mean", compute_dtype="bfloat16")
    >>> probabilities = graph(token_ids, padding_mask)        # float32 [batch, classes]
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfsenti.errors import TfsentiError

COMPUTE_DTYPES = ("float32", "bfloat16", "float16")


class UnsupportedModelError(TfsentiError, ValueError):
    """The Keras model is not a BertBackbone + head this graph knows how to rewrite."""


class FusedBertClassifier(tf.Module):
    """Probabilities of a `bert_classifier` Keras model (see `tfsenti.recipes.bert`) from token ids + padding mask."""

    def __init__(self, model, *, pooling: str, compute_dtype: str = "bfloat16", name: str = "fused_bert"):
        import keras_hub

        super().__init__(name=name)
        if compute_dtype not in COMPUTE_DTYPES:
            raise ValueError(f"compute_dtype must be one of {list(COMPUTE_DTYPES)}, received {compute_dtype!r}.")
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', received {pooling!r}.")
        backbones = [layer for layer in model.layers if isinstance(layer, keras_hub.models.BertBackbone)]
        if len(backbones) != 1:
            raise UnsupportedModelError(f"Expected one keras_hub BertBackbone inside {model.name!r}, found "
                                        f"{len(backbones)}; use params.inference_graph=keras.")
        backbone = backbones[0]
        self.pooling, self.compute_dtype = pooling, tf.as_dtype(compute_dtype)
        self.num_heads = backbone.num_heads
        self.head_dim = backbone.hidden_dim // backbone.num_heads
        dtype = self.compute_dtype

        def weight(value, as_dtype=dtype):
            return tf.Variable(tf.cast(np.asarray(value, np.float32), as_dtype), trainable=False)

        self.token_embedding = weight(backbone.token_embedding.embeddings)
        self.position_embedding = weight(backbone.position_embedding.position_embeddings)
        self.segment_embedding = weight(backbone.segment_embedding.embeddings[0])
        norm = backbone.embeddings_layer_norm
        self.embedding_norm = (weight(norm.gamma, tf.float32), weight(norm.beta, tf.float32))
        self.embedding_epsilon = float(norm.epsilon)
        self.layers = [self._layer_weights(layer, weight) for layer in backbone.transformer_layers]
        self.epsilons = [float(layer.layer_norm_epsilon) for layer in backbone.transformer_layers]
        self.activations = [_activation_name(layer) for layer in backbone.transformer_layers]
        self.pooled_kernel = weight(backbone.pooled_dense.kernel)
        self.pooled_bias = weight(backbone.pooled_dense.bias)
        head = model.get_layer("logits")
        self.head_kernel, self.head_bias = weight(head.kernel, tf.float32), weight(head.bias, tf.float32)

    def _layer_weights(self, layer, weight) -> dict:
        import keras_hub

        if not isinstance(layer, keras_hub.layers.TransformerEncoder) or layer.normalize_first:
            raise UnsupportedModelError("Only post-layer-norm keras_hub TransformerEncoder layers (BERT) are "
                                        "supported; use params.inference_graph=keras.")
        attention, dense = layer._self_attention_layer, layer._feedforward_intermediate_dense
        hidden = attention._query_dense.kernel.shape[0]
        scale = 1.0 / math.sqrt(self.head_dim)

        def matrix(einsum_dense, factor=1.0):
            return np.reshape(np.asarray(einsum_dense.kernel, np.float32) * factor, (hidden, -1))

        def vector(einsum_dense, factor=1.0):
            return np.reshape(np.asarray(einsum_dense.bias, np.float32) * factor, (-1,))

        qkv_kernel = np.concatenate([matrix(attention._query_dense, scale), matrix(attention._key_dense),
                                     matrix(attention._value_dense)], axis=1)
        qkv_bias = np.concatenate([vector(attention._query_dense, scale), vector(attention._key_dense),
                                   vector(attention._value_dense)])
        output = attention._output_dense
        return {
            "qkv_kernel": weight(qkv_kernel), "qkv_bias": weight(qkv_bias),
            "output_kernel": weight(np.reshape(np.asarray(output.kernel, np.float32), (-1, hidden))),
            "output_bias": weight(output.bias),
            "attention_norm": (weight(layer._self_attention_layer_norm.gamma, tf.float32),
                               weight(layer._self_attention_layer_norm.beta, tf.float32)),
            "intermediate_kernel": weight(dense.kernel), "intermediate_bias": weight(dense.bias),
            "ffn_output_kernel": weight(layer._feedforward_output_dense.kernel),
            "ffn_output_bias": weight(layer._feedforward_output_dense.bias),
            "ffn_norm": (weight(layer._feedforward_layer_norm.gamma, tf.float32),
                         weight(layer._feedforward_layer_norm.beta, tf.float32)),
        }

    def __call__(self, token_ids, padding_mask):
        """token_ids, padding_mask: int [batch, length] (padding after the text) -> float32 [batch, classes]."""
        token_ids, padding_mask = tf.convert_to_tensor(token_ids), tf.cast(padding_mask, tf.int32)
        width = tf.maximum(tf.reduce_max(tf.reduce_sum(padding_mask, axis=1)), 1)
        token_ids, padding_mask = token_ids[:, :width], padding_mask[:, :width]
        batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        hidden = self.num_heads * self.head_dim
        mask = tf.cast(padding_mask, tf.float32)

        x = (tf.gather(self.token_embedding, token_ids) + self.position_embedding[None, :length]
             + self.segment_embedding)
        # [batch * length, hidden]
        x = self._norm(tf.reshape(x, [-1, hidden]), *self.embedding_norm, self.embedding_epsilon)
        attention_bias = (1.0 - mask[:, None, None, :]) * -1e9
        for w, epsilon, activation in zip(self.layers, self.epsilons, self.activations):
            qkv = tf.nn.bias_add(tf.matmul(x, w["qkv_kernel"]), w["qkv_bias"])
            qkv = tf.reshape(qkv, [batch, length, 3, self.num_heads, self.head_dim])
            query, key, value = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]))  # each [batch, heads, length, dim]
            scores = tf.cast(tf.matmul(query, key, transpose_b=True), tf.float32) + attention_bias
            weights = tf.cast(tf.nn.softmax(scores, axis=-1), self.compute_dtype)
            context = tf.reshape(tf.transpose(tf.matmul(weights, value), [0, 2, 1, 3]), [-1, hidden])
            attended = tf.nn.bias_add(tf.matmul(context, w["output_kernel"]), w["output_bias"])
            x = self._norm(x + attended, *w["attention_norm"], epsilon)
            inner = self._activate(tf.nn.bias_add(tf.matmul(x, w["intermediate_kernel"]), w["intermediate_bias"]),
                                   activation)
            outer = tf.nn.bias_add(tf.matmul(inner, w["ffn_output_kernel"]), w["ffn_output_bias"])
            x = self._norm(x + outer, *w["ffn_norm"], epsilon)
        sequence = tf.reshape(x, [batch, length, hidden])
        if self.pooling == "mean":
            sequence = tf.cast(sequence, tf.float32)
            pooled = tf.reduce_sum(sequence * mask[:, :, None], axis=1) / tf.maximum(
                tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        else:
            pooled = tf.tanh(tf.nn.bias_add(tf.matmul(sequence[:, 0], self.pooled_kernel), self.pooled_bias))
        logits = tf.nn.bias_add(tf.matmul(tf.cast(pooled, tf.float32), self.head_kernel), self.head_bias)
        return tf.nn.softmax(logits, axis=-1)

    def _norm(self, x, gamma, beta, epsilon):
        x = tf.cast(x, tf.float32)
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return tf.cast((x - mean) * tf.math.rsqrt(variance + epsilon) * gamma + beta, self.compute_dtype)

    @staticmethod
    def _activate(x, name: str):
        """`name` from `_activation_name`."""
        if name == "relu":
            return tf.nn.relu(x)
        return tf.nn.gelu(x, approximate=name == "gelu_approximate")


def _activation_name(layer) -> str:
    from keras_hub.src.utils.keras_utils import gelu_approximate

    activation = layer._feedforward_intermediate_dense.activation
    if activation is gelu_approximate:
        return "gelu_approximate"
    if getattr(activation, "__name__", "") in ("gelu", "relu"):
        return activation.__name__
    raise UnsupportedModelError(f"Feed-forward activation {activation!r} is not supported by the fused inference "
                                "graph; use params.inference_graph=keras.")
