"""The geometry of one homography: projecting points, the normalised DLT, transfer errors.

Conventions: points are (N, 2) float arrays of pixel coordinates (x right, y down); H maps image-1
points to image-2 points, ``x2 ~ H @ [x1, y1, 1]``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DegenerateSampleError", "project", "dlt", "reprojection_error", "grid_points"]


class DegenerateSampleError(ValueError):
    """The correspondences do not determine a homography (too few, repeated or collinear points)."""


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


def grid_points(w: int, h: int, n: int = 20) -> np.ndarray:
    """An n × n grid of points spanning a w × h image (for reprojection checks)."""
    xs = np.linspace(0, w - 1, n)
    ys = np.linspace(0, h - 1, n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)
