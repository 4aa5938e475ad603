"""The deep-learning ``conv2d`` (a cross-correlation over a zero-padded input): fast path, teaching path, trace."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..trace import Step, Trace
from .geometry import ConvGeometry, _as_input, _dilate, _window_rows, conv_geometry

__all__ = ["conv2d", "conv2d_trace"]


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


def _conv2d_numpy(x: np.ndarray, k: np.ndarray, g: ConvGeometry) -> np.ndarray:
    (sh, sw), (ph, pw), (dh, dw) = g.stride, g.padding, g.dilation
    (kh, kw), (eh, ew), (oh, ow) = g.kernel, g.span, g.out
    xf = x.astype(np.float64, copy=False)
    pad = ((ph, ph), (pw, pw)) + (((0, 0),) if x.ndim == 3 else ())
    xp = np.pad(xf, pad)
    win = sliding_window_view(xp, (eh, ew), axis=(0, 1))  # (H', W', [C,] eh, ew)
    win = win[: (oh - 1) * sh + 1: sh, : (ow - 1) * sw + 1: sw, ..., ::dh, ::dw]
    if x.ndim == 2:
        return np.einsum("ijab,ab->ij", win, k)
    return np.einsum("ijcab,abc->ij", win, k)


def _conv2d_opencv(x: np.ndarray, k: np.ndarray, g: ConvGeometry, dtype: np.dtype) -> np.ndarray:
    import cv2  # lazy: `import cvexplorer` stays cheap

    (sh, sw), (ph, pw), (dh, dw) = g.stride, g.padding, g.dilation
    (eh, ew), (oh, ow) = g.span, g.out
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
    (sh, sw), (ph, pw), (dh, dw) = g.stride, g.padding, g.dilation
    (kh, kw), (oh, ow) = g.kernel, g.out
    if final is None:
        final = conv2d(x, k, stride=g.stride, padding=g.padding, dilation=g.dilation, bias=bias)
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
