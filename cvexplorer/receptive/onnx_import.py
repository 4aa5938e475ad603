"""Read a stack from an ONNX model: its Conv / pooling path with the largest receptive field."""

from __future__ import annotations

import numpy as np

from .. import formulas as F
from .core import Layer, make_stack

__all__ = ["stack_from_onnx"]


def _attrs(node) -> dict:
    from onnx import helper  # onnx is optional and slow to import: only ONNX import needs it

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _layer_from_node(node, extra_padding: int = 0) -> Layer:
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
    return Layer(kind, k, s, p + extra_padding, d if kind == "conv" else 1, node.name or node.op_type)


def _pad_before(node, constants: dict) -> int:
    """Pixels a Pad node adds before the first spatial axis (axis 2 of NCHW), from its attribute or input."""
    a = _attrs(node)
    pads = a.get("pads")  # opset < 11: an attribute
    if pads is None and len(node.input) > 1 and node.input[1]:
        if node.input[1] not in constants:
            raise ValueError(f"The Pad node {node.name or ''} takes its padding from a computed tensor; "
                             "only constant padding can be read.")
        pads = constants[node.input[1]]
    pads = [int(v) for v in np.asarray(pads if pads is not None else [], dtype=np.int64).ravel()]
    if not pads:
        return 0
    axes = list(range(len(pads) // 2))  # pads = [begin of each axis..., end of each axis...]
    if len(node.input) > 3 and node.input[3]:  # opset 18: pads name only these axes
        axes = [int(v) for v in np.asarray(constants.get(node.input[3], axes)).ravel()]
    for j, ax in enumerate(axes):
        if (ax % 4 if ax < 0 else ax) == 2:  # the first spatial axis of an NCHW image
            return pads[j]
    return 0


def _constants(model) -> dict:
    from onnx import numpy_helper  # see _attrs

    out = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output:
            a = _attrs(node)
            if "value" in a:
                out[node.output[0]] = numpy_helper.to_array(a["value"])
            elif "value_ints" in a:
                out[node.output[0]] = np.asarray(a["value_ints"], np.int64)
    return out


def stack_from_onnx(model) -> tuple[Layer, ...]:
    """The main-path stack of an ONNX model: its Conv/MaxPool/AveragePool nodes in order.

    ``model`` is a path, bytes or an ``onnx.ModelProto``. Other nodes pass their input through;
    where paths merge (Add, Concat, ...) the path with the largest receptive field is kept, so
    for a branching graph the result is the largest receptive field over paths (along the
    first spatial axis). A ``Pad`` node (explicit padding, or PyTorch's ``padding_mode='reflect'``,
    which exports as Pad + Conv) adds its leading padding to the next Conv or pooling layer, so
    the field's start, and every :func:`rf_box`, are where the network really looks (the padding's
    values, zeros or reflections, do not change which pixels a cell sees). Raises ValueError when
    the model cannot be read or has no such layer.
    """
    import onnx  # see _attrs

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
    constants = _constants(model)
    best: dict[str, tuple] = {i.name: () for i in g.input if i.name not in inits}
    pending: dict[str, int] = {}  # padding a Pad node added to a tensor, waiting for the next conv/pool
    cache: dict[tuple, tuple[int, int]] = {(): (1, 1)}

    def score(stack):
        if stack not in cache:
            r = F.receptive_field(stack)[-1]
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
            src = max(data_in, key=lambda t: score(best[t])) if data_in else None
            stack = best[src] if src is not None else ()
            pad = pending.get(src, 0) if src is not None else 0
            if node.op_type in ("Conv", "MaxPool", "AveragePool"):
                stack = stack + (_layer_from_node(node, pad),)
                pad = 0
            elif node.op_type == "Pad":
                pad += _pad_before(node, constants)
            for t in node.output:
                best[t] = stack
                pending[t] = pad
            done[ni] = progress = True
    outs = [best[o.name] for o in g.output if o.name in best]
    if not outs:
        outs = list(best.values())
    stack = max(outs, key=score) if outs else ()
    if not stack:
        raise ValueError("The ONNX model has no Conv, MaxPool or AveragePool node on a path to its output.")
    return make_stack(stack)
