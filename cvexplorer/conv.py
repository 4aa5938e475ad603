"""Convolution, pooling and transposed convolution: a fast path, a teaching path and step traces.

Everything here follows the deep-learning definition (what PyTorch calls ``conv2d``): a
*cross-correlation* (the kernel is not flipped) over a zero-padded input,

.. math:: y[i, j] = b + \\sum_{a, b', c} k[a, b', c]\\, x_p[iS + aD,\\; jS + b'D,\\; c]

where :math:`x_p` is the input with ``P`` zeros on every side, ``S`` the stride and ``D`` the
dilation. The output side is ``formulas.conv_output_size`` (:math:`\\lfloor(N+2P-D(K-1)-1)/S\\rfloor+1`).

Two implementations compute it and are tested equal:

* ``method="opencv"``: :func:`cv2.filter2D` with ``BORDER_CONSTANT`` and an anchor chosen so that
  the filter's output starts at the first padded window, then subsampled for the stride (a
  dilated kernel is the kernel with ``D-1`` zeros between its taps). Used for photos.
* ``method="numpy"``: a vectorised window view (``sliding_window_view`` + ``einsum``), the
  definition written as array code. Used for the small grids students step through.

The ``*_trace`` twins return a lazy :class:`~cvexplorer.trace.Trace` whose step ``i`` names one
output position, its input window (and which taps fall in the padding), the products and the sum.

References: Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016).

>>> x = np.arange(16.0).reshape(4, 4)
>>> conv2d(x, np.ones((2, 2)), stride=2)
array([[10., 18.],
       [42., 50.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import formulas
from .trace import Step, Trace

__all__ = [
    "conv2d", "pool2d", "conv_transpose2d",
    "conv2d_trace", "pool2d_trace", "conv_transpose2d_trace",
    "conv_geometry", "KERNELS", "kernel_by_name",
]


# -- arguments --------------------------------------------------------------------------------------
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


def conv_geometry(shape, kernel_shape, *, stride=1, padding=0, dilation=1) -> dict[str, Any]:
    """Output size of a convolution per axis, with the engine's sentence when a setting is invalid.

    >>> conv_geometry((5, 5), (3, 3), padding=1)["out"]
    (5, 5)
    """
    sh, sw = _pair(stride, "The stride", 1)
    ph, pw = _pair(padding, "The padding", 0)
    dh, dw = _pair(dilation, "The dilation", 1)
    kh, kw = int(kernel_shape[0]), int(kernel_shape[1])
    oh = formulas.conv_output_size(int(shape[0]), kh, stride=sh, padding=ph, dilation=dh)
    ow = formulas.conv_output_size(int(shape[1]), kw, stride=sw, padding=pw, dilation=dw)
    return {"out": (oh, ow), "stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw),
            "kernel": (kh, kw), "span": (dh * (kh - 1) + 1, dw * (kw - 1) + 1)}


def _dilate(k: np.ndarray, dh: int, dw: int) -> np.ndarray:
    if dh == 1 and dw == 1:
        return k
    kh, kw = k.shape[:2]
    out = np.zeros((dh * (kh - 1) + 1, dw * (kw - 1) + 1) + k.shape[2:], dtype=k.dtype)
    out[::dh, ::dw] = k
    return out


# -- conv2d -----------------------------------------------------------------------------------------
def conv2d(x, kernel, *, stride=1, padding=0, dilation=1, bias: float = 0.0, method: str = "auto",
           dtype=np.float64) -> np.ndarray:
    """2-D cross-correlation with zero padding, stride and dilation (the deep-learning ``conv2d``).

    Parameters
    ----------
    x : (H, W) or (H, W, C) array
    kernel : (kh, kw) or (kh, kw, C) array
        Rectangular and even sizes allowed; a multi-channel kernel sums over the channels.
    stride, padding, dilation : int or (rows, cols) pair
    bias : float
        Added to every output value.
    method : "auto", "opencv" or "numpy"
        ``auto`` uses OpenCV for anything bigger than a teaching grid.
    dtype : float64 (default) or float32
        float32 is what image mode uses on photos (half the memory, OpenCV's fastest path).

    Returns
    -------
    (Oh, Ow) array, ``Oh = formulas.conv_output_size(H, kh, stride, padding, dilation)``.

    Examples
    --------
    >>> x = np.array([[0, 1, 5], [2, 3, 4], [1, 0, 2]])
    >>> conv2d(x, [[1, 0], [0, -1]])
    array([[-3., -3.],
           [ 2.,  1.]])
    >>> conv2d(x, [[1]], padding=1).shape
    (5, 5)
    """
    x, k = _as_input(x, kernel)
    g = conv_geometry(x.shape, k.shape, stride=stride, padding=padding, dilation=dilation)
    if method == "auto":
        method = "opencv" if x.shape[0] * x.shape[1] * k.shape[0] * k.shape[1] > 20000 else "numpy"
    if method == "numpy":
        out = _conv2d_numpy(x, k, g)
    elif method == "opencv":
        out = _conv2d_opencv(x, k, g, np.dtype(dtype))
    else:
        raise ValueError(f"method must be 'auto', 'opencv' or 'numpy', not {method!r}.")
    out = out.astype(dtype, copy=False)
    if bias:
        out = out + np.asarray(bias, dtype=out.dtype)
    return out


def _conv2d_numpy(x: np.ndarray, k: np.ndarray, g: dict) -> np.ndarray:
    (sh, sw), (ph, pw), (dh, dw) = g["stride"], g["padding"], g["dilation"]
    (kh, kw), (eh, ew), (oh, ow) = g["kernel"], g["span"], g["out"]
    xf = x.astype(np.float64, copy=False)
    pad = ((ph, ph), (pw, pw)) + (((0, 0),) if x.ndim == 3 else ())
    xp = np.pad(xf, pad)
    win = sliding_window_view(xp, (eh, ew), axis=(0, 1))  # (H', W', [C,] eh, ew)
    win = win[: (oh - 1) * sh + 1: sh, : (ow - 1) * sw + 1: sw, ..., ::dh, ::dw]
    if x.ndim == 2:
        return np.einsum("ijab,ab->ij", win, k)
    return np.einsum("ijcab,abc->ij", win, k)


def _conv2d_opencv(x: np.ndarray, k: np.ndarray, g: dict, dtype: np.dtype) -> np.ndarray:
    import cv2

    (sh, sw), (ph, pw), (dh, dw) = g["stride"], g["padding"], g["dilation"]
    (eh, ew), (oh, ow) = g["span"], g["out"]
    ke = _dilate(k, dh, dw)
    # filter2D: dst(y, x) = sum k(a, b) src(y + a - ay, x + b - ax), zeros outside (BORDER_CONSTANT).
    # With anchor = padding, dst(y, x) is exactly the padded window starting at (y, x) -- as long as
    # the anchor lies inside the kernel and the output fits; larger paddings are added explicitly.
    eh_pad, ew_pad = max(0, ph - (eh - 1) // 2), max(0, pw - (ew - 1) // 2)
    ay, ax = ph - eh_pad, pw - ew_pad
    depth = cv2.CV_32F if dtype == np.float32 else cv2.CV_64F
    src = x
    if src.dtype == np.float64 and depth == cv2.CV_32F:
        src = src.astype(np.float32)
    elif src.dtype == np.float32 and depth == cv2.CV_64F:
        src = src.astype(np.float64)
    elif src.dtype not in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
        src = src.astype(np.float64 if depth == cv2.CV_64F else np.float32)
    if eh_pad or ew_pad:
        src = cv2.copyMakeBorder(np.ascontiguousarray(src), eh_pad, eh_pad, ew_pad, ew_pad,
                                 cv2.BORDER_CONSTANT, value=0)
    chans = [src] if src.ndim == 2 else [np.ascontiguousarray(src[..., c]) for c in range(src.shape[2])]
    kf = ke.astype(np.float32 if depth == cv2.CV_32F else np.float64)
    total = None
    for c, ch in enumerate(chans):
        kc = kf if kf.ndim == 2 else np.ascontiguousarray(kf[..., c])
        r = cv2.filter2D(ch, depth, kc, anchor=(ax, ay), borderType=cv2.BORDER_CONSTANT)
        total = r if total is None else cv2.add(total, r)
    out = total[: (oh - 1) * sh + 1: sh, : (ow - 1) * sw + 1: sw]
    return out if (sh == 1 and sw == 1) else np.ascontiguousarray(out)


def _window_rows(i: int, s: int, d: int, k: int, p: int) -> np.ndarray:
    """Input rows (original coordinates; negative or >= N means padding) of output row ``i``."""
    return i * s + d * np.arange(k) - p


def conv2d_trace(x, kernel, *, stride=1, padding=0, dilation=1, bias: float = 0.0, final=None) -> Trace:
    """Step through :func:`conv2d`: one step per output position, in row-major order.

    Step ``i`` carries ``out_pos`` (row, col), ``rows``/``cols`` (input coordinates of the taps;
    outside 0..N-1 means padding), ``in_padding`` (kh, kw) bool, ``values`` and ``products``
    ((kh, kw) or (kh, kw, C)), ``channel_sums`` (C,) for multi-channel input, ``bias`` and ``sum``
    (the output value). ``trace.final`` is the fast result (pass ``final=`` to reuse one).

    >>> t = conv2d_trace(np.arange(9.0).reshape(3, 3), np.ones((2, 2)))
    >>> len(t), t[3]["sum"], t[3]["out_pos"]
    (4, 24.0, (1, 1))
    """
    x, k = _as_input(x, kernel)
    g = conv_geometry(x.shape, k.shape, stride=stride, padding=padding, dilation=dilation)
    (sh, sw), (ph, pw), (dh, dw) = g["stride"], g["padding"], g["dilation"]
    (kh, kw), (oh, ow) = g["kernel"], g["out"]
    if final is None:
        final = conv2d(x, k, stride=g["stride"], padding=g["padding"], dilation=g["dilation"], bias=bias)
    H, W = x.shape[:2]

    def make(i: int) -> Step:
        r, c = divmod(i, ow)
        rows = _window_rows(r, sh, dh, kh, ph)
        cols = _window_rows(c, sw, dw, kw, pw)
        rin = (rows >= 0) & (rows < H)
        cin = (cols >= 0) & (cols < W)
        inside = rin[:, None] & cin[None, :]
        vals = np.zeros(k.shape, dtype=np.float64)
        sub = x[np.clip(rows, 0, H - 1)][:, np.clip(cols, 0, W - 1)].astype(np.float64)
        vals[inside] = sub[inside]
        prods = vals * k
        data = {"out_pos": (r, c), "rows": rows, "cols": cols, "in_padding": ~inside,
                "values": vals, "products": prods, "bias": float(bias)}
        if x.ndim == 3:
            cs = prods.sum(axis=(0, 1))
            data["channel_sums"] = cs
            total = float(cs.sum() + bias)
        else:
            total = float(prods.sum() + bias)
        data["sum"] = total
        npad = int((~inside).sum())
        cap = f"output ({r}, {c}) = {total:g}" + (f"  ({npad} taps in the padding)" if npad else "")
        return Step(i, cap, data)

    meta = {"kind": "conv", "input_shape": x.shape, "kernel_shape": k.shape, "out_shape": (oh, ow),
            "stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw), "bias": float(bias)}
    return Trace(length=oh * ow, make_step=make, final=final, meta=meta)


# -- pooling ----------------------------------------------------------------------------------------
def _pool_geometry(shape, kernel, stride, padding):
    kh, kw = _pair(kernel, "The pooling window", 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "The stride", 1)
    ph, pw = _pair(padding, "The padding", 0)
    oh = formulas.pool_output_size(int(shape[0]), kh, stride=sh, padding=ph)
    ow = formulas.pool_output_size(int(shape[1]), kw, stride=sw, padding=pw)
    return (kh, kw), (sh, sw), (ph, pw), (oh, ow)


def pool2d(x, kernel, *, stride=None, padding=0, mode: str = "max") -> np.ndarray:
    """Max or average pooling, channel by channel (stride defaults to the window size).

    Max pooling pads with −∞ (padding never wins); average pooling pads with zeros and divides by
    the full window size (PyTorch's ``count_include_pad=True``).

    >>> pool2d(np.array([[1, 3, 2, 8], [6, 0, 1, 4], [3, 1, 0, 2], [2, 0, 3, 1]]), 2)
    array([[6., 8.],
           [3., 3.]])
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}.")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (2, 3) or x.size == 0:
        raise ValueError(f"The input must be a non-empty (H, W) or (H, W, C) array, got shape {x.shape}.")
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = _pool_geometry(x.shape, kernel, stride, padding)
    fill = -np.inf if mode == "max" else 0.0
    pad = ((ph, ph), (pw, pw)) + (((0, 0),) if x.ndim == 3 else ())
    xp = np.pad(x, pad, constant_values=fill)
    win = sliding_window_view(xp, (kh, kw), axis=(0, 1))[: (oh - 1) * sh + 1: sh, : (ow - 1) * sw + 1: sw]
    return win.max(axis=(-2, -1)) if mode == "max" else win.mean(axis=(-2, -1))


def pool2d_trace(x, kernel, *, stride=None, padding=0, mode: str = "max") -> Trace:
    """Step through :func:`pool2d` (2-D input): one step per output cell.

    Step data: ``out_pos``, ``rows``, ``cols``, ``in_padding``, ``values`` (padding as −∞ for
    max, 0 for avg), ``result`` and, for max, ``winner`` (row, col) inside the window.

    >>> t = pool2d_trace(np.arange(16.0).reshape(4, 4), 2)
    >>> len(t), t[1]["result"]
    (4, 7.0)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"The pooling trace steps through one channel: give an (H, W) array, not {x.shape}.")
    final = pool2d(x, kernel, stride=stride, padding=padding, mode=mode)
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = _pool_geometry(x.shape, kernel, stride, padding)
    H, W = x.shape
    fill = -np.inf if mode == "max" else 0.0

    def make(i: int) -> Step:
        r, c = divmod(i, ow)
        rows = _window_rows(r, sh, 1, kh, ph)
        cols = _window_rows(c, sw, 1, kw, pw)
        inside = ((rows >= 0) & (rows < H))[:, None] & ((cols >= 0) & (cols < W))[None, :]
        vals = np.full((kh, kw), fill)
        sub = x[np.clip(rows, 0, H - 1)][:, np.clip(cols, 0, W - 1)]
        vals[inside] = sub[inside]
        data = {"out_pos": (r, c), "rows": rows, "cols": cols, "in_padding": ~inside, "values": vals}
        if mode == "max":
            a = int(np.argmax(vals))
            data["winner"] = divmod(a, kw)
            res = float(vals.max())
        else:
            res = float(vals.mean())
        data["result"] = res
        return Step(i, f"{mode} of window at output ({r}, {c}) = {res:g}", data)

    meta = {"kind": "pool", "mode": mode, "input_shape": x.shape, "kernel_shape": (kh, kw),
            "out_shape": (oh, ow), "stride": (sh, sw), "padding": (ph, pw)}
    return Trace(length=oh * ow, make_step=make, final=final, meta=meta)


# -- transposed convolution -------------------------------------------------------------------------
def _tgeom(shape, kshape, stride, padding, output_padding):
    sh, sw = _pair(stride, "The stride", 1)
    ph, pw = _pair(padding, "The padding", 0)
    oph, opw = _pair(output_padding, "The output padding", 0)
    kh, kw = int(kshape[0]), int(kshape[1])
    oh = formulas.transposed_conv_output_size(int(shape[0]), kh, stride=sh, padding=ph, output_padding=oph)
    ow = formulas.transposed_conv_output_size(int(shape[1]), kw, stride=sw, padding=pw, output_padding=opw)
    return (kh, kw), (sh, sw), (ph, pw), (oph, opw), (oh, ow)


def conv_transpose2d(x, kernel, *, stride=1, padding=0, output_padding=0) -> np.ndarray:
    """Transposed convolution by its scatter-and-sum definition.

    Every input value ``x[i, j]`` adds ``x[i, j] * kernel`` into the output at
    ``(i*S - P, j*S - P)``; overlapping contributions are summed; ``output_padding`` adds rows and
    columns at the bottom/right. Output side: ``(N-1)S - 2P + K + output_padding``.
    A multi-channel input (H, W, C) with a (kh, kw, C) kernel sums over the channels.

    >>> conv_transpose2d(np.array([[1.0, 2.0]]), np.ones((1, 3)), stride=2)
    array([[1., 1., 3., 2., 2.]])
    """
    x, k = _as_input(x, kernel)
    (kh, kw), (sh, sw), (ph, pw), (oph, opw), (oh, ow) = _tgeom(x.shape, k.shape, stride, padding, output_padding)
    xf = x.astype(np.float64, copy=False)
    H, W = x.shape[:2]
    fh, fw = (H - 1) * sh + kh + oph, (W - 1) * sw + kw + opw
    full = np.zeros((fh, fw))
    for a in range(kh):
        for b in range(kw):
            if x.ndim == 3:
                contrib = xf @ k[a, b]
            else:
                contrib = xf * k[a, b]
            full[a: a + (H - 1) * sh + 1: sh, b: b + (W - 1) * sw + 1: sw] += contrib
    return full[ph: ph + oh, pw: pw + ow].copy()


def conv_transpose2d_trace(x, kernel, *, stride=1, padding=0, output_padding=0) -> Trace:
    """Step through :func:`conv_transpose2d` (2-D input): one step per *input* cell.

    Step ``i`` carries ``in_pos``, ``value``, ``rows``/``cols`` (output coordinates the weighted
    kernel lands on; outside the output means cropped by the padding), ``contribution``
    (value * kernel) and ``partial`` (the output after this and all earlier cells).
    ``trace.meta["overlap"]`` counts how many kernel taps land on each output cell (the
    checkerboard when K is not a multiple of S).

    >>> t = conv_transpose2d_trace(np.ones((2, 2)), np.ones((3, 3)), stride=2)
    >>> t.meta["overlap"][2]
    array([2, 2, 4, 2, 2])
    """
    x, k = _as_input(x, kernel)
    if x.ndim != 2:
        raise ValueError(f"The transposed-convolution trace steps through one channel, not shape {x.shape}.")
    kw_args = dict(stride=stride, padding=padding, output_padding=output_padding)
    final = conv_transpose2d(x, k, **kw_args)
    (kh, kw), (sh, sw), (ph, pw), _op, (oh, ow) = _tgeom(x.shape, k.shape, stride, padding, output_padding)
    H, W = x.shape
    overlap = np.rint(conv_transpose2d(np.ones((H, W)), np.ones((kh, kw)), **kw_args)).astype(int)
    order = np.arange(H * W)

    def make(i: int) -> Step:
        r, c = divmod(i, W)
        masked = np.where((order <= i).reshape(H, W), x, 0.0)
        partial = conv_transpose2d(masked, k, **kw_args)
        v = float(x[r, c])
        data = {"in_pos": (r, c), "value": v, "rows": r * sh + np.arange(kh) - ph,
                "cols": c * sw + np.arange(kw) - pw, "contribution": v * k, "partial": partial}
        return Step(i, f"input ({r}, {c}) = {v:g} spreads {v:g}×kernel into the output", data)

    meta = {"kind": "transposed", "input_shape": x.shape, "kernel_shape": k.shape, "out_shape": (oh, ow),
            "stride": (sh, sw), "padding": (ph, pw), "overlap": overlap}
    return Trace(length=H * W, make_step=make, final=final, meta=meta)


# -- the kernel gallery -----------------------------------------------------------------------------
_G = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16.0
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.full((3, 3), 1.0 / 9.0),
    "gaussian": _G,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
    "diagonal edge": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], dtype=float),
}


def kernel_by_name(name: str) -> np.ndarray:
    """A copy of a gallery kernel ("sobel x", "gaussian", ...).

    >>> kernel_by_name("sobel x")[1]
    array([-2.,  0.,  2.])
    """
    try:
        return KERNELS[name.lower()].copy()
    except KeyError:
        raise ValueError(f"There is no kernel {name!r}; choose one of {', '.join(KERNELS)}.") from None
