"""The recipe contract, one helper for every recipe: fit -> predict_proba -> export -> reload elsewhere -> same.

The reload happens in a fresh Python process that imports only tensorflow and tensorflow_text (never tfsenti),
as TF Serving or a user's service would. Every recipe runs it on the 2-class and the 3-class toy corpus.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tfsenti import export
from tfsenti.config import build_config
from tfsenti.recipes import get_recipe_class
from toy_data import toy_dataset

TOLERANCE = 1e-4
PROBE_TEXTS = ["loved it, excellent and superb", "boring and awful <br /><br /> hated it", "",
               "정말 재미있다 최고", "지루하다 최악 😡", "x" * 5000, "an average, okay film 무난하다"]
MIN_ACCURACY = {2: 0.9, 3: 0.85}  # on held-out toy data; chance is 0.5 and 0.33

_RELOAD = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
assert "tfsenti" not in sys.modules
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
out = serve(text=tf.constant(json.loads(sys.argv[2])))
print(json.dumps({"probabilities": out["probabilities"].numpy().tolist(), "label": out["label"].numpy().tolist(),
                  "dtypes": [out["probabilities"].dtype.name, out["label"].dtype.name]}))
"""


def run_contract(recipe_name: str, tmp_path: Path, *, overrides=(), num_classes: int = 2,
                 train_size: int | None = None) -> dict:
    """Check the whole contract for one recipe on the `num_classes` toy corpus (40 training texts per class unless
    `train_size`); returns the reloaded outputs for extra assertions."""
    config = build_config(recipe_name, "imdb", default_file=False, overrides=list(overrides))
    train = toy_dataset(train_size or 40 * num_classes, seed=1, num_classes=num_classes)
    validation = toy_dataset(10 * num_classes, seed=2, prefix="val", num_classes=num_classes)
    recipe = get_recipe_class(recipe_name)(config, num_classes=num_classes)
    recipe.fit(train, validation, log_dir=tmp_path / "run")

    probabilities = recipe.predict_proba(PROBE_TEXTS)
    assert probabilities.shape == (len(PROBE_TEXTS), num_classes)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    held_out = toy_dataset(20 * num_classes, seed=3, prefix="test", num_classes=num_classes)
    predicted = recipe.predict_proba(held_out.texts).argmax(1)
    accuracy = (predicted == held_out.labels).mean()
    assert accuracy >= MIN_ACCURACY[num_classes], (
        f"{recipe_name} failed to learn the {num_classes}-class toy task: accuracy {accuracy:.2f}")
    assert set(predicted.tolist()) == set(range(num_classes)), f"{recipe_name} never predicts some class"

    model_dir = export.publish(recipe.export, f"toy-{recipe_name}", root=tmp_path / "saved_models",
                               metadata={"recipe": recipe_name})
    assert model_dir.name == "1" and (model_dir / "saved_model.pb").is_file()
    assert (model_dir / "assets.extra" / export.METADATA_FILE).is_file()

    completed = subprocess.run([sys.executable, "-c", _RELOAD, str(model_dir), json.dumps(PROBE_TEXTS)],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    reloaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert reloaded["dtypes"] == ["float32", "int64"]
    assert np.array(reloaded["probabilities"]).shape == (len(PROBE_TEXTS), num_classes)
    np.testing.assert_allclose(np.array(reloaded["probabilities"]), probabilities, atol=TOLERANCE)
    assert reloaded["label"] == probabilities.argmax(1).tolist()
    return reloaded
