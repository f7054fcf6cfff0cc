"""How far dv-cosine training moves the vectors from the SVD warm start, and how well the trained document vectors
fit the objective, next to vectors inferred from the same n-gram vectors.

On the IMDB embedding corpus of configs/imdb/dvcosine.yaml (the presence matrix of
`dvcosine_memory.embedding_corpus`, cached in --cache like benchmarks/dvcosine_epoch.py), trains the config's
embedding (its settings and seed; --set changes them) for --epochs epochs from the trainer's own start (SVD or
random, kept from a 0-epoch set-up), and prints:

- how much of the noise distribution the most probable n-grams hold (what inference's `noise: top` keeps);
- the mean cosine between each trained vector and its starting vector, for the documents and for the n-grams by
  document frequency (1.0: not moved at all);
- the objective per document of --sample training documents, weighted as inference weighs it (keep probabilities
  as pair weights, the negative term's expectation over the --noise-size most probable n-grams), with their
  starting vectors, their trained vectors, and vectors inferred from the trained n-gram vectors with the config's
  inference steps and with --converged steps.

If the trained documents sit far above the inferred ones, training leaves its own document vectors far from their
optimum, and the n-gram vectors are fitted to those. Prints a report, writes nothing into docs/. Run it alone:

    flock /tmp/tfsenti-bench.lock .venv/bin/python benchmarks/dvcosine_drift.py --epochs 4
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tfsenti  # noqa: F401  (environment defaults before TensorFlow)

from dvcosine_memory import add_corpus_arguments, cached_corpus  # benchmarks/ is on sys.path
from machine_info import machine

FREQUENCY_BANDS = [(1, 5), (5, 20), (20, 100), (100, 1000), (1000, None)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_corpus_arguments(parser)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="config override, e.g. params.init=random (default: the config as it is)")
    parser.add_argument("--sample", type=int, default=1000, help="training documents whose objective is printed")
    parser.add_argument("--converged", type=int, default=100, help="inference steps of the 'converged' column")
    args = parser.parse_args(argv)

    import numpy as np

    from tfsenti.config import build_config, default_config_path
    from tfsenti.embeddings.inference import DocumentInference, infer_csr, top_noise
    from tfsenti.embeddings.trainer import CosineEmbeddingTrainer

    config = build_config("dvcosine", "imdb", config_file=default_config_path("dvcosine", "imdb", REPO / "configs"),
                          overrides=[f"params.epochs={args.epochs}"] + args.overrides)
    params = config.params
    settings = params.embedding_settings(seed=config.train.seed)
    presence = cached_corpus(args)
    df = np.bincount(presence.indices, minlength=presence.shape[1])
    print(f"Machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}")
    print(f"Corpus: {presence.shape[0]} documents x {presence.shape[1]} n-grams, {presence.nnz} pairs; dim "
          f"{settings.dim}, {args.epochs} epochs, init {settings.init}, overrides {args.overrides or 'none'}")

    share = np.sort(df.astype(np.float64) ** 0.75)[::-1].cumsum() / (df.astype(np.float64) ** 0.75).sum()
    print("Share of the noise distribution (document frequency^0.75) held by its most probable n-grams: "
          + ", ".join(f"top {k}: {share[k - 1]:.3f}" for k in (256, 1024, 16384, 131072) if k <= len(share)))

    started = time.perf_counter()
    # 0 epochs: the trainer's own start (SVD or random) and tables; then the epochs `fit` would run, minus checkpoints
    trainer = CosineEmbeddingTrainer(dataclasses.replace(settings, epochs=0)).fit(presence, noise_counts=df,
                                                                                  progress=True)
    start_docs, start_ngrams = trainer.doc_vectors_.copy(), trainer.ngram_vectors_.copy()
    trainer.settings = settings
    for epoch in range(settings.epochs):
        trainer._epoch(presence, epoch, True)
    print(f"training (start included): {time.perf_counter() - started:.0f} s")

    doc_cos = np.einsum("ij,ij->i", trainer.doc_vectors_, start_docs)
    ngram_cos = np.einsum("ij,ij->i", trainer.ngram_vectors_, start_ngrams)
    print(f"\nMean cosine, trained vector vs its start: documents {doc_cos.mean():.3f}")
    for low, high in FREQUENCY_BANDS:
        band = (df >= low) & (df < (high or np.inf))
        if band.any():
            label = f"{low}-{high - 1}" if high else f">= {low}"
            print(f"  n-grams in {label} documents ({int(band.sum())}): {ngram_cos[band].mean():.3f}")

    rows = np.sort(np.random.default_rng(0).choice(presence.shape[0], min(args.sample, presence.shape[0]),
                                                   replace=False))
    block = presence[rows]
    vectors = trainer.ngram_vectors_

    def inferred(steps: int) -> np.ndarray:
        module = DocumentInference(vectors, pair_weights=trainer.keep_probability_, noise_counts=df,
                                   noise_size=params.noise_size, alpha=params.alpha, negatives=params.negatives,
                                   steps=steps, learning_rate=params.infer_learning_rate)
        return infer_csr(module, block)

    noise_index, noise_weight = top_noise(df, params.noise_size)
    print(f"\nObjective per document, {len(rows)} training documents (lower is better):")
    for name, docs in [("starting vectors", start_docs[rows]), ("trained vectors", trainer.doc_vectors_[rows]),
                       (f"inferred, {params.infer_steps} steps", inferred(params.infer_steps)),
                       (f"inferred, {args.converged} steps", inferred(args.converged))]:
        value = _objective(block, docs, vectors, trainer.keep_probability_, noise_index, noise_weight, params)
        print(f"  {name}: {value:.1f}")


def _objective(block, docs, vectors, keep, noise_index, noise_weight, params) -> float:
    """Mean over documents of the inference objective (pairs weighted by keep, expected noise term)."""
    from tfsenti.embeddings.cosine_objective import softplus

    noise = vectors[noise_index]
    total = 0.0
    for i in range(block.shape[0]):
        columns = block.indices[block.indptr[i]:block.indptr[i + 1]]
        weights = keep[columns]
        positive = weights @ softplus(-params.alpha * (vectors[columns] @ docs[i]))
        negative = params.negatives * weights.sum() * (noise_weight @ softplus(params.alpha * (noise @ docs[i])))
        total += positive + negative
    return total / max(block.shape[0], 1)


if __name__ == "__main__":
    main()
