"""SavedModel export: the raw-text serving contract, TF Serving layout, atomic writes, metadata, reload.

The contract (DESIGN.md): signature `serving_default` takes `text` (tf.string, [None]) and returns
`probabilities` (float32, [None, C]) and `label` (int64, [None]). Models live at `saved_models/<name>/<version>/`
with integer versions; a version folder appears only once complete (written under a temporary name, then renamed).
`assets.extra/tfsenti.json` holds dataset, recipe, config, metrics, class names and sizes;
`assets.extra/tf_serving_warmup_requests` holds TF Serving warm-up requests (tfsenti.serving.warmup). Invalid UTF-8
in a request is replaced (U+FFFD) inside the graph before the recipe sees it, so one bad text never fails a batch.
`publish` refuses a model that a TF model server could not load or should not carry (Python-function ops,
optimizer state: tfsenti.serving.audit) before its version folder appears.

Example:
    >>> import tensorflow as tf
    >>> def probabilities(text):                           # any graph-compatible text -> probabilities function
    ...     length = tf.cast(tf.strings.length(text), tf.float32)
    ...     positive = tf.sigmoid(length - 5.0)
    ...     return tf.stack([1.0 - positive, positive], axis=1)
    >>> import tempfile; folder = tempfile.mkdtemp()
    >>> _ = save_serving_model(folder + "/m", probabilities_fn=probabilities)
    >>> model = load_model(folder + "/m")
    >>> predict_texts(model, ["hi", "a long text"])["label"].tolist()
    [0, 1]
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfsenti.errors import TfsentiError

METADATA_FILE = "tfsenti.json"
SIGNATURE = "serving_default"


def save_serving_model(
    export_dir: str | Path,
    *,
    probabilities_fn: Callable,
    trackables: dict[str, Any] | None = None,
    warmup_texts: Sequence[str] | None = None,
) -> Path:
    """Write a SavedModel whose `serving_default` maps raw text to probabilities and label.

    `probabilities_fn(text)` takes a tf.string tensor of shape [None] (valid UTF-8: invalid sequences are replaced
    before it is called) and returns float32 [None, C] probabilities, using only graph ops (tokenization included).
    Variables, lookup tables and layers it closes over must be listed in `trackables` (attribute name -> object)
    so that the SavedModel keeps them; list a model's weights, not a compiled model (that would save its optimizer).
    The warm-up file gets `warmup_texts` (default: English and Korean samples; `publish` rewrites it for the
    export's languages).
    """
    import tensorflow as tf

    from tfsenti.serving.warmup import write_warmup_requests

    module = tf.Module()
    for attribute, value in (trackables or {}).items():
        setattr(module, attribute, value)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        text = tf.strings.unicode_transcode(text, input_encoding="UTF-8", output_encoding="UTF-8",
                                            errors="replace", replacement_char=0xFFFD)
        probabilities = tf.cast(probabilities_fn(text), tf.float32)
        return {"probabilities": probabilities, "label": tf.argmax(probabilities, axis=-1, output_type=tf.int64)}

    module.serve = serve
    export_dir = Path(export_dir)
    tf.saved_model.save(module, str(export_dir), signatures={SIGNATURE: serve})
    write_warmup_requests(export_dir, warmup_texts)
    return export_dir


def publish(
    write: Callable[[Path], Any],
    name: str,
    *,
    root: str | Path = "saved_models",
    metadata: dict[str, Any] | None = None,
    version: int | None = None,
) -> Path:
    """Write a model into `root/name/<next version>/` atomically and return that folder.

    `write(folder)` writes the SavedModel (e.g. `recipe.export`). Metadata goes to `assets.extra/tfsenti.json`,
    with `size` added (`variables_bytes`: the saved variables' values; `files_bytes`: the whole folder). The
    warm-up requests are rewritten for the metadata's languages. A model with Python-function ops or optimizer
    state raises `tfsenti.serving.audit.ServingError` and publishes nothing. An interrupted write leaves only a
    hidden temporary folder, never a half-written version.
    """
    from tfsenti.serving import audit, warmup

    base = Path(root) / name
    base.mkdir(parents=True, exist_ok=True)
    version = version if version is not None else next_version(base)
    final = base / str(version)
    if final.exists():
        raise TfsentiError(f"{final} already exists; versions are never overwritten. Choose another version.")
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-incomplete-", dir=base))
    try:
        write(staging / "model")
        built = staging / "model"
        audit.check_servable(built)
        metadata = dict(metadata or {})
        warmup.write_warmup_requests(built, warmup.warmup_texts(warmup.languages_of(metadata)), model_name=name)
        extra = built / "assets.extra"
        metadata["size"] = {"variables_bytes": audit.variables_bytes(built),
                            "files_bytes": sum(f.stat().st_size for f in built.rglob("*") if f.is_file())}
        (extra / METADATA_FILE).write_text(
            json.dumps(metadata, indent=2, ensure_ascii=False, default=_json_default), encoding="utf-8"
        )
        os.replace(built, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def next_version(base: Path) -> int:
    versions = _versions(base)
    return (max(versions) + 1) if versions else 1


def _versions(base: Path) -> list[int]:
    if not base.is_dir():
        return []
    return [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()]


def resolve_version(path: str | Path) -> Path:
    """`saved_models/imdb-nbbon` -> its newest version folder; a version folder is returned as it is."""
    path = Path(path)
    if (path / "saved_model.pb").is_file():
        return path
    versions = _versions(path)
    if not versions:
        raise TfsentiError(
            f"No SavedModel found at {path}: expected {path}/saved_model.pb or version folders {path}/<N>/. "
            "Train one first, e.g. `python cli.py train --model nbbon --data imdb`."
        )
    return path / str(max(versions))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata written by `publish` (empty dict for SavedModels tfsenti did not write)."""
    file = resolve_version(path) / "assets.extra" / METADATA_FILE
    return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}


def load_model(path: str | Path):
    """Load a SavedModel (newest version of a model folder) with the tensorflow_text ops registered."""
    import tensorflow as tf

    try:
        import tensorflow_text  # noqa: F401  (registers ops that tokenizing graphs use)
    except ImportError:  # pragma: no cover - tensorflow_text is in requirements.txt
        pass
    return tf.saved_model.load(str(resolve_version(path)))


def predict_texts(model, texts: Sequence[str], *, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Run the `serving_default` signature of a loaded model over `texts` in batches."""
    import tensorflow as tf

    serve = model.signatures[SIGNATURE]
    probabilities, labels = [], []
    for start in range(0, len(texts), batch_size):
        out = serve(text=tf.constant(list(texts[start:start + batch_size]), dtype=tf.string))
        probabilities.append(out["probabilities"].numpy())
        labels.append(out["label"].numpy())
    if not probabilities:
        return {"probabilities": np.zeros((0, 0), np.float32), "label": np.zeros(0, np.int64)}
    return {"probabilities": np.concatenate(probabilities), "label": np.concatenate(labels)}


def _json_default(value: Any):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
