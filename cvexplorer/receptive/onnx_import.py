"""Read a stack from an ONNX model: its Conv / pooling path with the largest receptive field."""

from __future__ import annotations

from collections import deque

import numpy as np

from ..lessons import check_regular_file
from .core import LIMITS as STACK_LIMITS
from .core import Layer, make_stack

__all__ = ["stack_from_onnx", "LIMITS"]

#: Bounds on an imported model (tests lower them): its file size and node count. The stack it
#: yields is also bounded by ``receptive.LIMITS["layers"]``.
LIMITS = {"onnx_bytes": 2_000_000_000, "nodes": 20_000}


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
            raise ValueError(f"These bytes are not an ONNX model ({str(exc)[:200]}).") from None
    elif not isinstance(model, onnx.ModelProto):
        path = check_regular_file(model, "The ONNX model", LIMITS["onnx_bytes"])  # a pipe would block the read
        try:
            model = onnx.load(str(path), load_external_data=False)
        except Exception as exc:
            raise ValueError(f"Could not read the ONNX model {path.name}: {str(exc)[:200]}.") from None
    g = model.graph
    if len(g.node) > LIMITS["nodes"]:
        raise ValueError(f"The ONNX model has {len(g.node):,} nodes; this app imports models of at most "
                         f"{LIMITS['nodes']:,} nodes.")
    inits = {t.name for t in g.initializer}
    constants = _constants(model)
    # per tensor: (stack, rf, jump) of the path with the largest field that reaches it, kept as a
    # linked chain (parent, layer) so a long chain costs O(1) per node, not a copy of its stack
    best: dict[str, tuple] = {i.name: (None, 0, 1, 1) for i in g.input if i.name not in inits}
    pending: dict[str, int] = {}  # padding a Pad node added to a tensor, waiting for the next conv/pool

    nodes = list(g.node)
    producers = {t: ni for ni, node in enumerate(nodes) for t in node.output}
    waits = [0] * len(nodes)
    users: dict[int, list[int]] = {}
    for ni, node in enumerate(nodes):
        deps = {producers[t] for t in node.input if t and t not in inits and t in producers}
        waits[ni] = len(deps)
        for dep in deps:
            users.setdefault(dep, []).append(ni)
    ready = deque(ni for ni, w in enumerate(waits) if w == 0)
    while ready:  # topological order without assuming the file is sorted
        ni = ready.popleft()
        node = nodes[ni]
        data_in = [t for t in node.input if t and t not in inits and t in best]
        src = max(data_in, key=lambda t: best[t][2:]) if data_in else None
        chain = best[src] if src is not None else (None, 0, 1, 1)
        pad = pending.get(src, 0) if src is not None else 0
        if node.op_type in ("Conv", "MaxPool", "AveragePool"):
            layer = _layer_from_node(node, pad)
            n = chain[1] + 1
            if n > STACK_LIMITS["layers"]:
                raise ValueError(f"The ONNX model has more than {STACK_LIMITS['layers']} conv and pooling layers "
                                 f"along one path; this app follows at most {STACK_LIMITS['layers']}.")
            chain = ((chain[0], layer), n, chain[2] + (layer.span - 1) * chain[3], chain[3] * layer.stride)
            pad = 0
        elif node.op_type == "Pad":
            pad += _pad_before(node, constants)
        for t in node.output:
            best[t] = chain
            pending[t] = pad
        for user in users.get(ni, ()):
            waits[user] -= 1
            if waits[user] == 0:
                ready.append(user)
    outs = [best[o.name] for o in g.output if o.name in best] or list(best.values())
    chain = max(outs, key=lambda c: c[2:]) if outs else (None, 0, 1, 1)
    layers = []
    link = chain[0]
    while link is not None:
        link, layer = link
        layers.append(layer)
    if not layers:
        raise ValueError("The ONNX model has no Conv, MaxPool or AveragePool node on a path to its output.")
    return make_stack(reversed(layers))
