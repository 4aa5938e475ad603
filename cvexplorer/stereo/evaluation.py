"""Scoring a disparity map against ground truth (Middlebury's bad-N, density, end-point error)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._record import Record

__all__ = ["Metrics", "evaluate", "ErrorClasses", "error_classes"]


@dataclass(frozen=True)
class Metrics(Record):
    """``bad``: % of valid ground-truth pixels off by more than ``threshold`` px or without an estimate;
    ``density``: % with an estimate; ``epe``: mean |d − gt| over estimated pixels; ``n``: valid pixels.
    With a filled mask: ``n_filled``, and ``bad_filled`` / ``epe_filled`` over the filled pixels only."""

    threshold: float
    n: int
    bad: float
    density: float
    epe: float
    n_filled: int | None = None
    bad_filled: float | None = None
    epe_filled: float | None = None

    @property
    def filled_share(self) -> float:
        """% of the valid pixels that the matcher rejected and filling guessed (0 without a mask)."""
        return 100.0 * (self.n_filled or 0) / self.n if self.n else math.nan


def evaluate(disparity, ground_truth, *, threshold: float = 2.0, filled_mask=None) -> Metrics:
    """Compare a disparity map with ground truth over every valid ground-truth pixel.

    Pixels where the estimate is NaN count as errors (a method cannot win by abstaining).

    >>> import numpy as np
    >>> gt = np.array([[1.0, 2.0, 3.0, np.nan]])
    >>> r = evaluate(np.array([[1.5, 5.0, np.nan, 0.0]]), gt)
    >>> round(r.bad, 2), round(r.density, 2), r.epe
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
    extra = {}
    if filled_mask is not None:
        fm = np.asarray(filled_mask, bool) & has
        extra = dict(n_filled=int(fm.sum()),
                     bad_filled=float(100.0 * (err[fm] > threshold).mean()) if fm.any() else float("nan"),
                     epe_filled=float(err[fm].mean()) if fm.any() else float("nan"))
    return Metrics(threshold=float(threshold), n=n, bad=float(100.0 * bad[valid].mean()),
                   density=float(100.0 * has[valid].mean()),
                   epe=float(err[has].mean()) if has.any() else float("nan"), **extra)


@dataclass(frozen=True)
class ErrorClasses(Record):
    """Three disjoint boolean maps for an error picture: ``good`` (within the threshold), ``bad`` (off by
    more, or no estimate) and ``unknown`` (no ground truth there); ``error`` is |d − gt| (NaN where unknown)."""

    good: np.ndarray
    bad: np.ndarray
    unknown: np.ndarray
    error: np.ndarray


def error_classes(disparity, ground_truth, *, threshold: float = 2.0) -> ErrorClasses:
    """Split the pixels into good / bad / unknown, the way :func:`evaluate` counts them.

    >>> import numpy as np
    >>> c = error_classes(np.array([[1.0, 9.0, np.nan, 1.0]]), np.array([[1.5, 2.0, 3.0, np.nan]]))
    >>> c.good.tolist(), c.bad.tolist(), c.unknown.tolist()
    ([[True, False, False, False]], [[False, True, True, False]], [[False, False, False, True]])
    """
    d = np.asarray(disparity, np.float32)
    g = np.asarray(ground_truth, np.float32)
    if d.shape != g.shape:
        raise ValueError(f"The disparity map is {d.shape} but the ground truth is {g.shape}.")
    unknown = ~np.isfinite(g)
    with np.errstate(invalid="ignore"):
        err = np.abs(d - g)
        good = err <= threshold
    return ErrorClasses(good=good, bad=~good & ~unknown, unknown=unknown, error=err)
