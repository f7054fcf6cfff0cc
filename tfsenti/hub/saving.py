"""Write a TF-Hub text-embedding module (the reusable-SavedModel API that `hub.KerasLayer` loads), atomically.

The saved object has `__call__(text, training=False)` (tf.string [None] -> float32 [None, dim]) traced for both
values of `training`, `variables`, `trainable_variables`, `regularization_losses`, and a `serving_default`
signature (`text` -> `embeddings`). `assets.extra/tfsenti_hub.json` records how the module was built.

Example:
    >>> import tempfile, tensorflow as tf
    >>> root = tf.train.Checkpoint(); root.scale = tf.Variable(2.0)
    >>> @tf.function
    ... def embed(text, training=False):
    ...     return root.scale * tf.cast(tf.strings.length(text), tf.float32)[:, None]
    >>> folder = write_module(root, embed, tempfile.mkdtemp() + "/m", info={"kind": "toy"},
    ...                       variables=[root.scale], trainable=[root.scale])
    >>> read_module_info(folder)["kind"], tf.saved_model.load(str(folder))(tf.constant(["abc"])).numpy().tolist()
    ('toy', [[6.0]])
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

INFO_FILE = "tfsenti_hub.json"


def write_module(
    root,
    call: Callable,
    output_dir: str | Path,
    *,
    info: dict[str, Any],
    variables: Sequence,
    trainable: Sequence,
    extra_functions: dict[str, Callable] | None = None,
) -> Path:
    """Save `root` (a trackable holding the module's variables and tables) with `call` as its `__call__`.

    `call` is a `tf.function(text, training=False)`. The folder appears only once complete; an existing non-empty
    `output_dir` is an error (modules are never overwritten).
    """
    import tensorflow as tf

    import tfsenti

    output_dir = Path(output_dir)
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise FileExistsError(f"{output_dir} already exists and is not empty; modules are never overwritten. "
                              "Choose another --output or delete it first.")
    spec = tf.TensorSpec([None], tf.string)
    for training in (False, True):
        call.get_concrete_function(spec, training=training)
    root.__call__ = call
    root.variables = list(variables)
    root.trainable_variables = list(trainable)
    root.regularization_losses = []
    for name, function in (extra_functions or {}).items():
        setattr(root, name, function)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")], autograph=False)
    def serving(text):
        return {"embeddings": call(text, training=False)}

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-incomplete-", dir=output_dir.parent))
    try:
        built = staging / "module"
        tf.saved_model.save(root, str(built), signatures={"serving_default": serving})
        extra = built / "assets.extra"
        extra.mkdir(exist_ok=True)
        record = {**info, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "tfsenti_version": tfsenti.__version__,
                  "tensorflow_version": tf.__version__}
        (extra / INFO_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        if output_dir.exists():
            output_dir.rmdir()  # empty (checked above)
        os.replace(built, output_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output_dir


def read_module_info(module_dir: str | Path) -> dict[str, Any]:
    """How a tfsenti-built module was built (kind, source, dim, tokenization); empty for other modules."""
    file = Path(module_dir) / "assets.extra" / INFO_FILE
    return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
