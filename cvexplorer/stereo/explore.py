"""What the stereo panel asks for, as one call each: a pair checked once, then matched and scored.

:func:`check_pair` looks at the pair alone (row alignment, swapped views, the search range) and is
kept while only the matcher's settings change; :func:`match_pair` runs the matcher and, with ground
truth, the scores and the error picture. Both return frozen dataclasses with their timings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ._record import Record
from .evaluation import ErrorClasses, Metrics, error_classes, evaluate
from .matching import METHODS, compute_disparity
from .pairs import RowCheck, check_rows, estimate_num_disparities

__all__ = ["MatchSettings", "PairCheck", "StereoResult", "check_pair", "match_pair"]


@dataclass(frozen=True)
class MatchSettings(Record):
    """The matcher's knobs (see :func:`~cvexplorer.stereo.compute_disparity`); ``num_disparities=None``: estimated."""

    method: str = "sgbm"
    num_disparities: int | None = None
    block_size: int = 5
    smoothness: float = 1.0
    uniqueness: int = 10
    lr_check: bool = True
    fill: bool = True

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Unknown stereo method {self.method!r}; choose one of {', '.join(METHODS)}.")


@dataclass(frozen=True)
class PairCheck(Record):
    """What the pair says before any matching: its rows (:class:`RowCheck`) and the estimated search range."""

    rows: RowCheck
    auto_num_disparities: int
    ms: float = 0.0

    @property
    def swapped(self) -> bool:
        return self.rows.swapped


@dataclass(frozen=True)
class StereoResult(Record):
    """One run of the matcher on a pair.

    ``disparity``: float32 px (NaN: rejected); ``filled``: pixels rejected then guessed by filling;
    ``num_disparities``: the range searched; ``pair``: the pair check it used (``pair.swapped``: the
    features' disparities are mostly negative, the views look exchanged); ``metrics`` / ``errors`` with
    ground truth; ``ms``: stage timings.
    """

    disparity: np.ndarray
    filled: np.ndarray
    settings: MatchSettings
    num_disparities: int
    pair: PairCheck
    metrics: Metrics | None = None
    errors: ErrorClasses | None = None
    ms: dict = field(default_factory=dict)


def check_pair(left, right) -> PairCheck:
    """Row alignment, swap and search range of a pair (ORB features matched once).

    >>> from cvexplorer.samples.stereo import stereo_scene
    >>> l, r, _ = stereo_scene(size=(320, 240), seed=0)
    >>> c = check_pair(l, r)
    >>> c.rows.rectified, c.swapped, c.auto_num_disparities
    (True, False, 32)
    """
    t0 = time.perf_counter()
    rows = check_rows(left, right)
    nd = estimate_num_disparities(left, right, rows=rows)
    return PairCheck(rows=rows, auto_num_disparities=nd, ms=(time.perf_counter() - t0) * 1e3)


def match_pair(left, right, ground_truth=None, *, settings: MatchSettings = MatchSettings(),
               pair: PairCheck | None = None) -> StereoResult:
    """Disparity of the pair with ``settings`` (and, with ground truth, bad-2, density, EPE and the error classes).

    Pass the :class:`PairCheck` of an earlier call to skip the pair check when only settings change.

    >>> from cvexplorer.samples.stereo import stereo_scene
    >>> l, r, gt = stereo_scene(size=(160, 120), seed=1)
    >>> res = match_pair(l, r, gt, settings=MatchSettings(num_disparities=32))
    >>> res.disparity.shape, res.num_disparities, res.metrics.bad < 10
    ((120, 160), 32, True)
    """
    ms = {}
    if pair is None:
        pair = check_pair(left, right)
        ms["rectification check + range"] = pair.ms
    nd = int(settings.num_disparities or pair.auto_num_disparities)
    t1 = time.perf_counter()
    d, filled = compute_disparity(left, right, method=settings.method, num_disparities=nd,
                                  block_size=int(settings.block_size) | 1, lr_check=settings.lr_check,
                                  fill=settings.fill, smoothness=settings.smoothness,
                                  uniqueness=settings.uniqueness, return_filled=True)
    ms["matching"] = (time.perf_counter() - t1) * 1e3
    metrics = errors = None
    if ground_truth is not None:
        metrics = evaluate(d, ground_truth, filled_mask=filled if filled.any() else None)
        errors = error_classes(d, ground_truth, threshold=metrics.threshold)
    return StereoResult(disparity=d, filled=filled, settings=replace(settings), num_disparities=nd, pair=pair,
                        metrics=metrics, errors=errors, ms=ms)
