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

The encoder itself is `tfsenti.bert.encoder.bert_encoder`, shared with the TF-Hub BERT modules
(`tfsenti.hub.bert_module`); this class prepares its weights and adds the trimming, pooling and head.

The weights are a snapshot: build it after training (the `bert` recipe does, lazily, and drops it when it trains).

Example:
    >>> import keras, keras_hub, numpy as np
    >>> backbone = keras_hub.models.BertBackbone(vocabulary_size=10, num_layers=1, num_heads=2, hidden_dim=4,
    ...                                          intermediate_dim=8, max_sequence_length=8)
    >>> inputs = {name: keras.Input((None,), dtype="int32", name=name)
    ...           for name in ("token_ids", "segment_ids", "padding_mask")}
    >>> model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(backbone(inputs)["pooled_output"]))
    >>> graph = FusedBertClassifier(model, pooling="cls", compute_dtype="float32")
    >>> ids, mask = np.array([[2, 5, 6, 3, 0]]), np.array([[1, 1, 1, 1, 0]])
    >>> probabilities = graph(ids, mask)                                  # float32 [batch, classes]
    >>> logits = model({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": mask})
    >>> bool(np.allclose(probabilities, keras.ops.softmax(logits), atol=1e-5))
    True
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfsenti.bert.encoder import EncoderSettings, bert_encoder
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

        norm = backbone.embeddings_layer_norm
        self.embeddings = {
            "token": weight(backbone.token_embedding.embeddings),
            "position": weight(backbone.position_embedding.position_embeddings),
            "segment": weight(backbone.segment_embedding.embeddings[0]),
            "norm_gamma": weight(norm.gamma, tf.float32), "norm_beta": weight(norm.beta, tf.float32),
        }
        self.layers = [self._layer_weights(layer, weight) for layer in backbone.transformer_layers]
        self.settings = EncoderSettings(
            num_heads=self.num_heads, embedding_epsilon=float(norm.epsilon),
            layer_epsilons=tuple(float(layer.layer_norm_epsilon) for layer in backbone.transformer_layers),
            activations=tuple(_activation_name(layer) for layer in backbone.transformer_layers),
            compute_dtype=compute_dtype)  # the 1/sqrt(head size) is folded into the query weights: score_scale 1
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
            "attention_norm_gamma": weight(layer._self_attention_layer_norm.gamma, tf.float32),
            "attention_norm_beta": weight(layer._self_attention_layer_norm.beta, tf.float32),
            "intermediate_kernel": weight(dense.kernel), "intermediate_bias": weight(dense.bias),
            "ffn_output_kernel": weight(layer._feedforward_output_dense.kernel),
            "ffn_output_bias": weight(layer._feedforward_output_dense.bias),
            "ffn_norm_gamma": weight(layer._feedforward_layer_norm.gamma, tf.float32),
            "ffn_norm_beta": weight(layer._feedforward_layer_norm.beta, tf.float32),
        }

    def __call__(self, token_ids, padding_mask):
        """token_ids, padding_mask: int [batch, length] (padding after the text) -> float32 [batch, classes]."""
        token_ids, padding_mask = tf.convert_to_tensor(token_ids), tf.cast(padding_mask, tf.int32)
        width = tf.maximum(tf.reduce_max(tf.reduce_sum(padding_mask, axis=1)), 1)
        token_ids, padding_mask = token_ids[:, :width], padding_mask[:, :width]
        mask = tf.cast(padding_mask, tf.float32)
        sequence = bert_encoder(token_ids, mask, self.embeddings, self.layers, self.settings)
        if self.pooling == "mean":
            sequence = tf.cast(sequence, tf.float32)
            pooled = tf.reduce_sum(sequence * mask[:, :, None], axis=1) / tf.maximum(
                tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
        else:
            pooled = tf.tanh(tf.nn.bias_add(tf.matmul(sequence[:, 0], self.pooled_kernel), self.pooled_bias))
        logits = tf.nn.bias_add(tf.matmul(tf.cast(pooled, tf.float32), self.head_kernel), self.head_bias)
        return tf.nn.softmax(logits, axis=-1)


def _activation_name(layer) -> str:
    from keras_hub.src.utils.keras_utils import gelu_approximate

    activation = layer._feedforward_intermediate_dense.activation
    if activation is gelu_approximate:
        return "gelu_approximate"
    if getattr(activation, "__name__", "") in ("gelu", "relu"):
        return activation.__name__
    raise UnsupportedModelError(f"Feed-forward activation {activation!r} is not supported by the fused inference "
                                "graph; use params.inference_graph=keras.")
