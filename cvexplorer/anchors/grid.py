"""Anchor grids: the shapes of one location and their tiling over every level of a detector."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["generate", "generate_wh", "grid_shape", "anchor_shapes", "level_slices", "cell_at", "cell_anchors",
           "grid_segments"]


# -- validation ----------------------------------------------------------------------------------------
def _size(image_size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (width, height); got {image_size!r}.") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"The image must have a positive width and height; got {w} x {h}.")
    return w, h


def _positive(values, name: str) -> tuple[float, ...]:
    vals = tuple(float(v) for v in np.atleast_1d(np.asarray(values, dtype=float)))
    if not vals:
        raise ValueError(f"{name} needs at least one value.")
    for v in vals:
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"Every value of {name} must be a positive number; got {v}.")
    return vals


def grid_shape(image_size, stride: float) -> tuple[int, int]:
    """``(cols, rows)`` of the grid of a level with this stride: ``ceil(W / s)``, ``ceil(H / s)``.

    >>> grid_shape((640, 640), 8), grid_shape((1000, 600), 64)
    ((80, 80), (16, 10))
    """
    w, h = _size(image_size)
    (s,) = _positive([stride], "stride")
    return int(math.ceil(w / s)), int(math.ceil(h / s))


def anchor_shapes(size: float, ratios: Sequence[float], scales: Sequence[float]) -> np.ndarray:
    """``(A, 2)`` widths and heights of the anchors of one location, ratio-major.

    ``w = k S / sqrt(r)``, ``h = k S sqrt(r)`` so that ``h / w = r`` and ``sqrt(w h) = k S``.

    >>> anchor_shapes(32, (0.5, 1, 2), (1,)).round(3).tolist()
    [[45.255, 22.627], [32.0, 32.0], [22.627, 45.255]]
    """
    (s,) = _positive([size], "sizes")
    r = np.asarray(_positive(ratios, "ratios"))
    k = np.asarray(_positive(scales, "scales"))
    side = (s * k)[None, :]  # (1, K)
    w = side / np.sqrt(r)[:, None]
    h = side * np.sqrt(r)[:, None]
    return np.stack([w.ravel(), h.ravel()], axis=1)


def _tile(image_size, stride: float, wh: np.ndarray, offset: float) -> np.ndarray:
    cols, rows = grid_shape(image_size, stride)
    cx = (np.arange(cols, dtype=np.float64) + offset) * stride
    cy = (np.arange(rows, dtype=np.float64) + offset) * stride
    cxg = np.broadcast_to(cx[None, :, None], (rows, cols, len(wh)))
    cyg = np.broadcast_to(cy[:, None, None], (rows, cols, len(wh)))
    hw = wh[:, 0][None, None, :] / 2.0
    hh = wh[:, 1][None, None, :] / 2.0
    out = np.stack([cxg - hw, cyg - hh, cxg + hw, cyg + hh], axis=-1)
    return out.reshape(-1, 4)


def generate(image_size, strides: Sequence[float], sizes: Sequence[float], ratios: Sequence[float] = (0.5, 1.0, 2.0),
             scales: Sequence[float] = (1.0,), *, offset: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """All anchors of a multi-level detector: ``(boxes (N, 4) xyxy, level (N,) int)``.

    Level ``l`` has stride ``strides[l]`` and base size ``sizes[l]``; every location gets
    ``len(ratios) * len(scales)`` anchors of exact size ``scale * size`` (geometric mean of the
    sides) and exact aspect ratio ``h / w = ratio``. ``N = A * sum_l ceil(W/s_l) ceil(H/s_l)``.

    >>> b, lv = generate((640, 640), strides=(8, 16, 32, 64, 128), sizes=(32, 64, 128, 256, 512),
    ...                  scales=(1, 2 ** (1 / 3), 2 ** (2 / 3)))
    >>> len(b), np.bincount(lv).tolist()
    (76725, [57600, 14400, 3600, 900, 225])
    """
    st = _positive(strides, "strides")
    sz = _positive(sizes, "sizes")
    if len(st) != len(sz):
        raise ValueError(f"Give one base size per level: {len(st)} strides but {len(sz)} sizes.")
    if not 0.0 <= offset <= 1.0:
        raise ValueError(f"offset is a fraction of a cell (0 to 1); got {offset}.")
    _size(image_size)
    parts, levels = [], []
    for lv, (s, size) in enumerate(zip(st, sz)):
        b = _tile(image_size, s, anchor_shapes(size, ratios, scales), offset)
        parts.append(b)
        levels.append(np.full(len(b), lv, np.int32))
    return np.concatenate(parts), np.concatenate(levels)


def generate_wh(image_size, strides: Sequence[float], anchors_wh: Sequence[Sequence[Sequence[float]]], *,
                offset: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`generate` but with explicit ``(w, h)`` anchors per level (YOLOv2/v3 style).

    >>> b, lv = generate_wh((416, 416), (32,), [[(116, 90), (156, 198), (373, 326)]])
    >>> len(b), (b[0, 2] - b[0, 0]).item(), (b[0, 3] - b[0, 1]).item()
    (507, 116.0, 90.0)
    """
    st = _positive(strides, "strides")
    if len(anchors_wh) != len(st):
        raise ValueError(f"Give one list of (w, h) anchors per level: {len(st)} strides, {len(anchors_wh)} lists.")
    parts, levels = [], []
    for lv, (s, wh) in enumerate(zip(st, anchors_wh)):
        wh = np.asarray(wh, dtype=np.float64).reshape(-1, 2)
        _positive(wh.ravel(), "anchor widths and heights")
        b = _tile(image_size, s, wh, offset)
        parts.append(b)
        levels.append(np.full(len(b), lv, np.int32))
    return np.concatenate(parts), np.concatenate(levels)


def level_slices(image_size, strides: Sequence[float], per_location: int | Sequence[int]) -> list[slice]:
    """Where each level's anchors sit in the concatenated array of :func:`generate`.

    >>> level_slices((64, 64), (16, 32), 3)
    [slice(0, 48, None), slice(48, 60, None)]
    """
    per = [int(per_location)] * len(strides) if np.isscalar(per_location) else [int(p) for p in per_location]
    out, start = [], 0
    for s, a in zip(strides, per):
        c, r = grid_shape(image_size, s)
        out.append(slice(start, start + c * r * a))
        start += c * r * a
    return out


def cell_at(x: float, y: float, image_size, stride: float) -> tuple[int, int] | None:
    """The ``(col, row)`` of the cell of a level that holds the point ``(x, y)``, or None outside the grid.

    >>> cell_at(460.0, 430.0, (640, 640), 16), cell_at(-1, 5, (640, 640), 16)
    ((28, 26), None)
    """
    cols, rows = grid_shape(image_size, stride)
    if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0:
        return None
    c, r = int(x // stride), int(y // stride)
    return (c, r) if c < cols and r < rows else None


def cell_anchors(image_size, strides: Sequence[float], per_location: int | Sequence[int], level: int,
                 cell: tuple[int, int]) -> np.ndarray:
    """Indices, in the array of :func:`generate`, of the anchors of one cell ``(col, row)`` of a level.

    The anchors of a level are stored row by row, column by column, ``A`` per cell, so cell
    ``(c, r)`` holds ``start + (r cols + c) A + k`` for ``k < A``.

    >>> cell_anchors((64, 64), (16, 32), 3, 1, (1, 0)).tolist()
    [51, 52, 53]
    """
    sl = level_slices(image_size, strides, per_location)[level]
    per = int(per_location) if np.isscalar(per_location) else int(per_location[level])
    cols, rows = grid_shape(image_size, strides[level])
    c, r = (int(v) for v in cell)
    if not (0 <= c < cols and 0 <= r < rows):
        raise ValueError(f"Cell ({c}, {r}) is outside the {cols} x {rows} grid of level {level}.")
    start = sl.start + (r * cols + c) * per
    return np.arange(start, start + per)


def grid_segments(image_size, stride: float) -> np.ndarray:
    """The lines of a level's grid as ``(N, 4)`` segments ``x0, y0, x1, y1`` (cols + 1 vertical, rows + 1
    horizontal), spanning ``cols s`` by ``rows s`` (which may pass the image edge when s does not divide it).

    >>> grid_segments((32, 16), 16).astype(int).tolist()
    [[0, 0, 0, 16], [16, 0, 16, 16], [32, 0, 32, 16], [0, 0, 32, 0], [0, 16, 32, 16]]
    """
    cols, rows = grid_shape(image_size, stride)
    xs = np.arange(cols + 1, dtype=np.float64) * stride
    ys = np.arange(rows + 1, dtype=np.float64) * stride
    vertical = np.stack([xs, np.zeros_like(xs), xs, np.full_like(xs, rows * stride)], axis=1)
    horizontal = np.stack([np.zeros_like(ys), ys, np.full_like(ys, cols * stride), ys], axis=1)
    return np.concatenate([vertical, horizontal])
