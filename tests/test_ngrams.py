"""Parity of the twin analyzers (Python `regex` vs TensorFlow graph) on tricky text, and the vectorizer."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tfsenti.text.ngrams import AnalyzerConfig, NgramAnalyzer, tf_analyze
from tfsenti.text.vectorize import binary_matrix

TRICKY = [
    "아 더빙.. 진짜 짜증나네요 목소리",
    "흠...포스터보고 초딩영화줄....오버연기조차 가볍지 않구나",
    "Loved it ❤️❤️ 👍🏽👍 👨‍👩‍👧 family 🇰🇷 #1 1️⃣",
    "What?!?! No... way!!! (really) -- \"quoted\" 'single' don't rock'n'roll ’curly’ it’s",
    "first line.<br /><br />Second line<BR>third<br/>fourth<Br  />fifth<bR>",
    "ÉCOLE École ΣΑΣ ΟΔΟΣ İstanbul Straße ǅemal ÅNGSTRÖM",
    "",
    "   ",
    "\t\n \u3000\u00a0",
    "tabs\tand\nnew\r\nlines\u2028and\u00a0nbsp\u3000ideographic",
    "MiXeD CaSe 123 4.5 $10 50% e-mail@x.com under_score",
    "x",
    "a\u0301 combining e\u0308 then ‍zwj alone",
]
CONFIGS = {
    "word13": AnalyzerConfig(word_ngrams=(1, 3)),
    "char13": AnalyzerConfig(word_ngrams=None, char_ngrams=(1, 3)),
    "both": AnalyzerConfig(word_ngrams=(1, 2), char_ngrams=(2, 4)),
    "cased": AnalyzerConfig(word_ngrams=(1, 2), char_ngrams=(1, 2), lowercase=False),
    "truncated": AnalyzerConfig(word_ngrams=(1, 2), char_ngrams=(1, 2), max_chars=7),
}


def _tf_features(texts, config):
    rows = tf_analyze(np.array(texts, dtype=object), config).to_list()
    return [sorted(feature.decode("utf-8") for feature in row) for row in rows]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_python_and_tf_analyzers_agree_on_tricky_text(name):
    config = CONFIGS[name]
    analyzer = NgramAnalyzer(config)
    python = [sorted(analyzer(text)) for text in TRICKY]
    assert python == _tf_features(TRICKY, config)  # same multiset, hence the same feature set
    assert python[TRICKY.index("")] == [] and python[TRICKY.index("   ")] == []


def test_parity_on_a_100k_character_text():
    rng = np.random.default_rng(0)
    words = ["good", "bad", "영화", "😀", "!!", "<br />", "Σ", "don't", "\n", "..."]
    text = " ".join(rng.choice(words, size=30_000))[:100_000]
    assert len(text) == 100_000
    for config in (AnalyzerConfig(word_ngrams=(1, 3)), AnalyzerConfig(word_ngrams=None, char_ngrams=(1, 3))):
        python = NgramAnalyzer(config)(text)
        assert len(python) > 20_000
        assert sorted(python) == _tf_features([text], config)[0]


def test_tokens_html_breaks_case_and_emoji():
    analyzer = NgramAnalyzer(AnalyzerConfig(word_ngrams=(1, 1)))
    assert analyzer("Great!!<br /><br />I LOVED it") == ["w:great", "w:!", "w:!", "w:i", "w:loved", "w:it"]
    assert analyzer("don't 'quote' ❤️👍🏽") == ["w:don't", "w:'", "w:quote", "w:'", "w:❤️", "w:👍🏽"]
    # full Unicode lowercase on both sides: final sigma and dotted capital I follow Python's str.lower
    assert analyzer("ΟΔΟΣ İ") == ["w:οδος", "w:i̇"]
    assert _tf_features(["ΟΔΟΣ İ"], analyzer.config)[0] == sorted(["w:οδος", "w:i̇"])


def test_char_ngrams_collapse_whitespace_and_word_and_char_features_never_collide():
    analyzer = NgramAnalyzer(AnalyzerConfig(word_ngrams=(1, 1), char_ngrams=(1, 2)))
    features = analyzer("  아\t\n 더빙 ")
    assert features == ["w:아", "w:더빙", "c:아", "c: ", "c:더", "c:빙", "c:아 ", "c: 더", "c:더빙"]
    assert not {f[2:] for f in features if f.startswith("w:")} & {f for f in features if f.startswith("c:")}


def test_analyzer_config_rejects_bad_ranges_and_pickles():
    with pytest.raises(ValueError, match="word_ngrams"):
        AnalyzerConfig(word_ngrams=(3, 1))
    with pytest.raises(ValueError, match="At least one"):
        AnalyzerConfig(word_ngrams=None, char_ngrams=None)
    analyzer = pickle.loads(pickle.dumps(NgramAnalyzer(AnalyzerConfig(char_ngrams=(1, 2)))))
    assert analyzer("ab")[-1] == "c:ab"


def test_binary_matrix_is_presence_or_counts_and_parallel_matches_serial(monkeypatch):
    analyzer = NgramAnalyzer(AnalyzerConfig(word_ngrams=(1, 2)))
    matrix, names = binary_matrix(["a a a b", "b c", ""], analyzer)
    dense = matrix.toarray()
    assert dense.max() == 1 and dense[2].sum() == 0
    assert dense[0, names.index("w:a")] == 1 and dense[0, names.index("w:a a")] == 1
    texts = [f"doc {i} word{i % 7} {'x ' * (i % 5)}" for i in range(300)]
    import tfsenti.text.vectorize as vectorize

    monkeypatch.setattr(vectorize, "PARALLEL_MIN_CHARS", 0)
    parallel, parallel_names = binary_matrix(texts, analyzer, n_jobs=2, chunk_size=37, progress=False)
    serial, serial_names = binary_matrix(texts, analyzer, n_jobs=1, chunk_size=1000)
    order = [serial_names.index(name) for name in parallel_names]
    assert sorted(parallel_names) == sorted(serial_names)
    assert (parallel.toarray() == serial.toarray()[:, order]).all()
    counted, counted_names = binary_matrix(texts, analyzer, n_jobs=2, chunk_size=37, progress=False, counts=True)
    assert counted_names == parallel_names and (counted.indices == parallel.indices).all()
    from collections import Counter

    for row, text in enumerate(texts[:20]):
        expected = Counter(analyzer(text))
        assert {counted_names[j]: counted[row, j] for j in counted[row].indices} == expected
    vocabulary = {"w:doc": 0, "w:x": 1, "w:unused": 2}
    known, known_names = binary_matrix(texts[:5], analyzer, vocabulary=vocabulary)
    assert known_names == ["w:doc", "w:x", "w:unused"]
    assert known.toarray().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 1, 0], [1, 1, 0]]
