"""TF Serving layout, atomic publishing, metadata, reload of the raw-text signature."""

import json

import numpy as np
import pytest

from tfsenti import export
from tfsenti.errors import TfsentiError


def _length_model(text):
    import tensorflow as tf

    positive = tf.sigmoid(tf.cast(tf.strings.length(text), tf.float32) - 5.0)
    return tf.stack([1.0 - positive, positive], axis=1)


def test_publish_versions_and_metadata(tmp_path):
    write = lambda folder: export.save_serving_model(folder, probabilities_fn=_length_model)  # noqa: E731
    first = export.publish(write, "m", root=tmp_path, metadata={"class_names": ["neg", "pos"]})
    second = export.publish(write, "m", root=tmp_path)
    assert (first.name, second.name) == ("1", "2")
    assert export.resolve_version(tmp_path / "m") == second
    assert json.loads((first / "assets.extra" / "tfsenti.json").read_text())["class_names"] == ["neg", "pos"]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2"]  # no temporary leftovers

    out = export.predict_texts(export.load_model(tmp_path / "m"), ["hi", "a long text", ""])
    assert out["label"].tolist() == [0, 1, 0]
    assert out["probabilities"].dtype == np.float32


def test_interrupted_write_publishes_nothing(tmp_path):
    def broken(folder):
        folder.mkdir(parents=True)
        (folder / "saved_model.pb").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export.publish(broken, "m", root=tmp_path)
    assert list((tmp_path / "m").iterdir()) == []


def test_missing_model_error_says_how_to_fix(tmp_path):
    with pytest.raises(TfsentiError, match="python cli.py train"):
        export.resolve_version(tmp_path)


def test_signature_contract(tmp_path):
    import tensorflow as tf

    folder = export.save_serving_model(tmp_path / "m", probabilities_fn=_length_model)
    signature = tf.saved_model.load(str(folder)).signatures["serving_default"]
    spec = signature.structured_input_signature[1]["text"]
    assert spec.dtype == tf.string and spec.shape.as_list() == [None]
    outputs = signature.structured_outputs
    assert outputs["probabilities"].dtype == tf.float32 and outputs["label"].dtype == tf.int64
