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


def _strict_length_model(text):
    """Characters per text, decoded strictly: invalid UTF-8 would fail the whole batch."""
    import tensorflow as tf

    characters = tf.strings.unicode_decode(text, "UTF-8", errors="strict")
    positive = tf.sigmoid(tf.cast(characters.row_lengths(), tf.float32) - 5.0)
    return tf.stack([1.0 - positive, positive], axis=1)


def test_invalid_utf8_is_replaced_inside_the_graph(tmp_path):
    import tensorflow as tf

    folder = export.save_serving_model(tmp_path / "m", probabilities_fn=_strict_length_model)
    serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
    megabyte = "x" * 1_000_000
    out = serve(text=tf.constant([b"ab\xff\xfe", b"\xc3", b"", megabyte.encode(), "정말 좋은 영화".encode()]))
    replaced = serve(text=tf.constant(["ab\ufffd\ufffd", "\ufffd", "", megabyte, "정말 좋은 영화"]))
    np.testing.assert_array_equal(out["probabilities"].numpy(), replaced["probabilities"].numpy())
    assert out["label"].numpy().tolist() == [0, 0, 0, 1, 1]

    empty = serve(text=tf.constant([], dtype=tf.string))
    assert empty["probabilities"].shape == (0, 2) and empty["label"].shape == (0,)


def test_warmup_file_follows_the_metadata_language(tmp_path):
    from tfsenti.serving import warmup

    write = lambda folder: export.save_serving_model(folder, probabilities_fn=_length_model)  # noqa: E731
    plain = export.save_serving_model(tmp_path / "plain", probabilities_fn=_length_model)
    assert warmup.read_warmup_requests(plain)[-1].inputs["text"].string_val == [
        t.encode() for t in warmup.warmup_texts(["en", "ko"])]

    korean = export.publish(write, "nsmc-m", root=tmp_path, metadata={"dataset": "nsmc"})
    requests = warmup.read_warmup_requests(korean)
    assert warmup.request_texts(requests[-1]) == warmup.warmup_texts(["ko"])
    assert all(r.model_spec.name == "nsmc-m" for r in requests)
    metadata = export.read_metadata(korean)
    assert metadata["dataset"] == "nsmc"
    assert metadata["size"]["variables_bytes"] == 0  # the length model has no variables
    assert metadata["size"]["files_bytes"] > (korean / "saved_model.pb").stat().st_size
