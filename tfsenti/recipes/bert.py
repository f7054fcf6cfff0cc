"""The `bert` recipe: fine-tune a keras_hub BertBackbone (BERT-base/large, multilingual BERT, KoBERT, MiniLM or any
local BERT checkpoint) for sentiment, and export it with tokenization inside the graph.

Training: AdamW, linear warm-up + decay or one-cycle, gradient clipping, gradient accumulation, float32 or mixed
precision, batches grouped by length (less padding), validation accuracy after every epoch with early stopping and
the best epoch's weights kept, a checkpoint every `checkpoint_every` micro-batches and resume from it, TensorBoard
scalars (learning rate included). A memory estimate runs first and refuses settings that will not fit.
Prediction and export under mixed_bfloat16 run the fused inference graph (tfsenti.bert.inference_graph: the same
function with fused oneDNN dense layers and bfloat16 weights; faster than the Keras model, most of all in batch-1
latency: benchmarks/bert_throughput.py measures both side by side).

Example:
    python cli.py train --model bert --data imdb --pretrained minilm --set params.sequence_length=256
    python cli.py train --model bert --data nsmc --pretrained bert_base_multi
    python cli.py train --model bert --data nsmc --pretrained /path/to/kobert-folder   # spiece.model + vocab.txt
    # resume an interrupted run: rerun the same command with
    #   --set params.checkpoint_dir=runs/<the interrupted run>/checkpoints
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from tfsenti.errors import ConfigError
from tfsenti.recipes.base import Recipe

log = logging.getLogger("tfsenti")

DEFAULT_PRETRAINED = {"imdb": "bert_base_en_uncased", "amazon": "bert_base_en_uncased", "nsmc": "bert_base_multi"}
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BUCKET_BATCHES = 50  # batches sorted by length together; more = less padding, less randomness


@dataclasses.dataclass
class BatchPlan:
    """What one fit trains on: `make_dataset(epoch)` (the same batches every call), its steps, the epochs (`rounds`
    for uda), the optimizer updates the schedule spans, and the input kind that decides how workers shard it."""

    make_dataset: Callable[[int], object]
    steps_per_epoch: int
    epochs: int
    total_updates: int
    input_kind: str
    micro_batch: int
    round_name: str = "epoch"
    details: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class BertParams:
    """Settings of the `bert` recipe (`params.*`); a bad value raises ValueError (a ConfigError through the config).

    Example:
        >>> BertParams(sequence_length=64).truncation
        'head'
    """

    sequence_length: int = 128
    truncation: Literal["head", "head_tail"] = "head"
    learning_rate: float = 2e-5
    schedule: Literal["linear", "one_cycle", "constant"] = "linear"
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    clipnorm: float | None = 1.0
    accumulation_steps: int = 1
    # auto: mixed_bfloat16 where the CPU computes bfloat16 natively (AVX512_BF16, AMX), float32 elsewhere; resolved
    # when the config is read, so config.yaml records what ran (tfsenti.training.precision.resolve_precision)
    precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = "auto"
    dropout: float = 0.1  # backbone (hidden and attention) and head
    pooling: Literal["cls", "mean"] = "cls"
    patience: int | None = 1
    checkpoint_every: int = 200
    checkpoint_dir: str | None = None
    log_every: int = 20
    predict_batch_size: int = 64
    # prediction and export: `fused` = tfsenti.bert.inference_graph (fused oneDNN dense layers, weights in the
    # compute dtype), `keras` = the Keras model itself; `auto` = fused for mixed_bfloat16, keras otherwise
    inference_graph: Literal["auto", "keras", "fused"] = "auto"
    memory_budget_gib: float | None = None
    verbose: int = 1
    scratch_num_layers: int = 2
    scratch_hidden_dim: int = 64
    scratch_num_heads: int = 2
    scratch_vocabulary_size: int = 2000

    def __post_init__(self):
        from tfsenti.training.precision import resolve_precision

        object.__setattr__(self, "precision", resolve_precision(self.precision))
        if self.accumulation_steps < 1:
            raise ValueError(f"accumulation_steps must be >= 1, received {self.accumulation_steps}")
        if self.sequence_length < 2:
            raise ValueError(f"sequence_length must be >= 2, received {self.sequence_length}")


class BertRecipe(Recipe):
    """Fine-tuned BERT classifier: [CLS] pooled output -> dropout -> dense softmax."""

    name = "bert"
    uses_pretrained = True
    strategy_refusal = None  # trains under any tf.distribute strategy (train.strategy)

    Params: ClassVar[type] = BertParams

    # -- fit ----------------------------------------------------------------------------------------------------
    # One fit for bert and uda: uda overrides only the hooks where it differs (_select_examples, _rows_per_example,
    # _plan_batches, _compile_trainer, _summary).
    def fit(self, train, validation=None, *, unlabeled=None, log_dir=None) -> dict[str, float]:
        import keras

        from tfsenti.bert import memory
        from tfsenti.bert.presets import resolve_pretrained
        from tfsenti.training import distribute
        from tfsenti.training.loop import fit_resumable
        from tfsenti.training.schedules import build_schedule

        self.check_labels(train, validation)
        params, train_config = self.params, self.config.train
        strategy = distribute.get_strategy(train_config.strategy)
        role = distribute.worker_role(strategy)
        micro_batch = self._micro_batch(strategy.num_replicas_in_sync)
        keras.utils.set_random_seed(train_config.seed)
        labeled, validation, rest = self._select_examples(train, validation, micro_batch)

        # -- model: tokenizer + packer, backbone, head; variables under the strategy (mirrored on every replica)
        pretrained = train_config.pretrained or DEFAULT_PRETRAINED.get(self.config.data.name)
        self.source_ = resolve_pretrained(pretrained)
        log.info("%s: pretrained %s (%s, %s tokenizer)", self.name, pretrained, self.source_.location or "random init",
                 self.source_.tokenizer)
        with strategy.scope():
            backbone = self.build_classifier(pretrained, train.texts)

        # -- memory guard, before anything big is allocated: the rows of a global batch this worker computes
        estimate = memory.guard_training_memory(
            recipe=self.name, num_parameters=self.model_.count_params(), num_layers=backbone.num_layers,
            hidden_dim=backbone.hidden_dim, num_heads=backbone.num_heads,
            batch_size=distribute.per_worker_batch(train_config.batch_size, role),
            sequence_length=params.sequence_length, accumulation_steps=params.accumulation_steps,
            precision=params.precision, rows_per_example=self._rows_per_example(micro_batch),
            budget_gib=params.memory_budget_gib)

        # -- data and schedule: steps are global steps (a global batch each), whatever the number of workers
        plan = self._plan_batches(labeled, rest, unlabeled, micro_batch)
        schedule = build_schedule(params.schedule, params.learning_rate, total_steps=plan.total_updates,
                                  warmup_fraction=params.warmup_fraction)
        with strategy.scope():
            trainer = self._compile_trainer(schedule, plan)

        evaluate = None
        if validation is not None and len(validation):
            evaluate = self._validation_scorer(self._encode(validation.texts, progress="tokenizing validation"),
                                               validation.labels, log_dir)
        checkpoint_dir = self._checkpoint_dir(log_dir, role)
        log.info("%s: %d steps of %d rows per %s, %d %ss; checkpoints every %d steps in %s (to resume after an "
                 "interruption, rerun with --set params.checkpoint_dir=%s)", self.name, plan.steps_per_epoch,
                 micro_batch, plan.round_name, plan.epochs, plan.round_name, params.checkpoint_every, checkpoint_dir,
                 checkpoint_dir)
        with strategy.scope():  # optimizer slots and the loop's progress variables are created under it too
            result = fit_resumable(
                trainer, lambda epoch: distribute.shard_by_policy(plan.make_dataset(epoch), plan.input_kind),
                steps_per_epoch=plan.steps_per_epoch, epochs=plan.epochs, checkpoint_dir=checkpoint_dir,
                evaluate=evaluate, patience=params.patience, checkpoint_every=params.checkpoint_every,
                log_dir=log_dir, log_every=params.log_every, verbose=params.verbose)
        self.fit_result_, self.trainer_ = result, trainer
        self.is_fitted = True
        self._weights_changed()
        summary = self._summary(result, plan)
        summary.update(resumed_from_step=result.resumed_from_step, memory_estimate_gib=round(estimate.total_gib, 3))
        if role.count > 1:
            summary.update(workers=role.count, worker_index=role.index)
        if result.best_score is not None:
            summary.update({"best_validation_accuracy": result.best_score, f"best_{plan.round_name}": result.best_epoch})
        return summary

    def _micro_batch(self, replicas: int) -> int:
        """The global micro-batch (batch_size / accumulation_steps), checked against the replicas that share it."""
        batch_size, accumulation = self.config.train.batch_size, self.params.accumulation_steps
        if batch_size % accumulation:
            raise ConfigError(f"train.batch_size ({batch_size}) must be a multiple of params.accumulation_steps "
                              f"({accumulation}): the micro-batch is batch_size / accumulation_steps.")
        micro_batch = batch_size // accumulation
        if micro_batch % replicas:
            raise ConfigError(f"The micro-batch of {micro_batch} rows (train.batch_size {batch_size} / "
                              f"accumulation_steps {accumulation}) is the global batch and must split evenly over the "
                              f"{replicas} replicas of train.strategy={self.config.train.strategy!r}; use a "
                              f"--batch-size that is a multiple of {replicas * accumulation}.")
        return micro_batch

    def _checkpoint_dir(self, log_dir, role) -> Path:
        """params.checkpoint_dir, else the run's `checkpoints/` (or a temporary folder). Several workers must share
        one folder that outlives the run, so multi-worker training needs params.checkpoint_dir."""
        params = self.params
        if params.checkpoint_dir:
            return Path(params.checkpoint_dir)
        if role.count > 1:
            raise ConfigError(f"Training on {role.count} workers needs params.checkpoint_dir: a folder on storage every "
                              "worker reads (shared), so that a restarted cluster resumes from the chief's checkpoints. "
                              "Add --set params.checkpoint_dir=/shared/checkpoints/<run name> (see docs/CLUSTER.md).")
        if log_dir:
            return Path(log_dir) / "checkpoints"
        import tempfile

        return Path(tempfile.mkdtemp(prefix=f"tfsenti-{self.name}-checkpoints-"))

    def _select_examples(self, train, validation, micro_batch: int):
        """(examples trained on with their labels, validation, the rest of train): bert trains on all of train."""
        return train, validation, None

    def _rows_per_example(self, micro_batch: int) -> int:
        """Rows a labeled example brings into one step (the memory guard's multiplier)."""
        return 1

    def _plan_batches(self, labeled, rest, unlabeled, micro_batch: int) -> BatchPlan:
        """Token ids once, then length-grouped batches per epoch."""
        params, train_config = self.params, self.config.train
        train_ids = self._encode(labeled.texts, progress="tokenizing train")
        labels = np.asarray(labeled.labels, dtype=np.int32)
        steps_per_epoch = math.ceil(len(labeled) / micro_batch)

        def make_dataset(epoch: int):
            return length_bucketed_batches(train_ids, labels, micro_batch, seed=train_config.seed * 1009 + epoch)

        total_updates = math.ceil(steps_per_epoch * train_config.epochs / params.accumulation_steps)
        return BatchPlan(make_dataset, steps_per_epoch=steps_per_epoch, epochs=train_config.epochs,
                         total_updates=total_updates, input_kind="generator", micro_batch=micro_batch)

    def _compile_trainer(self, schedule, plan: BatchPlan):
        """The compiled Keras model that `fit_resumable` trains: the classifier itself, cross-entropy."""
        import keras

        from tfsenti.training.optimizer import build_optimizer
        from tfsenti.training.precision import precision_policy

        params = self.params
        with precision_policy(params.precision):
            self.model_.compile(
                optimizer=build_optimizer(schedule, weight_decay=params.weight_decay, clipnorm=params.clipnorm,
                                          accumulation_steps=params.accumulation_steps),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"], jit_compile=False)
        return self.model_

    def _summary(self, result, plan: BatchPlan) -> dict:
        return {"epochs_run": result.epochs_run, "steps_trained": result.steps_trained,
                "steps_per_epoch": plan.steps_per_epoch, "micro_batch": plan.micro_batch}

    # -- model -------------------------------------------------------------------------------------------------
    def build_classifier(self, pretrained: str, texts: Sequence[str]):
        """Tokenizer + packer (kept as `packer_`) and backbone + head (kept as `model_`) for `self.source_`, under
        the configured precision; returns the backbone. `texts` only matter for a scratch vocabulary. The uda
        recipe builds its model with this too.

        Example:
            recipe.source_ = resolve_pretrained("minilm")
            backbone = recipe.build_classifier("minilm", train.texts)   # recipe.model_: text ids -> logits
        """
        from tfsenti.bert.checkpoint import load_backbone
        from tfsenti.bert.preprocessor import BertPacker
        from tfsenti.training.precision import precision_policy

        params = self.params
        with precision_policy(params.precision):
            tokenizer = build_tokenizer(self.source_, texts, scratch_vocabulary_size=params.scratch_vocabulary_size)
            backbone = load_backbone(self.source_, vocabulary_size=_vocabulary_size(tokenizer), dropout=params.dropout,
                                     scratch_shape={"num_layers": params.scratch_num_layers,
                                                    "hidden_dim": params.scratch_hidden_dim,
                                                    "num_heads": params.scratch_num_heads,
                                                    "max_sequence_length": max(params.sequence_length, 16)})
            if params.sequence_length > backbone.max_sequence_length:
                raise ConfigError(f"params.sequence_length={params.sequence_length} exceeds what {pretrained} "
                                  f"supports ({backbone.max_sequence_length}); lower it.")
            if _vocabulary_size(tokenizer) > backbone.vocabulary_size:
                raise ConfigError(f"The tokenizer of {pretrained} has {_vocabulary_size(tokenizer)} entries but the "
                                  f"backbone only {backbone.vocabulary_size} embeddings: vocabulary and weights "
                                  "do not belong together.")
            self.packer_ = BertPacker(tokenizer, sequence_length=params.sequence_length,
                                     truncation=params.truncation)
            self.model_ = _classifier(backbone, self.num_classes, params.dropout, params.pooling)
        self._weights_changed()
        return backbone

    # -- inference -------------------------------------------------------------------------------------------------
    def _encode(self, texts: Sequence[str], *, progress: str | None = None) -> dict[str, np.ndarray]:
        """Token ids (n, sequence_length) int32 and true lengths (n,), by the same graph the export uses."""
        from tqdm.auto import tqdm

        chunks, lengths, size = [], [], 1024
        starts = range(0, len(texts), size)
        for start in tqdm(starts, desc=progress, disable=not progress or len(texts) <= size, unit="chunk"):
            packed = self.packer_(list(texts[start:start + size]))
            chunks.append(packed["token_ids"].numpy())
            lengths.append(packed["padding_mask"].numpy().sum(axis=1))
        if not chunks:
            return {"token_ids": np.zeros((0, self.params.sequence_length), np.int32), "lengths": np.zeros(0, int)}
        return {"token_ids": np.concatenate(chunks), "lengths": np.concatenate(lengths)}

    def _probabilities_fn(self, graph: str | None = None):
        """tf.function (token_ids, padding_mask) -> float32 probabilities, by `graph` (`keras` or `fused`; default:
        `inference_graph_name()`)."""
        import tensorflow as tf

        graph = graph or self.inference_graph_name()
        cache = self.__dict__.setdefault("_probability_fns_", {})
        if graph not in cache:
            spec = tf.TensorSpec([None, None], tf.int32)
            if graph == "fused":
                fused = self.fused_graph()

                @tf.function(input_signature=[spec, spec])
                def probabilities(token_ids, padding_mask):
                    return fused(token_ids, padding_mask)
            else:
                model = self.model_

                @tf.function(input_signature=[spec, spec])
                def probabilities(token_ids, padding_mask):
                    out = model({"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids),
                                 "padding_mask": padding_mask}, training=False)
                    return tf.nn.softmax(tf.cast(out, tf.float32), axis=-1)

            cache[graph] = probabilities
        return cache[graph]

    def inference_graph_name(self) -> str:
        """`fused` or `keras`: what `predict_proba` and `export` run (params.inference_graph, `auto` resolved)."""
        return resolve_inference_graph(self.params)

    def fused_graph(self):
        """The trained model as a `FusedBertClassifier` in the compute dtype of params.precision (a snapshot of
        the weights, rebuilt after the next fit)."""
        from tfsenti.bert.inference_graph import FusedBertClassifier

        if getattr(self, "_fused_graph_", None) is None:
            dtype = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}
            self._fused_graph_ = FusedBertClassifier(self.model_, pooling=self.params.pooling,
                                                     compute_dtype=dtype[self.params.precision])
        return self._fused_graph_

    def _weights_changed(self) -> None:
        """Forget what was built from the old weights (the fused snapshot and its functions)."""
        self._fused_graph_ = None
        self.__dict__.pop("_probability_fns_", None)

    def _probabilities(self, encoded: dict[str, np.ndarray], *, progress: bool = False,
                       graph: str | None = None) -> np.ndarray:
        """Probabilities in length-sorted batches trimmed to their longest text (padding is masked, so trimming
        does not change the result; it only saves compute)."""
        from tqdm.auto import tqdm

        token_ids, lengths = encoded["token_ids"], encoded["lengths"]
        order = np.argsort(-lengths, kind="stable")
        out = np.zeros((len(order), self.num_classes), np.float32)
        probabilities = self._probabilities_fn(graph)
        size = self.params.predict_batch_size
        for start in tqdm(range(0, len(order), size), desc="predicting", disable=not progress, unit="batch"):
            rows = order[start:start + size]
            width = int(lengths[rows].max())
            ids = token_ids[rows, :width]
            mask = (np.arange(width)[None, :] < lengths[rows][:, None]).astype(np.int32)
            out[rows] = probabilities(ids, mask).numpy()
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.num_classes), np.float32)
        encoded = self._encode(texts, progress="tokenizing" if len(texts) > 5000 else None)
        return self._probabilities(encoded, progress=len(texts) > 5000)

    def _validation_scorer(self, encoded, labels, log_dir):
        import tensorflow as tf

        writer = tf.summary.create_file_writer(str(Path(log_dir) / "validation_epochs")) if log_dir else None
        epoch = {"n": 0}

        def score() -> float:
            # the Keras model: its weights are the ones training is changing
            accuracy = float((self._probabilities(encoded, graph="keras").argmax(1) == np.asarray(labels)).mean())
            epoch["n"] += 1
            if writer is not None:
                with writer.as_default():
                    tf.summary.scalar("validation/epoch_accuracy", accuracy, step=epoch["n"])
                writer.flush()
            return accuracy

        return score

    # -- export ----------------------------------------------------------------------------------------------------
    def export(self, export_dir) -> Path:
        import tensorflow as tf

        from tfsenti.export import save_serving_model

        self._check_fitted()
        model, packer = self.model_, self.packer_
        if self.inference_graph_name() == "fused":
            fused = self.fused_graph()

            def probabilities(text):
                packed = packer.tokenize(text)
                return fused(packed["token_ids"], packed["padding_mask"])

            return save_serving_model(export_dir, probabilities_fn=probabilities,
                                      trackables={"graph": fused, "packer": packer})

        def probabilities(text):
            packed = packer.tokenize(text)
            logits = model(packed, training=False)
            return tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)

        # The weights, not the compiled model: tracking the model would save its optimizer too (AdamW slots,
        # twice the weights), which serving never reads.
        return save_serving_model(export_dir, probabilities_fn=probabilities,
                                  trackables={"weights": list(model.weights), "packer": packer})


# -- helpers ---------------------------------------------------------------------------------------------------------
def resolve_inference_graph(params) -> str:
    """params.inference_graph with `auto` resolved: `fused` under mixed_bfloat16, `keras` otherwise."""
    if params.inference_graph == "auto":
        return "fused" if params.precision == "mixed_bfloat16" else "keras"
    return params.inference_graph


def build_tokenizer(source, texts: Sequence[str] = (), *, scratch_vocabulary_size: int = 2000):
    """The graph tokenizer of `source`: keras_hub's BertTokenizer (WordPiece) or SentencePieceVocabTokenizer;
    for `scratch`, a WordPiece vocabulary learned from `texts`."""
    import keras_hub

    if source.kind == "scratch":
        vocabulary = _learn_vocabulary(texts, scratch_vocabulary_size)
        return keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    if source.tokenizer == "sentencepiece":
        from tfsenti.bert.checkpoint import preset_file
        from tfsenti.bert.sentencepiece_tokenizer import SentencePieceVocabTokenizer

        folder = Path(str(source.location))
        proto_path = (folder / "tokenizer_78b3253a26.model" if (folder / "tokenizer_78b3253a26.model").is_file()
                      else preset_file(source, "spiece.model"))
        local_vocabulary = folder / "vocab.txt"
        if folder.is_dir() and not local_vocabulary.is_file():
            vocabulary = None  # the SentencePiece ids are the model's ids
        else:
            vocabulary = preset_file(source, "vocab.txt").read_text(encoding="utf-8").splitlines()
        return SentencePieceVocabTokenizer(proto_path.read_bytes(), vocabulary)
    if source.kind == "hf_folder":
        vocabulary = (Path(source.location) / "vocab.txt").read_text(encoding="utf-8").splitlines()
        return keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=source.lowercase,
                                              strip_accents=source.strips_accents)
    from tfsenti.bert.checkpoint import from_preset

    return from_preset(keras_hub.models.BertTokenizer, source)


def _classifier(backbone, num_classes: int, dropout: float, pooling: str = "cls"):
    """`cls`: BERT's pooled [CLS] output; `mean`: the mean of the token vectors under the padding mask (how
    sentence-transformers checkpoints such as MiniLM were trained)."""
    import keras

    inputs = {name: keras.Input((None,), dtype="int32", name=name)
              for name in ("token_ids", "segment_ids", "padding_mask")}
    outputs = backbone(inputs)
    if pooling == "mean":
        mask = keras.ops.cast(keras.ops.expand_dims(inputs["padding_mask"], -1), outputs["sequence_output"].dtype)
        pooled = keras.ops.sum(outputs["sequence_output"] * mask, axis=1) / keras.ops.maximum(
            keras.ops.sum(mask, axis=1), 1.0)
    else:
        pooled = outputs["pooled_output"]
    pooled = keras.layers.Dropout(dropout, name="head_dropout")(pooled)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits",
                                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02))(pooled)
    return keras.Model(inputs, logits, name="bert_classifier")


def _vocabulary_size(tokenizer) -> int:
    size = getattr(tokenizer, "vocabulary_size", None)
    return int(size() if callable(size) else size)


def _learn_vocabulary(texts: Sequence[str], size: int) -> list[str]:
    import keras_hub
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(list(texts)).batch(1000)
    return keras_hub.tokenizers.compute_word_piece_vocabulary(data, size, lowercase=True,
                                                              reserved_tokens=SPECIAL_TOKENS)


def length_bucketed_batches(encoded: dict[str, np.ndarray], labels: np.ndarray, batch_size: int, *, seed: int):
    """One epoch of batches: shuffled, grouped by length within buckets of BUCKET_BATCHES batches, each trimmed to
    its longest text. Deterministic in `seed`, so a resumed epoch sees the same batches."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    lengths = encoded["lengths"]
    batches = []
    bucket = batch_size * BUCKET_BATCHES
    for start in range(0, len(order), bucket):
        chunk = order[start:start + bucket]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    batches = [batches[i] for i in rng.permutation(len(batches))]
    token_ids = encoded["token_ids"]

    def generate():
        for rows in batches:
            width = int(lengths[rows].max())
            mask = (np.arange(width)[None, :] < lengths[rows][:, None]).astype(np.int32)
            ids = token_ids[rows, :width]
            yield {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask}, labels[rows]

    spec = tf.TensorSpec([None, None], tf.int32)
    return tf.data.Dataset.from_generator(
        generate, output_signature=({"token_ids": spec, "segment_ids": spec, "padding_mask": spec},
                                    tf.TensorSpec([None], tf.int32)),
    ).apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(2)

