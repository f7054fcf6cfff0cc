"""The dv-cosine objective: a document vector is pulled towards its n-grams and pushed from negative samples.

For a document vector `h` and an n-gram vector `v`, `cos(h, v) = h.v / (|h| |v|)` and

    loss = sum over positives (h, v) of  weight * softplus(-alpha * cos(h, v))     # -log sigmoid(alpha cos)
         + sum over negatives (h, v) of  weight * softplus(+alpha * cos(h, v))     # -log sigmoid(-alpha cos)

with the scale `alpha` (the paper uses 6). `pair_objective` computes it and its exact gradients for any vectors
(the reference the tests check against finite differences); `unit_batch_objective` is the fast path the trainer
uses, for unit-length vectors, where the gradient of the cosine reduces to a tangent projection.

Example:
    >>> import numpy as np
    >>> h = np.array([[1.0, 0.0]]); v = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> result = pair_objective(h, v, doc_index=[0, 0], ngram_index=[0, 1], target=[1, 0], alpha=6.0)
    >>> round(result.loss, 4)                              # softplus(-6) + softplus(0)
    0.6956
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
from scipy.special import expit


@dataclasses.dataclass(frozen=True)
class ObjectiveValue:
    """A loss and its gradients with respect to the document and the n-gram vectors (same shapes as those)."""

    loss: float
    doc_gradient: np.ndarray
    ngram_gradient: np.ndarray


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), stable for large |x|."""
    return np.logaddexp(0.0, x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow warnings."""
    return expit(x)


def pair_objective(doc_vectors, ngram_vectors, *, doc_index, ngram_index, target, alpha: float,
                   weight=None) -> ObjectiveValue:
    """Exact loss and gradients for arbitrary (non-normalized) vectors; pairs are rows of the index arrays.

    `target` is 1 for a positive pair (n-gram in the document) and 0 for a negative sample; `weight` (default 1)
    multiplies each pair's term.
    """
    h_all = np.asarray(doc_vectors, dtype=np.float64)
    v_all = np.asarray(ngram_vectors, dtype=np.float64)
    doc_index, ngram_index = np.asarray(doc_index), np.asarray(ngram_index)
    sign = np.where(np.asarray(target) > 0, -1.0, 1.0)  # positives: softplus(-a cos); negatives: softplus(+a cos)
    weight = np.ones(len(doc_index)) if weight is None else np.asarray(weight, dtype=np.float64)
    h, v = h_all[doc_index], v_all[ngram_index]
    norm_h = np.linalg.norm(h, axis=1)
    norm_v = np.linalg.norm(v, axis=1)
    dot = np.einsum("ij,ij->i", h, v)
    cos = dot / (norm_h * norm_v)
    loss = float(np.sum(weight * softplus(sign * alpha * cos)))
    # d loss / d cos, then d cos / dh = v / (|h||v|) - cos h / |h|^2 (and symmetrically for v)
    d_cos = weight * sign * alpha * sigmoid(sign * alpha * cos)
    grad_h = d_cos[:, None] * (v / (norm_h * norm_v)[:, None] - (cos / norm_h**2)[:, None] * h)
    grad_v = d_cos[:, None] * (h / (norm_h * norm_v)[:, None] - (cos / norm_v**2)[:, None] * v)
    doc_gradient = np.zeros_like(h_all)
    ngram_gradient = np.zeros_like(v_all)
    np.add.at(doc_gradient, doc_index, grad_h)
    np.add.at(ngram_gradient, ngram_index, grad_v)
    return ObjectiveValue(loss, doc_gradient, ngram_gradient)


@dataclasses.dataclass(frozen=True)
class PairScores:
    """dloss/dcos of every positive pair (CSR order) and of every (document, noise sample), and the losses."""

    positive_d_cos: np.ndarray   # (P,)
    negative_d_cos: np.ndarray   # (B, M)
    positive_loss: float
    negative_loss: float

    @property
    def loss(self) -> float:
        return self.positive_loss + self.negative_loss


def unit_pair_scores(docs: np.ndarray, pair_ngrams: np.ndarray, pair_counts: np.ndarray, pair_weights: np.ndarray,
                     noise: np.ndarray, negative_weight: np.ndarray, alpha: float) -> PairScores:
    """Losses and dloss/dcos for unit vectors.

    `docs` (B, D); `pair_ngrams` (P, D) the n-gram vector of each positive pair, grouped by document in order,
    `pair_counts` (B,) pairs per document, `pair_weights` (P,); `noise` (M, D) the shared negative samples and
    `negative_weight` (B,) the weight of each of a document's M negative terms.
    """
    cos = np.einsum("ij,ij->i", np.repeat(docs, pair_counts, axis=0), pair_ngrams)
    scaled = alpha * cos
    positive_d_cos = (-alpha * pair_weights) * expit(-scaled)
    negative_scaled = alpha * (docs @ noise.T)
    negative_d_cos = alpha * expit(negative_scaled) * negative_weight[:, None]
    return PairScores(
        positive_d_cos.astype(docs.dtype, copy=False),
        negative_d_cos.astype(docs.dtype, copy=False),
        float(pair_weights @ softplus(-scaled)),
        float(np.sum(negative_weight[:, None] * softplus(negative_scaled))),
    )


def unit_doc_gradient(scores: PairScores, positives: sp.csr_matrix, ngrams: np.ndarray,
                      noise: np.ndarray) -> np.ndarray:
    """(B, D) raw gradient sums for the documents: sum_pairs dloss/dcos * v (project it on the tangent space).

    `positives` is the (B, U) CSR pattern of the pairs over the U rows of `ngrams` (values ignored).
    """
    coefficients = sp.csr_matrix((scores.positive_d_cos, positives.indices, positives.indptr), shape=positives.shape)
    return np.asarray(coefficients @ ngrams) + scores.negative_d_cos @ noise


def unit_ngram_gradient(scores: PairScores, positives: sp.csr_matrix, docs: np.ndarray,
                        noise_index: np.ndarray) -> np.ndarray:
    """(U, D) raw gradient sums for the n-grams: sum over their pairs of dloss/dcos * h."""
    coefficients = sp.csr_matrix((scores.positive_d_cos, positives.indices, positives.indptr), shape=positives.shape)
    gradient = np.asarray(coefficients.T.tocsr() @ docs)
    np.add.at(gradient, noise_index, scores.negative_d_cos.T @ docs)
    return gradient
