"""Blending warped images into one mosaic: none, feather, multiband (Burt–Adelson).

The one home for blending in cvexplorer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["BLENDS", "BlendResult", "blend_warped", "thick_seams"]

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
