"""The op and variable audit refuses what a TF model server cannot or should not load."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tfsenti import export
from tfsenti.cli import main
from tfsenti.serving import audit


def _python_length_model(text):
    import numpy as np
    import tensorflow as tf

    lengths = tf.py_function(lambda t: np.array([len(x) for x in t.numpy()], np.float32), [text], tf.float32)
    positive = tf.sigmoid(tf.reshape(lengths, [-1]) - 5.0)
    return tf.stack([1.0 - positive, positive], axis=1)


def _numpy_length_model(text):
    import numpy as np
    import tensorflow as tf

    lengths = tf.numpy_function(lambda t: np.array([len(x) for x in t], np.float32), [text], tf.float32,
                                stateful=False)
    positive = tf.sigmoid(tf.reshape(lengths, [-1]) - 5.0)
    return tf.stack([1.0 - positive, positive], axis=1)


@pytest.mark.parametrize("model, op", [(_python_length_model, "EagerPyFunc"), (_numpy_length_model, "PyFunc")])
def test_python_function_ops_are_refused(tmp_path, model, op):
    folder = export.save_serving_model(tmp_path / "direct" / "1", probabilities_fn=model)
    assert op in audit.classify_ops(audit.op_types(folder)).python_function or \
        "PyFuncStateless" in audit.classify_ops(audit.op_types(folder)).python_function
    with pytest.raises(audit.ServingError, match="Python-function ops"):
        audit.check_servable(folder)

    result = CliRunner().invoke(main, ["inspect", str(folder)])
    assert result.exit_code != 0
    assert "PYTHON-FUNCTION" in result.output and "Python-function ops" in result.output

    write = lambda f: export.save_serving_model(f, probabilities_fn=model)  # noqa: E731
    with pytest.raises(audit.ServingError, match="tf.py_function"):
        export.publish(write, "m", root=tmp_path / "saved_models")
    assert list((tmp_path / "saved_models" / "m").iterdir()) == []  # no version folder appeared


def test_optimizer_state_is_flagged_and_refused(tmp_path):
    import keras
    import tensorflow as tf

    weight = tf.Variable([0.5, -0.5], name="weight")
    optimizer = keras.optimizers.Adam()
    optimizer.build([weight])

    def probabilities(text):
        logits = tf.cast(tf.strings.length(text), tf.float32)[:, None] * weight[None, :]
        return tf.nn.softmax(logits, axis=-1)

    folder = export.save_serving_model(tmp_path / "m", probabilities_fn=probabilities,
                                       trackables={"weights": [weight], "optimizer": optimizer})
    variables = audit.list_variables(folder)
    assert [v.path for v in variables if not v.optimizer] == ["weights/0"]
    assert len([v for v in variables if v.optimizer]) >= 3  # iteration, learning rate, momentum, velocity
    with pytest.raises(audit.ServingError, match="training-only variables"):
        audit.check_servable(folder)
    assert audit.check_servable(folder, allow_training_state=True).python_function == ()


def test_inspect_prints_the_audit(tmp_path):
    import tensorflow as tf

    write = lambda f: export.save_serving_model(  # noqa: E731
        f, probabilities_fn=lambda t: tf.one_hot(tf.strings.length(t) % 2, 2))
    export.publish(write, "m", root=tmp_path, metadata={"recipe": "toy", "dataset": "imdb", "class_names": ["a", "b"],
                                                        "metrics": {"test": {"accuracy": 0.75, "n": 4}}})
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    for expected in ("input  text: string [None]", "output probabilities: float32 [None, 2]",
                     "warm-up   5 requests", "recipe=toy", "dataset=imdb", "classes=a/b", "accuracy 0.7500",
                     "UnicodeTranscode", "0 tensorflow_text", "servable by a stock TF model server"):
        assert expected in result.output, expected
