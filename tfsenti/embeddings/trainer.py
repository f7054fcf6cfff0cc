"""Train n-gram and document vectors with the dv-cosine objective: NumPy mini-batches, two Hogwild threads.

Every epoch visits every document once, in a seeded random order, in mini-batches of `batch_size` documents.
A batch's positives are all (document, distinct n-gram) pairs of its documents; its negatives are `noise_samples`
n-grams drawn from the unigram^0.75 distribution and shared by the batch, each document's negative term weighted
so that it counts `negatives` negatives per positive, as in the paper. All vectors stay of unit length: a step
moves a row along the sphere (the tangent projection of the gradient, see `cosine_objective`), scaled by a
row-wise Adagrad rate, then renormalizes it. A batch's document vectors start from where the previous epoch left
them (joint training as in the paper). `threads` workers share the tables without locks (Hogwild, like the original's 22 threads); the heavy NumPy/SciPy operations release the GIL, so two
threads use two cores.

With `optimizer: sgd` an epoch is the paper's plain SGD over single pairs instead (`tfsenti.embeddings.pair_sgd`,
compiled by Numba), on vectors of free length that are made unit rows when training ends.

An epoch ends with a checkpoint (`checkpoint_dir/epoch-NNNN/`, written under a temporary name, then renamed;
`checkpoint_minutes` spaces them out); `fit` on the same data resumes from the newest one, so an interrupted run
loses at most the epochs since that checkpoint.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> presence = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    >>> trainer = CosineEmbeddingTrainer(EmbeddingSettings(dim=8, epochs=30, batch_size=2, threads=1, subsample=None),
    ...                                  seed=1234)
    >>> _ = trainer.fit(presence, progress=False)
    >>> v = trainer.doc_vectors_
    >>> bool(v[0] @ v[1] > v[0] @ v[2])
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp

from tfsenti.embeddings import pair_sgd
from tfsenti.embeddings.cosine_objective import unit_doc_gradient, unit_ngram_gradient, unit_pair_scores
from tfsenti.errors import TfsentiError

log = logging.getLogger("tfsenti")

CHECKPOINT_PREFIX = "epoch-"
_ADAGRAD_EPSILON = 1e-8
_CHOICES = {"init": ("svd", "random"), "optimizer": ("minibatch", "sgd")}  # allowed values of the string settings


@dataclasses.dataclass(frozen=True)
class EmbeddingSettings:
    """How the vectors are trained. The paper: dim 500, alpha 6, 5 negatives, 120 epochs (plain SGD, lr 0.001).

    `optimizer`: "minibatch" (NumPy mini-batches on unit vectors, Adagrad on the n-grams: `learning_rate`,
    `doc_steps`, `doc_learning_rate`, `noise_samples`, `batch_size`) or "sgd" (the paper's plain SGD over single
    pairs, `pair_learning_rate`, compiled by Numba: `tfsenti.embeddings.pair_sgd`). `init`: "svd" (a warm start,
    `spectral_start`) or "random" (the paper's). The `dvcosine` recipe's Params extend this class, so these are
    its `params.*` keys too. A bad value raises ValueError (`tfsenti.config` reports it as a ConfigError).

    Example:
        >>> EmbeddingSettings(dim=100).alpha
        6.0
    """

    dim: int = 100
    alpha: float = 6.0
    negatives: int = 5
    noise_samples: int = 1024
    epochs: int = 10
    learning_rate: float = 0.1
    doc_steps: int = 2
    doc_learning_rate: float = 1.5
    subsample: float | None = 1e-3
    batch_size: int = 256
    threads: int = 2
    init: Literal["svd", "random"] = "svd"
    optimizer: Literal["minibatch", "sgd"] = "minibatch"
    pair_learning_rate: float = 0.001

    def __post_init__(self):
        for name in ("dim", "negatives", "noise_samples", "batch_size", "threads", "doc_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, received {getattr(self, name)}")
        if self.epochs < 0:
            raise ValueError(f"epochs must be >= 0, received {self.epochs}")
        if min(self.alpha, self.learning_rate, self.doc_learning_rate, self.pair_learning_rate) <= 0:
            raise ValueError(f"alpha and the learning rates must be positive, received alpha={self.alpha}, "
                             f"learning_rate={self.learning_rate}, doc_learning_rate={self.doc_learning_rate}, "
                             f"pair_learning_rate={self.pair_learning_rate}")
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, received "
                                 f"{getattr(self, name)!r}")
        if self.subsample is not None and not 0.0 < self.subsample <= 1.0:
            raise ValueError(f"subsample must be in (0, 1] or None, received {self.subsample}")

    def embedding_settings(self) -> EmbeddingSettings:
        """These settings alone (a subclass's own fields dropped), e.g. for a checkpoint's fingerprint.

        Example:
            >>> EmbeddingSettings(dim=8).embedding_settings() == EmbeddingSettings(dim=8)
            True
        """
        return EmbeddingSettings(**{f.name: getattr(self, f.name) for f in dataclasses.fields(EmbeddingSettings)})

    def keep_probabilities(self, document_frequency: np.ndarray, n_docs: int) -> np.ndarray:
        """Chance that a pair with this n-gram is visited in an epoch: min(1, sqrt(t / f)), f = df / N.

        Like word2vec's subsampling of frequent words, applied to document frequencies; the vectors of new
        documents are inferred with these as pair weights (the same objective in expectation).
        """
        frequency = np.asarray(document_frequency, dtype=np.float64) / max(n_docs, 1)
        if self.subsample is None:
            return np.ones(len(frequency), np.float32)
        with np.errstate(divide="ignore"):
            return np.minimum(1.0, np.sqrt(self.subsample / frequency)).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class EpochReport:
    """What one epoch did: mean loss per positive pair (negatives included), seconds, pairs visited."""

    epoch: int
    loss: float
    positive_loss: float
    seconds: float
    pairs: int

    @classmethod
    def from_totals(cls, epoch: int, totals: np.ndarray, started: float) -> EpochReport:
        """From [loss sum, positive loss sum, pairs] of epoch `epoch` (1-based) begun at `started`
        (`time.perf_counter()`)."""
        pairs = max(totals[2], 1.0)
        return cls(epoch, float(totals[0] / pairs), float(totals[1] / pairs), time.perf_counter() - started,
                   int(totals[2]))


class CosineEmbeddingTrainer:
    """Learns `ngram_vectors_` (V, dim) and `doc_vectors_` (N, dim), unit rows, from a (N, V) presence matrix.

    Row i of `doc_vectors_` belongs to row i of the matrix given to `fit`; callers that join these vectors with
    other per-document tables do so by document id (see `tfsenti.embeddings.alignment`), never by position alone.
    """

    def __init__(self, settings: EmbeddingSettings, *, seed: int = 1234):
        self.settings = settings.embedding_settings()
        self.seed = int(seed)

    # ---- public API ----------------------------------------------------------------------------------------
    def fit(self, presence: sp.csr_matrix, *, noise_counts: np.ndarray | None = None,
            ngram_keep: np.ndarray | None = None, checkpoint_dir: str | Path | None = None,
            checkpoint_minutes: float = 0.0, on_epoch: Callable[[EpochReport], None] | None = None,
            progress: bool = True) -> CosineEmbeddingTrainer:
        """Train for `settings.epochs` epochs (resuming from `checkpoint_dir` when it holds a matching one).

        `presence` (N documents, V n-grams): stored entries are the positive pairs, values their weights (1 for
        presence); with `optimizer: sgd` a value is how often the pair is visited per epoch (a positive integer:
        occurrence counts give the reference implementation's one pair per occurrence). `noise_counts` (V,) are the
        corpus counts behind the unigram^0.75 noise (default: document frequencies). `ngram_keep` (V,) in [0, 1]
        multiplies each n-gram's keep probability (e.g. the recipe's sub-sampling by naive-Bayes weight: pairs of
        n-grams that say little about the label are visited less); `keep_probability_` is the product, which
        inference uses as pair weights. `on_epoch(report)` runs after each epoch (e.g. a TensorBoard writer). A
        checkpoint is written after an epoch when `checkpoint_minutes` have passed since the last one (0: after
        every epoch), and always after the last epoch: a large table takes seconds to write (dim 500 on IMDB:
        3 GB), so long runs may trade a few minutes of redone work on a crash for that time.
        """
        if checkpoint_minutes < 0:
            raise TfsentiError(f"checkpoint_minutes must be >= 0, received {checkpoint_minutes}")
        settings = self.settings
        presence = _checked_matrix(presence)
        n_docs, vocabulary = presence.shape
        if noise_counts is None:
            noise_counts = np.bincount(presence.indices, minlength=vocabulary)
        noise = np.asarray(noise_counts, dtype=np.float64) ** 0.75
        if noise.shape != (vocabulary,) or noise.sum() <= 0:
            raise TfsentiError(f"noise_counts must hold {vocabulary} non-negative counts, not all zero; received "
                               f"shape {noise.shape}")
        self.noise_cdf_ = np.cumsum(noise / noise.sum())
        self.keep_probability_ = settings.keep_probabilities(
            np.bincount(presence.indices, minlength=vocabulary), n_docs)
        if ngram_keep is not None:
            ngram_keep = np.asarray(ngram_keep, dtype=np.float32)
            if ngram_keep.shape != (vocabulary,) or not np.all((ngram_keep >= 0) & (ngram_keep <= 1)):
                raise TfsentiError(f"ngram_keep must hold {vocabulary} probabilities in [0, 1]; received shape "
                                   f"{ngram_keep.shape}, range [{ngram_keep.min():g}, {ngram_keep.max():g}]")
            self.keep_probability_ *= ngram_keep
        pairs = presence
        if settings.optimizer == "sgd":  # one entry per visit: a pair of value k is visited k times per epoch
            try:
                pairs = pair_sgd.repeated_pairs(presence)
            except ValueError as error:
                raise TfsentiError("optimizer='sgd' visits a stored pair as many times per epoch as its value, so "
                                   "the values must be positive integers (1 for presence, occurrence counts for one "
                                   "pair per occurrence); use optimizer='minibatch' for real-valued pair weights"
                                   ) from error
        fingerprint = _fingerprint(presence, settings, self.seed, ngram_keep)
        self.subsampled_ = bool(np.any(self.keep_probability_ < 1.0))

        start_epoch, self.history_ = 0, []
        checkpoint = latest_checkpoint(checkpoint_dir) if checkpoint_dir else None
        if checkpoint is not None:
            start_epoch = self._restore(checkpoint, fingerprint)
            log.info("dv-cosine: resuming after epoch %d from %s", start_epoch, checkpoint)
        else:
            rng = np.random.default_rng(self.seed)
            if settings.init == "svd":
                self.doc_vectors_, self.ngram_vectors_ = spectral_start(presence, settings.dim, rng)
                if settings.optimizer == "sgd":  # the learning rate is relative to the paper's start's lengths
                    self.doc_vectors_ *= pair_sgd.paper_scale(settings.dim)
                    self.ngram_vectors_ *= pair_sgd.paper_scale(settings.dim)
            elif settings.optimizer == "sgd":
                self.doc_vectors_, self.ngram_vectors_ = pair_sgd.paper_start(rng, n_docs, vocabulary, settings.dim)
            else:
                self.ngram_vectors_ = _random_unit(rng, vocabulary, settings.dim)
                self.doc_vectors_ = _random_unit(rng, n_docs, settings.dim)
            self.ngram_accumulator_ = np.zeros(vocabulary, np.float32)

        run_epoch = self._sgd_epoch if settings.optimizer == "sgd" else self._epoch
        last_saved = time.monotonic()
        for epoch in range(start_epoch, settings.epochs):
            report = run_epoch(pairs, epoch, progress)
            self.history_.append(dataclasses.asdict(report))
            log.info("dv-cosine epoch %d/%d: loss %.4f per pair, %.1f s", epoch + 1, settings.epochs, report.loss,
                     report.seconds)
            due = time.monotonic() - last_saved >= 60.0 * checkpoint_minutes or epoch + 1 == settings.epochs
            if checkpoint_dir and due:
                self._save(Path(checkpoint_dir), epoch + 1, fingerprint)
                last_saved = time.monotonic()
            if on_epoch is not None:
                on_epoch(report)
        if settings.optimizer == "sgd":  # the tables were trained at free lengths; checkpoints keep those
            self.doc_vectors_ = _unit_rows(self.doc_vectors_, np.random.default_rng(self.seed))
            self.ngram_vectors_ = _unit_rows(self.ngram_vectors_, np.random.default_rng(self.seed))
        self.epochs_done_ = settings.epochs
        return self

    # ---- one epoch -----------------------------------------------------------------------------------------
    def _epoch(self, presence: sp.csr_matrix, epoch: int, progress: bool) -> EpochReport:
        settings = self.settings
        order = np.random.default_rng([self.seed, epoch]).permutation(presence.shape[0])
        batches = [order[start:start + settings.batch_size] for start in range(0, len(order), settings.batch_size)]
        lock = threading.Lock()
        position = iter(range(len(batches)))
        totals = np.zeros(3)  # loss, positive loss, pairs
        errors: list[BaseException] = []
        stop = threading.Event()
        started = time.perf_counter()

        from tqdm import tqdm

        bar = tqdm(total=len(batches), unit="batch", desc=f"dv-cosine epoch {epoch + 1}/{settings.epochs}",
                   disable=not progress, file=sys.stderr, leave=False)

        def work(worker: int) -> None:
            rng = np.random.default_rng([self.seed, epoch, worker, 7])
            local = np.zeros(3)
            try:
                while not stop.is_set():
                    with lock:
                        index = next(position, None)
                    if index is None:
                        break
                    local += self._batch(presence, batches[index], rng)
                    with lock:
                        bar.update(1)
            except BaseException as error:  # surfaced in the main thread below
                errors.append(error)
                stop.set()
            with lock:
                totals[:] += local

        workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(settings.threads)]
        try:
            for thread in workers:
                thread.start()
            for thread in workers:
                while thread.is_alive():
                    thread.join(0.2)
        except KeyboardInterrupt:
            stop.set()
            for thread in workers:
                thread.join()
            raise
        finally:
            bar.close()
        if errors:
            raise errors[0]
        return EpochReport.from_totals(epoch + 1, totals, started)

    def _sgd_epoch(self, presence: sp.csr_matrix, epoch: int, progress: bool) -> EpochReport:
        """One epoch of the paper's per-pair SGD, in slices of the shuffled documents (a progress bar, and Ctrl-C
        is honoured between slices)."""
        from tqdm import tqdm

        settings = self.settings
        order = np.random.default_rng([self.seed, epoch]).permutation(presence.shape[0])
        slices = np.array_split(order, max(1, min(len(order), 50)))
        totals = np.zeros(3)
        started = time.perf_counter()
        with tqdm(total=len(order), unit="doc", desc=f"dv-cosine epoch {epoch + 1}/{settings.epochs}",
                  disable=not progress, file=sys.stderr, leave=False) as bar:
            for number, rows in enumerate(slices):
                totals += pair_sgd.sgd_epoch(
                    presence, self.doc_vectors_, self.ngram_vectors_, rows=rows, noise_cdf=self.noise_cdf_,
                    keep=self.keep_probability_, alpha=settings.alpha, negatives=settings.negatives,
                    learning_rate=settings.pair_learning_rate, seed=(self.seed * 1_000_003 + epoch) * 64 + number,
                    threads=settings.threads)
                bar.update(len(rows))
        return EpochReport.from_totals(epoch + 1, totals, started)

    def _batch(self, presence: sp.csr_matrix, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One mini-batch: `doc_steps` steps on its document vectors, then one step on its n-gram vectors."""
        settings = self.settings
        rows = np.sort(rows)
        block = presence[rows]
        if self.subsampled_:
            block.data = (rng.random(block.nnz) < self.keep_probability_[block.indices]).astype(np.float32)
            block.eliminate_zeros()
        noise = np.searchsorted(self.noise_cdf_, rng.random(settings.noise_samples), side="right")
        noise = np.minimum(noise, presence.shape[1] - 1)
        distinct, inverse = np.unique(np.concatenate([block.indices, noise]), return_inverse=True)
        n_pairs = len(block.indices)
        pattern = sp.csr_matrix((block.data, inverse[:n_pairs], block.indptr), shape=(len(rows), len(distinct)))
        counts = np.diff(block.indptr)
        lengths = np.bincount(np.repeat(np.arange(len(rows)), counts), weights=block.data, minlength=len(rows))
        negative_weight = settings.negatives * lengths / settings.noise_samples

        ngrams = self.ngram_vectors_[distinct]
        pair_ngrams = ngrams[inverse[:n_pairs]]
        noise_index = inverse[n_pairs:]
        noise_vectors = ngrams[noise_index]
        docs = self.doc_vectors_[rows]
        # the curvature of a document's objective is at most alpha^2 / 4 * (1 + negatives) * its length: a step of
        # doc_learning_rate / that bound is stable for doc_learning_rate < 2 however clustered its n-grams are
        curvature = 0.25 * settings.alpha**2 * (1.0 + settings.negatives) * np.maximum(lengths, 1.0)
        doc_rate = (settings.doc_learning_rate / curvature).astype(np.float32)
        for _ in range(settings.doc_steps):
            scores = unit_pair_scores(docs, pair_ngrams, counts, block.data, noise_vectors, negative_weight,
                                      settings.alpha)
            gradient = unit_doc_gradient(scores, pattern, ngrams, noise_vectors)
            docs = _sphere_move(docs, gradient, doc_rate)
        self.doc_vectors_[rows] = docs
        scores = unit_pair_scores(docs, pair_ngrams, counts, block.data, noise_vectors, negative_weight,
                                  settings.alpha)
        gradient = unit_ngram_gradient(scores, pattern, docs, noise_index)
        _sphere_adagrad(self.ngram_vectors_, self.ngram_accumulator_, distinct, ngrams, gradient,
                        settings.learning_rate)
        return np.array([scores.loss, scores.positive_loss, float(lengths.sum())])

    # ---- checkpoints ---------------------------------------------------------------------------------------
    def _save(self, folder: Path, epochs_done: int, fingerprint: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{CHECKPOINT_PREFIX}{epochs_done:04d}"
        partial = folder / f".{final.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for name in ("ngram_vectors_", "doc_vectors_", "ngram_accumulator_"):
            np.save(partial / f"{name.rstrip('_')}.npy", getattr(self, name))
        state = {"epochs_done": epochs_done, "fingerprint": fingerprint, "history": self.history_}
        (partial / "state.json").write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(partial, final)
        for older in folder.glob(f"{CHECKPOINT_PREFIX}*"):
            if older != final and older.is_dir():
                shutil.rmtree(older, ignore_errors=True)

    def _restore(self, checkpoint: Path, fingerprint: dict) -> int:
        state = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
        if state["fingerprint"] != fingerprint:
            raise TfsentiError(
                f"The checkpoint {checkpoint} belongs to another run (it has {state['fingerprint']}, this run "
                f"{fingerprint}). Point params.checkpoint_dir at the interrupted run's checkpoints, or at an empty "
                "folder to start afresh.")
        for name in ("ngram_vectors_", "doc_vectors_", "ngram_accumulator_"):
            setattr(self, name, np.load(checkpoint / f"{name.rstrip('_')}.npy"))
        self.history_ = list(state["history"])
        return int(state["epochs_done"])


class TensorBoardEpochWriter:
    """An `on_epoch` callback: TensorBoard scalars per epoch under `<log_dir>/embedding` (loss, positive loss,
    seconds)."""

    def __init__(self, log_dir):
        self.log_dir = Path(log_dir) / "embedding"

    def __call__(self, report) -> None:
        import tensorflow as tf

        writer = tf.summary.create_file_writer(str(self.log_dir))
        with writer.as_default():
            tf.summary.scalar("embedding/loss", report.loss, step=report.epoch)
            tf.summary.scalar("embedding/positive_loss", report.positive_loss, step=report.epoch)
            tf.summary.scalar("embedding/epoch_seconds", report.seconds, step=report.epoch)
        writer.flush()
        writer.close()


def latest_checkpoint(folder: str | Path) -> Path | None:
    """The newest complete `epoch-NNNN` folder under `folder`, or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    done = sorted(p for p in folder.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir() and (p / "state.json").is_file())
    return done[-1] if done else None


def _tangent(current: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """The gradient's component orthogonal to each (unit) row: the gradient on the sphere."""
    return gradient - np.einsum("ij,ij->i", gradient, current)[:, None] * current


def _sphere_move(current: np.ndarray, gradient: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """A gradient step of `rate` (one per row) along the sphere, renormalized."""
    moved = current - rate[:, None] * _tangent(current, gradient)
    moved /= np.sqrt(np.einsum("ij,ij->i", moved, moved))[:, None]
    return moved


def _sphere_adagrad(table: np.ndarray, accumulator: np.ndarray, rows: np.ndarray, current: np.ndarray,
                    gradient: np.ndarray, learning_rate: float) -> None:
    """Riemannian Adagrad on the unit sphere, one scalar rate per row: project, scale, step, renormalize."""
    tangent = _tangent(current, gradient)
    accumulator[rows] += np.einsum("ij,ij->i", tangent, tangent)
    rate = (learning_rate / np.sqrt(accumulator[rows] + _ADAGRAD_EPSILON)).astype(current.dtype)
    moved = current - rate[:, None] * tangent
    moved /= np.sqrt(np.einsum("ij,ij->i", moved, moved))[:, None]
    table[rows] = moved


def spectral_start(presence: sp.csr_matrix, dim: int, rng: np.random.Generator, *, oversample: int = 10,
                   power_iterations: int = 2, chunk_rows: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Unit document and n-gram vectors from a randomized truncated SVD of the idf-weighted presence matrix.

    A warm start (Halko et al. 2011): documents that share n-grams start close, so the cosine objective needs far
    fewer epochs than from random vectors. Rows that the SVD leaves at zero get random unit vectors. Memory: at most
    two (n-grams, dim + oversample) float32 arrays at a time (the Gaussian test matrix is drawn `chunk_rows` n-grams
    at a time, the n-gram side is orthonormalized in place), the returned n-gram table included.
    """
    n_docs, vocabulary = presence.shape
    idf = np.log((1.0 + n_docs) / (1.0 + np.bincount(presence.indices, minlength=vocabulary))).astype(np.float32)
    weighted = sp.csr_matrix((idf[presence.indices], presence.indices, presence.indptr), shape=presence.shape)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    weighted = sp.diags((1.0 / np.maximum(norms, 1e-12)).astype(np.float32)) @ weighted
    transposed = weighted.T.tocsr()
    rank = min(dim + oversample, n_docs, vocabulary)
    chunks = [slice(start, start + chunk_rows) for start in range(0, vocabulary, chunk_rows)]
    sketch = np.zeros((n_docs, rank), np.float32)  # A @ Omega, Omega (V, rank) Gaussian, one block of rows at a time
    for rows in chunks:
        block = transposed[rows]
        sketch += np.asarray(block.T @ rng.standard_normal((block.shape[0], rank), dtype=np.float32))
    basis, _ = np.linalg.qr(sketch)
    del sketch
    for _ in range(power_iterations):
        ngram_side = np.asarray(transposed @ basis)
        _orthonormalize_columns(ngram_side, chunks)
        basis, _ = np.linalg.qr(np.asarray(weighted @ ngram_side))
        del ngram_side
    projected = np.asarray(transposed @ basis)  # (V, rank) = B^T with B = Q^T A
    gram = _column_gram(projected, chunks)      # B B^T, small: its eigenvectors are B's left singular vectors
    values, vectors = np.linalg.eigh(gram)
    top = np.argsort(values)[::-1][:dim]
    singular = np.sqrt(np.maximum(values[top], 1e-12))
    docs = (basis @ vectors[:, top]).astype(np.float32) * np.sqrt(singular).astype(np.float32)
    to_ngrams = (vectors[:, top] / np.sqrt(singular)).astype(np.float32)
    ngrams = np.empty((vocabulary, dim), np.float32)
    for rows in chunks:
        ngrams[rows, :top.size] = projected[rows] @ to_ngrams
    del projected
    if dim > top.size:  # fewer documents or n-grams than dimensions: pad with small random coordinates
        docs = np.hstack([docs, 1e-3 * rng.standard_normal((n_docs, dim - top.size), dtype=np.float32)])
        ngrams[:, top.size:] = 1e-3 * rng.standard_normal((vocabulary, dim - top.size), dtype=np.float32)
    return _unit_rows(docs, rng), _unit_rows(ngrams, rng)


def _column_gram(matrix: np.ndarray, chunks: list[slice]) -> np.ndarray:
    """matrix^T matrix in float64, summed over row chunks (no float64 copy of the whole matrix)."""
    gram = np.zeros((matrix.shape[1], matrix.shape[1]))
    for rows in chunks:
        block = matrix[rows].astype(np.float64)
        gram += block.T @ block
    return gram


def _orthonormalize_columns(matrix: np.ndarray, chunks: list[slice]) -> None:
    """Make the columns of a tall matrix orthonormal in place, spanning the same space (Cholesky QR)."""
    gram = _column_gram(matrix, chunks)
    gram[np.diag_indices_from(gram)] += 1e-10 * max(np.trace(gram), 1e-30) / len(gram)  # rank-deficient input
    inverse = np.linalg.inv(np.linalg.cholesky(gram).T).astype(np.float32)  # gram = R^T R, R upper triangular
    for rows in chunks:
        matrix[rows] = matrix[rows] @ inverse


def _unit_rows(table: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`table` with every row scaled to unit length, in place (an all-zero row becomes a random unit row)."""
    table = np.ascontiguousarray(table, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", table, table))  # no (rows, dim) temporary
    empty = norms < 1e-8
    if empty.any():
        table[empty] = rng.standard_normal((int(empty.sum()), table.shape[1]), dtype=np.float32)
        norms[empty] = np.linalg.norm(table[empty], axis=1)
    table /= norms[:, None]
    return table


def _random_unit(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    table = rng.standard_normal((rows, dim), dtype=np.float32)
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    return table


def _checked_matrix(presence) -> sp.csr_matrix:
    if not sp.issparse(presence):
        raise TfsentiError(f"presence must be a SciPy sparse matrix (documents x n-grams), received "
                           f"{type(presence).__name__}")
    presence = sp.csr_matrix(presence, dtype=np.float32)
    presence.sum_duplicates()
    presence.sort_indices()
    return presence


def _fingerprint(presence: sp.csr_matrix, settings: EmbeddingSettings, seed: int,
                 ngram_keep: np.ndarray | None) -> dict:
    kept = {k: v for k, v in dataclasses.asdict(settings).items() if k not in ("epochs", "threads")}
    fingerprint = {"shape": list(presence.shape), "pairs": int(presence.nnz), "seed": seed, **kept}
    if np.any(presence.data != 1):  # weighted or repeated pairs: their total tells another corpus apart
        fingerprint["pair_values_sum"] = float(presence.data.sum(dtype=np.float64))
    if ngram_keep is not None:  # a digest: the same keep probabilities, or another run
        fingerprint["ngram_keep_sha1"] = hashlib.sha1(np.ascontiguousarray(ngram_keep).tobytes()).hexdigest()
    return fingerprint
