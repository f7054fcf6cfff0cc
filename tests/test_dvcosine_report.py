"""benchmarks/dvcosine.py: a transductive run (test text in the embedding corpus) is reported on its own line and
never becomes the headline that the leak-free target is judged on; so do the diagnostics (inferred against trained
vectors, seed averaging), whose arithmetic is checked on fits whose right answers are known."""

import numpy as np

import dvcosine


def _run(validation: float, test: float, *, transductive: bool) -> dict:
    params = {"word_ngrams": [1, 3], "char_ngrams": None, "min_count": 3, "alpha": 6.0, "negatives": 5,
              "subsample": 0.001, "batch_size": 256, "threads": 2, "init": "svd", "infer_steps": 15,
              "transductive": transductive, "use_unlabeled": True}
    row = {"epochs": 4, "dim": 100, "fit_seconds_cumulative": 400.0, "embedding_seconds": 260.0,
           "test_seconds": 70.0, "validation_ensemble": validation, "validation_vectors_only": 0.91,
           "test_ensemble": test, "test_vectors_only": 0.91, "peak_rss_gib": 8.0}
    return {"data": "imdb", "train": 22500, "validation": 2500, "test": 25000, "unlabeled": 50000,
            "load_seconds": 9.0, "params": params, "rows": [row], "date": "2026-11-30", "machine": "test",
            "overrides": ["params.transductive=true"] if transductive else [], "command": "bench"}


def test_a_transductive_row_is_never_the_headline():
    text = dvcosine._markdown([_run(0.928, 0.9288, transductive=False), _run(0.990, 0.9400, transductive=True)])
    headline = next(line for line in text.splitlines() if line.startswith("Chosen on validation"))
    assert "run 1" in headline and "92.88%" in headline and "**missed**" in headline
    side = next(line for line in text.splitlines() if line.startswith("Transductive rows"))
    assert "run 2" in side and "94.00%" in side


def test_without_transductive_rows_there_is_no_transductive_line():
    text = dvcosine._markdown([_run(0.928, 0.9288, transductive=False)])
    assert "Transductive rows" not in text


def test_the_shared_settings_line_describes_a_run_without_overrides():
    base = _run(0.92, 0.92, transductive=False)
    tuned = _run(0.93, 0.93, transductive=False)
    tuned["params"] = {**tuned["params"], "infer_steps": 40}
    tuned["overrides"] = ["params.infer_steps=40"]
    text = dvcosine._markdown([base, tuned])  # the run with an override is the latest
    assert "inference 15 steps" in text and "inference 40 steps" not in text.split("| run |")[0]
    assert "`params.infer_steps=40`" in text  # the override is in its own row


def test_a_sweep_on_validation_only_names_its_best_row_without_a_test_figure():
    sweep = _run(0.930, None, transductive=False)
    sweep["rows"][0].update(test_vectors_only=None, test_seconds=None)
    text = dvcosine._markdown([_run(0.928, 0.9288, transductive=False), sweep])
    headline = next(line for line in text.splitlines() if line.startswith("Chosen on validation"))
    assert "run 2" in headline and "validation 93.00%" in headline and "test not scored" in headline
    assert "Target" not in headline  # no verdict without a test figure
    row = next(line for line in text.splitlines() if line.startswith("| 2 |"))
    assert row.count("not scored") == 2


def test_when_every_run_has_overrides_the_settings_line_describes_the_recorded_config():
    tuned = _run(0.93, 0.93, transductive=False)
    tuned["params"] = {**tuned["params"], "subsample": 0.01}
    tuned["overrides"] = ["params.subsample=0.01"]
    tuned["config_params"] = _run(0.93, 0.93, transductive=False)["params"]
    text = dvcosine._markdown([tuned])
    assert "subsample 0.001" in text.split("| run |")[0] and "`params.subsample=0.01`" in text


def test_a_joint_row_scored_with_inferred_vectors_gets_a_line_of_its_own():
    joint = _run(0.93, 0.9337, transductive=True)
    joint["rows"][0].update(test_vectors_only=0.9341, test_ensemble_inferred=0.9301, test_vectors_only_inferred=0.9222,
                            validation_vectors_only_reinferred=0.9204, test_vectors_only_reinferred=0.9281,
                            inferred_scoring_seconds=300.0)
    text = dvcosine._markdown([_run(0.928, 0.9288, transductive=False), joint])
    line = next(line for line in text.splitlines() if line.startswith("Run 2 after 4 epochs, scored once more"))
    for figure in ("ensemble on inferred test vectors 93.01% (on trained: 93.37%)",
                   "on inferred test vectors 92.22% (on trained: 93.41%)", "throughout 92.81% (validation 92.04%)",
                   "5.0 min"):
        assert figure in line
    assert "scored once more" not in dvcosine._markdown([_run(0.928, 0.9288, transductive=False)])


def test_a_seed_averaged_row_gets_a_line_of_its_own_and_never_the_headline():
    averaged = _run(0.925, 0.9270, transductive=False)
    averaged["rows"][0].update(
        seed_runs=[{"seed": 1234, "validation_ensemble": 0.925, "test_ensemble": 0.927, "validation_vectors_only": 0.92,
                    "test_vectors_only": 0.925},
                   {"seed": 1235, "validation_ensemble": 0.921, "test_ensemble": 0.9301,
                    "validation_vectors_only": 0.919, "test_vectors_only": 0.9233}],
        validation_ensemble_seed_average=0.995, test_ensemble_seed_average=0.9512,
        validation_vectors_only_side_by_side=0.9308, test_vectors_only_side_by_side=0.9344,
        seed_averaging_seconds=1800.0)
    text = dvcosine._markdown([_run(0.928, 0.9288, transductive=False), averaged])
    line = next(line for line in text.splitlines() if line.startswith("Run 2 after 4 epochs, fitted 2 times"))
    for figure in ("train.seed 1234, 1235", "test 92.70% / 93.01% (dv-cosine alone 92.50% / 92.33%; validation "
                   "92.50% / 92.10%)", "validation 99.50%, **test 95.12%**", "(2 x 100 dimensions): validation "
                   "93.08%, test 93.44%", "30 min"):
        assert figure in line
    headline = next(line for line in text.splitlines() if line.startswith("Chosen on validation"))
    assert "run 1" in headline and "95.12" not in headline  # the average is not one exported model


class _SeedFit:
    """A stand-in for a fitted recipe: fixed probabilities and vectors per seed (see the seed-averaging test)."""

    def __init__(self, seed, num_classes):
        self.seed = seed

    def fit(self, train, validation, *, unlabeled=None):
        return {"validation_accuracy": 0.75}

    def _vectors(self, count):  # the label of documents 1 and 3 of every 4 (the first fit's vectors: 0 and 2)
        return np.tile([[0.0], [1.0], [0.0], [-1.0]], (count // 4, 1))

    def predict_with_vectors(self, texts, progress=False):
        positive = [0.6, 0.9, 0.55, 0.1]  # the first fit's (the test's `first`): [0.9, 0.45, 0.3, 0.1]
        return np.array([[1 - p, p] for p in positive]), self._vectors(len(texts))

    def predict_proba(self, texts):
        return self.predict_with_vectors(texts)[0]

    @property
    def labeled_vectors_(self):
        from tfsenti.embeddings.alignment import DocumentTable

        return DocumentTable([f"t{i}" for i in range(8)] + [f"v{i}" for i in range(4)],
                             np.vstack([self._vectors(8), self._vectors(4)]))


def test_seed_averaging_averages_the_probabilities_and_puts_the_vectors_side_by_side():
    from types import SimpleNamespace

    labels = [1, 1, 0, 0]  # the sign of (fit 0's vector) + (fit 1's vector): each alone is 0 for half the documents
    split = SimpleNamespace
    data = SimpleNamespace(train=split(ids=[f"t{i}" for i in range(8)], labels=np.array(labels * 2), num_classes=2),
                           validation=split(ids=[f"v{i}" for i in range(4)], labels=np.array(labels),
                                            texts=["a"] * 4),
                           test=split(labels=np.array(labels), texts=["a"] * 4), unlabeled=None)
    first_vectors = np.tile([[1.0], [0.0], [-1.0], [0.0]], (3, 1))
    first = {"seed": 0, "validation_ensemble": 0.75, "test_ensemble": 0.75, "validation_vectors_only": 0.75,
             "test_vectors_only": 0.75, "validation_probabilities": np.array([[0.1, 0.9], [0.55, 0.45], [0.7, 0.3],
                                                                               [0.9, 0.1]]),
             "test_probabilities": np.array([[0.1, 0.9], [0.55, 0.45], [0.7, 0.3], [0.9, 0.1]]),
             "train_vectors": first_vectors[:8], "validation_vectors": first_vectors[8:],
             "test_vectors": first_vectors[:4]}
    result = dvcosine._seed_average(first, 0, data, _SeedFit, 2, config_of_seed=lambda seed: seed)
    assert [run["seed"] for run in result["seed_runs"]] == [0, 1]
    assert result["seed_runs"][1]["test_ensemble"] == 0.75  # fit 1 alone: [0.6, 0.9, 0.55, 0.1] -> 3 of 4
    # averaged: [0.75, 0.675, 0.425, 0.1] -> all 4 right, where each fit alone gets 3
    assert result["test_ensemble_seed_average"] == 1.0 and result["validation_ensemble_seed_average"] == 1.0
    # fit 0's vectors and fit 1's tell the label of different halves: only side by side are all 4 right
    assert result["test_vectors_only_side_by_side"] == 1.0 and result["validation_vectors_only_side_by_side"] == 1.0
