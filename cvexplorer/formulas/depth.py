"""Stereo arithmetic: disparity and depth, the depth interval of a disparity error, the search range."""

from __future__ import annotations

import math

import numpy as np

from .. import stereo
from ._check import MAX_SIDE, _finite, _pos

__all__ = ["disparity_from_depth", "depth_from_disparity", "depth_uncertainty", "disparity_search_range"]


# ----------------------------------------------------------------------------- stereo
def disparity_from_depth(f_px, baseline, depth) -> float:
    r"""Disparity of a point at depth Z: :math:`d = fB/Z` (pixels; B and Z in the same unit).

    Examples
    --------
    >>> disparity_from_depth(500, 0.12, 5)
    12.0
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    z = _pos(depth, "The depth")
    d = _finite(f * b / z, "The disparity f·B/Z", "check f, B and Z")
    if d == 0.0:  # underflow: positive inputs cannot give a zero disparity
        raise ValueError(f"The disparity f·B/Z = {f:g}·{b:g}/{z:g} is too small to compute (check f, B and Z).")
    return d


def depth_from_disparity(f_px, baseline, disparity):
    r"""Depth of a point with disparity d: :math:`Z = fB/d` (in the unit of the baseline).

    The calculator's strict twin of :func:`cvexplorer.stereo.depth_from_disparity` (the one
    implementation, which it calls): same numbers, but a disparity that is not positive is an error
    here (zero disparity means infinitely far) instead of NaN. Scalars give a float, arrays an array.

    Examples
    --------
    >>> depth_from_disparity(500, 0.12, 8)
    7.5
    >>> depth_from_disparity(500, 0.12, [8, 16]).tolist()
    [7.5, 3.75]
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    try:
        d = np.asarray(disparity, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"The disparity must be a number, got {disparity!r}.") from None
    if d.size == 0 or not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ValueError(f"The disparity must be positive (zero disparity means infinitely far), got {disparity!r}.")
    z = stereo.depth_from_disparity(disparity if d.ndim else float(d), f, b)
    if not np.all(np.isfinite(z)):
        raise ValueError("The depth f·B/d is too large to compute (check f, B and d).")
    return z


def depth_uncertainty(f_px, baseline, depth, disparity_error=1.0) -> tuple[float, float]:
    r"""Depth interval when the disparity is off by ±Δd.

    .. math:: d = fB/Z, \quad Z_{near} = \frac{fB}{d + \Delta d}, \quad Z_{far} = \frac{fB}{d - \Delta d}

    ``z_far`` is ``inf`` when the error is as large as the disparity itself. Both ends come from
    :func:`cvexplorer.stereo.depth_from_disparity`.

    Examples
    --------
    >>> z_near, z_far = depth_uncertainty(500, 0.12, 10)
    >>> round(z_near, 3), round(z_far, 3)
    (8.571, 12.0)
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    z = _pos(depth, "The depth")
    try:
        e = float(disparity_error)
    except (TypeError, ValueError):
        raise ValueError(f"The disparity error must be a number, got {disparity_error!r}.") from None
    if not math.isfinite(e) or e < 0:
        raise ValueError(f"The disparity error cannot be negative, got {disparity_error!r}.")
    d = disparity_from_depth(f, b, z)
    z_near = stereo.depth_from_disparity(d + e, f, b)
    z_far = stereo.depth_from_disparity(d - e, f, b)
    return z_near, (math.inf if math.isnan(z_far) else z_far)


def disparity_search_range(f_px, baseline, z_min, z_max) -> int:
    r"""Number of disparity values to search for depths in [z_min, z_max].

    .. math:: \lceil fB/Z_{min} \rceil - \lfloor fB/Z_{max} \rfloor

    Examples
    --------
    >>> disparity_search_range(500, 0.12, 1, 30)
    58
    """
    f = _pos(f_px, "The focal length")
    b = _pos(baseline, "The baseline")
    lo = _pos(z_min, "The nearest depth")
    hi = _pos(z_max, "The farthest depth")
    if hi < lo:
        raise ValueError(f"The farthest depth ({z_max}) must not be smaller than the nearest ({z_min}).")
    d_max = f * b / lo
    d_min = f * b / hi
    if not d_max <= MAX_SIDE:  # also catches inf (f·B overflowed)
        raise ValueError(f"The nearest depth needs a disparity of f·B/Z = {d_max:.3g} px, more than any image is "
                         f"wide (at most {MAX_SIDE:,} px): check f, B and the depths.")
    return int(math.ceil(d_max - 1e-9) - math.floor(d_min + 1e-9))
