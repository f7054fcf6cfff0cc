"""Training on more than one device or machine: a `tf.distribute` strategy by name, who the chief is, how each
input kind is sharded, and where a worker that is not the chief may write.

- `default`: no distribution (the current strategy: one device).
- `mirrored`: `tf.distribute.MirroredStrategy`, every GPU of this machine (or the CPU alone).
- `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy`; the cluster and this process's place in it come from
  the `TF_CONFIG` environment variable (docs/CLUSTER.md), which must be set.

`train.batch_size` is always the GLOBAL batch: one optimizer step consumes that many rows summed over every replica
of every worker (each of R replicas computes batch_size / R rows), so the number of steps, the learning-rate
schedule (counted in those global steps) and the result do not depend on how many workers share the work.

The chief (TF's rule: the `chief` task, else worker 0) writes the run folder, TensorBoard events, checkpoints and
the export; every other worker runs the same code but writes into a temporary folder that is removed when it ends
(`chief_or_temporary`). A strategy is created once per process (`get_strategy`): TensorFlow configures collective
ops once, and multi-worker must be created before TensorFlow runs its first op.

Example:
    >>> parse_tf_config('{"cluster": {"worker": ["a:1", "b:1", "c:1"]}, "task": {"type": "worker", "index": 2}}')
    WorkerRole(index=2, count=3, is_chief=False)
    >>> parse_tf_config(None)
    WorkerRole(index=0, count=1, is_chief=True)
    >>> with chief_or_temporary("runs", is_chief=True) as folder:
    ...     str(folder)
    'runs'
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tfsenti.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi_worker")
# How a tf.data input of each kind is split between workers (tf.data.experimental.AutoShardPolicy names):
# - in_memory (from_tensor_slices of arrays held by every worker) and generator (from_generator over them): there
#   are no files to hand out, so FILE sharding is impossible; DATA makes every worker build the same seeded batches
#   and keep its own slice of each global batch, so all workers run the same number of steps, bert's length
#   grouping survives, and a resumed epoch skips the same batches on every worker.
# - text_lines (one stream read from a single file, UDA's unlabeled pool, zipped with in-memory rows): one file
#   cannot be split by FILE either; DATA again.
# - files (many files, more than workers): FILE, each worker reads only its files and never the others' bytes.
SHARD_POLICIES = {"in_memory": "DATA", "generator": "DATA", "text_lines": "DATA", "files": "FILE"}

_STRATEGIES_MADE: dict[str, object] = {}  # one per process and name: collectives are configured once


@dataclasses.dataclass(frozen=True)
class WorkerRole:
    """This process's place in the cluster: `index` of `count` workers; `is_chief` writes runs and exports."""

    index: int = 0
    count: int = 1
    is_chief: bool = True


def check_strategy_name(name: str) -> str:
    """`name` if it is one of STRATEGIES, else ConfigError listing them."""
    if name not in STRATEGIES:
        raise ConfigError(f"Unknown strategy {name!r}; choose one of {list(STRATEGIES)} (--strategy or "
                          "train.strategy).")
    return name


def parse_tf_config(text: str | None) -> WorkerRole:
    """The WorkerRole that a TF_CONFIG value describes (None or empty: a single worker, the chief).

    The chief is the `chief` task where the cluster has one, else worker 0 (TensorFlow's own rule); `count` counts
    the tasks that train (chief and workers; parameter servers and evaluators are not supported).
    """
    if not text:
        return WorkerRole()
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        task_type, task_index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"TF_CONFIG is not a valid cluster description ({error}); received {text!r}. Expected "
                          '{"cluster": {"worker": ["host1:port", ...]}, "task": {"type": "worker", "index": 0}} '
                          "(see docs/CLUSTER.md).") from error
    unsupported = sorted(set(cluster) - {"chief", "worker"})
    if unsupported or task_type not in ("chief", "worker"):
        raise ConfigError(f"TF_CONFIG names {unsupported or task_type!r}: tfsenti trains with "
                          "MultiWorkerMirroredStrategy, whose cluster has `worker` (and optionally one `chief`) "
                          "tasks only. Remove the other jobs from TF_CONFIG.")
    chiefs, workers = len(cluster.get("chief", [])), len(cluster.get("worker", []))
    index = task_index if task_type == "chief" else chiefs + task_index
    return WorkerRole(index=index, count=chiefs + workers, is_chief=index == 0)


def get_strategy(name: str):
    """The `tf.distribute` strategy `name`, created once per process (see the module docstring)."""
    import tensorflow as tf

    check_strategy_name(name)
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in _STRATEGIES_MADE:
        if name == "multi_worker":
            if not os.environ.get("TF_CONFIG"):
                raise ConfigError("--strategy multi_worker reads the cluster from the TF_CONFIG environment variable, "
                                  "which is not set. Set it on every worker, e.g. TF_CONFIG='{\"cluster\": {\"worker\": "
                                  "[\"host1:12345\", \"host2:12345\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}' "
                                  "(see docs/CLUSTER.md), or use --strategy mirrored on one machine.")
            parse_tf_config(os.environ["TF_CONFIG"])  # a clear error before TensorFlow's
            _STRATEGIES_MADE[name] = tf.distribute.MultiWorkerMirroredStrategy()
        else:
            _STRATEGIES_MADE[name] = tf.distribute.MirroredStrategy()
    return _STRATEGIES_MADE[name]


def worker_role(strategy=None) -> WorkerRole:
    """The WorkerRole of this process under `strategy` (default: the strategy in scope); a strategy other than
    multi-worker is always one worker, the chief, whatever TF_CONFIG says."""
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return WorkerRole()
    return parse_tf_config(os.environ.get("TF_CONFIG"))


def shard_by_policy(dataset, kind: str):
    """`dataset` with the auto-shard policy chosen for its input `kind` (SHARD_POLICIES says which and why)."""
    import tensorflow as tf

    if kind not in SHARD_POLICIES:
        raise ValueError(f"Unknown input kind {kind!r}; choose one of {list(SHARD_POLICIES)}.")
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = getattr(tf.data.experimental.AutoShardPolicy,
                                                                SHARD_POLICIES[kind])
    return dataset.with_options(options)


def per_worker_batch(batch_size: int, role: WorkerRole) -> int:
    """Rows of a global batch that one worker computes (what its memory must hold)."""
    return -(-batch_size // role.count)


@contextlib.contextmanager
def chief_or_temporary(folder: str | Path, *, is_chief: bool, prefix: str = "tfsenti-worker-") -> Iterator[Path]:
    """`folder` itself for the chief; for any other worker a new temporary folder, removed on exit (also after an
    error). Every worker runs the same writing code; only the chief's writes are kept."""
    if is_chief:
        yield Path(folder)
        return
    temporary = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield temporary
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
