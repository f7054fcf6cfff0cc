"""Augmented copies of unlabeled text for UDA's consistency loss, made once and cached on disk.

Augmenters (all seeded, all streaming over the pool file):
- `TfIdfWordReplacement` (google-research/uda's `tf_idf-p`): in each text, a word is replaced with a probability
  that grows as its TF-IDF score falls (uninformative words are replaced, keywords kept), by a word drawn from the
  corpus with a weight that falls with its corpus-wide TF-IDF; on average `probability` x length words change.
- `UniformWordReplacement` (`unif-p`): each word is replaced with probability `probability` by a word drawn
  uniformly from the corpus vocabulary.
- `BackTranslation`: paraphrases the user made elsewhere (e.g. English -> French -> English with an MT model; no MT
  model ships with tfsenti), read from a file:
      TSV  (`.tsv`, `.txt`, optionally `.gz`): one `id<TAB>paraphrase` per line, UTF-8, no header; tabs and newlines
           inside the paraphrase must be written as spaces;
      JSONL (`.jsonl`, `.json`, optionally `.gz`): one `{"id": "...", "text": "..."}` object per line.
  `id` is the id of the unlabeled example (the TextDataset id, e.g. `unsup:123` for IMDB's unsup reviews, or
  `<folder>/<file stem>:<line>` for extra review files; `tfsenti.uda.data.write_pool` writes them in the pool's
  first column). Several lines with the same id give several paraphrases; one is chosen per example with the
  seed. Examples without a paraphrase are left out of the consistency loss (their count is logged).

`augment_pool` writes the aligned pair files `original.txt` / `augmented.txt` under a cache folder named after a
SHA-256 of the pool's content, the augmenter's settings and the seed; a second call with the same inputs reuses them.

Example:
    >>> augmenter = TfIdfWordReplacement(0.3, seed=0).fit(["a good film", "a bad film", "a film"])
    >>> len(augmenter.augment("a good film").split())
    3
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger("tfsenti")

AUGMENTATIONS = ("tf_idf", "uniform", "back_translation")
_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
_DRAW_BUFFER = 4096
CACHE_VERSION = "1"


def split_words(text: str) -> list[str]:
    """Words and punctuation marks of `text` (the units that replacement works on).

    Example:
        >>> split_words("Great CD: loved it!")
        ['Great', 'CD', ':', 'loved', 'it', '!']
    """
    return _WORD.findall(text)


class _Sampler:
    """Draws words with fixed weights, `_DRAW_BUFFER` at a time (one rng.choice per buffer, not per word)."""

    def __init__(self, words: list[str], weights: np.ndarray | None, rng: np.random.Generator):
        self.words, self.rng = words, rng
        self.weights = None if weights is None else weights / weights.sum()
        self._buffer: list[int] = []

    def draw(self) -> str:
        if not self._buffer:
            self._buffer = self.rng.choice(len(self.words), size=_DRAW_BUFFER, p=self.weights).tolist()
        return self.words[self._buffer.pop()]


class WordReplacement:
    """Shared machinery: corpus statistics from one streaming pass, then per-text replacement.

    Subclasses supply `replace_probabilities(words)` and the sampling weights of replacement words.
    """

    method = "word_replacement"

    def __init__(self, probability: float = 0.3, *, seed: int = 0):
        self.probability = probability
        self.seed = seed

    def fit(self, texts: Iterable[str]) -> WordReplacement:
        """Count document frequencies and length-normalised term frequencies over `texts` (streamed once)."""
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"replacement probability must be in [0, 1], received {self.probability}.")
        document_frequency: Counter = Counter()
        tf_sum: Counter = Counter()
        documents = 0
        for text in texts:
            words = [w.lower() for w in split_words(text)]
            if not words:
                continue
            documents += 1
            counts = Counter(words)
            document_frequency.update(counts.keys())
            for word, count in counts.items():
                tf_sum[word] += count / len(words)
        if not documents:
            raise ValueError("Cannot fit a word-replacement augmenter on an empty corpus: the unlabeled pool has no "
                             "text with words.")
        self.vocabulary_ = sorted(document_frequency)
        self.idf_ = {w: math.log(documents / (document_frequency[w] + 1.0)) for w in self.vocabulary_}
        corpus_tf_idf = np.array([tf_sum[w] * self.idf_[w] for w in self.vocabulary_])
        self.replacement_weights_ = self._replacement_weights(corpus_tf_idf)
        self.rng_ = np.random.default_rng(self.seed)
        self.sampler_ = _Sampler(self.vocabulary_, self.replacement_weights_, self.rng_)
        return self

    def _replacement_weights(self, corpus_tf_idf: np.ndarray) -> np.ndarray | None:
        return None

    def replace_probabilities(self, words: list[str]) -> np.ndarray:
        raise NotImplementedError

    def augment(self, text: str, *, doc_id: str | None = None) -> str | None:
        """A changed copy of `text` (words joined by single spaces)."""
        if not hasattr(self, "vocabulary_"):
            raise RuntimeError(f"This {type(self).__name__} is not fitted yet; call fit(texts) first.")
        words = split_words(text)
        if not words:
            return text
        replace = self.rng_.random(len(words)) < self.replace_probabilities([w.lower() for w in words])
        return " ".join(self.sampler_.draw() if flag else word for word, flag in zip(words, replace))

    def settings(self) -> dict:
        return {"method": self.method, "probability": self.probability, "seed": self.seed}


class TfIdfWordReplacement(WordReplacement):
    """UDA's TF-IDF word replacement: low-TF-IDF words are replaced more often, by low-TF-IDF words.

    For a text with words w_1..w_n and scores s_i = tf(w_i) idf(w_i), word i is replaced with probability
    min(1, p n (max s - s_i) / sum_j (max s - s_j)); replacements are drawn from the vocabulary with weights
    (max S - S_w), S_w being the word's TF-IDF summed over the corpus, so very frequent words (`the`) are rarely
    drawn. (idf = log(N / (df + 1)); both rules as in google-research/uda.)

    Example:
        >>> augmenter = TfIdfWordReplacement(0.5, seed=1).fit(["the film was great", "the film was bad"] * 5)
        >>> augmenter.augment("the film was great").split()[-1]   # the rarest word is never replaced here
        'great'
    """

    method = "tf_idf"

    def _replacement_weights(self, corpus_tf_idf):
        weights = corpus_tf_idf.max() - corpus_tf_idf
        return weights if weights.sum() > 0 else np.ones_like(corpus_tf_idf)

    def replace_probabilities(self, words):
        counts = Counter(words)
        scores = np.array([counts[w] / len(words) * self.idf_.get(w, 0.0) for w in words])
        gaps = scores.max() - scores
        if gaps.sum() <= 0:  # every word scores the same: replace uniformly
            return np.full(len(words), self.probability)
        return np.minimum(gaps / gaps.sum() * self.probability * len(words), 1.0)


class UniformWordReplacement(WordReplacement):
    """Each word is replaced with probability `probability` by a word drawn uniformly from the corpus vocabulary.

    Example:
        >>> augmenter = UniformWordReplacement(0.0, seed=0).fit(["a good film"])
        >>> augmenter.augment("a good film")
        'a good film'
    """

    method = "uniform"

    def replace_probabilities(self, words):
        return np.full(len(words), self.probability)


class BackTranslation:
    """Paraphrases read from a TSV or JSONL file (see the module docstring for the format), chosen by id.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "bt.tsv")
        >>> _ = open(path, "w").write("u1\\tA fine movie.\\n")
        >>> bt = BackTranslation(path).fit([])
        >>> bt.augment("A good film.", doc_id="u1"), bt.augment("?", doc_id="u2")
        ('A fine movie.', None)
    """

    method = "back_translation"

    def __init__(self, path: str | Path, *, seed: int = 0):
        self.path = path
        self.seed = seed

    def fit(self, texts: Iterable[str] = ()) -> BackTranslation:
        self.paraphrases_ = read_paraphrases(self.path)
        self.rng_ = np.random.default_rng(self.seed)
        self.digest_ = file_sha256(self.path)
        return self

    def augment(self, text: str, *, doc_id: str | None = None) -> str | None:
        options = self.paraphrases_.get(doc_id) if doc_id is not None else None
        if not options:
            return None
        return options[0] if len(options) == 1 else options[int(self.rng_.integers(len(options)))]

    def settings(self) -> dict:
        return {"method": self.method, "file_sha256": getattr(self, "digest_", None) or file_sha256(self.path),
                "seed": self.seed}


def build_augmenter(method: str, *, probability: float, seed: int, back_translation_file: str | None = None):
    """The augmenter named `method` (`tf_idf`, `uniform` or `back_translation`)."""
    if method == "tf_idf":
        return TfIdfWordReplacement(probability, seed=seed)
    if method == "uniform":
        return UniformWordReplacement(probability, seed=seed)
    if method == "back_translation":
        if not back_translation_file:
            raise ValueError("augmentation=back_translation needs a paraphrase file: --set "
                             "params.back_translation_file=PATH (TSV `id<TAB>paraphrase` or JSONL "
                             '`{"id": ..., "text": ...}`; see tfsenti/uda/augment.py).')
        return BackTranslation(back_translation_file, seed=seed)
    raise ValueError(f"Unknown augmentation {method!r}; choose one of {list(AUGMENTATIONS)}.")


def read_paraphrases(path: str | Path) -> dict[str, list[str]]:
    """id -> paraphrases from a TSV (`id<TAB>text`) or JSONL (`{"id", "text"}`) file; bad lines are errors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Back-translation file {path} does not exist. Provide a TSV (`id<TAB>paraphrase`) "
                                'or JSONL (`{"id": ..., "text": ...}`) file with one paraphrase per line.')
    name = path.name.lower().removesuffix(".gz")
    is_json = name.endswith((".jsonl", ".json"))
    out: dict[str, list[str]] = {}
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if is_json:
                try:
                    row = json.loads(line)
                    doc_id, text = str(row["id"]), str(row["text"])
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise ValueError(f"{path}:{number}: expected a JSON object with `id` and `text`, received "
                                     f"{line[:80]!r} ({error}).") from None
            else:
                doc_id, tab, text = line.partition("\t")
                if not tab:
                    raise ValueError(f"{path}:{number}: expected `id<TAB>paraphrase`, received {line[:80]!r} "
                                     "(no tab).")
            out.setdefault(doc_id, []).append(normalize_line(text))
    return out


def normalize_line(text: str) -> str:
    """One line of a pool file: tabs, carriage returns and newlines become spaces."""
    return " ".join(text.split())


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class AugmentedPairs:
    """Aligned files: line i of `augmented` is an augmented copy of line i of `original`."""

    original: Path
    augmented: Path
    count: int
    skipped: int
    from_cache: bool


def augment_pool(pool_file: str | Path, augmenter, cache_root: str | Path, *, progress: bool = True) -> AugmentedPairs:
    """Augmented copy of a pool file (`id<TAB>text` per line), cached under `cache_root/aug-<sha256>/`.

    The key covers the pool's bytes, the augmenter's settings and the cache format version; the files are written
    to a temporary folder and renamed when complete, so an interrupted run leaves no half cache behind.
    """
    from tqdm.auto import tqdm

    pool_file = Path(pool_file)
    key = hashlib.sha256(json.dumps({"pool": file_sha256(pool_file), "augmenter": augmenter.settings(),
                                     "version": CACHE_VERSION}, sort_keys=True).encode()).hexdigest()[:24]
    folder = Path(cache_root) / f"aug-{key}"
    meta = folder / "meta.json"
    if meta.is_file():
        info = json.loads(meta.read_text(encoding="utf-8"))
        log.info("uda: reusing cached augmented copies %s (%d pairs)", folder, info["count"])
        return AugmentedPairs(folder / "original.txt", folder / "augmented.txt", info["count"], info["skipped"], True)
    staging = Path(cache_root) / f".aug-{key}.{os.getpid()}.tmp"
    staging.mkdir(parents=True, exist_ok=True)
    augmenter.fit(text for _, text in iter_pool(pool_file))
    count = skipped = 0
    with open(staging / "original.txt", "w", encoding="utf-8") as original, \
            open(staging / "augmented.txt", "w", encoding="utf-8") as augmented:
        for doc_id, text in tqdm(iter_pool(pool_file), desc=f"augmenting ({augmenter.method})", unit=" texts",
                                 disable=not progress, mininterval=5):
            copy = augmenter.augment(text, doc_id=doc_id)
            if copy is None:
                skipped += 1
                continue
            original.write(text + "\n")
            augmented.write(normalize_line(copy) + "\n")
            count += 1
    if not count:
        raise ValueError(f"No augmented copy could be made from {pool_file}: with back-translation, the ids of the "
                         "paraphrase file must match the pool's ids (first column of the pool file).")
    if skipped:
        log.warning("uda: %d of %d unlabeled examples had no %s copy and are left out", skipped, count + skipped,
                    augmenter.method)
    (staging / "meta.json").write_text(json.dumps({"count": count, "skipped": skipped,
                                                   "settings": augmenter.settings()}), encoding="utf-8")
    try:
        staging.rename(folder)
    except OSError:  # another process finished the same cache first
        if not meta.is_file():
            raise
    return AugmentedPairs(folder / "original.txt", folder / "augmented.txt", count, skipped, False)


def iter_pool(pool_file: str | Path) -> Iterator[tuple[str, str]]:
    """(id, text) pairs of a pool file, streamed."""
    with open(pool_file, encoding="utf-8") as handle:
        for line in handle:
            doc_id, _, text = line.rstrip("\n").partition("\t")
            yield doc_id, text
