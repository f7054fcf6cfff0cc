"""The paper's optimizer: plain SGD over (document, n-gram) pairs, compiled with Numba, Hogwild threads.

For each document (in a shuffled order) and each of its n-grams (in a shuffled order, each kept with its keep
probability), one positive and `negatives` noise n-grams (unigram^0.75) take a step on
`-log sigmoid(+-alpha cos(d, w))`: the n-gram vectors move at once, the document vector after the pair, as in the
reference Java implementation of Thongtan & Phienthrakul (2019). Vectors are NOT kept at unit length: the cosine
is scale-invariant, so a vector's step relative to its length shrinks as the length grows, which anneals the
plain constant learning rate. `threads` workers each take a share of the documents and write the shared tables
without locks; with one thread an epoch is a deterministic function of its seed.

Numba compiles the loops on first use (a few seconds, cached on disk afterwards); per-pair updates cannot be
vectorized in NumPy, and this is what makes many epochs of the paper's optimizer fit a 2-core budget (IMDB,
72.5k documents and 36M distinct pairs, with the config's frequency sub-sampling: about 35 s per epoch at dim 100
and 45 s at dim 300 on 2 cores, runs 22 and 23 of block `imdb-sweep` in docs/RESULTS.md).

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> presence = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    >>> docs, ngrams = paper_start(np.random.default_rng(0), 3, 4, dim=8)
    >>> for epoch in range(200):
    ...     _ = sgd_epoch(presence, docs, ngrams, noise_cdf=np.linspace(0.25, 1, 4), keep=np.ones(4),
    ...                   alpha=6.0, negatives=1, learning_rate=0.05, seed=epoch, threads=1)
    >>> unit = docs / np.linalg.norm(docs, axis=1, keepdims=True)
    >>> bool(unit[0] @ unit[1] > unit[0] @ unit[2])
    True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def paper_start(rng: np.random.Generator, n_docs: int, vocabulary: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference implementation's start: every coordinate uniform in [-0.5, 0.5) / dim -> (docs, ngrams)."""
    docs = ((rng.random((n_docs, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    ngrams = ((rng.random((vocabulary, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    return docs, ngrams


def paper_scale(dim: int) -> float:
    """Expected length of a `paper_start` row, 1 / (dim * sqrt(12)) * sqrt(dim): unit rows (an SVD start) are
    scaled to it, so the learning rate means the same whatever the start."""
    return float(1.0 / np.sqrt(12.0 * dim))


def sgd_epoch(presence: sp.csr_matrix, docs: np.ndarray, ngrams: np.ndarray, *, noise_cdf: np.ndarray,
              keep: np.ndarray, alpha: float, negatives: int, learning_rate: float, seed: int, threads: int,
              rows: np.ndarray | None = None) -> np.ndarray:
    """One pass over the documents `rows` (default: all, shuffled by `seed`) of `presence` (N, V): each stored
    entry is one pair (values are ignored; `repeated_pairs` turns counts into repeated entries). Updates `docs`
    (N, D) and `ngrams` (V, D) float32 in place.
    `noise_cdf` (V,): cumulative noise distribution; `keep` (V,): chance that a pair with that n-gram is visited.
    Returns [loss over the visited positives and their negatives, positive part of it, pairs visited].
    """
    if docs.dtype != np.float32 or ngrams.dtype != np.float32 or not (docs.flags.c_contiguous
                                                                       and ngrams.flags.c_contiguous):
        raise TypeError("docs and ngrams must be C-contiguous float32 arrays (they are updated in place)")
    if rows is None:
        rows = np.random.default_rng(seed).permutation(presence.shape[0])
    return _compiled()(presence.indptr, presence.indices, np.asarray(rows, np.int64), docs, ngrams,
                       np.asarray(noise_cdf, np.float64), np.asarray(keep, np.float32), float(alpha),
                       int(negatives), float(learning_rate), np.uint64((seed * 2654435761 + 12345) % 2**64),
                       int(threads))


def repeated_pairs(presence: sp.csr_matrix) -> sp.csr_matrix:
    """Each stored entry of a CSR matrix repeated as many times as its (positive integer) value, values 1: the
    per-pair SGD's input, one pair per occurrence. A matrix of ones comes back as it is.

    Example:
        >>> m = sp.csr_matrix(np.array([[2, 0, 1], [0, 0, 0], [0, 3, 0]], dtype=np.float32))
        >>> r = repeated_pairs(m)
        >>> r.indices.tolist(), r.indptr.tolist()
        ([0, 0, 2, 1, 1, 1], [0, 3, 3, 6])
    """
    values = np.asarray(presence.data)
    if np.any((values < 1) | (values != np.round(values))):
        raise ValueError("repeated pairs need positive integer values (how often each pair counts)")
    repeats = values.astype(np.int64)
    if np.all(repeats == 1):
        return presence
    ends = np.concatenate([[0], np.cumsum(repeats)])
    return sp.csr_matrix((np.ones(int(ends[-1]), np.float32), np.repeat(presence.indices, repeats),
                          ends[presence.indptr]), shape=presence.shape)


def _compiled():
    """The compiled epoch (numba is imported here, so importing tfsenti never pays for it)."""
    from tfsenti.embeddings import _pair_sgd_kernel

    return _pair_sgd_kernel.epoch
