"""Peak memory of the dv-cosine stages that grow with the embedding size: the SVD warm start and the inference of
document vectors, on the real IMDB embedding corpus, at several dimensions.

The corpus is the one `python cli.py train --model dvcosine --data imdb` embeds (train minus validation + the 50k
`unsup` reviews, word 1-3-grams in >= `min_count` documents, configs/imdb/dvcosine.yaml). Each measurement runs in
its own fresh process that loads the presence matrix, then samples its RSS every 0.05 s (psutil) while one stage
runs; the table gives the stage's peak above the RSS it started from:
- `svd`: `spectral_start` (the warm start of the embedding trainer) at that dimension;
- `inference`: the inference module (n-gram vectors as a TensorFlow variable) plus the vectors of `--documents`
  documents, once with batches of 2000 documents whatever their length (`max_pair_values=None`, the batching
  before pair budgets) and once with the default pair budget of `infer_csr`. Random unit n-gram vectors stand in
  for trained ones (memory and work depend on the shapes only).
Writes the `memory` block of the `dvcosine` section of docs/RESULTS.md. Run it under the shared lock:

    flock /tmp/tfsenti-bench.lock .venv/bin/python benchmarks/dvcosine_memory.py --dims 100 300 500 --write
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import tfsenti  # noqa: F401  (environment before TensorFlow)
from machine_info import machine  # benchmarks/ is on sys.path when run as a script
from shared_data import shared_data_dir

MODES = ("svd", "inference-2000-docs", "inference-pair-budget")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="default: ../shared/datasets/imdb when present")
    parser.add_argument("--dims", type=int, nargs="+", default=[100, 300, 500])
    parser.add_argument("--documents", type=int, default=6000, help="documents whose vectors are inferred")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--write", action="store_true", help="write the block into docs/RESULTS.md")
    parser.add_argument("--note", default="", help="a paragraph printed under the table")
    parser.add_argument("--worker", nargs=3, metavar=("MATRIX", "MODE", "DIM"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        matrix, mode, dim = args.worker
        print(json.dumps(measure(matrix, mode, int(dim), args.documents)))
        return
    command = "flock /tmp/tfsenti-bench.lock .venv/bin/python benchmarks/dvcosine_memory.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="dvcosine-memory-") as work:
        corpus = embedding_corpus(args.data_dir or shared_data_dir("imdb"), Path(work) / "presence.npz")
        print(json.dumps(corpus), flush=True)
        results = []
        for dim in args.dims:
            for mode in args.modes:
                completed = subprocess.run([sys.executable, __file__, "--documents", str(args.documents), "--worker",
                                            corpus["path"], mode, str(dim)], capture_output=True, text=True)
                if completed.returncode:
                    sys.exit(f"{mode} at dim {dim} failed:\n{completed.stderr[-3000:]}")
                results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
                print(json.dumps(results[-1]), flush=True)
    markdown = render(corpus, results, command, args.documents, args.note)
    print(markdown)
    if args.write:
        from dvcosine import HEADER, SECTION
        from results_md import RESULTS, write_block

        write_block(SECTION, "memory", markdown, header=HEADER, path=RESULTS, order=("imdb", "nsmc", "amazon"))


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """--data-dir and --cache: where `cached_corpus` finds IMDB and keeps the embedding corpus between runs."""
    parser.add_argument("--data-dir", default=None,
                        help="IMDB folder (default: ../shared/datasets/imdb when present, else cache or download)")
    parser.add_argument("--cache", default="/tmp/tfsenti-dvcosine-presence.npz",
                        help="where the presence matrix is kept between runs (built when missing; "
                             "delete it after changing configs/imdb/dvcosine.yaml)")


def cached_corpus(args: argparse.Namespace):
    """The IMDB embedding corpus (CSR, float32, sorted indices) from `args.cache`, built there first if missing."""
    import numpy as np
    import scipy.sparse as sp

    cache = Path(args.cache)
    if not cache.is_file():
        embedding_corpus(args.data_dir or shared_data_dir("imdb"), cache)
    corpus = sp.load_npz(cache).tocsr().astype(np.float32)
    corpus.sort_indices()
    return corpus


def embedding_corpus(data_dir: str, path: Path) -> dict:
    """The presence matrix (documents x n-grams) that the IMDB config embeds, saved to `path`."""
    import numpy as np
    import scipy.sparse as sp

    from tfsenti.config import build_config, default_config_path
    from tfsenti.pipeline import prepare_data
    from tfsenti.recipes.dvcosine import _frequent_columns
    from tfsenti.text.ngrams import NgramAnalyzer
    from tfsenti.text.vectorize import binary_matrix

    config = build_config("dvcosine", "imdb", config_file=default_config_path("dvcosine", "imdb", REPO / "configs"),
                          values={"data.data_dir": data_dir})
    params = config.params
    data = prepare_data(config, with_unlabeled=True, progress=False)
    texts = list(data.train.texts) + list(data.unlabeled.texts)
    matrix, _ = binary_matrix(texts, NgramAnalyzer(params.analyzer_config()), progress=None)
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    columns = _frequent_columns(df, params.min_count, params.max_vocabulary)  # the recipe's vocabulary rule
    presence = matrix[:, columns].tocsr()
    presence.sort_indices()
    sp.save_npz(path, presence, compressed=False)
    return {"path": str(path), "documents": presence.shape[0], "ngrams": presence.shape[1], "pairs": presence.nnz}


def measure(matrix_path: str, mode: str, dim: int, documents: int) -> dict:
    """Peak RSS above the stage's starting RSS while `mode` runs at `dim` on the saved presence matrix."""
    import numpy as np
    import psutil
    import scipy.sparse as sp
    import tensorflow as tf  # noqa: F401  (loaded before the baseline, as in a training run)

    from tfsenti.embeddings.inference import DocumentInference, infer_csr
    from tfsenti.embeddings.trainer import spectral_start

    presence = sp.load_npz(matrix_path).tocsr()
    rng = np.random.default_rng(0)
    ngram_vectors = None
    if mode != "svd":
        ngram_vectors = rng.standard_normal((presence.shape[1], dim), dtype=np.float32)
        ngram_vectors /= np.linalg.norm(ngram_vectors, axis=1, keepdims=True)
    process, peak, stop = psutil.Process(), [0], threading.Event()
    start_rss = process.memory_info().rss
    peak[0] = start_rss

    def sample():
        while not stop.wait(0.05):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    if mode == "svd":
        spectral_start(presence, dim, rng)
    else:
        document_frequency = np.bincount(presence.indices, minlength=presence.shape[1])
        module = DocumentInference(ngram_vectors, pair_weights=np.ones(presence.shape[1], np.float32),
                                   noise_counts=document_frequency, noise_size=256, steps=15)
        budget = {} if mode == "inference-pair-budget" else {"max_pair_values": None}
        infer_csr(module, presence[:documents], **budget)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    peak[0] = max(peak[0], process.memory_info().rss)
    return {"mode": mode, "dim": dim, "start_gib": start_rss / 2**30, "peak_gib": peak[0] / 2**30,
            "stage_peak_gib": (peak[0] - start_rss) / 2**30, "seconds": round(seconds, 1)}


def render(corpus: dict, results: list[dict], command: str, documents: int, note: str = "") -> str:
    lines = ["### memory: SVD warm start and vector inference by dimension (imdb)", "",
             f"Date: {datetime.date.today().isoformat()}  ", f"Command: `{command}`  ", f"Machine: {machine()}  ",
             f"Corpus: the IMDB embedding corpus of configs/imdb/dvcosine.yaml, {corpus['documents']:,} documents x "
             f"{corpus['ngrams']:,} n-grams, {corpus['pairs']:,} (document, n-gram) pairs. Inference: the vectors of "
             f"the first {documents:,} documents, 15 steps, 256 noise n-grams. Each cell runs in a fresh process; "
             "GiB above the RSS the stage started from (the loaded matrix, and for inference the n-gram vectors).",
             "", "| dim | SVD warm start: peak GiB (s) | inference, batches of 2000 documents: peak GiB (s) | "
             "inference, pair budget (default): peak GiB (s) |", "|---|---|---|---|"]
    by_cell = {(row["dim"], row["mode"]): row for row in results}
    for dim in sorted({row["dim"] for row in results}):
        cells = [f"{by_cell[dim, mode]['stage_peak_gib']:.2f} ({by_cell[dim, mode]['seconds']:.0f})"
                 if (dim, mode) in by_cell else "" for mode in MODES]
        lines.append(f"| {dim} | " + " | ".join(cells) + " |")
    if note:
        lines += ["", note]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
