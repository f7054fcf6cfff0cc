"""Resume after interruption: a training subprocess is killed (SIGKILL) mid-epoch right after a step checkpoint;
the same command started again continues from that step and ends where an uninterrupted run ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bert_fixtures import write_wordpiece_folder

REPO = Path(__file__).resolve().parents[1]
PROBES = ["loved it, excellent", "boring and awful", "", "정말 최고"]

_TRAIN = r"""
import json, os, signal, sys
import tfsenti
from tfsenti.config import build_config
from tfsenti.recipes.bert import BertRecipe
from tfsenti.training import callbacks, optimizer
from toy_data import toy_dataset

kill_at = int(sys.argv[4])
if kill_at:
    original = callbacks.StepCheckpointer.on_train_batch_end
    def save_then_die(self, batch, logs=None):
        original(self, batch, logs)
        if optimizer.micro_steps(self.model.optimizer) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)   # as hard as a power cut: no cleanup runs
    callbacks.StepCheckpointer.on_train_batch_end = save_then_die
config = build_config("bert", "imdb", default_file=False, overrides=json.loads(sys.argv[5]) + [
    f"train.pretrained={sys.argv[2]}", f"params.checkpoint_dir={sys.argv[3]}"])
recipe = BertRecipe(config, num_classes=2)
summary = recipe.fit(toy_dataset(40, seed=1), toy_dataset(8, seed=2, prefix="val"))
print(json.dumps({"summary": summary, "probabilities": recipe.predict_proba(json.loads(sys.argv[6])).tolist()}))
"""

OVERRIDES = ["train.epochs=2", "train.batch_size=4", "params.checkpoint_every=3", "params.learning_rate=0.003",
             "params.sequence_length=16", "params.patience=null", "params.verbose=0", "params.pooling=mean",
             "params.dropout=0.0"]


def _train(folder, checkpoints, kill_at=0):
    return subprocess.run([sys.executable, "-c", _TRAIN, str(REPO), str(folder), str(checkpoints), str(kill_at),
                           json.dumps(OVERRIDES), json.dumps(PROBES)],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
                          cwd=Path(__file__).parent)  # `python -c` imports toy_data from its working folder


@pytest.mark.slow
def test_killed_mid_epoch_resumes_where_it_stopped(tmp_path):
    folder = write_wordpiece_folder(tmp_path / "tiny-hf")  # also covers the local Hugging Face folder path
    killed = _train(folder, tmp_path / "ckpt", kill_at=6)  # 10 steps per epoch: killed in the first epoch
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (tmp_path / "ckpt" / "steps" / "ckpt-6.index").is_file()

    resumed = _train(folder, tmp_path / "ckpt")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["summary"]["resumed_from_step"] == 6
    # 2 epochs x 10 steps: no batch trained twice or skipped
    assert result["summary"]["epochs_run"] == 2 and result["summary"]["steps_trained"] == 20

    # an uninterrupted run (in this process) ends with the same model
    from toy_data import toy_dataset

    from tfsenti.config import build_config
    from tfsenti.recipes.bert import BertRecipe

    config = build_config("bert", "imdb", default_file=False, overrides=OVERRIDES + [f"train.pretrained={folder}",
                                                                 f"params.checkpoint_dir={tmp_path / 'straight'}"])
    straight = BertRecipe(config, num_classes=2)
    assert straight.fit(toy_dataset(40, seed=1), toy_dataset(8, seed=2, prefix="val"))["resumed_from_step"] == 0
    np.testing.assert_allclose(result["probabilities"], straight.predict_proba(PROBES), atol=1e-5)
