"""Binary (or count) document-feature matrices from an `NgramAnalyzer`, over 2 worker processes for big corpora.

Example:
    >>> from tfsenti.text.ngrams import AnalyzerConfig, NgramAnalyzer
    >>> analyzer = NgramAnalyzer(AnalyzerConfig(word_ngrams=(1, 1)))
    >>> matrix, features = binary_matrix(["a b a", "b c"], analyzer)
    >>> features, matrix.toarray().tolist()
    (['w:a', 'w:b', 'w:c'], [[1, 1, 0], [0, 1, 1]])
    >>> binary_matrix(["a b a", "b c"], analyzer, counts=True)[0].toarray().tolist()
    [[2, 1, 0], [0, 1, 1]]
    >>> matrix, _ = binary_matrix(["c d"], analyzer, vocabulary={"w:a": 0, "w:c": 1})
    >>> matrix.toarray().tolist()
    [[0, 1]]
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import defaultdict
from itertools import chain, count, repeat
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

PARALLEL_MIN_CHARS = 2_000_000  # below this, one process is faster than starting workers


def binary_matrix(
    texts: Sequence[str],
    analyzer,
    *,
    vocabulary: dict[str, int] | None = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    chunk_size: int = 1000,
    counts: bool = False,
) -> tuple[sp.csr_matrix, list[str]]:
    """Presence (0/1, int8) CSR matrix of `analyzer` features per text, and the column names; with `counts`, the
    values are how often each feature occurs in the text (int32), on the same stored entries.

    Without `vocabulary`, columns are every feature seen, numbered by first appearance. With one (feature ->
    column), features outside it are dropped and the column names are the vocabulary's. `n_jobs` defaults to
    min(2, CPUs); workers are used only for corpora over `PARALLEL_MIN_CHARS` characters. `progress` (default:
    when workers are used) shows a tqdm bar on stderr.
    """
    texts = list(texts)
    chunks = [texts[start:start + chunk_size] for start in range(0, len(texts), chunk_size)]
    n_jobs = n_jobs or min(2, os.cpu_count() or 1)
    parallel = n_jobs > 1 and len(chunks) > 1 and sum(map(len, texts)) > PARALLEL_MIN_CHARS
    show = parallel if progress is None else progress

    from tqdm import tqdm

    learned: dict[str, int] = defaultdict(count().__next__) if vocabulary is None else vocabulary
    indptrs, indices_parts, count_parts, offset = [np.zeros(1, np.int64)], [], [], 0
    with tqdm(total=len(texts), unit="doc", desc="n-grams", disable=not show, file=sys.stderr) as bar:
        for local_features, indptr, indices, occurrences in _encoded_chunks(chunks, analyzer, counts,
                                                                            n_jobs if parallel else 1):
            if vocabulary is None:
                mapping = np.fromiter(map(learned.__getitem__, local_features), np.int64,
                                      count=len(local_features))
                indices = mapping[indices]
            else:
                mapping = np.fromiter(map(vocabulary.get, local_features, repeat(-1, len(local_features))),
                                      np.int64, count=len(local_features))
                indices = mapping[indices]
                keep = indices >= 0
                rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
                indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=len(indptr) - 1))])
                indices = indices[keep]
                if counts:
                    occurrences = occurrences[keep]
            indptrs.append(indptr[1:] + offset)
            indices_parts.append(indices.astype(np.int32))
            if counts:
                count_parts.append(occurrences.astype(np.int32))
            offset += int(indptr[-1])
            bar.update(len(indptr) - 1)
    indptr = np.concatenate(indptrs)
    indices = np.concatenate(indices_parts) if indices_parts else np.zeros(0, np.int32)
    values = (np.concatenate(count_parts) if count_parts else np.zeros(0, np.int32)) if counts else np.ones(
        len(indices), np.int8)
    matrix = sp.csr_matrix((values, indices, indptr), shape=(len(texts), len(learned)))
    matrix.sort_indices()
    names = list(learned) if vocabulary is None else _names(vocabulary)
    return matrix, names


def _names(vocabulary: dict[str, int]) -> list[str]:
    names = [""] * len(vocabulary)
    for feature, column in vocabulary.items():
        names[column] = feature
    return names


def _encoded_chunks(chunks, analyzer, counts: bool, n_jobs: int):
    if n_jobs == 1:
        for chunk in chunks:
            yield _encode_chunk((analyzer, chunk, counts))
        return
    # fork: workers need no re-import of __main__ (spawn/forkserver would re-run an unguarded user script). The
    # children only run the pure-Python analyzer, never TensorFlow, so a parent that imported TF is fine too.
    if "fork" not in multiprocessing.get_all_start_methods():
        for chunk in chunks:
            yield _encode_chunk((analyzer, chunk, counts))
        return
    pool = multiprocessing.get_context("fork").Pool(n_jobs)
    try:
        yield from pool.imap(_encode_chunk, ((analyzer, chunk, counts) for chunk in chunks))
        pool.close()  # all results are in: let the workers exit on their own (no cut mid-write)
    except BaseException:  # includes GeneratorExit when the consumer stops early
        pool.terminate()
        raise
    finally:
        pool.join()  # never leave workers behind for the interpreter's exit handlers


def _encode_chunk(job) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray | None]:
    """One chunk -> (its distinct features, CSR indptr, per-document unique local indices, their occurrence counts
    when the job asks for them, else None: they would double what a worker sends back)."""
    analyzer, texts, counts = job
    features = list(map(analyzer, texts))
    lengths = np.fromiter(map(len, features), np.int64, count=len(features))
    flat = list(chain.from_iterable(features))
    del features
    local: defaultdict[str, int] = defaultdict(count().__next__)  # a new feature gets the next id, all in C
    ids = np.fromiter(map(local.__getitem__, flat), np.int64, count=len(flat))
    distinct = list(local)
    del flat, local
    # ---- one entry per (document, feature): sort the keys document-major, count and drop repeats
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    keys = rows * max(len(distinct), 1) + ids
    keys, occurrences = np.unique(keys, return_counts=True) if counts else (np.unique(keys), None)
    per_document = np.bincount(keys // max(len(distinct), 1), minlength=len(texts))
    indptr = np.concatenate([[0], np.cumsum(per_document)])
    return distinct, indptr, keys % max(len(distinct), 1), occurrences


def remap_columns(matrix: sp.csr_matrix, remap: np.ndarray) -> sp.csr_matrix:
    """Presence (float32 ones) of a CSR matrix's entries under new column numbers `remap` (old -> new, -1 drops).

    Example:
        >>> remap_columns(sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]])), np.array([1, -1, 0])).toarray().tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    width = max(int(remap.max()) + 1 if len(remap) else 0, 0)
    indices = remap[matrix.indices]
    keep = indices >= 0
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]))])
    out = sp.csr_matrix((np.ones(int(keep.sum()), np.float32), indices[keep].astype(np.int32), indptr),
                        shape=(matrix.shape[0], width))
    out.sort_indices()
    return out


def position_map(union: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """For each union column, its position in `subset` (both sorted), or -1.

    Example:
        >>> position_map(np.array([2, 5, 7, 9]), np.array([5, 9])).tolist()
        [-1, 0, -1, 1]
    """
    position = np.minimum(np.searchsorted(subset, union), max(len(subset) - 1, 0))
    found = subset[position] == union if len(subset) else np.zeros(len(union), bool)
    return np.where(found, position, -1).astype(np.int64)
