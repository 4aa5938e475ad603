"""Cutting an image into patches (tokens) and putting it back together.

A ViT reads an image as a sequence: the picture is cut into non-overlapping ``P×P`` patches, row by
row, and each patch becomes one token. When a side is not a multiple of ``P`` the bottom and right
edges are padded with zeros first (so every patch is full), and the inverse crops them off again.
Reference: Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021, arXiv:2010.11929.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TokenGrid", "token_grid", "patchify", "unpatchify", "patch_rects", "patch_at", "grid_segments",
           "masked_image", "padding_rects", "fit_square"]


@dataclass(frozen=True)
class TokenGrid:
    """How an ``height × width`` image splits into ``patch × patch`` tokens.

    ``rows × cols`` patches (``patches`` in all), ``tokens`` = patches plus the CLS token when
    ``cls``; ``pad_bottom``/``pad_right`` zero rows/columns added so every patch is full;
    ``values_per_patch`` = patch² · channels (the length of one flattened patch).
    """

    height: int
    width: int
    patch: int
    rows: int
    cols: int
    pad_bottom: int
    pad_right: int
    channels: int
    cls: bool

    @property
    def patches(self) -> int:
        return self.rows * self.cols

    @property
    def tokens(self) -> int:
        return self.patches + (1 if self.cls else 0)

    @property
    def values_per_patch(self) -> int:
        return self.patch * self.patch * self.channels

    @property
    def padded_shape(self) -> tuple[int, int]:
        return self.rows * self.patch, self.cols * self.patch


def token_grid(height: int, width: int, patch: int, *, channels: int = 3, cls: bool = True) -> TokenGrid:
    """The patch grid of an image: ``rows = ⌈H / P⌉``, ``cols = ⌈W / P⌉``, ``N = rows · cols``.

    >>> g = token_grid(224, 224, 16)
    >>> g.rows, g.cols, g.patches, g.tokens, g.values_per_patch
    (14, 14, 196, 197, 768)
    >>> token_grid(100, 70, 16).padded_shape
    (112, 80)
    """
    h, w, p = int(height), int(width), int(patch)
    if p < 1:
        raise ValueError(f"The patch size must be at least 1 pixel, not {patch}.")
    if h < 1 or w < 1:
        raise ValueError(f"An image of {height}×{width} pixels has nothing to cut into patches.")
    if channels < 1:
        raise ValueError(f"An image needs at least one channel, not {channels}.")
    rows, cols = -(-h // p), -(-w // p)
    return TokenGrid(h, w, p, rows, cols, rows * p - h, cols * p - w, int(channels), bool(cls))


def _as_hwc(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:
        return a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"patchify takes an (H, W) or (H, W, C) image, not an array of shape {a.shape}.")
    return a


def patchify(image: np.ndarray, patch: int) -> np.ndarray:
    """Cut an image into ``(N, patch, patch, C)`` patches, row by row (token order).

    The bottom and right edges are zero-padded to a multiple of ``patch``; an (H, W) image is
    treated as one channel. The input is not modified; the dtype is kept.

    >>> img = np.arange(5 * 6 * 1).reshape(5, 6, 1)
    >>> p = patchify(img, 4)
    >>> p.shape
    (4, 4, 4, 1)
    >>> int(p[1, 0, 0, 0]), int(p[3, 3, 3, 0])   # top-left of patch 1 is pixel (0, 4); padding is 0
    (4, 0)
    """
    a = _as_hwc(image)
    g = token_grid(a.shape[0], a.shape[1], patch, channels=a.shape[2])
    ph, pw = g.padded_shape
    padded = np.zeros((ph, pw, g.channels), dtype=a.dtype)
    padded[: g.height, : g.width] = a
    p = g.patch
    return np.ascontiguousarray(padded.reshape(g.rows, p, g.cols, p, g.channels)
                                .transpose(0, 2, 1, 3, 4).reshape(g.patches, p, p, g.channels))


def unpatchify(patches: np.ndarray, height: int, width: int) -> np.ndarray:
    """The exact inverse of :func:`patchify`: reassemble ``(N, P, P, C)`` patches into an
    ``(height, width, C)`` image, cropping the zero padding off the bottom and right.

    >>> img = np.random.default_rng(0).integers(0, 255, (37, 50, 3), dtype=np.uint8)
    >>> bool((unpatchify(patchify(img, 16), 37, 50) == img).all())
    True
    """
    a = np.asarray(patches)
    if a.ndim != 4 or a.shape[1] != a.shape[2]:
        raise ValueError(f"unpatchify takes (N, P, P, C) patches, not an array of shape {a.shape}.")
    g = token_grid(height, width, a.shape[1], channels=a.shape[3])
    if a.shape[0] != g.patches:
        raise ValueError(f"A {height}×{width} image in {g.patch}-pixel patches has {g.patches} patches "
                         f"({g.rows}×{g.cols}), but {a.shape[0]} were given.")
    p = g.patch
    full = a.reshape(g.rows, g.cols, p, p, g.channels).transpose(0, 2, 1, 3, 4).reshape(g.rows * p, g.cols * p,
                                                                                         g.channels)
    return np.ascontiguousarray(full[:height, :width])


def patch_rects(grid: TokenGrid) -> np.ndarray:
    """(N, 4) ``x0, y0, x1, y1`` of every patch in image pixels (token order; edge patches reach
    into the padding).

    >>> patch_rects(token_grid(16, 24, 8))[:2].tolist()
    [[0.0, 0.0, 8.0, 8.0], [8.0, 0.0, 16.0, 8.0]]
    """
    r, c = np.divmod(np.arange(grid.patches), grid.cols)
    p = float(grid.patch)
    return np.stack([c * p, r * p, (c + 1) * p, (r + 1) * p], axis=1).astype(float)


def patch_at(grid: TokenGrid, x: float, y: float) -> int | None:
    """The patch index under image pixel ``(x, y)`` (row-major), or None outside the padded grid.

    >>> patch_at(token_grid(224, 224, 16), 20.5, 3.0)
    1
    """
    if x < 0 or y < 0:
        return None
    c, r = int(x // grid.patch), int(y // grid.patch)
    if r >= grid.rows or c >= grid.cols:
        return None
    return r * grid.cols + c


def grid_segments(grid: TokenGrid, *, every: int = 1) -> np.ndarray:
    """(K, 4) ``x0, y0, x1, y1`` line segments of the patch borders over the padded grid; with
    ``every`` = w only every w-th border (window outlines; the last line closes the grid).

    >>> grid_segments(token_grid(16, 8, 8)).tolist()
    [[0.0, 0.0, 0.0, 16.0], [8.0, 0.0, 8.0, 16.0], [0.0, 0.0, 8.0, 0.0], [0.0, 8.0, 8.0, 8.0], [0.0, 16.0, 8.0, 16.0]]
    """
    if every < 1:
        raise ValueError(f"Lines every {every} patches make no sense: use 1 or more.")
    ph, pw = grid.padded_shape
    xs = np.unique(np.r_[np.arange(0, grid.cols + 1, every), grid.cols]).astype(float) * grid.patch
    ys = np.unique(np.r_[np.arange(0, grid.rows + 1, every), grid.rows]).astype(float) * grid.patch
    vertical = np.stack([xs, np.zeros_like(xs), xs, np.full_like(xs, ph)], axis=1)
    horizontal = np.stack([np.zeros_like(ys), ys, np.full_like(ys, pw), ys], axis=1)
    return np.concatenate([vertical, horizontal])


def masked_image(image: np.ndarray, visible: np.ndarray, patch: int, *, fill=(128, 128, 128)) -> np.ndarray:
    """The image as a masked encoder sees it: hidden patches (``visible`` False, token order)
    painted ``fill``. Returns a new (H, W, 3) uint8 array.

    >>> out = masked_image(np.zeros((4, 4, 3), np.uint8), np.array([True, False, True, True]), 2, fill=(9, 9, 9))
    >>> out[:2, :, 0].tolist()
    [[0, 0, 9, 9], [0, 0, 9, 9]]
    """
    a = np.asarray(image)
    g = token_grid(a.shape[0], a.shape[1], patch, channels=a.shape[2] if a.ndim == 3 else 1)
    v = np.asarray(visible, bool).reshape(-1)
    if v.shape != (g.patches,):
        raise ValueError(f"The visibility list has {v.size} entries but the image has {g.patches} patches.")
    hidden = np.repeat(np.repeat((~v).reshape(g.rows, g.cols), patch, axis=0), patch, axis=1)[: g.height, : g.width]
    out = np.array(a, dtype=np.uint8, copy=True)
    out[hidden] = np.asarray(fill, np.uint8)
    return out


def padding_rects(grid: TokenGrid) -> np.ndarray:
    """(K, 4) rectangles of the zero padding added at the right and bottom (K = 0, 1 or 2).

    >>> padding_rects(token_grid(10, 13, 4)).tolist()
    [[13.0, 0.0, 16.0, 12.0], [0.0, 10.0, 13.0, 12.0]]
    """
    ph, pw = grid.padded_shape
    rects = []
    if grid.pad_right:
        rects.append([grid.width, 0, pw, ph])
    if grid.pad_bottom:
        rects.append([0, grid.height, grid.width, ph])
    return np.array(rects, float).reshape(-1, 4)


def fit_square(image: np.ndarray, side: int) -> np.ndarray:
    """The image resized (area average when shrinking) to ``side × side``, e.g. SAM's 1024×1024 input.

    >>> fit_square(np.zeros((30, 40, 3), np.uint8), 16).shape
    (16, 16, 3)
    """
    import cv2  # lazy: resizing is the only OpenCV call here

    if side < 1:
        raise ValueError(f"A square side must be at least 1 pixel, not {side}.")
    a = np.asarray(image)
    shrink = side < max(a.shape[:2])
    return cv2.resize(a, (int(side), int(side)), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
