"""Built-in pairs and panorama sets with known homographies (made from cvexplorer.samples: no downloads)."""

from __future__ import annotations

import numpy as np

from ..samples import get_sample
from .geometry import dlt

__all__ = ["sample_pair", "sample_panorama", "synthetic_view", "document_corners"]


def sample_pair(sample: str = "still-life", size: tuple[int, int] = (800, 600), seed: int = 3,
                strength: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A built-in pair with a known homography: (img1, img2, H) with img2 = img1 warped by H.

    Made from :mod:`cvexplorer.samples`, so it needs no downloaded data.
    """
    import cv2  # lazy: importing OpenCV costs start-up time that a panel without this sample should not pay

    w, h = size
    big = get_sample(sample, (w, h))
    rng = np.random.default_rng(seed)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    jit = rng.uniform(-1, 1, (4, 2)) * np.array([w, h]) * 0.08 * strength
    dst = src + jit + np.array([-0.12 * w * strength, 0.03 * h * strength])
    H = dlt(src, dst)
    img2 = cv2.warpPerspective(big, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return big, img2, H


def sample_panorama(sample: str = "still-life", n: int = 3, size: tuple[int, int] = (1400, 600),
                    view: tuple[int, int] = (600, 520), seed: int = 5) -> tuple[list, list]:
    """Built-in overlapping views of one wide sample image: (views, true homographies view → wide)."""
    import cv2  # lazy: importing OpenCV costs start-up time that a panel without this sample should not pay

    W, Hh = size
    wide = get_sample(sample, (W, Hh))
    rng = np.random.default_rng(seed)
    vw, vh = view
    views, Hs = [], []
    xs = np.linspace(0, W - vw, n)
    for x in xs:
        quad = np.array([[x, 40], [x + vw, 40], [x + vw, 40 + vh], [x, 40 + vh]], float)
        quad[:, 1] = np.clip(quad[:, 1] - 40 + (Hh - vh) / 2, 0, Hh)
        quad += rng.uniform(-25, 25, (4, 2))
        quad = np.clip(quad, 0, [W, Hh])
        Hv = dlt(np.array([[0, 0], [vw, 0], [vw, vh], [0, vh]], float), quad)  # view -> wide
        v = cv2.warpPerspective(wide, np.linalg.inv(Hv), (vw, vh), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT)
        views.append(v)
        Hs.append(Hv)
    return views, Hs


def synthetic_view(image: np.ndarray, *, seed: int = 1, strength: float = 0.07) -> tuple[np.ndarray, np.ndarray]:
    """A second view of one photo, made by warping it with a known homography: ``(view, H)``.

    The corners move by up to ``strength`` of the image size (plus a shift of a tenth of the width to
    the left), so a single photo still gives a pair whose true H is known. Borders are reflected.

    >>> img = np.zeros((60, 80, 3), np.uint8)
    >>> view, H = synthetic_view(img)
    >>> view.shape, H.shape
    ((60, 80, 3), (3, 3))
    """
    import cv2  # lazy: importing OpenCV costs start-up time that a panel without this sample should not pay

    rgb = np.ascontiguousarray(np.asarray(image)[..., :3])
    h, w = rgb.shape[:2]
    rng = np.random.default_rng(seed)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    dst = src + rng.uniform(-1, 1, (4, 2)) * np.array([w, h]) * strength + np.array([-0.1 * w, 0])
    H = dlt(src, dst)
    return cv2.warpPerspective(rgb, H, (w, h), borderMode=cv2.BORDER_REFLECT), H


def document_corners(size: tuple[int, int]) -> np.ndarray:
    """The poster's corners in the built-in "document" sample of ``size`` (w, h): top-left, top-right,
    bottom-right, bottom-left, as (4, 2) pixels (a ready-made click set for manual rectification).

    >>> document_corners((100, 50)).tolist()[0]
    [30.0, 6.0]
    """
    w, h = size
    return np.array([[0.30, 0.12], [0.72, 0.20], [0.68, 0.90], [0.22, 0.80]]) * np.array([w, h], float)
