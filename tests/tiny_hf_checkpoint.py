"""A tiny BERT checkpoint in Hugging Face format, written on the spot for tests (no download, no torch).

Tensor names mirror the real files: all-MiniLM-L6-v2 (sentence-transformers) stores `embeddings.word_embeddings
.weight`, `encoder.layer.0.attention.self.query.weight`, ... without a prefix; BertForPreTraining checkpoints such
as bert-base-uncased store `bert.embeddings...` plus `cls.*` heads. PyTorch Linear weights are (out, in).

Example:
    >>> import tempfile
    >>> folder = write_tiny_checkpoint(tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "movie", "film", "plot", "acting", "was", "and", "this", "great", "wonderful", "loved", "excellent",
         "superb", "awful", "boring", "hated", "terrible", "dull", "<", ">", "/", "br", "!", ".", ",", "a", "it",
         "영화", "배우", "정말", "그냥", "재미있다", "최고", "감동", "지루하다", "최악", "별로", "##s", "##ed", "x"]
VOCABULARY = SPECIAL + WORDS
SHAPE = {"hidden": 16, "layers": 2, "heads": 2, "intermediate": 32, "positions": 64}


def write_tiny_checkpoint(folder, *, prefix: str = "", seed: int = 0, vocabulary=VOCABULARY, lowercase: bool = True,
                          with_pooler: bool = True, with_position_ids: bool = True, extra: dict | None = None,
                          drop: tuple[str, ...] = (), scale: float = 0.05) -> Path:
    """config.json, vocab.txt, tokenizer files and model.safetensors of random float32 weights.

    `prefix` ("" like MiniLM, "bert." like bert-base-uncased) goes before every encoder tensor name; `extra` adds
    tensors, `drop` removes some by name (to test mapping errors); `scale` is the weights' standard deviation.
    """
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    hidden, inner = SHAPE["hidden"], SHAPE["intermediate"]

    def random(*shape):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    tensors = {
        "embeddings.word_embeddings.weight": random(len(vocabulary), hidden),
        "embeddings.position_embeddings.weight": random(SHAPE["positions"], hidden),
        "embeddings.token_type_embeddings.weight": random(2, hidden),
        "embeddings.LayerNorm.weight": 1 + random(hidden),
        "embeddings.LayerNorm.bias": random(hidden),
    }
    if with_position_ids:
        tensors["embeddings.position_ids"] = np.arange(SHAPE["positions"], dtype=np.int64)[None]
    for i in range(SHAPE["layers"]):
        layer = f"encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            tensors[layer + name + ".weight"] = random(hidden, hidden)
            tensors[layer + name + ".bias"] = random(hidden)
        tensors[layer + "attention.output.LayerNorm.weight"] = 1 + random(hidden)
        tensors[layer + "attention.output.LayerNorm.bias"] = random(hidden)
        tensors[layer + "intermediate.dense.weight"] = random(inner, hidden)  # (out, in)
        tensors[layer + "intermediate.dense.bias"] = random(inner)
        tensors[layer + "output.dense.weight"] = random(hidden, inner)
        tensors[layer + "output.dense.bias"] = random(hidden)
        tensors[layer + "output.LayerNorm.weight"] = 1 + random(hidden)
        tensors[layer + "output.LayerNorm.bias"] = random(hidden)
    if with_pooler:
        tensors["pooler.dense.weight"] = random(hidden, hidden)
        tensors["pooler.dense.bias"] = random(hidden)
    tensors = {prefix + name: value for name, value in tensors.items() if name not in drop}
    tensors.update(extra or {})
    save_file(tensors, str(folder / "model.safetensors"))

    config = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(vocabulary),
              "hidden_size": hidden, "num_hidden_layers": SHAPE["layers"], "num_attention_heads": SHAPE["heads"],
              "intermediate_size": inner, "max_position_embeddings": SHAPE["positions"], "type_vocab_size": 2,
              "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
              "layer_norm_eps": 1e-12, "initializer_range": 0.02, "pad_token_id": 0}
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "do_lower_case": lowercase, "tokenizer_class": "BertTokenizer", "model_max_length": SHAPE["positions"],
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
        "mask_token": "[MASK]", "strip_accents": None, "tokenize_chinese_chars": True}), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps({
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
        "mask_token": "[MASK]"}), encoding="utf-8")
    return folder
