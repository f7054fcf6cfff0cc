"""The `uda` recipe: semi-supervised BERT fine-tuning with Unsupervised Data Augmentation (Xie et al. 2019),
ported from google-research/uda (TF1) to TF2 / Keras 3.

The backbone, tokenization, precision policy, schedules, optimizer, memory guard, validation scorer and export are
the `bert` recipe's (any preset, `minilm`, or a local folder). What UDA adds:
- a seeded, balanced labeled subset (`params.labeled_per_class`; 10 gives the paper's 20 labels on a binary task);
- an unlabeled pool: the rest of train without labels, the dataset's unlabeled split (IMDB's `unsup`) and extra
  review files (`params.extra_unlabeled`: `auto` = `tfsenti.data.find_unlabeled_files`, or a list of paths), written
  to disk and streamed through tf.data;
- augmented copies (`params.augmentation`: tf_idf, uniform or back_translation from a file), made once and cached;
- a custom train step (`tfsenti.uda.train_step.UDATrainer`): supervised CE with TSA + uda_coeff x KL consistency
  loss with sharpening temperature and confidence mask; `unsup_ratio` unlabeled examples per labeled one.

Training runs `params.train_steps` optimizer updates, split into `train.epochs` rounds; validation accuracy after
each round picks the weights kept (the test split is never looked at). `unsup_ratio: 0` (or `uda_coeff: 0`) gives
the supervised-only baseline with the same steps, batches and TSA.

Example:
    python cli.py train --model uda --data amazon --pretrained minilm --set params.labeled_per_class=10
    python cli.py train --model uda --data imdb --pretrained minilm --set params.augmentation=back_translation \
        --set params.back_translation_file=bt.tsv --set params.precision=mixed_bfloat16
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from tfsenti.errors import ConfigError
from tfsenti.recipes.bert import BatchPlan, BertParams, BertRecipe

log = logging.getLogger("tfsenti")


@dataclasses.dataclass(frozen=True)
class UDAParams(BertParams):
    """Settings of the `uda` recipe: the `bert` recipe's plus UDA's own (`params.*`); a bad value raises ValueError.

    Example:
        >>> UDAParams(labeled_per_class=20).tsa
        'linear'
    """

    labeled_per_class: int | None = 10
    train_steps: int = 1000
    unsup_ratio: int = 3
    uda_coeff: float = 1.0
    tsa: str = "linear"
    softmax_temperature: float = 0.85
    confidence_threshold: float = -1.0
    augmentation: str = "tf_idf"
    augmentation_probability: float = 0.3
    back_translation_file: str | None = None
    extra_unlabeled: str | tuple[str, ...] | None = "auto"
    unlabeled_limit: int | None = None
    shuffle_buffer: int = 10_000
    validation_limit: int | None = 2000
    cache_dir: str | None = None
    patience: int | None = None
    checkpoint_every: int = 100
    learning_rate: float = 2e-5

    def __post_init__(self):
        super().__post_init__()
        from tfsenti.uda.augment import AUGMENTATIONS
        from tfsenti.uda.tsa import check_schedule

        check_schedule(self.tsa)
        if self.augmentation not in AUGMENTATIONS:
            raise ValueError(f"Unknown augmentation {self.augmentation!r}; choose one of {list(AUGMENTATIONS)}.")
        for key in ("train_steps",):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, received {getattr(self, key)}.")
        if self.unsup_ratio < 0:
            raise ValueError(f"unsup_ratio must be >= 0, received {self.unsup_ratio}.")
        if self.softmax_temperature <= 0:
            raise ValueError(f"softmax_temperature must be > 0, received {self.softmax_temperature}.")
        if not 0.0 <= self.augmentation_probability <= 1.0:
            raise ValueError(f"augmentation_probability must be in [0, 1], received "
                             f"{self.augmentation_probability}.")


class UDARecipe(BertRecipe):
    """BERT classifier trained with UDA; predicts and exports exactly like the `bert` recipe."""

    name = "uda"
    uses_pretrained = True

    Params: ClassVar[type] = UDAParams

    def wants_unlabeled(self) -> bool:
        return self.params.unsup_ratio > 0 and self.params.uda_coeff != 0

    # -- fit: the bert recipe's fit, with these hooks ---------------------------------------------------------
    def _select_examples(self, train, validation, micro_batch: int):
        """A seeded balanced labeled subset (the rest of train becomes unlabeled) and a validation subset."""
        from tfsenti.uda.data import labeled_subset

        params, seed = self.params, self.config.train.seed
        if params.labeled_per_class:
            labeled, rest = labeled_subset(train, per_class=params.labeled_per_class, seed=seed)
        else:
            labeled, rest = train, train.subset([])
        if validation is not None and params.validation_limit and len(validation) > params.validation_limit:
            validation = validation.sample(params.validation_limit, seed=seed + 2)
        log.info("uda: %d labeled examples (%s), validation %d, unlabeled batch %d per step", len(labeled),
                 labeled.label_counts(), len(validation) if validation is not None else 0,
                 self._unsup_batch(micro_batch))
        return labeled, validation, rest

    def _unsup_batch(self, micro_batch: int) -> int:
        return micro_batch * self.params.unsup_ratio if self.wants_unlabeled() else 0

    def _rows_per_example(self, micro_batch: int) -> int:
        # labeled + augmented rows keep activations for the backward pass; the original rows run forward only, but
        # counting them too matched the measured peak (MiniLM, 8 + 24 + 24 rows x 128 tokens: 3.84 GiB RSS;
        # labeled + augmented alone estimated 2.96 GiB)
        return 1 + 2 * self.params.unsup_ratio if self._unsup_batch(micro_batch) else 1

    def _plan_batches(self, labeled, rest, unlabeled, micro_batch: int) -> BatchPlan:
        """`params.train_steps` updates split into `train.epochs` rounds over the labeled and unlabeled streams."""
        params, accumulation = self.params, self.params.accumulation_steps
        unsup_batch = self._unsup_batch(micro_batch)
        pairs = self._augmented_pairs(rest, unlabeled) if unsup_batch else None
        total_micro = params.train_steps * accumulation
        rounds = max(1, min(self.config.train.epochs, total_micro))
        steps_per_round = math.ceil(total_micro / rounds)
        total_micro = steps_per_round * rounds
        return BatchPlan(self._dataset_factory(labeled, pairs, micro_batch, unsup_batch, steps_per_round),
                         steps_per_epoch=steps_per_round, epochs=rounds, total_updates=total_micro // accumulation,
                         input_kind="text_lines" if pairs else "in_memory", micro_batch=micro_batch,
                         round_name="round", details={"labeled": len(labeled),
                                                      "unlabeled_pool": pairs.count if pairs else 0,
                                                      "unlabeled_batch": unsup_batch})

    def _compile_trainer(self, schedule, plan: BatchPlan):
        """A `UDATrainer` around the classifier (TSA over every micro-step; loss scaling for mixed_float16)."""
        import keras

        from tfsenti.training.optimizer import build_optimizer
        from tfsenti.training.precision import precision_policy
        from tfsenti.uda.train_step import UDATrainer

        params = self.params
        with precision_policy(params.precision):
            trainer = UDATrainer(self.model_, num_classes=self.num_classes,
                                 total_steps=plan.steps_per_epoch * plan.epochs, tsa_schedule=params.tsa,
                                 uda_coeff=params.uda_coeff, temperature=params.softmax_temperature,
                                 confidence_threshold=params.confidence_threshold, name="uda_trainer")
        optimizer = build_optimizer(schedule, weight_decay=params.weight_decay, clipnorm=params.clipnorm,
                                    accumulation_steps=params.accumulation_steps)
        if params.precision == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        trainer.compile(optimizer=optimizer, jit_compile=False, auto_scale_loss=False)
        return trainer

    def _summary(self, result, plan: BatchPlan) -> dict:
        return {"rounds_run": result.epochs_run, "steps": plan.total_updates, **plan.details}

    def _augmented_pairs(self, rest, unlabeled):
        """The unlabeled pool on disk and its cached augmented copy."""
        from tfsenti.data import find_unlabeled_files
        from tfsenti.uda.augment import augment_pool, build_augmenter
        from tfsenti.uda.data import pool_records, write_pool

        params = self.params
        datasets = [rest] + ([unlabeled] if unlabeled is not None and len(unlabeled) else [])
        if params.extra_unlabeled == "auto":
            files = find_unlabeled_files(self.config.data.name, self.config.data.data_dir)
        elif isinstance(params.extra_unlabeled, str):
            files = [params.extra_unlabeled]
        else:
            files = list(params.extra_unlabeled or ())
        missing = [str(path) for path in files if not Path(path).is_file()]
        if missing:
            raise ConfigError(f"params.extra_unlabeled names files that do not exist: {missing}. Give review files "
                              "(.json/.json.gz McAuley, .csv Zhang, .ft.txt fastText), `auto`, or null.")
        cache = Path(params.cache_dir) if params.cache_dir else _default_cache_dir()
        pool = write_pool(pool_records(datasets=datasets, files=files, limit=params.unlabeled_limit), cache)
        if not pool.count:
            raise ConfigError("UDA needs unlabeled text but the pool is empty: use labeled_per_class (the rest of "
                              "train becomes unlabeled), a dataset with an unlabeled split, or params.extra_unlabeled; "
                              "or set params.unsup_ratio=0 for supervised training.")
        log.info("uda: unlabeled pool of %d texts (%d from train/unsup, %d extra files) at %s", pool.count,
                 sum(len(d) for d in datasets), len(files), pool.path)
        augmenter = build_augmenter(params.augmentation, probability=params.augmentation_probability,
                                    seed=self.config.train.seed, back_translation_file=params.back_translation_file)
        return augment_pool(pool.path, augmenter, cache, progress=params.verbose > 0)

    def _dataset_factory(self, labeled, pairs, micro_batch: int, unsup_batch: int, steps: int):
        """`make_dataset(round)`: that round's `steps` batches, the same every time (so a resumed round matches)."""
        import tensorflow as tf

        from tfsenti.uda.data import unlabeled_pairs

        packer, seed, params = self.packer_, self.config.train.seed, self.params
        texts = tf.constant(list(labeled.texts))
        labels = tf.constant(np.asarray(labeled.labels, dtype=np.int32))

        def make_dataset(round_index: int):
            labeled_batches = (tf.data.Dataset.from_tensor_slices((texts, labels))
                               .shuffle(len(labeled), seed=seed * 1009 + round_index, reshuffle_each_iteration=True)
                               .repeat().batch(micro_batch, drop_remainder=True))
            if pairs is None:
                batches = labeled_batches.map(lambda t, y: ({"labeled": packer.tokenize(t)}, y))
            else:
                skip = (round_index * steps * unsup_batch) % pairs.count
                stream = unlabeled_pairs(pairs.original, pairs.augmented, batch_size=unsup_batch,
                                         seed=seed * 7919 + round_index, skip=skip,
                                         shuffle_buffer=params.shuffle_buffer)
                batches = tf.data.Dataset.zip(labeled_batches, stream).map(
                    lambda l, u: ({"labeled": packer.tokenize(l[0]), "original": packer.tokenize(u[0]),
                                   "augmented": packer.tokenize(u[1])}, l[1]))
            return batches.take(steps).prefetch(2)

        return make_dataset


def _default_cache_dir() -> Path:
    import os

    root = os.environ.get("TFSENTI_CACHE_DIR")
    return (Path(root).expanduser() if root else Path("~/.cache/tfsenti").expanduser()) / "uda"

