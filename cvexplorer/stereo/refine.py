"""Post-processing of a disparity map: fill rejected pixels from the background side, then a
colour-guided weighted median that snaps disparity edges to image edges.

Reference: Z. Ma, K. He, Y. Wei, J. Sun, E. Wu, "Constant time weighted median filtering for
stereo matching and beyond", ICCV 2013; K. He, J. Sun, "Fast guided filter", arXiv 2015.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

__all__ = ["fill_invalid", "weighted_median"]


def fill_invalid(disparity: np.ndarray) -> np.ndarray:
    """Fill NaN pixels along each row with the smaller (background) of the nearest valid neighbours.

    Occluded pixels belong to the farther surface, so the smaller disparity is the right guess.

    >>> import numpy as np
    >>> fill_invalid(np.array([[np.nan, 5, np.nan, np.nan, 2, np.nan]], np.float32)).tolist()
    [[5.0, 5.0, 2.0, 2.0, 2.0, 2.0]]
    """
    d = np.asarray(disparity, np.float32)
    valid = np.isfinite(d)
    if valid.all():
        return d.copy()
    h, w = d.shape
    cols = np.arange(w, dtype=np.int32)[None, :]
    li = np.maximum.accumulate(np.where(valid, cols, -1), axis=1)
    ri = np.minimum.accumulate(np.where(valid, cols, w)[:, ::-1], axis=1)[:, ::-1]
    ys, xs = np.nonzero(~valid)  # gather only where something is missing
    lft, rgt = li[ys, xs], ri[ys, xs]
    flat = d.ravel()
    base = ys * w
    dl = np.where(lft >= 0, flat[base + np.clip(lft, 0, w - 1)], np.inf)
    dr = np.where(rgt < w, flat[base + np.clip(rgt, 0, w - 1)], np.inf)
    f = np.minimum(dl, dr)
    f[~np.isfinite(f)] = 0.0  # rows with no valid pixel at all
    out = d.copy()
    out[ys, xs] = f
    return out


_POOL = None


def _pool():
    """A small shared thread pool: OpenCV and NumPy release the GIL, so row bands run in parallel."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)),
                                   thread_name_prefix="cvexplorer-stereo")
    return _POOL


def _row_bands(h: int, min_rows: int) -> list[tuple[int, int]]:
    """Split rows 0..h into up to one band per core, each at least ``min_rows`` tall."""
    n = max(1, min(os.cpu_count() or 1, 4, h // max(1, min_rows)))
    edges = np.linspace(0, h, n + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def weighted_median(disparity: np.ndarray, guide: np.ndarray, *, radius: int = 7, eps: float = 1e-3,
                    keep_within: float = 1.0, scale: int = 2, step: float = 2.0) -> np.ndarray:
    """Colour-guided weighted median of a dense disparity map (integer levels).

    For each level l, the indicator [d ≤ l] is smoothed with a guided filter (He et al.) steered by
    the grey guide; the median is the first level whose smoothed cumulative share reaches 1/2.
    Pixels whose value is within ``keep_within`` px of that median keep their sub-pixel value.
    """
    d = np.asarray(disparity, np.float32)
    g = np.asarray(guide)
    if g.ndim == 3:
        g = cv2.cvtColor(g, cv2.COLOR_RGB2GRAY)
    h, w = d.shape
    # "fast guided filter" (He & Sun 2015): everything on a 1/scale grid, the median upsampled
    s = int(scale) if min(h, w) >= 32 * scale else 1
    hs, ws = (h + s - 1) // s, (w + s - 1) // s
    if s > 1:
        g = cv2.resize(g, (ws, hs), interpolation=cv2.INTER_AREA)
        ds = cv2.resize(d, (ws, hs), interpolation=cv2.INTER_NEAREST)
    else:
        ds = d
    I = g.astype(np.float32) * np.float32(1 / 255)
    rs = max(1, radius // s)
    k = (2 * rs + 1, 2 * rs + 1)

    def box(x):
        return cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)

    mI = box(I)
    inv = 1.0 / (box(I * I) - mI * mI + eps)
    # levels span the bulk of the map (0.2-99.8th percentile): rare outliers beyond are clipped
    lo, hi = (int(v) for v in np.floor(np.percentile(ds[::2, ::2], [0.2, 99.8]) + [0.0, 1.0]))
    hi = max(hi, lo + 1)
    levels = np.arange(lo, hi, step, dtype=np.float32) + 0.5 * step  # thresholds

    def band(y0: int, y1: int) -> np.ndarray:
        """Count of levels whose weighted share stays below 1/2, for half-res rows y0..y1."""
        m = 2 * rs  # two nested box filters: rows inside the band are exact with this margin
        a0, a1 = max(0, y0 - m), min(hs, y1 + m)
        Ib, mIb, invb, db = I[a0:a1, :, None], mI[a0:a1, :, None], inv[a0:a1, :, None], ds[a0:a1, :, None]
        count4 = np.zeros((a1 - a0, ws, 4), np.uint16)
        for start in range(0, len(levels), 4):  # 4 levels at a time: OpenCV filters 4 channels fast
            lv = levels[start:start + 4]
            n = len(lv)
            P = (db <= lv).astype(np.float32)  # [d <= level]
            mP = box(P).reshape(P.shape)
            A = box(P * Ib).reshape(P.shape)
            A -= mIb * mP
            A *= invb
            mP -= A * mIb  # b
            q = box(A).reshape(P.shape)
            q *= Ib
            q += box(mP).reshape(P.shape)
            count4[..., :n] += q < 0.5  # weighted share of d <= level is below 1/2: the median is higher
        return count4[y0 - a0: y1 - a0].sum(axis=2, dtype=np.float32)

    bands = _row_bands(hs, 8 * rs)
    if len(bands) > 1:
        count = np.concatenate(list(_pool().map(lambda yy: band(*yy), bands)), axis=0)
    else:
        count = band(0, hs)
    if s > 1:
        count = cv2.resize(count, (w, h), interpolation=cv2.INTER_NEAREST)
    med = count * np.float32(step) + np.float32(lo)
    keep = cv2.absdiff(med, d) <= keep_within
    return np.where(keep, d, med)


