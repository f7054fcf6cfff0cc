"""Peak memory of the UDA unlabeled pipeline on 1x and on 10x the real unlabeled data: it must stay flat.

The pipeline is the one the `uda` recipe runs: the Amazon training reviews (labels dropped) and the review files of
../shared/datasets/amazon_reviews streamed into a pool file, the TF-IDF augmented copy written once, then one full
pass of the tf.data stream of (original, augmented) batches. "10x" feeds every source ten times (the same records
again, through the same readers), so the work and the files grow tenfold while the vocabulary stays the same, which
isolates what grows with the amount of data. Each scale runs in its own fresh process; peak RSS is sampled every
0.1 s (psutil) and also read from getrusage. Target (issue: UDA in TF2): the 10x peak within 10% of the 1x peak.
Writes the `memory` block of the `uda` section of docs/RESULTS.md. Run it under the shared lock:

    .venv/bin/python -m benchmarks uda_memory --write
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
from harness import machine  # benchmarks/ is on sys.path when run as a script

SHARED = REPO.parent / "shared" / "datasets"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(SHARED), help="folder holding amazon_polarity/ and amazon_reviews/")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--batch-size", type=int, default=24, help="unlabeled texts per batch (the benchmark's 3 x 8)")
    parser.add_argument("--write", action="store_true", help="write the block into docs/RESULTS.md")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.data_dir, args.worker, args.batch_size)))
        return
    results = []
    for scale in args.scales:
        completed = subprocess.run([sys.executable, __file__, "--data-dir", args.data_dir, "--worker", str(scale),
                                    "--batch-size", str(args.batch_size)], capture_output=True, text=True)
        if completed.returncode:
            sys.exit(f"scale {scale} failed:\n{completed.stderr[-3000:]}")
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    markdown = render(results, ".venv/bin/python -m benchmarks uda_memory "
                      + shlex.join(sys.argv[1:] if argv is None else argv))
    print(markdown)
    if args.write:
        from results_md import write_block
        from uda import HEADER, SECTION

        write_block(SECTION, "memory", markdown, header=HEADER)


def measure(data_dir: str, scale: int, batch_size: int) -> dict:
    """Run the unlabeled pipeline once on `scale` copies of every source; peak RSS and sizes of each stage."""
    import resource

    import psutil

    from tfsenti.data import find_unlabeled_files
    from tfsenti.data.loading import load_dataset
    from tfsenti.uda.augment import TfIdfWordReplacement, augment_pool
    from tfsenti.uda.data import pool_records, unlabeled_pairs, write_pool

    process, peak, stop = psutil.Process(), [0], threading.Event()

    def sample():
        while not stop.wait(0.1):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    train = load_dataset("amazon", data_dir=str(Path(data_dir) / "amazon_polarity"), splits=("train",),
                         progress=False)["train"]
    files = find_unlabeled_files("amazon", data_dir)
    import tensorflow as tf  # noqa: F401  (loaded before the baseline, as in a training run)

    baseline = process.memory_info().rss
    sampler.start()
    stages, started = {}, time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="uda-memory-") as work:
        pool = write_pool(pool_records(datasets=[train] * scale, files=list(files) * scale), work)
        stages["pool_seconds"] = time.perf_counter() - started
        pairs = augment_pool(pool.path, TfIdfWordReplacement(0.3, seed=0), work, progress=False)
        stages["augment_seconds"] = time.perf_counter() - started - stages["pool_seconds"]
        batches = 0
        for _ in unlabeled_pairs(pairs.original, pairs.augmented, batch_size=batch_size, seed=0).take(
                pairs.count // batch_size):
            batches += 1
        stages["stream_seconds"] = time.perf_counter() - started - stages["pool_seconds"] - stages["augment_seconds"]
        pool_bytes = pool.path.stat().st_size + Path(pairs.original).stat().st_size + \
            Path(pairs.augmented).stat().st_size
    stop.set()
    sampler.join()
    peak[0] = max(peak[0], process.memory_info().rss)
    return {"scale": scale, "texts": pool.count, "augmented_pairs": pairs.count, "batches": batches,
            "files_mib": pool_bytes / 2**20, "review_files": len(files), "baseline_gib": baseline / 2**30,
            "peak_gib": peak[0] / 2**30, "ru_maxrss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            **{key: round(value, 1) for key, value in stages.items()}}


def render(results: list[dict], command: str) -> str:
    lines = ["### memory: the unlabeled pipeline on 1x and 10x the data", "",
             f"Date: {datetime.date.today().isoformat()}  ", f"Command: `{command}`  ", f"Machine: {machine()}  ",
             "Pipeline: Amazon polarity training reviews (labels dropped) + the review files of "
             "../shared/datasets/amazon_reviews -> pool file -> TF-IDF augmented copy (written once) -> one full pass "
             "of the tf.data stream of (original, augmented) batches; each scale in a fresh process. Nx = every "
             "source fed N times.", "",
             "| scale | texts | pool + copies on disk (MiB) | baseline RSS GiB (after imports) | peak RSS GiB | "
             "ru_maxrss GiB | pool s | augment s | stream s |", "|---|---|---|---|---|---|---|---|---|"]
    for row in results:
        lines.append(f"| {row['scale']}x | {row['texts']:,} | {row['files_mib']:.0f} | {row['baseline_gib']:.2f} | "
                     f"{row['peak_gib']:.2f} | {row['ru_maxrss_gib']:.2f} | {row['pool_seconds']:.0f} | "
                     f"{row['augment_seconds']:.0f} | {row['stream_seconds']:.0f} |")
    by_scale = {row["scale"]: row for row in results}
    if 1 in by_scale and 10 in by_scale:
        ratio = by_scale[10]["peak_gib"] / by_scale[1]["peak_gib"]
        lines += ["", f"Peak RSS 10x / 1x: {ratio:.3f} (target <= 1.10: {'met' if ratio <= 1.10 else '**missed**'})."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
