"""Every recipe passes the same contract, on 2 and on 3 classes; a new recipe joins by adding a line to CASES."""

import pytest

from contract import run_contract

CASES = {
    "nbbon": [],
    "ktrain": ["train.pretrained=scratch", "params.maxlen=32", "train.batch_size=8", "train.epochs=10",
               "params.learning_rate=0.005", "params.verbose=0"],
    "tfhub": ["train.pretrained=train-text", "params.vector_dim=8", "params.vector_min_count=1", "train.epochs=30",
              "train.batch_size=16", "params.learning_rate=0.01", "params.verbose=0"],
    "bert": ["train.pretrained=scratch", "params.scratch_hidden_dim=32", "params.pooling=mean", "train.epochs=8",
             "train.batch_size=8", "params.learning_rate=0.003", "params.sequence_length=24", "params.dropout=0.0",
             "params.patience=null", "params.verbose=0"],
    "uda": ["train.pretrained=scratch", "params.scratch_hidden_dim=32", "params.pooling=mean", "train.epochs=2",
            "train.batch_size=8", "params.learning_rate=0.003", "params.sequence_length=24", "params.dropout=0.0",
            "params.train_steps=60", "params.labeled_per_class=25", "params.unsup_ratio=1",
            "params.extra_unlabeled=null", "params.verbose=0"],
    "dvcosine": ["params.dim=16", "params.epochs=10", "params.min_df=1", "params.min_count=1", "params.subsample=null",
                 "params.threads=1", "params.batch_size=16", "params.noise_samples=64", "params.noise_size=64"],
}
# changes for the 3-class corpus (120 training texts instead of 80), applied after CASES
THREE_CLASSES = {"ktrain": ["train.epochs=20", "params.learning_rate=0.002"]}  # else neutral can merge into negative


SLOW = {"bert", "ktrain", "tfhub", "uda"}  # 10-23 s each on 2 cores; the quick run (-m "not slow") keeps the others


@pytest.mark.parametrize("num_classes", [2, 3])
@pytest.mark.parametrize("recipe_name", [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name
                                         for name in sorted(CASES)])
def test_recipe_contract(recipe_name, num_classes, tmp_path):
    overrides = CASES[recipe_name] + (THREE_CLASSES.get(recipe_name, []) if num_classes == 3 else [])
    run_contract(recipe_name, tmp_path, overrides=overrides, num_classes=num_classes)
