"""Matplotlib figures without pyplot: `new_figure` (an Agg canvas, no global backend switch) and `figure_to_image`
(the RGB pixels, for TensorBoard image summaries). Used by run folders, the learning-rate finder and the report.

Example:
    >>> figure, axes = new_figure(2, 1, dpi=50)
    >>> _ = axes.plot([0, 1], [1, 0])
    >>> image = figure_to_image(figure)
    >>> image.shape, image.dtype.name
    ((50, 100, 3), 'uint8')
"""

from __future__ import annotations

import numpy as np


def new_figure(width: float, height: float, *, dpi: int = 100):
    """A matplotlib Figure of `width` x `height` inches on its own Agg canvas, and its one Axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def figure_to_image(figure) -> np.ndarray:
    """The figure drawn as an RGB uint8 array (height, width, 3), as `tf.summary.image` takes it (add a batch axis).

    Example:
        >>> figure, _ = new_figure(2, 2, dpi=50)
        >>> figure_to_image(figure)[0, 0].tolist()  # a white background
        [255, 255, 255]
    """
    canvas = figure.canvas
    if not hasattr(canvas, "buffer_rgba"):  # a figure made elsewhere (pyplot) may sit on another canvas
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.array(canvas.buffer_rgba(), dtype=np.uint8)[..., :3]
