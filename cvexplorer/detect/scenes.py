"""Procedural detection scenes: flat shapes on a textured background, with exact boxes and classes.

Each object is one of :data:`CLASS_NAMES` (a filled square, disc or triangle) in a random colour,
painted without anti-aliasing, so its box is exactly the tight bounds of the pixels it painted
(``x1``/``y1`` exclusive, in pixel units). Objects never overlap and no two share a centre cell of
the ``S``×``S`` grid, so every object has its own responsible cell (YOLOv1 can report at most one
class per cell; a scene that broke that rule would test the generator, not the detector).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

__all__ = ["CLASS_NAMES", "DetectionScene", "detection_scene", "detection_dataset"]

#: The classes of the generated scenes (and of the shipped tiny detector), in class-index order.
CLASS_NAMES: tuple[str, ...] = ("square", "disc", "triangle")


@dataclass(frozen=True)
class DetectionScene:
    """A rendered scene: ``rgb`` (H, W, 3) uint8, ``boxes`` (N, 4) float x0, y0, x1, y1 in pixels,
    ``classes`` (N,) int indices into ``class_names``."""

    rgb: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray
    class_names: tuple[str, ...] = CLASS_NAMES
    seed: int = 0


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.5, 1.0), rng.uniform(0.55, 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def _paint(kind: int, x0: int, y0: int, side: int, h: int, w: int, rng) -> np.ndarray:
    """The boolean mask of one shape whose bounding square is ``side`` pixels at (x0, y0)."""
    import cv2  # lazy: importing the engine must not pay for OpenCV

    m = np.zeros((h, w), np.uint8)
    x1, y1 = x0 + side - 1, y0 + side - 1
    if kind == 0:
        # a square, sometimes a little rectangular
        sh = int(round(side * rng.uniform(0.7, 1.0)))
        m[y0 + (side - sh) // 2:y0 + (side - sh) // 2 + sh, x0:x1 + 1] = 1
    elif kind == 1:
        c = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        yy, xx = np.mgrid[0:h, 0:w]
        m[((xx - c[0]) ** 2 + (yy - c[1]) ** 2) <= (side / 2.0) ** 2] = 1
    else:
        pts = np.array([[x0 + side // 2, y0], [x1, y1], [x0, y1]], np.int32)
        cv2.fillPoly(m, [pts], 1, lineType=cv2.LINE_8)
    return m.astype(bool)


def detection_scene(size: tuple[int, int] = (112, 112), *, seed: int = 0, max_objects: int = 4, grid: int = 7,
                    min_side: int = 12, max_side: int = 44, noise: float = 6.0) -> DetectionScene:
    """Render one scene with between 1 and ``max_objects`` shapes and their exact boxes.

    Parameters
    ----------
    size : (width, height)
    seed : int
        Same seed, same scene on every machine.
    max_objects : int
    grid : int
        S of the S×S grid whose cells the object centres must not share.
    min_side, max_side : int
        Range of an object's size in pixels.
    noise : float
        Standard deviation of the pixel noise (the boxes stay exact).

    >>> sc = detection_scene(seed=1)
    >>> sc.rgb.shape, sc.boxes.shape[1], len(sc.boxes) == len(sc.classes)
    ((112, 112, 3), 4, True)
    """
    w, h = int(size[0]), int(size[1])
    if w < 32 or h < 32:
        raise ValueError(f"A detection scene needs at least 32×32 pixels, not {w}×{h}.")
    if max_objects < 1:
        raise ValueError("A detection scene needs room for at least one object (max_objects ≥ 1).")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0 = np.array(colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0, 0.3), rng.uniform(0.25, 0.6))) * 255
    c1 = np.array(colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0, 0.3), rng.uniform(0.25, 0.6))) * 255
    t = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1)) / max(w, h)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    # faint stripes: texture that is not an object
    img += 10.0 * np.sin(xx * rng.uniform(0.2, 0.6) + yy * rng.uniform(0.1, 0.5))[..., None]
    n = int(rng.integers(1, max_objects + 1))
    boxes, classes, taken = [], [], set()
    occupied = np.zeros((h, w), bool)
    hi = min(max_side, min(w, h) - 2)
    for _ in range(60):
        if len(boxes) == n:
            break
        side = int(rng.integers(min_side, hi + 1))
        x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        kind = int(rng.integers(0, len(CLASS_NAMES)))
        m = _paint(kind, x0, y0, side, h, w, rng)
        ys, xs = np.nonzero(m)
        box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        cell = (min(int((box[1] + box[3]) / 2 / h * grid), grid - 1), min(int((box[0] + box[2]) / 2 / w * grid), grid - 1))
        pad = occupied[max(0, int(box[1]) - 2):int(box[3]) + 2, max(0, int(box[0]) - 2):int(box[2]) + 2]
        if cell in taken or pad.any():
            continue
        taken.add(cell)
        occupied |= m
        img[m] = _colour(rng)
        boxes.append(box)
        classes.append(kind)
    img += rng.normal(0, noise, img.shape)
    rgb = np.clip(img, 0, 255).astype(np.uint8)
    return DetectionScene(rgb, np.array(boxes, np.float64).reshape(-1, 4), np.array(classes, np.int64), CLASS_NAMES,
                          int(seed))


def detection_dataset(n_images: int, *, seed: int = 0, size: tuple[int, int] = (112, 112),
                      **kwargs) -> tuple[list[DetectionScene], dict]:
    """``n_images`` scenes (seeds ``seed``, ``seed+1``, …) and their ground truth as a COCO dataset dict.

    Image ids are 1..n, category ids 1..C (class index + 1), annotation ids 1..; ``area`` is w·h.

    >>> scenes, gt = detection_dataset(2, seed=5)
    >>> len(gt["images"]), [c["name"] for c in gt["categories"]]
    (2, ['square', 'disc', 'triangle'])
    """
    scenes = [detection_scene(size, seed=seed + i, **kwargs) for i in range(int(n_images))]
    images, anns = [], []
    for i, sc in enumerate(scenes, start=1):
        images.append({"id": i, "width": int(size[0]), "height": int(size[1]), "file_name": f"scene_{sc.seed}.png"})
        for b, c in zip(sc.boxes, sc.classes):
            bw, bh = float(b[2] - b[0]), float(b[3] - b[1])
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": int(c) + 1,
                         "bbox": [float(b[0]), float(b[1]), bw, bh], "area": bw * bh, "iscrowd": 0})
    cats = [{"id": k + 1, "name": n} for k, n in enumerate(CLASS_NAMES)]
    return scenes, {"images": images, "annotations": anns, "categories": cats}
