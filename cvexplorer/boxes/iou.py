"""IoU of axis-aligned boxes: validation, areas, the IoU matrix and the row kernels NMS uses.

Boxes are ``xyxy`` floats in continuous pixel coordinates; the width is ``x1 - x0`` (no ``+1``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_boxes", "areas", "iou_matrix"]

# the union's floor: it only turns a union of 0 (then the intersection is 0 too) into a positive
# number, so the IoU is 0, not NaN; a subnormal union (areas near 1e-308) is left as it is (the
# smallest normal number as the floor made two identical such boxes score 1e-5, not 1)
_TINY = np.finfo(np.float64).smallest_subnormal


def as_boxes(boxes, name: str = "boxes") -> np.ndarray:
    """Return ``boxes`` as a float64 ``(N, 4)`` array (an empty input gives ``(0, 4)``).

    Raises ``ValueError`` for a wrong shape or non-finite values.

    >>> as_boxes([[0, 0, 2, 2]]).shape
    (1, 4)
    """
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4), np.float64)
    if arr.ndim == 1 and arr.shape[0] == 4:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) as x0, y0, x1, y1; got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contain NaN or infinite coordinates.")
    return arr


def areas(boxes) -> np.ndarray:
    """Area of each xyxy box (0 for degenerate boxes).

    >>> areas([[0, 0, 2, 3], [5, 5, 4, 4]]).tolist()
    [6.0, 0.0]
    """
    b = as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou_matrix(a, b, *, dtype=np.float64) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b`` (both xyxy): a ``(len(a), len(b))`` array.

    Vectorised along the longer list, looping over the shorter one, so the temporaries are a
    few vectors of ``max(len(a), len(b))`` values whatever the sizes: only the result grows with
    ``len(a) * len(b)`` (200 000 × 100 in float64 is 160 MB; ``dtype=np.float32`` halves it).
    When ``a`` is the longer list the result is a Fortran-ordered array (a transposed view),
    which NumPy indexes exactly like any other.

    >>> iou_matrix([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]).round(4).tolist()
    [[0.1429, 1.0, 0.0]]
    >>> iou_matrix(np.zeros((3, 4)), np.zeros((0, 4))).shape
    (3, 0)
    """
    dtype = np.dtype(dtype)
    a = as_boxes(a, "a")
    b = as_boxes(b, "b")
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return np.zeros((n, m), dtype)
    transpose = n > m
    long_, short = (a, b) if transpose else (b, a)
    cols = np.ascontiguousarray(long_.T, dtype=dtype)  # (4, L): contiguous coordinate vectors
    x0, y0, x1, y1 = cols
    area_l = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    sh = short.astype(dtype)
    area_s = np.clip(sh[:, 2] - sh[:, 0], 0, None) * np.clip(sh[:, 3] - sh[:, 1], 0, None)
    out = np.empty((len(short), len(long_)), dtype)
    w = np.empty(len(long_), dtype)
    h = np.empty_like(w)
    t = np.empty_like(w)
    tiny = np.finfo(dtype).smallest_subnormal  # union == 0 implies inter == 0: the IoU is 0 (see _TINY)
    for j in range(len(short)):
        sx0, sy0, sx1, sy1 = sh[j]
        np.minimum(x1, sx1, out=w)
        np.maximum(x0, sx0, out=t)
        w -= t
        np.maximum(w, 0, out=w)
        np.minimum(y1, sy1, out=h)
        np.maximum(y0, sy0, out=t)
        h -= t
        np.maximum(h, 0, out=h)
        w *= h
        np.add(area_l, area_s[j], out=t)
        t -= w
        np.maximum(t, tiny, out=t)
        np.divide(w, t, out=out[j])
    return out.T if transpose else out



def _pairwise(ax0, ay0, ax1, ay1, aa, bx0, by0, bx1, by1, ba):
    """IoU by broadcasting (column inputs against row inputs); union 0 gives IoU 0."""
    if np.ndim(ax0) == 1 and np.ndim(bx0) == 1:
        ax0, ay0, ax1, ay1, aa = (v[:, None] for v in (ax0, ay0, ax1, ay1, aa))
    w = np.minimum(ax1, bx1)
    w -= np.maximum(ax0, bx0)
    np.maximum(w, 0, out=w)
    h = np.minimum(ay1, by1)
    h -= np.maximum(ay0, by0)
    np.maximum(h, 0, out=h)
    w *= h
    u = aa + ba
    u -= w
    np.maximum(u, _TINY, out=u)
    np.divide(w, u, out=u)
    return u


def _iou_one(b, area, i, r):
    """IoU of box ``i`` with boxes ``r`` (indices)."""
    w = np.clip(np.minimum(b[r, 2], b[i, 2]) - np.maximum(b[r, 0], b[i, 0]), 0, None)
    h = np.clip(np.minimum(b[r, 3], b[i, 3]) - np.maximum(b[r, 1], b[i, 1]), 0, None)
    inter = w * h
    union = np.maximum(area[r] + area[i] - inter, _TINY)
    return inter / union

