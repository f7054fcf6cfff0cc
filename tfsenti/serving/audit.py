"""What a SavedModel would ask of a model server, read from its files without loading it.

- `read_signature`: inputs and outputs (dtype, shape) of a signature, from saved_model.pb.
- `list_variables`: every saved variable (object-graph path, name, dtype, shape, bytes), each flagged when it is
  optimizer or other training-only state (slots, iteration counters, learning rates, metric accumulators).
- `op_types` / `classify_ops`: every op type in the graph and its function library, sorted into core TensorFlow,
  tensorflow_text (linked into the stock model server), Python-function ops (never servable) and the rest.
- `check_servable`: raises `ServingError` for Python-function ops (and, unless allowed, training-only variables).

Example:
    >>> import tempfile, tensorflow as tf
    >>> from tfsenti.export import save_serving_model
    >>> folder = save_serving_model(tempfile.mkdtemp() + "/m",
    ...     probabilities_fn=lambda t: tf.one_hot(tf.strings.length(t) % 2, 2))
    >>> audit = classify_ops(op_types(folder))
    >>> "UnicodeTranscode" in audit.core, audit.python_function
    (True, ())
    >>> [v.optimizer for v in list_variables(folder)]
    []
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import os
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from tfsenti.errors import TfsentiError

#: Ops that call back into the Python interpreter: no model server has that interpreter (tf.py_function,
#: tf.numpy_function and the older tf.compat.v1.py_func become one of these).
PYTHON_FUNCTION_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

# Object-graph path parts and variable names that only training needs.
_TRAINING_PATH_PARTS = frozenset({"optimizer", "_optimizer", "optimizer_variables", "inner_optimizer",
                                  "_inner_optimizer", "loss_scale", "compiled_metrics", "compiled_loss",
                                  "_compile_metrics", "compile_metrics", "_loss_tracker", "_metrics_tracker"})
_TRAINING_NAMES = re.compile(
    r"(^|/)(iteration|iterations|learning_rate|current_loss_scale|good_steps|seed_generator_state)(:0)?$"
    r"|_(momentum|velocity|momentums|velocities|average)(:0)?$"
    r"|(^|/)(adam|adamw|sgd|rmsprop|adagrad|adafactor|lamb|lion|nadam|ftrl)[^/]*/"
    r"|\.OPTIMIZER_SLOT", re.IGNORECASE)


class ServingError(TfsentiError):
    """A SavedModel that a TF model server could not serve (or should not be sent to one)."""


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature: dtype name (`string`, `float32`, ...) and shape (-1 = any)."""

    name: str
    dtype: str
    shape: tuple[int, ...] | None

    def __str__(self) -> str:
        shape = "unknown" if self.shape is None else "[" + ", ".join("None" if d < 0 else str(d)
                                                                      for d in self.shape) + "]"
        return f"{self.name}: {self.dtype} {shape}"


@dataclasses.dataclass(frozen=True)
class Signature:
    name: str
    method: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]


@dataclasses.dataclass(frozen=True)
class VariableInfo:
    """One saved variable: where it hangs in the object graph, its own name, dtype, shape and size."""

    path: str
    name: str
    dtype: str
    shape: tuple[int, ...]
    bytes: int
    optimizer: bool  # training-only state (optimizer slots, counters, learning rates, metric accumulators)


@dataclasses.dataclass(frozen=True)
class OpAudit:
    """The op types of a SavedModel, sorted by who provides them."""

    core: tuple[str, ...]
    tensorflow_text: tuple[str, ...]
    python_function: tuple[str, ...]
    other: tuple[str, ...]  # neither core TensorFlow nor tensorflow_text: a stock model server lacks them


# ---- reading saved_model.pb -------------------------------------------------------------------------------------
def read_saved_model(model_dir: str | Path):
    """The SavedModel protocol buffer of `model_dir` (a version folder holding saved_model.pb)."""
    from tensorflow.core.protobuf import saved_model_pb2

    file = Path(model_dir) / "saved_model.pb"
    if not file.is_file():
        raise ServingError(f"No saved_model.pb in {model_dir}: give a SavedModel version folder such as "
                           "saved_models/imdb-nbbon/1 (or the model folder, whose newest version is used).")
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(file.read_bytes())
    if not proto.meta_graphs:
        raise ServingError(f"{file} holds no MetaGraphDef; it is not a usable SavedModel. Export the model again.")
    return proto


def read_signature(model_dir: str | Path, name: str = "serving_default") -> Signature:
    """Inputs and outputs of signature `name`, as the model server will report them."""
    from tensorflow.python.framework import dtypes

    meta_graph = read_saved_model(model_dir).meta_graphs[0]
    if name not in meta_graph.signature_def:
        raise ServingError(f"{model_dir} has no signature {name!r}; it has {sorted(meta_graph.signature_def)}. "
                           "tfsenti exports always define serving_default: re-export the model.")
    signature = meta_graph.signature_def[name]

    def tensors(mapping) -> tuple[TensorInfo, ...]:
        out = []
        for key in sorted(mapping):
            info = mapping[key]
            shape = None if info.tensor_shape.unknown_rank else tuple(d.size for d in info.tensor_shape.dim)
            out.append(TensorInfo(key, dtypes.as_dtype(info.dtype).name, shape))
        return tuple(out)

    return Signature(name, signature.method_name, tensors(signature.inputs), tensors(signature.outputs))


def op_types(model_dir: str | Path) -> set[str]:
    """Every op type used by the SavedModel's graph and by every function of its function library."""
    ops: set[str] = set()
    for meta_graph in read_saved_model(model_dir).meta_graphs:
        graph = meta_graph.graph_def
        ops.update(node.op for node in graph.node)
        for function in graph.library.function:
            ops.update(node.op for node in function.node_def)
    return ops


# ---- ops ---------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def tensorflow_text_ops() -> frozenset[str]:
    """Op types defined by tensorflow_text's kernel libraries (empty when tensorflow_text is not installed)."""
    try:
        import tensorflow_text
        from tensorflow.core.framework import op_def_pb2
        from tensorflow.python.client import pywrap_tf_session
    except ImportError:  # pragma: no cover - tensorflow_text is pinned in requirements.txt
        return frozenset()
    names: set[str] = set()
    for library in glob.glob(os.path.join(os.path.dirname(tensorflow_text.__file__), "python", "ops", "*.so")):
        handle = pywrap_tf_session.TF_LoadLibrary(library)  # already loaded: only its op list is read
        try:
            names.update(op.name for op in op_def_pb2.OpList.FromString(pywrap_tf_session.TF_GetOpList(handle)).op)
        finally:
            pywrap_tf_session.TF_DeleteLibraryHandle(handle)
    return frozenset(names)


def classify_ops(ops: set[str]) -> OpAudit:
    """Sort op types: core TensorFlow (`tf.raw_ops`), tensorflow_text, Python-function ops, other."""
    import tensorflow as tf

    text_ops = tensorflow_text_ops()
    groups: dict[str, list[str]] = {"core": [], "tensorflow_text": [], "python_function": [], "other": []}
    for op in sorted(ops):
        if op in PYTHON_FUNCTION_OPS:
            groups["python_function"].append(op)
        elif op in text_ops:
            groups["tensorflow_text"].append(op)
        elif hasattr(tf.raw_ops, op):
            groups["core"].append(op)
        else:
            groups["other"].append(op)
    return OpAudit(**{key: tuple(value) for key, value in groups.items()})


# ---- variables ---------------------------------------------------------------------------------------------------
def list_variables(model_dir: str | Path) -> list[VariableInfo]:
    """Every variable the SavedModel saves, found by walking its object graph from the root."""
    from tensorflow.python.framework import dtypes

    meta_graph = read_saved_model(model_dir).meta_graphs[0]
    nodes = meta_graph.object_graph_def.nodes
    # The same variable hangs under several paths (a layer's kernel is also in its optimizer's list of trainable
    # variables): first walk around optimizer / metric objects, so that a path through one of them is taken only
    # by variables that nothing else holds.
    inference_paths = _object_paths(nodes, skip=_TRAINING_PATH_PARTS)
    paths = {**_object_paths(nodes, skip=frozenset()), **inference_paths}
    out = []
    for node_id, node in enumerate(nodes):
        if node.WhichOneof("kind") != "variable":
            continue
        variable = node.variable
        dtype = dtypes.as_dtype(variable.dtype)
        shape = tuple(max(d.size, 0) for d in variable.shape.dim)
        size = int(np.prod(shape, dtype=np.int64)) * (dtype.size if dtype != dtypes.string else 0)
        path = paths.get(node_id, f"<unreachable node {node_id}>")
        training = node_id not in inference_paths or is_training_only(path, variable.name)
        out.append(VariableInfo(path, variable.name, dtype.name, shape, size, training))
    return out


def _object_paths(nodes, *, skip: frozenset[str]) -> dict[int, str]:
    """Node id -> its shortest path of local names from the root, never stepping through a name in `skip`."""
    paths: dict[int, str] = {0: ""}
    queue = collections.deque([0])
    while queue:
        node_id = queue.popleft()
        for child in nodes[node_id].children:
            if child.node_id not in paths and child.local_name not in skip:
                paths[child.node_id] = f"{paths[node_id]}/{child.local_name}".lstrip("/")
                queue.append(child.node_id)
    return paths


def is_training_only(path: str, name: str) -> bool:
    """Whether a variable at object-graph `path` named `name` is optimizer / training state.

    Example:
        >>> is_training_only("model/optimizer/_variables/3", "adamw/dense_kernel_momentum")
        True
        >>> is_training_only("model/_layers/1/kernel", "dense/kernel")
        False
    """
    if any(part in _TRAINING_PATH_PARTS for part in path.split("/")):
        return True
    return bool(_TRAINING_NAMES.search(name) or _TRAINING_NAMES.search(path))


def variables_bytes(model_dir: str | Path) -> int:
    """Total size of the saved variables' values (dtype size x elements; string variables count 0)."""
    return sum(v.bytes for v in list_variables(model_dir))


# ---- the verdict ---------------------------------------------------------------------------------------------
def check_servable(model_dir: str | Path, *, allow_training_state: bool = False) -> OpAudit:
    """Raise `ServingError` when the model uses Python-function ops (or carries training-only variables)."""
    audit = classify_ops(op_types(model_dir))
    if audit.python_function:
        raise ServingError(
            f"{model_dir} uses Python-function ops {list(audit.python_function)} (tf.py_function / "
            "tf.numpy_function): a TF model server has no Python interpreter, so it cannot load this model. "
            "Allowed: core TensorFlow and tensorflow_text ops. Fix: rewrite that step with TensorFlow ops "
            "(tf.strings, tensorflow_text) inside the recipe's export.")
    if not allow_training_state:
        training = [v.path or v.name for v in list_variables(model_dir) if v.optimizer]
        if training:
            shown = ", ".join(training[:5]) + (f" and {len(training) - 5} more" if len(training) > 5 else "")
            raise ServingError(
                f"{model_dir} carries {len(training)} training-only variables ({shown}); an export must hold "
                "inference weights only. Fix: in the recipe's export, track the model's weights (e.g. "
                "`list(model.weights)`) instead of the compiled model with its optimizer.")
    return audit
