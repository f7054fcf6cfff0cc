"""Benchmark: tfsenti `nbbon` vs a scikit-learn NBSVM peer on IMDB, NSMC and the Amazon polarity subset.

Each side runs in its own subprocess (so peak memories do not mix): load the splits with `tfsenti.data.load_dataset`,
train, predict the test split once, and report accuracy, train seconds, predict seconds and peak RSS
(`ru_maxrss` of the process, plus that of its worker processes). Hyper-parameters come from
`configs/<data>/nbbon.yaml` (chosen on validation splits with `benchmarks/nbbon_tune.py`); a non-empty `C_grid` is
tuned on a validation split carved from train (seeded) and the model trained on the rest is kept (no refit unless the
config asks). tfsenti runs single-process here (`n_jobs=1`), like the peer. The results go to docs/RESULTS.md,
section `nbbon`, with tfsenti/peer ratios and a verdict per target.

Example:
    python benchmarks/nbbon_vs_sklearn.py --data-dir ../shared/datasets --datasets imdb nsmc amazon
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from harness import machine
from results_md import write_section

SECTION, TITLE = "nbbon", "## NB-BON"
ACCURACY_TARGETS = {"imdb": 0.918, "nsmc": 0.875}


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _load(name: str, data_dir: str):
    from tfsenti.data.loading import load_dataset

    data = load_dataset(name, data_dir=data_dir, splits=("train", "test"), progress=False)
    return data["train"], data["test"]


def run_tfsenti(name: str, data_dir: str) -> dict:
    from tfsenti.config import build_config
    from tfsenti.recipes.nbbon import NBBONRecipe

    config = build_config("nbbon", name, config_file=REPO / "configs" / name / "nbbon.yaml")
    config = dataclasses.replace(config, params=dataclasses.replace(config.params, n_jobs=1))
    train, test = _load(name, data_dir)
    extra: dict = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    if config.params.C_grid:
        part, validation = train.split_validation(config.data.validation_fraction, seed=config.train.seed)
        recipe = NBBONRecipe(config, num_classes=train.num_classes)
        metrics = recipe.fit(part, validation)
        extra = {"C": metrics["C"], "validation_accuracy": metrics["validation_accuracy"]}
    else:
        recipe = NBBONRecipe(config, num_classes=train.num_classes)
        metrics = recipe.fit(train)
        extra = {"C": metrics["C"]}
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    proba = recipe.predict_proba(test.texts)
    predict_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started  # train + predict, all threads of the process
    accuracy = float((proba.argmax(axis=1) == test.labels).mean())
    extra["num_features"] = int(metrics["num_features"])
    params = config.params
    extra["settings"] = (f"word={params.word_ngrams} char={params.char_ngrams} min_df={params.min_df} "
                         f"alpha={params.alpha:g} beta={params.interpolation} C={metrics['C']:g}"
                         + (f" (of {list(params.C_grid)} on validation, trained on {len(train) - len(validation)} "
                            f"rows{', refit on all' if params.refit_on_validation else ''})"
                            if params.C_grid else f" (fixed), trained on all {len(train)} rows"))
    return dict(accuracy=accuracy, train_seconds=train_seconds, predict_seconds=predict_seconds,
                cpu_seconds=cpu_seconds, **extra)


def run_sklearn(name: str, data_dir: str) -> dict:
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    train, test = _load(name, data_dir)
    if name == "nsmc":
        vectorizer = CountVectorizer(binary=True, analyzer="char", ngram_range=(1, 3))
    else:
        vectorizer = CountVectorizer(binary=True, ngram_range=(1, 3))
    started, cpu_started = time.perf_counter(), time.process_time()
    x = vectorizer.fit_transform(train.texts)
    y = train.labels
    p = 1.0 + np.asarray(x[y == 1].sum(axis=0)).ravel()
    q = 1.0 + np.asarray(x[y != 1].sum(axis=0)).ravel()
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    model = LogisticRegression(C=1.0, solver="liblinear", max_iter=1000)
    model.fit(x.multiply(r).tocsr(), y)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = model.predict(vectorizer.transform(test.texts).multiply(r).tocsr())
    predict_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started  # train + predict, all threads of the process
    return dict(accuracy=float((predicted == test.labels).mean()), train_seconds=train_seconds,
                predict_seconds=predict_seconds, cpu_seconds=cpu_seconds, num_features=int(x.shape[1]),
                settings=f"CountVectorizer(binary, {'char' if name == 'nsmc' else 'word'} 1-3), NB r, "
                         "LogisticRegression(C=1, liblinear)")


def worker(side: str, name: str, data_dir: str) -> None:
    import os

    load_before = os.getloadavg()[0]
    result = (run_tfsenti if side == "tfsenti" else run_sklearn)(name, data_dir)
    own, children = _peak_mb()
    result.update(peak_mb=own, workers_peak_mb=children, load=(load_before, os.getloadavg()[0]))
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--datasets", nargs="+", default=["imdb", "nsmc", "amazon"])
    parser.add_argument("--out", default=str(REPO / "docs" / "RESULTS.md"))
    parser.add_argument("--note", default="", help="free text added under the table (e.g. the machine's load)")
    parser.add_argument("--worker", nargs=2, metavar=("SIDE", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.data_dir)
        return

    rows = []
    for name in args.datasets:
        for side in ("tfsenti", "sklearn"):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, __file__, "--data-dir", args.data_dir, "--worker", side, name],
                                  capture_output=True, text=True, cwd=REPO)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode or not lines:
                print(done.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{side} on {name} failed (exit {done.returncode})")
            result = json.loads(lines[-1][len("RESULT "):])
            result.update(dataset=name, side=side, wall_seconds=time.perf_counter() - started)
            print(json.dumps(result), flush=True)
            rows.append(result)
    write_results(rows, Path(args.out), " ".join(sys.argv), args.note)


def write_results(rows: list[dict], out: Path, command: str, note: str = "") -> None:
    table = [
        "| dataset | side | test accuracy | train s | predict s | train+predict s | peak RSS MB (main / workers) "
        "| CPU s (train+predict) | load avg (start / end) | features | settings |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        load = row.get("load", (float("nan"), float("nan")))
        table.append(
            f"| {row['dataset']} | {row['side']} | {row['accuracy']:.4f} | {row['train_seconds']:.1f} "
            f"| {row['predict_seconds']:.1f} | {row['train_seconds'] + row['predict_seconds']:.1f} "
            f"| {row['peak_mb']:.0f} / {row['workers_peak_mb']:.0f} | {row.get('cpu_seconds', float('nan')):.1f} "
            f"| {load[0]:.1f} / {load[1]:.1f} "
            f"| {row['num_features']:,} | {row['settings']} |")
    verdicts = ["| dataset | accuracy tfsenti (target) | wall time tfsenti / peer | CPU time tfsenti / peer "
                "| peak RSS tfsenti / peer (main) | all met (accuracy, wall time, memory) |",
                "|---|---|---|---|---|---|"]
    for name in dict.fromkeys(row["dataset"] for row in rows):
        sides = {row["side"]: row for row in rows if row["dataset"] == name}
        if set(sides) != {"tfsenti", "sklearn"}:
            continue
        ours, peer = sides["tfsenti"], sides["sklearn"]
        target = ACCURACY_TARGETS.get(name)
        time_ratio = ((ours["train_seconds"] + ours["predict_seconds"])
                      / (peer["train_seconds"] + peer["predict_seconds"]))
        memory_ratio = ours["peak_mb"] / peer["peak_mb"]
        cpu_ratio = ours.get("cpu_seconds", float("nan")) / peer.get("cpu_seconds", float("nan"))
        accuracy_met = target is None or ours["accuracy"] >= target
        met = accuracy_met and time_ratio <= 1.0 and memory_ratio <= 1.0
        target_text = f">= {100 * target:.1f}%" if target else "none"
        verdicts.append(
            f"| {name} | {100 * ours['accuracy']:.2f}% ({target_text}"
            f"{'' if accuracy_met else ', **missed**'}) | {time_ratio:.2f} | {cpu_ratio:.2f} | {memory_ratio:.2f} "
            f"| {'yes' if met else '**no**'} |")
    section = "\n".join([
        TITLE, "",
        f"Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Command: `{command}`  ",
        f"Machine: {machine()}", "",
        "Each side ran in its own subprocess, one after the other (tfsenti first), single-process; data loading is "
        "excluded from the timings but included in the peak RSS. tfsenti tunes C on a validation split carved "
        "from train only where its config has a `C_grid` (then keeps the model trained on the rest); the other "
        "settings were chosen on validation splits (`benchmarks/nbbon_tune.py`, docs/nbbon_tuning.md). The test "
        "split is read once. The machine is shared with other jobs: absolute seconds move with its load (column "
        "`load avg`), so compare the two sides of one dataset as ratios; the CPU seconds (process time of train + "
        "predict) depend much less on the load than the wall seconds do:", "",
        *verdicts, "",
        *table, "",
        *([note, ""] if note else []),
    ])
    write_section(SECTION, section, path=out)


if __name__ == "__main__":
    main()
