"""The `tfhub` recipe: handles and the persistent cache, offline errors that name what to provide, the frozen-module
embedding cache (equivalent to running the module every step), and the trainable flag."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hub_fixtures import WORDS, write_word_vectors_file
from tfsenti.config import build_config
from tfsenti.errors import TfsentiError
from tfsenti.hub import handles
from tfsenti.hub.embedding_cache import EmbeddingCache, embed_texts
from tfsenti.hub.handles import ModuleNotAvailableError, resolve_module
from tfsenti.recipes import get_recipe_class
from toy_data import toy_dataset


@pytest.fixture(autouse=True)
def _hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub-cache"))


@pytest.fixture(scope="module")
def vectors_file(tmp_path_factory) -> Path:
    return write_word_vectors_file(tmp_path_factory.mktemp("vectors") / "toy.vec", dim=6, header=True)


def _recipe(overrides, num_classes=2):
    config = build_config("tfhub", "imdb", default_file=False, overrides=["params.verbose=0", "train.batch_size=16", *overrides])
    return get_recipe_class("tfhub")(config, num_classes=num_classes)


# ---- handles, cache, offline --------------------------------------------------------------------------------
def test_cache_dir_defaults_and_is_honoured(tmp_path, monkeypatch):
    monkeypatch.delenv("TFHUB_CACHE_DIR")
    monkeypatch.setenv("TFSENTI_CACHE_DIR", str(tmp_path / "tfsenti"))
    assert handles.ensure_hub_cache_dir() == tmp_path / "tfsenti" / "tfhub"
    assert os.environ["TFHUB_CACHE_DIR"] == str(tmp_path / "tfsenti" / "tfhub")  # what tensorflow_hub reads
    monkeypatch.delenv("TFHUB_CACHE_DIR")
    monkeypatch.delenv("TFSENTI_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert handles.hub_cache_dir() == tmp_path / "home" / ".cache" / "tfsenti" / "tfhub"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "mine"))
    assert handles.ensure_hub_cache_dir() == tmp_path / "mine" and (tmp_path / "mine").is_dir()


def test_short_names_and_handles():
    assert handles.normalize_handle("universal-sentence-encoder-multilingual") == \
        "https://tfhub.dev/google/universal-sentence-encoder-multilingual/3"
    assert handles.normalize_handle("google/nnlm-en-dim128/2") == "https://tfhub.dev/google/nnlm-en-dim128/2"
    assert handles.normalize_handle("https://example.org/m/1") == "https://example.org/m/1"


def test_offline_handle_error_names_what_to_provide():
    with pytest.raises(ModuleNotAvailableError) as raised:
        resolve_module(None)  # the default, nnlm-en-dim50/2, is neither local nor cached
    message = str(raised.value)
    assert "https://tfhub.dev/google/nnlm-en-dim50/2" in message and "TFSENTI_OFFLINE=1" in message
    assert "python cli.py hub build --from-checkpoint" in message and "--from-word-vectors" in message
    assert str(handles.cached_module_dir(handles.DEFAULT_HANDLE)) in message
    with pytest.raises(ModuleNotAvailableError, match="does not exist"):
        resolve_module("./no/such/module")


def test_unreachable_hub_is_an_error_not_a_hang(monkeypatch):
    from tfsenti import network

    monkeypatch.delenv("TFSENTI_OFFLINE")
    monkeypatch.setattr(network, "can_connect", lambda host, *args, **kwargs: False)
    with pytest.raises(ModuleNotAvailableError, match=r"(?s)tfhub.dev cannot be reached .*train-text"):
        resolve_module("nnlm-en-dim128")


def test_recipe_fit_offline_raises_the_clear_error():
    recipe = _recipe([])
    with pytest.raises(TfsentiError, match="python cli.py hub build"):
        recipe.fit(toy_dataset(8, seed=0))


def test_cached_download_is_used_offline(vectors_file, tmp_path):
    from tfsenti.hub.word_vector_module import build_word_vector_module

    handle = "https://tfhub.dev/google/nnlm-en-dim50/2"
    build_word_vector_module(vectors_file, handles.cached_module_dir(handle), progress=False)
    assert resolve_module("nnlm-en-dim50") == handles.cached_module_dir(handle)


def test_word_vector_file_is_built_into_the_cache_once(vectors_file):
    first = resolve_module(str(vectors_file))
    assert first.parent.name == handles.BUILT_FOLDER and handles.is_module_dir(first)
    stamp = (first / "saved_model.pb").stat().st_mtime_ns
    assert resolve_module(str(vectors_file)) == first
    assert (first / "saved_model.pb").stat().st_mtime_ns == stamp


# ---- training -----------------------------------------------------------------------------------------------
def test_frozen_module_cached_embeddings_train_the_same_head(vectors_file):
    """Training the head on cached embeddings equals training the whole model with the frozen module."""
    train, validation = toy_dataset(64, seed=1), toy_dataset(16, seed=2)
    weights, probabilities = [], []
    for cache in (True, False):
        recipe = _recipe([f"train.pretrained={vectors_file}", "params.trainable=false", "train.epochs=4",
                          f"params.cache_embeddings={str(cache).lower()}", "params.learning_rate=0.05"])
        summary = recipe.fit(train, validation)
        assert summary["cached_embeddings"] is cache
        weights.append([w.numpy() for w in recipe.head_.weights])
        probabilities.append(recipe.predict_proba(validation.texts))
    for cached, direct in zip(*weights):
        np.testing.assert_allclose(cached, direct, atol=1e-5)
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-5)


def test_trainable_flag_decides_whether_the_module_learns(vectors_file):
    from tfsenti.hub.word_vectors import read_word_vectors

    initial = read_word_vectors(vectors_file).matrix
    train = toy_dataset(32, seed=1)
    for trainable in (True, False):
        recipe = _recipe([f"train.pretrained={vectors_file}", f"params.trainable={str(trainable).lower()}",
                          "train.epochs=2"])
        recipe.fit(train)
        embeddings = recipe.hub_layer_.resolved_object.embeddings.numpy()[:len(WORDS)]
        assert (not np.allclose(embeddings, initial)) == trainable


def test_train_text_module_multiclass_and_export(tmp_path):
    """`train-text` learns its vectors from the training text; 3 classes get a softmax head; export reloads."""
    from tfsenti import export
    from tfsenti.data.dataset import TextDataset

    rng = np.random.default_rng(0)
    words = {0: ["awful", "boring"], 1: ["fine", "okay"], 2: ["great", "superb"]}
    texts, labels = [], []
    for i in range(90):
        label = i % 3
        texts.append(" ".join(rng.choice(["the", "film", "was", "plot"], 4).tolist() + list(words[label])))
        labels.append(label)
    data = TextDataset(texts, labels, class_names=("neg", "mid", "pos"))
    recipe = _recipe(["train.pretrained=train-text", "params.vector_dim=4", "params.vector_min_count=1",
                      "train.epochs=40", "params.learning_rate=0.02"], num_classes=3)
    recipe.fit(data)
    assert recipe.module_dir_.name.startswith("train-text-")
    probe = ["great superb film", "awful boring plot", "fine okay", ""]
    probabilities = recipe.predict_proba(probe)
    assert probabilities.shape == (4, 3) and probabilities[:3].argmax(1).tolist() == [2, 0, 1]
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-6)
    folder = recipe.export(tmp_path / "model")
    reloaded = export.predict_texts(export.load_model(folder), probe)["probabilities"]
    np.testing.assert_allclose(reloaded, probabilities, atol=1e-5)


def test_embedding_cache_resumes_from_disk(tmp_path):
    calls = []

    def embed(batch):
        calls.append(list(batch))
        return np.array([[len(t), t.count("a")] for t in batch], np.float32)

    cache = EmbeddingCache(tmp_path, module_key="m")
    first = embed_texts(["a", "bb", "aaa", "a"], embed, cache=cache, batch_size=2, flush_every=1, progress=False)
    assert first.tolist() == [[1, 1], [2, 0], [3, 3], [1, 1]]
    assert sorted(t for call in calls for t in call) == ["a", "aaa", "bb"]  # each text once, shortest first
    assert len(list((tmp_path / "m").glob("chunk-*.npz"))) == 2
    calls.clear()
    again = embed_texts(["aaa", "cccc"], embed, cache=EmbeddingCache(tmp_path, module_key="m"), progress=False)
    assert calls == [["cccc"]] and again.tolist() == [[3, 3], [4, 0]]


def test_params_are_validated():
    with pytest.raises(TfsentiError, match="learning_rate must be positive"):
        build_config("tfhub", "imdb", default_file=False, overrides=["params.learning_rate=0"])
    with pytest.raises(TfsentiError, match="truncation"):
        build_config("tfhub", "imdb", default_file=False, overrides=["params.truncation=middle"])


# ---- memory guard (trainable BERT modules) ------------------------------------------------------------------
def _suggested_batch(message: str) -> int:
    import re

    found = re.search(r"--batch-size (\d+) or smaller", message)
    assert found, message
    return int(found.group(1))


@pytest.mark.slow
def test_memory_guard_refuses_fine_tuning_a_bert_module_and_names_a_batch_that_fits(tmp_path, monkeypatch):
    """A trainable BERT module with a batch too big for the memory is refused before the first step, with the
    numbers and the largest batch that fits; that batch then trains, one more is refused again."""
    from hub_fixtures import write_tiny_bert_checkpoint
    from tfsenti.bert import memory

    checkpoint = write_tiny_bert_checkpoint(tmp_path / "tiny-bert")
    monkeypatch.setattr(memory, "available_memory_bytes",
                        lambda: int((memory.RUNTIME_BYTES + 4 * 2**20) / memory.USABLE_FRACTION))
    train = toy_dataset(16, seed=1)
    common = [f"train.pretrained={checkpoint}", "params.max_length=16", "train.epochs=1", "params.trainable=true"]
    with pytest.raises(memory.MemoryBudgetError) as raised:
        _recipe([*common, "train.batch_size=512"]).fit(train, log_dir=tmp_path / "run")
    message = str(raised.value)
    assert message.startswith("tfhub: training would need about") and "micro-batch 512 x length 16" in message
    assert "params.trainable=false" in message and "params.max_length" in message
    assert not (tmp_path / "run" / "keras").exists()  # refused before training started
    batch = _suggested_batch(message)
    assert 1 < batch < 512

    recipe = _recipe([*common, f"train.batch_size={batch}"])
    recipe.fit(train)
    assert recipe.is_fitted
    with pytest.raises(memory.MemoryBudgetError):
        _recipe([*common, f"train.batch_size={batch + 1}"]).fit(train)
    frozen = _recipe([*common, "train.batch_size=512", "params.trainable=false"])
    frozen.fit(train)  # a frozen module keeps no activations for a backward pass: not guarded
    assert frozen.is_fitted
