"""Geometry and pixels around SAM: the 1024 frame, the encoder input, embedding colours, mask outlines."""

from __future__ import annotations

import numpy as np

from .. import overlay
from .contract import IMG_SIZE, PIXEL_MEAN, PIXEL_STD

__all__ = ["resize_longest", "frame_scale", "transform_points", "masks_from_low_res", "preprocess", "embedding_rgb", "mask_outline", "overlay_rgb",
           "shrink_mask", "candidate_thumbnails"]


def resize_longest(h: int, w: int, long_side: int = IMG_SIZE) -> tuple[float, tuple[int, int]]:
    """Scale and (h', w') that put the long side at ``long_side`` (SAM's ResizeLongestSide).

    ``h' = int(h * s + 0.5)`` with ``s = long_side / max(h, w)``.

    >>> resize_longest(4000, 3000)[1]
    (1024, 768)
    """
    if h <= 0 or w <= 0:
        raise ValueError(f"The image is {w}x{h} pixels; SAM needs at least 1x1.")
    s = long_side / max(h, w)
    return s, (int(h * s + 0.5), int(w * s + 0.5))


def frame_scale(h: int, w: int, fixed: tuple[int, int] | None = None) -> tuple[float, tuple[int, int]]:
    """The scale from the photo to the encoder's frame, and the photo's size (h', w') in that frame.

    Without a fixed encoder size the long side goes to 1024 (SAM's ResizeLongestSide). An encoder
    that declares a fixed ``(H_enc, W_enc)`` input takes one scale s = min(W_enc / w, H_enc / h),
    the photo resized to (round(h·s), round(w·s)) at the top left and padded to exactly H_enc × W_enc.

    >>> frame_scale(3000, 4000, (684, 1024))
    (0.228, (684, 912))
    """
    if fixed is None:
        return resize_longest(h, w)
    if h <= 0 or w <= 0:
        raise ValueError(f"The image is {w}x{h} pixels; SAM needs at least 1x1.")
    s = min(fixed[1] / w, fixed[0] / h)
    return s, (max(1, min(fixed[0], int(round(h * s)))), max(1, min(fixed[1], int(round(w * s)))))


def transform_points(points, image_hw: tuple[int, int], fixed: tuple[int, int] | None = None) -> np.ndarray:
    """Original-image (x, y) pixel coordinates -> the frame the decoder expects: (x·s, y·s)."""
    p = np.asarray(points, np.float32).reshape(-1, 2)
    s, _ = frame_scale(*image_hw, fixed)
    return p * np.float32(s)


def masks_from_low_res(low_res: np.ndarray, image_hw: tuple[int, int], fixed: tuple[int, int]) -> np.ndarray:
    """Full-size logits from ``low_res_masks`` (K, 256, 256) over the 1024 frame, for a fixed-size encoder.

    The official decoder's own ``masks`` output crops as if the long side were 1024, which is wrong
    when the encoder's frame is smaller: upsample to 1024×1024, crop to the resized photo, resize to (h, w).
    """
    import cv2  # lazy: the engine imports OpenCV on first use

    h, w = image_hw
    _, (nh, nw) = frame_scale(h, w, fixed)
    out = np.empty((low_res.shape[0], h, w), np.float32)
    for k, m in enumerate(np.asarray(low_res, np.float32)):
        up = cv2.resize(m, (IMG_SIZE, IMG_SIZE), interpolation=cv2.INTER_LINEAR)
        out[k] = cv2.resize(np.ascontiguousarray(up[:nh, :nw]), (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def preprocess(rgb: np.ndarray, style: str = "normalized",
               fixed: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's input for ``rgb`` and the resized uint8 image (whose bytes key the cache).

    ``style='normalized'``: ``[1, 3, 1024, 1024]`` float32, (x - mean) / std, zero-padded
    bottom/right after normalising. ``style='raw'``: ``[h', w', 3]`` float32 RGB 0-255, or, for an
    encoder with a ``fixed`` (H, W) input, the photo at :func:`frame_scale` padded to exactly H × W.
    """
    import cv2

    h, w = rgb.shape[:2]
    _, (nh, nw) = frame_scale(h, w, fixed)
    if (nh, nw) == (h, w):
        small = np.ascontiguousarray(rgb)
    elif nh * 2 < h:
        # Anti-aliased shrink without INTER_AREA's slow non-integer path: bilinear to twice the
        # target, then the exact 2x2 box average (mean difference from INTER_AREA ~0.5 grey level).
        mid = cv2.resize(rgb, (2 * nw, 2 * nh), interpolation=cv2.INTER_LINEAR)
        small = cv2.resize(mid, (nw, nh), interpolation=cv2.INTER_AREA)
    else:
        small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if nh < h else cv2.INTER_LINEAR)
    if style == "raw":
        if fixed is None:
            return small.astype(np.float32), small
        blob = np.zeros((fixed[0], fixed[1], 3), np.float32)
        blob[:nh, :nw] = small
        return blob, small
    blob = np.zeros((1, 3, IMG_SIZE, IMG_SIZE), np.float32)
    for c in range(3):  # normalise straight into the padded planes (pad after normalising)
        np.multiply(np.subtract(small[:, :, c], PIXEL_MEAN[c], dtype=np.float32), 1.0 / PIXEL_STD[c],
                    out=blob[0, c, :nh, :nw])
    return blob, small


def embedding_rgb(embedding: np.ndarray) -> np.ndarray:
    """Project a (1, 256, 64, 64) embedding onto its 3 principal components -> (64, 64, 3) uint8.

    Each pixel's 256 numbers become a colour: similar colours mean the decoder sees similar features.
    """
    e = np.asarray(embedding, np.float32).reshape(256, -1)  # (C, P)
    side = int(round(np.sqrt(e.shape[1])))
    x = e - e.mean(axis=1, keepdims=True)
    cov = x @ x.T
    vals, vecs = np.linalg.eigh(cov.astype(np.float64))
    comps = vecs[:, ::-1][:, :3].astype(np.float32)  # top 3
    proj = comps.T @ x  # (3, P)
    lo = np.percentile(proj, 1, axis=1, keepdims=True)
    hi = np.percentile(proj, 99, axis=1, keepdims=True)
    out = np.clip((proj - lo) / np.maximum(hi - lo, 1e-6), 0, 1) * 255
    return np.ascontiguousarray(out.T.reshape(side, side, 3).astype(np.uint8))


def mask_outline(mask: np.ndarray, max_side: int = 1024) -> list[np.ndarray]:
    """Outer contours of a bool mask as (K, 2) float (x, y) polygons in full-image pixels.

    Traced on a copy whose long side is at most ``max_side`` (a 12 MP mask costs ~2 ms then).

    >>> m = np.zeros((40, 60), bool); m[10:20, 5:25] = True
    >>> [p.shape[1] for p in mask_outline(m)]
    [2]
    """
    import cv2

    m = np.asarray(mask, bool)
    h, w = m.shape
    s = min(1.0, max_side / max(h, w))
    small = m.view(np.uint8) if s == 1.0 else cv2.resize(m.view(np.uint8), (max(1, round(w * s)), max(1, round(h * s))),
                                                          interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(np.ascontiguousarray(small), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    sx, sy = w / small.shape[1], h / small.shape[0]
    return [c.reshape(-1, 2).astype(np.float32) * np.float32([sx, sy]) for c in contours if len(c) >= 3]


def overlay_rgb(rgb: np.ndarray, mask: np.ndarray, color=(0, 158, 115), alpha: float = 0.45,
                outline_px: int = 0) -> np.ndarray:
    """The image with the mask tinted in ``color`` (:func:`cvexplorer.overlay.tint`) and an optional outline:
    what the panel exports as PNG.

    >>> img = np.zeros((8, 8, 3), np.uint8); m = np.zeros((8, 8), bool); m[2:6, 2:6] = True
    >>> out = overlay_rgb(img, m, color=(200, 0, 0), alpha=0.5)
    >>> out[3, 3].tolist(), out[0, 0].tolist()
    ([100, 0, 0], [0, 0, 0])
    """
    import cv2  # lazy: importing cvexplorer stays fast

    out = overlay.tint(rgb, mask, color, alpha)
    if outline_px > 0:
        m = np.asarray(mask, bool)
        polys = [p.round().astype(np.int32) for p in mask_outline(m, max_side=max(m.shape))]
        cv2.polylines(out, polys, True, overlay.hex_to_rgb(color), int(outline_px), cv2.LINE_AA)
    return out


def shrink_mask(mask: np.ndarray, max_side: int = 1600) -> np.ndarray:
    """A bool mask whose long side is at most ``max_side`` (nearest neighbour): what the screen needs of a 12 MP mask.

    >>> shrink_mask(np.ones((4000, 3000), bool)).shape
    (1600, 1200)
    """
    import cv2  # lazy: importing cvexplorer stays fast

    m = np.asarray(mask, bool)
    h, w = m.shape
    s = min(1.0, max_side / max(h, w))
    if s == 1.0:
        return m
    return cv2.resize(m.view(np.uint8), (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_NEAREST) > 0


def candidate_thumbnails(rgb: np.ndarray, masks, *, side: int, color, alpha: float = 0.6) -> list[np.ndarray]:
    """Each candidate mask tinted on a copy of the image whose long side is ``side``: the "choose a mask" buttons.

    ``masks`` is (K, H, W): bool masks or logits (> 0 is inside).

    >>> img = np.zeros((40, 80, 3), np.uint8); m = np.zeros((2, 40, 80), bool); m[0, :, :40] = True
    >>> [t.shape for t in candidate_thumbnails(img, m, side=20, color=(255, 0, 0))]
    [(10, 20, 3), (10, 20, 3)]
    """
    import cv2  # lazy: importing cvexplorer stays fast

    a = np.asarray(rgb, np.uint8)
    h, w = a.shape[:2]
    s = side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    out = []
    for m in masks:
        src = m.view(np.uint8) if m.dtype == np.bool_ else np.asarray(m, np.float32)
        mm = cv2.resize(src, size, interpolation=cv2.INTER_NEAREST) > 0
        out.append(overlay_rgb(small, mm, color=color, alpha=alpha, outline_px=1))
    return out
