"""Pictures of one level: how many anchors cover each pixel, the best IoU of each cell."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..boxes import as_boxes
from .grid import _size, grid_shape

__all__ = ["coverage_map", "per_cell_max", "Density", "level_density", "Heat", "level_heat", "IoUHistogram",
           "iou_histogram"]


# -- views ------------------------------------------------------------------------------------------------
def coverage_map(boxes, image_size, *, cell: int = 4) -> np.ndarray:
    """How many boxes cover each ``cell x cell`` block of the image: ``(ceil(H/cell), ceil(W/cell))`` int32.

    A box covers a block when it contains the block's centre (clipped to the image). Built with a 2-D
    difference array, so 200k anchors cost a few milliseconds.

    >>> coverage_map([[0, 0, 8, 8], [4, 4, 8, 8]], (8, 8), cell=4).tolist()
    [[1, 1], [1, 2]]
    """
    w, h = _size(image_size)
    b = as_boxes(boxes)
    gw, gh = int(math.ceil(w / cell)), int(math.ceil(h / cell))
    # block j (centre (j + 0.5) cell) is inside [x0, x1) when ceil(x0/cell - 0.5) <= j < ceil(x1/cell - 0.5)
    x0 = np.clip(np.ceil(b[:, 0] / cell - 0.5), 0, gw).astype(np.int64)
    x1 = np.clip(np.ceil(b[:, 2] / cell - 0.5), 0, gw).astype(np.int64)
    y0 = np.clip(np.ceil(b[:, 1] / cell - 0.5), 0, gh).astype(np.int64)
    y1 = np.clip(np.ceil(b[:, 3] / cell - 0.5), 0, gh).astype(np.int64)
    keep = (x1 > x0) & (y1 > y0)
    x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    d = np.zeros(((gh + 1) * (gw + 1),), np.int64)
    stride = gw + 1
    for ys, xs, sign in ((y0, x0, 1), (y0, x1, -1), (y1, x0, -1), (y1, x1, 1)):
        d += sign * np.bincount(ys * stride + xs, minlength=d.size)
    d = d.reshape(gh + 1, gw + 1)
    return np.cumsum(np.cumsum(d, axis=0), axis=1)[:gh, :gw].astype(np.int32)


def per_cell_max(values, image_size, stride: float, per_location: int) -> np.ndarray:
    """Reshape one level's per-anchor values to ``(rows, cols)`` taking the max over each cell's anchors.

    >>> per_cell_max(np.arange(4.0), (32, 16), 16, 2).tolist()
    [[1.0, 3.0]]
    """
    cols, rows = grid_shape(image_size, stride)
    v = np.asarray(values)
    if v.size != cols * rows * per_location:
        raise ValueError(f"Expected {cols * rows * per_location} values for this level, got {v.size}.")
    return v.reshape(rows, cols, per_location).max(axis=2)


@dataclass(frozen=True)
class Density:
    """How many anchors of a level cover each ``cell x cell`` block of the image (:func:`level_density`)."""

    map: np.ndarray
    cell: int
    median: int
    least: int
    most: int


def level_density(boxes, image_size) -> Density:
    """:func:`coverage_map` of one level's anchors on blocks of ``max(2, min(W, H) // 160)`` pixels,
    with its median, least and most (how many anchors a typical pixel lies inside).

    >>> d = level_density([[0, 0, 8, 8], [4, 4, 8, 8]], (8, 8))
    >>> d.cell, d.median, d.least, d.most
    (2, 1, 1, 2)
    """
    w, h = _size(image_size)
    cell = max(2, int(min(w, h) // 160))
    cov = coverage_map(boxes, (w, h), cell=cell)
    return Density(cov, cell, int(np.median(cov)), int(cov.min()), int(cov.max()))


@dataclass(frozen=True)
class Heat:
    """The best IoU of each cell's anchors, ``map`` (rows, cols), its maximum ``best`` and where (col, row)."""

    map: np.ndarray
    best: float
    cell: tuple[int, int]


def level_heat(max_iou, image_size, stride: float, per_location: int) -> Heat:
    """:func:`per_cell_max` of one level's best IoUs, and the cell where it peaks.

    >>> h = level_heat([0.1, 0.2, 0.7, 0.3], (32, 16), 16, 2)
    >>> h.map.tolist(), h.best, h.cell
    ([[0.2, 0.7]], 0.7, (1, 0))
    """
    heat = per_cell_max(np.asarray(max_iou, dtype=np.float64), image_size, stride, per_location)
    r, c = np.unravel_index(int(heat.argmax()), heat.shape)
    return Heat(heat, float(heat.max()), (int(c), int(r)))


@dataclass(frozen=True)
class IoUHistogram:
    """Anchors counted by their best IoU: ``zero`` with IoU exactly 0 (touching no box), then ``counts``
    over the bins ``edges`` of (0, 1]. ``zero + counts.sum()`` is every anchor."""

    zero: int
    counts: np.ndarray
    edges: np.ndarray

    @property
    def total(self) -> int:
        return int(self.zero + self.counts.sum())


def iou_histogram(max_iou, *, bins: int = 20) -> IoUHistogram:
    """Histogram of the anchors' best IoUs that keeps the anchors touching no box apart.

    Without a box every anchor has IoU 0; with one, most still do (they lie elsewhere in the image),
    and a single bar for them would hide the few hundred that matter. So IoU 0 is a count of its own
    and the ``bins`` bars cover ``(0, 1]`` (an IoU equal to an edge goes to the bin it starts).

    >>> h = iou_histogram([0.0, 0.0, 0.05, 0.5, 1.0], bins=4)
    >>> h.zero, h.counts.tolist(), h.total
    (2, [1, 0, 1, 1], 5)
    """
    v = np.asarray(max_iou, dtype=np.float64).ravel()
    if v.size and (not np.all(np.isfinite(v)) or v.min() < 0 or v.max() > 1):
        raise ValueError("IoUs lie between 0 and 1.")
    if int(bins) < 1:
        raise ValueError(f"A histogram needs at least one bin; got {bins}.")
    zero = v == 0
    counts, edges = np.histogram(v[~zero], bins=int(bins), range=(0.0, 1.0))
    return IoUHistogram(int(zero.sum()), counts.astype(np.int64), edges)
