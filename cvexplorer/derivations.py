"""Worked derivations of :mod:`cvexplorer.formulas`: formula, substitution, result and meaning.

One :class:`Family` per kind of problem (``conv-out``, ``ransac``, ...). Both ``cvexplorer calc``
and the Calculator panel are generated from :data:`FAMILIES`: the parameters (with defaults,
ranges and the values practice problems draw from) and a ``derive(**values) -> Derivation``.
``derive`` raises the engine's ValueError for invalid settings.

>>> d = derive("conv-out", size=224, kernel=3, stride=2, padding=1)
>>> d.substitution
'O = ⌊(224 − 3 + 2·1)/2⌋ + 1 = 112'
>>> d.value
112
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import formulas as F
from .text import fmt_bytes, fmt_count, parse_floats, parse_ints, parse_layers  # noqa: F401 - re-exported

__all__ = ["Param", "Family", "Derivation", "FAMILIES", "derive", "practice_problem", "check_answer",
           "parse_ints", "parse_floats", "parse_layers", "quantized_bytes", "pipeline_budget"]


# ----------------------------------------------------------------------------- data model
@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str  # "int" | "float" | "bool" | "text"
    default: Any
    lo: float = 0
    hi: float = 10**9
    step: float = 1
    choices: tuple = ()  # values practice problems draw from (empty: not randomised)
    help: str = ""
    cli_default: Any = "same"  # default for `cvexplorer calc` when it differs from the panel's

    @property
    def plain_default(self):
        return self.default if self.cli_default == "same" else self.cli_default


@dataclass(frozen=True)
class Derivation:
    family: str
    formula: str
    substitution: str
    result: str
    value: Any  # the number the question asks for (what practice mode checks)
    meaning: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        v = self.value
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, tuple):
            v = list(v)
        extra = {k: (x.tolist() if isinstance(x, np.ndarray) else x) for k, x in self.extra.items()}
        return {"family": self.family, "formula": self.formula, "substitution": self.substitution,
                "result": self.result, "value": v, "meaning": self.meaning, "extra": extra}


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    group: str
    params: tuple[Param, ...]
    fn: Callable[..., Derivation]
    question: str = ""  # practice question template (str.format with the values)
    unit: str = ""
    practice: bool = True

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


# ----------------------------------------------------------------------------- parsing helpers
def _grid(text) -> list:
    out = []
    for chunk in [t for t in str(text).replace(";", ",").replace(" ", ",").split(",") if t]:
        try:
            if "x" in chunk.lower():
                h, w = chunk.lower().split("x")
                out.append((int(h), int(w)))
            else:
                out.append(int(chunk))
        except ValueError:
            raise ValueError(f"A grid size must be a number like 80 or a pair like 38x50, got {chunk!r}.") from None
    if not out:
        raise ValueError("Give at least one feature-map size, e.g. 80, 40, 20.")
    return out


_fmt = fmt_count
_bytes = fmt_bytes


# ----------------------------------------------------------------------------- families
def _conv_out(size, kernel, stride=1, padding=0, dilation=1):
    o = F.conv_output_size(size, kernel, stride, padding, dilation)
    if dilation == 1:
        formula = "O = ⌊(N − K + 2P)/S⌋ + 1"
        sub = f"O = ⌊({size} − {kernel} + 2·{padding})/{stride}⌋ + 1 = {o}"
    else:
        formula = "O = ⌊(N + 2P − D(K−1) − 1)/S⌋ + 1"
        sub = f"O = ⌊({size} + 2·{padding} − {dilation}·({kernel}−1) − 1)/{stride}⌋ + 1 = {o}"
    if o == size:
        meaning = f"padding {padding} exactly makes up for the kernel: the size is kept ('same')"
    elif stride > 1 and o == -(-size // stride):
        word = {2: "halves", 3: "divides by three", 4: "quarters"}.get(stride, f"divides by {stride}")
        meaning = f"stride {stride} with padding {padding} {word} the input"
    elif stride == 1:
        meaning = f"without enough padding each side loses pixels: {size} → {o} (−{size - o})"
    else:
        meaning = f"stride {stride} keeps one position in {stride}: {size} → {o}"
    rem = (size + 2 * padding - dilation * (kernel - 1) - 1) % stride
    if rem:
        meaning += f"; the floor drops {rem} pixel{'s' if rem > 1 else ''} at the edge"
    return Derivation("conv-out", formula, sub, f"{o} × {o}", o, meaning)


def _pool_out(size, kernel, stride=0, padding=0, ceil_mode=False):
    s = kernel if not stride else stride
    o = F.pool_output_size(size, kernel, s, padding, bool(ceil_mode))
    br = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    formula = f"O = {br[0]}(N − K + 2P)/S{br[1]} + 1"
    sub = f"O = {br[0]}({size} − {kernel} + 2·{padding})/{s}{br[1]} + 1 = {o}"
    meaning = f"{kernel}×{kernel} windows every {s} pixels: {size} → {o}, no learnable parameters"
    if s < kernel:
        meaning += " (overlapping windows)"
    return Derivation("pool-out", formula, sub, f"{o} × {o}", o, meaning)


def _tconv_out(size, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    o = F.transposed_conv_output_size(size, kernel, stride, padding, output_padding, dilation)
    formula = "O = (N − 1)·S − 2P + D(K − 1) + P_out + 1"
    sub = f"O = ({size} − 1)·{stride} − 2·{padding} + {dilation}·({kernel} − 1) + {output_padding} + 1 = {o}"
    ratio = o / size
    meaning = f"{size} → {o}" + (f": exactly ×{int(ratio)}" if ratio == int(ratio) and ratio > 1 else "")
    if kernel % stride:
        meaning += f"; K={kernel} is not a multiple of S={stride}, which invites checkerboard artefacts"
    return Derivation("tconv-out", formula, sub, f"{o} × {o}", o, meaning)


def _same_padding(kernel, dilation=1):
    p = F.same_padding(kernel, dilation)
    formula = "P = D(K − 1)/2   (stride 1)"
    sub = f"P = {dilation}·({kernel} − 1)/2 = {p}"
    return Derivation("same-padding", formula, sub, f"P = {p}", p,
                      f"{p} pixel{'s' if p != 1 else ''} on each side keep N×N → N×N; odd kernels make this possible")


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


def _anchors(grids="80, 40, 20, 10, 5", per_location=9):
    levels = _grid(grids)
    n = F.anchor_count(levels, per_location)
    pairs = [(g, g) if isinstance(g, int) else g for g in levels]
    formula = "N = A · Σ H_l·W_l"
    sub = f"N = {per_location}·(" + " + ".join(f"{h}·{w}" for h, w in pairs) + f") = {_fmt(n)}"
    shares = [h * w * per_location / n for h, w in pairs]
    names = [f"{h}×{w}" for h, w in pairs]
    meaning = f"the finest level ({names[int(np.argmax(shares))]}) holds {max(shares):.0%} of all anchors"
    return Derivation("anchors", formula, sub, f"{_fmt(n)} anchors", n, meaning,
                      {"levels": names, "shares": shares, "counts": [h * w * per_location for h, w in pairs]})


def _iou(box_a="0, 0, 10, 10", box_b="5, 5, 15, 15"):
    a = parse_floats(box_a, "Box A")
    b = parse_floats(box_b, "Box B")
    v = F.iou(a, b)
    if len(a) != 4 or len(b) != 4:
        raise ValueError("A box needs four numbers x1, y1, x2, y2.")
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    aa = (a[2] - a[0]) * (a[3] - a[1])
    ab = (b[2] - b[0]) * (b[3] - b[1])
    formula = "IoU = |A∩B| / (|A| + |B| − |A∩B|)"
    sub = f"IoU = {_fmt(inter)} / ({_fmt(aa)} + {_fmt(ab)} − {_fmt(inter)}) = {v:.4f}"
    verdict = "a match at the usual 0.5 threshold" if v >= 0.5 else "not a match at the usual 0.5 threshold"
    return Derivation("iou", formula, sub, f"IoU = {v:.3f}", v, verdict, {"box_a": a, "box_b": b})


def _nms(n=200, ns_per_iou=10.0):
    c = F.nms_max_comparisons(n)
    formula = "C = N(N − 1)/2"
    sub = f"C = {n}·{n - 1}/2 = {_fmt(c)}"
    t = c * ns_per_iou / 1e6
    return Derivation("nms-cost", formula, sub, f"{_fmt(c)} IoUs", c,
                      f"at {ns_per_iou:g} ns per IoU: {t:.3f} ms; a score threshold first keeps N small",
                      {"ms": t})


def _disparity(f_px=500.0, baseline=0.12, depth=5.0):
    d = F.disparity_from_depth(f_px, baseline, depth)
    return Derivation("disparity", "d = f·B / Z", f"d = {f_px:g}·{baseline:g} / {depth:g} = {d:.4g} px",
                      f"d = {d:.3g} px", d, "closer objects shift more between the two views")


def _depth(f_px=500.0, baseline=0.12, disparity=8.0):
    z = F.depth_from_disparity(f_px, baseline, disparity)
    return Derivation("depth", "Z = f·B / d", f"Z = {f_px:g}·{baseline:g} / {disparity:g} = {z:.4g}",
                      f"Z = {z:.3g} m", z, "depth is inversely proportional to disparity")


def _depth_error(f_px=500.0, baseline=0.12, depth=10.0, disparity_error=1.0):
    zn, zf = F.depth_uncertainty(f_px, baseline, depth, disparity_error)
    d = f_px * baseline / depth
    fb = f_px * baseline
    zf_s = "∞" if math.isinf(zf) else f"{zf:.4g}"
    sub = (f"d = {fb:g}/{depth:g} = {d:.4g};  Z_near = {fb:g}/({d:.4g} + {disparity_error:g}) = {zn:.4g},  "
           f"Z_far = {fb:g}/({d:.4g} − {disparity_error:g}) = {zf_s}")
    rng = zf - zn
    rng_s = "∞" if math.isinf(rng) else f"{rng:.3g}"
    if math.isinf(zf):
        sub += "  (d ≤ Δd: the far end is at infinity)"
    return Derivation("depth-error", "Z_near = fB/(d + Δd),   Z_far = fB/(d − Δd)", sub,
                      f"{zn:.3g} m … {zf_s} m (range {rng_s} m)", rng,
                      f"ΔZ ≈ Z²·Δd/(fB) = {depth * depth * disparity_error / fb:.3g} m: error grows with the square of depth",
                      {"z_near": zn, "z_far": zf})


def _disp_range(f_px=500.0, baseline=0.12, z_min=1.0, z_max=30.0):
    n = F.disparity_search_range(f_px, baseline, z_min, z_max)
    fb = f_px * baseline
    sub = f"⌈{fb:g}/{z_min:g}⌉ − ⌊{fb:g}/{z_max:g}⌋ = ⌈{fb / z_min:.4g}⌉ − ⌊{fb / z_max:.4g}⌋ = {n}"
    return Derivation("disparity-range", "n = ⌈fB/Z_min⌉ − ⌊fB/Z_max⌋", sub, f"{n} disparities", n,
                      "each pixel compares this many candidates along its scanline: the cost volume depth")


def _ransac(inlier_ratio=0.6, sample_size=4, confidence=0.99):
    n = F.ransac_iterations(inlier_ratio, sample_size, confidence)
    ws = inlier_ratio**sample_size
    sub = f"N = ⌈ln(1 − {confidence:g}) / ln(1 − {inlier_ratio:g}^{sample_size})⌉ = ⌈{math.log(1 - confidence):.4g} / {math.log1p(-ws):.4g}⌉ = {n}" \
        if ws < 1 else f"N = 1 (every match is an inlier)"
    ratios = np.linspace(0.1, 1.0, 91)
    curve = [F.ransac_iterations(float(r), sample_size, confidence) for r in ratios]
    return Derivation("ransac", "N = ⌈ln(1 − p) / ln(1 − w^s)⌉", sub, f"N = {_fmt(n)} iterations", n,
                      f"one sample of {sample_size} is all-inlier with probability {ws:.4g}",
                      {"ratios": ratios.tolist(), "iterations": curve})


def _homography(H="2,0,1, 0,1,0, 0,0,1", point="1, 0"):
    h = np.asarray(parse_floats(H, "H"))
    if h.size != 9:
        raise ValueError(f"H needs 9 numbers (row by row), got {h.size}.")
    h = h.reshape(3, 3)
    p = parse_floats(point, "The point")
    if len(p) != 2:
        raise ValueError("The point needs two numbers x, y.")
    out = F.apply_homography(h, [p])[0]
    hv = h @ np.array([p[0], p[1], 1.0])
    sub = (f"H·[{_fmt(p[0])}, {_fmt(p[1])}, 1]ᵀ = [{_fmt(hv[0])}, {_fmt(hv[1])}, {_fmt(hv[2])}]ᵀ → "
           f"({_fmt(out[0])}, {_fmt(out[1])})")
    return Derivation("homography", "[x', y', w'] = H·[x, y, 1],   (x'/w', y'/w')", sub,
                      f"({_fmt(out[0])}, {_fmt(out[1])})", tuple(float(v) for v in out),
                      "w' ≠ 1 only when the last row has perspective terms: that is foreshortening")


def _latency(gmacs=20.0, peak_tflops=83.0, utilization=0.5):
    t = F.min_inference_ms(gmacs, peak_tflops, utilization)
    sub = f"t = 2·{gmacs:g}e9 / ({peak_tflops:g}e12·{utilization:g}) s = {t:.4g} ms"
    fits = "fits" if t <= 16.7 else ("fits 30 fps but not 60 fps" if t <= 33.3 else "misses")
    return Derivation("latency", "t = 2·MACs / (peak FLOP/s · utilization)", sub, f"t ≥ {t:.3g} ms", t,
                      f"a lower bound from compute alone; {fits} the 16.7 ms (60 fps) budget" if fits != "fits 30 fps but not 60 fps"
                      else f"a lower bound from compute alone; it {fits}")


def pipeline_budget(stages_ms) -> dict:
    """Total latency of a pipeline and the frame rates it sustains. ValueError for a negative stage."""
    if not stages_ms:
        raise ValueError("Give at least one stage time in milliseconds.")
    for t in stages_ms:
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"A stage time must be zero or positive milliseconds, got {t}.")
    total = float(sum(stages_ms))
    return {"total": total, "fps": (1000.0 / total if total > 0 else math.inf),
            "fits_60": total <= 1000 / 60, "fits_30": total <= 1000 / 30}


def _budget(stages="1, 3, 0.5, 0.5, 1"):
    ms = parse_floats(stages, "The stage times")
    b = pipeline_budget(ms)
    sub = "total = " + " + ".join(_fmt(t) for t in ms) + f" = {b['total']:.4g} ms"
    if b["fits_60"]:
        m = f"fits the 16.7 ms frame of 60 fps ({b['fps']:.0f} fps possible)"
    elif b["fits_30"]:
        m = "misses 60 fps (16.7 ms) but fits 30 fps (33.3 ms)"
    else:
        m = f"misses even 30 fps (33.3 ms): at most {b['fps']:.1f} fps without pipelining"
    share = max(ms) / b["total"] if b["total"] else 0
    m += f"; the slowest stage is {share:.0%} of the total"
    return Derivation("budget", "total = Σ stage times  vs  16.7 ms (60 fps), 33.3 ms (30 fps)", sub,
                      f"{b['total']:.3g} ms", b["total"], m, {"stages": ms})


def quantized_bytes(n_params, bits) -> int:
    """Bytes of ``n_params`` weights stored with ``bits`` bits each (rounded up to whole bytes)."""
    n = F._int(n_params, "The number of parameters")
    b = F._int(bits, "The number of bits")
    return -(-n * b // 8)


def _quant(n_params=25_000_000, bits_from=32, bits_to=8):
    a = quantized_bytes(n_params, bits_from)
    b = quantized_bytes(n_params, bits_to)
    sub = f"{_fmt(n_params)}·{bits_from}/8 = {_bytes(a)} → {_fmt(n_params)}·{bits_to}/8 = {_bytes(b)}"
    return Derivation("quant", "size = #params · bits / 8", sub, f"saves {_bytes(a - b)} ({a / b:.3g}× smaller)",
                      a - b, "memory-bound layers speed up by about the same factor", {"before": a, "after": b})


_I = "int"
_FL = "float"
FAMILIES: dict[str, Family] = {f.key: f for f in [
    Family("conv-out", "Convolution output size", "Shapes", (
        Param("size", "input size N", _I, 224, 1, 4096, choices=(5, 7, 14, 28, 32, 56, 64, 112, 224, 227, 256)),
        Param("kernel", "kernel K", _I, 3, 1, 31, choices=(1, 3, 5, 7, 11)),
        Param("stride", "stride S", _I, 2, 1, 16, choices=(1, 1, 2, 2, 4), cli_default=1),
        Param("padding", "padding P", _I, 1, 0, 64, choices=(0, 0, 1, 2, 3), cli_default=0),
        Param("dilation", "dilation D", _I, 1, 1, 16, choices=(1, 1, 1, 2))),
        _conv_out, "A {kernel}×{kernel} conv (stride {stride}, padding {padding}, dilation {dilation}) on a {size}×{size} input: output size?"),
    Family("pool-out", "Pooling output size", "Shapes", (
        Param("size", "input size N", _I, 112, 1, 4096, choices=(7, 14, 28, 55, 56, 112, 224)),
        Param("kernel", "window K", _I, 3, 1, 31, choices=(2, 2, 3)),
        Param("stride", "stride S (0 = K)", _I, 2, 0, 16, choices=(0, 2), cli_default=0),
        Param("padding", "padding P", _I, 1, 0, 16, choices=(0, 0, 1), cli_default=0),
        Param("ceil_mode", "ceil mode", "bool", False)),
        _pool_out, "Pooling window {kernel}, stride {stride} (0 = window), padding {padding} on {size}×{size}: output size?"),
    Family("tconv-out", "Transposed convolution size", "Shapes", (
        Param("size", "input size N", _I, 14, 1, 4096, choices=(7, 14, 16, 28, 32, 56)),
        Param("kernel", "kernel K", _I, 4, 1, 31, choices=(2, 3, 4)),
        Param("stride", "stride S", _I, 2, 1, 16, choices=(1, 2, 2), cli_default=1),
        Param("padding", "padding P", _I, 1, 0, 64, choices=(0, 1), cli_default=0),
        Param("output_padding", "output padding", _I, 0, 0, 15, choices=(0,)),
        Param("dilation", "dilation D", _I, 1, 1, 16, choices=(1,))),
        _tconv_out, "Transposed conv K={kernel}, S={stride}, P={padding} on a {size}×{size} map: output size?"),
    Family("same-padding", "'Same' padding", "Shapes", (
        Param("kernel", "kernel K", _I, 5, 1, 31, choices=(1, 3, 5, 7, 9)),
        Param("dilation", "dilation D", _I, 1, 1, 16, choices=(1, 1, 2, 4))),
        _same_padding, "Stride 1, kernel {kernel}, dilation {dilation}: padding per side for 'same' output?"),
    Family("conv-params", "Convolution parameters", "Parameters & MACs", (
        Param("c_in", "C_in", _I, 64, 1, 8192, choices=(3, 16, 32, 64, 128, 256)),
        Param("c_out", "C_out", _I, 128, 1, 8192, choices=(16, 32, 64, 128, 256, 512)),
        Param("kernel", "kernel K", _I, 3, 1, 31, choices=(1, 3, 5, 7)),
        Param("groups", "groups G", _I, 1, 1, 8192, choices=(1,)),
        Param("bias", "bias", "bool", True)),
        _conv_params, "A {kernel}×{kernel} conv, {c_in} → {c_out} channels, bias={bias}: how many parameters?"),
    Family("dw-params", "Depthwise-separable parameters", "Parameters & MACs", (
        Param("c_in", "C_in", _I, 256, 1, 8192, choices=(32, 64, 128, 256)),
        Param("c_out", "C_out", _I, 256, 1, 8192, choices=(64, 128, 256, 512)),
        Param("kernel", "kernel K", _I, 3, 1, 31, choices=(3, 5)),
        Param("bias", "bias", "bool", False)),
        _dw_params, "Depthwise {kernel}×{kernel} + pointwise 1×1, {c_in} → {c_out} channels, bias={bias}: parameters?"),
    Family("linear-params", "Fully connected parameters", "Parameters & MACs", (
        Param("n_in", "N_in", _I, 2048, 1, 10**7, choices=(128, 512, 2048, 4096)),
        Param("n_out", "N_out", _I, 1000, 1, 10**6, choices=(10, 100, 1000)),
        Param("bias", "bias", "bool", True)),
        _linear_params, "A fully connected layer {n_in} → {n_out}, bias={bias}: parameters?"),
    Family("macs", "Convolution MACs", "Parameters & MACs", (
        Param("out_h", "H_out", _I, 56, 1, 8192, choices=(7, 14, 28, 56, 112)),
        Param("out_w", "W_out", _I, 56, 1, 8192, choices=(7, 14, 28, 56, 112)),
        Param("c_in", "C_in", _I, 256, 1, 8192, choices=(3, 64, 128, 256)),
        Param("c_out", "C_out", _I, 256, 1, 8192, choices=(64, 128, 256)),
        Param("kernel", "kernel K", _I, 3, 1, 31, choices=(1, 3)),
        Param("groups", "groups G", _I, 1, 1, 8192, choices=(1,))),
        _macs, "A {kernel}×{kernel} conv {c_in} → {c_out} producing {out_h}×{out_w}: how many MACs?"),
    Family("activation", "Activation memory", "Memory", (
        Param("shape", "shape (comma separated)", "text", "1,256,56,56", choices=("1,64,112,112", "1,256,56,56", "8,128,28,28", "1,3,224,224")),
        Param("bytes_per_element", "bytes / element", _I, 4, 1, 8, choices=(1, 2, 4))),
        _activation, "A tensor of shape ({shape}) with {bytes_per_element} bytes per element: how many bytes?", "bytes"),
    Family("rf", "Receptive field of a stack", "Receptive field", (
        Param("layers", "layers K/S[/P[/D]], …", "text", "7/2/3, 3/2/1, 3/1/1, 3/1/1, 3/1/1",
              choices=("3/1, 3/1, 3/1", "3/2, 3/1, 3/1", "7/2/3, 3/2/1, 3/1/1", "3/1, 2/2, 3/1, 2/2", "3/1/2/2, 3/1/4/4", "5/1, 3/2, 3/1")),
        Param("input_size", "input size (0 = none)", _I, 224, 0, 4096, choices=(0,))),
        _rf, "Layers (kernel/stride/padding/dilation) {layers}: receptive field of the last layer?"),
    Family("anchors", "Anchors per FPN level", "Detection", (
        Param("grids", "grid sizes (80, 40, … or 38x50)", "text", "80, 40, 20, 10, 5", choices=("32", "80, 40, 20", "80, 40, 20, 10, 5", "100, 50, 25, 13, 7")),
        Param("per_location", "anchors / location", _I, 9, 1, 100, choices=(1, 3, 9))),
        _anchors, "Feature maps {grids} with {per_location} anchors per location: total anchors?"),
    Family("iou", "IoU of two boxes", "Detection", (
        Param("box_a", "box A x1, y1, x2, y2", "text", "0, 0, 10, 10"),
        Param("box_b", "box B x1, y1, x2, y2", "text", "5, 5, 15, 15")),
        _iou, "Boxes A=[{box_a}] and B=[{box_b}]: IoU?"),
    Family("nms-cost", "NMS worst-case cost", "Detection", (
        Param("n", "detections N", _I, 200, 0, 10**6, choices=(10, 50, 100, 200, 1000)),
        Param("ns_per_iou", "ns per IoU", _FL, 10.0, 0.1, 10**4, 1.0)),
        _nms, "Greedy NMS on {n} boxes, nothing suppressed: how many IoU evaluations?"),
    Family("disparity", "Disparity from depth", "Stereo", (
        Param("f_px", "focal f (px)", _FL, 500.0, 1, 10**5, 10, choices=(400.0, 500.0, 700.0, 1000.0)),
        Param("baseline", "baseline B (m)", _FL, 0.12, 0.001, 100, 0.01, choices=(0.06, 0.1, 0.12, 0.2)),
        Param("depth", "depth Z (m)", _FL, 5.0, 0.001, 10**5, 0.5, choices=(1.0, 2.0, 4.0, 5.0, 10.0))),
        _disparity, "f = {f_px} px, B = {baseline} m, Z = {depth} m: disparity in pixels?", "px"),
    Family("depth", "Depth from disparity", "Stereo", (
        Param("f_px", "focal f (px)", _FL, 500.0, 1, 10**5, 10, choices=(400.0, 500.0, 700.0, 1000.0)),
        Param("baseline", "baseline B (m)", _FL, 0.12, 0.001, 100, 0.01, choices=(0.06, 0.1, 0.12, 0.2)),
        Param("disparity", "disparity d (px)", _FL, 8.0, 0.01, 10**4, 1, choices=(4.0, 8.0, 10.0, 12.0, 20.0, 30.0))),
        _depth, "f = {f_px} px, B = {baseline} m, disparity {disparity} px: depth in metres?", "m"),
    Family("depth-error", "Depth uncertainty", "Stereo", (
        Param("f_px", "focal f (px)", _FL, 500.0, 1, 10**5, 10, choices=(500.0, 1000.0)),
        Param("baseline", "baseline B (m)", _FL, 0.12, 0.001, 100, 0.01, choices=(0.1, 0.12, 0.2)),
        Param("depth", "depth Z (m)", _FL, 10.0, 0.001, 10**5, 0.5, choices=(2.0, 5.0, 10.0)),
        Param("disparity_error", "disparity error Δd (px)", _FL, 1.0, 0, 100, 0.25, choices=(0.5, 1.0))),
        _depth_error, "f = {f_px} px, B = {baseline} m, Z = {depth} m, ±{disparity_error} px: width of the depth range (m)?", "m"),
    Family("disparity-range", "Disparity search range", "Stereo", (
        Param("f_px", "focal f (px)", _FL, 500.0, 1, 10**5, 10, choices=(500.0, 700.0, 1000.0)),
        Param("baseline", "baseline B (m)", _FL, 0.12, 0.001, 100, 0.01, choices=(0.1, 0.12, 0.2)),
        Param("z_min", "nearest Z (m)", _FL, 1.0, 0.001, 10**5, 0.5, choices=(0.5, 1.0, 2.0)),
        Param("z_max", "farthest Z (m)", _FL, 30.0, 0.001, 10**5, 1, choices=(10.0, 20.0, 30.0, 50.0))),
        _disp_range, "f = {f_px} px, B = {baseline} m, depths {z_min}–{z_max} m: how many disparities to search?"),
    Family("ransac", "RANSAC iterations", "Geometry", (
        Param("inlier_ratio", "inlier ratio w", _FL, 0.6, 0.01, 1.0, 0.05, choices=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8)),
        Param("sample_size", "sample size s", _I, 4, 1, 20, choices=(2, 3, 4, 7, 8)),
        Param("confidence", "confidence p", _FL, 0.99, 0.01, 0.9999, 0.01, choices=(0.95, 0.99))),
        _ransac, "Inlier ratio {inlier_ratio}, samples of {sample_size}, confidence {confidence}: iterations N?"),
    Family("homography", "Apply a homography", "Geometry", (
        Param("H", "H (9 numbers, row by row)", "text", "2,0,1, 0,1,0, 0,0,1"),
        Param("point", "point x, y", "text", "1, 0")),
        _homography, "", practice=False),
    Family("latency", "Minimum inference time", "Latency", (
        Param("gmacs", "GMACs", _FL, 20.0, 0.001, 10**5, 1, choices=(1.0, 4.0, 8.0, 20.0)),
        Param("peak_tflops", "peak TFLOPS", _FL, 83.0, 0.001, 10**5, 1, choices=(10.0, 20.0, 40.0, 80.0)),
        Param("utilization", "utilization", _FL, 0.5, 0.01, 1.0, 0.05, choices=(0.5, 0.25))),
        _latency, "{gmacs} GMACs on a {peak_tflops} TFLOPS device at {utilization} utilization: minimum ms?", "ms"),
    Family("budget", "Latency budget of a pipeline", "Latency", (
        Param("stages", "stage times (ms)", "text", "1, 3, 0.5, 0.5, 1", choices=("1, 3, 0.5, 0.5, 1", "2, 12, 1, 4", "5, 20, 3, 8")),),
        _budget, "Stages of {stages} ms: total latency (ms)?", "ms"),
    Family("quant", "Quantisation size", "Memory", (
        Param("n_params", "parameters", _I, 25_000_000, 1, 10**12, 1000, choices=(1_000_000, 5_000_000, 25_000_000)),
        Param("bits_from", "bits before", _I, 32, 1, 64, choices=(32, 16)),
        Param("bits_to", "bits after", _I, 8, 1, 64, choices=(8, 4))),
        _quant, "{n_params} parameters from {bits_from} to {bits_to} bits: bytes saved?", "bytes"),
]}


def derive(key: str, **values) -> Derivation:
    """Run family ``key`` with ``values`` (missing ones take their defaults)."""
    if key not in FAMILIES:
        raise ValueError(f"Unknown formula family {key!r}; choose one of: {', '.join(FAMILIES)}.")
    fam = FAMILIES[key]
    kw = fam.defaults()
    unknown = set(values) - set(kw)
    if unknown:
        raise ValueError(f"{key} has no setting {sorted(unknown)[0]!r}.")
    kw.update(values)
    return fam.fn(**kw)


def practice_problem(key: str, rng: random.Random | int | None = None) -> tuple[dict, str, Derivation]:
    """A fresh valid problem of family ``key``: (values, question text, derivation with the answer)."""
    fam = FAMILIES[key]
    if not fam.practice:
        raise ValueError(f"{fam.title} has no practice problems.")
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    for _ in range(200):
        vals = fam.defaults()
        for p in fam.params:
            if p.choices:
                vals[p.name] = rng.choice(p.choices)
            elif p.kind == "bool":
                vals[p.name] = rng.random() < 0.5
        if key == "iou":
            x1, y1 = rng.randint(0, 10), rng.randint(0, 10)
            a = [x1, y1, x1 + rng.randint(4, 12), y1 + rng.randint(4, 12)]
            x2, y2 = rng.randint(0, 12), rng.randint(0, 12)
            b = [x2, y2, x2 + rng.randint(4, 12), y2 + rng.randint(4, 12)]
            vals["box_a"] = ", ".join(map(str, a))
            vals["box_b"] = ", ".join(map(str, b))
        try:
            d = derive(key, **vals)
        except ValueError:
            continue
        return vals, fam.question.format(**vals), d
    raise ValueError(f"Could not generate a valid {fam.title} problem.")  # pragma: no cover


def check_answer(derivation: Derivation, answer) -> bool:
    """Is ``answer`` right? Integers must match exactly; other numbers to 1 % (or 0.01 absolute)."""
    try:
        a = float(str(answer).replace(",", "").replace(" ", ""))
    except ValueError:
        raise ValueError(f"The answer must be a number, got {answer!r}.") from None
    v = derivation.value
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return a == int(v)
    v = float(v)
    return abs(a - v) <= max(0.01, 0.01 * abs(v))
