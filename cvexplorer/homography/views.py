"""What a picture of the pipeline needs, computed in the engine so the UI only draws.

* :func:`analyse_pair` — one worker job for a pair: :func:`estimate`, the traced RANSAC on the same
  matches (so ``trace.final`` is the estimate's answer) and the error against a known H.
* :func:`side_by_side` — two images on one canvas, with the x offset of the second.
* :func:`model_outline` — image 1's border mapped by a hypothesis and clipped to image 2.
* :func:`draw_subset` — a fixed-seed thinning of thousands of match lines (the data stays whole).
* :func:`panorama_centres` — where each image's centre lands in the panorama (for its number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..trace import Trace
from .consensus import ransac_trace
from .geometry import grid_points, project
from .pair import HomographyResult, Progress, checkpoint, estimate
from .stitching import StitchResult

__all__ = ["PairAnalysis", "SideBySide", "analyse_pair", "grid_error", "side_by_side", "model_outline",
           "draw_subset", "panorama_centres"]

#: Pixels between the two images of a side-by-side view.
GAP = 24


@dataclass(frozen=True)
class PairAnalysis:
    """Everything the pair views show: the estimate, its RANSAC as a step-through, the error vs truth.

    ``trace`` is None when fewer than 4 matches survived; ``error_vs_truth`` (mean pixels on a 20×20
    grid over image 1) is None without a known H or without a reliable estimate.
    """

    result: HomographyResult
    trace: Trace | None
    error_vs_truth: float | None


@dataclass(frozen=True)
class SideBySide:
    """Two images on one white canvas: image 1 at x = 0, image 2 at x = ``x_offset``."""

    image: np.ndarray
    x_offset: float


def grid_error(H: np.ndarray, H_true: np.ndarray, shape: tuple, n: int = 20) -> float:
    """Mean distance (pixels) between where H and the true H send an n × n grid over an image of ``shape``.

    .. math:: e = \\frac{1}{n^2} \\sum_k \\lVert H x_k - H_{true} x_k \\rVert

    >>> grid_error(np.eye(3), np.array([[1, 0, 3.0], [0, 1, 4.0], [0, 0, 1]]), (100, 100))
    5.0
    """
    h, w = shape[:2]
    g = grid_points(w, h, n)
    return float(np.linalg.norm(project(H, g) - project(H_true, g), axis=1).mean())


def analyse_pair(img1: np.ndarray, img2: np.ndarray, *, detector: str = "sift", ratio: float = 0.75,
                 threshold: float = 3.0, confidence: float = 0.99, seed: int = 0, max_pixels: int | None = None,
                 true_H: np.ndarray | None = None, progress: Progress | None = None,
                 should_stop: Callable[[], bool] | None = None) -> PairAnalysis:
    """:func:`estimate` plus the traced RANSAC on the same matches, seed and settings.

    ``progress`` and ``should_stop`` are passed to :func:`estimate` (see there); the trace is one
    more stage.

    >>> from cvexplorer.homography import sample_pair
    >>> a, b, H = sample_pair(size=(320, 240))
    >>> out = analyse_pair(a, b, true_H=H)
    >>> out.result.reliable, int(out.trace.final[1].sum()) == out.result.n_inliers, out.error_vs_truth < 1.0
    (True, True, True)
    """
    r = estimate(img1, img2, detector=detector, ratio=ratio, threshold=threshold, confidence=confidence, seed=seed,
                 max_pixels=max_pixels, progress=progress, should_stop=should_stop)
    trace = None
    if r.n_matches >= 4:
        checkpoint("RANSAC step-through", 0.95, progress, should_stop)
        trace = ransac_trace(r.src, r.dst, threshold=threshold, confidence=confidence, seed=seed)
    err = None
    if true_H is not None and r.H is not None and r.reliable:
        err = grid_error(r.H, true_H, img1.shape)
    return PairAnalysis(r, trace, err)


def side_by_side(a: np.ndarray, b: np.ndarray, gap: int = GAP) -> SideBySide:
    """Image ``a`` and image ``b`` next to each other on white, ``gap`` pixels apart (RGB uint8).

    >>> s = side_by_side(np.zeros((2, 3, 3), np.uint8), np.zeros((4, 1, 3), np.uint8), gap=2)
    >>> s.image.shape, s.x_offset
    ((4, 6, 3), 5.0)
    """
    h = max(a.shape[0], b.shape[0])
    w = a.shape[1] + gap + b.shape[1]
    out = np.full((h, w, 3), 255, np.uint8)
    out[: a.shape[0], : a.shape[1]] = a[..., :3]
    out[: b.shape[0], a.shape[1] + gap:] = b[..., :3]
    return SideBySide(out, float(a.shape[1] + gap))


def _clip_polygon(poly: np.ndarray, w: float, h: float) -> np.ndarray:
    """Sutherland–Hodgman: the part of a polygon inside [0, w] × [0, h]."""
    pts = [tuple(p) for p in poly]
    for axis, bound, keep_less in ((0, 0.0, False), (0, w, True), (1, 0.0, False), (1, h, True)):
        out = []
        for k in range(len(pts)):
            a, b = pts[k - 1], pts[k]
            ina = a[axis] <= bound if keep_less else a[axis] >= bound
            inb = b[axis] <= bound if keep_less else b[axis] >= bound
            if ina != inb:
                t = (bound - a[axis]) / (b[axis] - a[axis])
                out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
            if inb:
                out.append(b)
        pts = out
        if not pts:
            break
    return np.array(pts, float).reshape(-1, 2)


def model_outline(H: np.ndarray, shape1: tuple, shape2: tuple) -> np.ndarray:
    """Image 1's border mapped by H into image 2, clipped to image 2 (Sutherland–Hodgman): (K, 2).

    Empty (0, 2) when H is not finite, sends a corner to infinity, or the outline misses image 2.

    >>> model_outline(np.diag([2.0, 2.0, 1.0]), (10, 10), (15, 15)).max(axis=0).tolist()
    [15.0, 15.0]
    """
    H = np.asarray(H, float)
    empty = np.zeros((0, 2))
    if not np.isfinite(H).all():
        return empty
    h, w = shape1[:2]
    quad = project(H, np.array([[0, 0], [w, 0], [w, h], [0, h]], float))
    if not np.isfinite(quad).all() or np.abs(quad).max() >= 1e6:
        return empty
    h2, w2 = shape2[:2]
    clipped = _clip_polygon(quad, w2, h2)
    return clipped if len(clipped) >= 3 else empty


def draw_subset(mask: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """Indices of the True entries of ``mask``, at most ``limit`` of them (a fixed random choice, sorted).

    Drawing thousands of lines hides the picture; the counts shown stay those of the whole set.

    >>> draw_subset(np.array([True, False, True, True]), 2).tolist()
    [2, 3]
    """
    idx = np.flatnonzero(np.asarray(mask, bool))
    if len(idx) <= limit:
        return idx
    return np.sort(np.random.default_rng(seed).choice(idx, int(limit), replace=False))


def panorama_centres(result: StitchResult, shapes: list[tuple]) -> np.ndarray:
    """(len(result.used), 2): where the centre of each used image lands in the panorama picture.

    ``shapes`` are the input images' shapes; the panorama is drawn at ``result.scale`` of them and
    shifted by the blend's offset.
    """
    if result.blend is None or not result.used:
        return np.zeros((0, 2))
    if result.centres:  # a turning camera on a curved surface: the centres of the warped images
        return np.array(result.centres, float).reshape(-1, 2)
    s = result.scale
    S, Sinv = np.diag([s, s, 1.0]), np.diag([1 / s, 1 / s, 1.0])
    out = []
    for i in result.used:
        h, w = shapes[i][:2]
        Hs = S @ result.homographies[i] @ Sinv
        out.append(project(Hs, np.array([[w * s / 2, h * s / 2]]))[0] + np.asarray(result.blend.offset))
    return np.array(out, float).reshape(-1, 2)
