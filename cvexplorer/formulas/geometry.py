"""Geometry: RANSAC's iteration count and mapping points through a homography."""

from __future__ import annotations

import math

import numpy as np

from ._check import _int

__all__ = ["ransac_iterations", "apply_homography"]


# ----------------------------------------------------------------------------- RANSAC, homography
def ransac_iterations(inlier_ratio, sample_size, confidence=0.99) -> int:
    r"""Iterations needed so that, with probability ``confidence``, one sample is all inliers.

    .. math:: N = \left\lceil \frac{\ln(1 - p)}{\ln(1 - w^s)} \right\rceil

    Examples
    --------
    >>> ransac_iterations(0.6, 4)
    34
    >>> ransac_iterations(0.5, 8)
    1177
    """
    try:
        w = float(inlier_ratio)
    except (TypeError, ValueError):
        raise ValueError(f"The inlier ratio must be a number, got {inlier_ratio!r}.") from None
    if not (0 < w <= 1):
        raise ValueError(f"The inlier ratio must be in (0, 1], got {inlier_ratio!r}.")
    s = _int(sample_size, "The sample size")
    try:
        p = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"The confidence must be a number, got {confidence!r}.") from None
    if not (0 < p < 1):
        raise ValueError(f"The confidence must be strictly between 0 and 1, got {confidence!r}.")
    good = w**s
    if good >= 1.0:
        return 1
    if good <= 0.0:
        raise ValueError(f"With inlier ratio {w} and sample size {s} an all-inlier sample is too unlikely to compute.")
    n = math.log1p(-p) / math.log1p(-good)
    return max(1, int(math.ceil(n - 1e-9)))


def apply_homography(H, points) -> np.ndarray:
    r"""Map points through a 3×3 homography with the perspective divide.

    .. math:: [x', y', w']^T = H [x, y, 1]^T, \qquad (x'/w', y'/w')

    Examples
    --------
    >>> apply_homography([[2, 0, 1], [0, 1, 0], [0, 0, 1]], [[1, 0]])
    array([[3., 0.]])
    """
    h = np.asarray(H, dtype=np.float64)
    if h.shape != (3, 3):
        raise ValueError(f"The homography must be a 3×3 matrix, got shape {h.shape}.")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"The points must be an N×2 array, got shape {np.shape(points)}.")
    if not np.isfinite(h).all():
        raise ValueError("The homography must hold nine finite numbers.")
    if not np.isfinite(pts).all():
        raise ValueError("The points must be finite numbers.")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        homog = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ h.T
        w = homog[:, 2:3]
        if np.any(np.abs(w) < 1e-12):
            raise ValueError("A point maps to infinity (w' = 0): it lies on the homography's vanishing line.")
        out = homog[:, :2] / w
    if not (np.isfinite(homog).all() and np.isfinite(out).all()):
        raise ValueError("A mapped point is too large to compute: the homography's numbers or the point's "
                         "coordinates are too large.")
    return out
