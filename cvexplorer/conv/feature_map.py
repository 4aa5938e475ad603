"""Image mode's work on a photo: the feature map (OpenCV path, float32), its display copies and a lazy trace.

The whole job runs on a worker thread; the GUI only uploads the small display copies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..parallel import shared_pool
from ..trace import Trace
from .convolution import conv2d, conv2d_trace
from .geometry import ConvGeometry, _dilate, conv_geometry

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
    import cv2  # lazy: `import cvexplorer` stays cheap

    a = np.asarray(a)
    a = a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)
    ph, pw = -a.shape[0] % f, -a.shape[1] % f
    if ph or pw:  # partial blocks at the bottom/right: complete them with their edge values
        a = np.pad(a, ((0, ph), (0, pw)), mode="edge")
    h, w = a.shape
    # rows first: every f-th row is a view OpenCV reads in place, and the map is read once ...
    mx, mn = cv2.max(a[0:h:f, :w], a[1:h:f, :w]), cv2.min(a[0:h:f, :w], a[1:h:f, :w])
    for i in range(2, f):
        cv2.max(mx, a[i:h:f, :w], dst=mx)
        cv2.min(mn, a[i:h:f, :w], dst=mn)
    # ... then columns, the same way on the transposed maps, f times smaller
    mx, mn = cv2.transpose(mx), cv2.transpose(mn)
    mx2, mn2 = cv2.max(mx[0::f], mx[1::f]), cv2.min(mn[0::f], mn[1::f])
    for j in range(2, f):
        cv2.max(mx2, mx[j::f], dst=mx2)
        cv2.min(mn2, mn[j::f], dst=mn2)
    return cv2.transpose(np.where(mx2 >= -mn2, mx2, mn2))


_BAND_BYTES = 1 << 21  # one band of the float map (2 MiB) is still in cache while it is shrunk
_SPLIT_PIXELS = 1 << 20  # from this size of map up, two threads share the bands


def feature_map(rgb: np.ndarray, kernel, *, channels: str = "grey", stride=1, padding=1, dilation=1,
                relu: bool = False, max_display: int = 1000) -> FeatureMap:
    """A photo convolved with ``kernel``: the feature map, colour levels, display copies and a lazy trace.

    ``channels="grey"`` converts to grey (BT.601, OpenCV's ``COLOR_RGB2GRAY``) and convolves once;
    ``"rgb"`` convolves each channel with ``kernel/3`` and sums (a 3-channel kernel). The map is
    :func:`conv2d` with ``method="opencv"`` in float32; ``relu`` clips it at zero, ``max(0, y)``.

    The work runs in bands of output rows: each band is converted, convolved and shrunk for display
    while it is still in the processor's cache, so the 12-MP float map is written once and never
    read back from memory. From a megapixel up, the two halves' bands run on two threads (OpenCV
    releases the GIL); ``timings`` then adds both halves' time per stage.

    >>> rgb = np.zeros((4, 6, 3), np.uint8); rgb[:, 3:] = 255
    >>> r = feature_map(rgb, [[-1, 0, 1]] * 3)
    >>> r.fmap.shape, float(r.fmap[1, 3]), r.trace[1 * 6 + 3]["sum"]
    ((4, 6), 765.0, 765.0)
    """
    import cv2  # lazy: `import cvexplorer` stays cheap

    if channels not in ("grey", "rgb"):
        raise ValueError(f"channels must be 'grey' or 'rgb', not {channels!r}.")
    rgb = np.asarray(rgb)
    H, W = rgb.shape[:2]
    if channels == "rgb":
        src = rgb
        k = np.repeat(np.asarray(kernel, float)[..., None], 3, axis=2) / 3.0
    else:
        src = np.empty((H, W), np.uint8)  # filled band by band, just ahead of the convolution
        k = np.asarray(kernel, float)
    g = conv_geometry(src.shape, k.shape, stride=stride, padding=padding, dilation=dilation)
    (sh, sw), (ph, pw), (dh, dw) = g.stride, g.padding, g.dilation
    eh, (oh, ow) = g.span[0], g.out
    f = int(np.ceil(max(oh, ow) / max_display))
    ew, ew_pad = g.span[1], max(0, pw - (g.span[1] - 1) // 2)
    # the common case (one channel, stride 1, output as wide as the padded input): filter2D writes
    # each band straight into the map, its last eh-1 rows (half outside the band) overwritten by
    # the next band; a buffer eh-1 rows taller takes the last band's
    direct = src.ndim == 2 and (sh, sw) == (1, 1) and ow == W + 2 * ew_pad
    buf = np.empty((oh + eh - 1 if direct else oh, ow), np.float32)
    fmap = buf[:oh]
    kd = _dilate(k, dh, dw).astype(np.float32)
    shown_out = np.empty((-(-oh // f), -(-ow // f)), np.float32) if f > 1 else fmap
    sy, sx = max(1, oh // 300), max(1, ow // 300)  # the sample the colour levels come from
    band = max(f, _BAND_BYTES // (4 * ow) // f * f)  # output rows, whole display blocks

    def run(starts: range, scratch_last: bool) -> tuple[list, dict]:
        """Convert, convolve and shrink the bands that start at ``starts``, in order."""
        samples, ms = [], dict.fromkeys(("to grey", "feature map", "display copies"), 0.0)
        done = 0  # input rows converted to grey so far (by this run)
        for r0 in starts:
            r1 = min(oh, r0 + band)
            t0 = time.perf_counter()
            # output row r reads input rows r·S − P + a·D (a = 0 … K−1); rows outside the image are zeros
            i0, i1 = r0 * sh - ph, (r1 - 1) * sh - ph + eh
            if channels == "grey" and min(H, i1) > max(done, i0, 0):
                lo = max(done, i0, 0)  # (rows the other run also converts get the same bytes)
                cv2.cvtColor(rgb[lo:min(H, i1)], cv2.COLOR_RGB2GRAY, dst=src[lo:min(H, i1)])
                done = min(H, i1)
            t1 = time.perf_counter()
            top, bottom = max(0, -i0), max(0, i1 - H)  # zero rows above and below the image
            a, b = max(0, i0), min(H, i1)
            piece = src[a:b] if b > a else src[:0]  # (src[0:-5] would be most of the image)
            if len(piece) == 0:  # a band that reads only padding rows (a wide padding)
                piece, top, bottom = np.zeros((i1 - i0,) + src.shape[1:], src.dtype), 0, 0
            out = fmap[r0:r1]
            if direct:
                if top or bottom or ew_pad:
                    piece = cv2.copyMakeBorder(piece, top, bottom, ew_pad, ew_pad, cv2.BORDER_CONSTANT, value=0)
                # the rows past r1 are the next band's: the last band of a run that another run
                # continues writes them to a scratch array, not over rows that run may have done
                last = scratch_last and r0 == starts[-1]
                dst = np.empty((len(piece), ow), np.float32) if last else buf[r0:r0 + len(piece)]
                cv2.filter2D(piece, cv2.CV_32F, kd, dst=dst, anchor=(pw - ew_pad, 0), borderType=cv2.BORDER_CONSTANT)
                if last:
                    out[...] = dst[:r1 - r0]
            else:
                if top or bottom:
                    piece = cv2.copyMakeBorder(piece, top, bottom, 0, 0, cv2.BORDER_CONSTANT, value=0)
                out[...] = conv2d(piece, k, stride=(sh, sw), padding=(0, pw), dilation=(dh, dw), method="opencv",
                                  dtype=np.float32)
            if relu:
                np.maximum(out, 0, out=out)
            t2 = time.perf_counter()
            samples.append(fmap[-r0 % sy + r0:r1:sy, ::sx])
            if f > 1:
                shown_out[r0 // f:-(-r1 // f)] = signed_maxabs_pool(out, f)
            t3 = time.perf_counter()
            ms["to grey"] += (t1 - t0) * 1e3
            ms["feature map"] += (t2 - t1) * 1e3
            ms["display copies"] += (t3 - t2) * 1e3
        return samples, ms

    starts = range(0, oh, band)
    if len(starts) >= 4 and oh * ow >= _SPLIT_PIXELS:
        # two runs over the two halves, in parallel: OpenCV releases the GIL, and band by band it
        # leaves the second core mostly idle (one filter2D over the whole photo uses both)
        half = len(starts) // 2
        second = shared_pool().submit(run, starts[half:], False)
        parts = [run(starts[:half], True), second.result()]
    else:
        parts = [run(starts, False)]
    samples = [x for part in parts for x in part[0]]
    ms = {key: sum(part[1][key] for part in parts) for key in parts[0][1]}  # both halves' time
    t0 = time.perf_counter()
    sample = np.concatenate(samples)
    m = float(np.percentile(np.abs(sample), 99.0))
    m = m if m > 1e-6 else max(1e-6, float(np.abs(fmap).max()), 1.0)
    fmap.setflags(write=False)  # the trace keeps it as its final state without a copy
    trace = conv2d_trace(src, k, stride=g.stride, padding=g.padding, dilation=g.dilation, final=fmap)
    shown_in = display_copy(src, max_display)
    cover = (shown_out.shape[0] * f, shown_out.shape[1] * f) if f > 1 else fmap.shape
    ms["display copies"] += (time.perf_counter() - t0) * 1e3
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
