"""5-class star ratings (1-5) of real Amazon reviews through the user-data path: build a fixed split, train recipes.

The data is every review with a star rating in ../shared/datasets/amazon_reviews (McAuley 2018 5-core, five
categories; McAuley 2014 Cell Phones, the complete records of the truncated file; Amazon Fine Food Reviews, the
first 5,003 rows): text = summary + review text (joined with a newline, as `--text-column summary --text-column
reviewText` would), label = stars. Exact duplicate texts are dropped (the 2018 files repeat a review under each variant
ASIN; see that folder's PROVENANCE.md), then a seeded, stratified 80/20 split is written as JSON Lines:
`benchmarks/out/amazon_stars/{train,test}.jsonl.gz`. Each recipe trains on train.jsonl.gz through the CLI, exactly as a
user would (`train --data train.jsonl.gz --test test.jsonl.gz --label-column stars`; validation is carved from
train; the test file is read once), and the run's metrics, time and peak memory go into the record
results/amazon_stars.json (tfsenti.reporting.records), from which docs/RESULTS.md is rendered.

Usage:
    .venv/bin/python benchmarks/amazon_stars.py --recipes nbbon tfhub bert [--data-dir ../shared/datasets]
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from harness import machine

from tfsenti.data import BadRows, TextDataset
from tfsenti.data.user_files import UserDataOptions, carve_split, read_user_file

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "results" / "amazon_stars.json"
SEED = 1234
TEST_FRACTION = 0.2
RECIPES = {  # the command-line flags of each recipe's run (beyond data, test and columns)
    "nbbon": [],
    "tfhub": ["--pretrained", "train-text"],
    "bert": ["--pretrained", "minilm", "--set", "params.sequence_length=128"],
}
SOURCES = (  # (glob under amazon_reviews/, text columns, label column)
    ("mcauley2018_5core/*_5.json.gz", ("summary", "reviewText"), "overall"),
    ("amazon_fine_foods_partial/Reviews.csv", ("Summary", "Text"), "Score"),
)
CELL_PHONES = "mcauley2014_5core_partial/Cell_Phones_and_Accessories_5.json"


def collect(root: Path) -> tuple[list[str], list[str], Counter]:
    """Texts, star labels ("1".."5") and rows per source file, duplicates of an earlier text dropped."""
    texts, labels, per_source, seen = [], [], Counter(), set()

    def add(text: str, label: str, source: str) -> None:
        key = re.sub(r"\s+", " ", text.strip().lower())
        if text.strip() and label in {"1", "2", "3", "4", "5"} and key not in seen:
            seen.add(key)
            texts.append(text)
            labels.append(label)
            per_source[source] += 1

    for pattern, text_columns, label_column in SOURCES:
        for path in sorted(root.glob(pattern)):
            options = UserDataOptions(text_columns=text_columns, label_column=label_column)
            for record in read_user_file(path, options, bad_rows=BadRows()):
                add(record.text, record.label, path.name)
    # The 2014 Cell Phones file is a JSON array cut mid-record (PROVENANCE.md): one object per line after
    # stripping the leading '[' and each trailing ','; the last, incomplete line fails to parse and is dropped.
    path = root / CELL_PHONES
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line.lstrip("[").rstrip().rstrip(","))
            except json.JSONDecodeError:
                continue
            parts = [str(row.get("summary") or "").strip(), str(row.get("reviewText") or "").strip()]
            add("\n".join(part for part in parts if part), str(int(row.get("overall", 0))), path.name)
    return texts, labels, per_source


def write_split(texts: list[str], labels: list[str], out: Path) -> dict[str, dict[str, int]]:
    """Seeded, stratified 80/20 split into train.jsonl.gz and test.jsonl.gz; returns the class counts of each."""
    names = ("1", "2", "3", "4", "5")
    dataset = TextDataset(texts, [names.index(label) for label in labels], class_names=names)
    train, test = carve_split(dataset, TEST_FRACTION, seed=SEED, name="test", source="amazon_reviews")
    out.mkdir(parents=True, exist_ok=True)
    for name, split in (("train", train), ("test", test)):
        with gzip.open(out / f"{name}.jsonl.gz", "wt", encoding="utf-8") as handle:
            for text, label in zip(split.texts, split.labels):
                handle.write(json.dumps({"text": text, "stars": int(names[label])}, ensure_ascii=False) + "\n")
    return {"train": train.label_counts(), "test": test.label_counts()}


def run_recipe(recipe: str, out: Path, extra: list[str]) -> dict:
    """Train one recipe through the CLI in a child process; its metrics, wall time and peak RSS."""
    data = [f"benchmarks/out/amazon_stars/{name}.jsonl.gz" for name in ("train", "test")]
    command = ["cli.py", "train", "--model", recipe, "--data", data[0], "--test", data[1], "--text-column", "text",
               "--label-column", "stars", "--name", f"amazon-stars-{recipe}", "--runs-dir", "benchmarks/out/runs",
               "--models-dir", "benchmarks/out/saved_models", *extra]
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode:
        raise SystemExit(f"{recipe} failed:\n{completed.stderr[-4000:]}")
    run_dir = REPO / re.search(r"^run: (.+)$", completed.stdout, re.M).group(1)
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    config = (run_dir / "config.yaml").read_text(encoding="utf-8")
    return {
        "recipe": recipe,
        "command": "python " + " ".join(command),
        "test": {key: metrics["test"][key] for key in ("accuracy", "macro_f1", "roc_auc", "n")},
        "validation": {key: metrics["validation"][key] for key in ("accuracy", "macro_f1", "n")},
        "sizes": metrics["sizes"],
        "train_seconds": round(metrics["train_seconds"], 1),
        "wall_seconds": round(seconds, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, 2),
        "config": config,
    }


def publish_record(record: dict) -> None:
    """Write results/amazon_stars.json in the tfsenti.reporting schema (one row per recipe) and render
    docs/RESULTS.md again from results/."""
    from results_md import publish

    from tfsenti.reporting.records import Protocol, Record, clean_machine

    counts = record["classes"]
    train, test = (sum(counts[split].values()) for split in ("train", "test"))
    publish(Record(
        name="5-class Amazon star ratings, your own data", what=record["what"], recipe="user-data",
        dataset="amazon-stars", date=record["date"], machine=clean_machine(record["machine"]),
        command=record["command"], commit=record["commit"], data=f"{record['data']}; {record['split']}",
        protocol=Protocol("inductive", f"{train:,} (train split, 10% of it carved for validation)", f"full ({test:,})"),
        metrics={"majority_accuracy": record["majority_accuracy"]}, time={}, memory={},
        weights="per recipe: see each run's command",
        notes=f"Always answering the majority class (5 stars) scores {record['majority_accuracy']:.2%} on test; "
              "macro-F1 weighs the five classes equally. Classes (train / test): " +
              ", ".join(f"{name} stars {counts['train'][name]} / {counts['test'][name]}" for name in counts["train"]) +
              ". Peak RSS is the largest child process so far in the script's run (each recipe runs in its own "
              "process, in the order listed). Settings: each recipe's defaults for English text of your own "
              "(configs/text-en/<recipe>.yaml) plus the flags in its command.",
        rows=tuple({"recipe": run["recipe"], "test accuracy": run["test"]["accuracy"],
                    "test macro-F1": run["test"]["macro_f1"], "validation accuracy": run["validation"]["accuracy"],
                    "train min": round(run["train_seconds"] / 60, 1), "peak RSS GiB": run["peak_rss_gib"],
                    "command": f"`{run['command']}`"} for run in record["runs"])), RECORD)

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "datasets"),
                        help="folder holding amazon_reviews/ [default: ../shared/datasets]")
    args = parser.parse_args()
    root = Path(args.data_dir) / "amazon_reviews"
    if not root.is_dir():
        raise SystemExit(f"{root} does not exist: pass --data-dir FOLDER holding amazon_reviews/")
    texts, labels, per_source = collect(root)
    out = REPO / "benchmarks" / "out" / "amazon_stars"
    classes = write_split(texts, labels, out)
    test_counts = np.array(list(classes["test"].values()))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    record = {
        "what": "5-class star rating accuracy on real Amazon reviews, through the user-data path",
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "machine": machine(),
        "command": "python benchmarks/amazon_stars.py --recipes " + " ".join(args.recipes),
        "data": f"{len(texts)} distinct reviews from ../shared/datasets/amazon_reviews (" +
                ", ".join(f"{name} {count}" for name, count in sorted(per_source.items())) + ")",
        "split": f"seeded (seed {SEED}), stratified {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} train/test, written "
                 "by the script as JSON Lines; validation 10% carved from train by tfsenti; test read once",
        "classes": classes,
        "majority_accuracy": float(test_counts.max() / test_counts.sum()),
        "runs": [],
    }
    for recipe in args.recipes:
        print(f"training {recipe} ...", flush=True)
        record["runs"].append(run_recipe(recipe, out, RECIPES[recipe]))
        run = record["runs"][-1]
        print(f"  {recipe}: test accuracy {run['test']['accuracy']:.4f}, macro-F1 {run['test']['macro_f1']:.4f}, "
              f"{run['train_seconds']:.0f} s", flush=True)
    publish_record(record)
    print(f"wrote {RECORD.relative_to(REPO)} and rendered docs/RESULTS.md again")


if __name__ == "__main__":
    main()
