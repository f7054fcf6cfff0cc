"""`python cli.py predict MODEL --file F --json` at two input sizes: peak memory, time to the first answer, texts/s.

Input files hold real reviews (NSMC by default, IMDB with `--data imdb`) from `--data-dir` (default
../shared/datasets), one per line (line breaks inside a review become spaces), cycled to reach each size. The model
is `--model PATH` (an export), or else an NB-BON trained here with `tfsenti.pipeline.train` on `--limit-train`
reviews. Each size runs the CLI in a fresh subprocess whose standard output the benchmark reads (and discards) line
by line; it records:
- `first_answer_s`: from the start of the process to its first output line (includes Python, TensorFlow and model
  loading);
- `wall_s` and `texts_per_s` (all texts over the whole wall time), `steady_texts_per_s` (after the first answer);
- `peak_rss_mb`: the child's maximum resident set size (`os.wait4` rusage, exact), and `rss_at_first_answer_mb`
  (psutil, as the first line arrives): the difference is what the streaming itself used.

Writes the record results/predict_streaming.json (tfsenti.reporting.records) and renders docs/RESULTS.md again. The
published run:

    .venv/bin/python -m benchmarks predict_streaming --sizes 20000 200000

A quick check that it works (writes elsewhere): add `--sizes 200 2000 --output benchmarks/out/p.json --results-md benchmarks/out/R.md`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tfsenti  # noqa: F401  (environment before TensorFlow)
from harness import FOLDERS, SHARED_DATASETS, command, machine  # benchmarks/ is on sys.path as a script

REPO = Path(__file__).resolve().parents[1]

RESULT_FILE = REPO / "results" / "predict_streaming.json"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="nsmc", choices=("nsmc", "imdb"), help="where the review texts come from")
    parser.add_argument("--data-dir", default=str(SHARED_DATASETS), help="folder holding imdb/ and nsmc/")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000], help="lines per input file")
    parser.add_argument("--model", help="an export to use [default: train a small NB-BON here]")
    parser.add_argument("--limit-train", type=int, default=5000, help="reviews the NB-BON trains on (no --model)")
    parser.add_argument("--batch-size", type=int, default=256, help="passed to `predict --batch-size`")
    parser.add_argument("--output", default=str(RESULT_FILE), help="the JSON record [default: %(default)s]")
    parser.add_argument("--results-md", default=None, help="the Markdown file [default: docs/RESULTS.md]")
    args = parser.parse_args(argv)
    command_line = command("predict_streaming", sys.argv[1:] if argv is None else argv)

    with tempfile.TemporaryDirectory(prefix="predict-streaming-") as work:
        work = Path(work)
        data_dir = Path(args.data_dir) / FOLDERS[args.data]
        texts = review_texts(args.data, data_dir)
        print(f"{len(texts)} {args.data} reviews from {data_dir}", flush=True)
        model, model_note = args.model, f"given: {shown_path(args.model or '')}"
        if model is None:
            model = str(train_small_model(args.data, data_dir, args.limit_train, work))
            model_note = (f"nbbon trained here on {args.limit_train} {args.data} reviews "
                          f"(configs/{args.data}/nbbon.yaml)")
        runs = []
        for size in args.sizes:
            path = write_input(texts, size, work / f"input-{size}.txt")
            runs.append(measure(model, path, size, args.batch_size))
            print(json.dumps(runs[-1]), flush=True)

    publish_record(args, command_line, data_dir, len(texts), model_note, runs)


def review_texts(data: str, data_dir: Path) -> list[str]:
    """Every review of `data` (test split first, then train), each on one line."""
    from tfsenti.data import load_dataset

    splits = load_dataset(data, data_dir=data_dir, splits=("test", "train"), progress=False)
    return [" ".join(text.split()) for split in ("test", "train") for text in splits[split].texts]


def train_small_model(data: str, data_dir: Path, limit_train: int, work: Path) -> Path:
    from tfsenti.config import build_config
    from tfsenti.pipeline import train

    config = build_config("nbbon", data, values={"data.data_dir": str(data_dir), "data.limit_train": limit_train,
                                                 "data.limit_test": 1000})
    result = train(config, runs_root=work / "runs", models_root=work / "saved_models", progress=False)
    return result.model_dir


def write_input(texts: list[str], size: int, path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(size):
            handle.write(texts[index % len(texts)] + "\n")
    return path


def measure(model: str, path: Path, size: int, batch_size: int) -> dict:
    """Run the CLI on `path`; read its output line by line; time and memory as described in the module doc."""
    import psutil

    command = [sys.executable, str(REPO / "cli.py"), "predict", model, "--file", str(path), "--json",
               "--batch-size", str(batch_size), "--no-progress"]
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=errors)
        first_answer = rss_at_first = None
        lines = 0
        for _ in child.stdout:
            if first_answer is None:
                first_answer = time.perf_counter() - started
                rss_at_first = psutil.Process(child.pid).memory_info().rss
            lines += 1
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode or lines != size:
            errors.seek(0)
            sys.exit(f"predict on {size} lines gave {lines} answers, exit code {child.returncode}:\n"
                     f"{errors.read().decode(errors='replace')[-3000:]}")
    return {
        "lines": size,
        "input_mb": round(path.stat().st_size / 2**20, 2),
        "first_answer_s": round(first_answer, 2),
        "wall_s": round(wall, 2),
        "texts_per_s": round(size / wall),
        "steady_texts_per_s": round(size / max(wall - first_answer, 1e-9)),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux: kilobytes
        "rss_at_first_answer_mb": round(rss_at_first / 2**20),
    }


def shown_path(path: str | Path) -> str:
    """`path` relative to the repository (as `../shared/datasets/nsmc`), so records carry no machine's absolute
    paths."""
    return os.path.relpath(Path(path).resolve(), REPO) if str(path) else ""


def git_commit() -> str:
    def git(*arguments: str) -> str:
        return subprocess.run(["git", *arguments], cwd=REPO, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "HEAD")
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def publish_record(args, command: str, data_dir: Path, reviews: int, model_note: str, runs: list[dict]) -> None:
    """Write the record (tfsenti.reporting schema; headline: the largest size) and render docs/RESULTS.md again."""
    from results_md import publish

    from tfsenti.reporting.records import Protocol, Record, clean_machine

    largest = max(runs, key=lambda run: run["lines"])
    record = Record(
        name="predict --file --json, streaming",
        what="python cli.py predict MODEL --file F --json, output read line by line and discarded",
        recipe="predict", dataset=args.data,
        date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        machine=clean_machine(machine()),  # CPU flags included
        command=command, commit=git_commit(),
        data=f"{reviews} {args.data} reviews from {shown_path(data_dir)}, one per line, cycled to reach each size",
        protocol=Protocol("n/a", "n/a (prediction only)", "n/a"),
        metrics={"texts_per_s": largest["texts_per_s"], "steady_texts_per_s": largest["steady_texts_per_s"]},
        time={"first_answer_s": largest["first_answer_s"], "wall_s": largest["wall_s"]},
        memory={"peak_rss_mb": largest["peak_rss_mb"], "rss_at_first_answer_mb": largest["rss_at_first_answer_mb"]},
        weights=f"model: {model_note}",
        notes=f"Batch size {args.batch_size}. The first answer includes starting Python, TensorFlow and loading the "
              "model; peak RSS is the whole process's maximum (rusage). Headline: the largest input.",
        rows=tuple(runs))
    publish(record, args.output, results_md=args.results_md)
    print(f"wrote {shown_path(args.output)}")


if __name__ == "__main__":
    main()
