"""RANSAC in the open: vectorised hypotheses, the adaptive bound, refinement, and the step-through.

Hypotheses from random 4-point samples are drawn and scored in batches (one batched 8×8 solve, one
(batch × N) error matrix), but the stopping rule is applied hypothesis by hypothesis, so the result
is exactly what the one-at-a-time textbook loop returns. The winner is refined on its inliers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formulas import ransac_iterations
from ..trace import Step, Trace
from .geometry import DegenerateSampleError, _apply, _normalizer, dlt, reprojection_error

__all__ = ["ransac_bound", "ransac", "ransac_trace"]


def ransac_bound(inlier_ratio: float, confidence: float = 0.99, sample_size: int = 4,
                 max_iters: int = 2000) -> int:
    """The adaptive number of iterations for this inlier ratio (capped at ``max_iters``).

    Uses :func:`cvexplorer.formulas.ransac_iterations` (``N = ⌈log(1 − p) / log(1 − wˢ)⌉``).
    An inlier ratio of 0 (or one so small that ``wˢ`` underflows) gives ``max_iters``; a ratio of 1
    gives 1. ``confidence`` must be strictly between 0 and 1: certainty (p = 1) would need
    infinitely many samples, so it is refused with a sentence rather than answered with a cap.

    >>> ransac_bound(0.5, 0.99)
    72
    >>> ransac_bound(0.0)
    2000
    >>> ransac_bound(0.5, confidence=1.0)
    Traceback (most recent call last):
    ...
    ValueError: confidence 1.0 asks for certainty that an all-inlier sample was drawn, which no finite number of samples gives; use a confidence below 1, e.g. 0.99
    """
    p = float(confidence)
    if not 0 < p < 1:
        if p >= 1:
            raise ValueError(f"confidence {confidence!r} asks for certainty that an all-inlier sample was drawn, "
                             f"which no finite number of samples gives; use a confidence below 1, e.g. 0.99")
        raise ValueError(f"confidence is a probability strictly between 0 and 1 (e.g. 0.99), got {confidence!r}")
    if int(max_iters) < 1:
        raise ValueError(f"max_iters must be at least 1, got {max_iters}")
    w = float(inlier_ratio)
    if w <= 0:
        return int(max_iters)
    if w >= 1:
        return 1
    if w ** sample_size <= 0:  # underflow: an all-inlier sample is hopeless, run to the cap
        return int(max_iters)
    n = int(ransac_iterations(w, sample_size, p))
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
    # A plane seen from the front by both cameras is never mirrored: every sample point stays on one
    # side of the vanishing line (w of one sign) and the map keeps orientation there. The Jacobian
    # of x ↦ H·x at a point is det(H) / w³, so orientation is kept where sign(det H) = sign(w);
    # for an affine H (w = 1) this is det of the 2×2 part > 0. A mirrored sample is refused.
    if ok.any():
        hx = np.einsum("bij,bkj->bki", H[:, :, :2], a) + H[:, None, :, 2]
        w = hx[..., 2]
        same_side = (w > 0).all(axis=1) | (w < 0).all(axis=1)
        kept_orientation = np.sign(np.linalg.det(H))[:, None] * np.sign(w) > 0
        ok &= same_side & kept_orientation.all(axis=1)
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

    >>> from cvexplorer.homography import project
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
    ``bound`` (the adaptive iteration bound now), ``inlier_ratio`` (w = best / n, the ratio the
    bound uses), ``confidence``, ``counts``/``bests``/``bounds`` (the whole
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
        common = {"counts": counts, "bests": bests, "bounds": bounds, "n": n, "threshold": threshold,
                  "confidence": confidence}
        if i == n_iter:
            mask = run.mask
            cnt = int(mask.sum())
            return Step(i, f"refine: re-fit on the {cnt} inliers of iteration {run.best_iter + 1} "
                           f"({cnt}/{n} = {cnt / max(n, 1):.0%} inliers)",
                        {**common, "sample": np.zeros(0, np.int64), "H": run.H if run.H is not None else np.full((3, 3), np.nan),
                         "inliers": mask, "count": cnt, "best": cnt, "best_iter": run.best_iter,
                         "inlier_ratio": cnt / max(n, 1),
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
                             "inlier_ratio": max(int(run.best[i]), 0) / max(n, 1),
                             "iteration": i + 1, "final": False, "degenerate": degenerate})

    final = (run.H, run.mask)
    return Trace(length=n_iter + 1, make_step=make, final=final,
                 meta={"n": n, "iterations": n_iter, "best_iter": run.best_iter, "threshold": threshold,
                       "confidence": confidence, "max_iters": max_iters})
