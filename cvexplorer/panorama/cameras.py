"""Cameras of a turning camera: rays, the ray residual that bundle adjustment minimises, the field of
view, the surface to draw on, and where each image's outline lands on that surface.

A pixel x of image i is the ray r = R_i K_i⁻¹ x (normalised), as in OpenCV. Bundle adjustment
(OpenCV's ``BundleAdjusterRay``) minimises, over every inlier match of every trusted pair,

    E = Σ ‖√(f_i f_j) · (r_i − r_j)‖²

(the chord between the two rays, scaled to pixels at the focal length), with K's principal point at
the image centre. :func:`ray_residuals` reports √(E / matches) and the mean angle between the rays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .model import Camera

__all__ = ["RayMatches", "ray_matches", "ray_residuals", "ray_residual_deg", "orthonormal", "field_of_view_deg",
           "choose_surface", "face_the_middle", "SurfaceOutlines", "surface_outlines"]


@dataclass(frozen=True)
class RayMatches:
    """The inlier matches of the trusted pairs as arrays: pair (i, j) per row of ``pairs`` and the
    matched pixel positions ``a`` (in image i) and ``b`` (in image j), one row per match."""

    i: np.ndarray
    j: np.ndarray
    a: np.ndarray
    b: np.ndarray


def ray_matches(pts, data, kept: Sequence[int], conf_thresh: float) -> RayMatches:
    """Gather the inliers of the pairs bundle adjustment uses (confidence above ``conf_thresh``),
    renumbered to positions in ``kept``."""
    pos = {g: k for k, g in enumerate(kept)}
    ii, jj, aa, bb = [], [], [], []
    for (i, j), p in data.items():
        if i not in pos or j not in pos or p.confidence <= conf_thresh or p.H is None:
            continue
        sel = p.idx[p.inliers]
        ii.append(np.full(len(sel), pos[i]))
        jj.append(np.full(len(sel), pos[j]))
        aa.append(pts[i][sel[:, 0]])
        bb.append(pts[j][sel[:, 1]])
    if not ii:
        z = np.zeros(0, np.int64)
        return RayMatches(z, z, np.zeros((0, 2)), np.zeros((0, 2)))
    return RayMatches(np.concatenate(ii), np.concatenate(jj), np.concatenate(aa).astype(np.float64),
                      np.concatenate(bb).astype(np.float64))


def _rays(pts: np.ndarray, cams, idx: np.ndarray) -> np.ndarray:
    """Unit rays R K⁻¹ x of pixels ``pts`` of the images ``idx`` (vectorised over matches)."""
    f = np.array([c.focal for c in cams])[idx]
    px = np.array([c.ppx for c in cams])[idx]
    py = np.array([c.ppy for c in cams])[idx]
    asp = np.array([getattr(c, "aspect", 1.0) for c in cams])[idx]
    k = np.stack([(pts[:, 0] - px) / f, (pts[:, 1] - py) / (f * asp), np.ones(len(pts))], axis=1)
    R = np.stack([np.asarray(c.R, np.float64) for c in cams])[idx]
    r = np.einsum("nij,nj->ni", R, k)
    return r / np.linalg.norm(r, axis=1, keepdims=True)


def ray_residuals(rm: RayMatches, cams) -> tuple[float, float]:
    """(RMS of √(f_i f_j)·|r_i − r_j| in px — bundle adjustment's objective —, mean angle in degrees).

    >>> cam = Camera(500.0, 100.0, 100.0, np.eye(3))
    >>> rm = RayMatches(np.array([0]), np.array([1]), np.array([[100.0, 100.0]]), np.array([[100.0, 100.0]]))
    >>> ray_residuals(rm, [cam, cam])
    (0.0, 0.0)
    """
    if not len(rm.i):
        return float("nan"), float("nan")
    ra, rb = _rays(rm.a, cams, rm.i), _rays(rm.b, cams, rm.j)
    f = np.array([c.focal for c in cams])
    chord = np.linalg.norm(ra - rb, axis=1) * np.sqrt(f[rm.i] * f[rm.j])
    ang = np.degrees(2 * np.arcsin(np.clip(np.linalg.norm(ra - rb, axis=1) / 2, 0, 1)))
    return float(np.sqrt(np.mean(chord ** 2))), float(ang.mean())


def ray_residual_deg(rm: RayMatches, cams) -> float:
    """Mean angle (degrees) between the rays of matched inliers: 0 for perfect cameras."""
    return ray_residuals(rm, cams)[1]


def orthonormal(R: np.ndarray) -> np.ndarray:
    """The rotation nearest to ``R`` (SVD, U Vᵀ, sign fixed), as bundle adjustment starts from.

    OpenCV's homography-based estimator chains K⁻¹ H K products, which are rotations only
    approximately; the adjuster replaces each by its nearest rotation before its first step.

    >>> np.allclose(orthonormal(2 * np.eye(3)), np.eye(3))
    True
    """
    u, _, vt = np.linalg.svd(np.asarray(R, np.float64))
    r = u @ vt
    return -r if np.linalg.det(r) < 0 else r


def _headings(rotations) -> np.ndarray:
    """The heading (yaw, radians in [0, 2π)) of each camera's optical axis in the common frame."""
    z = np.stack([np.asarray(r, np.float64)[:, 2] for r in rotations])
    return np.mod(np.arctan2(z[:, 0], z[:, 2]), 2 * math.pi)


def face_the_middle(rotations: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The rotations turned about the vertical axis so that the widest gap between headings lies
    behind the viewer: the sweep's middle then faces forward, and no image straddles the ±180° edge
    of a cylinder or sphere (where the warper would cut it in two).

    >>> import math
    >>> def yaw(a):
    ...     c, s = math.cos(a), math.sin(a)
    ...     return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    >>> out = face_the_middle([yaw(math.radians(d)) for d in (150, 170, 190)])
    >>> [round(math.degrees(math.atan2(r[0, 2], r[2, 2]))) for r in out]
    [-20, 0, 20]
    """
    if len(rotations) < 2:
        return [np.asarray(r, np.float64) for r in rotations]
    heads = _headings(rotations)
    order = np.sort(heads)
    gaps = np.diff(np.r_[order, order[0] + 2 * math.pi])
    k = int(np.argmax(gaps))
    centre = order[k] + gaps[k] / 2  # the middle of the widest gap goes to π (behind)
    d = math.pi - centre
    c, s = math.cos(d), math.sin(d)
    turn = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return [turn @ np.asarray(r, np.float64) for r in rotations]


def field_of_view_deg(cameras: Sequence[Camera], widths: Sequence[int]) -> float:
    """The horizontal angle the set spans: the spread of the optical axes' headings plus one image's view.

    >>> cam = Camera(500.0, 300.0, 200.0, np.eye(3))
    >>> round(field_of_view_deg([cam], [600]), 1)
    61.9
    """
    heads = np.sort(_headings([c.R for c in cameras]))
    if len(heads) > 1:  # the smallest arc holding every heading: 2π minus the widest gap between them
        gaps = np.diff(np.r_[heads, heads[0] + 2 * math.pi])
        spread = math.degrees(2 * math.pi - gaps.max())
    else:
        spread = 0.0
    one = max(math.degrees(2 * math.atan(w / (2 * c.focal))) for c, w in zip(cameras, widths))
    return min(360.0, spread + one)


def choose_surface(fov_deg: float) -> str:
    """A sensible surface for a sweep: a plane up to ~100°, a cylinder to ~200°, then a sphere.

    >>> choose_surface(60), choose_surface(150), choose_surface(300)
    ('plane', 'cylindrical', 'spherical')
    """
    return "plane" if fov_deg < 100 else "cylindrical" if fov_deg < 200 else "spherical"


@dataclass(frozen=True)
class SurfaceOutlines:
    """Each image's border on a surface, in pixels at the focal length f (x right, y down).

    ``polygons[k]``: (m, 2) outline (NaN rows where a border point has no place on the surface);
    ``behind[k]``: part of image k's border looks away from the plane (its rays never meet it: the
    corners fly to infinity); ``extent``: (x0, y0, x1, y1) of the finite outline points.
    """

    surface: str
    polygons: tuple[np.ndarray, ...]
    behind: tuple[bool, ...]
    extent: tuple[float, float, float, float]

    def segments(self, k: int, *, scale: float = 1.0) -> np.ndarray:
        """Image k's closed outline as line segments (x0, y0, x1, y1), those with a NaN end left out,
        shifted so the extent starts at (0, 0) and multiplied by ``scale`` (a drawing's size)."""
        p = (self.polygons[k] - [self.extent[0], self.extent[1]]) * scale
        seg = np.concatenate([p, np.roll(p, -1, axis=0)], axis=1)
        return seg[np.isfinite(seg).all(axis=1)]


def surface_outlines(cameras: Sequence[Camera], sizes: Sequence[tuple[int, int]], surface: str, *,
                     samples: int = 24, max_plane: float = 8.0) -> SurfaceOutlines:
    """Where each image's border lands on ``surface`` (plane, cylindrical or spherical).

    The plane is z = 1 of the common frame (which faces the sweep's middle: :func:`face_the_middle`): a ray (X, Y, Z) meets it at
    f·(X/Z, Y/Z) — when Z ≤ 0 it never does, and as Z → 0 the point runs off to infinity. Plane points
    farther than ``max_plane`` focal lengths are clipped (NaN) so a drawing stays readable. The
    cylinder maps a ray to f·(atan2(X, Z), Y/√(X²+Z²)); the sphere to f·(atan2(X, Z), asin(Y)).

    >>> cams = [Camera(500.0, 320.0, 240.0, np.eye(3))]
    >>> o = surface_outlines(cams, [(640, 480)], "plane")
    >>> o.behind, [round(v) for v in o.extent]
    ((False,), [-320, -240, 320, 240])
    """
    if surface not in ("plane", "cylindrical", "spherical"):
        raise ValueError(f"surface must be plane, cylindrical or spherical, not {surface!r}.")
    f = float(np.median([c.focal for c in cameras]))
    polys, behind = [], []
    t = np.linspace(0, 1, samples, endpoint=False)
    for c, (w, h) in zip(cameras, sizes):
        border = np.concatenate([np.c_[t * w, np.zeros_like(t)], np.c_[np.full_like(t, w), t * h],
                                 np.c_[(1 - t) * w, np.full_like(t, h)], np.c_[np.zeros_like(t), (1 - t) * h]])
        k = np.c_[(border[:, 0] - c.ppx) / c.focal, (border[:, 1] - c.ppy) / c.focal, np.ones(len(border))]
        r = k @ np.asarray(c.R, np.float64).T  # rays in the common frame (z: the sweep's middle, y: down)
        r /= np.linalg.norm(r, axis=1, keepdims=True)
        X, Y, Z = r[:, 0], r[:, 1], r[:, 2]
        if surface == "plane":
            with np.errstate(divide="ignore", invalid="ignore"):
                p = f * np.c_[X / Z, Y / Z]
            bad = (Z <= 1e-6) | (np.abs(p) > max_plane * f).any(axis=1)
            p[bad] = np.nan
            behind.append(bool(bad.any()))
        else:
            theta = np.arctan2(X, Z)
            v = Y / np.sqrt(X ** 2 + Z ** 2) if surface == "cylindrical" else np.arcsin(np.clip(Y, -1, 1))
            p = f * np.c_[theta, v]
            behind.append(False)
        polys.append(p)
    finite = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in polys]) if polys else np.zeros((0, 2))
    ext = ((float(finite[:, 0].min()), float(finite[:, 1].min()), float(finite[:, 0].max()), float(finite[:, 1].max()))
           if len(finite) else (0.0, 0.0, 1.0, 1.0))
    return SurfaceOutlines(surface, tuple(polys), tuple(behind), ext)
