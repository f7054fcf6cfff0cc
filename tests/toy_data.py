"""A tiny, seeded, learnable sentiment corpus (English and Korean) for tests of every recipe.

Example:
    >>> train = toy_dataset(40, seed=0)
    >>> len(train), sorted(set(train.labels.tolist()))
    (40, [0, 1])
"""

from __future__ import annotations

import numpy as np

from tfsenti.data.dataset import TextDataset

POSITIVE = ["great", "wonderful", "loved", "excellent", "superb", "재미있다", "최고", "감동"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "dull", "지루하다", "최악", "별로"]
FILLER = ["the", "movie", "film", "plot", "acting", "was", "and", "this", "영화", "배우", "정말", "그냥", "<br />"]


def toy_dataset(n: int, *, seed: int, prefix: str = "doc") -> TextDataset:
    """n short reviews; label 1 texts draw sentiment words from POSITIVE, label 0 from NEGATIVE."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for index in range(n):
        label = index % 2
        words = list(rng.choice(FILLER, size=6)) + list(rng.choice(POSITIVE if label else NEGATIVE, size=2))
        rng.shuffle(words)
        texts.append(" ".join(words) + ("!" if rng.random() < 0.3 else "."))
        labels.append(label)
    return TextDataset(texts, labels, [f"{prefix}-{i}" for i in range(n)])


def write_nsmc_folder(folder, *, train: int, test: int):
    """`folder/ratings_{train,test}.txt` in NSMC's format (id, document, label; tab-separated) from toy_dataset;
    returns `folder`, ready for `--data nsmc --data-dir folder`."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for split, size, seed in (("train", train, 1), ("test", test, 2)):
        data = toy_dataset(size, seed=seed)
        rows = ["id\tdocument\tlabel"] + [f"{i}\t{t}\t{y}" for i, (t, y) in enumerate(zip(data.texts, data.labels))]
        (folder / f"ratings_{split}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder
