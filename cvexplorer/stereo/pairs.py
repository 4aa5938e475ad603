"""Stereo pairs in: validation, side-by-side splitting, the rectification check and the search range.

A rectified pair shows every scene point on the same row in both views, shifted LEFT in the right
view by its disparity d ≥ 0. :func:`check_rows` measures both facts from matched ORB features: the
median vertical offset (≈ 0 when rectified) and the share of matches that move the wrong way
(most of them when left and right were swapped).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from ..imageio import load_image
from ._record import Record

__all__ = ["StereoPairError", "RowCheck", "check_rows", "vertical_offset", "load_pair", "split_side_by_side",
           "split_halves", "estimate_num_disparities"]


class StereoPairError(ValueError):
    """A pair that cannot be matched (sizes differ, not rectified, a single image...)."""

    __module__ = "cvexplorer.stereo"  # its public home: tracebacks name the path users import


def _as_rgb(img, name: str) -> np.ndarray:
    if isinstance(img, (str, os.PathLike)):
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


@dataclass(frozen=True)
class RowCheck(Record):
    """What matched features say about a pair (NaN / 0 when too few features match).

    ``dy``: median vertical offset y_L − y_R (px); ``dy_abs``: median |dy|; ``n``: matches;
    ``dx``: 99th percentile of the disparity x_L − x_R (the search range needed);
    ``negative_share``: share of row-consistent matches with x_L − x_R < −0.5 px (a correct pair has
    almost none); ``swapped``: most disparities negative, so the views look exchanged.
    """

    dy: float = float("nan")
    dy_abs: float = float("nan")
    n: int = 0
    dx: float = float("nan")
    negative_share: float = float("nan")

    @property
    def rectified(self) -> bool | None:
        """True / False when enough features matched to tell, else None."""
        if self.n < 8 or not np.isfinite(self.dy_abs):
            return None
        return bool(self.dy_abs <= 1.0)

    @property
    def swapped(self) -> bool:
        return bool(np.isfinite(self.negative_share) and self.negative_share > 0.6)


def check_rows(left, right, *, max_features: int = 800) -> RowCheck:
    """Match ORB features between the views and measure row alignment and disparity sign.

    >>> from cvexplorer.samples.stereo import stereo_scene
    >>> l, r, _ = stereo_scene(size=(320, 240), seed=0)
    >>> c = check_rows(l, r)
    >>> c.rectified, c.swapped, check_rows(r, l).swapped
    (True, False, True)
    """
    gl = cv2.cvtColor(_as_rgb(left, "left"), cv2.COLOR_RGB2GRAY)
    gr = cv2.cvtColor(_as_rgb(right, "right"), cv2.COLOR_RGB2GRAY)
    orb = cv2.ORB_create(nfeatures=max_features, edgeThreshold=15, patchSize=15)
    kl, dl = orb.detectAndCompute(gl, None)
    kr, dr = orb.detectAndCompute(gr, None)
    if dl is None or dr is None or len(kl) < 8 or len(kr) < 8:
        return RowCheck()
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(dl, dr)
    if len(matches) < 8:
        return RowCheck()
    pl = np.array([kl[m.queryIdx].pt for m in matches])
    pr = np.array([kr[m.trainIdx].pt for m in matches])
    dy = pl[:, 1] - pr[:, 1]
    dx = pl[:, 0] - pr[:, 0]
    good = np.abs(dy - np.median(dy)) < 3
    p99, neg = float("nan"), float("nan")
    if good.sum() >= 5:
        p99 = float(np.percentile(dx[good], 99))
        moved = np.abs(dx[good]) > 0.5
        if moved.sum() >= 5:
            neg = float(np.mean(dx[good][moved] < 0))
    return RowCheck(dy=float(np.median(dy)), dy_abs=float(np.median(np.abs(dy))), n=int(len(matches)), dx=p99,
                    negative_share=neg)


def vertical_offset(left: np.ndarray, right: np.ndarray, *, max_features: int = 800) -> RowCheck:
    """Median vertical offset (pixels) of matched ORB features: ~0 for a rectified pair.

    The same as :func:`check_rows` (kept under its first name); ``r["dy_abs"]`` still reads a field.
    """
    return check_rows(left, right, max_features=max_features)


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
    off = check_rows(lft, rgt)
    if off.n >= 20 and np.isfinite(off.dy_abs) and off.dy_abs > 2.0:
        raise StereoPairError(
            f"Matched features are {off.dy_abs:.1f} px apart vertically (median): this pair is not "
            "rectified, so the 1-D search along rows cannot work. Rectify it first (cv2.stereoRectify).")
    return lft, rgt


def split_halves(image) -> tuple[np.ndarray, np.ndarray]:
    """Cut an image into its left and right halves (an odd last column is dropped) and validate them as a pair.

    Unlike :func:`split_side_by_side` it does not first ask whether the picture looks like two views:
    the user said it is.

    >>> import numpy as np
    >>> l, r = split_halves(np.random.default_rng(0).integers(0, 255, (40, 81, 3), dtype=np.uint8))
    >>> l.shape, r.shape
    ((40, 40, 3), (40, 40, 3))
    """
    img = _as_rgb(image, "side-by-side")
    half = img.shape[1] // 2
    return load_pair(img[:, :half], img[:, half: 2 * half])


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


def estimate_num_disparities(left, right, *, rows: RowCheck | None = None) -> int:
    """A disparity range (multiple of 16) from matched features: 99th-percentile shift + margin.

    Falls back to a quarter of the width (at most 256) when too few features match. ``rows``: a
    :func:`check_rows` result already computed for this pair (saves matching the features twice).

    >>> import numpy as np
    >>> estimate_num_disparities(np.zeros((40, 200, 3), np.uint8), np.zeros((40, 200, 3), np.uint8))
    48
    """
    lft = _as_rgb(left, "left")
    w = lft.shape[1]
    cap = max(16, min(256, (w // 2) // 16 * 16))
    dx = (rows if rows is not None else check_rows(lft, right)).dx
    if not np.isfinite(dx):
        return int(min(cap, max(16, (w // 4) // 16 * 16)))
    need = max(dx, 0.0) * 1.1 + 2
    return int(min(cap, max(16, int(np.ceil(need / 16.0)) * 16)))
