"""Convert a Hugging Face folder with PyTorch-layout `model.safetensors` into transformers TF (tf_keras) weights.

The safetensors file is read with NumPy (`safetensors.numpy`, no torch); a TF model is built from the folder's
config.json (`TFAutoModel.from_config`, e.g. TFBertModel); every TF weight is matched by name with one tensor of the
file (`bert/encoder/layer_._0/attention/self/query/kernel` <- `encoder.layer.0.attention.self.query.weight`,
transposed), shapes are checked, and the model is written with `save_pretrained` (tf_model.h5 + config.json) beside
copies of the tokenizer files. Any TF weight that finds no tensor, or a tensor of the wrong shape, stops the
conversion with an error naming it; tensors of the file that the TF model does not use (position_ids buffers,
pre-training heads) are listed in the report.

Example:
    >>> source_name_for("tf_bert_model/bert/encoder/layer_._0/attention/self/query/kernel:0")
    ('bert.encoder.layer.0.attention.self.query.weight', True)
    >>> source_name_for("tf_bert_model/bert/embeddings/LayerNorm/gamma:0")
    ('bert.embeddings.LayerNorm.weight', False)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tfsenti.errors import TfsentiError

log = logging.getLogger("tfsenti")

WEIGHTS_FILE = "model.safetensors"
TF_WEIGHTS_FILE = "tf_model.h5"
MARKER_FILE = "tfsenti_conversion.json"
TOKENIZER_FILES = ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json",
                   "spiece.model", "sentencepiece.bpe.model", "merges.txt", "vocab.json")
# TF weights a checkpoint may lack: they keep their fresh initialisation (logged), everything else must be found.
OPTIONAL_PREFIXES = ("pooler.",)
_LAYER = re.compile(r"^layer_\._(\d+)$")
_LEAF = {"kernel": "weight", "gamma": "weight", "beta": "bias", "embeddings": "weight", "weight": "weight",
         "bias": "bias"}


class WeightMappingError(TfsentiError):
    """A TF weight found no tensor in the checkpoint, or one whose shape does not fit; the message names both."""


@dataclasses.dataclass
class ConversionReport:
    """What a conversion did: the output folder, the weights loaded, left at their initialisation, and unused."""

    output: Path
    loaded: list[str]
    initialised: list[str]
    unused: list[str]

    def describe(self) -> str:
        return (f"{len(self.loaded)} weights converted into {self.output}; "
                f"{len(self.initialised)} freshly initialised {self.initialised or ''}; "
                f"{len(self.unused)} checkpoint tensors unused {self.unused[:8] or ''}")


def source_name_for(tf_name: str, *, drop_scope: bool = True) -> tuple[str, bool]:
    """The PyTorch-layout tensor name that a transformers TF weight name corresponds to, and whether to transpose.

    `drop_scope` removes the model's own scope (`tf_bert_model/`), the first path component.
    """
    parts = tf_name.split(":")[0].split("/")
    if drop_scope:
        parts = parts[1:]
    if not parts:
        raise WeightMappingError(f"Cannot map TF weight name {tf_name!r}: it has no path components.")
    *path, leaf = parts
    mapped = []
    for part in path:
        layer = _LAYER.match(part)
        mapped.append(f"layer.{layer.group(1)}" if layer else part)
    if leaf not in _LEAF:
        raise WeightMappingError(f"Cannot map TF weight {tf_name!r}: unknown variable kind {leaf!r} "
                                 f"(known: {sorted(_LEAF)}).")
    return ".".join(mapped + [_LEAF[leaf]]), leaf == "kernel"


def convert_checkpoint(source: str | Path, output: str | Path) -> ConversionReport:
    """Convert the Hugging Face folder `source` (config.json + model.safetensors) into `output` (TF weights).

    `output` must not exist or be empty. The result loads with `TFAutoModel.from_pretrained(output)` and with
    `TFAutoModelForSequenceClassification.from_pretrained(output)` (whose classifier head is then new).
    """
    source, output = Path(source), Path(output)
    weights_file = source / WEIGHTS_FILE
    for needed in (source / "config.json", weights_file):
        if not needed.is_file():
            raise TfsentiError(f"Cannot convert {source}: {needed.name} is missing. A Hugging Face checkpoint folder "
                               "holds config.json + model.safetensors (+ vocab.txt for BERT tokenizers).")
    if output.exists() and any(output.iterdir()):
        raise TfsentiError(f"Conversion output {output} exists and is not empty; give a new folder.")

    tensors = _read_safetensors(weights_file)
    from transformers import AutoConfig, TFAutoModel

    config = AutoConfig.from_pretrained(str(source))
    model = TFAutoModel.from_config(config)
    model(model.dummy_inputs, training=False)  # creates the variables
    prefix = model.base_model_prefix
    by_name = _canonical_names(tensors, prefix)

    loaded, initialised, problems, values = [], [], [], []
    for variable in model.weights:
        wanted, transpose = source_name_for(variable.name)
        key = by_name.get(wanted)
        if key is None:
            if wanted.removeprefix(f"{prefix}.").startswith(OPTIONAL_PREFIXES):
                initialised.append(wanted)
                continue
            problems.append(f"TF weight {variable.name} (shape {tuple(variable.shape)}) found no tensor "
                            f"{wanted!r} (nor {wanted.removeprefix(prefix + '.')!r}) in {weights_file}")
            continue
        array = tensors[key].T if transpose else tensors[key]
        if tuple(array.shape) != tuple(variable.shape):
            problems.append(f"TF weight {variable.name} has shape {tuple(variable.shape)} but tensor {key!r} of "
                            f"{weights_file} has shape {tuple(tensors[key].shape)}"
                            f"{' (transposed: ' + str(tuple(array.shape)) + ')' if transpose else ''}")
            continue
        values.append((variable, np.asarray(array, dtype=variable.dtype.as_numpy_dtype)))
        loaded.append(key)
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise WeightMappingError(
            f"{len(problems)} weight(s) of {type(model).__name__} (built from {source / 'config.json'}) do not fit "
            f"the checkpoint:\n  {shown}{more}\nThe checkpoint's tensors are named like {sorted(tensors)[:4]}. "
            "Check that config.json describes these weights (hidden size, layers, vocabulary size).")
    for variable, value in values:
        variable.assign(value)
    if initialised:
        log.warning("convert: %s lacks %s; they keep a fresh initialisation", weights_file, initialised)

    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output))
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, output / name)
    unused = sorted(set(tensors) - set(loaded))
    report = ConversionReport(output, loaded, initialised, unused)
    (output / MARKER_FILE).write_text(json.dumps({"source": str(source.resolve()), "loaded": len(loaded),
                                                  "initialised": initialised, "unused": unused}, indent=2),
                                      encoding="utf-8")
    log.info("convert: %s", report.describe())
    return report


def cached_conversion(source: str | Path, *, cache_root: str | Path | None = None) -> Path:
    """`convert_checkpoint` once per checkpoint: the converted folder in the cache (converted now if absent).

    The cache is `$TFSENTI_CACHE_DIR/converted` (else `~/.cache/tfsenti/converted`), keyed by the checkpoint's path,
    size and modification time; a folder appears there only once complete.
    """
    source = Path(source).resolve()
    weights_file = source / WEIGHTS_FILE
    if not weights_file.is_file():
        raise TfsentiError(f"Cannot convert {source}: {WEIGHTS_FILE} is missing.")
    stat = weights_file.stat()
    digest = hashlib.sha1(f"{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    root = Path(cache_root) if cache_root else default_cache_root()
    final = root / f"{source.name}-{digest}"
    if (final / MARKER_FILE).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-incomplete-", dir=root))
    try:
        convert_checkpoint(source, staging / "model")
        try:
            os.replace(staging / "model", final)
        except OSError:  # another process finished first
            if not (final / MARKER_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def default_cache_root() -> Path:
    if os.environ.get("TFSENTI_CACHE_DIR"):
        return Path(os.environ["TFSENTI_CACHE_DIR"]).expanduser() / "converted"
    return Path.home() / ".cache" / "tfsenti" / "converted"


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
        raise TfsentiError(f"Cannot read {path} with safetensors.numpy: {error}. It must be a safetensors file of "
                           "float32/float16 tensors (bfloat16 has no NumPy type: convert it to float32 first).") \
            from error


def _canonical_names(tensors: dict[str, np.ndarray], prefix: str) -> dict[str, str]:
    """Canonical name (`<prefix>.` + PyTorch name, LayerNorm gamma/beta as weight/bias) -> key in the file."""
    names = {}
    for key in tensors:
        name = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", key)
        name = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name)
        if not name.startswith(prefix + "."):
            name = f"{prefix}.{name}"
        names.setdefault(name, key)
    return names
