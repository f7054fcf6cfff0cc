"""Word vectors as text files (GloVe / word2vec format), and word vectors learned from raw text with PPMI-SVD.

`read_word_vectors` reads both text formats (word2vec has a `count dim` header line, GloVe has none; `.gz` works).
`learn_ppmi_vectors` learns vectors from tokenized text in NumPy/SciPy: window co-occurrence counts, positive
pointwise mutual information with context-distribution smoothing (Levy, Goldberg & Dagan 2015), then a truncated
SVD; a row is U_k * sqrt(S_k). It needs no download, so it suits languages and domains without published vectors.

Example:
    >>> docs = [["good", "movie"], ["bad", "movie"], ["good", "film"], ["bad", "film"]] * 5
    >>> vectors = learn_ppmi_vectors(docs, dim=2, window=1, min_count=1)
    >>> vectors.words[:2], vectors.matrix.shape
    (['bad', 'film'], (4, 2))
    >>> import tempfile, os; path = os.path.join(tempfile.mkdtemp(), "v.txt")
    >>> write_word_vectors(vectors, path)
    >>> read_word_vectors(path).words == vectors.words
    True
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from tfsenti.errors import DataError

log = logging.getLogger("tfsenti")


@dataclasses.dataclass(frozen=True, eq=False)
class WordVectors:
    """Words and their vectors, row-aligned: `matrix[i]` is the vector of `words[i]`."""

    words: list[str]
    matrix: np.ndarray

    def __post_init__(self):
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.words):
            raise ValueError(f"matrix must have shape (len(words), dim) = ({len(self.words)}, dim), "
                             f"received {self.matrix.shape}")

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])


def read_word_vectors(path: str | Path, *, max_words: int | None = None) -> WordVectors:
    """Read a GloVe or word2vec *text* file (optionally gzipped); the first `max_words` rows when given.

    Duplicate words keep their first (most frequent) vector; rows with a token containing whitespace are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Word-vector file {path} does not exist. Pass a GloVe or word2vec text file "
                                "(e.g. glove.6B.100d.txt), or learn one with tfsenti.hub.word_vectors.")
    words, rows, seen = [], [], set()
    dim = None
    with _open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            parts = line.rstrip("\n\r").split(" ")
            if line_number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])  # word2vec header: count dim
                continue
            if not line.strip():
                continue
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise DataError("expected `word v1 v2 ...` (GloVe) or a `count dim` header (word2vec)",
                                    path=str(path), line=line_number)
            if len(parts) < dim + 1:
                raise DataError(f"expected a word and {dim} numbers, found {len(parts)} fields",
                                path=str(path), line=line_number)
            word = " ".join(parts[:len(parts) - dim])
            if not word or word in seen or any(ch.isspace() for ch in word):
                continue
            try:
                rows.append(np.asarray(parts[len(parts) - dim:], dtype=np.float32))
            except ValueError as error:
                raise DataError(f"not a number in the vector of {word!r}: {error}", path=str(path),
                                line=line_number) from error
            words.append(word)
            seen.add(word)
            if max_words and len(words) >= max_words:
                break
    if not words:
        raise DataError("no word vectors found", path=str(path))
    return WordVectors(words, np.stack(rows))


def write_word_vectors(vectors: WordVectors, path: str | Path, *, header: bool = True) -> None:
    """Write vectors as a word2vec text file (with its `count dim` header) or GloVe (`header=False`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        if header:
            handle.write(f"{len(vectors.words)} {vectors.dim}\n")
        for word, row in zip(vectors.words, vectors.matrix):
            handle.write(word + " " + " ".join(f"{value:.6g}" for value in row) + "\n")
    partial.replace(path)


def learn_ppmi_vectors(
    documents: Iterable[Sequence[str]],
    *,
    dim: int = 100,
    window: int = 5,
    min_count: int = 2,
    max_vocab: int = 50_000,
    context_smoothing: float = 0.75,
    units: Iterable[Sequence[Sequence[str]]] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> WordVectors:
    """Learn vectors from tokenized documents: PPMI of window co-occurrences, then a rank-`dim` SVD.

    `documents` are lists of words (the contexts). `units`, when given, holds per document and per word the tokens
    that receive a vector for that position (e.g. the word and its character n-grams); by default a word is its own
    unit. Rows are sorted by frequency, most frequent first; only the `max_vocab` most frequent units that occur at
    least `min_count` times get a vector.
    """
    from scipy import sparse
    from scipy.sparse.linalg import svds

    documents = [list(doc) for doc in documents]
    unit_docs = [[[w] for w in doc] for doc in documents] if units is None else [list(u) for u in units]
    if len(unit_docs) != len(documents) or any(len(u) != len(d) for u, d in zip(unit_docs, documents)):
        raise ValueError("units must hold one list of tokens per word of every document")

    # ---- vocabularies: units (rows) and context words (columns)
    unit_counts = Counter(token for doc in unit_docs for position in doc for token in position)
    context_counts = Counter(word for doc in documents for word in doc)
    unit_vocab = [t for t, c in sorted(unit_counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]
    unit_vocab = unit_vocab[:max_vocab]
    context_vocab = [w for w, c in sorted(context_counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]
    context_vocab = context_vocab[:max_vocab]
    if len(unit_vocab) <= dim or len(context_vocab) <= dim:
        raise ValueError(f"too little text for {dim}-dimensional vectors: {len(unit_vocab)} units and "
                         f"{len(context_vocab)} context words occur at least {min_count} times; lower dim or "
                         "min_count, or give more text")
    unit_index = {t: i for i, t in enumerate(unit_vocab)}
    context_index = {w: i for i, w in enumerate(context_vocab)}

    # ---- flat arrays: context id and document of every position, the unit ids of every position (CSR)
    context_ids, doc_ids, unit_ptr, unit_ids = [], [], [0], []
    for doc_number, (doc, doc_units) in enumerate(zip(documents, unit_docs)):
        for word, tokens in zip(doc, doc_units):
            context_ids.append(context_index.get(word, -1))
            doc_ids.append(doc_number)
            unit_ids.extend(unit_index[t] for t in tokens if t in unit_index)
            unit_ptr.append(len(unit_ids))
    counts = _cooccurrences(np.asarray(context_ids, np.int64), np.asarray(doc_ids, np.int64),
                            np.asarray(unit_ptr, np.int64), np.asarray(unit_ids, np.int64),
                            shape=(len(unit_vocab), len(context_vocab)), window=window, progress=progress)

    # ---- PPMI with smoothed context distribution
    total = counts.sum()
    row_sums = np.asarray(counts.sum(axis=1)).ravel()
    context_mass = np.asarray(counts.sum(axis=0)).ravel() ** context_smoothing
    context_prob = context_mass / context_mass.sum()
    coo = counts.tocoo()
    pmi = np.log(coo.data / total) - np.log(row_sums[coo.row] / total) - np.log(context_prob[coo.col])
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep].astype(np.float32), (coo.row[keep], coo.col[keep])), shape=counts.shape)

    # ---- truncated SVD: U_k sqrt(S_k)
    if progress:
        log.info("PPMI matrix %d x %d with %d non-zeros; truncated SVD to %d dimensions", *ppmi.shape, ppmi.nnz, dim)
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(min(ppmi.shape)).astype(np.float32)
    u, s, _ = svds(ppmi, k=dim, v0=start)
    order = np.argsort(-s)
    matrix = (u[:, order] * np.sqrt(s[order])).astype(np.float32)
    matrix *= np.sign(matrix.sum(axis=0, keepdims=True) + 1e-12)  # fix the SVD's sign ambiguity
    return WordVectors(unit_vocab, matrix)


def _cooccurrences(context_ids, doc_ids, unit_ptr, unit_ids, *, shape, window, chunk=1_000_000, progress=False):
    """Sparse (unit x context) counts of pairs at distance 1..window in the same document, weighted 1/distance."""
    from scipy import sparse
    from tqdm import tqdm

    counts = sparse.csr_matrix(shape, dtype=np.float64)
    n = len(context_ids)
    unit_counts = np.diff(unit_ptr)
    steps = [(o, d, b) for o in range(1, window + 1) for d in (-1, 1) for b in range(0, n, chunk)]
    for offset, direction, begin in tqdm(steps, desc="co-occurrences", unit="chunk", disable=not progress):
        centre = np.arange(begin, min(begin + chunk, n))
        neighbour = centre + direction * offset
        inside = (neighbour >= 0) & (neighbour < n)
        centre, neighbour = centre[inside], neighbour[inside]
        valid = (doc_ids[centre] == doc_ids[neighbour]) & (context_ids[neighbour] >= 0)
        valid &= unit_counts[centre] > 0
        centre, neighbour = centre[valid], neighbour[valid]
        if not len(centre):
            continue
        repeats = unit_counts[centre]
        starts = np.repeat(unit_ptr[centre] - np.cumsum(repeats) + repeats, repeats)
        rows = unit_ids[starts + np.arange(repeats.sum())]
        cols = np.repeat(context_ids[neighbour], repeats)
        data = np.full(len(rows), 1.0 / offset)
        counts = counts + sparse.csr_matrix((data, (rows, cols)), shape=shape)
    return counts


def _open_text(path: Path):
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    head = raw.peek(4096)[:4096] if hasattr(raw, "peek") else b""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the peek boundary
            raw.close()
            raise DataError("not a UTF-8 text file; binary word2vec files are not supported: convert it to the "
                            "text format first (gensim: KeyedVectors.load_word2vec_format(f, binary=True)"
                            ".save_word2vec_format(out, binary=False))", path=str(path)) from error
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
