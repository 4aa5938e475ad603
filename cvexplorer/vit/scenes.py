"""Generated scenes for the tiny ViT: one shape on a textured background, with its exact mask.

The task "which shape is in the picture?" has its answer in one region of the image, so a model
that solves it has a reason to look there: that is what its attention maps show. Pixels are drawn
without anti-aliasing, so the mask is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SHAPE_CLASSES", "ShapeScene", "shape_scene", "shape_batch", "object_patches"]

#: The tiny ViT's classes, in the order of its logits.
SHAPE_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross")


@dataclass(frozen=True)
class ShapeScene:
    """One scene: ``image`` (H, W, 3) uint8, ``label`` index into :data:`SHAPE_CLASSES`,
    ``mask`` (H, W) bool (the shape's pixels), ``box`` (x0, y0, x1, y1) of the shape."""

    image: np.ndarray
    label: int
    mask: np.ndarray
    box: tuple[int, int, int, int]

    @property
    def name(self) -> str:
        return SHAPE_CLASSES[self.label]


def _draw(kind: int, size: int, cx: int, cy: int, r: int, angle: float) -> np.ndarray:
    import cv2  # lazy: only scene drawing needs OpenCV

    m = np.zeros((size, size), np.uint8)
    if kind == 0:
        cv2.circle(m, (cx, cy), r, 1, -1, lineType=cv2.LINE_8)
    elif kind == 1:
        pts = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float) * r * 0.85
        cv2.fillPoly(m, [_rot(pts, angle, cx, cy)], 1, lineType=cv2.LINE_8)
    elif kind == 2:
        a = np.deg2rad([-90, 30, 150])
        pts = np.stack([np.cos(a), np.sin(a)], 1) * r * 1.1
        cv2.fillPoly(m, [_rot(pts, angle, cx, cy)], 1, lineType=cv2.LINE_8)
    else:
        t = max(2, r // 3)
        for pts in (np.array([[-r, -t], [r, -t], [r, t], [-r, t]], float),
                    np.array([[-t, -r], [t, -r], [t, r], [-t, r]], float)):
            cv2.fillPoly(m, [_rot(pts, angle, cx, cy)], 1, lineType=cv2.LINE_8)
    return m.astype(bool)


def _rot(pts: np.ndarray, angle: float, cx: int, cy: int) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    p = pts @ np.array([[c, s], [-s, c]])
    return np.round(p + [cx, cy]).astype(np.int32).reshape(-1, 1, 2)


def shape_scene(seed: int = 0, *, size: int = 64, label: int | None = None) -> ShapeScene:
    """Render one scene: a circle, square, triangle or cross on a noisy, blotchy background.

    Parameters
    ----------
    seed : int
        Same seed, same scene on every machine.
    size : int
        Side of the square image in pixels (at least 32).
    label : int, optional
        Force the class (index into :data:`SHAPE_CLASSES`); by default the seed picks it.

    >>> s = shape_scene(3)
    >>> s.image.shape, s.image.dtype.name, s.name in SHAPE_CLASSES, bool(s.mask.any())
    ((64, 64, 3), 'uint8', True, True)
    """
    if size < 32:
        raise ValueError(f"A scene needs at least 32×32 pixels for its shape to be recognisable, not {size}.")
    rng = np.random.default_rng(int(seed))
    kind = int(rng.integers(0, len(SHAPE_CLASSES))) if label is None else int(label)
    if not 0 <= kind < len(SHAPE_CLASSES):
        raise ValueError(f"label must be between 0 and {len(SHAPE_CLASSES) - 1}, not {label}.")
    # background: a smooth colour gradient, a few soft blotches and pixel noise
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = rng.uniform(60, 190, 3)
    slope = rng.uniform(-50, 50, (2, 3))
    img = base + xx[..., None] * slope[0] + yy[..., None] * slope[1]
    for _ in range(int(rng.integers(2, 5))):
        bx, by, br = rng.uniform(0, 1, 2).tolist() + [rng.uniform(0.08, 0.25)]
        blob = np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * br ** 2))
        img += blob[..., None] * rng.uniform(-45, 45, 3)
    img += rng.normal(0, 12, img.shape)
    r = int(rng.integers(size * 7 // 64, size * 12 // 64 + 1))
    cx = int(rng.integers(r + 1, size - r - 1))
    cy = int(rng.integers(r + 1, size - r - 1))
    mask = _draw(kind, size, cx, cy, r, float(rng.uniform(0, np.pi / 2)))
    # the shape's colour stands out from the background around it
    local = img[mask].mean(axis=0)
    colour = np.where(local > 128, rng.uniform(0, 70, 3), rng.uniform(185, 255, 3))
    img[mask] = colour + rng.normal(0, 6, (int(mask.sum()), 3))
    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return ShapeScene(np.clip(img, 0, 255).astype(np.uint8), kind, mask, box)


def shape_batch(n: int, *, seed: int = 0, size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` scenes with seeds ``seed * 1_000_003 + i``: images (n, H, W, 3), labels (n,), masks (n, H, W).

    >>> x, y, m = shape_batch(4, seed=1)
    >>> x.shape, y.shape, m.shape
    ((4, 64, 64, 3), (4,), (4, 64, 64))
    """
    scenes = [shape_scene(seed * 1_000_003 + i, size=size) for i in range(int(n))]
    return (np.stack([s.image for s in scenes]), np.array([s.label for s in scenes], np.int64),
            np.stack([s.mask for s in scenes]))


def object_patches(mask: np.ndarray, patch: int, *, min_fraction: float = 0.0) -> np.ndarray:
    """Which patches hold the object: (gh, gw) bool, True where more than ``min_fraction`` of the
    patch's pixels are the object's (0: any pixel). The mask is zero-padded like :func:`patchify`.

    >>> m = np.zeros((16, 16), bool); m[2:5, 9:11] = True
    >>> object_patches(m, 8).astype(int).tolist()
    [[0, 1], [0, 0]]
    """
    m = np.asarray(mask, bool)
    h, w = m.shape
    gh, gw = -(-h // patch), -(-w // patch)
    padded = np.zeros((gh * patch, gw * patch), bool)
    padded[:h, :w] = m
    frac = padded.reshape(gh, patch, gw, patch).mean(axis=(1, 3))
    return frac > min_fraction
