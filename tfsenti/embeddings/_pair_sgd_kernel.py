"""Numba kernels of `tfsenti.embeddings.pair_sgd` (imported on first use only; compiled once, cached on disk)."""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(fastmath=True, nogil=True, cache=True)


@_jit
def next_uniform(state):
    # xorshift64*: one independent stream per worker, so no shared random state between threads
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return float((x * np.uint64(2685821657736338717)) >> np.uint64(11)) / 9007199254740992.0


@_jit
def pair_step(doc, doc_norm, ngram, target, doc_step, alpha, rate):
    # gradient of -log sigmoid(+-alpha cos(doc, ngram)); the n-gram moves now, the document's move accumulates.
    # float32 accumulators and coefficients keep the loops in single precision (twice the SIMD width)
    dot = np.float32(0.0)
    ngram_norm = np.float32(0.0)
    for i in range(doc.shape[0]):
        dot += doc[i] * ngram[i]
        ngram_norm += ngram[i] * ngram[i]
    if doc_norm == 0.0 or ngram_norm == 0.0:
        return 0.0
    ngram_norm = np.sqrt(ngram_norm)
    cos = dot / (doc_norm * ngram_norm)
    prob = 1.0 / (1.0 + np.exp(-alpha * cos))
    error = (target - prob) * alpha * rate
    along = np.float32(error / (doc_norm * ngram_norm))
    doc_back = np.float32(error * cos / (doc_norm * doc_norm))
    ngram_back = np.float32(error * cos / (ngram_norm * ngram_norm))
    for i in range(doc.shape[0]):
        d = doc[i]
        w = ngram[i]
        doc_step[i] += w * along - d * doc_back
        ngram[i] = w + d * along - w * ngram_back
    return -np.log(prob + 1e-12) if target == 1.0 else -np.log(1.0 - prob + 1e-12)


@_jit
def squared_norm(vector):
    total = np.float32(0.0)
    for i in range(vector.shape[0]):
        total += vector[i] * vector[i]
    return total


@numba.njit(fastmath=True, nogil=True, cache=True, parallel=True)
def epoch(indptr, indices, order, docs, ngrams, noise_cdf, keep, alpha, negatives, rate, seed, threads):
    totals = np.zeros((threads, 3))
    share = (order.shape[0] + threads - 1) // threads
    longest = max(1, np.max(indptr[1:] - indptr[:-1])) if indptr.shape[0] > 1 else 1
    for worker in numba.prange(threads):
        state = np.array([seed + np.uint64(worker) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1)])
        for _ in range(4):
            next_uniform(state)
        doc_step = np.zeros(docs.shape[1], np.float32)
        visit = np.empty(longest, np.int64)
        for k in range(worker * share, min(order.shape[0], (worker + 1) * share)):
            row = order[k]
            doc = docs[row]
            length = indptr[row + 1] - indptr[row]
            for j in range(length):  # the document's n-grams in a random order (Fisher-Yates)
                visit[j] = indices[indptr[row] + j]
            for j in range(length - 1, 0, -1):
                other = int(next_uniform(state) * (j + 1))
                visit[j], visit[other] = visit[other], visit[j]
            for j in range(length):
                ngram = visit[j]
                if keep[ngram] < 1.0 and next_uniform(state) >= keep[ngram]:
                    continue
                doc_step[:] = 0.0
                doc_norm = np.sqrt(squared_norm(doc))  # the document moves only after its pair's negatives
                loss = pair_step(doc, doc_norm, ngrams[ngram], 1.0, doc_step, alpha, rate)
                totals[worker, 1] += loss
                for _ in range(negatives):
                    noise = np.searchsorted(noise_cdf, next_uniform(state), side="right")
                    noise = min(noise, ngrams.shape[0] - 1)
                    loss += pair_step(doc, doc_norm, ngrams[noise], 0.0, doc_step, alpha, rate)
                for i in range(doc.shape[0]):
                    doc[i] += doc_step[i]
                totals[worker, 0] += loss
                totals[worker, 2] += 1.0
    return totals.sum(axis=0)
