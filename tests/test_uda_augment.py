"""UDA augmentation: TF-IDF replacement keeps informative words, uniform replacement rate, back-translation files,
and the on-disk cache of augmented copies."""

import json

import numpy as np
import pytest

from tfsenti.uda.augment import (
    BackTranslation,
    TfIdfWordReplacement,
    UniformWordReplacement,
    augment_pool,
    build_augmenter,
    read_paraphrases,
)
from tfsenti.uda.data import write_pool

COMMON = ["the", "a", "movie", "was", "and", "it"]


def _corpus(n=200, seed=0):
    """Every text has common words; each also has one rare keyword `kwNNN` seen in no other text."""
    rng = np.random.default_rng(seed)
    return [" ".join(list(rng.choice(COMMON, size=8)) + [f"kw{i:03d}"]) for i in range(n)]


def test_tfidf_replacement_keeps_high_tfidf_words_more_often():
    corpus = _corpus()
    augmenter = TfIdfWordReplacement(0.3, seed=0).fit(corpus)
    text = "the movie was the movie and it kw007 a the"
    words = text.split()
    kept = np.zeros(len(words))
    for _ in range(400):
        out = augmenter.augment(text).split()
        assert len(out) == len(words)
        kept += [a == b for a, b in zip(out, words)]
    rate = kept / 400
    keyword_rate = rate[words.index("kw007")]
    common_rate = np.mean([rate[i] for i, w in enumerate(words) if w == "the"])
    assert keyword_rate > 0.95 and common_rate < keyword_rate - 0.2
    # about p x length words change on average
    assert 1 - rate.mean() == pytest.approx(0.3, abs=0.08)


def test_tfidf_replacement_draws_words_by_corpus_tfidf():
    """As in google-research/uda: replacement words have weight max(S) - S_w, S_w the word's TF-IDF summed over
    the corpus, so the corpus' most frequent word is never drawn and low-S words are drawn most."""
    augmenter = TfIdfWordReplacement(1.0, seed=1).fit(_corpus())
    scores = dict(zip(augmenter.vocabulary_, augmenter.replacement_weights_))
    top = min(scores, key=scores.get)
    drawn = " ".join(augmenter.augment("x y z w") for _ in range(300)).split()
    assert top not in drawn
    low, high = max(scores, key=scores.get), sorted(scores, key=scores.get)[1]
    expected_ratio = scores[low] / scores[high]
    assert expected_ratio > 3
    assert sum(w.startswith("kw") for w in drawn) / len(drawn) > 0.5


def test_uniform_replacement_rate_and_vocabulary():
    corpus = _corpus()
    augmenter = UniformWordReplacement(0.5, seed=0).fit(corpus)
    text = corpus[0]
    changed = [a != b for _ in range(200) for a, b in zip(augmenter.augment(text).split(), text.split())]
    # a replacement can draw the same word (1 in 206), so the change rate is slightly under p
    assert np.mean(changed) == pytest.approx(0.5, abs=0.06)
    with pytest.raises(RuntimeError, match="not fitted"):
        UniformWordReplacement(0.1).augment("x")


def test_unknown_augmentation_names_the_options():
    with pytest.raises(ValueError, match=r"eda.*\['tf_idf', 'uniform', 'back_translation'\]"):
        build_augmenter("eda", probability=0.1, seed=0)
    with pytest.raises(ValueError, match="back_translation_file"):
        build_augmenter("back_translation", probability=0.1, seed=0)


def test_back_translation_files_tsv_and_jsonl(tmp_path):
    tsv = tmp_path / "bt.tsv"
    tsv.write_text("u1\tA fine movie.\nu1\tA good picture.\nu2\tBad\t film\n", encoding="utf-8")
    paraphrases = read_paraphrases(tsv)
    assert paraphrases == {"u1": ["A fine movie.", "A good picture."], "u2": ["Bad film"]}
    jsonl = tmp_path / "bt.jsonl"
    jsonl.write_text(json.dumps({"id": "u3", "text": "Great!\nReally"}) + "\n", encoding="utf-8")
    assert read_paraphrases(jsonl) == {"u3": ["Great! Really"]}
    bad = tmp_path / "bad.tsv"
    bad.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.tsv:1.*no tab"):
        read_paraphrases(bad)
    with pytest.raises(FileNotFoundError, match="id<TAB>paraphrase"):
        read_paraphrases(tmp_path / "missing.tsv")
    bt = BackTranslation(tsv, seed=0).fit()
    assert {bt.augment("x", doc_id="u1") for _ in range(50)} == {"A fine movie.", "A good picture."}
    assert bt.augment("x", doc_id="nope") is None


def test_augmented_copies_are_cached_on_disk(tmp_path, monkeypatch):
    pool = write_pool([(f"u{i}", text) for i, text in enumerate(_corpus(50))], tmp_path / "cache")
    first = augment_pool(pool.path, TfIdfWordReplacement(0.3, seed=3), tmp_path / "cache", progress=False)
    assert not first.from_cache and first.count == 50
    originals = first.original.read_text(encoding="utf-8").splitlines()
    augmented = first.augmented.read_text(encoding="utf-8").splitlines()
    assert originals == _corpus(50) and len(augmented) == 50 and augmented != originals

    calls = []
    monkeypatch.setattr(TfIdfWordReplacement, "augment", lambda *a, **k: calls.append(1))
    again = augment_pool(pool.path, TfIdfWordReplacement(0.3, seed=3), tmp_path / "cache", progress=False)
    assert again.from_cache and again.augmented == first.augmented and not calls
    monkeypatch.undo()
    other = augment_pool(pool.path, TfIdfWordReplacement(0.3, seed=4), tmp_path / "cache", progress=False)
    assert not other.from_cache and other.augmented != first.augmented


def test_back_translation_pool_leaves_out_examples_without_a_paraphrase(tmp_path):
    pool = write_pool([("u1", "a good film"), ("u2", "a bad film"), ("u3", "meh")], tmp_path)
    (tmp_path / "bt.tsv").write_text("u1\ta nice movie\nu3\tso-so\n", encoding="utf-8")
    pairs = augment_pool(pool.path, BackTranslation(tmp_path / "bt.tsv"), tmp_path, progress=False)
    assert pairs.count == 2 and pairs.skipped == 1
    assert pairs.original.read_text().splitlines() == ["a good film", "meh"]
    assert pairs.augmented.read_text().splitlines() == ["a nice movie", "so-so"]
    (tmp_path / "none.tsv").write_text("zz\tnothing\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ids of the paraphrase file must match"):
        augment_pool(pool.path, BackTranslation(tmp_path / "none.tsv"), tmp_path, progress=False)
