"""stitch_panorama: the stages in order, each timed, each result kept for the panel."""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np

from ..homography import blending
from .cameras import choose_surface, face_the_middle, field_of_view_deg, orthonormal, ray_matches, ray_residuals, surface_outlines
from .matching import affine_fits, candidate_pairs, detect_features, match_pairs, matches_info
from .model import SURFACES, Camera, MatchGraph, PairMatch, Panorama, PanoramaError
from .views import valid_rectangle

__all__ = ["stitch_panorama", "STAGES"]

#: The stages, in order, as ``progress`` names them.
STAGES = ("features", "matching", "cameras", "bundle adjustment", "warping", "exposure", "seams", "blending")


def _cv2():
    import cv2  # lazy: `import cvexplorer` stays free of OpenCV

    return cv2


def _scale_for(shape, megapix: float) -> float:
    h, w = shape[:2]
    return 1.0 if megapix <= 0 else min(1.0, math.sqrt(megapix * 1e6 / (h * w)))


def _why_dropped(k: int, data, conf_thresh: float) -> str:
    best = max((p for p in data.values() if k in (p.i, p.j)), key=lambda p: p.confidence, default=None)
    if best is None:
        return "it was matched with no other image"
    other = best.j if best.i == k else best.i
    return (f"its best partner, image {other + 1}, shares only {best.n_inliers} RANSAC inliers of {len(best.idx)} "
            f"matches (confidence {best.confidence:.2f}, needs {conf_thresh:g})")


def stitch_panorama(images: Sequence[np.ndarray], *, surface: str = "auto", model: str = "auto",
                    work_megapix: float = 0.6, seam_megapix: float = 0.1, compose_megapix: float = -1.0,
                    conf_thresh: float = 1.0, match_range: int | None = None, wave: bool = True,
                    max_ba_iterations: int = 30, ba_tolerance: float = 1e-3, feature: str = "orb",
                    n_features: int = 1000, progress: Callable[[str, float], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> Panorama:
    """Stitch RGB ``images`` (any order for small sets; shooting order for large ones) into a panorama.

    ``surface``: plane, cylindrical, spherical or auto (by the field of view). ``model``: rotation
    (a turning camera), affine (flat scans) or auto. ``match_range``: match each image only with the
    next ``match_range`` ones and the last with the first (default: all pairs up to 6 images, else 2).
    Bundle adjustment is OpenCV's, stepped one Levenberg–Marquardt iteration at a time until an
    iteration improves its objective by less than ``ba_tolerance`` (relative), so the residual after
    each iteration is on record. ``progress(stage, fraction)`` is called as each stage starts;
    ``cancel()`` is asked between stages. Raises :class:`PanoramaError` naming the image that broke
    the chain.

    >>> import numpy as np
    >>> stitch_panorama([np.zeros((50, 50, 3), np.uint8)])
    Traceback (most recent call last):
    ...
    cvexplorer.panorama.PanoramaError: A panorama needs at least two images, not 1.
    """
    cv2 = _cv2()
    n = len(images)
    if n < 2:
        raise PanoramaError(f"A panorama needs at least two images, not {n}.")
    if surface not in ("auto",) + SURFACES or model not in ("auto", "rotation", "affine"):
        raise ValueError(f"surface must be auto or one of {', '.join(SURFACES)}; model auto, rotation or affine.")
    timings: dict[str, float] = {}
    clock = {"name": "", "t": time.perf_counter()}

    def stage(name: str, frac: float) -> None:
        if cancel is not None and cancel():
            raise PanoramaError("The panorama was cancelled.")
        now = time.perf_counter()
        if clock["name"]:
            timings[clock["name"]] = timings.get(clock["name"], 0.0) + (now - clock["t"]) * 1e3
        clock["name"], clock["t"] = name, now
        if progress is not None and name != "done":
            progress(name, frac)

    stage("features", 0.0)
    work_scale = _scale_for(images[0].shape, work_megapix)
    work = [cv2.resize(np.asarray(im)[..., :3], None, fx=work_scale, fy=work_scale,
                       interpolation=cv2.INTER_LINEAR_EXACT) if work_scale != 1.0 else np.asarray(im)[..., :3]
            for im in images]
    features, pts, desc = detect_features(work, feature, n_features)
    for k, p in enumerate(pts):
        if len(p) < 20:
            raise PanoramaError(f"Image {k + 1} has almost no texture ({len(p)} features): nothing to match.")
    sizes = [(im.shape[1], im.shape[0]) for im in work]

    stage("matching", 0.1)
    rng = match_range if match_range is not None else (0 if n <= 6 else 2)
    pairs = candidate_pairs(n, rng)
    affine = model == "affine"
    data = match_pairs(pts, desc, sizes, pairs, affine=affine, cancel=cancel)
    if model == "auto" and surface in ("auto", "affine") and affine_fits(pts, data):
        affine = True
        data = match_pairs(pts, desc, sizes, pairs, affine=True, cancel=cancel)
    pairwise = matches_info(n, data)
    kept = sorted(int(i) for i in np.ravel(cv2.detail.leaveBiggestComponent(features, pairwise, conf_thresh)))
    dropped = tuple((i, _why_dropped(i, data, conf_thresh)) for i in range(n) if i not in kept)
    if len(kept) < 2:
        raise PanoramaError(f"No two images overlap reliably: image 1 — {_why_dropped(0, data, conf_thresh)}. "
                            "Shoot with about a third of each frame overlapping.")
    edges = tuple(PairMatch(i, j, p.n_inliers, p.confidence, len(p.idx)) for (i, j), p in sorted(data.items())
                  if i in kept and j in kept and p.confidence >= conf_thresh)
    graph = MatchGraph(n, tuple(kept), edges, dropped, tuple(len(p) for p in pts))
    feats = [features[i] for i in kept]
    for k, f in enumerate(feats):
        f.img_idx = k
    pairwise = matches_info(n, data, kept)
    rays = ray_matches(pts, data, kept, conf_thresh)

    stage("cameras", 0.25)
    estimator = cv2.detail_AffineBasedEstimator() if affine else cv2.detail_HomographyBasedEstimator()
    ok, cams = estimator.apply(feats, pairwise, None)
    if not ok or any(not np.isfinite(c.focal) or c.focal <= 0 for c in cams):
        raise PanoramaError("The camera rotations could not be estimated from these matches.")
    for c in cams:
        c.R = (orthonormal(c.R) if not affine else np.asarray(c.R, np.float64)).astype(np.float32)

    stage("bundle adjustment", 0.3)
    adjuster = cv2.detail_BundleAdjusterAffinePartial() if affine else cv2.detail_BundleAdjusterRay()
    adjuster.setConfThresh(conf_thresh)
    res_px, res_deg = [], []
    if affine:
        ok, new = adjuster.apply(feats, pairwise, cams)
        cams = new if ok else cams
    else:
        first = ray_residuals(rays, cams)
        res_px.append(first[0])
        res_deg.append(first[1])
        adjuster.setTermCriteria((cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 1, 1e-12))
        for _ in range(max_ba_iterations):
            ok, new = adjuster.apply(feats, pairwise, cams)
            if not ok:
                break
            cams = new
            px, deg = ray_residuals(rays, cams)
            res_px.append(px)
            res_deg.append(deg)
            if res_px[-2] - px < ba_tolerance * max(res_px[-2], 1e-12):
                break
            if cancel is not None and cancel():
                raise PanoramaError("The panorama was cancelled.")
    if not affine and wave and len(cams) > 1:
        rmats = cv2.detail.waveCorrect([np.copy(c.R) for c in cams], cv2.detail.WAVE_CORRECT_HORIZ)
        for c, r in zip(cams, rmats):
            c.R = r
    if not affine and len(cams) > 1:
        for c, r in zip(cams, face_the_middle([c.R for c in cams])):
            c.R = r.astype(np.float32)
    cameras = tuple(Camera(float(c.focal), float(c.ppx), float(c.ppy), np.array(c.R, np.float64), float(c.aspect))
                    for c in cams)
    fov = field_of_view_deg(cameras, [sizes[i][0] for i in kept]) if not affine else 0.0
    chosen = "affine" if affine else (choose_surface(fov) if surface in ("auto", "affine") else surface)

    if chosen == "plane":
        out = surface_outlines(cameras, [sizes[i] for i in kept], "plane")
        far = [kept[k] + 1 for k, b in enumerate(out.behind) if b]
        if far:
            raise PanoramaError(f"A plane cannot hold this {fov:.0f}° sweep: image {far[0]}'s corners look away from "
                                "the plane (their rays never meet it, the picture would run off to infinity). "
                                "Choose a cylinder or a sphere.")
    stage("warping", 0.45)
    try:
        result = blending.compose(
            [np.asarray(images[i])[..., :3] for i in kept], cams, chosen, work_scale=work_scale,
            seam_megapix=seam_megapix, compose_megapix=compose_megapix, exposure=not affine,
            cancel=cancel, on_stage=lambda name, frac: stage(name, 0.45 + 0.55 * frac))
    except PanoramaError:
        raise
    except ValueError as exc:  # compose says why in a sentence (a canvas too big, or cancelled)
        raise PanoramaError(str(exc)) from exc
    except (cv2.error, MemoryError) as exc:
        raise PanoramaError(f"The images cannot be drawn on a {chosen} surface: {exc}") from exc
    stage("done", 1.0)
    crop = valid_rectangle(result.mask) if result.mask is not None else None
    return Panorama(result.image, result.mask, graph, cameras, chosen, tuple(res_deg), fov, result.gains,
                    result.corners, result.sizes, result.seams, work_scale, timings, tuple(res_px),
                    result.preview, result.labels, crop, "affine" if affine else "rotation")
