"""What the receptive-field panel draws, computed here: the network's input image, the cell under a
click, the feature-map grid (thinned), and everything one cell sees."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import formulas as F
from .core import ERF, LIMITS, _index, analyze, effective_rf, make_stack, rf_box

__all__ = ["network_input", "cell_near", "LayerGrid", "layer_grid", "CellView", "cell_view"]


def network_input(rgb: np.ndarray, longer_side: int) -> np.ndarray:
    """``rgb`` resized so its longer side is ``longer_side`` pixels (area averaging when shrinking): the
    image a network with that input size sees. The input is not modified.

    >>> network_input(np.zeros((300, 200, 3), np.uint8), 640).shape
    (640, 427, 3)
    """
    side = int(longer_side)
    if side < 1:
        raise ValueError(f"The image side must be at least 1 pixel, got {longer_side}.")
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    size = (max(1, int(round(w * s))), max(1, int(round(h * s))))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(np.ascontiguousarray(rgb), size, interpolation=interp))


def cell_near(rows: F.RFResult, cols: F.RFResult, x: float, y: float) -> tuple[int, int]:
    """The feature cell (row, col) whose receptive-field centre is nearest to image point (x, y).

    ``rows`` / ``cols`` are the layer's results along the height and the width (from :func:`analyze`
    with the image's height and width); cells beyond the feature map are clamped to its edge.
    Image coordinates put pixel ``i`` over ``[i, i+1)``, so a centre ``c`` sits at ``c + 0.5``.

    >>> r = analyze([(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)], 480)[-1]
    >>> cell_near(r, r, 41.0, 22.0)
    (5, 10)
    """
    def one(res: F.RFResult, v: float) -> int:
        i = int(round((v - 0.5 - res.start) / res.jump))
        return max(0, i if res.out_size is None else min(i, res.out_size - 1))

    return one(rows, y), one(cols, x)


@dataclass(frozen=True)
class LayerGrid:
    """The cell boundaries of a layer's feature map drawn over the image: ``segments`` (N, 4) as
    x0, y0, x1, y1 in image pixels, every ``step``-th boundary (1: all of them)."""

    segments: np.ndarray
    step: int


def layer_grid(rows: F.RFResult, cols: F.RFResult, height: int, width: int, *, max_lines: int = 120,
               view: tuple[float, float, float, float] | None = None) -> LayerGrid:
    """Cell boundaries of a feature map on a ``height`` × ``width`` image, at most ``max_lines`` per axis.

    With ``view`` (x0, y0, x1, y1) only the boundaries inside it count, so a zoomed view keeps every
    boundary it can show while a whole image of a fine map is thinned to every ``step``-th line.

    >>> r = analyze([(3, 2, 1)], 64)[-1]  # 32 cells, 2 px apart
    >>> g = layer_grid(r, r, 64, 64, max_lines=20)
    >>> g.step, len(g.segments)
    (2, 34)
    """
    vx0, vy0, vx1, vy1 = view if view is not None else (0.0, 0.0, float(width), float(height))
    segs, step = [], 1
    for res, lo, hi in ((cols, vx0, vx1), (rows, vy0, vy1)):
        if res.out_size is None:
            continue
        # boundary i (between cells i-1 and i) sits at start + 0.5 + (i - 0.5)·jump
        first = max(0, int(np.floor((lo - res.start) / res.jump)))
        last = min(res.out_size, int(np.ceil((hi - res.start) / res.jump)) + 1)
        step = max(step, int(np.ceil((last - first + 1) / max_lines)))
    for res, vertical in ((cols, True), (rows, False)):
        if res.out_size is None:
            continue
        lo, hi = (vx0, vx1) if vertical else (vy0, vy1)
        first = max(0, int(np.floor((lo - res.start) / res.jump)))
        last = min(res.out_size, int(np.ceil((hi - res.start) / res.jump)) + 1)
        i = np.arange(first - first % step, last + 1, step)
        pos = np.clip(res.start + 0.5 + (i - 0.5) * res.jump, 0.0, float(width if vertical else height))
        n = len(pos)
        length = float(height if vertical else width)
        if vertical:
            segs.append(np.stack([pos, np.zeros(n), pos, np.full(n, length)], axis=1))
        else:
            segs.append(np.stack([np.zeros(n), pos, np.full(n, length), pos], axis=1))
    out = np.concatenate(segs) if segs else np.zeros((0, 4))
    return LayerGrid(out.astype(float).reshape(-1, 4), step)


@dataclass(frozen=True)
class CellView:
    """Everything the panel draws for one feature cell, in image pixels (pixel i over [i, i+1)).

    ``box``: the receptive field (half-open, may reach into padding); ``cell``: the square of the
    cell itself, one jump wide, around its field's centre; ``taps`` (N, 2): the chosen layer's kernel
    taps in input pixels (a kernel wider than ``LIMITS["taps"]`` shows that many, evenly spread); ``outside``: the rectangles of the image the cell cannot see; ``padding``:
    the parts of the box beyond the image and ``hatch`` (N, 4) their diagonal hatching; ``erf``: the
    effective receptive field; ``view``: a window around the cell's neighbourhood to zoom to.
    """

    row: int
    col: int
    box: tuple[int, int, int, int]
    cell: tuple[float, float, float, float]
    taps: np.ndarray
    outside: tuple[tuple[float, float, float, float], ...]
    padding: tuple[tuple[float, float, float, float], ...]
    hatch: np.ndarray
    erf: ERF
    view: tuple[float, float, float, float]


def _hatch(rects, lines: int = 14) -> np.ndarray:
    """Diagonal hatching of rectangles: segments from bottom-left to top-right, clipped to each rect."""
    segs = []
    for x0, y0, x1, y1 in rects:
        w, h = x1 - x0, y1 - y0
        step = max(4.0, max(w, h) / lines)
        for off in np.arange(-h, w, step):
            a0, a1 = max(0.0, -off), min(h, w - off)
            if a1 > a0:
                segs.append((x0 + off + a0, y1 - a0, x0 + off + a1, y1 - a1))
    return np.asarray(segs, dtype=float).reshape(-1, 4)


def cell_view(stack, layer_index: int, row: int, col: int, *, height: int, width: int,
              zoom_cells: float = 6.0) -> CellView:
    """What feature cell (row, col) of layer ``layer_index`` sees on a ``height`` × ``width`` image.

    The zoom ``view`` is the receptive field grown by ``zoom_cells`` cells (jumps) and by half the
    field on each side, never smaller than the field itself and never beyond the image plus its
    padding: at an early layer it shows a few dozen cells around the click, at a late layer the
    whole image.

    >>> v = cell_view([(3, 1, 1)], 0, 0, 0, height=8, width=8)
    >>> v.box, v.padding
    ((-1, -1, 2, 2), ((-1, -1, 0, 2), (0, -1, 2, 0)))
    """
    st = make_stack(stack)
    li = _index(st, layer_index)
    res = analyze(st)
    r = res[li]
    box = rf_box(st, li, row, col)
    x0, y0, x1, y1 = box
    h, w = int(height), int(width)
    cx, cy = r.start + col * r.jump + 0.5, r.start + row * r.jump + 0.5
    cell = (cx - r.jump / 2, cy - r.jump / 2, cx + r.jump / 2, cy + r.jump / 2)
    # the chosen layer's taps: its kernel on the previous layer's cells, which sit a previous jump apart
    prev = res[li - 1] if li > 0 else None
    pj, ps = (prev.jump, prev.start) if prev else (1, 0.0)
    k, s, p, d = st[li].as_tuple()
    t = np.arange(k) if k <= LIMITS["taps"] else np.unique(np.linspace(0, k - 1, LIMITS["taps"]).round().astype(int))
    gx, gy = np.meshgrid(ps + ((col * s - p) + t * d) * pj + 0.5, ps + ((row * s - p) + t * d) * pj + 0.5)
    taps = np.stack([gx.ravel(), gy.ravel()], axis=1) if k > 1 else np.zeros((0, 2))
    outside = [(0, 0, w, max(0, min(h, y0))), (0, min(h, max(0, y1)), w, h),
               (0, max(0, y0), max(0, min(w, x0)), min(h, y1)), (min(w, max(0, x1)), max(0, y0), w, min(h, y1))]
    outside = tuple(o for o in outside if o[2] > o[0] and o[3] > o[1])
    pads = []
    if x0 < 0:
        pads.append((x0, y0, 0, y1))
    if x1 > w:
        pads.append((w, y0, x1, y1))
    if y0 < 0:
        pads.append((max(x0, 0), y0, min(x1, w), 0))
    if y1 > h:
        pads.append((max(x0, 0), h, min(x1, w), y1))
    grow = zoom_cells * r.jump + r.rf / 2
    lo_x, lo_y, hi_x, hi_y = min(0, x0) - 4, min(0, y0) - 4, max(w, x1) + 4, max(h, y1) + 4
    view = (max(lo_x, x0 - grow), max(lo_y, y0 - grow), min(hi_x, x1 + grow), min(hi_y, y1 + grow))
    taps.setflags(write=False)
    hatch = _hatch(pads)
    hatch.setflags(write=False)
    return CellView(int(row), int(col), box, cell, taps, outside, tuple(pads), hatch,
                    effective_rf(st, li, row, col, window=(0, 0, w, h)), tuple(float(v) for v in view))
