"""Pictures laid over pictures: masks, error maps and seams as RGBA, in colours the caller names.

The one home for composing overlays. The engine knows no theme: the UI passes the RGB of a colour
role (``theme.color("positive")``), so one function serves SAM masks, U-Net disagreement, stereo
error maps and panorama seams in every theme.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["hex_to_rgb", "mask_rgba", "tint", "values_rgba"]


def hex_to_rgb(color: str | Sequence[int]) -> tuple[int, int, int]:
    """``"#0072B2"`` -> ``(0, 114, 178)``; an (r, g, b) tuple passes through.

    >>> hex_to_rgb("#0072B2")
    (0, 114, 178)
    """
    if isinstance(color, str):
        c = color.lstrip("#")
        if len(c) != 6:
            raise ValueError(f"A colour is #RRGGBB, not {color!r}.")
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    r, g, b = (int(v) for v in color)
    return r, g, b


def mask_rgba(mask: np.ndarray, color: str | Sequence[int], alpha: float = 0.45) -> np.ndarray:
    """An (H, W) boolean mask as an (H, W, 4) uint8 overlay: ``color`` at ``alpha`` where True, clear elsewhere.

    >>> m = np.array([[True, False]])
    >>> mask_rgba(m, "#ff0000", 0.5).tolist()
    [[[255, 0, 0, 128], [0, 0, 0, 0]]]
    """
    m = np.asarray(mask, bool)
    if m.ndim != 2:
        raise ValueError(f"A mask is one channel (H, W), not shape {m.shape}.")
    out = np.zeros(m.shape + (4,), np.uint8)
    out[m] = (*hex_to_rgb(color), int(round(255 * float(alpha))))
    return out


def values_rgba(values: np.ndarray, color: str | Sequence[int], *, vmax: float | None = None,
                alpha: float = 0.8) -> np.ndarray:
    """A non-negative (H, W) map (an error, a disagreement) as ``color`` whose opacity grows with the value.

    NaN is transparent. ``vmax`` (default: the map's maximum) is fully opaque (``alpha``).

    >>> values_rgba(np.array([[0.0, 1.0, np.nan]]), (0, 0, 255), alpha=1.0)[0, :, 3].tolist()
    [0, 255, 0]
    """
    v = np.asarray(values, np.float32)
    finite = np.isfinite(v)
    top = float(vmax) if vmax is not None else (float(v[finite].max()) if finite.any() else 1.0)
    a = np.zeros(v.shape, np.float32)
    if top > 0:
        np.clip(np.where(finite, v, 0.0) / top, 0.0, 1.0, out=a)
    out = np.zeros(v.shape + (4,), np.uint8)
    out[..., :3] = hex_to_rgb(color)
    out[..., 3] = np.round(a * 255 * float(alpha)).astype(np.uint8)
    return out


def tint(rgb: np.ndarray, mask: np.ndarray, color: str | Sequence[int], alpha: float = 0.45) -> np.ndarray:
    """The image with ``mask`` tinted in ``color`` (a flattened overlay, e.g. for a PNG export).

    >>> img = np.zeros((2, 2, 3), np.uint8); m = np.array([[True, False], [False, False]])
    >>> tint(img, m, (200, 0, 0), 0.5)[0, 0].tolist(), tint(img, m, (200, 0, 0), 0.5)[1, 1].tolist()
    ([100, 0, 0], [0, 0, 0])
    """
    a = np.asarray(rgb, np.uint8)
    m = np.asarray(mask, bool)
    if m.shape != a.shape[:2]:
        raise ValueError(f"The mask is {m.shape[::-1]} but the image is {a.shape[1::-1]} (width, height).")
    out = a.copy()
    c = np.asarray(hex_to_rgb(color), np.float32)
    out[m] = np.round(a[m].astype(np.float32) * (1.0 - alpha) + c * alpha).astype(np.uint8)
    return out
