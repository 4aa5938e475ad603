"""Post-processing of a disparity map: fill rejected pixels from the background side, then a
colour-guided weighted median that snaps disparity edges to image edges.

Reference: Z. Ma, K. He, Y. Wei, J. Sun, E. Wu, "Constant time weighted median filtering for
stereo matching and beyond", ICCV 2013; K. He, J. Sun, "Fast guided filter", arXiv 2015.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..parallel import shared_pool

__all__ = ["fill_invalid", "weighted_median"]


def fill_invalid(disparity: np.ndarray) -> np.ndarray:
    """Fill NaN pixels along each row with the smaller (background) of the nearest valid neighbours.

    Occluded pixels belong to the farther surface, so the smaller disparity is the right guess.

    >>> import numpy as np
    >>> fill_invalid(np.array([[np.nan, 5, np.nan, np.nan, 2, np.nan]], np.float32)).tolist()
    [[5.0, 5.0, 2.0, 2.0, 2.0, 2.0]]
    """
    d = np.asarray(disparity, np.float32)
    missing = ~np.isfinite(d)
    if not missing.any():
        return d.copy()
    h, w = d.shape
    # work on the runs of missing pixels, not on every pixel: a zero column on each side of every
    # row keeps runs from joining across rows, and each run's ends are where the mask flips
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = missing
    flips = np.flatnonzero(np.diff(padded.ravel()) != 0)  # (nonzero on int8 ±1 is 4× slower than on bool)
    starts, ends = flips[0::2] + 1, flips[1::2] + 1  # [start, end) in padded coordinates
    rows, first, after = starts // (w + 2), starts % (w + 2) - 1, ends % (w + 2) - 1
    flat = d.ravel()
    left = np.where(first > 0, flat[rows * w + np.maximum(first - 1, 0)], np.inf)
    right = np.where(after < w, flat[rows * w + np.minimum(after, w - 1)], np.inf)
    fill = np.minimum(left, right)
    fill[np.isinf(fill)] = 0.0  # rows with no valid pixel at all
    out = d.copy()
    out[missing] = np.repeat(fill.astype(np.float32), after - first)
    return out


_POOL_MIN_PIXELS = 60_000  # working-grid pixels from which the tiles go to the thread pool
# Tile side on the working grid. Smaller tiles skip more flat ground but each costs fixed work
# (a bincount, four slices, the per-level loop): measured on tsukuba, venus and the procedural scenes
# at 640×480 and 1280×960, 160 was 1.1-1.7× faster than 64 everywhere (benchmarks/stereo.py).
_TILE = 160


def _tiles(h: int, w: int, size: int) -> list[tuple[int, int, int, int]]:
    """Split an h×w grid into tiles of about ``size``×``size`` (rows y0..y1, columns x0..x1)."""
    ys = np.linspace(0, h, max(1, round(h / size)) + 1).round().astype(int)
    xs = np.linspace(0, w, max(1, round(w / size)) + 1).round().astype(int)
    return [(int(y0), int(y1), int(x0), int(x1)) for y0, y1 in zip(ys[:-1], ys[1:])
            for x0, x1 in zip(xs[:-1], xs[1:]) if y1 > y0 and x1 > x0]


def _floor_percentiles(x: np.ndarray, *q: float) -> list[int]:
    """``floor(np.percentile(x, q))`` for each q, from one partition (under half of percentile's time).

    NumPy's answer lies between the order statistics around (n − 1)·q/100; when the two just
    outside them have the same floor, that is the answer whatever the interpolation; otherwise
    ask NumPy.
    """
    v = np.ravel(x)
    n = v.size
    ranks = [((n - 1) * p / 100.0) for p in q]
    below = [min(n - 1, max(0, int(np.floor(r)) - 1)) for r in ranks]
    above = [min(n - 1, int(np.ceil(r)) + 1) for r in ranks]
    part = np.partition(v, sorted(set(below + above)))
    out = []
    for p, b, a in zip(q, below, above):
        lo, hi = np.floor(part[b]), np.floor(part[a])
        out.append(int(lo) if lo == hi and np.isfinite(lo) else int(np.floor(np.percentile(v, p))))
    return out


def weighted_median(disparity: np.ndarray, guide: np.ndarray, *, radius: int = 7, eps: float = 1e-3,
                    keep_within: float = 1.0, scale: int = 2, step: float = 2.0) -> np.ndarray:
    """Colour-guided weighted median of a dense disparity map (integer levels).

    For each level l, the indicator [d ≤ l] is smoothed with a guided filter (He et al.) steered by
    the grey guide; the median is the first level whose smoothed cumulative share reaches 1/2.
    Pixels whose value is within ``keep_within`` px of that median keep their sub-pixel value.

    The work goes only where it can change the answer. Where every disparity within the filters'
    reach lies on one side of a level, that level's indicator is constant, its smoothed share is
    exactly 0 or 1, and the count of levels below the median is simply the pixel's own bin; so the
    count starts from the bins, and each level is filtered only over the box (per tile) of pixels
    whose reach spans it, as a correction. Levels with no disparity between them share one
    indicator, filtered once. A flat tile costs nothing; a depth edge costs one indicator per step
    of the edge, over the edge's surroundings.

    >>> import numpy as np
    >>> d = np.full((64, 64), 3.0, np.float32); d[:, 32:] = 9.0
    >>> guide = np.zeros((64, 64), np.uint8); guide[:, 30:] = 255   # the image edge is 2 px left
    >>> out = weighted_median(d, guide)
    >>> float(out[10, 29]), float(out[10, 31])                       # the depth edge snaps to it
    (3.0, 9.0)
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
        # pad to a multiple of s first: OpenCV's area resize by a whole factor is a fast block mean
        # (by 383/192 it is a general, 30× slower path); the map's sample is each block's corner
        if (hs * s, ws * s) != (h, w):
            g = cv2.copyMakeBorder(g, 0, hs * s - h, 0, ws * s - w, cv2.BORDER_REPLICATE)
        g = cv2.resize(g, (ws, hs), interpolation=cv2.INTER_AREA)
        ds = np.ascontiguousarray(d[::s, ::s])
    else:
        ds = d
    I = g.astype(np.float32) * np.float32(1 / 255)
    rs = max(1, radius // s)
    k = (2 * rs + 1, 2 * rs + 1)

    def box(x, depth=-1):
        return cv2.boxFilter(x, depth, k, borderType=cv2.BORDER_REFLECT)

    def box4(x, depth=-1):  # (rows, cols·4) seen as a 4-channel image
        return box(x.reshape(x.shape[0], -1, 4), depth).reshape(x.shape)

    mI = box(I)
    inv = 1.0 / (box(I * I) - mI * mI + eps)
    # levels span the bulk of the map (0.2-99.8th percentile): rare outliers beyond are clipped
    lo, hi = _floor_percentiles(ds[::2, ::2], 0.2, 99.8)
    hi += 1
    hi = max(hi, lo + 1)
    levels = np.arange(lo, hi, step, dtype=np.float32) + 0.5 * step  # thresholds
    # bin[y, x] = how many thresholds lie below d: [d <= level k] is exactly [bin <= k]
    # (levels are lo + (k + 1/2)·step, so that count is ceil((d - lo)/step - 1/2), clipped to the levels)
    bins = np.clip(np.ceil((ds - np.float32(lo)) / np.float32(step) - np.float32(0.5)), 0, len(levels))
    bins = bins.astype(np.uint16)
    # the 4-channel copies the tiles slice (see below), made once for the whole map
    I4, mI4, inv4, bins4 = (cv2.merge([x] * 4).reshape(hs, ws * 4) for x in (I, mI, inv, bins))
    m = 2 * rs  # two nested box filters: a pixel's result depends on the map within m pixels
    # the smallest and largest bin within reach of each pixel: outside [low, high) every level's
    # indicator is constant over the pixel's window, its share exactly 0 or 1
    reach = np.ones((2 * m + 1, 2 * m + 1), np.uint8)
    low = cv2.erode(bins, reach, borderType=cv2.BORDER_REFLECT)
    high = cv2.dilate(bins, reach, borderType=cv2.BORDER_REFLECT)
    # levels whose weighted share stays below 1/2; where every indicator is constant that is the
    # number of levels below the pixel's own disparity, its bin, and only the rest is filtered
    count = bins.astype(np.float32)

    def groups(y0: int, y1: int, x0: int, x1: int):
        """The level groups to filter in one tile: (levels, weights, box of the tile they touch)."""
        a0, a1, b0, b1 = max(0, y0 - m), min(hs, y1 + m), max(0, x0 - m), min(ws, x1 + m)
        present = np.flatnonzero(np.bincount(bins[a0:a1, b0:b1].ravel()))  # (np.unique sorts: 4× slower)
        # between two neighbouring present bins the indicator is the same image, so it is filtered
        # once and counted for every level it stands for (its weight); one bin: nothing to filter
        split, weight = present[:-1], np.diff(present)
        lo_c, hi_c = low[y0:y1, x0:x1], high[y0:y1, x0:x1]
        row_lo, row_hi, col_lo, col_hi = lo_c.min(1), hi_c.max(1), lo_c.min(0), hi_c.max(0)
        for start in range(0, len(split), 4):  # 4 levels at a time: the 4 channels of one image
            at = np.zeros(4, np.uint16)
            wt = np.zeros(4, np.uint16)  # an unused channel weighs nothing
            n = min(4, len(split) - start)
            at[:n], wt[:n] = split[start:start + n], weight[start:start + n]
            # the rows and columns of the tile where some pixel's window spans one of these levels
            # (a box around them; outside it the correction is 0)
            ys = np.flatnonzero((row_lo <= at[n - 1]) & (row_hi > at[0]))
            xs = np.flatnonzero((col_lo <= at[n - 1]) & (col_hi > at[0]))
            if ys.size and xs.size:
                yield at, wt, (y0 + ys[0], y0 + ys[-1] + 1, x0 + xs[0], x0 + xs[-1] + 1)

    def correction(at, wt, where):
        """Filter 4 levels' indicators over a box (and the filters' reach around it); return how
        many levels, weighted, each pixel of the box counts differently from its own bin."""
        ya, yb, xa, xb = where
        r0, r1, c0, c1 = max(0, ya - m), min(hs, yb + m), max(0, xa - m), min(ws, xb + m)
        # the element-wise steps run on (rows, cols·4) views so that NumPy's inner loops are long
        Ib, mIb, invb, bb = (x[r0:r1, 4 * c0:4 * c1] for x in (I4, mI4, inv4, bins4))
        P = bb <= np.tile(at, c1 - c0)  # [d <= level]
        mP = box4(P.view(np.uint8), cv2.CV_32F)  # (from 0/1 bytes: exact sums, no float copy)
        A = box4(cv2.multiply(Ib, P.view(np.uint8), dtype=cv2.CV_32F))  # P·I (2× NumPy's bool product)
        A -= mIb * mP
        A *= invb
        mP -= A * mIb  # b
        q = box4(A)
        q *= Ib
        q += box4(mP)
        # a weighted share of d <= level below 1/2 counts the level; the bin counted it when the
        # pixel's own disparity is above it: the correction is the difference
        inner = np.s_[ya - r0:yb - r0, 4 * (xa - c0):4 * (xb - c0)]
        diff = np.subtract((q[inner] < 0.5).view(np.uint8), (~P[inner]).view(np.uint8), dtype=np.int16)
        diff *= np.tile(wt, xb - xa).astype(np.int16)
        c = diff.reshape(yb - ya, xb - xa, 4)
        return where, c[..., 0] + c[..., 1] + c[..., 2] + c[..., 3]  # (faster than .sum(-1))

    jobs = [g for t in _tiles(hs, ws, _TILE) for g in groups(*t)]
    if len(jobs) > 1 and hs * ws >= _POOL_MIN_PIXELS:
        done = shared_pool().map(lambda job: correction(*job), jobs)  # (OpenCV and NumPy release the GIL)
    else:  # handing small jobs to threads costs more than it saves
        done = (correction(*job) for job in jobs)
    for (ya, yb, xa, xb), corr in done:
        count[ya:yb, xa:xb] += corr

    med = count * np.float32(step) + np.float32(lo)
    if s > 1:
        med = cv2.resize(med, (ws * s, hs * s), interpolation=cv2.INTER_NEAREST)[:h, :w]
    # keep d where it is within keep_within of the median (a NaN in d compares false: the median)
    near = cv2.compare(cv2.absdiff(med, d), float(keep_within), cv2.CMP_LE)
    out = np.ascontiguousarray(med)
    cv2.copyTo(d, near, out)
    return out
