r"""Stereo matching: disparity from a rectified pair, depth from disparity, and evaluation.

For a rectified pair, a scene point seen at column :math:`x_L` in the left image appears at
:math:`x_R = x_L - d` on the *same row* of the right image. The disparity :math:`d` (pixels)
gives depth through :math:`Z = fB / (d + d_{offs})` (Middlebury convention; ``doffs`` is the
difference of the principal points, 0 for most rigs).

Every matcher does the same 1-D search: for each pixel, the cost of every candidate disparity
along the scanline (:func:`cost_volume_row` shows it), then the cheapest (with smoothness, for
semi-global matching). :func:`compute_disparity` returns float32 disparities **in pixels** with
NaN where no match was trusted — never OpenCV's raw int16 "×16 fixed point" output.

The default (``method="sgbm"``) is OpenCV's semi-global matcher (3-way, P1 = 8·3·b², P2 = 32·3·b²,
uniqueness 10 %, OpenCV's internal left-right consistency check, 1/16-pixel sub-pixel), followed by
filling of rejected pixels from the background side of each scanline and a colour-guided weighted
median (a constant-time weighted median built from guided filters, Ma et al., CVPR 2013) that snaps
disparity edges to image edges. Reference: H. Hirschmüller, "Stereo processing by semiglobal
matching and mutual information", PAMI 30(2), 2008.

>>> from cvexplorer.samples.stereo import stereo_scene
>>> left, right, gt = stereo_scene(size=(160, 120), seed=1)
>>> d = compute_disparity(left, right, num_disparities=32)
>>> d.dtype, d.shape
(dtype('float32'), (120, 160))
>>> evaluate(d, gt)["bad"] < 10
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "StereoPairError", "load_pair", "split_side_by_side", "estimate_num_disparities",
    "compute_disparity", "cost_volume_row", "depth_from_disparity", "read_calibration",
    "evaluate", "read_pfm", "read_ground_truth", "fill_invalid", "weighted_median",
    "vertical_offset", "sgbm_params", "METHODS",
]

METHODS = ("sgbm", "bm", "teaching")


class StereoPairError(ValueError):
    """A pair that cannot be matched (sizes differ, not rectified, a single image...)."""


# ----------------------------------------------------------------------------- loading
def _as_rgb(img, name: str) -> np.ndarray:
    if isinstance(img, (str, os.PathLike)):
        from .imageio import load_image

        return load_image(img)
    a = np.asarray(img)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise StereoPairError(f"The {name} image must be H×W or H×W×3, got shape {a.shape}.")
    a = a[..., :3]
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        a = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def vertical_offset(left: np.ndarray, right: np.ndarray, *, max_features: int = 800) -> dict:
    """Median vertical offset (pixels) of matched ORB features: ~0 for a rectified pair.

    Returns ``{"dy": median dy, "dy_abs": median |dy|, "n": matches, "dx": 99th-percentile x_L - x_R}``
    (NaN when too few features match).
    """
    gl = cv2.cvtColor(_as_rgb(left, "left"), cv2.COLOR_RGB2GRAY)
    gr = cv2.cvtColor(_as_rgb(right, "right"), cv2.COLOR_RGB2GRAY)
    orb = cv2.ORB_create(nfeatures=max_features, edgeThreshold=15, patchSize=15)
    kl, dl = orb.detectAndCompute(gl, None)
    kr, dr = orb.detectAndCompute(gr, None)
    out = {"dy": float("nan"), "dy_abs": float("nan"), "n": 0, "dx": float("nan")}
    if dl is None or dr is None or len(kl) < 8 or len(kr) < 8:
        return out
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(dl, dr)
    if len(matches) < 8:
        return out
    pl = np.array([kl[m.queryIdx].pt for m in matches])
    pr = np.array([kr[m.trainIdx].pt for m in matches])
    dy = pl[:, 1] - pr[:, 1]
    dx = pl[:, 0] - pr[:, 0]
    good = np.abs(dy - np.median(dy)) < 3
    out.update(dy=float(np.median(dy)), dy_abs=float(np.median(np.abs(dy))), n=int(len(matches)))
    if good.sum() >= 5:
        out["dx"] = float(np.percentile(dx[good], 99))
    return out


def load_pair(left, right) -> tuple[np.ndarray, np.ndarray]:
    """Validate a rectified pair (paths or arrays) and return it as two RGB uint8 arrays.

    Refuses, with a sentence that says why: different sizes, the same image twice, an image
    too small to match, and a pair whose features are clearly not on the same rows.

    >>> import numpy as np
    >>> load_pair(np.zeros((40, 60, 3), np.uint8), np.zeros((40, 50, 3), np.uint8))
    Traceback (most recent call last):
    ...
    cvexplorer.stereo.StereoPairError: The left image is 60×40 but the right one is 50×40: a rectified stereo pair has two images of the same size.
    """
    lft = _as_rgb(left, "left")
    rgt = _as_rgb(right, "right")
    if lft.shape != rgt.shape:
        raise StereoPairError(
            f"The left image is {lft.shape[1]}×{lft.shape[0]} but the right one is "
            f"{rgt.shape[1]}×{rgt.shape[0]}: a rectified stereo pair has two images of the same size.")
    h, w = lft.shape[:2]
    if h < 16 or w < 32:
        raise StereoPairError(f"The images are {w}×{h}: too small to match (at least 32×16).")
    if np.array_equal(lft, rgt):
        raise StereoPairError("The left and right images are identical: that is one image, not a stereo pair "
                              "(every disparity would be 0).")
    off = vertical_offset(lft, rgt)
    if off["n"] >= 20 and np.isfinite(off["dy_abs"]) and off["dy_abs"] > 2.0:
        raise StereoPairError(
            f"Matched features are {off['dy_abs']:.1f} px apart vertically (median): this pair is not "
            "rectified, so the 1-D search along rows cannot work. Rectify it first (cv2.stereoRectify).")
    return lft, rgt


def split_side_by_side(image) -> tuple[np.ndarray, np.ndarray]:
    """Split a side-by-side stereo image (left half | right half) into a validated pair.

    >>> import numpy as np
    >>> split_side_by_side(np.zeros((40, 61, 3), np.uint8))
    Traceback (most recent call last):
    ...
    cvexplorer.stereo.StereoPairError: A side-by-side stereo image has an even width (two equal halves); this one is 61 px wide.
    """
    img = _as_rgb(image, "side-by-side")
    h, w = img.shape[:2]
    if w % 2:
        raise StereoPairError(f"A side-by-side stereo image has an even width (two equal halves); "
                              f"this one is {w} px wide.")
    if w < 1.2 * h:
        raise StereoPairError(f"This image is {w}×{h}: taller than a side-by-side pair (two views next to "
                              "each other are about twice as wide as tall). Is it a single photo?")
    try:
        return load_pair(img[:, : w // 2], img[:, w // 2:])
    except StereoPairError as exc:
        # a wide single photo reaches here too: its halves are simply different pictures
        raise StereoPairError(f"The two halves of this {w}×{h} image are not a stereo pair, so it may be a "
                              f"single photo rather than two views side by side. {exc}") from None


def estimate_num_disparities(left, right) -> int:
    """A disparity range (multiple of 16) from matched features: 99th-percentile shift + margin.

    Falls back to 64 (or a quarter of the width) when too few features match.
    """
    lft = _as_rgb(left, "left")
    w = lft.shape[1]
    cap = max(16, min(256, (w // 2) // 16 * 16))
    off = vertical_offset(lft, right)
    dx = off["dx"]
    if not np.isfinite(dx):
        return int(min(cap, max(16, (w // 4) // 16 * 16)))
    need = max(dx, 0.0) * 1.1 + 2
    return int(min(cap, max(16, int(np.ceil(need / 16.0)) * 16)))


# ----------------------------------------------------------------------------- matching
def sgbm_params(num_disparities: int, block_size: int = 5, *, channels: int = 3, uniqueness: int = 10,
                smoothness: float = 1.0, lr_check: bool = True, speckle: bool = False) -> dict:
    """Keyword arguments for ``cv2.StereoSGBM_create`` used by the default method."""
    b2 = block_size * block_size
    return dict(minDisparity=0, numDisparities=int(num_disparities), blockSize=int(block_size),
                P1=int(round(8 * channels * b2 * smoothness)), P2=int(round(32 * channels * b2 * smoothness)),
                uniquenessRatio=int(uniqueness), disp12MaxDiff=1 if lr_check else -1,
                speckleWindowSize=100 if speckle else 0, speckleRange=2 if speckle else 0,
                mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY)


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
        from concurrent.futures import ThreadPoolExecutor

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


def _gray(a: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) if a.ndim == 3 else a


def _sad_volume(gl: np.ndarray, gr: np.ndarray, num_disparities: int, block_size: int) -> np.ndarray:
    """SAD cost volume C[d, y, x] = Σ_block |L(y, x) - R(y, x - d)| (inf where x - d < 0)."""
    L = gl.astype(np.float32)
    R = gr.astype(np.float32)
    h, w = L.shape
    vol = np.full((num_disparities, h, w), np.inf, np.float32)
    k = (block_size, block_size)
    for d in range(num_disparities):
        if d >= w:
            break
        diff = np.abs(L[:, d:] - R[:, : w - d])
        vol[d, :, d:] = cv2.boxFilter(diff, -1, k, normalize=False, borderType=cv2.BORDER_REPLICATE)
    return vol


def _teaching(left, right, num_disparities, block_size, lr_check, subpixel):
    gl, gr = _gray(left), _gray(right)
    vol = _sad_volume(gl, gr, num_disparities, block_size)
    D, h, w = vol.shape
    best = np.argmin(vol, axis=0)
    disp = best.astype(np.float32)
    finite = np.isfinite(np.take_along_axis(vol, best[None], 0)[0])
    if subpixel:
        inner = (best > 0) & (best < D - 1)
        bi = np.clip(best, 1, D - 2)
        c0 = np.take_along_axis(vol, (bi - 1)[None], 0)[0]
        c1 = np.take_along_axis(vol, bi[None], 0)[0]
        c2 = np.take_along_axis(vol, (bi + 1)[None], 0)[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            den = c0 - 2 * c1 + c2
            off = np.where(inner & np.isfinite(den) & (den > 0), 0.5 * (c0 - c2) / den, 0.0)
        disp = disp + np.clip(np.nan_to_num(off), -0.5, 0.5).astype(np.float32)
    disp[~finite] = np.nan
    if lr_check:
        # right-view costs from the same volume: C_R(x, d) = C_L(x + d, d)
        volr = np.full_like(vol, np.inf)
        for d in range(D):
            volr[d, :, : w - d] = vol[d, :, d:]
        best_r = np.argmin(volr, axis=0)
        xr = np.clip(np.round(np.arange(w)[None, :] - np.nan_to_num(disp)).astype(int), 0, w - 1)
        dr = np.take_along_axis(best_r, xr, axis=1)
        bad = np.abs(dr - best) > 1
        disp[bad] = np.nan
    return disp


def _lr_consistent(dl: np.ndarray, dr: np.ndarray, tol: float = 1.0) -> np.ndarray:
    """Keep d_L(x) only where the right view's disparity at x - d_L(x) agrees within ``tol`` px."""
    h, w = dl.shape
    xr = np.clip(np.round(np.arange(w)[None, :] - np.nan_to_num(dl)).astype(np.intp), 0, w - 1)
    back = np.take_along_axis(dr, xr, axis=1)
    with np.errstate(invalid="ignore"):
        ok = np.abs(dl - back) <= tol
    return np.where(ok, dl, np.nan).astype(np.float32)


def compute_disparity(left, right, *, method: str = "sgbm", num_disparities: int | None = None,
                      block_size: int = 5, lr_check: bool = True, fill: bool = True, subpixel: bool = True,
                      smoothness: float = 1.0, uniqueness: int = 10, refine: bool | None = None,
                      return_filled: bool = False):
    """Disparity of the left view, float32 pixels, NaN where invalid (never OpenCV's ×16 int16).

    Parameters
    ----------
    method : "sgbm" (default: semi-global matching + fill + weighted median), "bm" (OpenCV block
        matching) or "teaching" (plain SAD block matching in NumPy, winner takes all).
    num_disparities : search range (rounded up to a multiple of 16); estimated from features when None.
    block_size : odd matching window size.
    lr_check : reject pixels whose right-view match disagrees by more than 1 px. For "sgbm", True
        uses OpenCV's built-in check (``disp12MaxDiff = 1``, free but weak) and ``"full"`` runs a
        second SGBM pass from the right view (about twice the time); "teaching" always does the
        full check from its own cost volume.
    fill : fill rejected pixels from the background side, then (sgbm) a colour-guided weighted median.
    subpixel : keep sub-pixel disparities (OpenCV's 1/16 px, or a parabola fit for "teaching").
    smoothness : multiplies P1 and P2 (sgbm). uniqueness : margin in % (sgbm, bm).
    refine : the weighted-median step (default: on for sgbm when filling).
    return_filled : also return the boolean mask of pixels the matcher rejected and ``fill`` guessed
        (``evaluate(..., filled_mask=)`` scores them apart).
    """
    if method not in METHODS:
        raise ValueError(f"Unknown stereo method {method!r}; choose one of {', '.join(METHODS)}.")
    lft, rgt = _as_rgb(left, "left"), _as_rgb(right, "right")
    if lft.shape != rgt.shape:
        raise StereoPairError(f"The two images have different sizes ({lft.shape[1]}×{lft.shape[0]} and "
                              f"{rgt.shape[1]}×{rgt.shape[0]}).")
    block_size = int(block_size)
    if block_size < 1 or block_size % 2 == 0:
        raise ValueError(f"The block size must be odd and positive (the window has a centre pixel), got {block_size}.")
    if num_disparities is None:
        num_disparities = estimate_num_disparities(lft, rgt)
    num_disparities = int(num_disparities)
    if num_disparities < 1:
        raise ValueError(f"The number of disparities must be positive, got {num_disparities}.")
    nd16 = int(np.ceil(num_disparities / 16.0)) * 16
    if nd16 >= lft.shape[1]:
        raise ValueError(f"Searching {nd16} disparities needs an image wider than {nd16} px; this one is "
                         f"{lft.shape[1]} px.")
    if method == "teaching":
        d = _teaching(lft, rgt, num_disparities, block_size, lr_check, subpixel)
        refine = bool(refine)
    elif method == "bm":
        bs = max(5, block_size)
        bm = cv2.StereoBM_create(numDisparities=nd16, blockSize=bs)
        bm.setUniquenessRatio(int(uniqueness))
        bm.setDisp12MaxDiff(1 if lr_check else -1)
        bm.setTextureThreshold(10)
        raw = bm.compute(_gray(lft), _gray(rgt))
        d = raw.astype(np.float32) / 16.0  # OpenCV returns disparity × 16 in int16
        d[raw < 0] = np.nan
        refine = bool(refine)
    else:
        sg = cv2.StereoSGBM_create(**sgbm_params(nd16, block_size, uniqueness=uniqueness,
                                                 smoothness=smoothness, lr_check=lr_check))
        # SGBM's cost sums over channels, so RGB or BGR order gives the same result (no conversion)
        raw = sg.compute(lft, rgt)
        d = raw.astype(np.float32) / 16.0  # OpenCV returns disparity × 16 in int16
        d[raw < 0] = np.nan
        if lr_check == "full":
            # a second SGBM pass from the right view (mirror both images), then |d_L(x) - d_R(x - d)| <= 1
            bl = np.ascontiguousarray(rgt[:, ::-1])
            br = np.ascontiguousarray(lft[:, ::-1])
            raw_r = sg.compute(bl, br)[:, ::-1]
            dr = raw_r.astype(np.float32) / 16.0
            dr[raw_r < 0] = np.nan
            d = _lr_consistent(d, dr)
        if refine is None:
            refine = fill
    if not subpixel:
        d = np.round(d)
    filled = np.isnan(d) if fill else np.zeros(d.shape, bool)
    if fill:
        d = fill_invalid(d)
        if refine:
            d = weighted_median(d, lft)
            if not subpixel:
                d = np.round(d)
    d = d.astype(np.float32)
    return (d, filled) if return_filled else d


def cost_volume_row(left, right, row: int, max_disparity: int, *, block_size: int = 5,
                    cost: str = "sad") -> np.ndarray:
    """Matching cost of every disparity 0..max_disparity-1 for every pixel of one scanline.

    Returns ``C`` with shape ``(width, max_disparity)``; ``C[x, d]`` compares the left block at
    ``(row, x)`` with the right block at ``(row, x - d)`` (``inf`` where that falls off the image).
    ``cost="sad"``: sum of absolute grey differences over the block; ``cost="census"``: Hamming
    distance of the census bit strings (which neighbours are darker than the centre).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> right = rng.integers(0, 255, (20, 40), dtype=np.uint8)
    >>> left = np.roll(right, 3, axis=1)
    >>> int(np.argmin(cost_volume_row(left, right, 10, 8)[20]))
    3
    """
    if cost not in ("sad", "census"):
        raise ValueError(f"Unknown cost {cost!r}; choose 'sad' or 'census'.")
    gl = _gray(np.asarray(left))
    gr = _gray(np.asarray(right))
    if gl.shape != gr.shape:
        raise StereoPairError("The two images have different sizes.")
    h, w = gl.shape
    row = int(row)
    if not 0 <= row < h:
        raise ValueError(f"Row {row} is outside the image (0..{h - 1}).")
    block_size = int(block_size)
    if block_size < 1 or block_size % 2 == 0:
        raise ValueError(f"The block size must be odd and positive, got {block_size}.")
    D = int(max_disparity)
    if D < 1:
        raise ValueError(f"max_disparity must be at least 1, got {max_disparity}.")
    r = block_size // 2
    # a band of rows is enough: the block around `row` (replicated borders as in the full image)
    y0, y1 = max(0, row - r - 1), min(h, row + r + 2)
    if cost == "census":
        Lb, Rb = _census(gl, r)[y0:y1], _census(gr, r)[y0:y1]
    else:
        Lb, Rb = gl[y0:y1], gr[y0:y1]
    out = np.full((w, D), np.inf, np.float32)
    ry = row - y0
    for d in range(min(D, w)):
        if cost == "sad":
            diff = np.abs(Lb[:, d:].astype(np.float32) - Rb[:, : w - d].astype(np.float32))
            s = cv2.boxFilter(diff, -1, (block_size, block_size), normalize=False,
                              borderType=cv2.BORDER_REPLICATE)
            out[d:, d] = s[ry]
        else:
            x = np.bitwise_xor(Lb[ry, d:], Rb[ry, : w - d])
            out[d:, d] = np.unpackbits(x.view(np.uint8).reshape(len(x), -1), axis=1).sum(1)
    return out


def _census(g: np.ndarray, r: int) -> np.ndarray:
    """Census transform with a (2r+1)² window as uint64 bit strings (up to 63 neighbours)."""
    h, w = g.shape
    r = min(r, 3)
    p = cv2.copyMakeBorder(g, r, r, r, r, cv2.BORDER_REPLICATE).astype(np.int16)
    c = g.astype(np.int16)
    out = np.zeros((h, w), np.uint64)
    bit = 0
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            nb = p[r + dy: r + dy + h, r + dx: r + dx + w]
            out |= (nb < c).astype(np.uint64) << np.uint64(bit)
            bit += 1
    return out


# ----------------------------------------------------------------------------- depth
def depth_from_disparity(disparity, f_px: float, baseline: float, doffs: float = 0.0):
    """Depth Z = f·B / (d + doffs) (in the unit of ``baseline``); NaN where d + doffs ≤ 0 or d is NaN.

    Works on scalars and arrays.

    >>> depth_from_disparity(8.0, 500, 0.12)
    7.5
    """
    if not (np.isfinite(f_px) and f_px > 0):
        raise ValueError(f"The focal length must be a positive number of pixels, got {f_px!r}.")
    if not (np.isfinite(baseline) and baseline > 0):
        raise ValueError(f"The baseline must be positive, got {baseline!r}.")
    d = np.asarray(disparity, np.float64) + float(doffs)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(d > 0, f_px * baseline / np.where(d > 0, d, 1.0), np.nan)
    if np.ndim(disparity) == 0:
        return float(z)
    return z.astype(np.float32)


def read_calibration(path) -> dict:
    """Read a Middlebury ``calib.txt`` (``cam0=[f 0 cx; 0 f cy; 0 0 1]``, ``doffs``, ``baseline``...).

    Returns a dict with ``f_px``, ``cx``, ``cy``, ``doffs`` (px), ``baseline`` (in metres; Middlebury
    gives millimetres), ``width``, ``height``, ``ndisp`` where present, plus ``cam0``/``cam1`` (3×3).
    """
    text = Path(path).read_text()
    vals: dict = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        k, v = (s.strip() for s in line.split("=", 1))
        if v.startswith("["):
            nums = [float(x) for x in re.split(r"[\s;\[\]]+", v) if x]
            if len(nums) != 9:
                raise ValueError(f"{k} in {path} should be a 3×3 matrix, got {len(nums)} numbers.")
            vals[k] = np.array(nums).reshape(3, 3)
        else:
            try:
                vals[k] = float(v)
            except ValueError:
                vals[k] = v
    if "cam0" not in vals or "baseline" not in vals:
        raise ValueError(f"{path} is not a Middlebury calib.txt (it needs cam0=[...] and baseline=...).")
    K = vals["cam0"]
    out = {"f_px": float(K[0, 0]), "cx": float(K[0, 2]), "cy": float(K[1, 2]),
           "doffs": float(vals.get("doffs", 0.0)), "baseline": float(vals["baseline"]) / 1000.0,
           "cam0": K, "cam1": vals.get("cam1")}
    for k in ("width", "height", "ndisp", "vmin", "vmax"):
        if k in vals:
            out[k] = int(vals[k]) if k in ("width", "height", "ndisp") else vals[k]
    return out


# ----------------------------------------------------------------------------- ground truth
def read_pfm(path) -> np.ndarray:
    """Read a PFM (portable float map) as float32, top row first; inf → NaN."""
    with open(path, "rb") as fh:
        header = fh.readline().decode("latin-1").strip()
        if header not in ("Pf", "PF"):
            raise ValueError(f"{path} is not a PFM file (header {header!r}).")
        dims = fh.readline().decode("latin-1").split()
        while not dims:
            dims = fh.readline().decode("latin-1").split()
        w, h = int(dims[0]), int(dims[1])
        scale = float(fh.readline().decode("latin-1").strip())
        dt = "<f4" if scale < 0 else ">f4"
        ch = 3 if header == "PF" else 1
        data = np.frombuffer(fh.read(w * h * ch * 4), dtype=dt)
    if data.size != w * h * ch:
        raise ValueError(f"{path} is truncated: expected {w}×{h}×{ch} floats.")
    img = data.reshape(h, w, ch)[::-1, :, 0].astype(np.float32)
    img[~np.isfinite(img)] = np.nan
    return np.ascontiguousarray(img)


def read_ground_truth(path, scale: float | None = None) -> np.ndarray:
    """Ground-truth disparity (float32 px, NaN where unknown) from a PFM or a scaled PNG/PGM.

    For 8/16-bit images d = value / ``scale`` and 0 means unknown; ``scale`` defaults to 1
    (Middlebury 2001: tsukuba is stored ×16 and venus ×8, so pass ``scale=16`` / ``scale=8``).
    """
    p = Path(path)
    if p.suffix.lower() == ".pfm":
        return read_pfm(p)
    raw = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ValueError(f"Could not read {p} as an image.")
    if raw.ndim == 3:
        raw = raw[..., 0]
    s = float(scale) if scale else 1.0
    d = raw.astype(np.float32) / s
    d[raw == 0] = np.nan
    return d


def evaluate(disparity, ground_truth, *, threshold: float = 2.0, filled_mask=None) -> dict:
    """Compare a disparity map with ground truth over every valid ground-truth pixel.

    Pixels where the estimate is NaN count as errors (a method cannot win by abstaining).
    Returns ``bad`` (% with |d - gt| > threshold, or no estimate), ``density`` (% with an estimate),
    ``epe`` (mean |d - gt| over estimated pixels), ``n``, and when ``filled_mask`` (pixels the
    method filled in) is given ``bad_filled`` / ``epe_filled`` over those only.

    >>> import numpy as np
    >>> gt = np.array([[1.0, 2.0, 3.0, np.nan]])
    >>> r = evaluate(np.array([[1.5, 5.0, np.nan, 0.0]]), gt)
    >>> round(r["bad"], 2), round(r["density"], 2), r["epe"]
    (66.67, 66.67, 1.75)
    """
    d = np.asarray(disparity, np.float64)
    g = np.asarray(ground_truth, np.float64)
    if d.shape != g.shape:
        raise ValueError(f"The disparity map is {d.shape} but the ground truth is {g.shape}.")
    valid = np.isfinite(g)
    n = int(valid.sum())
    if n == 0:
        raise ValueError("The ground truth has no valid pixel.")
    has = np.isfinite(d) & valid
    err = np.abs(d - g)
    bad = (~has & valid) | (has & (err > threshold))
    out = {"threshold": float(threshold), "n": n,
           "bad": float(100.0 * bad[valid].mean()), "density": float(100.0 * has[valid].mean()),
           "epe": float(err[has].mean()) if has.any() else float("nan")}
    if filled_mask is not None:
        fm = np.asarray(filled_mask, bool) & has
        out["n_filled"] = int(fm.sum())
        out["bad_filled"] = float(100.0 * (err[fm] > threshold).mean()) if fm.any() else float("nan")
        out["epe_filled"] = float(err[fm].mean()) if fm.any() else float("nan")
    return out
