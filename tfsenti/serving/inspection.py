"""`python cli.py inspect MODEL_DIR`: one export, audited for TF Serving (signature, variables, warm-up, metadata,
op types).

Example:
    >>> import tempfile, tensorflow as tf
    >>> from tfsenti.export import save_serving_model
    >>> folder = save_serving_model(tempfile.mkdtemp() + "/1",
    ...     probabilities_fn=lambda t: tf.one_hot(tf.strings.length(t) % 2, 2))
    >>> report = inspect_model(folder)
    >>> report.warmup_requests, report.servable
    (8, True)
    >>> print(format_inspection(report).splitlines()[1])
      signature serving_default (tensorflow/serving/predict)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tfsenti.serving import audit, warmup


@dataclasses.dataclass(frozen=True)
class Inspection:
    """What `inspect` found; `servable` is False when the model uses Python-function ops or carries optimizer
    state."""

    path: Path
    signature: audit.Signature
    variables: tuple[audit.VariableInfo, ...]
    warmup_requests: int | None  # None: no warm-up file
    metadata: dict[str, Any]
    ops: audit.OpAudit

    @property
    def variables_bytes(self) -> int:
        return sum(v.bytes for v in self.variables)

    @property
    def training_variables(self) -> tuple[audit.VariableInfo, ...]:
        return tuple(v for v in self.variables if v.optimizer)

    @property
    def servable(self) -> bool:
        return not self.ops.python_function and not self.training_variables

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "signature": dataclasses.asdict(self.signature),
            "variables": {"count": len(self.variables), "bytes": self.variables_bytes,
                          "training_only": [v.path for v in self.training_variables]},
            "warmup_requests": self.warmup_requests,
            "metadata": _summary(self.metadata),
            "ops": dataclasses.asdict(self.ops),
            "servable": self.servable,
        }


def inspect_model(path: str | Path) -> Inspection:
    """Audit a version folder (or a model folder: its newest version) without loading the model."""
    from tfsenti.export import read_metadata, resolve_version

    folder = resolve_version(path)
    has_warmup = (folder / "assets.extra" / warmup.WARMUP_FILE).is_file()
    return Inspection(
        path=folder,
        signature=audit.read_signature(folder),
        variables=tuple(audit.list_variables(folder)),
        warmup_requests=len(warmup.read_warmup_requests(folder)) if has_warmup else None,
        metadata=read_metadata(folder),
        ops=audit.classify_ops(audit.op_types(folder)),
    )


def format_inspection(inspection: Inspection) -> str:
    """The human-readable report that `inspect` prints."""
    s = inspection.signature
    lines = [f"{inspection.path}", f"  signature {s.name} ({s.method})"]
    lines += [f"    input  {t}" for t in s.inputs] + [f"    output {t}" for t in s.outputs]
    training = inspection.training_variables
    lines.append(f"  variables {len(inspection.variables)}, {inspection.variables_bytes:,} bytes"
                 + (f"; {len(training)} TRAINING-ONLY (optimizer state): "
                    + ", ".join(v.path for v in training[:5]) if training else "; inference weights only"))
    warmup_file = f"assets.extra/{warmup.WARMUP_FILE}"
    lines.append(f"  warm-up   {inspection.warmup_requests} requests in {warmup_file}"
                 if inspection.warmup_requests is not None else f"  warm-up   none (no {warmup_file})")
    summary = _summary(inspection.metadata)
    lines.append("  metadata  " + (", ".join(f"{k}={v}" for k, v in summary.items() if k != "metrics")
                                   or "none (not written by tfsenti publish)"))
    for split, metrics in summary.get("metrics", {}).items():
        lines.append(f"    {split:<10} " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    ops = inspection.ops
    lines.append(f"  ops       {len(ops.core)} core TensorFlow: " + " ".join(ops.core))
    lines.append(f"            {len(ops.tensorflow_text)} tensorflow_text (linked into the stock model server): "
                 + (" ".join(ops.tensorflow_text) or "-"))
    if ops.other:
        lines.append(f"            {len(ops.other)} NOT core TensorFlow nor tensorflow_text (a stock model server "
                     "lacks them): " + " ".join(ops.other))
    if ops.python_function:
        lines.append(f"            {len(ops.python_function)} PYTHON-FUNCTION ops (refused: no model server can run "
                     "them): " + " ".join(ops.python_function))
    lines.append("  verdict   " + ("servable by a stock TF model server" if inspection.servable else "REFUSED"))
    return "\n".join(lines)


def _summary(metadata: dict[str, Any]) -> dict[str, Any]:
    """recipe, dataset, classes, sizes and the headline metrics of a tfsenti metadata dict."""
    out: dict[str, Any] = {key: metadata[key] for key in ("recipe", "dataset") if key in metadata}
    if metadata.get("class_names"):
        out["classes"] = "/".join(str(name) for name in metadata["class_names"])
    if metadata.get("size"):
        out["variables_bytes"] = metadata["size"].get("variables_bytes")
    metrics = {split: {k: v for k, v in values.items() if k in ("accuracy", "macro_f1", "roc_auc")
                       and isinstance(v, (int, float))}
               for split, values in (metadata.get("metrics") or {}).items() if isinstance(values, dict)}
    if any(metrics.values()):
        out["metrics"] = {split: values for split, values in metrics.items() if values}
    return out
