"""ktrain's learning-rate finder, with its plot written as a PNG and as a TensorBoard image, and its suggestion.

`Learner.lr_find` trains on batches while the learning rate grows geometrically, until the loss exceeds
`stop_factor` times its minimum; the suggestion is ktrain's "longest valley" estimate (with the minimum-gradient and
minimum-loss/10 estimates kept beside it).

Example:
    >>> result = LRFindResult(lrs=[1e-5, 1e-4, 1e-3], losses=[0.7, 0.5, 2.0], suggested_lr=1e-4, estimates={})
    >>> round(result.suggested_lr, 6)
    0.0001
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np


@dataclasses.dataclass
class LRFindResult:
    """Learning rates tried, the (smoothed) losses ktrain recorded, and the suggested maximum learning rate."""

    lrs: list[float]
    losses: list[float]
    suggested_lr: float | None
    estimates: dict[str, float | None]
    png_path: Path | None = None
    log_dir: Path | None = None

    def to_json(self) -> str:
        return json.dumps({"suggested_lr": self.suggested_lr, "estimates": self.estimates, "lrs": self.lrs,
                           "losses": self.losses}, indent=2)


def run_lr_find(learner, *, start_lr: float, lr_mult: float, max_epochs: int | None, stop_factor: float,
                verbose: int = 1) -> LRFindResult:
    """Run `learner.lr_find` (weights restored afterwards) and collect its curve and estimates."""
    learner.lr_find(start_lr=start_lr, lr_mult=lr_mult, max_epochs=max_epochs, stop_factor=stop_factor,
                    restore_weights_only=True, verbose=verbose)
    finder = learner.lr_finder
    lrs = [float(value) for value in finder.lrs]
    losses = [float(value) for value in finder.losses]
    estimates: dict[str, float | None] = {"min_gradient": None, "min_loss_div_10": None, "longest_valley": None}
    if len(losses) >= 3:
        gradient, min_loss, valley = learner.lr_estimate()
        estimates = {"min_gradient": None if gradient is None else float(gradient),
                     "min_loss_div_10": float(min_loss), "longest_valley": float(valley)}
    suggested = estimates["longest_valley"] or estimates["min_loss_div_10"]
    return LRFindResult(lrs, losses, suggested, estimates)


def plot_lr_find(result: LRFindResult, *, title: str = "") -> np.ndarray:
    """The loss-versus-learning-rate plot (log x axis, suggestion marked) as an RGB uint8 image (H, W, 3)."""
    from tfsenti.reporting.figures import figure_to_image, new_figure

    lrs, losses = np.asarray(result.lrs), np.asarray(result.losses)
    skip_start, skip_end = (10, 5) if len(lrs) > 30 else (0, 0)  # ktrain's lr_plot defaults on long curves
    shown = slice(skip_start, len(lrs) - skip_end)
    figure, axis = new_figure(7, 4.5, dpi=100)
    axis.plot(lrs[shown], losses[shown], color="tab:blue", label="loss")
    axis.set_xscale("log")
    axis.set_xlabel("learning rate (log scale)")
    axis.set_ylabel("loss (smoothed)")
    colours = {"longest_valley": "red", "min_gradient": "purple"}
    for name, value in result.estimates.items():
        if value is not None and name in colours:
            index = int(np.argmin(np.abs(lrs - value)))
            axis.plot(lrs[index], losses[index], "o", markersize=9, color=colours[name],
                      label=f"{name.replace('_', ' ')}: {value:.2e}")
    suggestion = f"suggested max LR {result.suggested_lr:.2e}" if result.suggested_lr else "no suggestion"
    axis.set_title(f"{title} {suggestion}".strip())
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(loc="best")
    figure.tight_layout()
    return figure_to_image(figure)


def save_lr_find(result: LRFindResult, output_dir: str | Path, *, title: str = "") -> LRFindResult:
    """Write lr_find.png, lr_find.json and TensorBoard events (image `lr_find/loss_vs_lr`, scalar curve) into
    `output_dir`; returns `result` with the paths set."""
    import matplotlib.image
    import tensorflow as tf

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    image = plot_lr_find(result, title=title)
    png_path = output_dir / "lr_find.png"
    matplotlib.image.imsave(png_path, image)
    (output_dir / "lr_find.json").write_text(result.to_json(), encoding="utf-8")
    writer = tf.summary.create_file_writer(str(output_dir / "lr_find"))
    with writer.as_default():
        tf.summary.image("lr_find/loss_vs_lr", image[None], step=0)
        for step, loss in enumerate(result.losses):
            tf.summary.scalar("lr_find/loss", loss, step=step)
            tf.summary.scalar("lr_find/learning_rate", result.lrs[step], step=step)
        if result.suggested_lr:
            tf.summary.text("lr_find/suggestion", f"suggested max learning rate: {result.suggested_lr:.3e} "
                            f"(estimates: {result.estimates})", step=0)
    writer.close()
    return dataclasses.replace(result, png_path=png_path, log_dir=output_dir / "lr_find")
