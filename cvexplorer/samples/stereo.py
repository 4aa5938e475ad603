"""A procedurally rendered, rectified stereo pair with exact ground-truth disparity.

The scene is a slanted textured background wall and a few textured objects (a box, a disc, an
ellipse) floating at different depths in front of it. Every surface carries its texture in the
left view's coordinates; the right view samples the same texture at ``x_R = x_L - d(x_L, y)``,
so the disparity of every left pixel is known exactly (including the slanted wall, whose
disparity varies linearly across the image). Objects nearer the cameras occlude what is behind
them differently in the two views, which produces genuine occlusions.

>>> left, right, disp = stereo_scene(size=(160, 120), seed=3)
>>> left.shape, right.shape, disp.dtype
((120, 160, 3), (120, 160, 3), dtype('float32'))
>>> bool(disp.min() > 0)
True
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["stereo_scene"]


def _texture(rng: np.random.Generator, h: int, w: int, hue: tuple[float, float, float]) -> np.ndarray:
    """Multi-scale random texture (float32 RGB in 0..1) that a block matcher can lock onto."""
    acc = np.zeros((h, w), np.float32)
    for cell, amp in ((64, 0.35), (16, 0.3), (4, 0.25), (1, 0.1)):
        gh, gw = max(2, h // cell + 2), max(2, w // cell + 2)
        g = rng.random((gh, gw)).astype(np.float32)
        up = cv2.resize(g, (gw * cell, gh * cell), interpolation=cv2.INTER_CUBIC if cell > 1 else cv2.INTER_NEAREST)
        acc += amp * up[:h, :w]
    acc = (acc - acc.min()) / max(1e-6, float(acc.max() - acc.min()))
    col = np.asarray(hue, np.float32)[None, None, :]
    return np.clip(0.15 + 0.85 * acc[..., None] * col + 0.1 * (1 - col) * acc[..., None], 0, 1)


def stereo_scene(size: tuple[int, int] = (640, 480), seed: int = 0, *,
                 max_disparity_fraction: float = 0.075) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render ``(left, right, disparity)``: RGB uint8 pair and float32 exact left-view disparity (px).

    ``size = (width, height)``. The nearest object has disparity ``max_disparity_fraction · width``;
    the slanted background wall spans roughly a third to a half of that.
    """
    w, h = int(size[0]), int(size[1])
    if w < 64 or h < 48:
        raise ValueError(f"The stereo scene needs at least 64×48 pixels, got {w}×{h}.")
    rng = np.random.default_rng(seed)
    dmax = max_disparity_fraction * w
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)

    layers = []  # (disparity field in left coords, mask in left coords, texture, right-view map_x fn)
    # background: slanted plane d = a + b x + c y
    a = 0.25 * dmax
    b = 0.2 * dmax / w
    c = 0.08 * dmax / h
    d_bg = (a + b * xs + c * ys).astype(np.float32)
    tex_bg = _texture(rng, h, w, (0.95, 0.85, 0.6))
    # faint stripes so the wall reads as a wall
    tex_bg *= (0.85 + 0.15 * (np.sin(xs / w * 18 * np.pi) > 0))[..., None]
    layers.append((d_bg, np.ones((h, w), np.float32), tex_bg,
                   lambda xr: ((xr + a + c * ys) / (1 - b)).astype(np.float32)))

    shapes = [("rect", 0.55, (0.5, 0.75, 1.0)), ("disc", 0.75, (1.0, 0.55, 0.35)),
              ("ellipse", 1.0, (0.45, 1.0, 0.55))]
    for kind, frac, hue in shapes:
        d = float(frac * dmax)
        m = np.zeros((h, w), np.uint8)
        cx = rng.uniform(0.25, 0.75) * w
        cy = rng.uniform(0.3, 0.7) * h
        if kind == "rect":
            rw, rh = rng.uniform(0.22, 0.32) * w, rng.uniform(0.3, 0.45) * h
            cv2.rectangle(m, (int(cx - rw / 2), int(cy - rh / 2)), (int(cx + rw / 2), int(cy + rh / 2)), 1, -1)
        elif kind == "disc":
            cv2.circle(m, (int(cx), int(cy)), int(rng.uniform(0.1, 0.15) * min(w, h) * 1.3), 1, -1)
        else:
            cv2.ellipse(m, (int(cx), int(cy)), (int(0.12 * w), int(0.08 * h)), float(rng.uniform(0, 180)),
                        0, 360, 1, -1)
        tex = _texture(rng, h, w, hue)
        layers.append((np.full((h, w), d, np.float32), m.astype(np.float32), tex,
                       lambda xr, d=d: (xr + d).astype(np.float32)))

    left = np.zeros((h, w, 3), np.float32)
    right = np.zeros((h, w, 3), np.float32)
    disp = np.zeros((h, w), np.float32)
    for d_field, mask, tex, to_left_x in layers:  # far to near: painter's algorithm
        sel = mask > 0.5
        left[sel] = tex[sel]
        disp[sel] = d_field[sel]
        mx = to_left_x(xs)
        tr = cv2.remap(tex, mx, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mr = cv2.remap(mask, mx, ys, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if mask.min() == 1:  # the wall covers everything
            mr[:] = 1
        selr = mr > 0.5
        right[selr] = tr[selr]
    # a little sensor noise, different in each camera
    left += rng.normal(0, 0.01, left.shape).astype(np.float32)
    right += rng.normal(0, 0.01, right.shape).astype(np.float32)
    to8 = lambda im: np.clip(im * 255 + 0.5, 0, 255).astype(np.uint8)  # noqa: E731
    return to8(left), to8(right), disp
