"""Transposed convolution ("deconvolution") by its scatter-and-sum definition, and its step trace.

Output side per axis: :math:`O = (N-1)S - 2P + D(K-1) + P_{out} + 1` (``formulas.transposed_conv_output_size``).
"""

from __future__ import annotations

import numpy as np

from .. import formulas
from ..trace import Step, Trace
from .geometry import _as_input, _pair

__all__ = ["conv_transpose2d", "conv_transpose2d_trace"]


def _tgeom(shape, kshape, stride, padding, output_padding, dilation):
    sh, sw = _pair(stride, "The stride", 1)
    ph, pw = _pair(padding, "The padding", 0)
    oph, opw = _pair(output_padding, "The output padding", 0)
    dh, dw = _pair(dilation, "The dilation", 1)
    kh, kw = int(kshape[0]), int(kshape[1])
    oh = formulas.transposed_conv_output_size(int(shape[0]), kh, stride=sh, padding=ph, output_padding=oph,
                                              dilation=dh)
    ow = formulas.transposed_conv_output_size(int(shape[1]), kw, stride=sw, padding=pw, output_padding=opw,
                                              dilation=dw)
    return (kh, kw), (sh, sw), (ph, pw), (oph, opw), (dh, dw), (oh, ow)


def conv_transpose2d(x, kernel, *, stride=1, padding=0, output_padding=0, dilation=1) -> np.ndarray:
    """Transposed convolution by its scatter-and-sum definition (PyTorch's ``conv_transpose2d``).

    Every input value ``x[i, j]`` adds ``x[i, j] * kernel[a, b]`` into the output at
    ``(i·S + a·D − P, j·S + b·D − P)``; overlapping contributions are summed; ``output_padding``
    adds rows and columns at the bottom/right. Output side: ``(N−1)S − 2P + D(K−1) + output_padding + 1``.
    A multi-channel input (H, W, C) with a (kh, kw, C) kernel sums over the channels. It is the
    adjoint of :func:`conv2d` with the same stride, padding and dilation.

    >>> conv_transpose2d(np.array([[1.0, 2.0]]), np.ones((1, 3)), stride=2)
    array([[1., 1., 3., 2., 2.]])
    >>> conv_transpose2d(np.array([[1.0, 2.0]]), np.ones((1, 2)), dilation=2)
    array([[1., 2., 1., 2.]])
    """
    x, k = _as_input(x, kernel)
    (kh, kw), (sh, sw), (ph, pw), (oph, opw), (dh, dw), (oh, ow) = _tgeom(
        x.shape, k.shape, stride, padding, output_padding, dilation)
    xf = x.astype(np.float64, copy=False)
    H, W = x.shape[:2]
    fh, fw = (H - 1) * sh + dh * (kh - 1) + 1 + oph, (W - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((fh, fw))
    for a in range(kh):
        for b in range(kw):
            contrib = xf @ k[a, b] if x.ndim == 3 else xf * k[a, b]
            full[a * dh: a * dh + (H - 1) * sh + 1: sh, b * dw: b * dw + (W - 1) * sw + 1: sw] += contrib
    return full[ph: ph + oh, pw: pw + ow].copy()


def conv_transpose2d_trace(x, kernel, *, stride=1, padding=0, output_padding=0, dilation=1) -> Trace:
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
    kw_args = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    final = conv_transpose2d(x, k, **kw_args)
    (kh, kw), (sh, sw), (ph, pw), _op, (dh, dw), (oh, ow) = _tgeom(
        x.shape, k.shape, stride, padding, output_padding, dilation)
    H, W = x.shape
    overlap = np.rint(conv_transpose2d(np.ones((H, W)), np.ones((kh, kw)), **kw_args)).astype(int)
    order = np.arange(H * W)

    def make(i: int) -> Step:
        r, c = divmod(i, W)
        masked = np.where((order <= i).reshape(H, W), x, 0.0)
        partial = conv_transpose2d(masked, k, **kw_args)
        v = float(x[r, c])
        data = {"in_pos": (r, c), "value": v, "rows": r * sh + dh * np.arange(kh) - ph,
                "cols": c * sw + dw * np.arange(kw) - pw, "contribution": v * k, "partial": partial}
        return Step(i, f"input ({r}, {c}) = {v:g} spreads {v:g}×kernel into the output", data)

    meta = {"kind": "transposed", "input_shape": x.shape, "kernel_shape": k.shape, "out_shape": (oh, ow),
            "stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw), "overlap": overlap}
    return Trace(length=H * W, make_step=make, final=final, meta=meta)
