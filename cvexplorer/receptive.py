"""Receptive fields of layer stacks: presets, boxes on the input, effective RF, ONNX import.

A stack is a tuple of :class:`Layer` (conv or pooling, square kernels) along one path of a
network. Per-layer receptive field ``rf``, ``jump`` and ``start`` come from
:func:`cvexplorer.formulas.receptive_field` (pixel centres at integer coordinates).

Boxes (:func:`rf_box`) are in input pixel *indices*, half-open: ``(x0, y0, x1, y1)`` covers pixels
``x0 … x1-1``, which is also their extent in image coordinates where pixel ``i`` spans
``[i, i+1)``. Parts with negative coordinates or beyond the image are padding.

>>> [r.rf for r in analyze(PRESETS["vgg16"])][-1], [r.jump for r in analyze(PRESETS["vgg16"])][-1]
(212, 32)
>>> rf_box([Layer("conv", 3, 1, 1)], 0, 0, 0)
(-1, -1, 2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

import numpy as np

from . import formulas as F

__all__ = ["Layer", "make_stack", "analyze", "rf_box", "first_covering_layer", "ERF", "effective_rf",
           "effective_rf_1d", "PRESETS", "PRESET_TITLES", "stack_from_onnx", "feature_size"]

KINDS = ("conv", "maxpool", "avgpool")


@dataclass(frozen=True)
class Layer:
    """One conv or pooling layer (square kernel). ``name`` is for display only."""

    kind: str = "conv"
    kernel: int = 3
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    name: str = ""

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.kernel, self.stride, self.padding, self.dilation)

    @property
    def span(self) -> int:
        """Effective kernel extent D(K-1)+1."""
        return self.dilation * (self.kernel - 1) + 1

    def label(self) -> str:
        txt = f"{self.kind} {self.kernel}×{self.kernel}/{self.stride}"
        if self.dilation > 1:
            txt += f" d{self.dilation}"
        return txt


def _validate(layer: Layer, i: int) -> Layer:
    where = f"Layer {i + 1}" + (f" ({layer.name})" if layer.name else "")
    if layer.kind not in KINDS:
        raise ValueError(f"{where}: the type must be one of {', '.join(KINDS)}, got {layer.kind!r}.")
    for attr, lo in (("kernel", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
        v = getattr(layer, attr)
        if isinstance(v, bool) or int(v) != v or v < lo:
            raise ValueError(f"{where}: the {attr} must be a whole number ≥ {lo}, got {v!r}.")
    if layer.kind != "conv" and layer.dilation != 1:
        raise ValueError(f"{where}: pooling layers here have no dilation (got {layer.dilation}).")
    if 2 * layer.padding > layer.span and layer.kind != "conv":
        raise ValueError(f"{where}: pooling padding must be at most half the window ({layer.padding} > {layer.kernel}/2).")
    return replace(layer, kernel=int(layer.kernel), stride=int(layer.stride), padding=int(layer.padding),
                   dilation=int(layer.dilation))


def make_stack(layers: Iterable) -> tuple[Layer, ...]:
    """Validate a stack given as Layers, ``(kernel, stride[, padding[, dilation]])`` tuples or dicts."""
    out = []
    for i, l in enumerate(layers):
        if isinstance(l, Layer):
            layer = l
        elif isinstance(l, dict):
            layer = Layer(**l)
        else:
            try:
                parts = tuple(l)
            except TypeError:
                raise ValueError(f"Layer {i + 1} must be a Layer, a dict or a (kernel, stride, …) tuple, got {l!r}.") from None
            if parts and isinstance(parts[0], str):
                layer = Layer(parts[0], *parts[1:])
            else:
                if not 1 <= len(parts) <= 4:
                    raise ValueError(f"Layer {i + 1} must be (kernel, stride[, padding[, dilation]]), got {l!r}.")
                layer = Layer("conv", *parts)
        out.append(_validate(layer, i))
    if not out:
        raise ValueError("The stack is empty: add at least one layer.")
    return tuple(out)


def analyze(stack, input_size: int | None = None) -> list[F.RFResult]:
    """Per-layer ``rf``, ``jump``, ``start`` (and ``out_size`` given ``input_size``)."""
    st = make_stack(stack)
    return F.receptive_field([l.as_tuple() for l in st], input_size=input_size)


def feature_size(stack, layer_index: int, input_size: int) -> int:
    """Side of the feature map after ``layer_index`` for an input of ``input_size``."""
    return analyze(stack, input_size)[_index(stack, layer_index)].out_size


def _index(stack, layer_index: int) -> int:
    n = len(stack)
    if not -n <= layer_index < n:
        raise ValueError(f"Layer index {layer_index} is out of range: the stack has {n} layers.")
    return layer_index % n


def rf_box(stack, layer_index: int, row: int, col: int) -> tuple[int, int, int, int]:
    """Input pixels (half-open ``x0, y0, x1, y1``) that feature cell (row, col) of layer ``layer_index`` sees.

    ``layer_index`` counts from 0 (the output of the first layer). The box may extend beyond the
    image: that part is padding.
    """
    res = analyze(stack)[_index(stack, layer_index)]
    if row < 0 or col < 0:
        raise ValueError(f"Feature-map cells are counted from 0, got ({row}, {col}).")
    half = (res.rf - 1) / 2
    x0 = int(round(res.start + col * res.jump - half))
    y0 = int(round(res.start + row * res.jump - half))
    return (x0, y0, x0 + res.rf, y0 + res.rf)


def first_covering_layer(stack, box) -> int | None:
    """Index of the first layer whose receptive field is at least as large as ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    need = max(abs(x1 - x0), abs(y1 - y0))
    for i, r in enumerate(analyze(stack)):
        if r.rf >= need:
            return i
    return None


# ----------------------------------------------------------------------------- effective RF
def effective_rf_1d(stack, layer_index: int, index: int = 0) -> tuple[int, np.ndarray]:
    """Weights of each input pixel on output cell ``index`` when every kernel is all ones (1-D).

    Returns ``(first_pixel, weights)``: ``weights[i]`` is the number of paths from input pixel
    ``first_pixel + i`` to the cell (max and average pooling are treated as all-ones windows).
    Their sum is the product of the kernel sizes.
    """
    st = make_stack(stack)
    li = _index(st, layer_index)
    g = np.ones(1, dtype=np.float64)
    offset = int(index)
    for layer in reversed(st[: li + 1]):
        k, s, p, d = layer.as_tuple()
        n = len(g)
        new = np.zeros((n - 1) * s + (k - 1) * d + 1, dtype=np.float64)
        for t in range(k):
            new[t * d: t * d + (n - 1) * s + 1: s] += g
        g = new
        offset = offset * s - p
    return offset, g


@dataclass(frozen=True)
class ERF:
    """Effective receptive field: ``weights[r, c]`` of input pixel ``(y0 + r, x0 + c)``, normalised to sum 1."""

    x0: int
    y0: int
    weights: np.ndarray

    def on_image(self, height: int, width: int) -> np.ndarray:
        """The weights pasted onto an (height, width) canvas; the padding part is dropped."""
        out = np.zeros((height, width), dtype=np.float64)
        h, w = self.weights.shape
        ys, xs = max(0, self.y0), max(0, self.x0)
        ye, xe = min(height, self.y0 + h), min(width, self.x0 + w)
        if ye > ys and xe > xs:
            out[ys:ye, xs:xe] = self.weights[ys - self.y0: ye - self.y0, xs - self.x0: xe - self.x0]
        return out


def effective_rf(stack, layer_index: int, row: int = 0, col: int = 0) -> ERF:
    """2-D effective RF of cell (row, col): the outer product of the 1-D all-ones path counts.

    Exact for the linear stack with all-ones kernels; it is a discrete bell (a product of box
    convolutions), which is why the centre of the receptive field dominates.
    """
    y0, wy = effective_rf_1d(stack, layer_index, row)
    x0, wx = effective_rf_1d(stack, layer_index, col)
    w = np.outer(wy / wy.sum(), wx / wx.sum())
    w.setflags(write=False)
    return ERF(x0, y0, w)


# ----------------------------------------------------------------------------- presets
def _c(k, s=1, p=None, d=1, name=""):
    return Layer("conv", k, s, (d * (k - 1)) // 2 if p is None else p, d, name)


def _mp(k, s, p=0, name=""):
    return Layer("maxpool", k, s, p, 1, name)


def _alexnet():
    return (_c(11, 4, 2, name="conv1"), _mp(3, 2, name="pool1"), _c(5, 1, 2, name="conv2"), _mp(3, 2, name="pool2"),
            _c(3, name="conv3"), _c(3, name="conv4"), _c(3, name="conv5"), _mp(3, 2, name="pool5"))


def _vgg16():
    out = []
    for b, n in enumerate((2, 2, 3, 3, 3), start=1):
        out += [_c(3, name=f"conv{b}_{i + 1}") for i in range(n)]
        out.append(_mp(2, 2, name=f"pool{b}"))
    return tuple(out)


def _resnet_stem():
    return [_c(7, 2, 3, name="conv1"), _mp(3, 2, 1, name="maxpool")]


def _resnet18():
    out = _resnet_stem()
    for li, s in enumerate((1, 2, 2, 2), start=1):
        for b in range(2):
            out.append(_c(3, s if b == 0 else 1, name=f"layer{li}.{b}.conv1"))
            out.append(_c(3, name=f"layer{li}.{b}.conv2"))
    return tuple(out)


def _resnet50():
    out = _resnet_stem()
    for li, (n, s) in enumerate(((3, 1), (4, 2), (6, 2), (3, 2)), start=1):
        for b in range(n):
            out.append(_c(1, name=f"layer{li}.{b}.conv1"))
            out.append(_c(3, s if b == 0 else 1, name=f"layer{li}.{b}.conv2"))  # torchvision: stride in the 3×3
            out.append(_c(1, name=f"layer{li}.{b}.conv3"))
    return tuple(out)


def _unet_encoder():
    out = []
    for lvl in range(1, 5):
        out += [_c(3, name=f"enc{lvl}.conv1"), _c(3, name=f"enc{lvl}.conv2"), _mp(2, 2, name=f"pool{lvl}")]
    out += [_c(3, name="bottleneck.conv1"), _c(3, name="bottleneck.conv2")]
    return tuple(out)


def _mobilenet_v2():
    out = [_c(3, 2, 1, name="features.0")]
    idx = 1
    for t, _c_out, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                            (6, 160, 3, 2), (6, 320, 1, 1)):
        for b in range(n):
            if t != 1:
                out.append(_c(1, name=f"features.{idx}.expand"))
            out.append(_c(3, s if b == 0 else 1, name=f"features.{idx}.dw"))
            out.append(_c(1, name=f"features.{idx}.project"))
            idx += 1
    out.append(_c(1, name=f"features.{idx}"))
    return tuple(out)


PRESETS: dict[str, tuple[Layer, ...]] = {
    "alexnet": _alexnet(),
    "vgg16": _vgg16(),
    "resnet18": _resnet18(),
    "resnet50": _resnet50(),
    "unet_encoder": _unet_encoder(),
    "mobilenet_v2": _mobilenet_v2(),
}
PRESET_TITLES = {
    "alexnet": "AlexNet (torchvision)",
    "vgg16": "VGG-16",
    "resnet18": "ResNet-18 (torchvision)",
    "resnet50": "ResNet-50 (torchvision)",
    "unet_encoder": "U-Net encoder (padded)",
    "mobilenet_v2": "MobileNetV2 (torchvision)",
}


# ----------------------------------------------------------------------------- ONNX import
def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _layer_from_node(node) -> Layer:
    a = _attrs(node)
    kind = {"Conv": "conv", "MaxPool": "maxpool", "AveragePool": "avgpool"}[node.op_type]
    ks = list(a.get("kernel_shape", []))
    if not ks:
        raise ValueError(f"ONNX node {node.name or node.op_type} has no kernel_shape attribute; cannot read its kernel.")
    k = int(ks[0])
    strides = list(a.get("strides", [1] * len(ks)))
    dil = list(a.get("dilations", [1] * len(ks)))
    pads = list(a.get("pads", [0] * (2 * len(ks))))
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    s, d = int(strides[0]), int(dil[0])
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        p = (d * (k - 1)) // 2
    else:
        p = int(pads[0])
    return Layer(kind, k, s, p, d if kind == "conv" else 1, node.name or node.op_type)


def stack_from_onnx(model) -> tuple[Layer, ...]:
    """The main-path stack of an ONNX model: its Conv/MaxPool/AveragePool nodes in order.

    ``model`` is a path, bytes or an ``onnx.ModelProto``. Other nodes pass their input through;
    where paths merge (Add, Concat, ...) the path with the largest receptive field is kept, so
    for a branching graph the result is the largest receptive field over paths (along the
    first spatial axis). Raises ValueError when the model cannot be read or has no such layer.
    """
    import onnx

    if isinstance(model, (bytes, bytearray)):
        try:
            model = onnx.load_from_string(bytes(model))
        except Exception as exc:
            raise ValueError(f"These bytes are not an ONNX model ({exc}).") from None
    elif not isinstance(model, onnx.ModelProto):
        try:
            model = onnx.load(str(model), load_external_data=False)
        except Exception as exc:
            raise ValueError(f"Could not read the ONNX model {model}: {exc}.") from None
    g = model.graph
    inits = {t.name for t in g.initializer}
    best: dict[str, tuple] = {i.name: () for i in g.input if i.name not in inits}
    cache: dict[tuple, tuple[int, int]] = {(): (1, 1)}

    def score(stack):
        if stack not in cache:
            r = F.receptive_field([l.as_tuple() for l in stack])[-1]
            cache[stack] = (r.rf, r.jump)
        return cache[stack]

    nodes = list(g.node)
    done = [False] * len(nodes)
    progress = True
    while progress:  # topological order without assuming the file is sorted
        progress = False
        for ni, node in enumerate(nodes):
            if done[ni]:
                continue
            data_in = [t for t in node.input if t and t not in inits]
            if any(t not in best for t in data_in):
                continue
            candidates = [best[t] for t in data_in] or [()]
            stack = max(candidates, key=score)
            if node.op_type in ("Conv", "MaxPool", "AveragePool"):
                stack = stack + (_layer_from_node(node),)
            for t in node.output:
                best[t] = stack
            done[ni] = progress = True
    outs = [best[o.name] for o in g.output if o.name in best]
    if not outs:
        outs = list(best.values())
    stack = max(outs, key=score) if outs else ()
    if not stack:
        raise ValueError("The ONNX model has no Conv, MaxPool or AveragePool node on a path to its output.")
    return make_stack(stack)
