"""Tiny, seeded inputs for the TF-Hub module builders: a 2-layer BERT checkpoint (Hugging Face format) and word
vectors, small enough to build a module in a second or two.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "film", "was", "is", "great", "good",
              "awful", "bad", "boring", "loved", "hated", "it", "a", "!", ".", ",", "##s", "##ly", "very", "not"]
HIDDEN, HEADS, LAYERS, INTERMEDIATE, POSITIONS = 8, 2, 2, 16, 32


def write_tiny_bert_checkpoint(folder: Path, *, seed: int = 0, hidden_act: str = "gelu_new") -> Path:
    """A Hugging Face-format BERT folder (config.json, vocab.txt, tokenizer_config.json, model.safetensors)."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    weights = {
        "embeddings.word_embeddings.weight": normal(len(VOCABULARY), HIDDEN),
        "embeddings.position_embeddings.weight": normal(POSITIONS, HIDDEN),
        "embeddings.token_type_embeddings.weight": normal(2, HIDDEN),
        "embeddings.LayerNorm.weight": 1.0 + normal(HIDDEN, scale=0.1),
        "embeddings.LayerNorm.bias": normal(HIDDEN, scale=0.1),
        "pooler.dense.weight": normal(HIDDEN, HIDDEN),
        "pooler.dense.bias": normal(HIDDEN),
    }
    for index in range(LAYERS):
        base = f"encoder.layer.{index}."
        for part in ("query", "key", "value"):
            weights[base + f"attention.self.{part}.weight"] = normal(HIDDEN, HIDDEN)
            weights[base + f"attention.self.{part}.bias"] = normal(HIDDEN, scale=0.1)
        weights[base + "attention.output.dense.weight"] = normal(HIDDEN, HIDDEN)
        weights[base + "attention.output.dense.bias"] = normal(HIDDEN, scale=0.1)
        weights[base + "intermediate.dense.weight"] = normal(INTERMEDIATE, HIDDEN)
        weights[base + "intermediate.dense.bias"] = normal(INTERMEDIATE, scale=0.1)
        weights[base + "output.dense.weight"] = normal(HIDDEN, INTERMEDIATE)
        weights[base + "output.dense.bias"] = normal(HIDDEN, scale=0.1)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[base + norm + ".weight"] = 1.0 + normal(HIDDEN, scale=0.1)
            weights[base + norm + ".bias"] = normal(HIDDEN, scale=0.1)
    save_file(weights, str(folder / "model.safetensors"))
    config = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": HIDDEN,
              "num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "intermediate_size": INTERMEDIATE,
              "vocab_size": len(VOCABULARY), "max_position_embeddings": POSITIONS, "type_vocab_size": 2,
              "hidden_act": hidden_act, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
              "attention_probs_dropout_prob": 0.1, "pad_token_id": 0}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "vocab.txt").write_text("\n".join(VOCABULARY) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}), encoding="utf-8")
    return folder


WORDS = ["good", "great", "loved", "bad", "awful", "hated", "movie", "film", "the", "재미있다", "지루하다"]


def word_vectors_matrix(dim: int = 4, *, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((len(WORDS), dim)).astype(np.float32)


def write_word_vectors_file(path: Path, *, dim: int = 4, header: bool = False, seed: int = 0) -> Path:
    """GloVe format (no header) by default, word2vec text format with `header=True`."""
    matrix = word_vectors_matrix(dim, seed=seed)
    lines = [f"{len(WORDS)} {dim}"] if header else []
    lines += [word + " " + " ".join(repr(float(v)) for v in row) for word, row in zip(WORDS, matrix)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
