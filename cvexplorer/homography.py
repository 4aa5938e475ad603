"""Homographies and stitching: features, matches, RANSAC in the open, warping and blending.

The pipeline, one function per stage so a panel can show each of them:

* :func:`detect_and_match` — SIFT / ORB / AKAZE keypoints and Lowe's ratio test.
* :func:`dlt` — the normalised direct linear transform (Hartley): 4 or more correspondences → H.
* :func:`ransac` — vectorised RANSAC: hypotheses are drawn and scored in batches of a few hundred
  (one batched 8×8 solve, one (batch × N) error matrix), but the stopping rule is applied hypothesis
  by hypothesis, so the result is exactly what the one-at-a-time textbook loop returns.
  The winner is refined on its inliers (re-estimate until the inlier set stops changing, then a few
  Levenberg–Marquardt steps on the reprojection error).
* :func:`ransac_trace` — the same run as a :class:`~cvexplorer.trace.Trace` (sample, inliers, best so
  far, the adaptive bound ``N = log(1 − p) / log(1 − wˢ)`` from :func:`cvexplorer.formulas.ransac_iterations`).
* :func:`estimate` — image pair → :class:`HomographyResult` with a ``reliable`` flag and a reason.
* :func:`warp_and_blend` and :func:`stitch` — panoramas chained to a central reference image.

Conventions: points are (N, 2) float arrays of pixel coordinates (x right, y down); H maps image-1
points to image-2 points, ``x2 ~ H @ [x1, y1, 1]``.

>>> import numpy as np
>>> H = np.array([[1.1, 0.05, 10], [-0.02, 0.95, 5], [1e-4, 2e-4, 1.0]])
>>> src = np.array([[0, 0], [100, 0], [100, 80], [0, 80], [50, 40]], float)
>>> np.allclose(dlt(src, project(H, src)), H)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .timing import Stages
from .trace import Step, Trace

__all__ = [
    "DegenerateSampleError", "Features", "MatchResult", "HomographyResult", "BlendResult", "StitchResult",
    "detect", "match", "detect_and_match", "dlt", "project", "ransac", "ransac_trace", "estimate",
    "reprojection_error", "warp_and_blend", "stitch", "rectify", "ransac_bound", "check_homography",
    "grid_points", "sample_pair", "sample_panorama", "available_detectors", "DETECTORS", "BLENDS",
]

DETECTORS = ("sift", "orb", "akaze")


def available_detectors() -> tuple[str, ...]:
    """The detectors this OpenCV build provides (AKAZE is missing from some OpenCV 5 builds)."""
    import cv2

    return tuple(d for d in DETECTORS if d != "akaze" or hasattr(cv2, "AKAZE_create"))
BLENDS = ("feather", "multiband", "none")


class DegenerateSampleError(ValueError):
    """The correspondences do not determine a homography (too few, repeated or collinear points)."""


# ---------------------------------------------------------------------------------------------------
# small geometry helpers
# ---------------------------------------------------------------------------------------------------
def project(H: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through H with the perspective divide (points at infinity become inf).

    >>> project(np.diag([2.0, 3.0, 1.0]), np.array([[1.0, 1.0]]))
    array([[2., 3.]])
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    H = np.asarray(H, dtype=np.float64)
    q = p @ H[:, :2].T + H[:, 2]
    w = q[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = q[:, :2] / np.where(np.abs(w) < 1e-12, np.nan, w)
    return np.where(np.isfinite(out), out, np.inf)


def _normalizer(p: np.ndarray) -> np.ndarray:
    """Hartley's similarity: centroid to the origin, mean distance √2."""
    c = p.mean(axis=0)
    d = np.sqrt(((p - c) ** 2).sum(axis=1)).mean()
    s = math.sqrt(2.0) / d if d > 1e-12 else 1.0
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1.0]])


def _apply(T: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p @ T[:2, :2].T + T[:2, 2]


def _collinear(p: np.ndarray, tol: float) -> bool:
    """Are 3 of these points (nearly) on one line? Uses the triangle areas relative to the spread."""
    n = len(p)
    scale = max(np.ptp(p[:, 0]), np.ptp(p[:, 1]), 1e-12)
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(j + 1, n):
                a = (p[j] - p[i])
                b = (p[k] - p[i])
                if abs(a[0] * b[1] - a[1] * b[0]) <= tol * scale * scale:
                    return True
    return False


def _normalize_H(H: np.ndarray) -> np.ndarray:
    n = H[2, 2] if abs(H[2, 2]) > 1e-12 else np.linalg.norm(H)
    return H / n


def dlt(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Homography from 4 or more correspondences by the normalised direct linear transform.

    Each pair gives two rows of ``A h = 0``; h is the right singular vector of the smallest singular
    value, computed in Hartley-normalised coordinates and mapped back. ``H[2, 2] == 1``.

    Raises :class:`DegenerateSampleError` with an explanation when the points cannot determine H:
    fewer than 4 pairs, repeated points, or (for a 4-point sample) three points on one line.

    >>> src = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    >>> dlt(src, src * 2).round(6).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]]
    >>> dlt(np.array([[0, 0], [1, 1], [2, 2], [0, 1]], float), src)
    Traceback (most recent call last):
    ...
    cvexplorer.homography.DegenerateSampleError: degenerate sample: three of the points in image 1 lie on one line, so they do not fix a homography (pick points spread over the plane)
    """
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(src) != len(dst):
        raise ValueError(f"src has {len(src)} points but dst has {len(dst)}; give one dst point per src point")
    if len(src) < 4:
        raise DegenerateSampleError(f"degenerate sample: a homography has 8 degrees of freedom and needs at least "
                                    f"4 point pairs, got {len(src)}")
    if not (np.isfinite(src).all() and np.isfinite(dst).all()):
        raise ValueError("the points contain NaN or infinity")
    if len(src) == 4:
        for name, p in (("image 1", src), ("image 2", dst)):
            if _collinear(p, 1e-6):
                raise DegenerateSampleError(
                    f"degenerate sample: three of the points in {name} lie on one line, so they do not fix a "
                    f"homography (pick points spread over the plane)")
    T1, T2 = _normalizer(src), _normalizer(dst)
    a, b = _apply(T1, src), _apply(T2, dst)
    n = len(a)
    A = np.zeros((2 * n, 9))
    x, y = a[:, 0], a[:, 1]
    u, v = b[:, 0], b[:, 1]
    A[0::2, 0], A[0::2, 1], A[0::2, 2] = -x, -y, -1
    A[0::2, 6], A[0::2, 7], A[0::2, 8] = u * x, u * y, u
    A[1::2, 3], A[1::2, 4], A[1::2, 5] = -x, -y, -1
    A[1::2, 6], A[1::2, 7], A[1::2, 8] = v * x, v * y, v
    # The null vector of A from the 9×9 normal matrix (well conditioned after Hartley normalisation;
    # a full SVD of the tall A is needlessly slow with some BLAS builds).
    ev, vec = np.linalg.eigh(A.T @ A)
    if ev[1] <= 1e-12 * ev[-1]:
        raise DegenerateSampleError("degenerate sample: the point pairs leave the homography undetermined "
                                    "(repeated or collinear points)")
    Hn = vec[:, 0].reshape(3, 3)
    H = np.linalg.inv(T2) @ Hn @ T1
    if abs(H[2, 2]) < 1e-12 or abs(np.linalg.det(H)) < 1e-15 * np.abs(H).max() ** 3:
        raise DegenerateSampleError("degenerate sample: the homography is singular (it maps the plane onto a line)")
    return H / H[2, 2]


def reprojection_error(H: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Per-point forward transfer error ‖H·src − dst‖ in pixels."""
    return np.linalg.norm(project(H, src) - np.asarray(dst, float).reshape(-1, 2), axis=1)


# ---------------------------------------------------------------------------------------------------
# RANSAC
# ---------------------------------------------------------------------------------------------------
def ransac_bound(inlier_ratio: float, confidence: float = 0.99, sample_size: int = 4,
                 max_iters: int = 2000) -> int:
    """The adaptive number of iterations for this inlier ratio (capped at ``max_iters``).

    Uses :func:`cvexplorer.formulas.ransac_iterations` (``N = ⌈log(1 − p) / log(1 − wˢ)⌉``).

    >>> ransac_bound(0.5, 0.99)
    72
    >>> ransac_bound(0.0)
    2000
    """
    w = float(inlier_ratio)
    if w <= 0:
        return int(max_iters)
    if w >= 1:
        return 1
    try:
        from .formulas import ransac_iterations

        n = int(ransac_iterations(w, sample_size, confidence))
    except (ImportError, ValueError, ZeroDivisionError, OverflowError):
        ws = w ** sample_size
        n = max_iters if ws <= 0 or ws >= 1 else math.ceil(math.log(1 - confidence) / math.log(1 - ws))
    return int(min(max(n, 1), max_iters))


def _batch_solve(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Homographies from (B, 4, 2) minimal samples (normalised coords) with h33 = 1: (B, 3, 3), ok mask."""
    B = len(a)
    x, y = a[..., 0], a[..., 1]
    u, v = b[..., 0], b[..., 1]
    A = np.zeros((B, 8, 8))
    rhs = np.zeros((B, 8))
    z = np.zeros_like(x)
    o = np.ones_like(x)
    A[:, 0::2] = np.stack([x, y, o, z, z, z, -u * x, -u * y], axis=-1)
    A[:, 1::2] = np.stack([z, z, z, x, y, o, -v * x, -v * y], axis=-1)
    rhs[:, 0::2] = u
    rhs[:, 1::2] = v
    # Degenerate (collinear) samples: any three points of the four with a tiny triangle, in either image.
    ok = np.ones(B, bool)
    for p in (a, b):
        for i, j, k in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
            d1 = p[:, j] - p[:, i]
            d2 = p[:, k] - p[:, i]
            area = np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])
            ok &= area > 1e-4
    H = np.zeros((B, 3, 3))
    H[:, 2, 2] = 1
    if ok.any():
        det = np.linalg.det(A[ok])
        good = np.abs(det) > 1e-10
        idx = np.flatnonzero(ok)
        ok[idx[~good]] = False
        if ok.any():
            sol = np.linalg.solve(A[ok], rhs[ok][..., None])[..., 0]
            H[ok, 0, :] = sol[:, 0:3]
            H[ok, 1, :] = sol[:, 3:6]
            H[ok, 2, :2] = sol[:, 6:8]
    # A homography of a plane seen from the front keeps the orientation of the sample (no mirror).
    if ok.any():
        hx = np.einsum("bij,bkj->bki", H[:, :, :2], a) + H[:, None, :, 2]
        ok &= (hx[..., 2] > 0).all(axis=1) | (hx[..., 2] < 0).all(axis=1)
    return H, ok


def _batch_errors(H: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(B, N) squared transfer errors (normalised coordinates)."""
    q = np.matmul(a[None], H[:, :, :2].transpose(0, 2, 1)) + H[:, None, :, 2]
    w = q[..., 2]
    w = np.where(np.abs(w) < 1e-12, 1e-12, w)
    dx = q[..., 0] / w - b[None, :, 0]
    dy = q[..., 1] / w - b[None, :, 1]
    return dx * dx + dy * dy


def _refine_lm(H: np.ndarray, src: np.ndarray, dst: np.ndarray, iters: int = 10,
               weights: np.ndarray | None = None) -> np.ndarray:
    """Levenberg–Marquardt on the (optionally weighted) forward transfer error over H's 8 free entries."""
    h = (H / H[2, 2]).ravel()[:8].copy()
    x, y = src[:, 0], src[:, 1]
    sw = np.ones(len(x)) if weights is None else np.sqrt(np.asarray(weights, float))
    sw2 = np.concatenate([sw, sw])

    def residual(h):
        d = h[6] * x + h[7] * y + 1.0
        return sw2 * np.concatenate([(h[0] * x + h[1] * y + h[2]) / d - dst[:, 0],
                                     (h[3] * x + h[4] * y + h[5]) / d - dst[:, 1]]), d

    r, d = residual(h)
    cost = float(r @ r)
    lam = 1e-3
    n = len(x)
    for _ in range(iters):
        u = (h[0] * x + h[1] * y + h[2]) / d
        v = (h[3] * x + h[4] * y + h[5]) / d
        J = np.zeros((2 * n, 8))
        J[:n, 0], J[:n, 1], J[:n, 2] = x / d, y / d, 1 / d
        J[:n, 6], J[:n, 7] = -u * x / d, -u * y / d
        J[n:, 3], J[n:, 4], J[n:, 5] = x / d, y / d, 1 / d
        J[n:, 6], J[n:, 7] = -v * x / d, -v * y / d
        J *= sw2[:, None]
        JtJ = J.T @ J
        g = J.T @ r
        improved = False
        for _ in range(6):
            try:
                step = np.linalg.solve(JtJ + lam * np.diag(np.diag(JtJ) + 1e-12), -g)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            hn = h + step
            rn, dn = residual(hn)
            cn = float(rn @ rn)
            if np.isfinite(cn) and cn < cost:
                h, r, d, cost = hn, rn, dn, cn
                lam = max(lam / 10, 1e-9)
                improved = True
                break
            lam *= 10
        if not improved or np.abs(step).max() < 1e-12:
            break
    return np.append(h, 1.0).reshape(3, 3)


@dataclass
class _RansacRun:
    H: np.ndarray | None
    mask: np.ndarray
    samples: np.ndarray        # (n, 4) indices
    counts: np.ndarray         # (n,) inlier count of each hypothesis (-1: degenerate sample)
    best: np.ndarray           # (n,) best count so far
    bounds: np.ndarray         # (n,) adaptive bound after this iteration
    models: np.ndarray         # (n, 3, 3) pixel-space hypotheses (nan when degenerate)
    best_iter: int
    ransac_H: np.ndarray | None  # the winning hypothesis before refinement
    threshold: float


def _ransac_core(src, dst, threshold, confidence, max_iters, seed, batch=256, record=False) -> _RansacRun:
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(src) != len(dst):
        raise ValueError(f"src has {len(src)} points but dst has {len(dst)}")
    n = len(src)
    if n < 4:
        raise DegenerateSampleError(f"RANSAC needs at least 4 matches to fit a homography, got {n}")
    if threshold <= 0:
        raise ValueError(f"threshold must be positive (pixels), got {threshold}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    max_iters = int(max_iters)
    if max_iters < 1:
        raise ValueError(f"max_iters must be at least 1, got {max_iters}")
    rng = np.random.default_rng(seed)
    T1, T2 = _normalizer(src), _normalizer(dst)
    a, b = _apply(T1, src), _apply(T2, dst)
    thr2 = (threshold * T2[0, 0]) ** 2  # the threshold in normalised dst units
    T2inv = np.linalg.inv(T2)

    samples_all, counts_all, best_all, bounds_all, models_all = [], [], [], [], []
    best_count, best_H, best_iter = -1, None, -1
    it = 0
    bound = max_iters
    stop = False
    bound_cache: dict[int, int] = {}

    def bound_for(c: int) -> int:
        if c not in bound_cache:
            bound_cache[c] = ransac_bound(max(c, 0) / n, confidence, 4, max_iters)
        return bound_cache[c]

    while not stop and it < max_iters:
        m = min(batch, max_iters - it)
        # 4 distinct indices per row: argsort of random keys would be O(n); use rejection instead.
        s = rng.integers(0, n, size=(m, 4))
        for _ in range(20):
            dup = ((s[:, 0] == s[:, 1]) | (s[:, 0] == s[:, 2]) | (s[:, 0] == s[:, 3]) |
                   (s[:, 1] == s[:, 2]) | (s[:, 1] == s[:, 3]) | (s[:, 2] == s[:, 3]))
            if not dup.any():
                break
            s[dup] = rng.integers(0, n, size=(int(dup.sum()), 4))
        Hb, ok = _batch_solve(a[s], b[s])
        counts = np.full(m, -1, np.int64)
        if ok.any():
            err = _batch_errors(Hb[ok], a, b)
            counts[ok] = (err < thr2).sum(axis=1)
        # walk the batch in order, exactly as the one-at-a-time loop would
        cm = np.maximum.accumulate(np.maximum(counts, best_count))
        take = m
        bounds = np.empty(m, np.int64)
        for j in range(m):
            bounds[j] = bound if cm[j] < 0 else min(bound, bound_for(int(cm[j])))
            bound = int(bounds[j])
            if it + j + 1 >= bound:
                take = j + 1
                stop = True
                break
        bounds = bounds[:take]
        seg = counts[:take]
        if seg.size and seg.max() > best_count:
            j = int(np.argmax(seg))  # first occurrence of the batch maximum
            best_count, best_iter = int(seg[j]), it + j
            best_H = T2inv @ Hb[j] @ T1
        if record:
            samples_all.append(s[:take])
            counts_all.append(seg)
            best_all.append(np.maximum.accumulate(np.maximum(seg, -1 if not best_all else best_all[-1][-1])))
            bounds_all.append(bounds)
            mh = np.einsum("ij,bjk,kl->bil", T2inv, Hb[:take], T1)
            mh[~ok[:take]] = np.nan
            models_all.append(mh)
        it += take

    def cat(lst, shape, dtype):
        return np.concatenate(lst) if lst else np.zeros(shape, dtype)

    run = _RansacRun(H=None, mask=np.zeros(n, bool), samples=cat(samples_all, (0, 4), np.int64),
                     counts=cat(counts_all, (0,), np.int64), best=cat(best_all, (0,), np.int64),
                     bounds=cat(bounds_all, (0,), np.int64), models=cat(models_all, (0, 3, 3), float),
                     best_iter=best_iter, ransac_H=None if best_H is None else best_H / best_H[2, 2],
                     threshold=threshold)
    if best_H is None or best_count < 4:
        return run
    # Local optimisation: re-fit on the inliers until the set stops changing, then LM.
    H = best_H / best_H[2, 2]
    mask = reprojection_error(H, src, dst) < threshold
    for _ in range(10):
        try:
            Hn = dlt(src[mask], dst[mask])
        except DegenerateSampleError:
            break
        mn = reprojection_error(Hn, src, dst) < threshold
        if mn.sum() < mask.sum():
            break
        same = np.array_equal(mn, mask)
        H, mask = Hn, mn
        if same:
            break
    for _ in range(3):
        Hn = _refine_lm(H, src[mask], dst[mask])
        mn = reprojection_error(Hn, src, dst) < threshold
        if mn.sum() < mask.sum() or not np.isfinite(Hn).all():
            break
        same = np.array_equal(mn, mask)
        H, mask = Hn, mn
        if same:
            break
    # Robust polish (IRLS, Cauchy weights at the inliers' own noise scale): loose inliers near the
    # threshold pull less than the tight majority.
    for _ in range(3):
        e = reprojection_error(H, src, dst)
        keep = e < threshold
        if keep.sum() < 8:
            break
        sigma = max(1.4826 * float(np.median(e[keep])), 0.05 * threshold)
        Hn = _refine_lm(H, src[keep], dst[keep], iters=4, weights=1.0 / (1.0 + (e[keep] / sigma) ** 2))
        if not np.isfinite(Hn).all():
            break
        H = Hn
    mask = reprojection_error(H, src, dst) < threshold
    run.H, run.mask = H / H[2, 2], mask
    return run


def ransac(src: np.ndarray, dst: np.ndarray, *, threshold: float = 3.0, confidence: float = 0.99,
           max_iters: int = 2000, seed: int | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """Robust homography from matches with outliers: ``(H, inlier mask)``; H is None if nothing fits.

    Hypotheses from random 4-point samples are solved and scored in batches; the iteration stops at
    the adaptive bound for the best inlier ratio so far (``confidence`` that one all-inlier sample
    was drawn), or at ``max_iters``. The best model is refined on its inliers.

    >>> rng = np.random.default_rng(0)
    >>> src = rng.uniform(0, 500, (100, 2))
    >>> H = np.array([[0.9, 0.1, 20], [-0.1, 1.1, 5], [1e-4, 0, 1]])
    >>> dst = project(H, src)
    >>> dst[:40] = rng.uniform(0, 500, (40, 2))
    >>> Hest, mask = ransac(src, dst, seed=1)
    >>> int(mask.sum()), bool(np.allclose(Hest, H, atol=1e-6))
    (60, True)
    """
    run = _ransac_core(src, dst, threshold, confidence, max_iters, seed)
    return run.H, run.mask


def ransac_trace(src: np.ndarray, dst: np.ndarray, *, threshold: float = 3.0, confidence: float = 0.99,
                 max_iters: int = 2000, seed: int | None = None) -> Trace:
    """:func:`ransac` as a step-through: one step per hypothesis, then a final "refine" step.

    Each step's data: ``sample`` (4 match indices), ``H`` (that hypothesis, NaN if degenerate),
    ``inliers`` (its inlier mask), ``count``, ``best`` (best count so far), ``best_iter``,
    ``bound`` (the adaptive iteration bound now), ``counts``/``bests``/``bounds`` (the whole
    history, for plots). ``trace.final == (H, mask)`` exactly as :func:`ransac` returns them.

    >>> rng = np.random.default_rng(0)
    >>> src = rng.uniform(0, 500, (60, 2)); dst = src + 5
    >>> t = ransac_trace(src, dst, seed=0)
    >>> len(t), t[0].count, t[-1].caption.startswith("refine")
    (2, 60, True)
    """
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    run = _ransac_core(src, dst, threshold, confidence, max_iters, seed, record=True)
    n_iter = len(run.counts)
    n = len(src)
    counts = run.counts.copy()
    counts.setflags(write=False)
    bests = run.best.copy()
    bests.setflags(write=False)
    bounds = run.bounds.copy()
    bounds.setflags(write=False)
    best_iters = np.zeros(n_iter, np.int64)
    cur = -1
    bc = -1
    for i, c in enumerate(run.counts):
        if c > bc:
            bc, cur = int(c), i
        best_iters[i] = cur

    def make(i: int) -> Step:
        common = {"counts": counts, "bests": bests, "bounds": bounds, "n": n, "threshold": threshold}
        if i == n_iter:
            mask = run.mask
            cnt = int(mask.sum())
            return Step(i, f"refine: re-fit on the {cnt} inliers of iteration {run.best_iter + 1} "
                           f"({cnt}/{n} = {cnt / max(n, 1):.0%} inliers)",
                        {**common, "sample": np.zeros(0, np.int64), "H": run.H if run.H is not None else np.full((3, 3), np.nan),
                         "inliers": mask, "count": cnt, "best": cnt, "best_iter": run.best_iter,
                         "bound": int(bounds[-1]) if n_iter else max_iters, "iteration": n_iter, "final": True,
                         "degenerate": False})
        Hi = run.models[i]
        degenerate = bool(run.counts[i] < 0)
        mask = np.zeros(n, bool) if degenerate else reprojection_error(Hi, src, dst) < threshold
        c = int(run.counts[i])
        cap = (f"iteration {i + 1}: sample {tuple(int(k) for k in run.samples[i])} → "
               + ("degenerate (3 points on a line or a mirror) — skipped" if degenerate else f"{c} inliers")
               + f"; best so far {int(run.best[i])}; bound N = {int(run.bounds[i])}")
        return Step(i, cap, {**common, "sample": run.samples[i], "H": Hi, "inliers": mask, "count": c,
                             "best": int(run.best[i]), "best_iter": int(best_iters[i]), "bound": int(run.bounds[i]),
                             "iteration": i + 1, "final": False, "degenerate": degenerate})

    final = (run.H, run.mask)
    return Trace(length=n_iter + 1, make_step=make, final=final,
                 meta={"n": n, "iterations": n_iter, "best_iter": run.best_iter, "threshold": threshold,
                       "confidence": confidence, "max_iters": max_iters})


# ---------------------------------------------------------------------------------------------------
# features and matching
# ---------------------------------------------------------------------------------------------------
@dataclass
class Features:
    """Keypoints (N, 2) x, y plus their descriptors, from one image."""

    points: np.ndarray
    descriptors: np.ndarray | None
    detector: str
    sizes: np.ndarray | None = None


@dataclass
class MatchResult:
    """Keypoints of both images and the matches that passed the ratio test.

    ``matches`` is (M, 2): index into ``kp1``, index into ``kp2``; ``src``/``dst`` are the matched
    coordinates, ``distances`` the descriptor distances.
    """

    kp1: np.ndarray
    kp2: np.ndarray
    matches: np.ndarray
    distances: np.ndarray
    detector: str
    ratio: float

    @property
    def src(self) -> np.ndarray:
        return self.kp1[self.matches[:, 0]] if len(self.matches) else np.zeros((0, 2))

    @property
    def dst(self) -> np.ndarray:
        return self.kp2[self.matches[:, 1]] if len(self.matches) else np.zeros((0, 2))

    def __iter__(self):  # kp1, kp2, matches = detect_and_match(...)
        return iter((self.kp1, self.kp2, self.matches))


def _gray(img: np.ndarray) -> np.ndarray:
    import cv2

    a = np.asarray(img)
    if a.ndim == 2:
        g = a
    elif a.shape[2] == 4:
        g = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGBA2GRAY)
    else:
        g = cv2.cvtColor(np.ascontiguousarray(a[..., :3]), cv2.COLOR_RGB2GRAY)
    if g.dtype != np.uint8:
        g = np.clip(g, 0, 255).astype(np.uint8)
    return g


def detect(img: np.ndarray, detector: str = "sift", *, max_features: int = 0) -> Features:
    """Keypoints and descriptors of one image (RGB or grey uint8)."""
    import cv2

    det = detector.lower()
    if det == "sift":
        d = cv2.SIFT_create(nfeatures=max_features)
    elif det == "orb":
        d = cv2.ORB_create(nfeatures=max_features or 3000)
    elif det == "akaze":
        make = getattr(cv2, "AKAZE_create", None)
        if make is None:
            raise ValueError("AKAZE is not available in this OpenCV build (OpenCV 5 moved it out of the main "
                             "module); choose SIFT or ORB")
        d = make()
    else:
        raise ValueError(f"unknown detector {detector!r}; choose one of {', '.join(DETECTORS)}")
    kps, desc = d.detectAndCompute(_gray(img), None)
    pts = np.array([k.pt for k in kps], dtype=np.float64).reshape(-1, 2)
    sizes = np.array([k.size for k in kps], dtype=np.float64)
    return Features(pts, desc, det, sizes)


def match(f1: Features, f2: Features, ratio: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Lowe's ratio test on the two nearest neighbours: (M, 2) index pairs and their distances."""
    import cv2

    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    empty = (np.zeros((0, 2), np.int64), np.zeros(0))
    if f1.descriptors is None or f2.descriptors is None or len(f1.points) < 2 or len(f2.points) < 2:
        return empty
    binary = f1.descriptors.dtype == np.uint8 and f1.detector in ("orb", "akaze")
    if binary:
        bf = cv2.BFMatcher(cv2.NORM_HAMMING)
        knn = bf.knnMatch(f1.descriptors, f2.descriptors, k=2)
        pairs, dists = [], []
        for m in knn:
            if len(m) == 2 and m[0].distance < ratio * m[1].distance:
                pairs.append((m[0].queryIdx, m[0].trainIdx))
                dists.append(m[0].distance)
        if not pairs:
            return empty
        pairs = np.array(pairs, np.int64)
        dists = np.array(dists, float)
    else:
        # exact L2 nearest two neighbours with one matrix product (what a brute-force matcher does)
        a = f1.descriptors.astype(np.float32)
        b = f2.descriptors.astype(np.float32)
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
        np.maximum(d2, 0, out=d2)
        two = np.argpartition(d2, 1, axis=1)[:, :2]
        rows = np.arange(len(a))[:, None]
        dd = d2[rows, two]
        o = np.argsort(dd, axis=1)
        two = np.take_along_axis(two, o, 1)
        dd = np.sqrt(np.take_along_axis(dd, o, 1))
        ok = dd[:, 0] < ratio * dd[:, 1]
        if not ok.any():
            return empty
        pairs = np.stack([np.flatnonzero(ok), two[ok, 0]], axis=1).astype(np.int64)
        dists = dd[ok, 0].astype(float)
    # one match per keypoint of image 2 (keep the closest)
    order = np.argsort(dists, kind="stable")
    _, first = np.unique(pairs[order, 1], return_index=True)
    keep = np.sort(order[first])
    pairs, dists = pairs[keep], dists[keep]
    # SIFT repeats a keypoint with a second orientation: one correspondence, not two votes
    coords = np.round(np.concatenate([f1.points[pairs[:, 0]], f2.points[pairs[:, 1]]], axis=1) * 2)
    order = np.argsort(dists, kind="stable")
    _, first = np.unique(coords[order], axis=0, return_index=True)
    keep = np.sort(order[first])
    return pairs[keep], dists[keep]


def detect_and_match(img1: np.ndarray, img2: np.ndarray, *, detector: str = "sift",
                     ratio: float = 0.75) -> MatchResult:
    """Detect keypoints in both images and match them with the ratio test → :class:`MatchResult`.

    Unpacks as ``kp1, kp2, matches``; ``result.src`` / ``result.dst`` are the matched coordinates.
    """
    f1 = detect(img1, detector)
    f2 = detect(img2, detector)
    m, d = match(f1, f2, ratio)
    return MatchResult(f1.points, f2.points, m, d, f1.detector, ratio)


# ---------------------------------------------------------------------------------------------------
# estimate: a pair of images → H with a verdict
# ---------------------------------------------------------------------------------------------------
@dataclass
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
             min_inlier_ratio: float = MIN_INLIER_RATIO) -> HomographyResult:
    """Features → matches → RANSAC for one image pair, with a verdict on the result.

    ``max_pixels`` (optional) detects on downscaled copies for speed; H is returned in the original
    pixel coordinates either way. The threshold is in original pixels.
    """
    import cv2

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
        f1 = detect(a, detector)
        f2 = detect(b, detector)
    with st("matching"):
        m, d = match(f1, f2, ratio)
    mr = MatchResult(f1.points / s1, f2.points / s2, m, d, f1.detector, ratio)
    n = len(m)
    base = dict(matches=mr, timings=st.ms, scale=(s1, s2))
    if n < max(min_matches, 4):
        return HomographyResult(None, np.zeros(n, bool), 0.0, n, 0, False,
                                f"too few matches: {n} passed the ratio test (need at least {max(min_matches, 4)}) — "
                                f"the images may not overlap, or have too little texture", **base)
    with st("ransac"):
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


# ---------------------------------------------------------------------------------------------------
# warping and blending
# ---------------------------------------------------------------------------------------------------
@dataclass
class BlendResult:
    """A blended mosaic: ``image`` (RGB uint8), ``coverage`` (how many images cover each pixel),
    ``labels`` (which image dominates each pixel, −1 for none), ``offset`` (the translation applied
    to the reference frame) and ``seams`` (a boolean map: borders between labels, or for feather
    blending the borders of the overlap where the cross-fade starts and ends)."""

    image: np.ndarray
    coverage: np.ndarray
    labels: np.ndarray
    offset: tuple
    seams: np.ndarray
    timings: dict = field(default_factory=dict)


MAX_CANVAS_PIXELS = 40_000_000


def _canvas_geometry(images, homographies):
    pts = []
    for im, H in zip(images, homographies):
        h, w = im.shape[:2]
        c = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
        q = c @ np.asarray(H)[:, :2].T + np.asarray(H)[:, 2]
        if not (q[:, 2] > 1e-9).all():
            raise ValueError("a homography sends an image corner behind the camera; it cannot be warped")
        pts.append(q[:, :2] / q[:, 2:3])
    pts = np.concatenate(pts)
    x0, y0 = np.floor(pts.min(axis=0))
    x1, y1 = np.ceil(pts.max(axis=0))
    W, Hh = int(x1 - x0), int(y1 - y0)
    if W * Hh > MAX_CANVAS_PIXELS or W <= 0 or Hh <= 0:
        raise ValueError(f"the warped images would cover {W}×{Hh} pixels — a homography is wildly distorting")
    return x0, y0, W, Hh


def _laplacian(img: np.ndarray, levels: int) -> list:
    import cv2

    g = [img]
    for _ in range(levels):
        g.append(cv2.pyrDown(g[-1]))
    lp = [g[i] - cv2.pyrUp(g[i + 1], dstsize=(g[i].shape[1], g[i].shape[0])) for i in range(levels)]
    lp.append(g[-1])
    return lp


def _gaussian(img: np.ndarray, levels: int) -> list:
    import cv2

    g = [img]
    for _ in range(levels):
        g.append(cv2.pyrDown(g[-1]))
    return g


def warp_and_blend(images: Sequence[np.ndarray], homographies: Sequence[np.ndarray], *,
                   blend: str = "feather", levels: int = 5) -> BlendResult:
    """Warp every image by its homography (into a common frame) and blend them.

    ``blend``: ``"none"`` (later images paint over earlier ones: the seams show as hard edges),
    ``"feather"`` (weights fall off linearly towards each image's border) or ``"multiband"``
    (Burt–Adelson: low frequencies blended over wide regions, high ones across a sharp seam).
    The canvas is translated so that every warped image fits; ``offset`` says by how much.
    Each image is warped and (for multiband) decomposed only over its own bounding box, aligned
    to the pyramid's grid, so the cost follows the images' area rather than the canvas's.
    """
    import cv2

    if blend not in BLENDS:
        raise ValueError(f"unknown blend {blend!r}; choose one of {', '.join(BLENDS)}")
    if len(images) == 0 or len(images) != len(homographies):
        raise ValueError("give one homography per image (and at least one image)")
    st = Stages()
    x0, y0, W, Hh = _canvas_geometry(images, homographies)
    levels = max(1, min(int(levels), int(math.log2(max(min(W, Hh), 2))) - 3))
    step = 2 ** levels
    Wp, Hp = -(-W // step) * step, -(-Hh // step) * step  # padded to the pyramid grid
    T = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1.0]])
    margin = 2 * step
    crops, warped, masks = [], [], []
    with st("warp"):
        for im, H in zip(images, homographies):
            a = np.asarray(im)
            im3 = np.ascontiguousarray(a[..., :3]) if a.ndim == 3 else np.repeat(a[..., None], 3, axis=2)
            M = T @ np.asarray(H, float)
            h, w = im3.shape[:2]
            q = project(M, np.array([[0, 0], [w, 0], [w, h], [0, h]], float))
            cx0 = max(0, int(np.floor(q[:, 0].min())) - margin) // step * step
            cy0 = max(0, int(np.floor(q[:, 1].min())) - margin) // step * step
            cx1 = min(Wp, -(-(int(np.ceil(q[:, 0].max())) + margin) // step) * step)
            cy1 = min(Hp, -(-(int(np.ceil(q[:, 1].max())) + margin) // step) * step)
            Mc = np.array([[1, 0, -cx0], [0, 1, -cy0], [0, 0, 1.0]]) @ M
            size = (cx1 - cx0, cy1 - cy0)
            wi = cv2.warpPerspective(im3, Mc, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            src_mask = np.zeros(im3.shape[:2], np.uint8)
            src_mask[1:-1, 1:-1] = 255
            wm = cv2.warpPerspective(src_mask, Mc, size, flags=cv2.INTER_LINEAR) > 127
            wm[:, max(0, W - cx0):] = False
            wm[max(0, Hh - cy0):, :] = False
            crops.append((cx0, cy0, cx1, cy1))
            warped.append(wi)
            masks.append(wm)
    with st("blend"):
        n = len(warped)
        coverage = np.zeros((Hp, Wp), np.uint8)
        for (cx0, cy0, cx1, cy1), wm in zip(crops, masks):
            coverage[cy0:cy1, cx0:cx1] += wm
        if blend == "none":
            labels = np.full((Hp, Wp), -1, np.int16)
            for i, ((cx0, cy0, cx1, cy1), wm) in enumerate(zip(crops, masks)):
                labels[cy0:cy1, cx0:cx1][wm] = i
        else:
            best = np.zeros((Hp, Wp), np.float32)
            labels = np.full((Hp, Wp), -1, np.int16)
            feathers = []
            for i, ((cx0, cy0, cx1, cy1), wm) in enumerate(zip(crops, masks)):
                f = cv2.distanceTransform(wm.astype(np.uint8), cv2.DIST_L2, 3)
                feathers.append(f)
                sub = best[cy0:cy1, cx0:cx1]
                better = f > sub
                sub[better] = f[better]
                labels[cy0:cy1, cx0:cx1][better] = i
        if blend == "none":
            out = np.zeros((Hp, Wp, 3), np.uint8)
            for i, ((cx0, cy0, cx1, cy1), wi) in enumerate(zip(crops, warped)):
                sel = labels[cy0:cy1, cx0:cx1] == i
                out[cy0:cy1, cx0:cx1][sel] = wi[sel]
        elif blend == "feather":
            acc = np.zeros((Hp, Wp, 3), np.float32)
            wsum = np.zeros((Hp, Wp), np.float32)
            for (cx0, cy0, cx1, cy1), wi, f in zip(crops, warped, feathers):
                acc[cy0:cy1, cx0:cx1] += wi.astype(np.float32) * f[..., None]
                wsum[cy0:cy1, cx0:cx1] += f
            out = np.clip(acc / np.maximum(wsum, 1e-6)[..., None] + 0.5, 0, 255).astype(np.uint8)
            out[coverage == 0] = 0
        else:
            acc = [np.zeros((Hp >> k, Wp >> k, 3), np.float32) for k in range(levels + 1)]
            wsum = [np.zeros((Hp >> k, Wp >> k), np.float32) for k in range(levels + 1)]
            for i, ((cx0, cy0, cx1, cy1), wi) in enumerate(zip(crops, warped)):
                lp = _laplacian(wi.astype(np.float32), levels)
                gm = _gaussian((labels[cy0:cy1, cx0:cx1] == i).astype(np.float32), levels)
                for k in range(levels + 1):
                    ys, xs = slice(cy0 >> k, (cy0 >> k) + gm[k].shape[0]), slice(cx0 >> k, (cx0 >> k) + gm[k].shape[1])
                    acc[k][ys, xs] += lp[k] * gm[k][..., None]
                    wsum[k][ys, xs] += gm[k]
            res = None
            for k in range(levels, -1, -1):
                band = acc[k] / np.maximum(wsum[k], 1e-6)[..., None]
                res = band if res is None else cv2.pyrUp(res, dstsize=(band.shape[1], band.shape[0])) + band
            out = np.clip(res + 0.5, 0, 255).astype(np.uint8)
            out[coverage == 0] = 0
        out, coverage, labels = out[:Hh, :W], coverage[:Hh, :W], labels[:Hh, :W]
        # seams: where the dominant image changes (none / multiband); for feather, where the blend
        # starts and stops (the borders of each image's footprint inside the mosaic)
        lab = labels if blend != "feather" else np.where(coverage > 0, coverage.astype(np.int16), -1)
        seams = np.zeros_like(coverage, bool)
        seams[:, 1:] |= (lab[:, 1:] != lab[:, :-1]) & (lab[:, 1:] >= 0) & (lab[:, :-1] >= 0)
        seams[1:, :] |= (lab[1:, :] != lab[:-1, :]) & (lab[1:, :] >= 0) & (lab[:-1, :] >= 0)
    return BlendResult(np.ascontiguousarray(out), np.ascontiguousarray(coverage), np.ascontiguousarray(labels),
                       (float(-x0), float(-y0)), seams, st.ms)


def rectify(img: np.ndarray, corners: np.ndarray, size: tuple[int, int] | None = None,
            target: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A homography by hand: four clicked corners → a fronto-parallel view. Returns (view, H).

    ``corners``: (4, 2) in the order top-left, top-right, bottom-right, bottom-left. ``size`` (w, h)
    of the output; by default the mean lengths of opposite sides. ``target`` (4, 2) overrides the
    destination rectangle's corners.
    """
    import cv2

    c = np.asarray(corners, float).reshape(4, 2)
    if size is None:
        wt = 0.5 * (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3]))
        ht = 0.5 * (np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1]))
        size = (max(8, int(round(wt))), max(8, int(round(ht))))
    w, h = size
    if target is None:
        target = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    H = dlt(c, target)
    out = cv2.warpPerspective(np.ascontiguousarray(img), H, (int(w), int(h)), flags=cv2.INTER_LINEAR)
    return out, H


# ---------------------------------------------------------------------------------------------------
# stitching
# ---------------------------------------------------------------------------------------------------
@dataclass
class StitchResult:
    """A panorama with its evidence.

    ``homographies[i]`` maps image i into the reference image's frame (None for images left out);
    ``used`` lists the images in the panorama; ``reference`` is the central image; ``pairs`` maps
    (i, j) to the pair's :class:`HomographyResult`; ``timings`` has features, matching, ransac,
    warp and blend in ms; ``warnings`` explains what was left out and why.
    """

    panorama: np.ndarray | None
    homographies: list
    used: list
    reference: int
    pairs: dict
    timings: dict
    warnings: list
    blend: BlendResult | None = None
    scale: float = 1.0


def _resize(im, s):
    import cv2

    if s >= 1.0:
        return np.ascontiguousarray(im)
    h, w = im.shape[:2]
    return cv2.resize(np.ascontiguousarray(im), (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_AREA)


def stitch(images: Sequence[np.ndarray], *, detector: str = "sift", ratio: float = 0.75, threshold: float = 3.0,
           confidence: float = 0.995, max_iters: int = 1000, seed: int | None = 0, blend: str = "multiband",
           work_pixels: int | None = 100_000, max_features: int = 1000, output_pixels: int | None = None,
           min_inliers: int = 20) -> StitchResult:
    """Stitch N overlapping images into one panorama (planar homographies, chained to a centre).

    1. features on working copies of at most ``work_pixels`` pixels; 2. match every pair;
    3. RANSAC per pair, keeping only reliable pairs with ``min_inliers``; 4. a maximum spanning
    tree of the match graph (weight = inliers), rooted at its most central image, chains each
    image's homography to the reference; 5. warp and blend at the output resolution
    (``output_pixels`` per image, default: the originals). Images that connect to nothing are left
    out and named in ``warnings``.
    """
    imgs = [np.asarray(im) for im in images]
    if len(imgs) == 0:
        raise ValueError("give at least one image to stitch")
    for i, im in enumerate(imgs):
        if im.ndim not in (2, 3) or im.dtype != np.uint8:
            raise ValueError(f"image {i} must be an RGB or grey uint8 array, got {im.dtype} {im.shape}")
    st = Stages()
    n = len(imgs)
    npx = max(im.shape[0] * im.shape[1] for im in imgs)
    s = 1.0 if not work_pixels else min(1.0, math.sqrt(work_pixels / npx))
    so = 1.0 if not output_pixels else min(1.0, math.sqrt(output_pixels / npx))
    import os
    from concurrent.futures import ThreadPoolExecutor

    # OpenCV and NumPy release the GIL, so images (and pairs) run side by side on spare cores
    with ThreadPoolExecutor(max_workers=max(1, min(n, os.cpu_count() or 1))) as pool:
        with st("features"):
            feats = list(pool.map(lambda im: detect(_resize(im, s), detector, max_features=max_features), imgs))
        pairs: dict = {}
        with st("matching"):
            keys = [(i, j) for i in range(n) for j in range(i + 1, n)]
            matched = dict(zip(keys, pool.map(lambda k: match(feats[k[0]], feats[k[1]], ratio), keys)))
    warnings: list[str] = []
    with st("ransac"):
        for (i, j), (m, d) in matched.items():
            mr = MatchResult(feats[i].points / s, feats[j].points / s, m, d, detector, ratio)
            k = len(m)
            if k < max(min_inliers, 4):
                pairs[(i, j)] = HomographyResult(None, np.zeros(k, bool), 0.0, k, 0, False,
                                                 f"too few matches ({k})", matches=mr)
                continue
            H, mask = ransac(mr.src * s, mr.dst * s, threshold=threshold, confidence=confidence,
                             max_iters=max_iters, seed=seed)
            if H is not None:
                S = np.diag([s, s, 1.0])
                H = np.linalg.inv(S) @ H @ S
                H /= H[2, 2]
            c = int(mask.sum())
            reason = ""
            if H is None:
                reason = "no model"
            elif c < min_inliers:
                reason = f"too few inliers ({c} of {k})"
            elif c / k < MIN_INLIER_RATIO:
                reason = f"low inlier ratio ({c}/{k})"
            else:
                reason = check_homography(H, imgs[i].shape)
            pairs[(i, j)] = HomographyResult(H, mask, c / k, k, c, not reason, reason, matches=mr)
    # maximum spanning tree over reliable pairs (Kruskal)
    edges = sorted(((r.n_inliers, i, j) for (i, j), r in pairs.items() if r.reliable), reverse=True)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adj: dict[int, list[tuple[int, np.ndarray]]] = {i: [] for i in range(n)}
    for _, i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
            H = pairs[(i, j)].H
            adj[i].append((j, H))                  # i -> j
            adj[j].append((i, np.linalg.inv(H)))   # j -> i
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(find(i), []).append(i)
    comp = max(comps.values(), key=lambda c: (len(c), -min(c)))

    def bfs(root):
        dist = {root: 0}
        order = [root]
        for u in order:
            for v, _ in adj[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    order.append(v)
        return dist

    # the centre: smallest eccentricity, ties to the middle of the input order
    ref = min(comp, key=lambda r: (max(bfs(r).values()), abs(r - (n - 1) / 2), r))
    Hs: list = [None] * n
    Hs[ref] = np.eye(3)
    order = [ref]
    for u in order:
        for v, Huv in adj[u]:
            if Hs[v] is None:
                # Huv maps u -> v; we need v -> ref = (u -> ref) @ (v -> u)
                Hs[v] = Hs[u] @ np.linalg.inv(Huv)
                Hs[v] /= Hs[v][2, 2]
                order.append(v)
    used = sorted(i for i in range(n) if Hs[i] is not None)
    for i in range(n):
        if Hs[i] is None:
            best = max(((r, k) for k, r in pairs.items() if i in k), key=lambda t: t[0].n_inliers, default=None)
            why = best[0].reason if best else "nothing to match against"
            warnings.append(f"image {i + 1} left out: it does not overlap reliably with the others ({why})")
    if len(comp) >= 2:
        for (i, j), r in pairs.items():
            if r.reliable and r.inlier_ratio < 0.5:
                warnings.append(f"images {i + 1}–{j + 1}: only {r.inlier_ratio:.0%} of matches are inliers "
                                f"(parallax or repeated texture?)")
    out_imgs = [_resize(imgs[i], so) for i in used]
    S = np.diag([so, so, 1.0])
    out_H = [S @ Hs[i] @ np.linalg.inv(S) for i in used]
    try:
        br = warp_and_blend(out_imgs, out_H, blend=blend)
    except ValueError as exc:
        warnings.append(str(exc))
        br = None
    timings = dict(st.ms)
    if br is not None:
        timings["warp"] = br.timings.get("warp", 0.0)
        timings["blend"] = br.timings.get("blend", 0.0)
    return StitchResult(br.image if br is not None else None, Hs, used, ref, pairs, timings, warnings, br, so)


def grid_points(w: int, h: int, n: int = 20) -> np.ndarray:
    """An n × n grid of points spanning a w × h image (for reprojection checks)."""
    xs = np.linspace(0, w - 1, n)
    ys = np.linspace(0, h - 1, n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def sample_pair(sample: str = "still-life", size: tuple[int, int] = (800, 600), seed: int = 3,
                strength: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A built-in pair with a known homography: (img1, img2, H) with img2 = img1 warped by H.

    Made from :mod:`cvexplorer.samples`, so it needs no downloaded data.
    """
    import cv2

    from .samples import get_sample

    w, h = size
    big = get_sample(sample, (w, h))
    rng = np.random.default_rng(seed)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    jit = rng.uniform(-1, 1, (4, 2)) * np.array([w, h]) * 0.08 * strength
    dst = src + jit + np.array([-0.12 * w * strength, 0.03 * h * strength])
    H = dlt(src, dst)
    img2 = cv2.warpPerspective(big, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return big, img2, H


def sample_panorama(sample: str = "still-life", n: int = 3, size: tuple[int, int] = (1400, 600),
                    view: tuple[int, int] = (600, 520), seed: int = 5) -> tuple[list, list]:
    """Built-in overlapping views of one wide sample image: (views, true homographies view → wide)."""
    import cv2

    from .samples import get_sample

    W, Hh = size
    wide = get_sample(sample, (W, Hh))
    rng = np.random.default_rng(seed)
    vw, vh = view
    views, Hs = [], []
    xs = np.linspace(0, W - vw, n)
    for x in xs:
        quad = np.array([[x, 40], [x + vw, 40], [x + vw, 40 + vh], [x, 40 + vh]], float)
        quad[:, 1] = np.clip(quad[:, 1] - 40 + (Hh - vh) / 2, 0, Hh)
        quad += rng.uniform(-25, 25, (4, 2))
        quad = np.clip(quad, 0, [W, Hh])
        Hv = dlt(np.array([[0, 0], [vw, 0], [vw, vh], [0, vh]], float), quad)  # view -> wide
        v = cv2.warpPerspective(wide, np.linalg.inv(Hv), (vw, vh), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT)
        views.append(v)
        Hs.append(Hv)
    return views, Hs

