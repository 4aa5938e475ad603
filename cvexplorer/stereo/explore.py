"""What the stereo panel asks for, as one call each: a pair checked once, then matched and scored.

:func:`check_pair` looks at the pair alone (row alignment, swapped views, the search range) and is
kept while only the matcher's settings change; :func:`match_pair` runs the matcher and, with ground
truth, the scores and the error picture. Both return frozen dataclasses with their timings.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..text import fmt_bytes
from ._record import Record
from .evaluation import ErrorClasses, Metrics, error_classes, evaluate
from .matching import METHODS, compute_disparity, searched_disparities
from .pairs import RowCheck, check_rows, estimate_num_disparities

__all__ = ["MatchSettings", "PairCheck", "StereoResult", "check_pair", "match_pair", "teaching_bytes", "pick_in_image",
           "LIMITS"]

#: The teaching matcher keeps its whole float32 cost volume (two with the left-right check); a
#: 4000×3000 pair with 256 disparities would need 24 GiB. Tests lower the limit.
LIMITS = {"teaching_bytes": 1_500_000_000}


def teaching_bytes(height: int, width: int, num_disparities: int, *, lr_check: bool = True) -> int:
    """Bytes of the cost volumes the teaching (plain SAD) matcher holds: D·H·W float32, twice with the LR check.

    >>> teaching_bytes(3000, 4000, 256) / 2**30
    22.88818359375
    """
    return int(num_disparities) * int(height) * int(width) * 4 * (2 if lr_check else 1)


def pick_in_image(pick, shape) -> tuple[int, int]:
    """A picked pixel ``(x, y)`` (a click, or a lesson's ``pick``) as whole numbers inside an image of ``shape``.

    Points beyond the border are moved to the nearest edge pixel; anything that is not two finite
    numbers is refused with a sentence.

    >>> pick_in_image((900.4, -3), (480, 640, 3))
    (639, 0)
    """
    try:
        x, y = (float(v) for v in pick)
    except (TypeError, ValueError):
        raise ValueError(f"A picked pixel is two numbers (x, y), not {str(pick)[:40]!r}.") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("A picked pixel is two finite numbers (x, y).")
    h, w = int(shape[0]), int(shape[1])
    return min(max(int(round(x)), 0), w - 1), min(max(int(round(y)), 0), h - 1)


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
    ``num_disparities``: the range asked for; ``searched_disparities``: the range the matcher really
    searched (SGBM and BM round up to a multiple of 16, see :func:`searched_disparities`); ``pair``: the pair check it used (``pair.swapped``: the
    features' disparities are mostly negative, the views look exchanged); ``metrics`` / ``errors`` with
    ground truth; ``ms``: stage timings.
    """

    disparity: np.ndarray
    filled: np.ndarray
    settings: MatchSettings
    num_disparities: int
    pair: PairCheck
    searched_disparities: int = 0
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
    if settings.method == "teaching":
        h, w = np.asarray(left).shape[:2]
        need = teaching_bytes(h, w, nd, lr_check=settings.lr_check)
        if need > LIMITS["teaching_bytes"]:
            raise ValueError(f"The teaching matcher keeps every cost: {w}×{h} pixels × {nd} disparities need "
                             f"{fmt_bytes(need)}, over its {fmt_bytes(LIMITS['teaching_bytes'])} limit. Use SGBM or "
                             "BM for a pair this large, or lower the disparity range.")
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
                        searched_disparities=searched_disparities(settings.method, nd), metrics=metrics,
                        errors=errors, ms=ms)
