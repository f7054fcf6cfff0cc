"""One figure-to-image helper (tfsenti.reporting.figures), used by run folders, the LR finder and the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tfsenti.ktrain_support.lr_finder import LRFindResult, plot_lr_find
from tfsenti.reporting.figures import figure_to_image, new_figure

REPO = Path(__file__).resolve().parents[1]


def test_figure_to_image_gives_the_drawn_pixels():
    figure, axes = new_figure(2, 1, dpi=40)
    axes.set_axis_off()
    axes.axvspan(0, 0.5, color="red")
    axes.set_xlim(0, 1)
    image = figure_to_image(figure)
    assert image.shape == (40, 80, 3) and image.dtype == np.uint8
    red = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)
    assert red[:, :35].mean() > 0.5 and not red[:, 45:].any()  # left half red, right half not


def test_lr_find_plot_marks_the_suggestion():
    lrs = list(np.geomspace(1e-6, 1e-1, 40))
    losses = list(np.r_[np.linspace(0.7, 0.3, 30), np.linspace(0.4, 3.0, 10)])
    result = LRFindResult(lrs, losses, suggested_lr=lrs[20], estimates={"longest_valley": lrs[20]})
    image = plot_lr_find(result, title="test")
    assert image.shape == (450, 700, 3) and image.dtype == np.uint8
    assert ((image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)).sum() > 20  # the red marker


def test_no_module_renders_through_pyplot_or_a_png_round_trip():
    for name in ("tfsenti/runs.py", "tfsenti/ktrain_support/lr_finder.py", "tfsenti/reporting/plots.py"):
        source = (REPO / name).read_text(encoding="utf-8")
        assert "import pyplot" not in source and "imread" not in source and "matplotlib.use(" not in source, name
