"""dv-cosine: document vectors trained with cosine similarity, joined with NB-BON features (Thongtan & Phienthrakul
2019), leak-free.

1. One n-gram analyzer (`tfsenti.text.ngrams`, word 1-3-grams on IMDB) turns every text into its distinct n-grams.
2. Embeddings (`tfsenti.embeddings.trainer`): n-gram and document vectors of the training documents plus, when
   `use_unlabeled`, the dataset's unlabeled split (IMDB's 50k `unsup`) are trained with the dv-cosine objective.
   `count_occurrences` (off by default; needs `optimizer: sgd`) trains on one (document, n-gram) pair per
   occurrence, as the reference implementation's corpus files did, instead of one per distinct n-gram; inference
   then counts each pair as often as the n-gram occurs, and the noise distribution is over occurrences.
   Validation, test and any new text get their vectors inferred with the n-gram vectors frozen
   (`tfsenti.embeddings.inference`); `transductive_test` (off by default) adds the test TEXT, without labels, to the
   embedding corpus as the original did; its vectors are still inferred like any new text. `joint_vectors` (off;
   benchmark only) is the original's scoring too: validation text joins the corpus as well, and the classifier is
   trained, chosen and scored on TRAINED vectors (`joint_predict_with_vectors`), which new text cannot have.
3. NB-BON features (binary n-grams scaled by naive-Bayes log-count ratios, `tfsenti.recipes.nbbon`) and the
   document vectors are joined BY DOCUMENT ID (`tfsenti.embeddings.alignment`), and one L2 logistic regression is
   trained on [NB-BON ; vector_scale * vector] (`features: ensemble`) or on the vector alone (`features: vectors`).
   C and vector_scale are chosen on the validation split; `refit_on_validation` then trains the chosen model again
   on train + validation (NB-BON columns and ratios included), as `nbbon` can. `interpolation` (beta, or
   `interpolation_grid` chosen on validation) is Wang & Manning's interpolation as in `nbbon`, generalized to the
   ensemble: `logits <- beta * logits + (1 - beta) * mean|w_nb| * (r . x)`, i.e. the NB-BON weights become
   `(1 - beta) * mean|w_nb| + beta * w_nb` and the vector weights `beta * w_v` (beta 1: off).
   More than two classes: one-vs-rest, as `nbbon` (its docstring says why): class k gets its own ratios r_k,
   regression, interpolation and logit; the sigmoids are normalized to sum to 1. `nb_subsample` keeps an n-gram by
   its largest |r_k|.

The export runs the analyzer, both vocabulary lookups, the vector inference (a fixed number of gradient steps) and
the linear model inside the TensorFlow graph; `predict_proba` uses the same inference module, so both agree.

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

from tfsenti.embeddings.alignment import AlignmentError, DocumentTable, join_by_id
from tfsenti.embeddings.trainer import CosineEmbeddingTrainer, EmbeddingSettings
from tfsenti.errors import ConfigError
from tfsenti.recipes.base import Recipe
from tfsenti.recipes.nbbon import nb_ratio, one_vs_rest_probabilities, train_logistic
from tfsenti.text.ngrams import AnalyzerConfig, NgramAnalyzer
from tfsenti.text.vectorize import binary_matrix

log = logging.getLogger("tfsenti")
TEST_TEXT_PREFIX = "test-text:"  # document keys of the test text in the embedding corpus (transductive_test)


@dataclasses.dataclass(frozen=True)
class DVCosineParams:
    """dv-cosine settings; defaults suit English IMDB (word 1-3-grams, 100 dimensions, 10 epochs).

    The paper: dim 500, alpha 6, 5 negatives, 120 epochs of SGD (lr 0.001) on 22 threads, n-grams seen twice or
    more. Here: `epochs`, `dim` and the optimizer (row-wise Adagrad on the unit sphere, an SVD warm start and
    `doc_steps` steps per document and batch) are chosen to fit a 2-core budget (see docs/DVCOSINE.md);
    `optimizer: sgd` with `init: random` is the paper's optimizer and start (`pair_learning_rate`).

    Example:
        >>> DVCosineParams(dim=50).embedding_settings(seed=1).dim
        50
    """

    # ---- text -> n-grams (shared by both feature sets)
    word_ngrams: tuple[int, int] | None = (1, 3)
    char_ngrams: tuple[int, int] | None = None
    lowercase: bool = True
    max_chars: int | None = None
    # ---- document embeddings
    use_unlabeled: bool = True
    transductive_test: bool = False
    joint_vectors: bool = False  # published scoring: validation + test vectors trained, not inferred (benchmark)
    min_count: int = 2
    count_occurrences: bool = False  # one pair per occurrence of an n-gram (the reference corpus), not per distinct
    max_vocabulary: int | None = None
    dim: int = 100
    alpha: float = 6.0
    negatives: int = 5
    noise_samples: int = 1024
    epochs: int = 10
    learning_rate: float = 0.1
    doc_steps: int = 2
    doc_learning_rate: float = 1.5
    subsample: float | None = 1e-3
    nb_subsample: float | None = None  # tau: also keep a pair by its NB ratio r on train labels (rule below)
    nb_subsample_rule: Literal["linear", "exp"] = "linear"  # min(1, |r|/tau); exp: min(1, exp(|r|/tau)/3)
    batch_size: int = 256
    threads: int = 2
    init: Literal["svd", "random"] = "svd"
    doc_start: Literal["table", "centroid"] = "table"  # a batch's document vectors: from the table or re-started
    svd_weights: Literal["idf", "idf_keep"] = "idf"  # idf_keep: the SVD start also weighs columns by nb_subsample
    optimizer: Literal["minibatch", "sgd"] = "minibatch"  # sgd: the paper's per-pair SGD (Numba), below its rate
    pair_learning_rate: float = 0.001
    checkpoint_dir: str | None = None
    checkpoint_minutes: float = 0.0  # 0: a checkpoint after every epoch; else at most one per this many minutes
    # ---- inference of new documents (in-process and in the exported graph)
    infer_steps: int = 20
    infer_learning_rate: float = 1.5
    noise_size: int = 1024
    infer_noise: Literal["top", "sample"] = "top"  # inference's negative term: top noise_size n-grams, or draws
    reinfer_train: bool = True
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
    refit_on_validation: bool = False
    max_iter: int = 200
    tol: float = 1e-5
    n_jobs: int | None = None

    def __post_init__(self):
        for name in ("min_count", "min_df", "infer_steps", "noise_size", "max_iter"):
            if getattr(self, name) < 1:
                raise ConfigError(f"params.{name} must be >= 1, received {getattr(self, name)}")
        if self.checkpoint_minutes < 0:
            raise ConfigError(f"params.checkpoint_minutes must be >= 0 (0: after every epoch), received "
                              f"{self.checkpoint_minutes}")
        if self.max_vocabulary is not None and self.max_vocabulary < 1:
            raise ConfigError(f"params.max_vocabulary must be a positive integer or null, received "
                              f"{self.max_vocabulary}")
        positive = {"nb_alpha": self.nb_alpha, "C": self.C, "vector_scale": self.vector_scale,
                    "infer_learning_rate": self.infer_learning_rate}
        if self.nb_subsample is not None:
            positive["nb_subsample"] = self.nb_subsample
        bad = {k: v for k, v in positive.items() if v <= 0}
        bad.update({f"C_grid[{i}]": v for i, v in enumerate(self.C_grid) if v <= 0})
        bad.update({f"vector_scale_grid[{i}]": v for i, v in enumerate(self.vector_scale_grid) if v <= 0})
        if bad:
            raise ConfigError(f"These params must be positive: {bad}")
        betas = {f"interpolation_grid[{i}]": v for i, v in enumerate(self.interpolation_grid)}
        if self.interpolation is not None:
            betas["interpolation"] = self.interpolation
        outside = {k: v for k, v in betas.items() if not 0.0 <= v <= 1.0}
        if outside:
            raise ConfigError(f"Wang & Manning's interpolation beta must be in [0, 1] (1: off), received {outside}")
        if betas and self.features == "vectors":
            raise ConfigError("params.interpolation(_grid) interpolates the NB-BON weights towards their mean: it "
                              "needs params.features=ensemble; remove it for features=vectors")
        if self.nb_subsample_rule != "linear" and self.nb_subsample is None:
            raise ConfigError(f"params.nb_subsample_rule={self.nb_subsample_rule} needs params.nb_subsample (the "
                              "rule's tau; Zhang & Arefyev's exp rule: 2.0)")
        if self.count_occurrences and self.optimizer != "sgd":
            raise ConfigError("params.count_occurrences repeats a pair once per occurrence, which only the per-pair "
                              "optimizer does: set params.optimizer=sgd too")
        if self.joint_vectors and not self.transductive_test:
            raise ConfigError("params.joint_vectors scores the test documents' vectors trained jointly with the "
                              "embedding corpus: it needs params.transductive_test=true (the test text in that corpus)")
        if self.svd_weights == "idf_keep" and self.nb_subsample is None:
            raise ConfigError("params.svd_weights=idf_keep weighs the SVD start by the nb_subsample keep "
                              "probabilities: set params.nb_subsample too (e.g. 1.0), or keep svd_weights=idf")
        try:
            self.analyzer_config()
        except ValueError as error:
            raise ConfigError(str(error)) from error
        self.embedding_settings(seed=0)  # validates the embedding settings

    def analyzer_config(self) -> AnalyzerConfig:
        return AnalyzerConfig(self.word_ngrams, self.char_ngrams, self.lowercase, self.max_chars)

    def embedding_settings(self, *, seed: int) -> EmbeddingSettings:
        return EmbeddingSettings(
            dim=self.dim, alpha=self.alpha, negatives=self.negatives, noise_samples=self.noise_samples,
            epochs=self.epochs, learning_rate=self.learning_rate, doc_steps=self.doc_steps,
            doc_learning_rate=self.doc_learning_rate, subsample=self.subsample, batch_size=self.batch_size,
            threads=self.threads, init=self.init, doc_start=self.doc_start,
            svd_weights=self.svd_weights, optimizer=self.optimizer, pair_learning_rate=self.pair_learning_rate,
            seed=seed)


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

    # ---- training --------------------------------------------------------------------------------------------
    def fit(self, train, validation=None, *, unlabeled=None, log_dir=None) -> dict[str, float]:
        self.check_labels(train, validation)
        params: DVCosineParams = self.params
        started = time.perf_counter()
        metrics: dict[str, float] = {}
        corpus = _Corpus.build(train, validation, unlabeled if params.use_unlabeled else None,
                               self._transductive_texts() if params.transductive_test else None)
        analyzer = NgramAnalyzer(params.analyzer_config())
        matrix, names = binary_matrix(corpus.texts, analyzer, n_jobs=params.n_jobs, progress=None,
                                      counts=params.count_occurrences)  # counts: occurrences; else ones
        metrics["analyze_seconds"] = time.perf_counter() - started

        embedding_columns = self._train_embedding(corpus, matrix, np.asarray(train.labels), log_dir, metrics)
        self.labeled_vectors_ = self._labeled_vectors(corpus, matrix, embedding_columns, metrics)
        nb_columns = self._fit_classifier(corpus, matrix, train, validation, metrics)

        # ---- what prediction needs: one vocabulary over both feature sets
        union = np.union1d(embedding_columns, nb_columns)
        self.vocabulary_ = {names[j]: i for i, j in enumerate(union)}
        self.embedding_row_ = _position_map(union, embedding_columns)
        self.nb_column_ = _position_map(union, nb_columns)
        self.is_fitted = True
        metrics.update(C=float(self.C_), vector_scale=float(self.vector_scale_),
                       interpolation=float(self.interpolation_), num_nb_features=float(len(nb_columns)),
                       num_embedding_ngrams=float(len(embedding_columns)), fit_seconds=time.perf_counter() - started)
        return metrics

    def _train_embedding(self, corpus: _Corpus, matrix: sp.csr_matrix, train_labels: np.ndarray, log_dir,
                         metrics: dict[str, float]) -> np.ndarray:
        """Train the n-gram and document vectors of the embedding corpus; set `train_vectors_`, `inference_` and
        `history_`; return the embedding vocabulary (columns of `matrix`).

        The corpus is the train (+ unlabeled, + test text) rows; validation is inferred like test, unless
        `joint_vectors`, where the validation text (never its labels) is trained jointly like the test text.
        """
        params: DVCosineParams = self.params
        embedding_rows = corpus.rows("train", "unlabeled", "test_text", *(["validation"] if params.joint_vectors
                                                                           else []))
        df = np.bincount(matrix[embedding_rows].indices, minlength=matrix.shape[1])
        embedding_columns = _frequent_columns(df, params.min_count, params.max_vocabulary)
        presence = _select(matrix, embedding_rows, embedding_columns, values=True)
        noise_counts = np.asarray(presence.sum(axis=0)).ravel() if params.count_occurrences else df[embedding_columns]
        log.info("dv-cosine: %d documents x %d n-grams, %d pairs", *presence.shape, presence.nnz)
        ngram_keep = None
        if params.nb_subsample is not None:
            ngram_keep = _nb_keep(_select(matrix, corpus.rows("train"), embedding_columns), train_labels,
                                  self.num_classes, params)
            log.info("dv-cosine: sub-sampling by naive-Bayes weight (nb_subsample %g, rule %s): mean keep %.3f, "
                     "%.1f%% of the n-grams always kept", params.nb_subsample, params.nb_subsample_rule,
                     ngram_keep.mean(), 100 * (ngram_keep >= 1).mean())
        trainer = CosineEmbeddingTrainer(params.embedding_settings(seed=self.config.train.seed))
        checkpoint_dir = params.checkpoint_dir or (str(Path(log_dir) / "embedding-checkpoints") if log_dir else None)
        if checkpoint_dir:
            every = (f"at most every {params.checkpoint_minutes:g} min and after the last epoch"
                     if params.checkpoint_minutes else "after every epoch")
            log.info("dv-cosine: a checkpoint %s in %s (to resume an interrupted run, rerun with "
                     "--set params.checkpoint_dir=%s)", every, checkpoint_dir, checkpoint_dir)
        embedding_started = time.perf_counter()
        trainer.fit(presence, noise_counts=noise_counts, ngram_keep=ngram_keep, checkpoint_dir=checkpoint_dir,
                    checkpoint_minutes=params.checkpoint_minutes,
                    on_epoch=_EpochLogger(log_dir) if log_dir else None, progress=True)
        metrics["embedding_seconds"] = time.perf_counter() - embedding_started
        self.history_ = trainer.history_
        if self.history_:
            metrics["embedding_loss"] = float(self.history_[-1]["loss"])
        self.train_vectors_ = DocumentTable([corpus.keys[i] for i in embedding_rows], trainer.doc_vectors_)

        from tfsenti.embeddings.inference import DocumentInference

        self.inference_ = DocumentInference(
            trainer.ngram_vectors_, pair_weights=trainer.keep_probability_, noise_counts=noise_counts,
            noise_size=params.noise_size, alpha=params.alpha, negatives=params.negatives,
            steps=params.infer_steps, learning_rate=params.infer_learning_rate, noise=params.infer_noise)
        return embedding_columns

    def _labeled_vectors(self, corpus: _Corpus, matrix: sp.csr_matrix, embedding_columns: np.ndarray,
                         metrics: dict[str, float]) -> DocumentTable:
        """The vectors the classifier is trained and validated on, by document id: validation vectors inferred
        (and train vectors too, with `reinfer_train`, so the classifier sees the kind of vector new text gets);
        with `joint_vectors` (the published protocol) the trained vectors of both."""
        params: DVCosineParams = self.params
        if params.joint_vectors:
            log.warning("dv-cosine: joint_vectors: the classifier is fitted to TRAINED vectors of train and "
                        "validation documents (reinfer_train does not apply); joint_predict_with_vectors scores the "
                        "test split that way, but new text (predict_proba, the export) still gets inferred vectors, "
                        "which this classifier was not fitted to: deploy a model fitted without joint_vectors")
            trained_keys = [corpus.keys[i] for i in corpus.rows("train", "validation")]
            return DocumentTable(trained_keys, self.train_vectors_.take(trained_keys))
        from tfsenti.embeddings.inference import infer_csr

        inferred = corpus.rows("validation") + (corpus.rows("train") if params.reinfer_train else [])
        inference_started = time.perf_counter()
        inferred_vectors = infer_csr(self.inference_, _select(matrix, inferred, embedding_columns, values=True),
                                     progress=len(inferred) > 5000)
        metrics["inference_seconds_per_1k_docs"] = (time.perf_counter() - inference_started) / max(
            len(inferred), 1) * 1000
        trained_keys = [] if params.reinfer_train else [corpus.keys[i] for i in corpus.rows("train")]
        return DocumentTable([corpus.keys[i] for i in inferred] + trained_keys,
                             np.vstack([inferred_vectors, self.train_vectors_.take(trained_keys)]))

    def _fit_classifier(self, corpus: _Corpus, matrix: sp.csr_matrix, train, validation,
                        metrics: dict[str, float]) -> np.ndarray:
        """Fit the logistic regression on [NB-BON ; vector_scale * vector], joined by document id with
        `labeled_vectors_`; choose C, the vector scale and the interpolation on validation; refit on train +
        validation if asked. Sets the coefficients and the choice; returns the NB-BON columns of `matrix`."""
        params: DVCosineParams = self.params
        labeled_vectors = self.labeled_vectors_
        train_keys = [corpus.keys[i] for i in corpus.rows("train")]
        validation_keys = [corpus.keys[i] for i in corpus.rows("validation")]
        labeled_rows = corpus.rows("train", "validation")
        # NB-BON features of the labeled rows; their columns and ratios from the train rows only
        nb_columns, nb_table = _nb_features(matrix, corpus, corpus.rows("train"), labeled_rows, params)

        y_train = np.asarray(train.labels)
        nb_train, vectors_train = join_by_id(train_keys, nb_table, labeled_vectors)
        targets = _targets(y_train, self.num_classes)
        ratios = _nb_ratios(nb_train, targets, params.nb_alpha)
        grid = [(c, s) for c in (sorted(set(params.C_grid)) or [params.C])
                for s in (sorted(set(params.vector_scale_grid)) or [params.vector_scale])]
        betas = sorted(set(params.interpolation_grid), reverse=True) or [
            1.0 if params.interpolation is None else params.interpolation]
        if validation is None or len(grid) * len(betas) == 1:
            chosen = (*grid[0], betas[0])
            model = _train_linear(nb_train, vectors_train, ratios, targets, *grid[0], params).interpolated(
                betas[0], ratios)
        else:
            nb_val, vectors_val = join_by_id(validation_keys, nb_table, labeled_vectors)
            best = None
            for c, scale in grid:
                trained = _train_linear(nb_train, vectors_train, ratios, targets, c, scale, params)
                for beta in betas:  # the interpolation needs no new regression: it rescales the trained weights
                    model = trained.interpolated(beta, ratios)
                    accuracy = float((model.probabilities(nb_val, vectors_val).argmax(1) == validation.labels).mean())
                    tag = f"C_{c:g}_scale_{scale:g}" + (f"_beta_{beta:g}" if len(betas) > 1 else "")
                    metrics[f"validation_accuracy/{tag}"] = accuracy  # TensorBoard-safe tag
                    if best is None or accuracy > best[0]:
                        best = (accuracy, (c, scale, beta), model)
            _, chosen, model = best
        if validation is not None:  # before any refit: the score of a model that has not seen these labels
            proba = model.probabilities(*join_by_id(validation_keys, nb_table, labeled_vectors))
            metrics["validation_accuracy"] = float((proba.argmax(1) == validation.labels).mean())
        if params.refit_on_validation and validation is not None:
            # the chosen (C, scale) trained again on train + validation: NB-BON columns and ratios from both
            all_keys = train_keys + validation_keys
            nb_columns, nb_table = _nb_features(matrix, corpus, labeled_rows, labeled_rows, params)
            nb_all, vectors_all = join_by_id(all_keys, nb_table, labeled_vectors)
            targets = _targets(np.concatenate([y_train, np.asarray(validation.labels)]), self.num_classes)
            ratios_all = _nb_ratios(nb_all, targets, params.nb_alpha)
            model = _train_linear(nb_all, vectors_all, ratios_all, targets, *chosen[:2], params).interpolated(
                chosen[2], ratios_all)
            log.info("dv-cosine: C %g, vector scale %g, interpolation %g refit on train + validation (%d "
                     "documents)", *chosen, len(all_keys))
        self.nb_coef_, self.vector_coef_, self.intercept_ = model.nb_coef, model.vector_coef, model.intercept
        self.C_, self.vector_scale_, self.interpolation_ = chosen
        return nb_columns

    def _transductive_texts(self) -> list[str]:
        """The test split's texts (never its labels), for the documented transductive option."""
        from tfsenti.data import load_dataset

        data = self.config.data
        test = load_dataset(data.name, data_dir=data.data_dir, splits=("test",), strict=data.strict)["test"]
        if data.limit_test:
            test = test.sample(data.limit_test, seed=self.config.train.seed + 1)
        log.warning("dv-cosine: transductive_test is on: the %d test texts (no labels) join the embedding corpus; "
                    "report the numbers as transductive", len(test))
        return test.without_labels()

    # ---- inference -------------------------------------------------------------------------------------------
    def document_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Inferred unit vectors (n, dim) of `texts` (zeros for a text with no known n-gram)."""
        self._check_fitted()
        from tfsenti.embeddings.inference import infer_csr

        union = self._union_matrix(texts)
        return infer_csr(self.inference_, _remap_columns(union, self.embedding_row_, values=True))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_with_vectors(texts)[0]

    def predict_with_vectors(self, texts: Sequence[str], *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (n, C) float32, inferred document vectors (n, dim)) from one pass over `texts`."""
        self._check_fitted()
        from tfsenti.embeddings.inference import infer_csr

        union = self._union_matrix(texts)
        vectors = infer_csr(self.inference_, _remap_columns(union, self.embedding_row_, values=True),
                            progress=progress)
        return self._probabilities_of(union, vectors), vectors

    def joint_predict_with_vectors(self, test) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, vectors) of the test split of this fit from its TRAINED vectors (`joint_vectors`, the
        published protocol's scoring), joined by document id; new text has no such vector (`predict_proba` and the
        export infer one). `test` is a TextDataset with the ids of the test split given to the embedding corpus."""
        self._check_fitted()
        if not self.params.joint_vectors:
            raise ConfigError("joint_predict_with_vectors needs a fit with params.joint_vectors=true (and "
                              "params.transductive_test=true); otherwise use predict_with_vectors")
        vectors = self.train_vectors_.take([TEST_TEXT_PREFIX + str(i) for i in test.ids])
        return self._probabilities_of(self._union_matrix(test.texts), vectors), vectors

    def _probabilities_of(self, union: sp.csr_matrix, vectors: np.ndarray) -> np.ndarray:
        """Probabilities (n, C) float32 of documents given as union-vocabulary rows and their vectors, row k of
        both being the same document."""
        model = _LinearModel(self.nb_coef_, self.vector_coef_, self.intercept_)
        return model.probabilities(_remap_columns(union, self.nb_column_), vectors).astype(np.float32)

    def _union_matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        analyzer = NgramAnalyzer(self.params.analyzer_config())
        matrix, _ = binary_matrix(list(texts), analyzer, vocabulary=self.vocabulary_, n_jobs=self.params.n_jobs,
                                  counts=self.params.count_occurrences)
        return matrix

    # ---- export ----------------------------------------------------------------------------------------------
    def export(self, export_dir: str | Path) -> Path:
        """SavedModel: analyzer -> one vocabulary lookup -> distinct n-grams per text (and every occurrence, with
        `count_occurrences`) -> (NB-BON weight sum, vector inference) -> linear model -> probabilities, all
        TensorFlow ops."""
        self._check_fitted()
        import tensorflow as tf

        from tfsenti.export import save_serving_model
        from tfsenti.text.graph_features import distinct_feature_keys, feature_keys, vocabulary_table

        config = self.params.analyzer_config()
        counting = self.params.count_occurrences
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
                if counting:  # the embedding side sees every occurrence, NB-BON each distinct n-gram once
                    occurrences = tf.sort(feature_keys(text, config, table, size))
                    keys, _ = tf.unique(occurrences)  # stays sorted
                else:
                    keys = tf.sort(distinct_feature_keys(text, config, table, size))
                    occurrences = keys  # document-major, columns ascending: the order of the in-process CSR
                key_rows, key_columns = keys // size, keys % size
                nb = tf.gather(nb_column, key_columns)
                in_nb = nb >= 0
                nb_logits = tf.math.unsorted_segment_sum(
                    tf.cast(tf.gather(nb_coef, tf.boolean_mask(nb, in_nb)), tf.float64),
                    tf.boolean_mask(key_rows, in_nb), n_docs)
                occurrence_rows, occurrence_columns = occurrences // size, occurrences % size
                embedding = tf.gather(embedding_row, occurrence_columns)
                in_embedding = embedding >= 0
                vectors = inference(tf.boolean_mask(occurrence_rows, in_embedding),
                                    tf.boolean_mask(embedding, in_embedding), n_docs)
                logits = nb_logits + tf.cast(tf.matmul(vectors, vector_coef), tf.float64) + intercept
                return tf.cast(one_vs_rest_probabilities(logits, tf), tf.float32)

            return save_serving_model(export_dir, probabilities_fn=probabilities, trackables={
                "vocabulary": table, "nb_coef": nb_coef, "vector_coef": vector_coef, "intercept": intercept,
                "inference": inference})


# ---- helpers ---------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Corpus:
    """All texts of one fit, each with a role and a unique key (role-prefixed for unlabeled and test text)."""

    texts: list[str]
    keys: list[str]
    roles: list[str]

    @classmethod
    def build(cls, train, validation, unlabeled, test_text) -> _Corpus:
        texts, keys, roles = [], [], []
        parts = [("train", train, ""), ("validation", validation, ""), ("unlabeled", unlabeled, "unlabeled:"),
                 ("test_text", test_text, TEST_TEXT_PREFIX)]
        for role, dataset, prefix in parts:
            if dataset is None:
                continue
            texts += list(dataset.texts)
            keys += [prefix + str(i) for i in dataset.ids]
            roles += [role] * len(dataset)
        if len(set(keys)) != len(keys):
            raise AlignmentError("Document ids repeat across train and validation (or within a split); every "
                                 "document needs its own id so that features and vectors join correctly.")
        return cls(texts, keys, roles)

    def rows(self, *roles: str) -> list[int]:
        wanted = set(roles)
        return [i for i, role in enumerate(self.roles) if role in wanted]


@dataclasses.dataclass
class _LinearModel:
    nb_coef: np.ndarray      # (NB columns, K) float32, ratios folded in
    vector_coef: np.ndarray  # (dim, K) float32, vector scale folded in
    intercept: np.ndarray    # (K,) float64
    nb_mean_abs: np.ndarray | None = None  # (K,) mean |w| of the NB-BON weights before r was folded in

    def interpolated(self, beta: float, ratios: np.ndarray) -> _LinearModel:
        """Wang & Manning's interpolation for the ensemble: NB-BON weights `(1 - beta) * mean|w| + beta * w`
        (r folded in afterwards, as trained), vector weights `beta * w`, intercept unchanged; beta 1: this model.

        Example:
            >>> m = _LinearModel(np.array([[2.0], [-1.0]]), np.array([[4.0]]), np.zeros(1), np.array([1.0]))
            >>> half = m.interpolated(0.5, np.array([[2.0], [1.0]]))  # w = [1, -1], mean|w| = 1, r = [2, 1]
            >>> half.nb_coef.ravel().tolist(), half.vector_coef.ravel().tolist()
            ([2.0, 0.0], [2.0])
        """
        if beta == 1.0:
            return self
        nb_coef = beta * self.nb_coef.astype(np.float64) + (1.0 - beta) * self.nb_mean_abs[None, :] * ratios
        return _LinearModel(nb_coef.astype(np.float32), (beta * self.vector_coef).astype(np.float32),
                            self.intercept, self.nb_mean_abs)

    def probabilities(self, nb: sp.csr_matrix, vectors: np.ndarray) -> np.ndarray:
        logits = (nb.astype(np.float64) @ self.nb_coef.astype(np.float64)
                  + vectors.astype(np.float64) @ self.vector_coef.astype(np.float64) + self.intercept)
        return one_vs_rest_probabilities(logits)


def _nb_features(matrix: sp.csr_matrix, corpus: _Corpus, count_rows: list[int], labeled_rows: list[int],
                 params: DVCosineParams) -> tuple[np.ndarray, DocumentTable]:
    """NB-BON columns (n-grams in >= min_df of the `count_rows` documents; none unless `features: ensemble`) and
    the binary features of the `labeled_rows` documents on them, by document id."""
    if params.features == "ensemble":
        df = np.bincount(matrix[count_rows].indices, minlength=matrix.shape[1])
        columns = np.flatnonzero(df >= params.min_df)
    else:
        columns = np.zeros(0, np.int64)
    return columns, DocumentTable([corpus.keys[i] for i in labeled_rows], _select(matrix, labeled_rows, columns))


def _nb_keep(train_presence: sp.csr_matrix, labels: np.ndarray, num_classes: int,
             params: DVCosineParams) -> np.ndarray:
    """Keep probability of each embedding n-gram by its naive-Bayes weight, r its log-count ratio on the TRAINING
    labels (the largest |r| over the one-vs-rest targets when K > 2), tau = `nb_subsample`:
    `nb_subsample_rule: linear` keeps min(1, |r| / tau); `exp` keeps min(1, exp(|r| / tau) / 3), the rule of
    Zhang & Arefyev (2022) (their Bgzh/dv-cosine: tau 2, so never less than a third of an n-gram's pairs).

    N-grams that say little about the label are visited less, so the embedding spends its epochs on the ones that
    do. Only training labels are read (never validation or test); n-grams absent from the training documents get
    r = log of the ratio of the classes' total counts, near 0.

    Example:
        >>> m = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 0], [1, 0, 1]], dtype=np.float32))
        >>> p = DVCosineParams(nb_subsample=1.0, nb_alpha=0.5)
        >>> np.round(_nb_keep(m, np.array([1, 0, 1, 0]), 2, p), 2).tolist()  # n-gram 0 is in every document
        [0.0, 1.0, 1.0]
        >>> p = DVCosineParams(nb_subsample=2.0, nb_subsample_rule="exp", nb_alpha=0.5)
        >>> [round(float(k), 2) for k in _nb_keep(m, np.array([1, 0, 1, 0]), 2, p)]  # |r| = log 5 for 1 and 2
        [0.33, 0.75, 0.75]
    """
    weight = np.abs(_nb_ratios(train_presence, _targets(labels, num_classes), params.nb_alpha)).max(axis=1)
    if params.nb_subsample_rule == "exp":
        keep = np.exp(weight / params.nb_subsample) / 3.0
    else:
        keep = weight / params.nb_subsample
    return np.minimum(1.0, keep).astype(np.float32)


def _targets(labels: np.ndarray, num_classes: int) -> list[np.ndarray]:
    """Boolean targets of the one-vs-rest regressions: one (label == 1) when binary, else one per class."""
    return [labels == 1] if num_classes == 2 else [labels == k for k in range(num_classes)]


def _nb_ratios(nb: sp.csr_matrix, targets, nb_alpha: float) -> np.ndarray:
    """(NB columns, len(targets)) naive-Bayes log-count ratios of each target (empty without NB-BON columns)."""
    if not nb.shape[1]:
        return np.zeros((0, len(targets)))
    return np.stack([nb_ratio(nb, t, nb_alpha) for t in targets], axis=1)


def _train_linear(nb: sp.csr_matrix, vectors: np.ndarray, ratios: np.ndarray, targets, C: float, scale: float,
                  params: DVCosineParams) -> _LinearModel:
    """One L2 logistic regression per target on [nb * r ; scale * vector] (one-vs-rest when K > 2)."""
    nb_coefs, vector_coefs, intercepts, nb_mean_abs = [], [], [], []
    n_nb = nb.shape[1]
    for k, target in enumerate(targets):
        scaled = sp.csr_matrix((ratios[nb.indices, k], nb.indices, nb.indptr), shape=nb.shape) if n_nb else nb
        design = sp.hstack([scaled, sp.csr_matrix(scale * vectors.astype(np.float64))], format="csr")
        solution = train_logistic(design, target, C, max_iter=params.max_iter, tol=params.tol)
        nb_coefs.append(solution[:n_nb] * ratios[:, k] if n_nb else np.zeros(0))
        nb_mean_abs.append(np.abs(solution[:n_nb]).mean() if n_nb else 0.0)
        vector_coefs.append(solution[n_nb:-1] * scale)
        intercepts.append(solution[-1])
    return _LinearModel(np.stack(nb_coefs, axis=1).astype(np.float32),
                        np.stack(vector_coefs, axis=1).astype(np.float32), np.array(intercepts),
                        np.array(nb_mean_abs))


def _frequent_columns(df: np.ndarray, min_count: int, max_vocabulary: int | None) -> np.ndarray:
    columns = np.flatnonzero(df >= min_count)
    if max_vocabulary is not None and len(columns) > max_vocabulary:
        columns = np.sort(columns[np.argsort(-df[columns], kind="stable")[:max_vocabulary]])
    return columns


def _select(matrix: sp.csr_matrix, rows: Sequence[int], columns: np.ndarray, *, values: bool = False
            ) -> sp.csr_matrix:
    """matrix[rows][:, columns] with columns renumbered 0..len(columns)-1, sorted indices; values 1 (presence)
    unless `values` keeps the stored ones (occurrence counts)."""
    remap = np.full(matrix.shape[1], -1, dtype=np.int64)
    remap[columns] = np.arange(len(columns))
    return _remap_columns(matrix[np.asarray(rows, dtype=np.int64)], remap, len(columns), values=values)


def _remap_columns(matrix: sp.csr_matrix, remap: np.ndarray, width: int | None = None, *, values: bool = False
                   ) -> sp.csr_matrix:
    """Rename the columns of a CSR matrix by `remap` (old -> new, -1 drops it); values 1 (presence) unless
    `values` keeps the stored ones."""
    width = int(remap.max()) + 1 if width is None else width
    width = max(width, 0)
    indices = remap[matrix.indices]
    keep = indices >= 0
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]))])
    data = matrix.data[keep].astype(np.float32) if values else np.ones(int(keep.sum()), np.float32)
    out = sp.csr_matrix((data, indices[keep].astype(np.int32), indptr),
                        shape=(matrix.shape[0], width))
    out.sort_indices()
    return out


def _position_map(union: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """For each union column, its position in `subset` (both sorted), or -1."""
    position = np.searchsorted(subset, union)
    found = (position < len(subset)) & (subset[np.minimum(position, max(len(subset) - 1, 0))] == union) if len(
        subset) else np.zeros(len(union), bool)
    return np.where(found, position, -1).astype(np.int64)


class _EpochLogger:
    """TensorBoard scalars per embedding epoch under `<log_dir>/embedding`: loss, positive loss, seconds."""

    def __init__(self, log_dir):
        self.log_dir = Path(log_dir) / "embedding"

    def __call__(self, report) -> None:
        import tensorflow as tf

        writer = tf.summary.create_file_writer(str(self.log_dir))
        with writer.as_default():
            tf.summary.scalar("embedding/loss", report.loss, step=report.epoch)
            tf.summary.scalar("embedding/positive_loss", report.positive_loss, step=report.epoch)
            tf.summary.scalar("embedding/epoch_seconds", report.seconds, step=report.epoch)
        writer.flush()
        writer.close()
