"""Panoramas people shoot: a rotating camera, its focal length, bundle adjustment and a curved surface.

A planar homography chain cannot hold a wide sweep: past about 120° the corners of the outer images go
behind the camera. A panorama is instead modelled as one camera turning about its centre: every image
``i`` has a focal length f_i and a rotation R_i, and a pixel x of image i is the ray

    r = R_i K_i⁻¹ x,   K_i = [[f_i, 0, c_x], [0, f_i, c_y], [0, 0, 1]]

(R_i turns camera i's rays into the common frame, as in OpenCV), so two images are related by
H_ij = K_j R_jᵀ R_i K_i⁻¹. The stages (Brown & Lowe, "Automatic Panoramic
Image Stitching using Invariant Features", IJCV 2007; OpenCV's ``cv2.detail``, whose building blocks do
the work here) are, each with a typed result the panel can show:

1. features and the **match graph** (which pairs connect, their inliers and confidence; images outside
   the largest connected set are dropped, with the reason);
2. **focal length** from the pairwise homographies and **rotations** from a spanning tree of the graph;
3. **bundle adjustment** of focal and rotations by the ray residual (OpenCV's ``BundleAdjusterRay``,
   stepped one Levenberg–Marquardt iteration at a time; between steps the mean angle between matched rays
   is measured here, so the residual curve is ours and the optimiser is OpenCV's);
4. **wave correction**, which levels the horizon;
5. **warping** onto a plane, cylinder or sphere (``cv2.PyRotationWarper``);
6. **exposure compensation, seams and multi-band blending** (:mod:`cvexplorer.homography.blending`).

Flat documents and maps are better explained by an **affine** model (OpenCV's SCANS mode), chosen
automatically when it fits the matches as well as a homography.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .homography import blending

__all__ = ["PairMatch", "MatchGraph", "Camera", "Panorama", "SURFACES", "stitch_panorama", "ray_residual_deg",
           "field_of_view_deg", "choose_surface", "PanoramaError"]

SURFACES = ("plane", "cylindrical", "spherical", "affine")


class PanoramaError(ValueError):
    """The set cannot be stitched; the message names the image that broke the chain and why."""


@dataclass(frozen=True)
class PairMatch:
    """One edge of the match graph: images i and j, the RANSAC inliers and OpenCV's confidence."""

    i: int
    j: int
    inliers: int
    confidence: float


@dataclass(frozen=True)
class MatchGraph:
    n_images: int
    kept: tuple[int, ...]
    pairs: tuple[PairMatch, ...]
    dropped: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Camera:
    """One image's camera: focal length (px), principal point, and rotation R (camera rays → common frame)."""

    focal: float
    ppx: float
    ppy: float
    R: np.ndarray
    aspect: float = 1.0

    def K(self) -> np.ndarray:  # noqa: N802 - the usual name
        return np.array([[self.focal, 0, self.ppx], [0, self.focal * self.aspect, self.ppy], [0, 0, 1]], np.float64)


@dataclass(frozen=True)
class Panorama:
    """The result and the evidence of every stage (indices refer to the input list)."""

    image: np.ndarray | None
    mask: np.ndarray | None
    graph: MatchGraph
    cameras: tuple[Camera, ...]
    surface: str
    residuals_deg: tuple[float, ...]
    fov_deg: float
    gains: tuple[float, ...]
    corners: tuple[tuple[int, int], ...]
    sizes: tuple[tuple[int, int], ...]
    seams: tuple[np.ndarray, ...]
    work_scale: float
    timings: dict = field(default_factory=dict)

    @property
    def used(self) -> tuple[int, ...]:
        return self.graph.kept


def _cv2():
    import cv2  # lazy: `import cvexplorer` stays free of OpenCV

    return cv2


def _scale_for(shape, megapix: float) -> float:
    h, w = shape[:2]
    return 1.0 if megapix <= 0 else min(1.0, math.sqrt(megapix * 1e6 / (h * w)))


def _resize(img: np.ndarray, s: float) -> np.ndarray:
    if s == 1.0:
        return img
    cv2 = _cv2()
    return cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR_EXACT)


def ray_residual_deg(features, pairwise, cameras: Sequence, kept_pairs: Sequence[tuple[int, int]]) -> float:
    """Mean angle (degrees) between the rays of matched inlier keypoints, over the given pairs.

    With perfect cameras every match's two rays coincide; this is the quantity the ray bundle
    adjuster drives down.
    """
    n = len(features)
    total, count = 0.0, 0
    inv = [np.linalg.inv(_K(c)) for c in cameras]
    for i, j in kept_pairs:
        m = pairwise[i * n + j]
        if m.confidence <= 0 or not len(m.matches):
            continue
        mask = np.asarray(m.inliers_mask, bool).ravel()
        pairs = np.array([(d.queryIdx, d.trainIdx) for d in m.matches], np.int64)[mask[: len(m.matches)]]
        if not len(pairs):
            continue
        a = np.array([features[i].keypoints[q].pt for q in pairs[:, 0]], np.float64)
        b = np.array([features[j].keypoints[t].pt for t in pairs[:, 1]], np.float64)
        ra = _rays(a, inv[i], np.asarray(cameras[i].R, np.float64))
        rb = _rays(b, inv[j], np.asarray(cameras[j].R, np.float64))
        cos = np.clip(np.sum(ra * rb, axis=1), -1.0, 1.0)
        total += float(np.degrees(np.arccos(cos)).sum())
        count += len(cos)
    return total / count if count else float("nan")


def _K(cam) -> np.ndarray:  # noqa: N802
    return np.array([[cam.focal, 0, cam.ppx], [0, cam.focal * cam.aspect, cam.ppy], [0, 0, 1]], np.float64)


def _rays(pts: np.ndarray, k_inv: np.ndarray, r: np.ndarray) -> np.ndarray:
    h = np.c_[pts, np.ones(len(pts))] @ k_inv.T @ r.T  # OpenCV's R maps camera rays to the world: R K⁻¹ x
    return h / np.linalg.norm(h, axis=1, keepdims=True)


def field_of_view_deg(cameras: Sequence[Camera], widths: Sequence[int]) -> float:
    """The horizontal angle the set spans: the spread of the optical axes' headings plus one image's view.

    >>> cam = Camera(500.0, 300.0, 200.0, np.eye(3))
    >>> round(field_of_view_deg([cam], [600]), 1)
    61.9
    """
    heads = []
    for c in cameras:
        z = np.asarray(c.R, np.float64)[:, 2]  # the optical axis in the common frame
        heads.append(math.degrees(math.atan2(z[0], z[2])))
    heads = np.unwrap(np.radians(heads))
    spread = math.degrees(float(heads.max() - heads.min())) if len(heads) > 1 else 0.0
    one = max(math.degrees(2 * math.atan(w / (2 * c.focal))) for c, w in zip(cameras, widths))
    return spread + one


def choose_surface(fov_deg: float) -> str:
    """A sensible surface for a sweep: a plane up to ~100°, a cylinder to ~200°, then a sphere."""
    return "plane" if fov_deg < 100 else "cylindrical" if fov_deg < 200 else "spherical"


def _affine_fits(features, pairwise, n: int) -> bool:
    """True when an affine map explains every strong pair's matches nearly as well as a homography."""
    cv2 = _cv2()
    strong = 0
    for i in range(n):
        for j in range(i + 1, n):
            m = pairwise[i * n + j]
            if m.confidence < 1.0 or len(m.matches) < 12:
                continue
            a = np.float32([features[i].keypoints[d.queryIdx].pt for d in m.matches])
            b = np.float32([features[j].keypoints[d.trainIdx].pt for d in m.matches])
            _, hin = cv2.findHomography(a, b, cv2.RANSAC, 3.0)
            _, ain = cv2.estimateAffine2D(a, b, method=cv2.RANSAC, ransacReprojThreshold=3.0)
            if hin is None or ain is None or ain.sum() < 0.95 * hin.sum():
                return False
            strong += 1
    return strong > 0


def stitch_panorama(images: Sequence[np.ndarray], *, surface: str = "auto", model: str = "auto",
                    work_megapix: float = 0.6, seam_megapix: float = 0.1, compose_megapix: float = -1.0,
                    conf_thresh: float = 1.0, match_range: int | None = None, wave: bool = True,
                    max_ba_iterations: int = 60, feature: str = "sift", progress: Callable[[str, float], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> Panorama:
    """Stitch RGB ``images`` (any order for small sets; shooting order for large ones) into a panorama.

    ``surface``: plane, cylindrical, spherical or auto (by the field of view). ``model``: rotation
    (a turning camera), affine (flat scans) or auto. ``match_range``: match each image only with the
    next ``match_range`` ones (default: all pairs up to 8 images, else 3 neighbours each side).
    Raises :class:`PanoramaError` naming the image that broke the chain.
    """
    cv2 = _cv2()
    n = len(images)
    if n < 2:
        raise PanoramaError(f"A panorama needs at least two images, not {n}.")
    if surface not in ("auto",) + SURFACES or model not in ("auto", "rotation", "affine"):
        raise ValueError(f"surface must be auto or one of {', '.join(SURFACES)}; model auto, rotation or affine.")
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def stage(name: str, frac: float) -> None:
        nonlocal t
        if cancel is not None and cancel():
            raise PanoramaError("The panorama was cancelled.")
        now = time.perf_counter()
        if timings or name != "features":
            timings[_last[0]] = (now - t) * 1e3
        _last[0] = name
        t = now
        if progress is not None:
            progress(name, frac)

    _last = ["features"]
    stage("features", 0.0)
    work_scale = _scale_for(images[0].shape, work_megapix)
    finder = cv2.SIFT_create() if feature == "sift" else cv2.ORB.create()
    features = [cv2.detail.computeImageFeatures2(finder, _resize(np.asarray(im), work_scale)) for im in images]
    for k, f in enumerate(features):
        if len(f.keypoints) < 20:
            raise PanoramaError(f"Image {k + 1} has almost no texture ({len(f.keypoints)} features): nothing to match.")
    stage("matching", 0.15)
    rng = match_range if match_range is not None else (0 if n <= 8 else 3)
    matcher = (cv2.detail_BestOf2NearestRangeMatcher(rng, False, 0.3) if rng else
               cv2.detail_BestOf2NearestMatcher(False, 0.3))
    pairwise = matcher.apply2(features)
    matcher.collectGarbage()
    kept = [int(i) for i in np.ravel(cv2.detail.leaveBiggestComponent(features, pairwise, conf_thresh))]
    dropped = tuple((i, "it shares too few reliable matches with the others") for i in range(n) if i not in kept)
    if len(kept) < 2:
        raise PanoramaError(f"No two images overlap reliably (image {dropped[0][0] + 1} breaks the chain first); "
                            "shoot with about a third of each frame overlapping.")
    if len(kept) < n:  # OpenCV's Python binding does not shrink the lists: match the kept set again
        features = [features[i] for i in kept]
        pairwise = matcher.apply2(features)
    m = len(kept)
    edges = tuple(PairMatch(kept[i], kept[j], int(pairwise[i * m + j].num_inliers),
                            float(pairwise[i * m + j].confidence))
                  for i in range(m) for j in range(i + 1, m) if pairwise[i * m + j].confidence >= conf_thresh)
    graph = MatchGraph(n, tuple(kept), edges, dropped)
    edge_idx = [(kept.index(e.i), kept.index(e.j)) for e in edges]

    stage("cameras", 0.3)
    affine = model == "affine" or (model == "auto" and surface in ("auto", "affine") and
                                   _affine_fits(features, pairwise, m))
    estimator = cv2.detail_AffineBasedEstimator() if affine else cv2.detail_HomographyBasedEstimator()
    ok, cams = estimator.apply(features, pairwise, None)
    if not ok:
        raise PanoramaError("The camera rotations could not be estimated from these matches.")
    for c in cams:
        c.R = c.R.astype(np.float32)

    stage("bundle adjustment", 0.4)
    adjuster = cv2.detail_BundleAdjusterAffinePartial() if affine else cv2.detail_BundleAdjusterRay()
    adjuster.setConfThresh(conf_thresh)
    residuals = [] if affine else [ray_residual_deg(features, pairwise, cams, edge_idx)]
    adjuster.setTermCriteria((cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 1, 1e-9))
    for _ in range(max_ba_iterations if not affine else 1):
        ok, new = adjuster.apply(features, pairwise, cams)
        if not ok:
            break
        cams = new
        if affine:
            break
        residuals.append(ray_residual_deg(features, pairwise, cams, edge_idx))
        if len(residuals) > 2 and residuals[-2] - residuals[-1] < 1e-4 * max(residuals[-2], 1e-9):
            break
        if cancel is not None and cancel():
            raise PanoramaError("The panorama was cancelled.")
    if not affine and wave:
        rmats = cv2.detail.waveCorrect([np.copy(c.R) for c in cams], cv2.detail.WAVE_CORRECT_HORIZ)
        for c, r in zip(cams, rmats):
            c.R = r
    cameras = tuple(Camera(float(c.focal), float(c.ppx), float(c.ppy), np.array(c.R, np.float64), float(c.aspect))
                    for c in cams)
    widths = [int(images[i].shape[1] * work_scale) for i in kept]
    fov = field_of_view_deg(cameras, widths) if not affine else 0.0
    chosen = "affine" if affine else (choose_surface(fov) if surface in ("auto", "affine") else surface)

    stage("warping", 0.55)
    result = blending.compose(
        [np.asarray(images[i]) for i in kept], cams, chosen, work_scale=work_scale,
        seam_megapix=seam_megapix, compose_megapix=compose_megapix, exposure=not affine,
        cancel=cancel, on_stage=lambda name, frac: stage(name, 0.55 + 0.45 * frac))
    stage("done", 1.0)
    return Panorama(result.image, result.mask, graph, cameras, chosen, tuple(residuals), fov, result.gains,
                    result.corners, result.sizes, result.seams, work_scale, timings)
