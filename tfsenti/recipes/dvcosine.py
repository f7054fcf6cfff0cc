"""dv-cosine: document vectors trained with cosine similarity, joined with NB-BON features (Thongtan & Phienthrakul
2019), leak-free (method, protocols and findings: docs/DVCOSINE.md).

1. One n-gram analyzer (`tfsenti.text.ngrams`) gives every text its distinct n-grams.
2. The n-gram and document vectors of the embedding corpus (train, plus the unlabeled split when `use_unlabeled`)
   are trained with the dv-cosine objective (`tfsenti.embeddings.trainer`, settings `EmbeddingSettings`). Every
   other text, and the training documents again, get vectors INFERRED with the n-gram vectors frozen
   (`tfsenti.embeddings.inference`), so the classifier sees one kind of vector. `nb_subsample` (tau, off) visits an
   n-gram's pairs with probability min(1, exp(|r| / tau) / 3), r its naive-Bayes ratio on the training labels.
3. NB-BON features and the vectors are joined BY DOCUMENT ID (`tfsenti.embeddings.alignment`) into one L2 logistic
   regression (`tfsenti.text.naive_bayes`; one-vs-rest for more than two classes), or the vectors alone
   (`features: vectors`); C, vector_scale and Wang & Manning's interpolation beta are chosen on validation.

`transductive: true` is the published protocol (the corrected 93.68%), never an inductive result: the validation
and test TEXT (never labels: `fit(..., test_texts=test.without_labels())`, which the pipeline passes when
`wants_test_texts()`) join the embedding corpus and the classifier is fitted to TRAINED vectors;
`joint_predict_with_vectors(test)` scores the test split that way. New text, `predict_proba` and the export always
infer vectors: the export runs the analyzer, the vocabulary lookup, the inference and the linear model as TF ops.

Example:
    >>> from tfsenti.config import build_config
    >>> from tfsenti.data.dataset import TextDataset
    >>> config = build_config("dvcosine", "imdb", default_file=False, overrides=["params.dim=8", "params.epochs=5", "params.min_df=1",
    ...     "params.min_count=1", "params.word_ngrams=[1, 1]", "params.subsample=null", "params.threads=1"])
    >>> recipe = DVCosineRecipe(config, num_classes=2)
    >>> train = TextDataset(["good fun", "great fun", "bad plot", "awful plot"] * 5, [1, 1, 0, 0] * 5)
    >>> _ = recipe.fit(train)
    >>> recipe.predict_proba(["good", "awful"]).argmax(axis=1).tolist()
    [1, 0]
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import scipy.sparse as sp

from tfsenti.data.dataset import UNLABELED
from tfsenti.embeddings.alignment import DocumentTable, join_by_id
from tfsenti.embeddings.corpus import TEST_TEXT_PREFIX, EmbeddingCorpus
from tfsenti.embeddings.trainer import CosineEmbeddingTrainer, EmbeddingSettings, TensorBoardEpochWriter
from tfsenti.errors import ConfigError
from tfsenti.recipes.base import Recipe
from tfsenti.text.naive_bayes import (NBEnsembleModel, choose_nb_ensemble, document_frequency, frequent_columns,
                                      nb_keep_probabilities, nb_ratios, one_vs_rest_probabilities, one_vs_rest_targets,
                                      select_columns)
from tfsenti.text.ngrams import AnalyzerConfig, NgramAnalyzer
from tfsenti.text.vectorize import binary_matrix, position_map, remap_columns

log = logging.getLogger("tfsenti")


@dataclasses.dataclass(frozen=True)
class DVCosineParams(EmbeddingSettings):
    """dv-cosine settings: the embedding's own (`EmbeddingSettings`: dim, epochs, optimizer, ...) plus the n-grams,
    the corpus, inference and the classifier; defaults suit English IMDB (word 1-3-grams, 100 dimensions).

    The paper: dim 500, alpha 6, 5 negatives, 120 epochs of SGD (lr 0.001), n-grams seen twice or more
    (`optimizer: sgd`, `init: random`; configs/imdb/dvcosine-paper.yaml). A bad value raises ValueError.

    Example:
        >>> DVCosineParams(dim=50).embedding_settings().dim
        50
    """

    # ---- text -> n-grams (shared by both feature sets)
    word_ngrams: tuple[int, int] | None = (1, 3)
    char_ngrams: tuple[int, int] | None = None
    lowercase: bool = True
    max_chars: int | None = None
    # ---- the embedding corpus and its training (the rest: EmbeddingSettings)
    use_unlabeled: bool = True
    transductive: bool = False  # the published protocol: validation + test text trained with it (module docstring)
    min_count: int = 2
    max_vocabulary: int | None = None
    nb_subsample: float | None = None  # tau: keep a pair with probability min(1, exp(|r| / tau) / 3)
    checkpoint_dir: str | None = None
    checkpoint_minutes: float = 0.0  # 0: a checkpoint after every epoch; else at most one per this many minutes
    # ---- inference of new documents (in-process and in the exported graph)
    infer_steps: int = 20
    infer_learning_rate: float = 1.5
    noise_size: int = 1024
    # ---- classifier
    features: Literal["ensemble", "vectors"] = "ensemble"
    min_df: int = 3
    nb_alpha: float = 1.0
    C: float = 1.0
    C_grid: tuple[float, ...] = ()
    vector_scale: float = 1.0
    vector_scale_grid: tuple[float, ...] = ()
    interpolation: float | None = None  # Wang & Manning's beta for the ensemble (module docstring); None: off
    interpolation_grid: tuple[float, ...] = ()  # betas to choose from on validation (1.0: off); overrides the above
    max_iter: int = 200
    tol: float = 1e-5
    n_jobs: int | None = None

    def __post_init__(self):
        super().__post_init__()
        for name in ("min_count", "min_df", "infer_steps", "noise_size", "max_iter"):
            if getattr(self, name) < 1:
                raise ValueError(f"params.{name} must be >= 1, received {getattr(self, name)}")
        if self.checkpoint_minutes < 0:
            raise ValueError(f"params.checkpoint_minutes must be >= 0 (0: after every epoch), received "
                             f"{self.checkpoint_minutes}")
        if self.max_vocabulary is not None and self.max_vocabulary < 1:
            raise ValueError(f"params.max_vocabulary must be a positive integer or null, received "
                             f"{self.max_vocabulary}")
        positive = {"nb_alpha": self.nb_alpha, "C": self.C, "vector_scale": self.vector_scale,
                    "infer_learning_rate": self.infer_learning_rate,
                    "nb_subsample": 1.0 if self.nb_subsample is None else self.nb_subsample}
        bad = {k: v for k, v in positive.items() if v <= 0}
        bad.update({f"C_grid[{i}]": v for i, v in enumerate(self.C_grid) if v <= 0})
        bad.update({f"vector_scale_grid[{i}]": v for i, v in enumerate(self.vector_scale_grid) if v <= 0})
        if bad:
            raise ValueError(f"These params must be positive: {bad}")
        betas = {f"interpolation_grid[{i}]": v for i, v in enumerate(self.interpolation_grid)}
        if self.interpolation is not None:
            betas["interpolation"] = self.interpolation
        outside = {k: v for k, v in betas.items() if not 0.0 <= v <= 1.0}
        if outside:
            raise ValueError(f"Wang & Manning's interpolation beta must be in [0, 1] (1: off), received {outside}")
        if betas and self.features == "vectors":
            raise ValueError("params.interpolation(_grid) interpolates the NB-BON weights towards their mean: it "
                             "needs params.features=ensemble; remove it for features=vectors")
        self.analyzer_config()  # validates the n-gram ranges

    def analyzer_config(self) -> AnalyzerConfig:
        return AnalyzerConfig(self.word_ngrams, self.char_ngrams, self.lowercase, self.max_chars)


class DVCosineRecipe(Recipe):
    """The `dvcosine` recipe (see the module docstring).

    Learned state: `vocabulary_` (feature -> union column), `nb_column_` / `embedding_row_` (union column -> NB-BON
    column / embedding row, -1 if none), `nb_coef_` (NB columns, K) with the ratios folded in, `vector_coef_`
    (dim, K) with vector_scale folded in, `intercept_` (K,), `inference_` (the TF inference module),
    `train_vectors_` (a DocumentTable of the embedding corpus' trained vectors, by document id),
    `labeled_vectors_` (the vectors the classifier was trained and validated on, by id), `history_`.
    """

    name: ClassVar[str] = "dvcosine"
    Params: ClassVar[type] = DVCosineParams

    def wants_unlabeled(self) -> bool:
        return bool(self.params.use_unlabeled)

    def wants_test_texts(self) -> bool:
        return bool(self.params.transductive)

    # ---- training --------------------------------------------------------------------------------------------
    def fit(self, train, validation=None, *, unlabeled=None, test_texts=None, log_dir=None) -> dict[str, float]:
        """`test_texts`: the test split without its labels (`TextDataset.without_labels()`), read only when
        `transductive`."""
        self.check_labels(train, validation)
        params: DVCosineParams = self.params
        started = time.perf_counter()
        metrics: dict[str, float] = {}
        corpus = EmbeddingCorpus.build(train, validation, unlabeled if params.use_unlabeled else None,
                               _checked_test_texts(test_texts) if params.transductive else None)
        matrix, names = binary_matrix(corpus.texts, NgramAnalyzer(params.analyzer_config()), n_jobs=params.n_jobs,
                                      progress=None)
        metrics["analyze_seconds"] = time.perf_counter() - started

        embedding_columns = self._train_embedding(corpus, matrix, np.asarray(train.labels), log_dir, metrics)
        self.labeled_vectors_ = self._labeled_vectors(corpus, matrix, embedding_columns, metrics)
        nb_columns = self._fit_classifier(corpus, matrix, train, validation, metrics)

        # ---- what prediction needs: one vocabulary over both feature sets
        union = np.union1d(embedding_columns, nb_columns)
        self.vocabulary_ = {names[j]: i for i, j in enumerate(union)}
        self.embedding_row_ = position_map(union, embedding_columns)
        self.nb_column_ = position_map(union, nb_columns)
        self.is_fitted = True
        metrics.update(C=float(self.C_), vector_scale=float(self.vector_scale_),
                       interpolation=float(self.interpolation_), num_nb_features=float(len(nb_columns)),
                       num_embedding_ngrams=float(len(embedding_columns)), fit_seconds=time.perf_counter() - started)
        return metrics

    def _train_embedding(self, corpus: EmbeddingCorpus, matrix: sp.csr_matrix, train_labels: np.ndarray, log_dir,
                         metrics: dict[str, float]) -> np.ndarray:
        """Train the vectors of the embedding corpus (train + unlabeled; + validation and test text when
        `transductive`); set `train_vectors_`, `inference_` and `history_`; return its columns of `matrix`."""
        params: DVCosineParams = self.params
        embedding_rows = corpus.rows("train", "unlabeled", *(("validation", "test_text") if params.transductive
                                                              else ()))
        df = document_frequency(matrix[embedding_rows])
        embedding_columns = frequent_columns(df, params.min_count, params.max_vocabulary)
        presence = select_columns(matrix[embedding_rows], embedding_columns)
        noise_counts = df[embedding_columns]
        log.info("dv-cosine: %d documents x %d n-grams, %d pairs", *presence.shape, presence.nnz)
        ngram_keep = None
        if params.nb_subsample is not None:
            train_presence = select_columns(matrix[corpus.rows("train")], embedding_columns)
            ngram_keep = nb_keep_probabilities(train_presence, one_vs_rest_targets(train_labels, self.num_classes),
                                               params.nb_alpha, params.nb_subsample)
            log.info("dv-cosine: sub-sampling by naive-Bayes weight (tau %g): mean keep %.3f", params.nb_subsample,
                     ngram_keep.mean())
        trainer = CosineEmbeddingTrainer(params, seed=self.config.train.seed)
        checkpoint_dir = params.checkpoint_dir or (str(Path(log_dir) / "embedding-checkpoints") if log_dir else None)
        if checkpoint_dir:
            log.info("dv-cosine: checkpoints in %s (to resume an interrupted run, rerun with --set "
                     "params.checkpoint_dir=%s)", checkpoint_dir, checkpoint_dir)
        embedding_started = time.perf_counter()
        trainer.fit(presence, noise_counts=noise_counts, ngram_keep=ngram_keep, checkpoint_dir=checkpoint_dir,
                    checkpoint_minutes=params.checkpoint_minutes,
                    on_epoch=TensorBoardEpochWriter(log_dir) if log_dir else None, progress=True)
        metrics["embedding_seconds"] = time.perf_counter() - embedding_started
        self.history_ = trainer.history_
        if self.history_:
            metrics["embedding_loss"] = float(self.history_[-1]["loss"])
        self.train_vectors_ = DocumentTable([corpus.keys[i] for i in embedding_rows], trainer.doc_vectors_)

        from tfsenti.embeddings.inference import DocumentInference

        self.inference_ = DocumentInference(
            trainer.ngram_vectors_, pair_weights=trainer.keep_probability_, noise_counts=noise_counts,
            noise_size=params.noise_size, alpha=params.alpha, negatives=params.negatives,
            steps=params.infer_steps, learning_rate=params.infer_learning_rate)
        return embedding_columns

    def _labeled_vectors(self, corpus: EmbeddingCorpus, matrix: sp.csr_matrix, embedding_columns: np.ndarray,
                         metrics: dict[str, float]) -> DocumentTable:
        """The vectors the classifier is trained and validated on, by document id: inferred for validation and
        train alike, or, when `transductive` (the published protocol), the trained vectors of both."""
        keys = [corpus.keys[i] for i in corpus.rows("validation", "train")]
        if self.params.transductive:
            log.warning("dv-cosine: transductive: the classifier is fitted to TRAINED vectors; "
                        "joint_predict_with_vectors scores the test split that way, but new text (predict_proba, the "
                        "export, the run's test metrics) gets inferred vectors: deploy an inductive fit")
            return DocumentTable(keys, self.train_vectors_.take(keys))
        from tfsenti.embeddings.inference import infer_csr

        inferred = corpus.rows("validation", "train")
        started = time.perf_counter()
        vectors = infer_csr(self.inference_, select_columns(matrix[inferred], embedding_columns),
                            progress=len(inferred) > 5000)
        metrics["inference_seconds_per_1k_docs"] = (time.perf_counter() - started) / max(len(inferred), 1) * 1000
        return DocumentTable(keys, vectors)

    def _fit_classifier(self, corpus: EmbeddingCorpus, matrix: sp.csr_matrix, train, validation,
                        metrics: dict[str, float]) -> np.ndarray:
        """Fit the logistic regression on [NB-BON ; vector_scale * vector], joined by document id with
        `labeled_vectors_`; choose C, the vector scale and the interpolation on validation. Sets the coefficients
        and the choice; returns the NB-BON columns of `matrix` (n-grams in >= min_df training documents)."""
        params: DVCosineParams = self.params
        train_keys = [corpus.keys[i] for i in corpus.rows("train")]
        validation_keys = [corpus.keys[i] for i in corpus.rows("validation")]
        labeled_rows = corpus.rows("train", "validation")
        nb_columns = np.zeros(0, np.int64)
        if params.features == "ensemble":
            nb_columns = frequent_columns(document_frequency(matrix[corpus.rows("train")]), params.min_df)
        nb_table = DocumentTable([corpus.keys[i] for i in labeled_rows],
                                 select_columns(matrix[labeled_rows], nb_columns))
        nb_train, vectors_train = join_by_id(train_keys, nb_table, self.labeled_vectors_)
        targets = one_vs_rest_targets(np.asarray(train.labels), self.num_classes)
        ratios = nb_ratios(nb_train, targets, params.nb_alpha)
        validation_set = None
        if validation is not None:
            validation_set = (*join_by_id(validation_keys, nb_table, self.labeled_vectors_), validation.labels)
        model, chosen, scores = choose_nb_ensemble(
            nb_train, vectors_train, ratios, targets, validation=validation_set, C_grid=params.C_grid or (params.C,),
            scale_grid=params.vector_scale_grid or (params.vector_scale,), max_iter=params.max_iter, tol=params.tol,
            betas=params.interpolation_grid or (1.0 if params.interpolation is None else params.interpolation,))
        metrics.update({f"validation_accuracy/{tag}": accuracy for tag, accuracy in scores.items()})
        if validation is not None:
            proba = model.probabilities(*validation_set[:2])
            metrics["validation_accuracy"] = float((proba.argmax(1) == validation.labels).mean())
        self.nb_coef_, self.vector_coef_, self.intercept_ = model.nb_coef, model.vector_coef, model.intercept
        self.C_, self.vector_scale_, self.interpolation_ = chosen
        return nb_columns

    # ---- inference -------------------------------------------------------------------------------------------
    def document_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Inferred unit vectors (n, dim) of `texts` (zeros for a text with no known n-gram)."""
        return self.predict_with_vectors(texts)[1]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_with_vectors(texts)[0]

    def predict_with_vectors(self, texts: Sequence[str], *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (n, C) float32, inferred document vectors (n, dim)) from one pass over `texts`."""
        self._check_fitted()
        from tfsenti.embeddings.inference import infer_csr

        union = self._union_matrix(texts)
        vectors = infer_csr(self.inference_, remap_columns(union, self.embedding_row_), progress=progress)
        return self._probabilities_of(union, vectors), vectors

    def joint_predict_with_vectors(self, test) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, vectors) of the test split of a `transductive` fit from its TRAINED vectors (the published
        protocol's scoring), joined by document id; `test` holds the ids of the `test_texts` given to `fit`."""
        self._check_fitted()
        if not self.params.transductive:
            raise ConfigError("joint_predict_with_vectors needs a fit with params.transductive=true (the test text "
                              "in the embedding corpus); otherwise use predict_with_vectors")
        vectors = self.train_vectors_.take([TEST_TEXT_PREFIX + str(i) for i in test.ids])
        return self._probabilities_of(self._union_matrix(test.texts), vectors), vectors

    def _probabilities_of(self, union: sp.csr_matrix, vectors: np.ndarray) -> np.ndarray:
        """Probabilities (n, C) float32 of documents given as union-vocabulary rows and their vectors, row k of
        both being the same document."""
        model = NBEnsembleModel(self.nb_coef_, self.vector_coef_, self.intercept_)
        return model.probabilities(remap_columns(union, self.nb_column_), vectors).astype(np.float32)

    def _union_matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        analyzer = NgramAnalyzer(self.params.analyzer_config())
        return binary_matrix(list(texts), analyzer, vocabulary=self.vocabulary_, n_jobs=self.params.n_jobs)[0]

    # ---- export ----------------------------------------------------------------------------------------------
    def export(self, export_dir: str | Path) -> Path:
        """SavedModel: analyzer -> one vocabulary lookup -> distinct n-grams per text -> (NB-BON weight sum, vector
        inference) -> linear model -> probabilities, all TensorFlow ops."""
        self._check_fitted()
        import tensorflow as tf

        from tfsenti.export import save_serving_model
        from tfsenti.text.graph_features import distinct_feature_keys, vocabulary_table

        config = self.params.analyzer_config()
        size = len(self.vocabulary_)
        with vocabulary_table(self.vocabulary_) as table:
            embedding_row = tf.constant(self.embedding_row_, tf.int64)
            nb_column = tf.constant(self.nb_column_, tf.int64)
            nb_coef = tf.Variable(self.nb_coef_.astype(np.float32), trainable=False, name="nb_coef")
            vector_coef = tf.Variable(self.vector_coef_.astype(np.float32), trainable=False, name="vector_coef")
            intercept = tf.Variable(self.intercept_.astype(np.float64), trainable=False, name="intercept")
            inference = self.inference_

            def probabilities(text):
                n_docs = tf.shape(text, out_type=tf.int64)[0]
                keys = tf.sort(distinct_feature_keys(text, config, table, size))  # the in-process CSR order
                rows, columns = keys // size, keys % size
                nb, embedding = tf.gather(nb_column, columns), tf.gather(embedding_row, columns)
                nb_logits = tf.math.unsorted_segment_sum(
                    tf.cast(tf.gather(nb_coef, tf.boolean_mask(nb, nb >= 0)), tf.float64),
                    tf.boolean_mask(rows, nb >= 0), n_docs)
                vectors = inference(tf.boolean_mask(rows, embedding >= 0), tf.boolean_mask(embedding, embedding >= 0),
                                    n_docs)
                logits = nb_logits + tf.cast(tf.matmul(vectors, vector_coef), tf.float64) + intercept
                return tf.cast(one_vs_rest_probabilities(logits, tf), tf.float32)

            return save_serving_model(export_dir, probabilities_fn=probabilities, trackables={
                "vocabulary": table, "nb_coef": nb_coef, "vector_coef": vector_coef, "intercept": intercept,
                "inference": inference})


# ---- helpers ---------------------------------------------------------------------------------------------------
def _checked_test_texts(test_texts):
    """The test split handed over for `transductive`, refused when missing or when it carries labels."""
    if test_texts is None:
        raise ConfigError("params.transductive=true trains the embedding on the test text too, but fit() received "
                          "no test_texts: train through tfsenti.train / the CLI (which pass them), or call "
                          "fit(..., test_texts=test.without_labels())")
    if np.any(np.asarray(test_texts.labels) != UNLABELED):
        raise ConfigError("fit(test_texts=...) must not carry the test labels: pass test.without_labels()")
    log.warning("dv-cosine: transductive: the %d test texts (no labels) join the embedding corpus; report the "
                "numbers as transductive", len(test_texts))
    return test_texts
