"""A tiny, seeded, learnable sentiment corpus (English and Korean) for tests of every recipe: two classes
(negative, positive) or three (negative, neutral, positive, as star ratings put them).

Example:
    >>> train = toy_dataset(40, seed=0)
    >>> len(train), sorted(set(train.labels.tolist()))
    (40, [0, 1])
    >>> three = toy_dataset(30, seed=0, num_classes=3)
    >>> three.class_names, three.labels[:4].tolist()
    (('negative', 'neutral', 'positive'), [0, 1, 2, 0])
"""

from __future__ import annotations

import numpy as np

from tfsenti.data.dataset import TextDataset

POSITIVE = ["great", "wonderful", "loved", "excellent", "superb", "재미있다", "최고", "감동"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "dull", "지루하다", "최악", "별로"]
NEUTRAL = ["average", "okay", "mediocre", "ordinary", "passable", "보통", "무난하다", "평범하다"]
FILLER = ["the", "movie", "film", "plot", "acting", "was", "and", "this", "영화", "배우", "정말", "그냥", "<br />"]
CLASSES = {2: (("negative", NEGATIVE), ("positive", POSITIVE)),
           3: (("negative", NEGATIVE), ("neutral", NEUTRAL), ("positive", POSITIVE))}


def toy_dataset(n: int, *, seed: int, prefix: str = "doc", num_classes: int = 2) -> TextDataset:
    """n short reviews, labels cycling 0, 1, ...; each text draws two sentiment words from its class's list
    (`CLASSES`: 2 -> negative, positive; 3 -> negative, neutral, positive) and six from FILLER."""
    if num_classes not in CLASSES:
        raise ValueError(f"toy_dataset has word lists for num_classes in {sorted(CLASSES)}, received {num_classes}")
    names, word_lists = zip(*CLASSES[num_classes])
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for index in range(n):
        label = index % num_classes
        words = list(rng.choice(FILLER, size=6)) + list(rng.choice(word_lists[label], size=2))
        rng.shuffle(words)
        texts.append(" ".join(words) + ("!" if rng.random() < 0.3 else "."))
        labels.append(label)
    return TextDataset(texts, labels, [f"{prefix}-{i}" for i in range(n)], class_names=names)


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
