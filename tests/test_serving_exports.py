"""Every recipe's tiny export is ready for TF Serving: inference weights only, core TensorFlow + tensorflow_text
ops, a warm-up file whose requests, replayed in a fresh process (tensorflow, tensorflow_text and
tensorflow_serving only), give the model's own answers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tfsenti import export
from tfsenti.config import build_config
from tfsenti.recipes import get_recipe_class
from tfsenti.serving import audit, warmup
from tfsenti.serving.inspection import inspect_model
from toy_data import toy_dataset

# As tests/test_contract.py's CASES, with the fewest steps that still train: these tests check the export, not
# what the model learned.
TINY = {
    "nbbon": [],
    "ktrain": ["train.pretrained=scratch", "params.maxlen=32", "train.batch_size=8", "train.epochs=1",
               "params.verbose=0"],
    "tfhub": ["train.pretrained=train-text", "params.vector_dim=8", "params.vector_min_count=1", "train.epochs=1",
              "train.batch_size=16", "params.verbose=0"],
    "bert": ["train.pretrained=scratch", "params.scratch_hidden_dim=32", "params.pooling=mean", "train.epochs=1",
             "train.batch_size=8", "params.sequence_length=24", "params.patience=null", "params.verbose=0"],
    "uda": ["train.pretrained=scratch", "params.scratch_hidden_dim=32", "params.pooling=mean", "train.epochs=1",
            "train.batch_size=8", "params.sequence_length=24", "params.train_steps=4", "params.labeled_per_class=10",
            "params.unsup_ratio=1", "params.extra_unlabeled=null", "params.verbose=0"],
    "dvcosine": ["params.dim=8", "params.epochs=1", "params.min_df=1", "params.min_count=1", "params.subsample=null",
                 "params.threads=1", "params.batch_size=16", "params.noise_samples=16", "params.noise_size=16"],
}
TEXT_OPS = {"bert": True, "uda": True, "ktrain": True, "tfhub": False, "nbbon": False, "dvcosine": False}

_REPLAY = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
from tensorflow_serving.apis import prediction_log_pb2
assert "tfsenti" not in sys.modules
folder = sys.argv[1]
serve = tf.saved_model.load(folder).signatures["serving_default"]
answers = []
for record in tf.data.TFRecordDataset(folder + "/assets.extra/tf_serving_warmup_requests"):
    request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
    assert request.model_spec.signature_name == "serving_default", request.model_spec
    text = tf.make_ndarray(request.inputs["text"])
    out = serve(text=tf.constant(text))
    answers.append({"texts": [t.decode("utf-8") for t in text], "probabilities": out["probabilities"].numpy().tolist(),
                    "label": out["label"].numpy().tolist()})
print(json.dumps(answers))
"""


@pytest.fixture(scope="module", params=[pytest.param(name, marks=pytest.mark.slow) if name in ("bert", "uda") else name
                                        for name in sorted(TINY)])  # building a BERT export: 10-12 s
def published(request, tmp_path_factory):
    """(recipe, version folder) of a tiny export, published as the pipeline does (metadata with the dataset)."""
    name = request.param
    root = tmp_path_factory.mktemp(f"serving-{name}")
    config = build_config(name, "imdb", default_file=False, overrides=TINY[name])
    recipe = get_recipe_class(name)(config, num_classes=2)
    recipe.fit(toy_dataset(40, seed=1), toy_dataset(10, seed=2, prefix="val"), log_dir=root / "run")
    folder = export.publish(recipe.export, f"toy-{name}", root=root / "saved_models",
                            metadata={"recipe": name, "dataset": "imdb", "class_names": ["neg", "pos"]})
    return recipe, folder


def test_inference_weights_only(published):
    recipe, folder = published
    variables = audit.list_variables(folder)
    assert variables, "no variables found: the audit walks the object graph wrong"
    assert [v.path for v in variables if v.optimizer] == []
    size = export.read_metadata(folder)["size"]["variables_bytes"]
    assert size == sum(v.bytes for v in variables) > 0


def test_ops_are_core_or_tensorflow_text(published):
    recipe, folder = published
    ops = audit.classify_ops(audit.op_types(folder))
    assert ops.python_function == () and ops.other == ()
    assert {"StatefulPartitionedCall", "UnicodeTranscode"} <= set(ops.core)
    assert bool(ops.tensorflow_text) == TEXT_OPS[recipe.name], ops.tensorflow_text
    report = inspect_model(folder.parent)
    assert report.servable and report.path == folder
    assert [str(t) for t in report.signature.inputs] == ["text: string [None]"]
    assert [str(t) for t in report.signature.outputs] == ["label: int64 [None]", "probabilities: float32 [None, 2]"]


def test_warmup_requests_replay_in_a_fresh_process(published):
    recipe, folder = published
    requests = warmup.read_warmup_requests(folder)
    texts = warmup.warmup_texts(["en"])  # imdb: English only
    assert [warmup.request_texts(r) for r in requests] == [[t] for t in texts] + [texts]
    assert {r.model_spec.name for r in requests} == {f"toy-{recipe.name}"}

    completed = subprocess.run([sys.executable, "-c", _REPLAY, str(folder)], capture_output=True, text=True,
                               timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    answers = json.loads(completed.stdout.strip().splitlines()[-1])
    assert len(answers) == len(requests)
    for answer in answers:
        own = recipe.predict_proba(answer["texts"])
        np.testing.assert_allclose(np.array(answer["probabilities"]), own, atol=1e-4)
        assert answer["label"] == own.argmax(1).tolist()
