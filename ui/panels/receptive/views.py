"""Drawing on the receptive-field canvas: the layer's grid, one cell's field, and a measured object.

Every position comes from :mod:`cvexplorer.receptive` (``layer_grid``, ``cell_view``); this module
only chooses layers, colours and strokes from the theme.
"""

from __future__ import annotations

import numpy as np

from cvexplorer import receptive as R
from cvexplorer.overlay import values_rgba

from ...widgets.canvas import ImageCanvas

__all__ = ["CELL_LAYERS", "draw_grid", "draw_cell", "clear_cell", "draw_object"]

#: Canvas layers that belong to one chosen cell (cleared together).
CELL_LAYERS = ("rf", "pad", "pad_hatch", "cell", "erf", "dim", "taps")


def draw_grid(canvas: ImageCanvas, grid: R.LayerGrid, theme) -> None:
    canvas.set_lines("grid", grid.segments, color="grid", width=max(1.0, theme.line_px / 3))


def clear_cell(canvas: ImageCanvas) -> None:
    for name in CELL_LAYERS:
        canvas.clear_layer(name)


def draw_cell(canvas: ImageCanvas, v: R.CellView, theme) -> None:
    """The field (box), the effective RF (heat, opacity follows the weight), what the cell cannot see
    (dimmed), padding (hatched), the cell itself and the chosen layer's taps."""
    clear_cell(canvas)
    wgt = np.sqrt(v.erf.weights / v.erf.weights.max())  # sqrt: the tails stay visible next to the peak
    h, w = wgt.shape
    canvas.set_overlay("erf", values_rgba(wgt, theme.color("negative"), vmax=1.0, alpha=0.5),
                       rect=(v.erf.x0, v.erf.y0, v.erf.x0 + w, v.erf.y0 + h), z=6)
    if v.outside:
        canvas.set_rects("dim", v.outside, color="black", fill="black", alpha=0.5, width=0.01, z=5.5)
    if v.padding:
        canvas.set_rects("pad", v.padding, color="padding", fill="padding", alpha=0.25, width=1, z=7)
        canvas.set_lines("pad_hatch", v.hatch, color="padding", width=max(1.0, theme.line_px / 2), z=8)
    canvas.set_rects("rf", [v.box], color="current", width=theme.line_px * 1.25)
    canvas.set_rects("cell", [v.cell], color="black", fill="highlight", alpha=0.85, width=max(1.0, theme.line_px / 2),
                     z=12)
    if len(v.taps):
        canvas.set_points("taps", v.taps, color="accent", brush="accent", size=7 if len(v.taps) > 25 else 9)


def draw_object(canvas: ImageCanvas, box, label: str, theme) -> None:
    canvas.set_rects("object", [box], color="positive", width=theme.line_px * 1.25, dash=True, z=14)
    canvas.set_texts("labels", [(box[0], box[1], label)], color="black", background="white", anchor=(0, 1))
