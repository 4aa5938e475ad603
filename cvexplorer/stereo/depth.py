r"""Depth from disparity: the one home of :math:`Z = fB / (d + d_{offs})` in cvexplorer.

``f_px`` is the focal length in pixels, ``baseline`` the distance between the camera centres (the
depth comes out in its unit), ``doffs`` the difference of the principal points x_R − x_L in pixels
(Middlebury convention; 0 for most rigs). ``formulas.depth_from_disparity`` (the calculator) and the
stereo panel compute through :func:`depth_from_disparity`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._record import Record

__all__ = ["depth_from_disparity", "DepthAt", "depth_at", "DepthCurve", "depth_curve", "DEFAULT_F_PX",
           "DEFAULT_BASELINE"]

#: Placeholders for a pair that came without a calibration: a typical webcam-like focal length and a
#: human-eye-sized baseline. Depths computed from them are illustrations, not measurements.
DEFAULT_F_PX = 700.0
DEFAULT_BASELINE = 0.12


def depth_from_disparity(disparity, f_px: float, baseline: float, doffs: float = 0.0):
    r"""Depth :math:`Z = fB / (d + d_{offs})`, for a scalar or an array of disparities.

    Parameters
    ----------
    disparity : float or array_like
        Disparity d in pixels (x_L − x_R). NaN stays NaN.
    f_px : float
        Focal length in pixels (> 0).
    baseline : float
        Distance between the two camera centres (> 0); Z is in the same unit.
    doffs : float
        Difference of the principal points in pixels (Middlebury's ``doffs``), 0 by default.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar input, a float32 array otherwise. **NaN where d + doffs ≤ 0** (a point
        at or beyond infinity, or a swapped pair) and where d is NaN — never an exception for the
        data, only for a bad camera (f or B not positive).

    References
    ----------
    R. Hartley, A. Zisserman, *Multiple View Geometry*, 2nd ed., §11.12 (rectified stereo); D. Scharstein
    et al., "High-resolution stereo datasets with subpixel-accurate ground truth", GCPR 2014 (``doffs``).

    Examples
    --------
    >>> depth_from_disparity(8.0, 500, 0.12)
    7.5
    >>> depth_from_disparity([[8.0, 0.0, -2.0]], 500, 0.12, doffs=2.0).round(2).tolist()
    [[6.0, 30.0, nan]]
    """
    if not (np.isfinite(f_px) and f_px > 0):
        raise ValueError(f"The focal length must be a positive number of pixels, got {f_px!r}.")
    if not (np.isfinite(baseline) and baseline > 0):
        raise ValueError(f"The baseline must be positive, got {baseline!r}.")
    d = np.asarray(disparity, np.float64) + float(doffs)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.where(d > 0, f_px * baseline / np.where(d > 0, d, 1.0), np.nan)
    if np.ndim(disparity) == 0:
        return float(z)
    return z.astype(np.float32)


@dataclass(frozen=True)
class DepthAt(Record):
    """Depth of one disparity and what ±``error`` px of disparity does to it.

    ``z``: depth (NaN when d + doffs ≤ 0 or d is NaN); ``z_near``: depth at d + error; ``z_far``: depth at
    d − error (``inf`` when that reaches d + doffs ≤ 0); ``raw16``: what OpenCV's ``compute()`` returns
    for d (int16 d × 16), None for NaN.
    """

    d: float
    f_px: float
    baseline: float
    doffs: float
    error: float
    z: float
    z_near: float
    z_far: float
    raw16: int | None

    @property
    def valid(self) -> bool:
        return math.isfinite(self.z)


def depth_at(disparity: float, f_px: float, baseline: float, doffs: float = 0.0, *, error: float = 1.0) -> DepthAt:
    """Depth of one disparity, its range for ±``error`` px, and OpenCV's raw ×16 value.

    >>> r = depth_at(10.0, 500, 0.12)
    >>> round(r.z, 3), round(r.z_near, 3), round(r.z_far, 3), r.raw16
    (6.0, 5.455, 6.667, 160)
    >>> depth_at(0.5, 500, 0.12).z_far
    inf
    """
    d = float(disparity)
    if not (math.isfinite(error) and error >= 0):
        raise ValueError(f"The disparity error cannot be negative, got {error!r}.")
    z = depth_from_disparity(d, f_px, baseline, doffs)
    if not math.isfinite(z):
        nan = float("nan")
        return DepthAt(d, float(f_px), float(baseline), float(doffs), float(error), nan, nan, nan,
                       None if not math.isfinite(d) else int(round(d * 16)))
    near = depth_from_disparity(d + error, f_px, baseline, doffs)
    far = depth_from_disparity(d - error, f_px, baseline, doffs)
    return DepthAt(d, float(f_px), float(baseline), float(doffs), float(error), z, near,
                   far if math.isfinite(far) else math.inf, int(round(d * 16)))


@dataclass(frozen=True)
class DepthCurve(Record):
    """Z against d over a disparity range, for a plot; ``top``: a y-range that keeps the curve's knee visible."""

    d: np.ndarray
    z: np.ndarray
    top: float


def depth_curve(max_disparity: float, f_px: float, baseline: float, doffs: float = 0.0, *,
                samples: int = 400) -> DepthCurve:
    """The curve Z = fB/(d + doffs) for d in (0, max_disparity].

    >>> c = depth_curve(64, 500, 0.12)
    >>> c.d.shape, bool(c.z[-1] < c.z[0]), c.top > 0
    ((400,), True, True)
    """
    if not max_disparity > 0:
        raise ValueError(f"The disparity range must be positive, got {max_disparity!r}.")
    d = np.linspace(min(0.5, max_disparity / 2), float(max_disparity), int(samples))
    z = depth_from_disparity(d, f_px, baseline, doffs)
    ok = np.isfinite(z)
    top = float(np.percentile(z[ok], 97)) if ok.any() else 1.0
    return DepthCurve(d, z, top)
