"""TF-Hub: a text-embedding module (`hub.KerasLayer`) under a small dense head, the TensorFlow tutorial's system.

The tutorial (text classification with TF Hub): `hub.KerasLayer("google/nnlm-en-dim50/2", trainable=True)`,
Dense(16, relu), Dense(1), Adam, 10 epochs, batch 512. tfsenti keeps that head and protocol (configs/<data>/tfhub.yaml)
but validates on the split carved from train and keeps the weights of the best validation epoch (early stopping).
More than two classes get a Dense(C) softmax output instead of Dense(1).

`train.pretrained` (`--pretrained`) chooses the module: a TF-Hub handle or short name (default nnlm-en-dim50/2; see
`tfsenti.hub.handles.KNOWN_HANDLES`), a local module folder (e.g. from `python cli.py hub build`), a BERT-family
checkpoint folder or a GloVe/word2vec text file (a module is built from it once, into the hub cache), or `train-text`:
word vectors learned from the training text itself (PPMI-SVD, plus the unlabeled split when the dataset has one),
made into an nnlm-style module; this needs no download at all.

`params.trainable` fine-tunes the module's weights or freezes them. Frozen, the module's output never changes, so by
default (`params.cache_embeddings`) every text is embedded once and the head trains on those vectors: the same
computation as running the module in every step (a test checks the weights agree), many times faster for BERT-sized
modules. `params.embedding_cache_dir` keeps those embeddings on disk, so interrupted or repeated runs resume.

Fine-tuning a BERT module (`params.trainable` with a module from `hub build` or a checkpoint folder) first runs the
memory guard every transformer recipe shares (`tfsenti.bert.memory.guard_training_memory`): a batch x max length
that will not fit is refused before the first step, with the numbers and the largest `--batch-size` that fits
(`params.memory_budget_gib` overrides the free memory it checks against).

hub.KerasLayer is a tf_keras (Keras 2) layer, so this recipe builds tf_keras models; nothing else in tfsenti does.
The export is the model itself, module included: raw text in (DESIGN.md contract).

Example:
    >>> from tfsenti.config import build_config
    >>> from tfsenti.data.dataset import TextDataset
    >>> config = build_config("tfhub", "imdb", default_file=False, overrides=[
    ...     "train.pretrained=train-text", "params.vector_dim=2", "params.vector_min_count=1",
    ...     "train.epochs=60", "train.batch_size=8", "params.learning_rate=0.05", "params.verbose=0"])
    >>> train = TextDataset(["good fun", "great fun", "bad plot", "awful plot"] * 5, [1, 1, 0, 0] * 5)
    >>> recipe = TFHubRecipe(config, num_classes=2)
    >>> _ = recipe.fit(train)                                                       # doctest: +SKIP
    >>> recipe.predict_proba(["good fun", "awful plot"]).argmax(axis=1).tolist()    # doctest: +SKIP
    [1, 0]
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from tfsenti.recipes.base import Recipe

log = logging.getLogger("tfsenti")

TRAIN_TEXT = "train-text"  # `--pretrained train-text`: learn the word vectors of the module from the training text


@dataclasses.dataclass(frozen=True)
class TFHubParams:
    """Head, training and module-building settings of the `tfhub` recipe (the tutorial's values by default).

    The `max_length` .. `vector_*` settings apply only to modules built on the spot (checkpoint folder, word-vector
    file, `train-text`); downloaded and prebuilt modules carry their own tokenization.

    Example:
        >>> TFHubParams(trainable=False).hidden_units
        16
    """

    trainable: bool = True
    hidden_units: int = 16
    learning_rate: float = 1e-3
    patience: int = 3                       # early stopping on validation loss; 0 trains every epoch
    cache_embeddings: bool = True           # frozen module: embed each text once, train the head on the vectors
    embedding_cache_dir: str | None = None  # also keep those embeddings on disk (resumable)
    embed_batch_size: int = 64
    verbose: int = 2                        # Keras fit verbosity: 0 silent, 1 progress bar, 2 one line per epoch
    max_length: int = 256                   # BERT checkpoints: word pieces per text, [CLS] and [SEP] included
    truncation: Literal["head", "head_tail"] = "head"  # BERT checkpoints: which pieces of long texts to keep
    oov_buckets: int = 1000                 # word-vector modules: hash buckets for out-of-vocabulary tokens
    lowercase: bool = True
    normalize: bool = True                  # strip HTML tags, punctuation and symbols before splitting
    char_ngrams: tuple[int, int] | None = None  # word-vector modules: also look up character n-grams of each word
    vector_dim: int = 100                   # train-text: dimension of the learned word vectors
    vector_window: int = 5
    vector_min_count: int = 2
    vector_max_vocab: int = 50_000
    vectors_use_unlabeled: bool = True      # train-text: also learn from the dataset's unlabeled split
    memory_budget_gib: float | None = None  # trainable BERT modules: memory the guard checks against (None: free RAM)

    def __post_init__(self):
        positive = {"hidden_units": self.hidden_units, "embed_batch_size": self.embed_batch_size,
                    "oov_buckets": self.oov_buckets, "vector_dim": self.vector_dim,
                    "vector_window": self.vector_window, "vector_min_count": self.vector_min_count,
                    "vector_max_vocab": self.vector_max_vocab}
        for key, value in positive.items():
            if value < 1:
                raise ValueError(f"{key} must be a positive integer, received {value}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, received {self.learning_rate}")
        if self.patience < 0:
            raise ValueError(f"patience must be >= 0 (0 = no early stopping), received {self.patience}")
        if self.max_length < 3:
            raise ValueError(f"max_length must be at least 3 ([CLS], one token, [SEP]), received {self.max_length}")

    def build_options(self):
        from tfsenti.hub.handles import BuildOptions

        return BuildOptions(max_length=self.max_length, truncation=self.truncation, oov_buckets=self.oov_buckets,
                            lowercase=self.lowercase, normalize=self.normalize, char_ngrams=self.char_ngrams)


class TFHubRecipe(Recipe):
    """The `tfhub` recipe (see the module docstring).

    Learned state: `module_dir_` (the module folder used), `model_` (tf_keras: hub layer + head), `head_` (the
    head alone), `best_epoch_` (1-based epoch whose weights were kept).
    """

    name: ClassVar[str] = "tfhub"
    Params: ClassVar[type] = TFHubParams
    uses_pretrained: ClassVar[bool] = True
    strategy_refusal: ClassVar[str | None] = None  # tf_keras trains under any tf.distribute strategy

    def wants_unlabeled(self) -> bool:
        """Only `train-text` uses unlabeled text (to learn word vectors), and only datasets with such a split."""
        if self.config.train.pretrained != TRAIN_TEXT or not self.params.vectors_use_unlabeled:
            return False
        from tfsenti.data.registry import REGISTRY

        spec = REGISTRY.get(self.config.data.name)
        return spec is not None and "unsup" in spec.files

    # ---- training --------------------------------------------------------------------------------------------
    def fit(self, train, validation=None, *, unlabeled=None, log_dir=None) -> dict[str, float]:
        import tf_keras

        from tfsenti.training import distribute

        self.check_labels(train, validation)
        started = time.perf_counter()
        self.module_dir_ = self._module_for(train, unlabeled)
        tf_keras.utils.set_random_seed(self.config.train.seed)
        self.strategy_ = distribute.get_strategy(self.config.train.strategy)
        with self.strategy_.scope():  # variables mirrored on every replica of every worker
            self._build(self.module_dir_)
        self._check_memory()
        module_seconds = time.perf_counter() - started

        use_cache = self._uses_cached_embeddings()
        if use_cache:
            x_train = self._embed(train.texts, "embed train")
            x_val = self._embed(validation.texts, "embed validation") if validation is not None else None
            model = self.head_
        else:
            x_train = np.asarray(train.texts, dtype=object)
            x_val = np.asarray(validation.texts, dtype=object) if validation is not None else None
            model = self.model_
        y_val = np.asarray(validation.labels) if validation is not None else None
        embed_seconds = time.perf_counter() - started - module_seconds

        history = self._fit_keras(model, x_train, np.asarray(train.labels), x_val, y_val, log_dir)
        self.is_fitted = True
        summary = {"module_seconds": module_seconds, "embed_seconds": embed_seconds if use_cache else 0.0,
                   "fit_seconds": time.perf_counter() - started - module_seconds - embed_seconds,
                   "epochs_run": len(history.get("loss", [])), "best_epoch": self.best_epoch_,
                   "cached_embeddings": use_cache, "embedding_dim": self.embedding_dim_}
        for key, values in history.items():
            summary[f"final_{key}"] = float(values[-1])
            if key.startswith("val_"):
                summary[f"best_{key}"] = float(values[self.best_epoch_ - 1])
        return summary

    def _fit_keras(self, model, x, y, x_val, y_val, log_dir) -> dict[str, list[float]]:
        """Compile and fit `model` (the full model on texts, or the head on cached embeddings) identically."""
        import tensorflow as tf
        import tf_keras

        from tfsenti.training.distribute import shard_by_policy

        params: TFHubParams = self.params
        train_config = self.config.train
        binary = self.num_classes == 2
        loss = (tf_keras.losses.BinaryCrossentropy(from_logits=True) if binary
                else tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        metric = (tf_keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0) if binary
                  else tf_keras.metrics.SparseCategoricalAccuracy(name="accuracy"))
        with self.strategy_.scope():
            model.compile(optimizer=tf_keras.optimizers.Adam(params.learning_rate), loss=loss, metrics=[metric])
        targets = (lambda labels: labels.astype(np.float32)[:, None]) if binary else (lambda labels: labels)

        def dataset(features, labels, shuffle):
            data = tf.data.Dataset.from_tensor_slices((features, targets(labels)))
            if shuffle:
                data = data.shuffle(len(labels), seed=train_config.seed, reshuffle_each_iteration=True)
            # the batch is the global batch (split over replicas); rows held by every worker: DATA sharding
            return shard_by_policy(data.batch(train_config.batch_size).prefetch(2), "in_memory")

        callbacks = []
        validation_data = dataset(x_val, y_val, False) if x_val is not None and len(y_val) else None
        if validation_data is not None and params.patience:
            callbacks.append(tf_keras.callbacks.EarlyStopping(monitor="val_loss", patience=params.patience,
                                                              restore_best_weights=True))
        if log_dir is not None:
            callbacks.append(tf_keras.callbacks.TensorBoard(log_dir=str(Path(log_dir) / "keras"), write_graph=False))
        history = model.fit(dataset(x, y, True), validation_data=validation_data, epochs=train_config.epochs,
                            callbacks=callbacks, verbose=params.verbose).history
        if validation_data is not None and params.patience:
            self.best_epoch_ = int(np.argmin(history["val_loss"])) + 1
        else:
            self.best_epoch_ = len(history["loss"])
        return history

    # ---- the module and the model ----------------------------------------------------------------------------
    def _module_for(self, train, unlabeled) -> Path:
        from tfsenti.hub.handles import resolve_module

        pretrained = self.config.train.pretrained
        if pretrained == TRAIN_TEXT:
            return self._train_text_module(train, unlabeled)
        return resolve_module(pretrained, options=self.params.build_options())

    def _train_text_module(self, train, unlabeled) -> Path:
        """An nnlm-style module whose word vectors are learned (PPMI-SVD) from the training (+ unlabeled) text."""
        from tfsenti.hub.handles import BUILT_FOLDER, ensure_hub_cache_dir, is_module_dir
        from tfsenti.hub.word_vector_module import WordTokenization, build_word_vector_module, tokenize_texts
        from tfsenti.hub.word_vectors import learn_ppmi_vectors

        params: TFHubParams = self.params
        texts = list(train.texts) + (list(unlabeled.texts) if unlabeled is not None and self.wants_unlabeled() else [])
        digest = hashlib.sha1()
        for text in texts:
            digest.update(hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest())
        settings = (params.vector_dim, params.vector_window, params.vector_min_count, params.vector_max_vocab,
                    params.oov_buckets, params.lowercase, params.normalize, params.char_ngrams, self.config.train.seed)
        digest.update(repr(settings).encode())
        target = ensure_hub_cache_dir() / BUILT_FOLDER / f"train-text-{digest.hexdigest()[:16]}"
        if is_module_dir(target):
            log.info("word-vector module learned from this training text: %s (cached)", target)
            return target
        rules = WordTokenization(lowercase=params.lowercase, normalize=params.normalize,
                                 char_ngrams=params.char_ngrams)
        log.info("learning %d-dimensional word vectors from %d texts (PPMI-SVD)", params.vector_dim, len(texts))
        words, units = tokenize_texts(texts, rules, progress=params.verbose > 0)
        vectors = learn_ppmi_vectors(words, units=units, dim=params.vector_dim, window=params.vector_window,
                                     min_count=params.vector_min_count, max_vocab=params.vector_max_vocab,
                                     seed=self.config.train.seed, progress=params.verbose > 0)
        return build_word_vector_module(vectors, target, oov_buckets=params.oov_buckets, lowercase=params.lowercase,
                                        normalize=params.normalize, char_ngrams=params.char_ngrams,
                                        source=f"{TRAIN_TEXT}: {len(texts)} texts", progress=False)

    def _build(self, module_dir: Path) -> None:
        """hub layer -> head, as tf_keras models; `head_` shares its layers with `model_`."""
        import tensorflow as tf
        import tensorflow_hub as hub
        import tensorflow_text  # noqa: F401  (ops of modules that tokenize with it, e.g. USE-multilingual)
        import tf_keras

        self.hub_layer_ = hub.KerasLayer(str(module_dir), trainable=self.params.trainable, input_shape=[],
                                         dtype=tf.string, name="hub_module")
        self.embedding_dim_ = int(self.hub_layer_(tf.constant(["probe"])).shape[-1])
        outputs = 1 if self.num_classes == 2 else self.num_classes
        self.head_ = tf_keras.Sequential([
            tf_keras.layers.Dense(self.params.hidden_units, activation="relu", name="hidden"),
            tf_keras.layers.Dense(outputs, name="logits"),
        ], name="head")
        self.head_.build((None, self.embedding_dim_))
        self.model_ = tf_keras.Sequential([self.hub_layer_, self.head_], name="tfhub_classifier")
        self._embed_graph = tf.function(lambda text: self.hub_layer_(text, training=False),
                                        input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
        self._logits_graph = tf.function(lambda text: self.model_(text, training=False),
                                         input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
        self._cache = None

    def _check_memory(self) -> None:
        """Fine-tuning a BERT module: refuse, before the first step, a batch whose activations will not fit (the
        shared guard of every transformer recipe, `tfsenti.bert.memory`). Other modules and frozen ones pass."""
        from tfsenti.bert import memory
        from tfsenti.hub.bert_module import module_shape
        from tfsenti.hub.saving import read_module_info

        shape = module_shape(read_module_info(self.module_dir_))
        if shape is None or not self.params.trainable:
            return
        memory.guard_training_memory(
            recipe=self.name, num_parameters=self.model_.count_params(), num_layers=shape.num_layers,
            hidden_dim=shape.hidden_dim, num_heads=shape.num_heads, batch_size=self.config.train.batch_size,
            sequence_length=shape.max_length, accumulation_steps=None, budget_gib=self.params.memory_budget_gib,
            alternatives=(f"or shorten the module's max length ({shape.max_length}: --set params.max_length=N when "
                          "--pretrained is a checkpoint folder, `python cli.py hub build --max-length N` for a built "
                          "module), or freeze it with --set params.trainable=false"))

    def _uses_cached_embeddings(self) -> bool:
        return self.params.cache_embeddings and not self.params.trainable

    def _embedding_cache(self):
        from tfsenti.hub.embedding_cache import EmbeddingCache, module_fingerprint

        if self._cache is None:
            key = module_fingerprint(self.module_dir_)
            self._cache = EmbeddingCache(self.params.embedding_cache_dir, module_key=key)
        return self._cache

    def _embed(self, texts: Sequence[str], description: str = "embed") -> np.ndarray:
        import tensorflow as tf

        from tfsenti.hub.embedding_cache import embed_texts

        return embed_texts(list(texts), lambda batch: self._embed_graph(tf.constant(batch)).numpy(),
                           cache=self._embedding_cache(), batch_size=self.params.embed_batch_size,
                           progress=self.params.verbose > 0, description=description)

    # ---- inference -------------------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        import tensorflow as tf

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.num_classes), np.float32)
        if self._uses_cached_embeddings():
            logits = self.head_(tf.constant(self._embed(texts, "embed")), training=False)
        else:
            logits = self._logits_in_batches(texts)
        return self._probabilities(logits).numpy().astype(np.float32)

    def _logits_in_batches(self, texts: list[str]):
        import tensorflow as tf
        from tqdm import tqdm

        order = np.argsort([len(t) for t in texts], kind="stable")
        size = self.params.embed_batch_size
        parts = []
        for start in tqdm(range(0, len(texts), size), desc="predict", unit="batch",
                          disable=self.params.verbose == 0 or len(texts) <= size):
            batch = [texts[i] for i in order[start:start + size]]
            parts.append(self._logits_graph(tf.constant(batch)).numpy())
        logits = np.empty((len(texts), parts[0].shape[1]), np.float32)
        logits[order] = np.concatenate(parts)
        return tf.constant(logits)

    def _probabilities(self, logits):
        import tensorflow as tf

        if self.num_classes == 2:
            positive = tf.sigmoid(logits[:, 0])
            return tf.stack([1.0 - positive, positive], axis=1)
        return tf.nn.softmax(logits, axis=-1)

    # ---- export ----------------------------------------------------------------------------------------------
    def export(self, export_dir: str | Path) -> Path:
        """SavedModel: raw text -> the hub module -> the head -> probabilities (the module is saved inside)."""
        self._check_fitted()
        from tfsenti.export import save_serving_model

        return save_serving_model(
            export_dir,
            probabilities_fn=lambda text: self._probabilities(self.model_(text, training=False)),
            trackables={"hub_module": self.hub_layer_.resolved_object, "head_variables": list(self.head_.variables)},
        )

    def describe(self) -> dict:
        described = super().describe()
        described["pretrained"] = self.config.train.pretrained
        if getattr(self, "module_dir_", None) is not None:
            from tfsenti.hub.saving import read_module_info

            described["module"] = {"path": str(self.module_dir_), **read_module_info(self.module_dir_)}
        return described
