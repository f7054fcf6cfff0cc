"""Where one dv-cosine embedding epoch spends its time: wall and CPU seconds per thread count, and a profile.

Builds the IMDB embedding corpus of configs/imdb/dvcosine.yaml once (the presence matrix of
`dvcosine_memory.embedding_corpus`, cached in --cache), then, on its first --documents documents and for each
--dims value, times one epoch of `CosineEmbeddingTrainer` with 1 and with 2 worker threads (each --repeats times,
interleaved, from the same random start) and profiles the single-thread batch loop (cProfile, top --top functions
by own time). The per-epoch seconds of the full corpus are extrapolated linearly in documents. Prints a report;
writes nothing into docs/. Run it under the shared lock:

    flock /tmp/tfsenti-bench.lock .venv/bin/python benchmarks/dvcosine_epoch.py --dims 100 500

Read it as ratios measured side by side: the machine's load moves the absolute seconds (the report prints it).
"cores busy" above 1 with one worker thread is NumPy's BLAS pool spinning on the other core; prefix the command
with OPENBLAS_NUM_THREADS=1 to see the workers alone.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from dvcosine_memory import add_corpus_arguments, cached_corpus  # benchmarks/ is on sys.path
from machine_info import machine


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_corpus_arguments(parser)
    parser.add_argument("--documents", type=int, default=16384, help="documents timed (the first ones of the corpus)")
    parser.add_argument("--dims", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per thread count and dim")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256],
                        help="documents per mini-batch, each timed side by side (the trainer's default: 256)")
    parser.add_argument("--top", type=int, default=12, help="functions listed in each profile (0: no profile)")
    args = parser.parse_args(argv)

    import numpy as np

    from tfsenti.embeddings.trainer import CosineEmbeddingTrainer, EmbeddingSettings

    corpus = cached_corpus(args)
    presence = corpus[:args.documents]
    scale = corpus.shape[0] / presence.shape[0]
    print(f"Machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}")
    print(f"Corpus: {corpus.shape[0]} documents x {corpus.shape[1]} n-grams, {corpus.nnz} pairs; timed: the first "
          f"{presence.shape[0]} documents ({presence.nnz} pairs); seconds per full epoch = timed x {scale:.2f}")

    def trainer(dim: int, threads: int, batch_size: int = 256) -> CosineEmbeddingTrainer:
        fresh = CosineEmbeddingTrainer(EmbeddingSettings(dim=dim, epochs=0, threads=threads, init="random",
                                                         batch_size=batch_size))
        return fresh.fit(presence, progress=False)  # 0 epochs: tables and noise set up, nothing trained

    for dim in args.dims:
        for _ in range(args.repeats):
            for batch_size in args.batch_sizes:
                for threads in (1, 2):
                    model = trainer(dim, threads, batch_size)
                    cpu, wall = time.process_time(), time.perf_counter()
                    report = model._epoch(presence, 0, False)  # one epoch alone: `fit` would add the set-up
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    print(f"dim {dim}, batch {batch_size}, {threads} thread(s): {wall:.1f} s wall, {cpu:.1f} s CPU "
                          f"({cpu / wall:.2f} cores busy); full epoch ~{wall * scale:.0f} s; loss {report.loss:.4f}")
        if args.top <= 0:
            continue
        # the batch loop of `_epoch`, run here in the main thread: cProfile does not see the worker threads
        model = trainer(dim, 1)
        rng = np.random.default_rng(1)
        order = rng.permutation(presence.shape[0])
        profile = cProfile.Profile()
        profile.enable()
        for start in range(0, len(order), model.settings.batch_size):
            model._batch(presence, order[start:start + model.settings.batch_size], rng)
        profile.disable()
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(args.top)
        print(f"\nProfile, dim {dim}, the batch loop in one thread (own time first):")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip()
                        and not line.lstrip().startswith(("Ordered by", "List reduced"))))


if __name__ == "__main__":
    main()
