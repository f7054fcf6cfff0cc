"""Vectors of new documents: the dv-cosine objective minimized over the document vector alone, in TensorFlow.

The n-gram vectors are frozen. Each document starts from the normalized weighted sum of its n-gram vectors and
takes `steps` Riemannian gradient steps on the unit sphere of size `learning_rate / L`, where
`L = alpha^2 / 4 * (1 + negatives) * (weight of its pairs)` bounds the curvature of its objective (stable for
`learning_rate < 2`). Every
choice is deterministic, so the same documents always get the same vectors: the pairs are weighted by the
trainer's keep probabilities (the objective that subsampled training optimizes in expectation) and the negative
term is an expectation over the `noise_size` most probable noise n-grams (unigram^0.75, renormalized) instead of
random draws. The same `tf.Module` serves in-process prediction and the exported SavedModel, so both give the
same vectors. Cost per document and step: about 4 * D * (its distinct n-grams + noise_size) flops.

Example:
    >>> import numpy as np, tensorflow as tf
    >>> vectors = np.eye(3, dtype=np.float32)                     # three n-grams, one axis each
    >>> infer = DocumentInference(vectors, pair_weights=np.ones(3), noise_counts=np.ones(3), noise_size=3,
    ...                           alpha=6.0, negatives=1, steps=10, learning_rate=0.5)
    >>> ids = lambda values: tf.constant(values, tf.int64)
    >>> h = infer(ids([0, 0, 1]), ids([0, 1, 2]), ids(2)).numpy()
    >>> bool(h[1, 2] > 0.5 > h[1, 0])                             # document 1 holds n-gram 2 only
    True
"""

from __future__ import annotations

import numpy as np


def top_noise(noise_counts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The `size` most probable n-grams under counts^0.75 and their probabilities renormalized to sum to 1.

    Example:
        >>> index, weight = top_noise(np.array([1, 16, 0, 81]), 2)
        >>> index.tolist(), [round(float(w), 3) for w in weight]
        ([3, 1], [0.771, 0.229])
    """
    noise = np.asarray(noise_counts, dtype=np.float64) ** 0.75
    size = min(size, int((noise > 0).sum()))
    index = np.argsort(-noise, kind="stable")[:size]
    return index.astype(np.int64), (noise[index] / noise[index].sum()).astype(np.float32)


def _module_class():
    import tensorflow as tf

    class _DocumentInference(tf.Module):
        def __init__(self, ngram_vectors, *, pair_weights, noise_counts, noise_size, alpha, negatives, steps,
                     learning_rate):
            super().__init__(name="document_inference")
            ngram_vectors = np.asarray(ngram_vectors, dtype=np.float32)
            noise_index, noise_weight = top_noise(noise_counts, noise_size)
            self.ngram_vectors = tf.Variable(ngram_vectors, trainable=False, name="ngram_vectors")
            self.pair_weights = tf.Variable(np.asarray(pair_weights, dtype=np.float32), trainable=False,
                                            name="pair_weights")
            self.noise_vectors = tf.Variable(ngram_vectors[noise_index], trainable=False, name="noise_vectors")
            self.noise_weights = tf.Variable(noise_weight, trainable=False, name="noise_weights")
            self.alpha = float(alpha)
            self.negatives = float(negatives)
            self.steps = int(steps)
            self.learning_rate = float(learning_rate)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64), tf.TensorSpec([None], tf.int64),
                                      tf.TensorSpec([], tf.int64)])
        def __call__(self, rows, ngram_ids, n_docs):
            """rows[i], ngram_ids[i]: the i-th (document, n-gram) pair -> (n_docs, D) vectors; a pair given k times
            counts k times (one pair per occurrence)."""
            alpha = tf.constant(self.alpha)
            vectors = tf.gather(self.ngram_vectors, ngram_ids)
            weights = tf.gather(self.pair_weights, ngram_ids)
            lengths = tf.math.unsorted_segment_sum(weights, rows, n_docs)
            curvature = 0.25 * self.alpha**2 * (1.0 + self.negatives) * tf.maximum(lengths, 1.0)
            rate = self.learning_rate / curvature
            negative_weight = (self.negatives * lengths)[:, None] * self.noise_weights[None, :]
            docs = tf.math.l2_normalize(tf.math.unsorted_segment_sum(weights[:, None] * vectors, rows, n_docs), -1)
            for _ in tf.range(self.steps):
                cos = tf.reduce_sum(tf.gather(docs, rows) * vectors, axis=-1)
                positive = -alpha * weights * tf.sigmoid(-alpha * cos)
                negative = alpha * negative_weight * tf.sigmoid(alpha * tf.matmul(docs, self.noise_vectors,
                                                                                  transpose_b=True))
                gradient = (tf.math.unsorted_segment_sum(positive[:, None] * vectors, rows, n_docs)
                            + tf.matmul(negative, self.noise_vectors))
                tangent = gradient - tf.reduce_sum(gradient * docs, axis=-1, keepdims=True) * docs
                docs = tf.math.l2_normalize(docs - rate[:, None] * tangent, -1)
            return docs

    return _DocumentInference


def DocumentInference(ngram_vectors, *, pair_weights, noise_counts, noise_size: int = 1024, alpha: float = 6.0,
                      negatives: int = 5, steps: int = 20, learning_rate: float = 1.5):
    """A `tf.Module` whose `__call__(rows, ngram_ids, n_docs)` returns the inferred unit vectors (zeros for
    documents without any known n-gram). `pair_weights` (V,) weigh each n-gram's pairs; `noise_counts` (V,) give
    the noise distribution (counts^0.75), of which the `noise_size` most probable n-grams are kept."""
    return _module_class()(ngram_vectors, pair_weights=pair_weights, noise_counts=noise_counts,
                           noise_size=noise_size, alpha=alpha, negatives=negatives, steps=steps,
                           learning_rate=learning_rate)


def infer_csr(module, presence, *, batch_size: int = 2000, max_pair_values: int | None = 2**25,
              progress: bool = False) -> np.ndarray:
    """Run `module` over the rows of a (documents, n-grams) CSR matrix in batches -> (rows, D) float32.

    A stored value is how many times its pair counts (1 for presence; occurrence counts when the vectors were
    trained on one pair per occurrence): such pairs reach `module` that many times.

    A batch holds at most `batch_size` documents and at most `max_pair_values / D` (document, n-gram) pairs (at
    least one document; None: no pair limit), since inference keeps a few (pairs, D) float32 buffers: 128 MiB each
    by default, whatever the dimension and the length of the documents. Each document's vector depends on its own
    n-grams only, so the batching changes the memory, never the vectors.
    """
    import sys

    import tensorflow as tf
    from tqdm import tqdm

    from tfsenti.embeddings.pair_sgd import repeated_pairs

    presence = presence.tocsr()
    presence.sort_indices()
    presence = repeated_pairs(presence)
    dim = int(module.ngram_vectors.shape[1])
    max_pairs = presence.nnz if max_pair_values is None else max(max_pair_values // dim, 1)
    out = np.zeros((presence.shape[0], dim), np.float32)
    with tqdm(total=presence.shape[0], unit="doc", desc="dv-cosine inference", disable=not progress,
              file=sys.stderr) as bar:
        for start, end in pair_batches(presence.indptr, batch_size, max_pairs):
            block = presence[start:end]
            rows = np.repeat(np.arange(block.shape[0], dtype=np.int64), np.diff(block.indptr))
            out[start:end] = module(tf.constant(rows), tf.constant(block.indices, tf.int64),
                                    tf.constant(block.shape[0], tf.int64)).numpy()
            bar.update(block.shape[0])
    return out


def pair_batches(indptr: np.ndarray, max_documents: int, max_pairs: int) -> list[tuple[int, int]]:
    """Consecutive row ranges [start, end) of a CSR matrix with at most `max_documents` rows and at most
    `max_pairs` stored entries each; a single row with more entries gets a range of its own.

    Example:
        >>> pair_batches(np.array([0, 3, 5, 9, 10]), max_documents=3, max_pairs=5)  # rows of 3, 2, 4, 1 pairs
        [(0, 2), (2, 4)]
    """
    indptr = np.asarray(indptr, dtype=np.int64)
    n_rows, batches, start = len(indptr) - 1, [], 0
    while start < n_rows:
        fits = int(np.searchsorted(indptr, indptr[start] + max_pairs, side="right")) - 1  # rows within the budget
        end = max(start + 1, min(start + max_documents, fits, n_rows))
        batches.append((start, end))
        start = end
    return batches
