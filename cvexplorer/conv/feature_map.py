"""Image mode's work on a photo: the feature map (OpenCV path, float32), its display copies and a lazy trace.

The whole job runs on a worker thread; the GUI only uploads the small display copies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..trace import Trace
from .convolution import conv2d, conv2d_trace
from .geometry import ConvGeometry, conv_geometry

__all__ = ["FeatureMap", "feature_map", "signed_maxabs_pool", "display_copy", "tour_positions"]


@dataclass(frozen=True)
class FeatureMap:
    """The result of :func:`feature_map`.

    Attributes
    ----------
    fmap : (Oh, Ow) float32, read-only
        The feature map at full resolution (after ReLU when asked).
    levels : (lo, hi)
        Symmetric colour levels (±99th percentile of |fmap|): zero sits in the middle of a diverging map.
    trace : Trace
        The lazy step-through; ``trace[i]`` is output cell ``divmod(i, Ow)``; ``trace.final is fmap``.
    geometry : ConvGeometry
    kernel : array
        The kernel that ran ((kh, kw), or (kh, kw, 3) = kernel/3 per channel in "rgb").
    source : (H, W) or (H, W, 3) array
        The input the kernel read (grey or RGB), to show the numbers under a window.
    shown_in, shown_out : arrays
        Display copies (longest side at most ``max_display``) of the input and of the map.
    out_cover : (h, w)
        The region of the map, in output pixels, that ``shown_out`` covers.
    timings : mapping
        Stage → milliseconds ("to grey", "feature map", "display copies").
    """

    fmap: np.ndarray
    levels: tuple[float, float]
    trace: Trace
    geometry: ConvGeometry
    kernel: np.ndarray
    source: np.ndarray
    shown_in: np.ndarray
    shown_out: np.ndarray
    out_cover: tuple[int, int]
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def in_shape(self) -> tuple[int, int]:
        return tuple(self.source.shape[:2])


def display_copy(a: np.ndarray, max_side: int) -> np.ndarray:
    """``a`` shrunk so its longest side is at most ``max_side`` (bilinear sampling), or ``a`` itself.

    >>> display_copy(np.zeros((300, 400), np.uint8), 100).shape
    (75, 100)
    """
    import cv2  # lazy: `import cvexplorer` stays cheap

    h, w = a.shape[:2]
    if max(h, w) <= max_side:
        return np.ascontiguousarray(a)
    s = max_side / max(h, w)
    # INTER_LINEAR samples the picture (thin edges keep their strength; INTER_AREA would average them away)
    return cv2.resize(a, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_LINEAR)


def signed_maxabs_pool(a: np.ndarray, f: int) -> np.ndarray:
    """Shrink a signed map by ``f``, keeping per ``f×f`` block the value of largest magnitude.

    A thin edge in a feature map is one or two pixels wide; averaging or sampling a 12-MP map down
    to the screen would lose it, keeping each block's extreme does not. Partial blocks at the
    bottom/right are dropped.

    >>> signed_maxabs_pool(np.array([[1., -5, 2, 0], [0, 3, 0, 1]]), 2)
    array([[-5.,  2.]])
    """
    if f <= 1:
        return np.ascontiguousarray(a)
    h, w = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    # rows first: each slice is whole rows (contiguous inside), so the full map is read once ...
    mx = a[0:h:f, :w].copy()
    mn = mx.copy()
    for i in range(1, f):
        np.maximum(mx, a[i:h:f, :w], out=mx)
        np.minimum(mn, a[i:h:f, :w], out=mn)
    # ... then columns, on maps f times smaller
    mx2, mn2 = mx[:, 0::f].copy(), mn[:, 0::f].copy()
    for j in range(1, f):
        np.maximum(mx2, mx[:, j::f], out=mx2)
        np.minimum(mn2, mn[:, j::f], out=mn2)
    return np.where(mx2 >= -mn2, mx2, mn2)


def feature_map(rgb: np.ndarray, kernel, *, channels: str = "grey", stride=1, padding=1, dilation=1,
                relu: bool = False, max_display: int = 1000) -> FeatureMap:
    """A photo convolved with ``kernel``: the feature map, colour levels, display copies and a lazy trace.

    ``channels="grey"`` converts to grey (BT.601, OpenCV's ``COLOR_RGB2GRAY``) and convolves once;
    ``"rgb"`` convolves each channel with ``kernel/3`` and sums (a 3-channel kernel). The map is
    :func:`conv2d` with ``method="opencv"`` in float32; ``relu`` clips it at zero, ``max(0, y)``.

    >>> rgb = np.zeros((4, 6, 3), np.uint8); rgb[:, 3:] = 255
    >>> r = feature_map(rgb, [[-1, 0, 1]] * 3)
    >>> r.fmap.shape, float(r.fmap[1, 3]), r.trace[1 * 6 + 3]["sum"]
    ((4, 6), 765.0, 765.0)
    """
    import cv2  # lazy: `import cvexplorer` stays cheap

    if channels not in ("grey", "rgb"):
        raise ValueError(f"channels must be 'grey' or 'rgb', not {channels!r}.")
    t0 = time.perf_counter()
    if channels == "rgb":
        src = rgb
        k = np.repeat(np.asarray(kernel, float)[..., None], 3, axis=2) / 3.0
    else:
        src = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        k = np.asarray(kernel, float)
    g = conv_geometry(src.shape, k.shape, stride=stride, padding=padding, dilation=dilation)
    t1 = time.perf_counter()
    fmap = conv2d(src, k, stride=g.stride, padding=g.padding, dilation=g.dilation, method="opencv",
                  dtype=np.float32)
    t2 = time.perf_counter()
    if relu:
        np.maximum(fmap, 0, out=fmap)
    sample = fmap[:: max(1, fmap.shape[0] // 300), :: max(1, fmap.shape[1] // 300)]
    m = float(np.percentile(np.abs(sample), 99.0))
    m = m if m > 1e-6 else max(1e-6, float(np.abs(fmap).max()), 1.0)
    fmap.setflags(write=False)  # the trace keeps it as its final state without a copy
    trace = conv2d_trace(src, k, stride=g.stride, padding=g.padding, dilation=g.dilation, final=fmap)
    shown_in = display_copy(src, max_display)
    f = int(np.ceil(max(fmap.shape) / max_display))
    shown_out = signed_maxabs_pool(fmap, f)
    cover = (shown_out.shape[0] * f, shown_out.shape[1] * f) if f > 1 else fmap.shape
    t3 = time.perf_counter()
    ms = {"to grey": (t1 - t0) * 1e3, "feature map": (t2 - t1) * 1e3, "display copies": (t3 - t2) * 1e3}
    return FeatureMap(fmap, (-m, m), trace, g, k, src, shown_in, shown_out, tuple(cover), MappingProxyType(ms))


def tour_positions(out_shape, *, nx: int = 32, ny: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """A coarse raster of output rows and columns (about ``ny × nx`` stops) spread over the whole map:
    playing image mode sweeps the window across the photo through these.

    >>> rows, cols = tour_positions((3000, 4000))
    >>> len(rows), len(cols), int(rows[-1]), int(cols[-1])
    (24, 32, 2999, 3999)
    """
    oh, ow = int(out_shape[0]), int(out_shape[1])
    rows = np.unique(np.linspace(0, oh - 1, min(ny, oh)).astype(int))
    cols = np.unique(np.linspace(0, ow - 1, min(nx, ow)).astype(int))
    return rows, cols
