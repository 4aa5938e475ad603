"""Layer arithmetic: output sizes, padding, parameters, MACs, memory and the compute bound on latency."""

from __future__ import annotations

import math

import numpy as np

from ._check import _finite, _int, _pair, _pos, _side

__all__ = ["conv_output_size", "pool_output_size", "transposed_conv_output_size", "same_padding", "conv_params",
           "depthwise_separable_params", "linear_params", "conv_macs", "activation_bytes", "min_inference_ms"]


# ----------------------------------------------------------------------------- shapes
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1) -> int:
    r"""Output side of a convolution.

    .. math:: O = \left\lfloor \frac{N + 2P - D(K-1) - 1}{S} \right\rfloor + 1

    which for dilation 1 is the familiar :math:`\lfloor (N - K + 2P)/S \rfloor + 1`.

    Raises ValueError when the (dilated) kernel does not fit in the padded input.

    Examples
    --------
    >>> conv_output_size(224, 3, stride=2, padding=1)
    112
    >>> conv_output_size(32, 3)
    30
    >>> conv_output_size(7, 3, dilation=2)
    3
    """
    n = _side(size, "The input size")
    k = _side(kernel, "The kernel size")
    s = _side(stride, "The stride")
    p = _side(padding, "The padding", 0)
    d = _side(dilation, "The dilation")
    k_eff = d * (k - 1) + 1
    if k_eff > n + 2 * p:
        extra = f" (a {k}×{k} kernel with dilation {d} spans {k_eff} pixels)" if d > 1 else ""
        raise ValueError(
            f"The kernel{extra} is larger than the padded input: {k_eff} > {n} + 2·{p} = {n + 2 * p}."
        )
    return (n + 2 * p - k_eff) // s + 1


def pool_output_size(size, kernel, stride=None, padding=0, ceil_mode=False, dilation=1) -> int:
    r"""Output side of a max/average pooling layer (stride defaults to the kernel size), PyTorch's rule.

    .. math:: O = \left\lfloor \frac{N + 2P - D(K-1) - 1}{S} \right\rfloor + 1

    With ``ceil_mode`` the floor becomes a ceiling, and then (as in PyTorch) the last window must
    start inside the input or the left padding: when :math:`(O-1)S \ge N + P` it would start in the
    right padding only, and :math:`O` drops by one. In ceil mode a window may hang over the end of
    the input, so a window larger than the input still gives one output (N = 1, K = 2, S = 2 → 1).
    Padding may be at most half the (dilated) window.

    References: ``torch.nn.MaxPool2d`` (shape formula) and ``pooling_output_shape`` in ATen's Pool.h.

    Examples
    --------
    >>> pool_output_size(224, 2)
    112
    >>> pool_output_size(112, 3, stride=2, padding=1)
    56
    >>> pool_output_size(7, 2, ceil_mode=True)
    4
    >>> pool_output_size(1, 2, stride=2, ceil_mode=True)
    1
    >>> pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True)  # a 4th window would start in the padding
    3
    """
    n = _side(size, "The input size")
    k = _side(kernel, "The pooling window")
    s = k if stride is None else _side(stride, "The stride")
    p = _side(padding, "The padding", 0)
    d = _side(dilation, "The dilation")
    k_eff = d * (k - 1) + 1
    if 2 * p > k_eff:
        raise ValueError(f"Pooling padding must be at most half the window: padding {p} > {k_eff}/2.")
    span = n + 2 * p - k_eff
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window would start in the right padding
        out -= 1
    if out < 1:
        raise ValueError(f"The pooling window is larger than the padded input: {k_eff} > {n} + 2·{p} = {n + 2 * p}"
                         + (", and even ceil mode leaves no window." if ceil_mode else "."))
    return out


def transposed_conv_output_size(size, kernel, stride=1, padding=0, output_padding=0, dilation=1) -> int:
    r"""Output side of a transposed convolution ("deconvolution").

    .. math:: O = (N - 1)S - 2P + D(K - 1) + P_{out} + 1

    ``output_padding`` must be smaller than the stride or the dilation (as in PyTorch).

    Examples
    --------
    >>> transposed_conv_output_size(14, 4, stride=2, padding=1)
    28
    >>> transposed_conv_output_size(112, 3, stride=2, padding=1, output_padding=1)
    224
    """
    n = _side(size, "The input size")
    k = _side(kernel, "The kernel size")
    s = _side(stride, "The stride")
    p = _side(padding, "The padding", 0)
    op = _side(output_padding, "The output padding", 0)
    d = _side(dilation, "The dilation")
    if op >= max(s, d):
        raise ValueError(f"The output padding must be smaller than the stride or the dilation: {op} >= {max(s, d)}.")
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ValueError(f"The padding {p} removes the whole output: the size would be {out}.")
    return out


def same_padding(kernel, dilation=1) -> int:
    r"""Padding that keeps the size unchanged at stride 1: :math:`P = D(K-1)/2`.

    Raises ValueError when the effective kernel :math:`D(K-1)+1` is even (no symmetric padding).

    Examples
    --------
    >>> same_padding(3)
    1
    >>> same_padding(3, dilation=2)
    2
    """
    k = _side(kernel, "The kernel size")
    d = _side(dilation, "The dilation")
    total = d * (k - 1)
    if total % 2:
        raise ValueError(
            f"An effective kernel of {total + 1} pixels is even, so no symmetric padding keeps the size "
            f"(it needs {total} pixels of padding split over two sides)."
        )
    return total // 2


# ----------------------------------------------------------------------------- parameters and cost
def _conv_shape(c_in, c_out, kernel, groups) -> tuple[int, int, int, int, int]:
    """Checked channels, kernel sides and groups of a convolution: (C_in, C_out, K_h, K_w, G)."""
    ci = _int(c_in, "The number of input channels")
    co = _int(c_out, "The number of output channels")
    kh, kw = _pair(kernel, "The kernel size")
    g = _int(groups, "The number of groups")
    if ci % g or co % g:
        raise ValueError(f"The groups ({g}) must divide both channel counts ({ci} in, {co} out).")
    return ci, co, kh, kw, g


def conv_params(c_in, c_out, kernel, bias=True, groups=1) -> int:
    r"""Learnable parameters of a 2-D convolution.

    .. math:: \#W = K_h K_w \frac{C_{in}}{G} C_{out} + [\text{bias}]\, C_{out}

    Examples
    --------
    >>> conv_params(64, 128, 3)
    73856
    >>> conv_params(32, 32, 3, bias=False, groups=32)
    288
    """
    ci, co, kh, kw, g = _conv_shape(c_in, c_out, kernel, groups)
    return kh * kw * (ci // g) * co + (co if bias else 0)


def depthwise_separable_params(c_in, c_out, kernel, bias=False) -> int:
    r"""Parameters of a depthwise K×K convolution followed by a pointwise 1×1 convolution.

    .. math:: \#W = K_h K_w C_{in} + C_{in} C_{out} + [\text{bias}](C_{in} + C_{out})

    Examples
    --------
    >>> depthwise_separable_params(64, 128, 3)
    8768
    """
    ci = _int(c_in, "The number of input channels")
    co = _int(c_out, "The number of output channels")
    kh, kw = _pair(kernel, "The kernel size")
    return kh * kw * ci + ci * co + ((ci + co) if bias else 0)


def linear_params(n_in, n_out, bias=True) -> int:
    r"""Parameters of a fully connected layer: :math:`N_{in} N_{out} + [\text{bias}] N_{out}`.

    Examples
    --------
    >>> linear_params(4096, 1000)
    4097000
    """
    a = _int(n_in, "The number of inputs")
    b = _int(n_out, "The number of outputs")
    return a * b + (b if bias else 0)


def conv_macs(out_h, out_w, c_in, c_out, kernel, groups=1) -> int:
    r"""Multiply-accumulates of a convolution: one K×K×(C_in/G) dot product per output value.

    .. math:: \text{MACs} = H_{out} W_{out} C_{out} K_h K_w \frac{C_{in}}{G}

    Examples
    --------
    >>> conv_macs(112, 112, 3, 64, 7)
    118013952
    """
    h = _int(out_h, "The output height")
    w = _int(out_w, "The output width")
    ci, co, kh, kw, g = _conv_shape(c_in, c_out, kernel, groups)
    return h * w * co * kh * kw * (ci // g)


def activation_bytes(shape, bytes_per_element=4) -> int:
    r"""Memory of one activation tensor: the product of its shape times the bytes per element.

    Examples
    --------
    >>> activation_bytes((1, 64, 112, 112))
    3211264
    >>> activation_bytes((3, 224, 224), bytes_per_element=1)
    150528
    """
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    dims = [_int(d, "Every dimension of the shape") for d in shape]
    if not dims:
        raise ValueError("The shape needs at least one dimension.")
    b = bytes_per_element
    if isinstance(b, float) and b.is_integer():
        b = int(b)
    b = _int(b, "The bytes per element") if not isinstance(b, float) else _pos(b, "The bytes per element")
    total = math.prod(dims) * b
    if isinstance(total, float):
        if not total.is_integer():
            raise ValueError(f"The tensor would take a fractional number of bytes ({total}).")
        total = int(total)
    return total

def min_inference_ms(gmacs, peak_tflops, utilization=0.5) -> float:
    r"""Lower bound on inference time from compute alone (1 MAC = 2 FLOPs).

    .. math:: t = \frac{2 \cdot \text{GMACs} \cdot 10^9}{\text{TFLOPS} \cdot 10^{12} \cdot u} \cdot 1000\ \text{ms}

    Examples
    --------
    >>> min_inference_ms(4.1, 10, utilization=0.5)
    1.64
    """
    g = _pos(gmacs, "The GMACs")
    t = _pos(peak_tflops, "The peak TFLOPS")
    u = _pos(utilization, "The utilization")
    if u > 1:
        raise ValueError(f"The utilization is a fraction of the peak and must be at most 1, got {utilization!r}.")
    ms = _finite(2.0 * g * 1e9 / (t * 1e12 * u) * 1000.0, "The time 2·GMACs / (TFLOPS · utilization)",
                 f"{g:g} GMACs on {t:g} TFLOPS: lower the GMACs or raise the peak TFLOPS")
    return round(ms, 12)
