"""Blending: the one home for putting warped images together (exposure, seams, multi-band blending).

The panorama pipeline (:mod:`cvexplorer.panorama`) composes its images here with OpenCV's
``cv2.detail`` building blocks, as OpenCV's own stitcher does:

- exposure: block gain compensation (each image's brightness matched to its neighbours' in the overlaps);
- seams: a graph cut through the overlaps at a low resolution (the cut follows colour edges, so a moving
  person is taken whole from one image rather than ghosted);
- blending: multi-band (Burt & Adelson 1983): low frequencies blend over a wide band, details over a
  narrow one, so seams vanish without blurring edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

__all__ = ["ComposeResult", "compose", "WARPERS"]

#: Surface names -> cv2.PyRotationWarper types.
WARPERS = {"plane": "plane", "cylindrical": "cylindrical", "spherical": "spherical", "affine": "affine"}


@dataclass(frozen=True)
class ComposeResult:
    image: np.ndarray | None
    mask: np.ndarray | None
    gains: tuple[float, ...]
    corners: tuple[tuple[int, int], ...]
    sizes: tuple[tuple[int, int], ...]
    seams: tuple[np.ndarray, ...]


def _scaled_K(cam, s: float) -> np.ndarray:  # noqa: N802
    return np.array([[cam.focal * s, 0, cam.ppx * s], [0, cam.focal * cam.aspect * s, cam.ppy * s], [0, 0, 1]],
                    np.float32)


def compose(images: Sequence[np.ndarray], cameras: Sequence, surface: str, *, work_scale: float,
            seam_megapix: float = 0.1, compose_megapix: float = -1.0, exposure: bool = True,
            cancel: Callable[[], bool] | None = None,
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
    seam_finder = cv2.detail_GraphCutSeamFinder("COST_COLOR")
    seams = seam_finder.find([w.astype(np.float32) for w in warped], corners, masks)
    seams = [cv2.UMat.get(s) if isinstance(s, cv2.UMat) else np.asarray(s) for s in seams]
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
                         tuple(seams))
