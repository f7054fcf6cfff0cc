"""UDA data: the seeded balanced labeled subset, the unlabeled pool (train rest + review files), and streaming in
memory that does not grow with the file."""

import gzip
import json
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from tfsenti.data.dataset import TextDataset
from tfsenti.uda.augment import TfIdfWordReplacement, augment_pool
from tfsenti.uda.data import labeled_subset, pool_records, write_pool
from toy_data import toy_dataset


def test_labeled_subset_is_balanced_seeded_and_disjoint():
    train = toy_dataset(60, seed=0)
    labeled, rest = labeled_subset(train, per_class=10, seed=7)
    assert np.bincount(labeled.labels).tolist() == [10, 10]
    assert len(rest) == 40 and not set(labeled.ids) & set(rest.ids)
    again, _ = labeled_subset(train, per_class=10, seed=7)
    other, _ = labeled_subset(train, per_class=10, seed=8)
    assert again.ids == labeled.ids and other.ids != labeled.ids
    with pytest.raises(ValueError, match="has only 30 training examples"):
        labeled_subset(train, per_class=31, seed=0)


def test_pool_chains_train_rest_unsup_and_review_files(tmp_path):
    folder = tmp_path / "amazon_reviews"
    folder.mkdir()
    with gzip.open(folder / "Gift_Cards_5.json.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"overall": 3.0, "summary": "Ok", "reviewText": "It is a\tcard"}) + "\n")
        handle.write(json.dumps({"overall": 5.0, "summary": "", "reviewText": ""}) + "\n")  # empty: skipped
    rest = TextDataset(["good\nfilm", "bad"], [1, 0], ["train:1", "train:2"])
    unsup = TextDataset(["meh"], [-1], ["unsup:0"])
    records = list(pool_records(datasets=[rest, unsup], files=[folder / "Gift_Cards_5.json.gz"]))
    assert records == [("train:1", "good film"), ("train:2", "bad"), ("unsup:0", "meh"),
                       ("amazon_reviews/Gift_Cards_5:1", "Ok: It is a card")]
    assert len(list(pool_records(datasets=[rest, unsup], limit=2))) == 2
    pool = write_pool(records, tmp_path / "cache")
    again = write_pool(records, tmp_path / "cache")
    assert pool.path == again.path and pool.count == 4
    assert pool.path.read_text(encoding="utf-8").splitlines()[0] == "train:1\tgood film"


def _write_lines(path, n, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(f"u{i}\t" + " ".join(rng.choice(words, size=12)) + "\n")


def _python_peak(tmp_path, n):
    source = tmp_path / f"source-{n}.tsv"
    _write_lines(source, n)
    from tfsenti.uda.augment import iter_pool

    tracemalloc.start()
    pool = write_pool(iter_pool(source), tmp_path / f"cache-{n}")
    augment_pool(pool.path, TfIdfWordReplacement(0.3, seed=0), tmp_path / f"cache-{n}", progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_pool_and_augmentation_memory_does_not_grow_with_the_file(tmp_path):
    _python_peak(tmp_path, 50)  # warm-up: lazy imports (tqdm) are not the pool's memory
    small, large = _python_peak(tmp_path, 1_500), _python_peak(tmp_path, 15_000)
    # a pool held in memory would need ~10x; streaming stays within 10% (the vocabulary is the same)
    assert large <= 1.1 * small, (small, large)


_STREAM = r"""
import sys, psutil, numpy as np
from tfsenti.uda.data import unlabeled_pairs
process = psutil.Process()
import tensorflow as tf
rng = np.random.default_rng(0)
words = np.array([f"w{i}" for i in range(300)])
block = "".join(" ".join(row) + "\n" for row in rng.choice(words, size=(15_000, 30)))
def write(path, copies):
    with open(path, "w") as handle:
        for _ in range(copies):
            handle.write(block)
def peak_over_one_pass(path, n):
    stream = unlabeled_pairs(path, path, batch_size=256, seed=0, shuffle_buffer=2000).take(n // 256)
    peak = process.memory_info().rss
    for batch in stream:
        peak = max(peak, process.memory_info().rss)
    return peak
folder = sys.argv[1]
write(folder + "/x1.txt", 1); write(folder + "/x10.txt", 10)
peak_over_one_pass(folder + "/x1.txt", 15_000)            # warm-up: graph and runtime allocations
one = peak_over_one_pass(folder + "/x1.txt", 15_000)
ten = peak_over_one_pass(folder + "/x10.txt", 150_000)
import os
print(one, ten, os.path.getsize(folder + "/x10.txt") - os.path.getsize(folder + "/x1.txt"))
"""


def test_unlabeled_stream_memory_is_flat_on_ten_times_the_data(tmp_path):
    completed = subprocess.run([sys.executable, "-c", _STREAM, str(tmp_path)], capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    one, ten, extra_bytes = map(int, completed.stdout.split()[-3:])
    assert ten <= 1.1 * one, (one, ten)
    assert ten - one < 0.25 * extra_bytes, (one, ten, extra_bytes)  # far below what holding the file would cost
