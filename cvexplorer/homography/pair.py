"""One image pair → H with a verdict: features, matches, RANSAC, and the checks a student can read."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..timing import Stages
from .consensus import ransac
from .features import MatchResult, detect, match

__all__ = ["Cancelled", "HomographyResult", "check_homography", "estimate", "MIN_MATCHES", "MIN_INLIERS",
           "MIN_INLIER_RATIO"]

#: ``progress(stage, fraction)``: told, on the worker's thread, which stage starts and how far along it is.
Progress = Callable[[str, float], None]


class Cancelled(Exception):
    """The caller asked a long computation to stop; raised between two stages, nothing half-done is returned."""


def checkpoint(stage: str, fraction: float, progress: Progress | None, should_stop: Callable[[], bool] | None) -> None:
    """Between stages: stop when asked (:class:`Cancelled`), else say which stage starts."""
    if should_stop is not None and should_stop():
        raise Cancelled(f"stopped before {stage}")
    if progress is not None:
        progress(stage, float(fraction))


@dataclass(frozen=True)
class HomographyResult:
    """H (img1 → img2 pixels) with its evidence and a verdict.

    ``reliable`` is False with a ``reason`` a student can read when the estimate should not be used.
    """

    H: np.ndarray | None
    inliers: np.ndarray
    inlier_ratio: float
    n_matches: int
    n_inliers: int
    reliable: bool
    reason: str
    matches: MatchResult | None = None
    timings: dict = field(default_factory=dict)
    warnings: tuple = ()
    scale: tuple = (1.0, 1.0)

    @property
    def src(self) -> np.ndarray:
        return self.matches.src if self.matches is not None else np.zeros((0, 2))

    @property
    def dst(self) -> np.ndarray:
        return self.matches.dst if self.matches is not None else np.zeros((0, 2))


MIN_MATCHES = 12
MIN_INLIERS = 12
MIN_INLIER_RATIO = 0.2


def check_homography(H: np.ndarray | None, shape1: tuple, shape2: tuple | None = None) -> str:
    """Why this H looks wrong for an image of ``shape1`` (empty string when it looks sane).

    Checks: finite and non-singular; the image's corners stay in front of the camera and form a
    convex quadrilateral (no fold-over); the area changes by less than 20× either way; the
    conditioning of the linear part.
    """
    if H is None or not np.isfinite(H).all():
        return "no homography could be fitted"
    h, w = shape1[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    q = corners @ H[:, :2].T + H[:, 2]
    if not ((q[:, 2] > 0).all() or (q[:, 2] < 0).all()):
        return "the homography sends part of image 1 behind the camera (the horizon crosses the image)"
    p = q[:, :2] / q[:, 2:3]
    cross = []
    for i in range(4):
        a, b, c = p[i], p[(i + 1) % 4], p[(i + 2) % 4]
        cross.append((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    cross = np.array(cross)
    if not ((cross > 0).all() or (cross < 0).all()):
        return "the homography folds image 1 over itself (its corners no longer form a convex shape)"
    area = 0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], -1)) - np.dot(p[:, 1], np.roll(p[:, 0], -1)))
    ratio = area / float(w * h)
    if not 1 / 20 < ratio < 20:
        return f"the homography changes the image's area {ratio:.3g}× — wildly distorting, probably a wrong fit"
    sv = np.linalg.svd(H[:2, :2] / H[2, 2], compute_uv=False)
    if sv[-1] < 1e-6 or sv[0] / sv[-1] > 30:
        return f"the homography is nearly singular (it squashes one direction {sv[0] / max(sv[-1], 1e-12):.0f}× " \
               f"more than the other)"
    return ""


def estimate(img1: np.ndarray, img2: np.ndarray, *, detector: str = "sift", ratio: float = 0.75,
             threshold: float = 3.0, confidence: float = 0.99, max_iters: int = 2000, seed: int | None = 0,
             max_pixels: int | None = None, min_matches: int = MIN_MATCHES, min_inliers: int = MIN_INLIERS,
             min_inlier_ratio: float = MIN_INLIER_RATIO, progress: Progress | None = None,
             should_stop: Callable[[], bool] | None = None) -> HomographyResult:
    """Features → matches → RANSAC for one image pair, with a verdict on the result.

    ``max_pixels`` (optional) detects on downscaled copies for speed; H is returned in the original
    pixel coordinates either way. The threshold is in original pixels.

    ``progress(stage, fraction)`` is called as each stage starts; ``should_stop()`` is asked between
    stages and, when it returns True, :class:`Cancelled` is raised (a large pair spends seconds in
    feature detection, so a user can give up on it).

    >>> from cvexplorer.homography import sample_pair
    >>> a, b, H = sample_pair(size=(320, 240))
    >>> r = estimate(a, b)
    >>> r.reliable, r.n_inliers > 20
    (True, True)
    """
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    st = Stages()
    s1 = s2 = 1.0
    a, b = img1, img2
    if max_pixels:
        for k, im in enumerate((img1, img2)):
            hh, ww = im.shape[:2]
            s = min(1.0, math.sqrt(max_pixels / float(hh * ww)))
            if s < 1.0:
                sm = cv2.resize(np.ascontiguousarray(im), (max(1, round(ww * s)), max(1, round(hh * s))),
                                interpolation=cv2.INTER_AREA)
                if k == 0:
                    a, s1 = sm, s
                else:
                    b, s2 = sm, s
    with st("features"):
        checkpoint("features of image 1", 0.0, progress, should_stop)
        f1 = detect(a, detector)
        checkpoint("features of image 2", 0.4, progress, should_stop)
        f2 = detect(b, detector)
    with st("matching"):
        checkpoint("matching", 0.8, progress, should_stop)
        m, d = match(f1, f2, ratio)
    mr = MatchResult(f1.points / s1, f2.points / s2, m, d, f1.detector, ratio)
    n = len(m)
    base = dict(matches=mr, timings=st.ms, scale=(s1, s2))
    if n < max(min_matches, 4):
        return HomographyResult(None, np.zeros(n, bool), 0.0, n, 0, False,
                                f"too few matches: {n} passed the ratio test (need at least {max(min_matches, 4)}) — "
                                f"the images may not overlap, or have too little texture", **base)
    with st("ransac"):
        checkpoint("RANSAC", 0.9, progress, should_stop)
        H, mask = ransac(mr.src, mr.dst, threshold=threshold, confidence=confidence, max_iters=max_iters, seed=seed)
    k = int(mask.sum())
    w = k / n
    reason = ""
    if H is None:
        reason = "RANSAC found no model: every sample was degenerate"
    elif k < min_inliers:
        reason = f"too few inliers: only {k} of {n} matches agree on one homography (need {min_inliers})"
    elif w < min_inlier_ratio:
        reason = (f"low inlier ratio: {k}/{n} = {w:.0%} of the matches agree (need {min_inlier_ratio:.0%}); "
                  f"the agreement may be chance, or the scene is not planar (parallax)")
    else:
        reason = check_homography(H, img1.shape, img2.shape)
    warnings = []
    if not reason and w < 0.5:
        warnings.append(f"only {w:.0%} of matches are inliers: a non-planar scene seen from moved cameras (parallax) "
                        f"or repeated texture makes many matches disagree")
    return HomographyResult(H, mask, w, n, k, not reason, reason, warnings=tuple(warnings), **base)
