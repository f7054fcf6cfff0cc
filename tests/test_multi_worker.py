"""Multi-worker training with real workers: two processes on free localhost ports (TF_CONFIG set per process, real
gRPC collectives on CPU) train the tiny BERT through `tfsenti.train(..., strategy="multi_worker")`.

- Both workers end with the same weights; the chief's export reloads in a fresh process (no tfsenti) with the same
  probabilities; the other worker leaves nothing behind (its run folder, export and checkpoints were temporary).
- A worker killed mid-training (SIGKILL, right after a step) takes the cluster down; the whole cluster restarted
  with the same command resumes from the chief's checkpoint and ends with the uninterrupted run's model.

Every subprocess has a timeout; ports are asked from the OS.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bert_fixtures import write_wordpiece_folder

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
PROBES = ["loved it, excellent", "boring and awful", "", "정말 최고"]
TIMEOUT = 240  # seconds any worker may take; nothing waits longer
OVERRIDES = ["train.epochs=2", "train.batch_size=8", "params.checkpoint_every=2", "params.learning_rate=0.003",
             "params.sequence_length=16", "params.patience=null", "params.verbose=0", "params.pooling=mean",
             "params.dropout=0.0", "params.predict_batch_size=16"]
STEPS_PER_EPOCH = 5  # 40 training rows (of 44: 4 carved for validation) / global batch 8

_WORKER = r"""
import json, os, signal, sys
import numpy as np
args = json.loads(sys.argv[1])
from tfsenti.training import callbacks, optimizer

if args["kill_at"]:
    original = callbacks.StepCheckpointer.on_train_batch_end
    def train_then_die(self, batch, logs=None):
        original(self, batch, logs)
        if optimizer.micro_steps(self.model.optimizer) == args["kill_at"]:
            os.kill(os.getpid(), signal.SIGKILL)   # a machine lost: no cleanup runs
    callbacks.StepCheckpointer.on_train_batch_end = train_then_die

from tfsenti.recipes.bert import BertRecipe
fitted = []
original_fit = BertRecipe.fit
def keep_recipe(self, *a, **k):
    fitted.append(self)
    return original_fit(self, *a, **k)
BertRecipe.fit = keep_recipe

import tfsenti
result = tfsenti.train("bert", args["data"], test=args["test"], pretrained=args["pretrained"], strategy="multi_worker",
                       runs_dir=args["runs"], models_dir=args["models"], progress=False,
                       overrides=args["overrides"] + [f"params.checkpoint_dir={args['checkpoints']}"])
recipe = fitted[0]
print(json.dumps({"fit": result.metrics["fit"], "run_dir": str(result.run_dir), "model_dir": str(result.model_dir),
                  "weights": [float(np.sum(w.numpy(), dtype=np.float64)) for w in recipe.model_.weights],
                  "probabilities": recipe.predict_proba(args["probes"]).tolist()}))
"""

_RELOAD = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
assert "tfsenti" not in sys.modules
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
print(json.dumps(serve(text=tf.constant(json.loads(sys.argv[2])))["probabilities"].numpy().tolist()))
"""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _write_csv(path: Path, dataset) -> Path:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(dataset.texts, [dataset.class_names[i] for i in dataset.labels]))
    return path


@pytest.fixture(scope="module")
def cluster_inputs(tmp_path_factory):
    from toy_data import toy_dataset

    root = tmp_path_factory.mktemp("multi_worker")
    return {"pretrained": str(write_wordpiece_folder(root / "tiny-hf")),
            "data": str(_write_csv(root / "train.csv", toy_dataset(44, seed=1))),
            "test": str(_write_csv(root / "test.csv", toy_dataset(12, seed=3, prefix="test"))),
            "root": root}


def _start_cluster(inputs, name: str, *, kill_at: tuple[int, int] = (0, 0)) -> list[tuple[subprocess.Popen, Path]]:
    """Two workers of one cluster; each has its own TMPDIR (to see what it leaves behind) and its output files."""
    root = inputs["root"] / name
    hosts = [f"localhost:{port}" for port in _free_ports(2)]
    workers = []
    for index in range(2):
        temporary = root / f"tmp-worker{index}"
        temporary.mkdir(parents=True, exist_ok=True)
        args = {"data": inputs["data"], "test": inputs["test"], "pretrained": inputs["pretrained"],
                "runs": str(inputs["root"] / name / "runs"), "models": str(inputs["root"] / name / "saved_models"),
                "checkpoints": str(inputs["root"] / name / "checkpoints"), "overrides": OVERRIDES,
                "probes": PROBES, "kill_at": kill_at[index]}
        tf_config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(tf_config), TMPDIR=str(temporary), TF_CPP_MIN_LOG_LEVEL="2",
                   PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]))
        log = open(root / f"worker{index}.log", "w")
        process = subprocess.Popen([sys.executable, "-c", _WORKER, json.dumps(args)], stdout=log,
                                   stderr=subprocess.STDOUT, env=env, cwd=HERE)
        workers.append((process, root / f"worker{index}.log", temporary))
    return workers


def _finish(workers, timeout: float = TIMEOUT) -> list[dict]:
    """Wait for every worker (killing all of them if one runs past `timeout`); their printed results."""
    deadline = time.monotonic() + timeout
    try:
        for process, _, _ in workers:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        for process, _, _ in workers:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    results = []
    for process, log, _ in workers:
        output = log.read_text(encoding="utf-8", errors="replace")
        assert process.returncode == 0, f"{log.name} exited {process.returncode}:\n{output[-3000:]}"
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


@pytest.fixture(scope="module")
def uninterrupted(cluster_inputs):
    workers = _start_cluster(cluster_inputs, "straight")
    return _finish(workers), workers, cluster_inputs["root"] / "straight"


def test_two_workers_train_the_same_model_and_only_the_chief_writes(uninterrupted):
    (chief, other), workers, root = uninterrupted
    for result in (chief, other):
        assert result["fit"]["workers"] == 2 and result["fit"]["steps_trained"] == 2 * STEPS_PER_EPOCH
    assert (chief["fit"]["worker_index"], other["fit"]["worker_index"]) == (0, 1)
    # the same weights on both workers (synchronous all-reduce), hence the same predictions
    np.testing.assert_allclose(chief["weights"], other["weights"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(chief["probabilities"], other["probabilities"], atol=1e-6)

    # only the chief's run folder, export and checkpoints exist; the other worker's were temporary and are gone
    assert [path.name for path in (root / "runs").iterdir()] == [Path(chief["run_dir"]).name]
    assert (Path(chief["run_dir"]) / "metrics.json").is_file()
    assert Path(chief["model_dir"]).parent.parent == root / "saved_models"
    assert [path.name for path in (root / "saved_models").iterdir()] == [Path(chief["model_dir"]).parent.name]
    assert not Path(other["run_dir"]).exists() and not Path(other["model_dir"]).exists()
    assert (root / "checkpoints" / "steps").is_dir()
    for _, _, temporary in workers:
        assert list(temporary.iterdir()) == [], f"left behind in {temporary}: {list(temporary.iterdir())}"

    # the chief's export obeys the contract: reloaded where tfsenti was never imported, same probabilities
    completed = subprocess.run([sys.executable, "-c", _RELOAD, chief["model_dir"], json.dumps(PROBES)],
                               capture_output=True, text=True, timeout=TIMEOUT)
    assert completed.returncode == 0, completed.stderr[-3000:]
    np.testing.assert_allclose(json.loads(completed.stdout.strip().splitlines()[-1]), chief["probabilities"],
                               atol=1e-4)


def test_a_killed_worker_and_its_restarted_cluster_resume_and_complete(cluster_inputs, uninterrupted):
    (straight, _), _, _ = uninterrupted
    kill_at = STEPS_PER_EPOCH + 2  # in epoch 2: worker 1 dies right after step 7, the chief saved step 6
    workers = _start_cluster(cluster_inputs, "restarted", kill_at=(0, kill_at))
    killed, killed_log, _ = workers[1]
    try:
        assert killed.wait(timeout=TIMEOUT) == -signal.SIGKILL, killed_log.read_text()[-3000:]
        chief = workers[0][0]
        try:  # the chief's collectives fail with the peer gone; a cluster manager restarts what does not stop
            chief.wait(timeout=20)
        except subprocess.TimeoutExpired:
            chief.kill()
            chief.wait(timeout=30)
    finally:
        for process, _, _ in workers:
            if process.poll() is None:
                process.kill()
    checkpoints = cluster_inputs["root"] / "restarted" / "checkpoints" / "steps"
    assert (checkpoints / f"ckpt-{kill_at - 1}.index").is_file()

    chief, other = _finish(_start_cluster(cluster_inputs, "restarted"))  # the same command, both workers
    for result in (chief, other):
        assert result["fit"]["resumed_from_step"] == kill_at - 1
        assert result["fit"]["steps_trained"] == 2 * STEPS_PER_EPOCH and result["fit"]["epochs_run"] == 2
    np.testing.assert_allclose(chief["weights"], other["weights"], rtol=1e-6, atol=1e-6)
    # no step trained twice or skipped: the model of the run that was never interrupted
    np.testing.assert_allclose(chief["probabilities"], straight["probabilities"], atol=1e-5)
