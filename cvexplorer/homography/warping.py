"""Warping images by homographies into one frame, and rectifying a clicked quadrilateral."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..timing import Stages
from .blending import BLENDS, BlendResult, blend_warped
from .geometry import dlt, project

__all__ = ["MAX_CANVAS_PIXELS", "warp_and_blend", "rectify"]


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
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

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
        out, coverage, labels, seams = blend_warped(crops, warped, masks, padded=(Wp, Hp), size=(W, Hh),
                                                    blend=blend, levels=levels)
    return BlendResult(np.ascontiguousarray(out), np.ascontiguousarray(coverage), np.ascontiguousarray(labels),
                       (float(-x0), float(-y0)), seams, st.ms)


def rectify(img: np.ndarray, corners: np.ndarray, size: tuple[int, int] | None = None,
            target: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A homography by hand: four clicked corners → a fronto-parallel view. Returns (view, H).

    ``corners``: (4, 2) in the order top-left, top-right, bottom-right, bottom-left. ``size`` (w, h)
    of the output; by default the mean lengths of opposite sides. ``target`` (4, 2) overrides the
    destination rectangle's corners.
    """
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

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
