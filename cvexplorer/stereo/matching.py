r"""Matching: the 1-D search along each row that turns a rectified pair into disparities (pixels).

Every matcher does the same search: for each pixel, the cost of every candidate disparity along
the scanline (:func:`cost_volume_row` shows it), then the cheapest (with smoothness, for semi-global
matching). :func:`compute_disparity` returns float32 disparities **in pixels** with NaN where no
match was trusted — never OpenCV's raw int16 "×16 fixed point" output.

Reference: H. Hirschmüller, "Stereo processing by semiglobal matching and mutual information",
PAMI 30(2), 2008.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .pairs import StereoPairError, _as_rgb, estimate_num_disparities
from .refine import fill_invalid, weighted_median

__all__ = ["METHODS", "MAX_NUM_DISPARITIES", "searched_disparities", "sgbm_params", "compute_disparity",
           "cost_volume_row", "PixelCosts", "pixel_costs"]

METHODS = ("sgbm", "bm", "teaching")

#: The widest search the matchers take (Middlebury's largest ndisp is under 1,000). The pair's width
#: bounds it too: the search must fit inside the image.
MAX_NUM_DISPARITIES = 10_000


def searched_disparities(method: str, num_disparities: int) -> int:
    """How many disparities ``method`` really searches when asked for ``num_disparities``.

    OpenCV's SGBM and BM take a multiple of 16, so the range is rounded up; the teaching matcher
    searches exactly the range asked for.

    >>> searched_disparities("sgbm", 280), searched_disparities("teaching", 280)
    (288, 280)
    """
    n = int(num_disparities)
    return n if method == "teaching" else -(-n // 16) * 16


def sgbm_params(num_disparities: int, block_size: int = 5, *, channels: int = 3, uniqueness: int = 10,
                smoothness: float = 1.0, lr_check: bool = True, speckle: bool = False) -> dict:
    """Keyword arguments for ``cv2.StereoSGBM_create`` used by the default method."""
    b2 = block_size * block_size
    return dict(minDisparity=0, numDisparities=int(num_disparities), blockSize=int(block_size),
                P1=int(round(8 * channels * b2 * smoothness)), P2=int(round(32 * channels * b2 * smoothness)),
                uniquenessRatio=int(uniqueness), disp12MaxDiff=1 if lr_check else -1,
                speckleWindowSize=100 if speckle else 0, speckleRange=2 if speckle else 0,
                mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY)




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
    if not 1 <= num_disparities <= MAX_NUM_DISPARITIES:
        raise ValueError(f"The number of disparities must be from 1 to {MAX_NUM_DISPARITIES:,}, "
                         f"got {num_disparities:,}.")
    nd16 = searched_disparities("sgbm", num_disparities)
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
        d = raw.astype(np.float32)
        d *= np.float32(1 / 16)  # OpenCV returns disparity × 16 in int16
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
    d = d.astype(np.float32, copy=False)
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


@dataclass(frozen=True)
class PixelCosts:
    """The 1-D search at one pixel: ``costs[d]`` for d = 0..D−1 (inf where x − d leaves the image) and ``best``,
    the cheapest d (None when no disparity fits)."""

    x: int
    y: int
    costs: np.ndarray
    best: int | None


def pixel_costs(left, right, x: int, y: int, max_disparity: int, *, block_size: int = 5,
                cost: str = "sad") -> PixelCosts:
    """The matching cost of every disparity at pixel (x, y) — one row of :func:`cost_volume_row` — and its minimum.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> right = rng.integers(0, 255, (20, 40), dtype=np.uint8)
    >>> pixel_costs(np.roll(right, 3, axis=1), right, 20, 10, 8).best
    3
    """
    w = np.asarray(left).shape[1]
    if not 0 <= int(x) < w:
        raise ValueError(f"Column {x} is outside the image (0..{w - 1}).")
    c = cost_volume_row(left, right, y, max_disparity, block_size=block_size, cost=cost)[int(x)]
    ok = np.isfinite(c)
    return PixelCosts(int(x), int(y), c, int(np.argmin(np.where(ok, c, np.inf))) if ok.any() else None)


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


