"""dv-cosine: objective gradients, what training learns, resume, the id join, and the recipe end to end (tiny)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from tfsenti.embeddings.alignment import AlignmentError, DocumentTable, join_by_id
from tfsenti.embeddings.cosine_objective import (pair_objective, unit_doc_gradient, unit_ngram_gradient,
                                                 unit_pair_scores)
from tfsenti.embeddings.trainer import CosineEmbeddingTrainer, EmbeddingSettings, latest_checkpoint
from tfsenti.errors import ConfigError, TfsentiError


# ---- the objective ---------------------------------------------------------------------------------------------
def _random_problem(seed=0, docs=3, ngrams=5, dim=4, pairs=9):
    rng = np.random.default_rng(seed)
    return dict(
        doc_vectors=rng.normal(size=(docs, dim)) * rng.uniform(0.5, 2.0, size=(docs, 1)),
        ngram_vectors=rng.normal(size=(ngrams, dim)) * rng.uniform(0.5, 2.0, size=(ngrams, 1)),
        doc_index=rng.integers(0, docs, pairs), ngram_index=rng.integers(0, ngrams, pairs),
        target=rng.integers(0, 2, pairs), weight=rng.uniform(0.5, 2.0, pairs),
    )


def test_cosine_objective_gradients_match_finite_differences():
    problem = _random_problem()
    value = pair_objective(**problem, alpha=6.0)
    step = 1e-6
    for name, gradient in (("doc_vectors", value.doc_gradient), ("ngram_vectors", value.ngram_gradient)):
        table = problem[name]
        numeric = np.zeros_like(table)
        for index in np.ndindex(table.shape):
            shifted = {**problem, name: table.copy()}
            shifted[name][index] += step
            up = pair_objective(**shifted, alpha=6.0).loss
            shifted[name][index] -= 2 * step
            down = pair_objective(**shifted, alpha=6.0).loss
            numeric[index] = (up - down) / (2 * step)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-7, err_msg=name)
    assert np.abs(value.doc_gradient).max() > 0.01  # the check above is not vacuous


def test_gradient_is_scale_invariant_and_orthogonal():
    problem = _random_problem(seed=1)
    value = pair_objective(**problem, alpha=6.0)
    scaled = pair_objective(**{**problem, "doc_vectors": problem["doc_vectors"] * 3.0}, alpha=6.0)
    assert scaled.loss == pytest.approx(value.loss)
    # d cos / dh is orthogonal to h: scaling a vector never changes a cosine
    np.testing.assert_allclose(np.einsum("ij,ij->i", value.doc_gradient, problem["doc_vectors"]), 0.0, atol=1e-10)


def test_unit_fast_path_equals_reference_objective():
    rng = np.random.default_rng(2)
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    docs, ngrams = unit(rng.normal(size=(3, 5))), unit(rng.normal(size=(6, 5)))
    positives = sp.csr_matrix(np.array([[1, 1, 0, 0, 0, 0], [0, 1, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]], float))
    noise_index = np.array([0, 5, 5, 2])
    negative_weight = np.array([0.5, 1.5, 2.0])
    pair_doc = np.repeat(np.arange(3), np.diff(positives.indptr))
    pair_weights = positives.data

    scores = unit_pair_scores(docs, ngrams[positives.indices], np.diff(positives.indptr), pair_weights,
                              ngrams[noise_index], negative_weight, alpha=6.0)
    doc_raw = unit_doc_gradient(scores, positives, ngrams, ngrams[noise_index])
    ngram_raw = unit_ngram_gradient(scores, positives, docs, noise_index)

    negative_doc = np.repeat(np.arange(3), len(noise_index))
    reference = pair_objective(
        docs, ngrams, doc_index=np.concatenate([pair_doc, negative_doc]),
        ngram_index=np.concatenate([positives.indices, np.tile(noise_index, 3)]),
        target=np.concatenate([np.ones(len(pair_doc)), np.zeros(len(negative_doc))]),
        weight=np.concatenate([pair_weights, np.repeat(negative_weight, len(noise_index))]), alpha=6.0)
    tangent = lambda g, v: g - np.einsum("ij,ij->i", g, v)[:, None] * v  # noqa: E731
    assert scores.loss == pytest.approx(reference.loss)
    np.testing.assert_allclose(tangent(doc_raw, docs), reference.doc_gradient, atol=1e-10)
    np.testing.assert_allclose(tangent(ngram_raw, ngrams), reference.ngram_gradient, atol=1e-10)


def test_pair_sgd_moves_both_vectors_down_the_objective_gradient():
    """The paper's per-pair SGD: one document, one positive n-gram, two draws of the one noise n-gram."""
    from tfsenti.embeddings.pair_sgd import sgd_epoch

    rng = np.random.default_rng(4)
    docs = rng.normal(size=(1, 6)).astype(np.float32) * 0.7
    ngrams = rng.normal(size=(2, 6)).astype(np.float32) * 1.3
    before_docs, before_ngrams, rate = docs.copy(), ngrams.copy(), 1e-3
    totals = sgd_epoch(sp.csr_matrix(np.array([[1.0, 0.0]], np.float32)), docs, ngrams,
                       noise_cdf=np.array([0.0, 1.0]), keep=np.ones(2), alpha=6.0, negatives=2,
                       learning_rate=rate, seed=0, threads=1)
    reference = pair_objective(before_docs.astype(np.float64), before_ngrams.astype(np.float64),
                               doc_index=np.zeros(3, int), ngram_index=np.array([0, 1, 1]),
                               target=np.array([1.0, 0.0, 0.0]), weight=np.ones(3), alpha=6.0)
    assert totals[2] == 1 and totals[0] == pytest.approx(reference.loss, rel=1e-3)
    # sequential steps (the second negative sees the first one's move), float32: equal to first order
    np.testing.assert_allclose((docs - before_docs) / rate, -reference.doc_gradient, rtol=5e-3, atol=3e-3)
    np.testing.assert_allclose((ngrams - before_ngrams) / rate, -reference.ngram_gradient, rtol=5e-3, atol=3e-3)


def test_pair_sgd_skips_pairs_by_keep_probability_and_is_seeded():
    from tfsenti.embeddings.pair_sgd import paper_start, sgd_epoch

    presence = sp.random(40, 30, density=0.3, format="csr", random_state=1, dtype=np.float32)
    presence.data[:] = 1.0
    keep = np.where(np.arange(30) < 15, 1.0, 0.0)
    noise_cdf = np.minimum(np.arange(1, 31) / 15, 1.0)  # noise among the first 15 n-grams only
    runs = []
    for _ in range(2):
        docs, ngrams = paper_start(np.random.default_rng(0), 40, 30, dim=8)
        untouched = ngrams[15:].copy()
        totals = sgd_epoch(presence, docs, ngrams, noise_cdf=noise_cdf,
                           keep=keep, alpha=6.0, negatives=3, learning_rate=0.01, seed=5, threads=1)
        runs.append((docs, ngrams))
        assert totals[2] == presence[:, :15].nnz  # every kept pair once, none of the dropped n-grams
        np.testing.assert_array_equal(ngrams[15:], untouched)  # never visited: neither positive nor noise
    np.testing.assert_array_equal(runs[0][0], runs[1][0])  # one thread: the seed decides everything
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


# ---- what training learns --------------------------------------------------------------------------------------
def _topic_corpus(per_topic=12, seed=0):
    """Three topics with disjoint vocabularies of 12 n-grams; each document holds 5 of its topic's n-grams."""
    rng = np.random.default_rng(seed)
    rows, topics = [], []
    for topic in range(3):
        for _ in range(per_topic):
            row = np.zeros(36, np.float32)
            row[topic * 12 + rng.choice(12, 5, replace=False)] = 1.0
            rows.append(row)
            topics.append(topic)
    return sp.csr_matrix(np.array(rows)), np.array(topics)


def _small_settings(**changes):
    base = dict(dim=16, epochs=15, batch_size=6, threads=1, subsample=None, noise_samples=32)
    return EmbeddingSettings(**{**base, **changes})


def _trainer(**changes):
    return CosineEmbeddingTrainer(_small_settings(**changes), seed=3)


@pytest.mark.parametrize("init, optimizer", [("random", "minibatch"), ("svd", "minibatch"), ("random", "sgd"),
                                             ("svd", "sgd")])
def test_documents_sharing_ngrams_end_up_closer(init, optimizer):
    presence, topics = _topic_corpus()
    settings = _small_settings(init=init, epochs=25, optimizer=optimizer, pair_learning_rate=0.005)
    trainer = CosineEmbeddingTrainer(settings, seed=3).fit(presence, progress=False)
    vectors = trainer.doc_vectors_
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    same = topics[:, None] == topics[None, :]
    off_diagonal = ~np.eye(len(topics), dtype=bool)
    assert similarity[same & off_diagonal].mean() > similarity[~same].mean() + 0.2
    # every document is closer to the centroid of its own topic than to any other topic's
    centroids = np.stack([vectors[topics == t].mean(axis=0) for t in range(3)])
    assert ((vectors @ centroids.T).argmax(axis=1) == topics).all()
    assert trainer.history_[-1]["loss"] < trainer.history_[0]["loss"]


def test_inferred_vectors_of_new_documents_land_near_their_topic():
    tf = pytest.importorskip("tensorflow")
    from tfsenti.embeddings.inference import DocumentInference, infer_csr

    presence, topics = _topic_corpus()
    trainer = _trainer(epochs=25).fit(presence, progress=False)
    module = DocumentInference(trainer.ngram_vectors_, pair_weights=trainer.keep_probability_,
                               noise_counts=np.bincount(presence.indices, minlength=36), noise_size=36,
                               steps=20, learning_rate=2.0)
    new, new_topics = _topic_corpus(per_topic=4, seed=9)
    inferred = infer_csr(module, new)
    centroids = np.stack([trainer.doc_vectors_[topics == t].mean(axis=0) for t in range(3)])
    assert ((inferred @ centroids.T).argmax(axis=1) == new_topics).all()
    # deterministic, and a document without known n-grams gets the zero vector
    np.testing.assert_array_equal(infer_csr(module, new), inferred)
    empty = module(tf.constant([], tf.int64), tf.constant([], tf.int64), tf.constant(2, tf.int64)).numpy()
    np.testing.assert_array_equal(empty, np.zeros((2, 16), np.float32))


def test_inference_batches_bound_the_pairs_and_never_change_the_vectors():
    pytest.importorskip("tensorflow")
    from tfsenti.embeddings.inference import DocumentInference, infer_csr, pair_batches

    lengths = np.random.default_rng(3).integers(0, 40, size=200)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    batches = pair_batches(indptr, max_documents=16, max_pairs=100)
    assert [start for start, _ in batches] == [0] + [end for _, end in batches[:-1]] and batches[-1][1] == 200
    for start, end in batches:
        assert end - start <= 16
        assert indptr[end] - indptr[start] <= 100 or end - start == 1

    presence, _ = _topic_corpus()
    trainer = _trainer(epochs=3).fit(presence, progress=False)
    module = DocumentInference(trainer.ngram_vectors_, pair_weights=trainer.keep_probability_,
                               noise_counts=np.bincount(presence.indices, minlength=36), noise_size=36, steps=10)
    whole = infer_csr(module, presence)
    one_pair_budget = infer_csr(module, presence, max_pair_values=16)  # dim 16: one document per batch
    np.testing.assert_allclose(one_pair_budget, whole, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["minibatch", "sgd"])
def test_interrupted_training_resumes_from_its_last_epoch(tmp_path, optimizer):
    presence, _ = _topic_corpus()
    settings = lambda epochs: _small_settings(epochs=epochs, optimizer=optimizer)  # noqa: E731
    straight = CosineEmbeddingTrainer(settings(4), seed=3).fit(presence, progress=False)
    CosineEmbeddingTrainer(settings(2), seed=3).fit(presence, checkpoint_dir=tmp_path, progress=False)
    assert latest_checkpoint(tmp_path).name == "epoch-0002"
    seen = []
    resumed = CosineEmbeddingTrainer(settings(4), seed=3).fit(
        presence, checkpoint_dir=tmp_path, progress=False, on_epoch=lambda report: seen.append(report.epoch))
    assert seen == [3, 4]  # only the missing epochs ran
    assert latest_checkpoint(tmp_path).name == "epoch-0004"
    assert len(list(tmp_path.iterdir())) == 1  # older checkpoints are pruned, no partial folder is left
    np.testing.assert_allclose(resumed.doc_vectors_, straight.doc_vectors_, atol=1e-6)
    np.testing.assert_allclose(resumed.ngram_vectors_, straight.ngram_vectors_, atol=1e-6)


def test_checkpoint_minutes_spaces_the_checkpoints_and_always_keeps_the_last_epoch(tmp_path, monkeypatch):
    presence, _ = _topic_corpus()
    saved = []
    monkeypatch.setattr(CosineEmbeddingTrainer, "_save", lambda self, folder, epochs, fingerprint: saved.append(epochs))
    _trainer(epochs=3).fit(presence, checkpoint_dir=tmp_path, progress=False)
    assert saved == [1, 2, 3]  # default 0: after every epoch
    saved.clear()
    _trainer(epochs=3).fit(presence, checkpoint_dir=tmp_path, checkpoint_minutes=60,
                                                          progress=False)
    assert saved == [3]  # none due within the hour, but the last epoch is always written
    with pytest.raises(TfsentiError, match="checkpoint_minutes"):
        _trainer(epochs=1).fit(presence, checkpoint_minutes=-1, progress=False)
    from tfsenti.recipes.dvcosine import DVCosineParams

    with pytest.raises(ValueError, match="checkpoint_minutes"):
        DVCosineParams(checkpoint_minutes=-1)


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    presence, _ = _topic_corpus()
    _trainer(epochs=1).fit(presence, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(TfsentiError, match="belongs to another run"):
        _trainer(epochs=2, dim=8).fit(presence, checkpoint_dir=tmp_path,
                                                                     progress=False)
    with pytest.raises(TfsentiError, match="belongs to another run"):
        CosineEmbeddingTrainer(_small_settings(epochs=2), seed=4).fit(presence, checkpoint_dir=tmp_path,
                                                                      progress=False)
    saved = json.loads((latest_checkpoint(tmp_path) / "state.json").read_text(encoding="utf-8"))["fingerprint"]
    assert {"init", "optimizer", "pair_learning_rate", "seed"} <= set(saved)
    with pytest.raises(TfsentiError, match="belongs to another run"):
        _trainer(epochs=2, optimizer="sgd").fit(
            presence, checkpoint_dir=tmp_path, progress=False)


def test_settings_are_validated():
    with pytest.raises(ValueError, match="init"):
        EmbeddingSettings(init="zeros")
    with pytest.raises(ValueError, match="optimizer"):
        EmbeddingSettings(optimizer="adam")
    with pytest.raises(ValueError, match="pair_learning_rate"):
        EmbeddingSettings(pair_learning_rate=0.0)
    with pytest.raises(TfsentiError, match="must be positive integers"):
        _trainer(optimizer="sgd").fit(0.5 * _topic_corpus()[0], progress=False)
    with pytest.raises(ValueError, match="subsample"):
        EmbeddingSettings(subsample=2.0)
    with pytest.raises(ValueError, match="dim"):
        EmbeddingSettings(dim=0)


# ---- alignment: features and vectors meet by document id -------------------------------------------------------
def test_join_by_id_undoes_a_shuffled_side():
    rng = np.random.default_rng(0)
    ids = [f"doc-{i}" for i in range(50)]
    features = DocumentTable(ids, sp.random(50, 30, density=0.2, format="csr", random_state=1))
    vectors = rng.normal(size=(50, 4))
    order = rng.permutation(50)
    shuffled = DocumentTable([ids[i] for i in order], vectors[order])  # the other side lists documents differently
    joined_features, joined_vectors = join_by_id(ids, features, shuffled)
    np.testing.assert_array_equal(joined_vectors, vectors)
    np.testing.assert_array_equal(joined_features.toarray(), features.rows.toarray())


def test_a_positional_join_of_a_shuffled_side_is_exactly_the_published_bug():
    """Vectors that carry the label: joined by id they classify perfectly, joined by position (the original's
    bug, simulated by shuffling within each class) they still look good on train but are another document's."""
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 20)
    ids = [f"d{i}" for i in range(40)]
    vectors = rng.normal(size=(40, 3)) + labels[:, None] * 4.0
    within_class = np.concatenate([rng.permutation(20), 20 + rng.permutation(20)])
    table = DocumentTable([ids[i] for i in within_class], vectors[within_class])
    (aligned,) = join_by_id(ids, table)
    np.testing.assert_array_equal(aligned, vectors)
    positional = table.rows  # what concatenating the files line by line would give
    assert not np.allclose(positional, vectors)  # each row belongs to another document of the same class


@pytest.mark.parametrize("ids, message", [(["a", "b", "a"], "appears twice"), (["a"], "one id per row")])
def test_tables_with_bad_ids_are_refused(ids, message):
    with pytest.raises(AlignmentError, match=message):
        DocumentTable(ids, np.zeros((3, 2)))


def test_joining_on_ids_a_table_lacks_is_an_error():
    table = DocumentTable(["a", "b"], np.zeros((2, 2)))
    with pytest.raises(AlignmentError, match="not in this table"):
        join_by_id(["a", "c"], table)


# ---- the recipe ------------------------------------------------------------------------------------------------
TINY = ["params.dim=16", "params.epochs=8", "params.min_df=1", "params.min_count=1", "params.subsample=null",
        "params.threads=1", "params.batch_size=16", "params.noise_samples=64", "params.noise_size=64"]


def _recipe(overrides=()):
    from tfsenti.config import build_config
    from tfsenti.recipes import get_recipe_class

    config = build_config("dvcosine", "imdb", default_file=False, overrides=TINY + list(overrides))
    return get_recipe_class("dvcosine")(config, num_classes=2)


def test_recipe_joins_vectors_by_id_and_logs_embedding_loss(tmp_path):
    from toy_data import toy_dataset

    train, validation = toy_dataset(60, seed=1), toy_dataset(20, seed=2, prefix="val")
    unlabeled = toy_dataset(30, seed=4, prefix="doc").without_labels()  # same ids as train: must not collide
    recipe = _recipe(["params.vector_scale_grid=[1.0, 4.0]"])
    assert recipe.wants_unlabeled()
    metrics = recipe.fit(train, validation, unlabeled=unlabeled, log_dir=tmp_path)
    assert metrics["validation_accuracy"] >= 0.9
    assert {"validation_accuracy/C_1_scale_1", "validation_accuracy/C_1_scale_4"} <= set(metrics)
    # the embedding corpus is train + unlabeled, each vector under its own document's id
    assert len(recipe.train_vectors_) == 90 and "unlabeled:doc-0" in recipe.train_vectors_.ids
    assert len(recipe.history_) == 8
    events = list((tmp_path / "embedding").glob("events.out.tfevents.*"))
    assert events, "no TensorBoard events for the embedding loss"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path / "embedding"))
    accumulator.Reload()
    assert len(accumulator.Tensors("embedding/loss")) == 8
    assert (tmp_path / "embedding-checkpoints" / "epoch-0008").is_dir()


def test_vectors_only_classifier_and_transductive_default():
    from toy_data import toy_dataset

    recipe = _recipe(["params.features=vectors", "params.use_unlabeled=false", "params.epochs=20"])
    assert not recipe.wants_unlabeled() and recipe.params.transductive is False and not recipe.wants_test_texts()
    recipe.fit(toy_dataset(80, seed=1), toy_dataset(20, seed=2, prefix="val"))
    assert recipe.nb_coef_.shape[0] == 0  # no NB-BON features at all
    held_out = toy_dataset(40, seed=3, prefix="test")
    assert (recipe.predict_proba(held_out.texts).argmax(1) == held_out.labels).mean() >= 0.8


def test_transductive_scores_the_trained_test_vectors_joined_by_id():
    from tfsenti.embeddings.corpus import TEST_TEXT_PREFIX
    from toy_data import toy_dataset

    train, validation = toy_dataset(60, seed=1), toy_dataset(20, seed=2, prefix="val")
    test = toy_dataset(40, seed=3, prefix="test")
    recipe = _recipe(["params.transductive=true", "params.use_unlabeled=false", "params.epochs=20"])
    assert recipe.wants_test_texts()
    with pytest.raises(ConfigError, match="test_texts"):  # the test text is handed over, never looked up
        recipe.fit(train, validation)
    with pytest.raises(ConfigError, match="without_labels"):  # ... and never with its labels
        recipe.fit(train, validation, test_texts=test)
    recipe.fit(train, validation, test_texts=test.without_labels())
    trained = recipe.train_vectors_  # validation and test text joined the embedding corpus (never their labels)
    test_keys = [TEST_TEXT_PREFIX + i for i in test.ids]
    assert sorted(trained.ids) == sorted(list(train.ids) + list(validation.ids) + test_keys)
    for split in (train, validation):  # the classifier saw trained vectors, none inferred
        np.testing.assert_array_equal(recipe.labeled_vectors_.take(split.ids), trained.take(split.ids))
    probabilities, vectors = recipe.joint_predict_with_vectors(test)
    np.testing.assert_array_equal(vectors, trained.take(test_keys))
    assert (probabilities.argmax(1) == test.labels).mean() >= 0.8
    # another document order: each document keeps its own vector (joined by id, not by position)
    order = np.random.default_rng(0).permutation(len(test))
    shuffled_probabilities, _ = recipe.joint_predict_with_vectors(test.subset(order))
    np.testing.assert_allclose(shuffled_probabilities, probabilities[order], rtol=1e-6)
    with pytest.raises(AlignmentError, match="not in this table"):  # text that was not in the corpus has none
        recipe.joint_predict_with_vectors(toy_dataset(4, seed=9, prefix="new"))
    plain = _recipe(["params.use_unlabeled=false"])
    plain.fit(train)
    with pytest.raises(ConfigError, match="transductive"):  # a fit without it holds no test vectors to read
        plain.joint_predict_with_vectors(test)


def test_duplicate_document_ids_are_refused():
    from tfsenti.data.dataset import TextDataset

    train = TextDataset(["good", "bad", "fine", "awful"], [1, 0, 1, 0], ids=["a", "b", "c", "d"])
    validation = TextDataset(["nice", "poor"], [1, 0], ids=["a", "e"])
    with pytest.raises(AlignmentError, match="repeat"):
        _recipe().fit(train, validation)


def test_the_paper_preset_is_the_benchmarked_run_it_quotes():
    """configs/imdb/dvcosine-paper.yaml quotes run 5 of block imdb-sweep-chosen: it must stay dvcosine.yaml with
    that run's overrides and its last stage's epochs, so that its figures describe what it trains."""
    import dataclasses
    from pathlib import Path

    from tfsenti.config import build_config

    configs = Path(__file__).resolve().parents[1] / "configs" / "imdb"
    run_5 = ["params.optimizer=sgd", "params.init=random", "params.dim=500", "params.nb_subsample=2",
             "params.checkpoint_minutes=10", "params.epochs=120"]  # and nb_subsample_rule=exp, now the only rule
    benchmarked = build_config("dvcosine", "imdb", config_file=configs / "dvcosine.yaml", overrides=run_5)
    preset = build_config("dvcosine", "imdb", config_file=configs / "dvcosine-paper.yaml")
    # the same settings; only the record of which file they were read from differs
    assert {**dataclasses.asdict(preset), "config_file": None} == {**dataclasses.asdict(benchmarked),
                                                                     "config_file": None}


def test_params_are_validated():
    from tfsenti.config import build_config

    with pytest.raises(ConfigError, match="features"):
        build_config("dvcosine", "imdb", default_file=False, overrides=["params.features=both"])
    with pytest.raises(ConfigError, match="vector_scale"):
        build_config("dvcosine", "imdb", default_file=False, overrides=["params.vector_scale=0"])
    with pytest.raises(ConfigError, match="nb_subsample"):
        build_config("dvcosine", "imdb", default_file=False, overrides=["params.nb_subsample=0"])
    with pytest.raises(ConfigError, match=r"interpolation beta must be in \[0, 1\]"):
        build_config("dvcosine", "imdb", default_file=False, overrides=["params.interpolation_grid=[1.0, 1.5]"])
    with pytest.raises(ConfigError, match="needs params.features=ensemble"):
        build_config("dvcosine", "imdb", default_file=False, overrides=["params.interpolation=0.5", "params.features=vectors"])
    with pytest.raises(ConfigError, match="dim must be >= 1"):  # the embedding settings are validated too
        build_config("dvcosine", "imdb", default_file=False, overrides=["params.dim=0"])
    for removed in ("doc_start=centroid", "svd_weights=idf_keep", "infer_noise=sample", "nb_subsample_rule=exp",
                    "count_occurrences=true", "joint_vectors=true", "transductive_test=true", "reinfer_train=false",
                    "refit_on_validation=true", "seed=3"):  # switches that did not move results (docs/DVCOSINE.md)
        with pytest.raises(ConfigError, match="Unknown key"):
            build_config("dvcosine", "imdb", default_file=False, overrides=[f"params.{removed}"])


def test_nb_subsample_weighs_pairs_by_the_training_labels_only():
    from tfsenti.data.dataset import TextDataset
    from toy_data import toy_dataset

    train, validation = toy_dataset(60, seed=1), toy_dataset(20, seed=2, prefix="val")
    flipped = TextDataset(validation.texts, 1 - validation.labels, validation.ids)

    def pair_weights(recipe):
        weights = recipe.inference_.pair_weights.numpy()
        rows = {word: recipe.embedding_row_[recipe.vocabulary_["w:" + word]] for word in ("great", "the")}
        return {word: float(weights[row]) for word, row in rows.items()}

    plain = _recipe()
    plain.fit(train, validation)
    assert pair_weights(plain) == {"great": 1.0, "the": 1.0}  # subsample null: every pair counts fully
    weighted, other = _recipe(["params.nb_subsample=1.0"]), _recipe(["params.nb_subsample=1.0"])
    weighted.fit(train, validation)
    other.fit(train, flipped)
    weights = pair_weights(weighted)
    # a label word is always visited, a filler less, but at least a third of the time (Zhang & Arefyev's rule)
    assert weights["great"] == 1.0 and 1 / 3 <= weights["the"] < 0.5
    assert pair_weights(other) == weights  # the validation labels play no part
    assert (weighted.predict_proba(validation.texts).argmax(1) == validation.labels).mean() >= 0.9


def test_ngram_keep_multiplies_the_keep_probabilities_and_belongs_to_the_checkpoint(tmp_path):
    presence, _ = _topic_corpus()
    keep = np.linspace(0.0, 1.0, presence.shape[1]).astype(np.float32)
    trainer = _trainer(epochs=1).fit(presence, ngram_keep=keep, checkpoint_dir=tmp_path,
                                                                    progress=False)
    np.testing.assert_allclose(trainer.keep_probability_, keep)  # subsample None: the keep factors alone
    with pytest.raises(TfsentiError, match="belongs to another run"):
        _trainer(epochs=2).fit(presence, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(TfsentiError, match="ngram_keep"):
        _trainer().fit(presence, ngram_keep=keep[:-1], progress=False)


def test_recipe_with_the_paper_sgd_learns_vectors_that_carry_the_label():
    from toy_data import toy_dataset

    train, validation = toy_dataset(60, seed=1), toy_dataset(20, seed=2, prefix="val")
    recipe = _recipe(["params.optimizer=sgd", "params.init=random", "params.pair_learning_rate=0.005",
                      "params.epochs=20", "params.features=vectors"])  # the vectors alone must carry the label
    metrics = recipe.fit(train, validation)
    assert metrics["validation_accuracy"] >= 0.9
    assert recipe.history_[-1]["loss"] < recipe.history_[0]["loss"]
    held_out = toy_dataset(40, seed=3, prefix="test")
    assert (recipe.predict_proba(held_out.texts).argmax(1) == held_out.labels).mean() >= 0.8


def test_occurrence_counts_are_pairs_of_the_sgd_and_weights_of_inference():
    pytest.importorskip("tensorflow")
    from tfsenti.embeddings.inference import DocumentInference, infer_csr

    presence, _ = _topic_corpus()
    counts = presence.copy()
    counts.data = np.random.default_rng(5).integers(1, 4, size=counts.nnz).astype(np.float32)
    # the per-pair SGD visits a pair as often as its count
    trainer = _trainer(epochs=2, optimizer="sgd").fit(counts, progress=False)
    assert [report["pairs"] for report in trainer.history_] == [int(counts.data.sum())] * 2

    module = DocumentInference(trainer.ngram_vectors_, pair_weights=trainer.keep_probability_,
                               noise_counts=np.bincount(presence.indices, minlength=36), noise_size=36, steps=10)
    base = infer_csr(module, presence)
    doubled = presence.copy()
    doubled.data *= 2  # every pair twice: the same objective, scaled, so the same vectors
    np.testing.assert_allclose(infer_csr(module, doubled), base, atol=1e-5)
    repeated = presence.copy()
    first = presence.indices[presence.indptr[0]]
    repeated.data[presence.indptr[0]] = 5  # document 0 holds its first n-gram five times: it moves towards it
    moved = infer_csr(module, repeated)
    ngram = trainer.ngram_vectors_[first] / np.linalg.norm(trainer.ngram_vectors_[first])
    assert moved[0] @ ngram > base[0] @ ngram + 0.01
    np.testing.assert_allclose(moved[1:], base[1:], atol=1e-6)


@pytest.mark.parametrize("chunk_rows", [100_000, 50])
def test_spectral_start_matches_the_exact_truncated_svd(chunk_rows):
    """One block of n-grams or eight: the same SVD."""
    from tfsenti.embeddings.trainer import spectral_start

    rng = np.random.default_rng(5)
    topics = rng.integers(0, 6, size=400)  # six topics, 60 n-grams each, 12 per document: a clear spectral gap
    # ... plus 3 n-grams in every document (idf 0: without the idf weighting they would dominate)
    rows = [np.concatenate([topic * 60 + rng.choice(60, 12, replace=False), [360, 361, 362]]) for topic in topics]
    presence = sp.csr_matrix((np.ones(400 * 15, np.float32), np.concatenate(rows), np.arange(0, 400 * 15 + 1, 15)),
                             shape=(400, 363))
    docs, ngrams = spectral_start(presence, 6, np.random.default_rng(0), power_iterations=8,  # converged
                                  chunk_rows=chunk_rows)

    idf = np.log(401.0 / (1.0 + np.bincount(presence.indices, minlength=363)))
    weighted = presence.toarray() * idf
    weighted /= np.linalg.norm(weighted, axis=1, keepdims=True)
    u, s, vt = np.linalg.svd(weighted, full_matrices=False)
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
    exact_docs, exact_ngrams = unit(u[:, :6] * np.sqrt(s[:6])), unit(vt[:6, :360].T * np.sqrt(s[:6]))
    # the same vectors up to the sign of each singular direction: compare the cosine matrices
    np.testing.assert_allclose(docs @ docs.T, exact_docs @ exact_docs.T, atol=1e-3)
    # the idf-0 n-grams are zero rows of the SVD: they get random unit vectors
    np.testing.assert_allclose(ngrams[:360] @ ngrams[:360].T, exact_ngrams @ exact_ngrams.T, atol=1e-3)


def _random_binary_problem(seed=0, docs=80, ngrams=30):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, docs)
    # each n-gram leans towards one class, so the regression has weights of both signs to interpolate
    lean = rng.uniform(0.1, 0.6, ngrams)
    chance = np.where(labels[:, None] == 1, lean[None, :], 0.7 - lean[None, :])
    return sp.csr_matrix((rng.random((docs, ngrams)) < chance).astype(np.float64)), labels


def test_interpolation_without_vectors_is_the_nbbon_rule_and_scales_the_vector_weights():
    from tfsenti.recipes.nbbon import NBBONModel, NBBONParams
    from tfsenti.text.naive_bayes import nb_ratios, one_vs_rest_targets, train_nb_ensemble

    matrix, labels = _random_binary_problem()
    targets = one_vs_rest_targets(labels, 2)
    ratios = nb_ratios(matrix, targets, 1.0)
    # an all-zero vector column gets no weight under L2: the NB-BON weights are those of NB-BON alone
    trained = train_nb_ensemble(matrix, np.zeros((matrix.shape[0], 1)), ratios, targets, 1.0, 1.0)
    nbbon_params = NBBONParams(word_ngrams=(1, 1), min_df=1, alpha=1.0, C=1.0, interpolation=0.25)
    (_, nbbon), = NBBONModel.train(matrix, labels, 2, nbbon_params, [1.0])
    np.testing.assert_allclose(trained.interpolated(0.25, ratios).nb_coef, nbbon.coef, rtol=1e-4, atol=1e-6)
    assert not np.allclose(trained.nb_coef, nbbon.coef, atol=1e-3)  # the interpolation did change the weights

    vectors = np.random.default_rng(1).normal(size=(matrix.shape[0], 3)) + labels[:, None]
    ensemble = train_nb_ensemble(matrix, vectors, ratios, targets, 1.0, 2.0)
    half = ensemble.interpolated(0.5, ratios)
    np.testing.assert_allclose(half.vector_coef, 0.5 * ensemble.vector_coef, rtol=1e-6)
    np.testing.assert_array_equal(half.intercept, ensemble.intercept)
    # the logits are half the regression's plus half of mean|w_nb| times the naive-Bayes score r . x
    nb_weights = ensemble.nb_coef[:, 0] / ratios[:, 0]
    expected = 0.5 * (matrix @ ensemble.nb_coef[:, 0] + vectors @ ensemble.vector_coef[:, 0]) + 0.5 * np.abs(
        nb_weights).mean() * (matrix @ ratios[:, 0]) + ensemble.intercept[0]
    got = matrix @ half.nb_coef[:, 0] + vectors @ half.vector_coef[:, 0] + half.intercept[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert ensemble.interpolated(1.0, ratios) is ensemble


def test_interpolation_grid_is_chosen_on_validation():
    from toy_data import toy_dataset

    train, validation = toy_dataset(60, seed=1), toy_dataset(20, seed=2, prefix="val")
    recipe = _recipe(["params.interpolation_grid=[1.0, 0.5, 0.0]"])
    metrics = recipe.fit(train, validation)
    scores = {beta: metrics[f"validation_accuracy/C_1_scale_1_beta_{beta:g}"] for beta in (1.0, 0.5, 0.0)}
    assert metrics["validation_accuracy"] == max(scores.values()) == scores[recipe.interpolation_]
    assert metrics["interpolation"] == recipe.interpolation_
    # beta 0 leaves the naive-Bayes score alone: no vector weight, NB-BON weights proportional to r (of train)
    from tfsenti.recipes.nbbon import nb_ratio
    from tfsenti.text.vectorize import remap_columns

    naive = _recipe(["params.interpolation=0.0"])
    naive.fit(train, validation)
    assert naive.interpolation_ == 0.0 and not naive.vector_coef_.any()
    presence = remap_columns(naive._union_matrix(train.texts), naive.nb_column_)
    ratios = nb_ratio(presence, train.labels == 1, naive.params.nb_alpha)
    assert presence.shape[1] == len(naive.nb_coef_) > 10
    np.testing.assert_allclose(naive.nb_coef_[:, 0] / ratios, naive.nb_coef_[0, 0] / ratios[0], rtol=1e-4)
