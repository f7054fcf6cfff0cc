"""Validation-only tuning of the `nbbon` recipe: analyze train once, then try min_df, alpha, interpolation and C.

Carves the validation split from train exactly as the recipe's configs do (`validation_fraction`, `train.seed`),
never loads the test split, and reuses the recipe's own training path (`NBBONModel.train`, warm-started over C) for
every setting. Prints one JSON line per setting and writes a markdown table (default docs/nbbon_tuning.md).

Example:
    python benchmarks/nbbon_tune.py --data nsmc --min-df 1 2 3 --alpha 0.5 1 --C 0.2 0.3 0.5
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, choices=["imdb", "nsmc", "amazon"])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--min-df", type=int, nargs="+", default=[2])
    parser.add_argument("--alpha", type=float, nargs="+", default=[1.0])
    parser.add_argument("--interpolation", type=float, nargs="+", default=[-1.0], help="-1 = off")
    parser.add_argument("--C", type=float, nargs="+", default=[1.0])
    parser.add_argument("--tol", type=float, nargs="+", default=[1e-5])
    parser.add_argument("--out", default=str(REPO / "docs" / "nbbon_tuning.md"))
    args = parser.parse_args()

    import numpy as np

    from tfsenti.config import build_config
    from tfsenti.data.loading import load_dataset
    from tfsenti.recipes.nbbon import NBBONModel
    from tfsenti.text.ngrams import NgramAnalyzer
    from tfsenti.text.vectorize import binary_matrix

    config = build_config("nbbon", args.data, config_file=REPO / "configs" / args.data / "nbbon.yaml")
    train = load_dataset(args.data, data_dir=args.data_dir, splits=("train",), progress=False)["train"]
    part, validation = train.split_validation(config.data.validation_fraction, seed=config.train.seed)
    started = time.perf_counter()
    matrix, _ = binary_matrix(list(part.texts) + list(validation.texts),
                              NgramAnalyzer(config.params.analyzer_config()), n_jobs=1)
    print(json.dumps({"analyze_seconds": time.perf_counter() - started, "shape": matrix.shape}), flush=True)
    n, y_val = len(part), np.asarray(validation.labels)
    rows = []
    for min_df in args.min_df:
        for alpha in args.alpha:
            for beta in args.interpolation:
                for tol in args.tol:
                    params = dataclasses.replace(config.params, min_df=min_df, alpha=alpha, tol=tol,
                                                 interpolation=None if beta < 0 else beta)
                    started = time.perf_counter()
                    fitted = NBBONModel.train(matrix[:n], np.asarray(part.labels), train.num_classes, params,
                                           sorted(args.C))
                    seconds = time.perf_counter() - started
                    for c, model in fitted:
                        proba = model.predict_proba(model.select(matrix[n:]))
                        row = dict(min_df=min_df, alpha=alpha, interpolation=params.interpolation, tol=tol, C=c,
                                   features=len(model.columns), validation_accuracy=float(
                                       (proba.argmax(axis=1) == y_val).mean()), seconds_all_C=seconds)
                        print(json.dumps(row), flush=True)
                        rows.append(row)
                    # after every setting, so that an interrupted search keeps what it measured
                    write(Path(args.out), args.data, config.params, len(part), len(validation), rows,
                          " ".join(sys.argv))


def write(out: Path, data: str, params, n_train: int, n_validation: int, rows: list[dict], command: str) -> None:
    marker, end = f"<!-- section:nbbon-tune-{data} -->", f"<!-- /section:nbbon-tune-{data} -->"
    best = max(row["validation_accuracy"] for row in rows)
    lines = [marker, f"## {data}: validation accuracy (train {n_train}, validation {n_validation}; test not read)", "",
             f"Date: {datetime.date.today().isoformat()}  ", f"Command: `{command}`  ",
             f"Analyzer: word={params.word_ngrams} char={params.char_ngrams}", "",
             "| min_df | alpha | interpolation | tol | C | features | validation accuracy |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        mark = " **(best)**" if row["validation_accuracy"] == best else ""
        lines.append(f"| {row['min_df']} | {row['alpha']:g} | {row['interpolation']} | {row['tol']:g} | {row['C']:g} "
                     f"| {row['features']:,} | {100 * row['validation_accuracy']:.2f}%{mark} |")
    section = "\n".join(lines + [end])
    text = out.read_text(encoding="utf-8") if out.is_file() else (
        "# NB-BON tuning on validation splits\n\nWritten by `benchmarks/nbbon_tune.py`; one section per dataset.\n")
    if marker in text:
        text = text[:text.index(marker)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
