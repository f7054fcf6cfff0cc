"""The fused inference graph computes the same probabilities as the Keras classifier it was built from: exactly (to
float32 rounding) in float32, within bfloat16 rounding in bfloat16; it trims padding; unsupported models are named."""

import numpy as np
import pytest

from bert_fixtures import tiny_backbone


def _classifier(pooling: str, *, seed: int = 3, num_classes: int = 3, precision: str = "float32"):
    import keras

    from tfsenti.recipes.bert import _classifier as build
    from tfsenti.training.precision import precision_policy

    with precision_policy(precision):
        backbone = tiny_backbone(40, seed=seed, hidden_dim=16)
        model = build(backbone, num_classes, dropout=0.1, pooling=pooling)
    # large random weights, biases and norms, so a weight taken from the wrong place cannot go unnoticed
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        centre = 1.0 if "gamma" in variable.path else 0.0
        variable.assign(rng.normal(centre, 0.3, variable.shape).astype(np.float32))
    keras.utils.set_random_seed(seed)
    return model


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = np.array([12, 3, 7, 1, 9])
    width = 14  # wider than the longest text: the graph trims
    token_ids = np.zeros((len(lengths), width), np.int32)
    mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int32)
    token_ids[mask == 1] = rng.integers(5, 40, int(mask.sum()))
    return token_ids, mask


def _keras_probabilities(model, token_ids, mask):
    logits = model({"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": mask},
                   training=False)
    return np.asarray(logits, np.float32), _softmax(np.asarray(logits, np.float32))


def _softmax(logits):
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_float32_graph_matches_the_keras_model(pooling):
    from tfsenti.bert.inference_graph import FusedBertClassifier

    model = _classifier(pooling)
    token_ids, mask = _batch()
    _, expected = _keras_probabilities(model, token_ids, mask)
    assert np.ptp(expected, axis=0).max() > 0.01  # the batch's rows differ: a wrong mask or pooling shows
    fused = FusedBertClassifier(model, pooling=pooling, compute_dtype="float32")
    np.testing.assert_allclose(fused(token_ids, mask).numpy(), expected, atol=1e-5)
    # padding beyond the longest text changes nothing
    padded = (np.pad(token_ids, ((0, 0), (0, 6))), np.pad(mask, ((0, 0), (0, 6))))
    np.testing.assert_allclose(fused(*padded).numpy(), expected, atol=1e-5)


def test_bfloat16_graph_is_within_bfloat16_rounding_of_the_mixed_precision_model():
    from tfsenti.bert.inference_graph import FusedBertClassifier

    model = _classifier("mean", precision="mixed_bfloat16")
    token_ids, mask = _batch(1)
    _, expected = _keras_probabilities(model, token_ids, mask)
    fused = FusedBertClassifier(model, pooling="mean", compute_dtype="bfloat16")
    assert fused.layers[0]["qkv_kernel"].dtype.name == "bfloat16"  # the weights really are bfloat16
    np.testing.assert_allclose(fused(token_ids, mask).numpy(), expected, atol=3e-2)


def test_a_model_without_a_bert_backbone_is_refused_by_name():
    import keras

    from tfsenti.bert.inference_graph import FusedBertClassifier, UnsupportedModelError

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(inputs), name="not_bert")
    with pytest.raises(UnsupportedModelError, match="BertBackbone inside 'not_bert'.*inference_graph=keras"):
        FusedBertClassifier(model, pooling="cls", compute_dtype="float32")
