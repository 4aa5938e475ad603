"""Procedural segmentation scenes with exact masks (the U-Net's training and test data).

The foreground class is made of *warm, saturated* objects (red, orange, yellow, magenta): filled
blobs and polygons with sharp corners, rings, and thin (1-3 px) wandering lines. The background
is a cool, low-saturation texture with bluish/grey distractor shapes and pixel noise. Every pixel
is drawn without anti-aliasing, so the mask is exact: pixel ``(y, x)`` is foreground exactly when
it was painted by a foreground object that no later background distractor covered.

Thin lines and sharp corners are what the decoder cannot recover from a coarse bottleneck alone:
that is where a U-Net's skip connections show.
"""

from __future__ import annotations

import numpy as np

__all__ = ["segmentation_scene", "segmentation_batch"]


def _warm(rng: np.random.Generator) -> tuple[int, int, int]:
    hue = rng.uniform(-25, 55)  # degrees, magenta..red..yellow
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((hue % 360) / 360.0, rng.uniform(0.65, 1.0), rng.uniform(0.7, 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def _cool(rng: np.random.Generator) -> tuple[int, int, int]:
    import colorsys

    hue = rng.uniform(150, 260)  # green-cyan-blue
    r, g, b = colorsys.hsv_to_rgb(hue / 360.0, rng.uniform(0.0, 0.45), rng.uniform(0.25, 0.85))
    return int(r * 255), int(g * 255), int(b * 255)


def _polyline(rng, w, h, n=6):
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    ang = rng.uniform(0, 2 * np.pi)
    pts = [(x, y)]
    step = max(w, h) / 6
    for _ in range(n):
        ang += rng.normal(0, 0.6)
        x += np.cos(ang) * step
        y += np.sin(ang) * step
        pts.append((x, y))
    return np.round(np.array(pts)).astype(np.int32).reshape(-1, 1, 2)


def segmentation_scene(size: tuple[int, int] = (128, 128), *, seed: int = 0,
                       noise: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """Render one scene and its exact foreground mask.

    Parameters
    ----------
    size : (width, height)
    seed : int
        Same seed, same scene (on every machine).
    noise : float
        Standard deviation of the Gaussian pixel noise added to the picture (the mask is exact).

    Returns
    -------
    rgb : (H, W, 3) uint8
    mask : (H, W) uint8, 1 = foreground (warm objects), 0 = background

    >>> rgb, mask = segmentation_scene((64, 48), seed=3)
    >>> rgb.shape, mask.shape, set(np.unique(mask)) <= {0, 1}
    ((48, 64, 3), (48, 64), True)
    """
    import cv2

    w, h = int(size[0]), int(size[1])
    if w < 8 or h < 8:
        raise ValueError(f"A segmentation scene needs at least 8x8 pixels, not {w}x{h}.")
    rng = np.random.default_rng(seed)
    # Background: a smooth cool gradient plus low-frequency blotches.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = np.array(_cool(rng), np.float32), np.array(_cool(rng), np.float32)
    t = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1)) / max(w, h)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    blot = cv2.resize(rng.normal(0, 18, (max(2, h // 16), max(2, w // 16), 1)).astype(np.float32),
                      (w, h), interpolation=cv2.INTER_CUBIC)
    img = img + blot[..., None] if blot.ndim == 2 else img + blot
    img = np.clip(img, 0, 255).astype(np.uint8).copy()
    mask = np.zeros((h, w), np.uint8)
    s = min(w, h)

    def paint(kind: str, fg: bool) -> None:
        col = _warm(rng) if fg else _cool(rng)
        val = 1 if fg else 0
        if kind == "blob":
            c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            ax = (int(rng.uniform(0.05, 0.2) * s), int(rng.uniform(0.05, 0.2) * s))
            ang = float(rng.uniform(0, 180))
            cv2.ellipse(img, c, ax, ang, 0, 360, col, -1, lineType=cv2.LINE_8)
            cv2.ellipse(mask, c, ax, ang, 0, 360, val, -1, lineType=cv2.LINE_8)
        elif kind == "poly":
            c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
            k = int(rng.integers(3, 7))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            rad = rng.uniform(0.06, 0.22, k) * s
            pts = np.round(c + np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)).astype(np.int32)
            cv2.fillPoly(img, [pts], col, lineType=cv2.LINE_8)
            cv2.fillPoly(mask, [pts], val, lineType=cv2.LINE_8)
        elif kind == "ring":
            c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            r = int(rng.uniform(0.06, 0.18) * s)
            th = int(rng.integers(1, 4))
            cv2.circle(img, c, r, col, th, lineType=cv2.LINE_8)
            cv2.circle(mask, c, r, val, th, lineType=cv2.LINE_8)
        else:  # thin line
            pts = _polyline(rng, w, h, n=int(rng.integers(3, 8)))
            th = int(rng.integers(1, 3))
            cv2.polylines(img, [pts], False, col, th, lineType=cv2.LINE_8)
            cv2.polylines(mask, [pts], False, val, th, lineType=cv2.LINE_8)

    n = int(rng.integers(5, 10))
    kinds = rng.choice(["blob", "poly", "ring", "line", "line"], size=n)
    fgs = rng.random(n) < 0.7
    for kind, fg in zip(kinds, fgs):
        paint(str(kind), bool(fg))
    if noise > 0:
        img = np.clip(img.astype(np.float32) + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)
    return img, mask


def segmentation_batch(n: int, size: tuple[int, int] = (96, 96), *, seed: int = 0):
    """``n`` scenes stacked: ``(N, H, W, 3)`` uint8 images and ``(N, H, W)`` uint8 masks.

    Scene ``i`` uses seed ``seed * 100003 + i``, so held-out sets (a different ``seed``) never
    overlap the training scenes.

    >>> x, y = segmentation_batch(2, (32, 32), seed=1)
    >>> x.shape, y.shape
    ((2, 32, 32, 3), (2, 32, 32))
    """
    pairs = [segmentation_scene(size, seed=seed * 100003 + i) for i in range(int(n))]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
