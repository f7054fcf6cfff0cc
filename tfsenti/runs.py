"""Run folders: `runs/<data>-<model>-<timestamp>/` with config.yaml, metrics.json and TensorBoard events.

Example:
    >>> import tempfile
    >>> from tfsenti.config import build_config
    >>> run = Run.create(build_config("nbbon", "imdb"), root=tempfile.mkdtemp())
    >>> run.write_metrics({"test": {"accuracy": 0.9}})
    >>> sorted(p.name for p in run.path.iterdir())
    ['config.yaml', 'metrics.json']
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass
class Run:
    """One training run's folder; `log_dir` is where TensorBoard event files go (the run folder itself)."""

    path: Path

    @classmethod
    def create(cls, config, *, root: str | Path = "runs") -> Run:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(root) / f"{config.data_label}-{config.recipe}-{stamp}"
        path, suffix = base, 1
        while path.exists():
            suffix += 1
            path = Path(f"{base}-{suffix}")
        path.mkdir(parents=True)
        (path / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
        return cls(path)

    @property
    def log_dir(self) -> Path:
        return self.path

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Write metrics.json atomically (a crash never leaves a truncated file)."""
        partial = self.path / "metrics.json.partial"
        partial.write_text(json.dumps(metrics, indent=2, default=_to_builtin), encoding="utf-8")
        partial.replace(self.path / "metrics.json")


def log_evaluation(
    log_dir: str | Path,
    split: str,
    metrics: dict[str, float],
    *,
    confusion: np.ndarray | None = None,
    class_names: Sequence[str] = (),
    examples: Sequence[tuple[str, int, int, float]] = (),
    report: str = "",
    step: int = 0,
) -> None:
    """TensorBoard: `<split>/<metric>` scalars, a confusion-matrix image, misclassified examples as text, and
    `report` (a text table such as `evaluation.format_report`'s) as the text summary `<split>/report`.
    """
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(Path(log_dir) / split))
    with writer.as_default():
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and np.isfinite(value):
                tf.summary.scalar(f"{split}/{key}", value, step=step)
        if confusion is not None:
            tf.summary.image(f"{split}/confusion_matrix", confusion_image(confusion, class_names)[None], step=step)
        if examples:
            rows = ["| true | predicted | confidence | text |", "|---|---|---|---|"]
            for text, true, predicted, confidence in examples:
                shown = text[:300].replace("|", "\\|").replace("\n", " ")
                rows.append(f"| {_name(class_names, true)} | {_name(class_names, predicted)} "
                            f"| {confidence:.3f} | {shown} |")
            tf.summary.text(f"{split}/misclassified", "\n".join(rows), step=step)
        if report:
            tf.summary.text(f"{split}/report", preformatted_markdown(report), step=step)
    writer.flush()
    writer.close()


def log_hparams(log_dir: str | Path, config, metrics: dict[str, float]) -> None:
    """The HParams dashboard entry: flattened config values against the final metrics."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    flat = {}
    for section, values in config.to_dict().items():
        if isinstance(values, dict):
            for key, value in values.items():
                flat[f"{section}.{key}"] = value if isinstance(value, (bool, int, float, str)) else str(value)
        elif values is not None:
            flat[section] = str(values)
    writer = tf.summary.create_file_writer(str(Path(log_dir)))
    with writer.as_default():
        hp.hparams(flat)
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and np.isfinite(value):
                tf.summary.scalar(f"hparams/{key}", value, step=0)
    writer.close()


def confusion_image(matrix: np.ndarray, class_names: Sequence[str] = ()) -> np.ndarray:
    """Render a confusion matrix as an RGB uint8 image (H, W, 3)."""
    from tfsenti.reporting.figures import figure_to_image, new_figure

    names = list(class_names) or [str(i) for i in range(len(matrix))]
    figure, axis = new_figure(3 + 0.6 * len(names), 3 + 0.6 * len(names), dpi=80)
    axis.imshow(matrix, cmap="Blues")
    axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        axis.text(column, row, str(count), ha="center", va="center", color=colour)
    figure.tight_layout()
    return figure_to_image(figure)


def preformatted_markdown(text: str) -> str:
    """`text` as a Markdown code block (TensorBoard renders text summaries as Markdown; this keeps columns aligned).

    Example:
        >>> print(preformatted_markdown("a  1\\nb  2"))
            a  1
            b  2
    """
    return "\n".join("    " + line for line in text.splitlines())


def _name(class_names: Sequence[str], index: int) -> str:
    return class_names[index] if 0 <= index < len(class_names) else str(index)


def _to_builtin(value: Any):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
