"""Max and average pooling with PyTorch's rules: stride, padding, dilation (max only) and ``ceil_mode``.

Output side per axis (PyTorch's ``pooling_output_shape``), with the dilated window ``K' = D(K−1)+1``:

.. math:: O = \\left\\lfloor \\frac{N + 2P - K'}{S} \\right\\rfloor + 1
   \\quad\\text{(ceil instead of floor with ceil\\_mode, dropping a last window that would start in the right padding)}

computed by ``formulas.pool_output_size(N, K', S, P, ceil_mode)``. With ``ceil_mode`` the last window
may hang past the padded input: max pooling ignores the overhang; average pooling divides by the
taps inside the padded input (PyTorch's ``count_include_pad=True``: padding counts, overhang does not).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import formulas
from ..trace import Step, Trace
from .geometry import _pair, _window_rows

__all__ = ["pool2d", "pool2d_trace"]


def _pool_geometry(shape, kernel, stride, padding, dilation, ceil_mode, mode):
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}.")
    kh, kw = _pair(kernel, "The pooling window", 1)
    sh, sw = (kh, kw) if stride is None else _pair(stride, "The stride", 1)
    ph, pw = _pair(padding, "The padding", 0)
    dh, dw = _pair(dilation, "The dilation", 1)
    if mode == "avg" and (dh, dw) != (1, 1):
        raise ValueError("Average pooling has no dilation (as in PyTorch's AvgPool2d); use dilation 1.")
    for p, k in ((ph, kh), (pw, kw)):
        if 2 * p > k:
            raise ValueError(f"Pooling padding must be at most half the window: padding {p} > {k}/2.")
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    oh = formulas.pool_output_size(int(shape[0]), eh, stride=sh, padding=ph, ceil_mode=bool(ceil_mode))
    ow = formulas.pool_output_size(int(shape[1]), ew, stride=sw, padding=pw, ceil_mode=bool(ceil_mode))
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (eh, ew), (oh, ow)


def _divisor(n: int, o: int, s: int, k: int, p: int) -> np.ndarray:
    """Per output position, how many of the window's taps lie inside the padded input (avg pooling)."""
    start = np.arange(o) * s - p
    return np.minimum(start + k, n + p) - start


def pool2d(x, kernel, *, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
           mode: str = "max") -> np.ndarray:
    """Max or average pooling, channel by channel (stride defaults to the window size).

    Max pooling pads with −∞ (padding never wins); average pooling pads with zeros and divides by the
    window's taps inside the padded input (PyTorch's ``count_include_pad=True``). ``dilation``
    (max pooling only) spaces the taps ``D`` apart; ``ceil_mode`` keeps a last, partial window.

    Parameters
    ----------
    x : (H, W) or (H, W, C) array
    kernel, stride, padding, dilation : int or (rows, cols) pair
    ceil_mode : bool
        Round the output size up, as ``torch.nn.MaxPool2d(..., ceil_mode=True)``.
    mode : "max" or "avg"

    Examples
    --------
    >>> pool2d(np.array([[1, 3, 2, 8], [6, 0, 1, 4], [3, 1, 0, 2], [2, 0, 3, 1]]), 2)
    array([[6., 8.],
           [3., 3.]])
    >>> pool2d(np.array([[1, 2, 3, 4, 5]]), (1, 2), ceil_mode=True, mode="avg")
    array([[1.5, 3.5, 5. ]])
    >>> pool2d(np.array([[5, 0, 1, 9, 2, 0, 3]]), (1, 3), stride=1, dilation=(1, 2))
    array([[5., 9., 3.]])
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (2, 3) or x.size == 0:
        raise ValueError(f"The input must be a non-empty (H, W) or (H, W, C) array, got shape {x.shape}.")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (eh, ew), (oh, ow) = _pool_geometry(
        x.shape, kernel, stride, padding, dilation, ceil_mode, mode)
    H, W = x.shape[:2]
    fill = -np.inf if mode == "max" else 0.0
    # ceil_mode: the last window may hang past the padded input; pad it with values that change nothing
    extra_h = max(0, (oh - 1) * sh + eh - (H + 2 * ph))
    extra_w = max(0, (ow - 1) * sw + ew - (W + 2 * pw))
    pad = ((ph, ph + extra_h), (pw, pw + extra_w)) + (((0, 0),) if x.ndim == 3 else ())
    xp = np.pad(x, pad, constant_values=fill)
    win = sliding_window_view(xp, (eh, ew), axis=(0, 1))
    win = win[: (oh - 1) * sh + 1: sh, : (ow - 1) * sw + 1: sw, ..., ::dh, ::dw]
    if mode == "max":
        return win.max(axis=(-2, -1))
    div = np.outer(_divisor(H, oh, sh, kh, ph), _divisor(W, ow, sw, kw, pw)).astype(np.float64)
    return win.sum(axis=(-2, -1)) / (div[..., None] if x.ndim == 3 else div)


def pool2d_trace(x, kernel, *, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                 mode: str = "max") -> Trace:
    """Step through :func:`pool2d` (2-D input): one step per output cell.

    Step data: ``out_pos``, ``rows``, ``cols``, ``in_padding`` (taps outside the input),
    ``overhang`` (taps past the padded input, ceil mode only), ``values`` (padding as −∞ for max,
    0 for avg), ``result`` and, for max, ``winner`` (row, col) inside the window; for avg,
    ``divisor`` (the taps that count).

    >>> t = pool2d_trace(np.arange(16.0).reshape(4, 4), 2)
    >>> len(t), t[1]["result"]
    (4, 7.0)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"The pooling trace steps through one channel: give an (H, W) array, not {x.shape}.")
    opts = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode, mode=mode)
    final = pool2d(x, kernel, **opts)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), _span, (oh, ow) = _pool_geometry(
        x.shape, kernel, stride, padding, dilation, ceil_mode, mode)
    H, W = x.shape
    fill = -np.inf if mode == "max" else 0.0

    def make(i: int) -> Step:
        r, c = divmod(i, ow)
        rows = _window_rows(r, sh, dh, kh, ph)
        cols = _window_rows(c, sw, dw, kw, pw)
        inside = ((rows >= 0) & (rows < H))[:, None] & ((cols >= 0) & (cols < W))[None, :]
        over = (rows >= H + ph)[:, None] | (cols >= W + pw)[None, :]
        vals = np.full((kh, kw), fill)
        sub = x[np.clip(rows, 0, H - 1)][:, np.clip(cols, 0, W - 1)]
        vals[inside] = sub[inside]
        data = {"out_pos": (r, c), "rows": rows, "cols": cols, "in_padding": ~inside, "overhang": over,
                "values": vals}
        if mode == "max":
            a = int(np.argmax(vals))
            data["winner"] = divmod(a, kw)
            res = float(vals.max())
        else:
            div = int((~over).sum())
            data["divisor"] = div
            res = float(vals.sum() / div)
        data["result"] = res
        return Step(i, f"{mode} of window at output ({r}, {c}) = {res:g}", data)

    meta = {"kind": "pool", "mode": mode, "input_shape": x.shape, "kernel_shape": (kh, kw),
            "out_shape": (oh, ow), "stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw),
            "ceil_mode": bool(ceil_mode)}
    return Trace(length=oh * ow, make_step=make, final=final, meta=meta)
