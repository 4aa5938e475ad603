"""Photo-like and geometric sample scenes drawn with OpenCV, with exact object boxes.

The still life is the default image of most panels: a desk under a lamp with a mug, a book, an
apple, a pencil, a phone and a poster on the wall -- distinct objects with shading and texture
so that edge filters, anchors, NMS and segmentation have something real-looking to work on.
"""

from __future__ import annotations

from functools import lru_cache

from dataclasses import dataclass

import numpy as np

__all__ = ["SceneObject", "still_life", "still_life_objects", "shapes", "checkerboard", "document", "gradient"]


@dataclass(frozen=True)
class SceneObject:
    label: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels of the rendered size


def _noise(h: int, w: int, rng: np.random.Generator, scale: int) -> np.ndarray:
    import cv2

    small = rng.standard_normal((max(2, h // scale), max(2, w // scale))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


# Layout in unit coordinates (fractions of width/height), shared by the image and its boxes.
_OBJECTS = {
    "poster": (0.08, 0.07, 0.34, 0.42),
    "window": (0.58, 0.05, 0.92, 0.38),
    "mug": (0.16, 0.52, 0.30, 0.80),
    "book": (0.36, 0.60, 0.62, 0.80),
    "apple": (0.66, 0.58, 0.78, 0.76),
    "phone": (0.80, 0.70, 0.94, 0.86),
    "pencil": (0.38, 0.84, 0.70, 0.88),
}


def still_life_objects(size: tuple[int, int] = (1280, 960)) -> list[SceneObject]:
    """The exact boxes of the objects in :func:`still_life` at the same size."""
    w, h = size
    return [SceneObject(k, (x0 * w, y0 * h, x1 * w, y1 * h)) for k, (x0, y0, x1, y1) in _OBJECTS.items()]


def still_life(size: tuple[int, int] = (1280, 960), seed: int = 7) -> np.ndarray:
    """A photo-like desk scene (RGB uint8) with shading, texture and soft shadows.

    Rendering takes a few hundred milliseconds at 1280×960 and several panels open on it, so the
    last few renders are kept (read-only) and each call returns a fresh copy.

    >>> still_life((320, 240)).shape
    (240, 320, 3)
    """
    return _still_life(int(size[0]), int(size[1]), int(seed)).copy()


@lru_cache(maxsize=4)
def _still_life(w: int, h: int, seed: int) -> np.ndarray:
    import cv2  # lazy: `import cvexplorer` stays free of OpenCV

    if w < 16 or h < 16:
        raise ValueError(f"A still life needs at least 16×16 pixels, not {w}×{h}.")
    rng = np.random.default_rng(seed)
    # Coordinates as a column and a row (broadcast, not two full frames); every effect that covers
    # one object is computed in that object's rectangle only.
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    horizon = int(0.5 * h)
    # Wall: warm paint lit from the upper right, with a plaster texture.
    light = 1.0 - 0.35 * np.hypot((xx - 0.8 * w) / w, (yy - 0.1 * h) / h)
    img = np.array([205, 190, 165], np.float32) * light[..., None]
    img += 6.0 * _noise(h, w, rng, 3)[..., None]
    # Desk: wood grain from warped sinusoids (the noise is drawn for the whole frame, as the seed expects).
    warp = 18.0 * _noise(h, w, rng, 40)[horizon:]
    grain = 0.5 + 0.5 * np.sin((yy[horizon:] * 0.9 + warp + 0.02 * xx) * 0.35)
    wood = img[horizon:]
    for c, (base, amp) in enumerate(((120, 50), (72, 32), (40, 18))):
        wood[..., c] = base + amp * grain
    wood *= (0.75 + 0.35 * (yy[horizon:] / h))[..., None]
    img[horizon - 3:horizon + 3] *= 0.6  # desk edge

    def box(name):
        x0, y0, x1, y1 = _OBJECTS[name]
        return int(x0 * w), int(y0 * h), int(x1 * w), int(y1 * h)

    def shadow(x0, y0, x1, y1):
        # A blurred ellipse darkens the desk under the object; outside its rectangle (the ellipse
        # plus the blur's reach) the mask is zero, so only that rectangle is drawn and blurred.
        k = max(3, (w // 80) | 1)
        c = ((x0 + x1) // 2 + (x1 - x0) // 6, y1)
        ax = ((x1 - x0) // 2 + 6, max(4, (y1 - y0) // 8))
        m = 2 * k + 2
        rx0, ry0 = max(0, c[0] - ax[0] - m), max(0, c[1] - ax[1] - m)
        rx1, ry1 = min(w, c[0] + ax[0] + m + 1), min(h, c[1] + ax[1] + m + 1)
        mask = np.zeros((ry1 - ry0, rx1 - rx0), np.float32)
        cv2.ellipse(mask, (c[0] - rx0, c[1] - ry0), ax, 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (k * 2 + 1, k * 2 + 1), 0)
        img[ry0:ry1, rx0:rx1] *= (1.0 - 0.45 * mask)[..., None]

    # Window with sky and a distant hill.
    x0, y0, x1, y1 = box("window")
    sky = np.linspace(0, 1, y1 - y0, dtype=np.float32)[:, None, None]
    img[y0:y1, x0:x1] = (1 - sky) * np.array([110, 160, 225]) + sky * np.array([200, 225, 245])
    hill = (y0 + (y1 - y0) * (0.7 + 0.12 * np.sin(np.linspace(0, 5, x1 - x0)))).astype(int)
    for i, yh in enumerate(hill):
        img[yh:y1, x0 + i] = (70, 120, 60)
    t = max(3, w // 160)
    cv2.rectangle(img, (x0, y0), (x1, y1), (245, 245, 240), t * 2)
    cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), (245, 245, 240), t)
    # Poster: coloured blocks and "text" lines.
    x0, y0, x1, y1 = box("poster")
    cv2.rectangle(img, (x0, y0), (x1, y1), (250, 248, 240), -1)
    pw, ph = x1 - x0, y1 - y0
    cv2.rectangle(img, (x0 + pw // 10, y0 + ph // 10), (x1 - pw // 10, y0 + ph // 2), (40, 90, 170), -1)
    cv2.circle(img, (x0 + pw // 2, y0 + ph * 3 // 10), ph // 7, (240, 170, 40), -1)
    for k in range(4):
        yk = y0 + ph * 6 // 10 + k * ph // 11
        cv2.line(img, (x0 + pw // 10, yk), (x1 - pw // 10 - (k % 2) * pw // 5, yk), (60, 60, 60), max(2, ph // 40))
    cv2.rectangle(img, (x0, y0), (x1, y1), (90, 80, 70), max(2, t // 2))
    # Book: a slab with pages and a spine.
    x0, y0, x1, y1 = box("book")
    shadow(x0, y0, x1, y1)
    cv2.rectangle(img, (x0, y0), (x1, y1), (150, 35, 45), -1)
    cv2.rectangle(img, (x0, y1 - (y1 - y0) // 4), (x1 - (x1 - x0) // 30, y1), (235, 228, 210), -1)
    for k in range(1, 6):
        yk = y1 - (y1 - y0) // 4 + k * (y1 - y0) // 26
        cv2.line(img, (x0, yk), (x1 - (x1 - x0) // 30, yk), (200, 190, 170), 1)
    # OpenCV 5 draws text on 8-bit images only: draw a mask, then blend it into the float canvas
    # (the mask is the book's rectangle: the title stays on the cover).
    text = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.putText(text, "VISION", ((x1 - x0) // 6, (y1 - y0) // 2), cv2.FONT_HERSHEY_DUPLEX,
                (x1 - x0) / 260.0, 255, max(1, w // 640), cv2.LINE_AA)
    a = (text.astype(np.float32) / 255.0)[..., None]
    cover = img[y0:y1, x0:x1]
    cover[:] = cover * (1 - a) + np.array([240, 210, 120], np.float32) * a
    # Mug: a cylinder with a handle, shaded left to right.
    x0, y0, x1, y1 = box("mug")
    shadow(x0, y0, x1, y1)
    cols = np.linspace(-1, 1, x1 - x0, dtype=np.float32)
    shade = 0.55 + 0.45 * np.sqrt(np.clip(1 - (cols - 0.3) ** 2, 0, 1))
    img[y0:y1, x0:x1] = np.array([40, 120, 180], np.float32) * shade[None, :, None]
    cv2.ellipse(img, (x1, (y0 + y1) // 2), ((x1 - x0) // 4, (y1 - y0) // 5), 0, -90, 90, (35, 100, 150),
                max(3, (x1 - x0) // 10))
    cv2.ellipse(img, ((x0 + x1) // 2, y0), ((x1 - x0) // 2, max(3, (y1 - y0) // 12)), 0, 0, 360, (25, 60, 90), -1)
    # Apple: a radially shaded disc with a stalk.
    x0, y0, x1, y1 = box("apple")
    shadow(x0, y0, x1, y1)
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, min(x1 - x0, y1 - y0) / 2
    ax0, ay0 = max(0, int(cx - r) - 1), max(0, int(cy - r) - 1)  # the disc's rectangle
    ax1, ay1 = min(w, int(cx + r) + 2), min(h, int(cy + r) + 2)
    ay, ax = yy[ay0:ay1], xx[:, ax0:ax1]
    inside = np.hypot(ax - cx, ay - cy) <= r
    hl = np.clip(1 - np.hypot(ax - cx + 0.35 * r, ay - cy + 0.35 * r) / (1.6 * r), 0, 1)
    apple = np.stack([150 + 100 * hl, 25 + 60 * hl, 20 + 40 * hl], -1)
    img[ay0:ay1, ax0:ax1][inside] = apple[inside]
    cv2.line(img, (int(cx), int(cy - r)), (int(cx + r / 5), int(cy - 1.3 * r)), (70, 50, 20), max(2, int(r / 8)))
    # Phone: dark rounded slab with a reflective screen.
    x0, y0, x1, y1 = box("phone")
    shadow(x0, y0, x1, y1)
    cv2.rectangle(img, (x0, y0), (x1, y1), (25, 25, 30), -1)
    m = max(2, (x1 - x0) // 14)
    g = np.linspace(0, 1, x1 - x0 - 2 * m, dtype=np.float32)[None, :, None]
    img[y0 + m:y1 - m, x0 + m:x1 - m] = (1 - g) * np.array([40, 60, 110]) + g * np.array([120, 150, 200])
    # Pencil: a long thin yellow bar with a tip.
    x0, y0, x1, y1 = box("pencil")
    cv2.rectangle(img, (x0 + (x1 - x0) // 12, y0), (x1, y1), (235, 190, 40), -1)
    pts = np.array([[x0, (y0 + y1) // 2], [x0 + (x1 - x0) // 12, y0], [x0 + (x1 - x0) // 12, y1]], np.int32)
    cv2.fillPoly(img, [pts], (220, 180, 140))
    # Sensor noise and a slight vignette, like a real photo.
    img += 3.0 * rng.standard_normal((h, w, 1)).astype(np.float32)
    vign = 1.0 - 0.18 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 4
    img *= vign[..., None]
    out = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    out.setflags(write=False)  # cached: callers get copies
    return out


def shapes(size: tuple[int, int] = (1280, 960), seed: int = 3) -> np.ndarray:
    """Flat-coloured circles, rectangles and triangles on grey: crisp edges for filters."""
    import cv2

    w, h = size
    img = np.full((h, w, 3), 200, np.uint8)
    s = min(w, h)
    cv2.rectangle(img, (w // 10, h // 8), (w // 10 + s // 3, h // 8 + s // 4), (0, 114, 178), -1)
    cv2.circle(img, (w * 2 // 3, h // 3), s // 6, (213, 94, 0), -1)
    tri = np.array([[w // 4, h * 7 // 8], [w // 2, h // 2], [w * 3 // 5, h * 7 // 8]], np.int32)
    cv2.fillPoly(img, [tri], (0, 158, 115))
    cv2.ellipse(img, (w * 4 // 5, h * 3 // 4), (s // 8, s // 14), 30, 0, 360, (204, 121, 167), -1)
    return img


def checkerboard(size: tuple[int, int] = (1280, 960), squares: int = 8) -> np.ndarray:
    """Black and white squares: a test pattern for sampling, pooling and homographies."""
    w, h = size
    cell = max(1, min(w, h) // squares)
    yy, xx = np.mgrid[0:h, 0:w]
    board = (((yy // cell) + (xx // cell)) % 2 * 255).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


def document(size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    """A poster photographed at an angle: the target of a click-four-corners rectification."""
    import cv2

    w, h = size
    flat = np.full((600, 450, 3), 245, np.uint8)
    cv2.rectangle(flat, (30, 30), (420, 250), (0, 114, 178), -1)
    cv2.circle(flat, (225, 140), 70, (230, 159, 0), -1)
    for k in range(8):
        cv2.line(flat, (40, 300 + k * 32), (410 - (k % 3) * 60, 300 + k * 32), (50, 50, 50), 6)
    cv2.rectangle(flat, (0, 0), (449, 599), (30, 30, 30), 6)
    src = np.float32([[0, 0], [450, 0], [450, 600], [0, 600]])
    dst = np.float32([[0.30 * w, 0.12 * h], [0.72 * w, 0.20 * h], [0.68 * w, 0.90 * h], [0.22 * w, 0.80 * h]])
    H = cv2.getPerspectiveTransform(src, dst)
    bg = gradient(size)
    warped = cv2.warpPerspective(flat, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT,
                                 dst=bg.copy())
    return warped


def gradient(size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    """A smooth two-direction colour gradient (no edges at all: filters answer near zero)."""
    w, h = size
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    img = np.stack([80 + 120 * x + 0 * y, 90 + 100 * y + 0 * x, 160 - 60 * x * y], -1)
    return np.ascontiguousarray(img.astype(np.uint8))
