"""Derivations about layers: output sizes, padding, parameters, MACs, memory, receptive fields."""

from __future__ import annotations

from .. import formulas as F
from ..conv.explain import conv_size_derivation, pool_size_derivation, tconv_size_derivation
from ..text import fmt_bytes, fmt_count, parse_ints, parse_layers
from .model import Derivation
from .windows import kernel_windows

__all__ = ["conv_output_derivation", "quantized_bytes"]

_fmt = fmt_count
_bytes = fmt_bytes


def conv_output_derivation(size, kernel, stride=1, padding=0, dilation=1) -> Derivation:
    """A convolution's output size with its derivation: the one home of that text (calculator, CLI, conv lab).

    The number comes from :func:`cvexplorer.formulas.conv_output_size` (and its ValueError);
    ``extra["windows"]`` is the :class:`~cvexplorer.derivations.windows.KernelWindows` picture.

    >>> d = conv_output_derivation(7, 3, stride=2)
    >>> d.formula, d.substitution, d.value
    ('O = ⌊(N − K + 2P)/S⌋ + 1', 'O = ⌊(7 − 3 + 2·0)/2⌋ + 1 = 3', 3)
    """
    d = conv_size_derivation(size, kernel, stride, padding, dilation)
    formula, sub, o, meaning = d.formula, d.substituted, d.value, d.meaning
    return Derivation("conv-out", formula, sub, f"{o} × {o}", o, meaning,
                      {"windows": kernel_windows(size, kernel, stride=stride, padding=padding, dilation=dilation, out=o)})


_conv_out = conv_output_derivation  # the name the families used before it became public


def _pool_out(size, kernel, stride=0, padding=0, ceil_mode=False):
    d = pool_size_derivation(size, kernel, stride or None, padding, bool(ceil_mode))
    s = stride or kernel
    return Derivation("pool-out", d.formula, d.substituted, f"{d.value} × {d.value}", d.value, d.meaning,
                      {"windows": kernel_windows(size, kernel, stride=s, padding=padding, out=d.value)})


def _tconv_out(size, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    d = tconv_size_derivation(size, kernel, stride, padding, output_padding, dilation)
    return Derivation("tconv-out", d.formula, d.substituted, f"{d.value} × {d.value}", d.value, d.meaning)


def _same_padding(kernel, dilation=1):
    p = F.same_padding(kernel, dilation)
    formula = "P = D(K − 1)/2   (stride 1)"
    sub = f"P = {dilation}·({kernel} − 1)/2 = {p}"
    return Derivation("same-padding", formula, sub, f"P = {p}", p,
                      f"{p} pixel{'s' if p != 1 else ''} on each side keep N×N → N×N; odd kernels make this possible",
                      {"windows": kernel_windows(9, kernel, padding=p, dilation=dilation, out=9)})


def _conv_params(c_in, c_out, kernel, groups=1, bias=True):
    n = F.conv_params(c_in, c_out, kernel, bias=bool(bias), groups=groups)
    b = " + C_out" if bias else ""
    g = "/G" if groups != 1 else ""
    formula = f"#W = K·K·C_in{g}·C_out{b}"
    cin = f"({c_in}/{groups})" if groups != 1 else f"{c_in}"
    sub = f"#W = {kernel}·{kernel}·{cin}·{c_out}" + (f" + {c_out}" if bias else "") + f" = {_fmt(n)}"
    return Derivation("conv-params", formula, sub, f"{_fmt(n)} parameters", n,
                      f"{n * 4 / 2**20:.2f} MiB in float32; independent of the image size")


def _dw_params(c_in, c_out, kernel, bias=False):
    n = F.depthwise_separable_params(c_in, c_out, kernel, bias=bool(bias))
    std = F.conv_params(c_in, c_out, kernel, bias=bool(bias))
    formula = "#W = K·K·C_in + C_in·C_out" + (" + C_in + C_out" if bias else "")
    sub = f"#W = {kernel}·{kernel}·{c_in} + {c_in}·{c_out}" + (f" + {c_in} + {c_out}" if bias else "") + f" = {_fmt(n)}"
    return Derivation("dw-params", formula, sub, f"{_fmt(n)} parameters", n,
                      f"a standard {kernel}×{kernel} conv needs {_fmt(std)}: {std / n:.2f}× more (≈ K² = {kernel * kernel} for many channels)",
                      {"standard": std})


def _linear_params(n_in, n_out, bias=True):
    n = F.linear_params(n_in, n_out, bias=bool(bias))
    formula = "#W = N_in·N_out" + (" + N_out" if bias else "")
    sub = f"#W = {n_in}·{n_out}" + (f" + {n_out}" if bias else "") + f" = {_fmt(n)}"
    return Derivation("linear-params", formula, sub, f"{_fmt(n)} parameters", n,
                      f"{n * 4 / 2**20:.1f} MiB in float32: fully connected layers grow with the product of sizes")


def _macs(out_h, out_w, c_in, c_out, kernel, groups=1):
    n = F.conv_macs(out_h, out_w, c_in, c_out, kernel, groups)
    g = "/G" if groups != 1 else ""
    formula = f"MACs = H_out·W_out·C_out·K·K·C_in{g}"
    cin = f"({c_in}/{groups})" if groups != 1 else f"{c_in}"
    sub = f"MACs = {out_h}·{out_w}·{c_out}·{kernel}·{kernel}·{cin} = {_fmt(n)}"
    return Derivation("macs", formula, sub, f"{n / 1e9:.3f} GMACs", n,
                      f"≈ {2 * n / 1e9:.2f} GFLOPs (1 MAC = 2 FLOPs); halving H and W cuts this by 4")


def _activation(shape="1,64,112,112", bytes_per_element=4):
    dims = parse_ints(shape, "The shape")
    n = F.activation_bytes(dims, bytes_per_element)
    formula = "bytes = ∏ shape · bytes/element"
    sub = "bytes = " + "·".join(str(d) for d in dims) + f"·{bytes_per_element} = {_fmt(n)}"
    return Derivation("activation", formula, sub, _bytes(n), n,
                      "training keeps every layer's activations for backprop: multiply by depth and batch")


def _rf(layers="7/2/3, 3/2/1, 3/1/1, 3/1/1, 3/1/1", input_size=224):
    stack = parse_layers(layers)
    res = F.receptive_field(stack, input_size=input_size or None)
    formula = "r_l = r_{l−1} + (K'_l − 1)·j_{l−1},   j_l = j_{l−1}·S_l"
    terms, r, j = ["1"], 1, 1
    for layer in stack:
        k = layer[0]
        d = layer[3] if len(layer) > 3 else 1
        ke = d * (k - 1) + 1
        terms.append(f"({ke}−1)·{j}")
        j *= layer[1]
    last = res[-1]
    sub = "r = " + " + ".join(terms) + f" = {last.rf}"
    meaning = f"jump {last.jump}: neighbouring cells are {last.jump} px apart"
    if last.out_size is not None:
        meaning += f"; output {last.out_size}×{last.out_size}"
    rows = [{"layer": i + 1, "kernel": layer[0], "stride": layer[1], "rf": r_.rf, "jump": r_.jump,
             "start": r_.start, "out": r_.out_size} for i, (layer, r_) in enumerate(zip(stack, res))]
    return Derivation("rf", formula, sub, f"RF = {last.rf} × {last.rf}", last.rf, meaning, {"rows": rows})


def quantized_bytes(n_params, bits) -> int:
    """Bytes of ``n_params`` weights stored with ``bits`` bits each (rounded up to whole bytes)."""
    n = F._int(n_params, "The number of parameters")
    b = F._int(bits, "The number of bits", 1, 64)
    return -(-n * b // 8)


def _quant(n_params=25_000_000, bits_from=32, bits_to=8):
    a = quantized_bytes(n_params, bits_from)
    b = quantized_bytes(n_params, bits_to)
    if bits_to > bits_from:
        raise ValueError(f"Quantisation stores weights in fewer bits: {bits_to} bits is more than the "
                         f"{bits_from} bits it starts from.")
    sub = f"{_fmt(n_params)}·{bits_from}/8 = {_bytes(a)} → {_fmt(n_params)}·{bits_to}/8 = {_bytes(b)}"
    return Derivation("quant", "size = #params · bits / 8", sub, f"saves {_bytes(a - b)} ({a / b:.3g}× smaller)",
                      a - b, "memory-bound layers speed up by about the same factor", {"before": a, "after": b})
