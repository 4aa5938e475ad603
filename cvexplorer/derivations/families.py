"""The families of the calculator and ``cvexplorer calc``: FAMILIES, derive, practice problems, answers."""

from __future__ import annotations

import random

import numpy as np

from .layers import (_activation, _conv_params, _dw_params, _linear_params, _macs, _pool_out, _quant, _rf,
                     _same_padding, _tconv_out, conv_output_derivation)
from ..text import fmt_count, parse_number
from .model import Derivation, Family, Param
from .scenes import (_anchors, _budget, _depth, _depth_error, _disp_range, _disparity, _homography, _iou,
                     _latency, _nms, _ransac)

__all__ = ["FAMILIES", "derive", "practice_problem", "problem_from", "check_answer", "answer_text"]

_I = "int"
_FL = "float"
FAMILIES: dict[str, Family] = {f.key: f for f in [
    Family("conv-out", "Convolution output size", "Shapes", (
        Param("size", "input size N", _I, 224, 1, 4096, choices=(5, 7, 14, 28, 32, 56, 64, 112, 224, 227, 256)),
        Param("kernel", "kernel K", _I, 3, 1, 31, choices=(1, 3, 5, 7, 11)),
        Param("stride", "stride S", _I, 2, 1, 16, choices=(1, 1, 2, 2, 4), cli_default=1),
        Param("padding", "padding P", _I, 1, 0, 64, choices=(0, 0, 1, 2, 3), cli_default=0),
        Param("dilation", "dilation D", _I, 1, 1, 16, choices=(1, 1, 1, 2))),
        conv_output_derivation, "A {kernel}×{kernel} conv (stride {stride}, padding {padding}, dilation {dilation}) on a {size}×{size} input: output size?"),
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


def problem_from(key: str, values: dict) -> tuple[dict, str, Derivation]:
    """The practice problem of family ``key`` with these ``values`` (a saved lesson): values, question, derivation."""
    d = derive(key, **values)
    return dict(values), FAMILIES[key].question.format(**{**FAMILIES[key].defaults(), **values}), d


def check_answer(derivation: Derivation, answer) -> bool:
    """Is ``answer`` right? Integers must match exactly; other numbers to 1 % (or 0.01 absolute).

    Thousands separators are allowed (``1,177``); arithmetic such as ``7.5`` or ``60/8`` is read
    by :func:`cvexplorer.text.parse_number`.

    >>> d = derive("conv-out", size=224, kernel=3, stride=2, padding=1)
    >>> check_answer(d, "112"), check_answer(d, "113")
    (True, False)
    """
    a = parse_number(str(answer).replace(",", "").replace(" ", "").replace("\u2009", ""), "The answer")
    v = derivation.value
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return a == int(v)
    v = float(v)
    return abs(a - v) <= max(0.01, 0.01 * abs(v))


def answer_text(derivation: Derivation) -> str:
    """The expected answer as a student would write it (``1 177``, ``7.5``, ``∞``).

    >>> answer_text(derive("ransac", inlier_ratio=0.5, sample_size=8))
    '1177'
    """
    v = derivation.value
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt_count(x) for x in v) + ")"
    return fmt_count(v)
