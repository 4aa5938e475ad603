"""Blending warped images into one mosaic: the one home for blending in cvexplorer.

Two roads, one module:

- :func:`blend_warped` — the planar lesson's own none / feather / multi-band (Burt & Adelson 1983)
  blending of images already warped into one frame, with the evidence (coverage, labels, seams);
- :func:`compose` — the panorama pipeline's composition with OpenCV's ``cv2.detail`` building blocks,
  as OpenCV's own stitcher does: block gain compensation for exposure, a graph cut through the
  overlaps for seams (so a moving person is taken whole from one image rather than ghosted), and
  multi-band blending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
from typing import Callable, Sequence

import numpy as np

__all__ = ["BLENDS", "BlendResult", "blend_warped", "thick_seams", "ComposeResult", "compose", "WARPERS",
           "MAX_COMPOSE_PIXELS", "SEAM_FINDERS"]

BLENDS = ("feather", "multiband", "none")


@dataclass(frozen=True)
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


def _laplacian(img: np.ndarray, levels: int) -> list:
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    g = [img]
    for _ in range(levels):
        g.append(cv2.pyrDown(g[-1]))
    lp = [g[i] - cv2.pyrUp(g[i + 1], dstsize=(g[i].shape[1], g[i].shape[0])) for i in range(levels)]
    lp.append(g[-1])
    return lp


def _gaussian(img: np.ndarray, levels: int) -> list:
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    g = [img]
    for _ in range(levels):
        g.append(cv2.pyrDown(g[-1]))
    return g


def thick_seams(seams: np.ndarray, width: int = 1) -> np.ndarray:
    """The seam map grown to about ``width`` pixels on each side (so a seam reads on a projector).

    >>> m = np.zeros((5, 5), bool); m[2, 2] = True
    >>> int(thick_seams(m, 1).sum())
    9
    """
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    s = np.asarray(seams, bool)
    if width < 1:
        return s.copy()
    return cv2.dilate(s.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=int(width)) > 0


def blend_warped(crops: Sequence[tuple[int, int, int, int]], warped: Sequence[np.ndarray],
                 masks: Sequence[np.ndarray], *, padded: tuple[int, int], size: tuple[int, int],
                 blend: str = "feather", levels: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Blend images already warped into one frame: ``(image, coverage, labels, seams)`` of ``size`` (w, h).

    Each warped image ``warped[i]`` (with its footprint ``masks[i]``) covers the box ``crops[i]``
    = (x0, y0, x1, y1) of a canvas ``padded`` (w, h) that is a multiple of ``2**levels`` (the
    pyramid's grid). ``blend``: ``"none"`` (later images paint over earlier ones: hard
    seams), ``"feather"`` (weights grow with the distance to each image's border) or
    ``"multiband"`` (Burt & Adelson 1983: each Laplacian band blended with the Gaussian-blurred
    choice mask of its level, so low frequencies cross-fade widely and fine detail switches sharply).
    """
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    if blend not in BLENDS:
        raise ValueError(f"unknown blend {blend!r}; choose one of {', '.join(BLENDS)}")
    Wp, Hp = padded
    W, Hh = size
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
    return out, coverage, labels, seams


# -- the panorama pipeline's composition (cv2.detail) -----------------------------------------
#: Surface names -> cv2.PyRotationWarper types.
WARPERS = {"plane": "plane", "cylindrical": "cylindrical", "spherical": "spherical", "affine": "affine"}
#: Seam finders: a graph cut over colour differences (cv2.Stitcher's default), or dynamic programming
#: along the overlap (several times faster, nearly as good on a sweep).
SEAM_FINDERS = ("dp", "graphcut")


#: The largest panorama compose draws (pixels): beyond it a plane's corners are running off to infinity.
MAX_COMPOSE_PIXELS = 60_000_000


@dataclass(frozen=True)
class ComposeResult:
    """The panorama (RGB uint8) and its mask; per image the mean exposure gain, the corner and size
    on the surface (compose scale) and the seam mask (seam scale). ``preview``: the images on the
    surface at the seam scale, each pixel taken from the image the seam search chose, gains applied;
    ``labels``: that image's index per pixel (−1 where none)."""

    image: np.ndarray | None
    mask: np.ndarray | None
    gains: tuple[float, ...]
    corners: tuple[tuple[int, int], ...]
    sizes: tuple[tuple[int, int], ...]
    seams: tuple[np.ndarray, ...]
    preview: np.ndarray | None = None
    labels: np.ndarray | None = None


def _scaled_K(cam, s: float) -> np.ndarray:  # noqa: N802
    return np.array([[cam.focal * s, 0, cam.ppx * s], [0, cam.focal * cam.aspect * s, cam.ppy * s], [0, 0, 1]],
                    np.float32)


def compose(images: Sequence[np.ndarray], cameras: Sequence, surface: str, *, work_scale: float,
            seam_megapix: float = 0.1, compose_megapix: float = -1.0, exposure: bool = True,
            seam_finder: str = "dp", cancel: Callable[[], bool] | None = None,
            on_stage: Callable[[str, float], None] | None = None) -> ComposeResult:
    """Warp RGB ``images`` with their ``cameras`` (``cv2.detail.CameraParams`` estimated at ``work_scale``)
    onto ``surface`` and blend them. Returns the panorama (RGB uint8) and each stage's evidence."""
    import cv2  # lazy: `import cvexplorer` stays free of OpenCV

    if surface not in WARPERS:
        raise ValueError(f"surface must be one of {', '.join(WARPERS)}, not {surface!r}.")
    h0, w0 = images[0].shape[:2]
    seam_scale = min(1.0, math.sqrt(seam_megapix * 1e6 / (h0 * w0)))
    seam_aspect = seam_scale / work_scale
    focal = float(np.median([c.focal for c in cameras]))
    warper = cv2.PyRotationWarper(WARPERS[surface], focal * seam_aspect)
    _check_canvas(warper, [(int(round(im.shape[1] * seam_scale)), int(round(im.shape[0] * seam_scale)))
                           for im in images], [_scaled_K(c, seam_aspect) for c in cameras], cameras, surface,
                  MAX_COMPOSE_PIXELS * seam_scale ** 2)
    corners, warped, masks = [], [], []
    for img, cam in zip(images, cameras):
        small = cv2.resize(img, None, fx=seam_scale, fy=seam_scale, interpolation=cv2.INTER_LINEAR_EXACT)
        K = _scaled_K(cam, seam_aspect)
        corner, wimg = warper.warp(small, K, cam.R, cv2.INTER_LINEAR, cv2.BORDER_REFLECT)
        _, wmask = warper.warp(np.full(small.shape[:2], 255, np.uint8), K, cam.R, cv2.INTER_NEAREST,
                               cv2.BORDER_CONSTANT)
        corners.append(tuple(int(v) for v in corner))
        warped.append(wimg)
        masks.append(wmask)
    if on_stage:
        on_stage("exposure", 0.15)
    comp = cv2.detail.ExposureCompensator_createDefault(
        cv2.detail.ExposureCompensator_GAIN_BLOCKS if exposure else cv2.detail.ExposureCompensator_NO)
    comp.feed(corners=corners, images=warped, masks=masks)
    gains = tuple(float(np.mean(g)) for g in comp.getMatGains()) if exposure else tuple(1.0 for _ in images)
    if on_stage:
        on_stage("seams", 0.3)
    if seam_finder not in SEAM_FINDERS:
        raise ValueError(f"seam_finder must be one of {', '.join(SEAM_FINDERS)}, not {seam_finder!r}.")
    finder = (cv2.detail_GraphCutSeamFinder("COST_COLOR") if seam_finder == "graphcut"
              else cv2.detail_DpSeamFinder("COLOR_GRAD"))
    seams = finder.find([w.astype(np.float32) for w in warped], corners, masks)
    seams = [cv2.UMat.get(s) if isinstance(s, cv2.UMat) else np.asarray(s) for s in seams]
    preview, labels = _preview(comp, corners, warped, seams)
    if on_stage:
        on_stage("blending", 0.45)
    compose_scale = 1.0 if compose_megapix <= 0 else min(1.0, math.sqrt(compose_megapix * 1e6 / (h0 * w0)))
    aspect = compose_scale / work_scale
    warper = cv2.PyRotationWarper(WARPERS[surface], focal * aspect)
    rois, Ks = [], []
    for img, cam in zip(images, cameras):
        K = _scaled_K(cam, aspect)
        h, w = img.shape[:2]
        rois.append(warper.warpRoi((int(round(w * compose_scale)), int(round(h * compose_scale))), K, cam.R))
        Ks.append(K)
    full_corners = [(r[0], r[1]) for r in rois]
    sizes = [(r[2], r[3]) for r in rois]
    dst = cv2.detail.resultRoi(corners=full_corners, sizes=sizes)
    _check_canvas(None, sizes, Ks, cameras, surface, MAX_COMPOSE_PIXELS, dst)
    blend_width = math.sqrt(dst[2] * dst[3]) * 5 / 100
    blender = cv2.detail_MultiBandBlender()
    blender.setNumBands(max(1, int(math.ceil(math.log(max(blend_width, 2.0)) / math.log(2.0)) - 1)))
    blender.prepare(dst)
    for k, (img, cam) in enumerate(zip(images, cameras)):
        if cancel is not None and cancel():
            raise ValueError("The panorama was cancelled.")
        src = img if compose_scale == 1.0 else cv2.resize(img, None, fx=compose_scale, fy=compose_scale,
                                                           interpolation=cv2.INTER_LINEAR_EXACT)
        corner, wimg = warper.warp(src, Ks[k], cam.R, cv2.INTER_LINEAR, cv2.BORDER_REFLECT)
        _, wmask = warper.warp(np.full(src.shape[:2], 255, np.uint8), Ks[k], cam.R, cv2.INTER_NEAREST,
                               cv2.BORDER_CONSTANT)
        comp.apply(k, corner, wimg, wmask)
        seam = cv2.dilate(seams[k], None)
        seam = cv2.resize(seam, (wmask.shape[1], wmask.shape[0]), interpolation=cv2.INTER_LINEAR_EXACT)
        blender.feed(wimg.astype(np.int16), cv2.bitwise_and(seam, wmask), corner)
        if on_stage:
            on_stage("blending", 0.45 + 0.55 * (k + 1) / len(images))
    result, result_mask = blender.blend(None, None)
    image = np.clip(result, 0, 255).astype(np.uint8) if result is not None else None
    return ComposeResult(image, result_mask, gains, tuple(full_corners), tuple((int(w), int(h)) for w, h in sizes),
                         tuple(seams), preview, labels)


def _check_canvas(warper, sizes, Ks, cameras, surface: str, limit: float, dst=None) -> None:
    """Refuse a canvas of more than ``limit`` pixels before drawing it (a plane's corners run off to
    infinity as a ray turns 90° from the plane's normal)."""
    import cv2  # lazy: `import cvexplorer` stays free of OpenCV

    if dst is None:
        rois = [warper.warpRoi(sz, K, cam.R) for sz, K, cam in zip(sizes, Ks, cameras)]
        if any(r[2] * r[3] > limit for r in rois):
            dst = max(rois, key=lambda r: r[2] * r[3])
        else:
            dst = cv2.detail.resultRoi(corners=[(r[0], r[1]) for r in rois], sizes=[(r[2], r[3]) for r in rois])
    if dst[2] * dst[3] > limit:
        raise ValueError(f"On a {surface} the images would cover {dst[2]:,} × {dst[3]:,} pixels: the outer images' "
                         "corners run off towards infinity. Choose a cylinder or a sphere for a wide sweep.")


def _preview(comp, corners, warped, seams) -> tuple[np.ndarray, np.ndarray]:
    """The seam-scale images pasted by their seam masks (gains applied), and who owns each pixel."""
    x0 = min(c[0] for c in corners)
    y0 = min(c[1] for c in corners)
    x1 = max(c[0] + w.shape[1] for c, w in zip(corners, warped))
    y1 = max(c[1] + w.shape[0] for c, w in zip(corners, warped))
    out = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    labels = np.full((y1 - y0, x1 - x0), -1, np.int16)
    for k, (c, w, s) in enumerate(zip(corners, warped, seams)):
        img = np.ascontiguousarray(w).copy()
        comp.apply(k, c, img, s)
        sel = np.asarray(s) > 0
        ys, xs = slice(c[1] - y0, c[1] - y0 + w.shape[0]), slice(c[0] - x0, c[0] - x0 + w.shape[1])
        out[ys, xs][sel] = img[sel]
        labels[ys, xs][sel] = k
    return out, labels
