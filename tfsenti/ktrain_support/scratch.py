"""`--pretrained scratch`: a small randomly initialised BERT, written as a Hugging Face folder, whose WordPiece
vocabulary (frequent words + every character, alone and as `##` continuation) is learned from the training texts.

It goes through the same converter and ktrain path as a real checkpoint; it exists for tests and for checking a
pipeline without any download, not for accuracy.

Example:
    >>> import tempfile
    >>> folder = write_scratch_checkpoint(tempfile.mkdtemp(), ["a good film", "a dull film"], vocabulary_size=40,
    ...                                   hidden_dim=8, num_layers=1, num_heads=2, max_positions=16)
    >>> (folder / "model.safetensors").is_file(), "film" in (folder / "vocab.txt").read_text().split()
    (True, True)
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def learn_vocabulary(texts: Sequence[str], size: int) -> list[str]:
    """Special tokens, every character (plain and `##`), then the most frequent lower-cased words up to `size`."""
    words: Counter = Counter()
    for text in texts:
        normalized = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
        words.update(_WORD.findall(normalized))
    characters = sorted({c for word in words for c in word})
    vocabulary = SPECIAL_TOKENS + characters + [f"##{c}" for c in characters]
    known = set(vocabulary)
    for word, _ in words.most_common():
        if len(vocabulary) >= size:
            break
        if word not in known:
            vocabulary.append(word)
            known.add(word)
    return vocabulary


def write_scratch_checkpoint(folder, texts: Sequence[str], *, vocabulary_size: int = 2000, hidden_dim: int = 32,
                             num_layers: int = 2, num_heads: int = 2, max_positions: int = 512,
                             seed: int = 0) -> Path:
    """Write config.json, vocab.txt, tokenizer files and a random model.safetensors (PyTorch BERT layout)."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = learn_vocabulary(texts, vocabulary_size)
    rng = np.random.default_rng(seed)
    hidden, inner = hidden_dim, 4 * hidden_dim

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    tensors = {"embeddings.word_embeddings.weight": normal(len(vocabulary), hidden),
               "embeddings.position_embeddings.weight": normal(max_positions, hidden),
               "embeddings.token_type_embeddings.weight": normal(2, hidden),
               "embeddings.LayerNorm.weight": np.ones(hidden, np.float32),
               "embeddings.LayerNorm.bias": np.zeros(hidden, np.float32),
               "pooler.dense.weight": normal(hidden, hidden), "pooler.dense.bias": np.zeros(hidden, np.float32)}
    for i in range(num_layers):
        layer = f"encoder.layer.{i}."
        for name, (rows, columns) in {"attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
                                      "attention.self.value": (hidden, hidden),
                                      "attention.output.dense": (hidden, hidden),
                                      "intermediate.dense": (inner, hidden), "output.dense": (hidden, inner)}.items():
            tensors[f"{layer}{name}.weight"] = normal(rows, columns)
            tensors[f"{layer}{name}.bias"] = np.zeros(rows, np.float32)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{layer}{norm}.weight"] = np.ones(hidden, np.float32)
            tensors[f"{layer}{norm}.bias"] = np.zeros(hidden, np.float32)
    save_file(tensors, str(folder / "model.safetensors"))
    config = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(vocabulary),
              "hidden_size": hidden, "num_hidden_layers": num_layers, "num_attention_heads": num_heads,
              "intermediate_size": inner, "max_position_embeddings": max_positions, "type_vocab_size": 2,
              "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
              "layer_norm_eps": 1e-12, "initializer_range": 0.02, "pad_token_id": 0}
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": max_positions}),
        encoding="utf-8")
    return folder
