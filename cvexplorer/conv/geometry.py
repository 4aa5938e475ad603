"""Arguments and geometry shared by convolution, pooling and transposed convolution.

Where a window sits: output cell ``(i, j)`` reads input rows ``i·S + a·D − P`` (``a = 0 … K−1``) and
the same for columns; a row outside ``0 … N−1`` is padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import formulas

__all__ = ["ConvGeometry", "conv_geometry", "Window", "window_at", "window_under"]


def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be one whole number or a (rows, columns) pair, got {value!r}.")
        a, b = value
    else:
        a = b = value
    out = []
    for v in (a, b):
        if isinstance(v, (bool, np.bool_)) or not float(v).is_integer():
            raise ValueError(f"{name} must be a whole number, got {v!r}.")
        v = int(v)
        if v < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {v}.")
        out.append(v)
    return out[0], out[1]


def _as_input(x, kernel) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim not in (2, 3):
        raise ValueError(f"The input must be a 2-D (H, W) or 3-D (H, W, C) array, got shape {x.shape}.")
    if k.ndim not in (2, 3):
        raise ValueError(f"The kernel must be (kh, kw) or (kh, kw, C), got shape {k.shape}.")
    if k.ndim == 3:
        if x.ndim != 3 or x.shape[2] != k.shape[2]:
            raise ValueError(f"A {k.shape[2]}-channel kernel needs an input with {k.shape[2]} channels, "
                             f"got shape {x.shape}.")
    elif x.ndim == 3:
        raise ValueError(f"A {x.shape[2]}-channel input needs a kernel with {x.shape[2]} channels (kh, kw, C); "
                         f"got a 2-D kernel {k.shape}.")
    if k.size == 0 or x.size == 0:
        raise ValueError("The input and the kernel must not be empty.")
    if not np.all(np.isfinite(k)):
        raise ValueError("The kernel contains a value that is not a finite number.")
    return x, k


@dataclass(frozen=True)
class ConvGeometry:
    """Sizes of one convolution, per axis as (rows, cols) pairs.

    ``span`` is the dilated kernel's footprint ``D(K−1)+1``. Indexing by name (``g["out"]``) still
    works for scripts written when this was a dict.
    """

    out: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    kernel: tuple[int, int]
    span: tuple[int, int]

    def __getitem__(self, key: str):
        return getattr(self, key)


def conv_geometry(shape, kernel_shape, *, stride=1, padding=0, dilation=1) -> ConvGeometry:
    """Output size of a convolution per axis, with the engine's sentence when a setting is invalid.

    Each axis is ``formulas.conv_output_size``: :math:`\\lfloor(N+2P-D(K-1)-1)/S\\rfloor+1`.

    >>> g = conv_geometry((5, 5), (3, 3), padding=1)
    >>> g.out, g["span"]
    ((5, 5), (3, 3))
    """
    sh, sw = _pair(stride, "The stride", 1)
    ph, pw = _pair(padding, "The padding", 0)
    dh, dw = _pair(dilation, "The dilation", 1)
    kh, kw = int(kernel_shape[0]), int(kernel_shape[1])
    oh = formulas.conv_output_size(int(shape[0]), kh, stride=sh, padding=ph, dilation=dh)
    ow = formulas.conv_output_size(int(shape[1]), kw, stride=sw, padding=pw, dilation=dw)
    return ConvGeometry((oh, ow), (sh, sw), (ph, pw), (dh, dw), (kh, kw), (dh * (kh - 1) + 1, dw * (kw - 1) + 1))


def _dilate(k: np.ndarray, dh: int, dw: int) -> np.ndarray:
    """The kernel with ``D-1`` zeros between its taps (what a dilated kernel looks like to filter2D)."""
    if dh == 1 and dw == 1:
        return k
    kh, kw = k.shape[:2]
    out = np.zeros((dh * (kh - 1) + 1, dw * (kw - 1) + 1) + k.shape[2:], dtype=k.dtype)
    out[::dh, ::dw] = k
    return out


def _window_rows(i: int, s: int, d: int, k: int, p: int) -> np.ndarray:
    """Input rows (original coordinates; negative or >= N means padding) of output row ``i``."""
    return i * s + d * np.arange(k) - p


@dataclass(frozen=True)
class Window:
    """Where one output cell's window lies on the input.

    ``out_pos`` is the output (row, col); ``y0, x0`` the first tap and ``y1, x1`` one past the last
    (input pixels; negative or past the edge means padding); ``taps_y``/``taps_x`` the rows and
    columns the kernel actually reads (every ``D``-th pixel when dilated).
    """

    out_pos: tuple[int, int]
    y0: int
    x0: int
    y1: int
    x1: int
    taps_y: tuple[int, ...]
    taps_x: tuple[int, ...]


def window_at(out_pos, g: ConvGeometry) -> Window:
    """The input window of output cell ``out_pos`` (row, col).

    >>> w = window_at((1, 2), conv_geometry((5, 5), (3, 3), padding=1, dilation=1))
    >>> (w.y0, w.x0, w.y1, w.x1), w.taps_x
    ((0, 1, 3, 4), (1, 2, 3))
    """
    r, c = int(out_pos[0]), int(out_pos[1])
    ry = _window_rows(r, g.stride[0], g.dilation[0], g.kernel[0], g.padding[0])
    rx = _window_rows(c, g.stride[1], g.dilation[1], g.kernel[1], g.padding[1])
    return Window((r, c), int(ry[0]), int(rx[0]), int(ry[-1]) + 1, int(rx[-1]) + 1,
                  tuple(int(v) for v in ry), tuple(int(v) for v in rx))


def window_under(x: float, y: float, g: ConvGeometry) -> Window:
    """The window whose centre is nearest the input point (x, y) (a cursor on the photo), clamped to the output.

    Output row ``i`` is centred on input row ``i·S − P + D(K−1)/2``, so ``i = round((y + P − D(K−1)/2) / S)``.

    >>> window_under(10.2, 4.6, conv_geometry((20, 20), (3, 3), padding=1)).out_pos
    (5, 10)
    """
    (sh, sw), (ph, pw), (eh, ew), (oh, ow) = g.stride, g.padding, g.span, g.out
    r = int(round((y + ph - (eh - 1) / 2) / sh))
    c = int(round((x + pw - (ew - 1) / 2) / sw))
    return window_at((min(max(r, 0), oh - 1), min(max(c, 0), ow - 1)), g)
