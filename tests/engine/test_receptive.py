"""cvexplorer.receptive: presets vs published values, rf_box vs an impulse, ERF, ONNX import."""

from __future__ import annotations

import numpy as np
import pytest

from cvexplorer import receptive as R
from cvexplorer.formulas import receptive_field


@pytest.mark.parametrize("name, rf, jump", [
    ("vgg16", 212, 32),      # pool5
    ("alexnet", 195, 32),    # pool5
    ("resnet50", 427, 32),   # layer4 (torchvision: stride in the 3×3 conv)
    ("resnet18", 435, 32),   # layer4
    ("mobilenet_v2", 491, 32),
    ("unet_encoder", 140, 16),
])
def test_presets_final_rf_and_jump(name, rf, jump):
    last = R.analyze(R.PRESETS[name])[-1]
    assert (last.rf, last.jump) == (rf, jump)


def test_presets_output_sizes_on_224():
    assert R.analyze(R.PRESETS["resnet50"], 224)[-1].out_size == 7
    assert R.analyze(R.PRESETS["vgg16"], 224)[-1].out_size == 7
    assert R.analyze(R.PRESETS["alexnet"], 224)[-1].out_size == 6
    assert R.analyze(R.PRESETS["mobilenet_v2"], 224)[-1].out_size == 7
    r50 = R.PRESETS["resnet50"]
    # torchvision layout: the stride sits in the 3×3 conv of each stage's first block
    assert [l.name for l in r50 if l.stride == 2] == ["conv1", "maxpool", "layer2.0.conv2", "layer3.0.conv2",
                                                      "layer4.0.conv2"]


def _impulse_box(stack, layer_index, row, col, size):
    """Input pixels that change cell (row, col) when probed one by one (all-ones kernels, 2-D)."""
    # the 2-D all-ones stack is separable: probing each axis with 1-D impulses is exact
    hits_x, hits_y = [], []
    for axis, cell, hits in ((1, col, hits_x), (0, row, hits_y)):
        for i in range(size):
            x = np.zeros(size)
            x[i] = 1.0
            for layer in stack[: layer_index + 1]:
                k, s, p, d = layer.as_tuple()
                span = d * (k - 1) + 1
                xp = np.pad(x, p)
                x = np.lib.stride_tricks.sliding_window_view(xp, span)[::s, ::d].sum(axis=1)
            if cell < len(x) and x[cell] > 0:
                hits.append(i)
    return hits_x, hits_y


def test_rf_box_agrees_with_impulse_propagation():
    stack = R.make_stack([(7, 2, 3), ("maxpool", 3, 2, 1), (3, 1, 1), (3, 2, 1), (3, 1, 2, 2)])
    for li, row, col in [(1, 3, 5), (4, 4, 6), (2, 0, 0), (4, 0, 1)]:
        x0, y0, x1, y1 = R.rf_box(stack, li, row, col)
        hx, hy = _impulse_box(stack, li, row, col, 160)
        # pixels at negative indices are padding: the impulse only sees the part on the image
        assert (min(hx), max(hx) + 1) == (max(0, x0), x1)
        assert (min(hy), max(hy) + 1) == (max(0, y0), y1)
        assert x1 - x0 == R.analyze(stack)[li].rf


def test_rf_box_examples():
    assert R.rf_box([(3, 1, 1)], 0, 0, 0) == (-1, -1, 2, 2)
    assert R.rf_box([(3, 1, 0)], 0, 2, 5) == (5, 2, 8, 5)
    x0, y0, x1, y1 = R.rf_box(R.PRESETS["resnet50"], -1, 3, 3)  # a central cell of the 7×7 map
    assert (x1 - x0, (x0 + x1) / 2) == (427, 3 * 32 + 0.5)


def test_first_covering_layer():
    st = R.PRESETS["vgg16"]
    i = R.first_covering_layer(st, (10, 10, 60, 40))
    rfs = [r.rf for r in R.analyze(st)]
    assert rfs[i] >= 50 and (i == 0 or rfs[i - 1] < 50)
    assert R.first_covering_layer(st, (0, 0, 1000, 10)) is None


def test_effective_rf_sums_and_support():
    stack = R.make_stack([(3, 1), (3, 2), (3, 1), (5, 1, 0, 2)])
    for li in range(len(stack)):
        off, w = R.effective_rf_1d(stack, li, 2)
        assert w.sum() == np.prod([l.kernel for l in stack[: li + 1]])  # one path per tap combination
        res = R.analyze(stack)[li]
        x0, _, x1, _ = R.rf_box(stack, li, 0, 2)
        assert (off, off + len(w)) == (x0, x1)          # its support spans the RF box
        np.testing.assert_array_equal(w, w[::-1])       # symmetric about the centre
        assert len(w) == res.rf
    erf = R.effective_rf(stack, 2, 1, 2)  # (the dilated layer 4 has holes: its centre need not be the max)
    assert erf.weights.sum() == pytest.approx(1.0)
    c = np.array(erf.weights.shape) // 2
    assert erf.weights[c[0], c[1]] == erf.weights.max()  # the centre dominates
    on = erf.on_image(40, 50)
    assert on.shape == (40, 50) and on.sum() <= 1.0 + 1e-12


def test_effective_rf_equals_brute_force_ones_network():
    """The ERF of an all-ones linear stack = the gradient of the cell w.r.t. the input (impulse responses)."""
    stack = R.make_stack([(3, 2, 1), (3, 1, 1)])
    off, w = R.effective_rf_1d(stack, 1, 3)
    n = 24
    resp = []
    for i in range(n):
        x = np.zeros(n)
        x[i] = 1.0
        for layer in stack:
            k, s, p, d = layer.as_tuple()
            x = np.lib.stride_tricks.sliding_window_view(np.pad(x, p), d * (k - 1) + 1)[::s, ::d].sum(axis=1)
        resp.append(x[3])
    full = np.zeros(n)
    for i, v in enumerate(w):
        if 0 <= off + i < n:
            full[off + i] = v
    np.testing.assert_array_equal(full, resp)


def test_validation_messages():
    with pytest.raises(ValueError, match="stride"):
        R.make_stack([(3, 0)])
    with pytest.raises(ValueError, match="type"):
        R.make_stack([R.Layer("dense", 3)])
    with pytest.raises(ValueError, match="empty"):
        R.make_stack([])
    with pytest.raises(ValueError, match="out of range"):
        R.rf_box([(3, 1)], 3, 0, 0)


# ----------------------------------------------------------------------------- ONNX import
def _onnx_model(branch: bool):
    from onnx import TensorProto, helper, numpy_helper

    def w(name, cout, cin, k):
        return numpy_helper.from_array(np.zeros((cout, cin, k, k), np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], kernel_shape=[7, 7], strides=[2, 2], pads=[3, 3, 3, 3], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], name="pool"),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2], name="conv2"),
        helper.make_node("AveragePool", ["c2"], ["a2"], kernel_shape=[2, 2], strides=[2, 2], name="avg"),
    ]
    inits = [w("w1", 4, 3, 7), w("w2", 4, 4, 3)]
    last = "a2"
    if branch:  # a residual block: 3×3 → 3×3 on one path, 1×1 skip on the other, then Add
        nodes += [
            helper.make_node("Conv", ["a2", "w3"], ["b1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="b.conv1"),
            helper.make_node("Conv", ["b1", "w4"], ["b2"], kernel_shape=[3, 3], auto_pad="SAME_UPPER", name="b.conv2"),
            helper.make_node("Conv", ["a2", "w5"], ["sk"], kernel_shape=[1, 1], name="skip"),
            helper.make_node("Add", ["sk", "b2"], ["y"]),
        ]
        inits += [w("w3", 4, 4, 3), w("w4", 4, 4, 3), w("w5", 4, 4, 1)]
        last = "y"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
                              [helper.make_tensor_value_info(last, TensorProto.FLOAT, None)], initializer=inits)
    return helper.make_model(graph)


def test_onnx_import_equals_hand_written_stack(tmp_path):
    import onnx

    model = _onnx_model(branch=False)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    got = R.stack_from_onnx(path)
    hand = R.make_stack([R.Layer("conv", 7, 2, 3), R.Layer("maxpool", 3, 2, 1), R.Layer("conv", 3, 1, 2, 2),
                         R.Layer("avgpool", 2, 2, 0)])
    assert [l.as_tuple() + (l.kind,) for l in got] == [l.as_tuple() + (l.kind,) for l in hand]
    assert R.analyze(got)[-1] == R.analyze(hand)[-1]
    assert R.stack_from_onnx(model.SerializeToString())[0].name == "conv1"


def test_onnx_branching_takes_the_largest_rf_path():
    got = R.stack_from_onnx(_onnx_model(branch=True))
    assert [l.name for l in got][-2:] == ["b.conv1", "b.conv2"]  # not the 1×1 skip
    hand = [(7, 2, 3), (3, 2, 1), (3, 1, 2, 2), (2, 2), (3, 1, 1), (3, 1, 1)]
    assert R.analyze(got)[-1].rf == receptive_field(hand)[-1].rf


def test_onnx_bad_input(tmp_path):
    p = tmp_path / "x.onnx"
    p.write_bytes(b"not a model")
    with pytest.raises(ValueError):
        R.stack_from_onnx(p)


def _pad_conv_model(opset: int, mode: str = "reflect"):
    """x → Pad(2 px on H and W) → Conv 5×5 (no padding of its own) → Conv 3×3 /2 pad 1: PyTorch's
    ``Conv2d(…, padding=2, padding_mode='reflect')`` exports as exactly this Pad + Conv."""
    from onnx import TensorProto, helper, numpy_helper

    w1 = numpy_helper.from_array(np.zeros((4, 3, 5, 5), np.float32), "w1")
    w2 = numpy_helper.from_array(np.zeros((4, 4, 3, 3), np.float32), "w2")
    pads = [0, 0, 2, 2, 0, 0, 2, 2]
    inits = [w1, w2]
    if opset >= 11:
        inits.append(numpy_helper.from_array(np.array(pads, np.int64), "pads"))
        pad = helper.make_node("Pad", ["x", "pads"], ["xp"], mode=mode, name="pad")
    else:
        pad = helper.make_node("Pad", ["x"], ["xp"], mode=mode, pads=pads, name="pad")
    nodes = [pad,
             helper.make_node("Conv", ["xp", "w1"], ["c1"], kernel_shape=[5, 5], pads=[0, 0, 0, 0], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                              name="conv2")]
    g = helper.make_graph(nodes, "padconv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


@pytest.mark.parametrize("opset", [9, 13])
def test_onnx_pad_node_moves_the_start_like_conv_padding(opset):
    """Bug: a Pad node was ignored, so the RF size and stride were right but the start (every rf_box) shifted."""
    import onnx

    model = _pad_conv_model(opset)
    onnx.checker.check_model(model)
    got = R.stack_from_onnx(model)
    same = [R.Layer("conv", 5, 1, 2, 1, "conv1"), R.Layer("conv", 3, 2, 1, 1, "conv2")]
    assert [l.as_tuple() for l in got] == [l.as_tuple() for l in same]
    assert [r.start for r in R.analyze(got)] == [r.start for r in R.analyze(same)] == [0.0, 0.0]
    assert R.rf_box(got, 1, 0, 0) == R.rf_box(same, 1, 0, 0) == (-3, -3, 4, 4)


def test_formulas_receptive_field_takes_the_engines_layers():
    """formulas.receptive_field used to refuse the presets ("Layer 1 must be a tuple")."""
    vgg = R.PRESETS["vgg16"]
    assert receptive_field(vgg) == receptive_field([l.as_tuple() for l in vgg])
    assert receptive_field(vgg)[-1].rf == 212
    assert receptive_field(vgg, input_size=224)[-1].out_size == 7


def test_cell_view_and_grid_for_the_panel():
    stack = [(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)]  # RF 10, jump 4
    rows, cols = R.analyze(stack, 480)[-1], R.analyze(stack, 640)[-1]
    assert R.cell_near(rows, cols, 41.0, 22.0) == (5, 10)
    assert R.cell_near(rows, cols, 1e6, -50) == (0, cols.out_size - 1)  # clamped to the map
    v = R.cell_view(stack, 3, 5, 10, height=480, width=640)
    assert v.box == R.rf_box(stack, 3, 5, 10) == (37, 17, 47, 27)
    assert v.padding == () and len(v.hatch) == 0 and v.erf.weights.shape == (10, 10)
    # the zoom shows the neighbourhood, not the whole 640×480 image
    x0, y0, x1, y1 = v.view
    assert x0 <= 37 and x1 >= 47 and y0 <= 17 and y1 >= 27 and (x1 - x0) < 120
    # a fine map over the whole image is thinned; inside the zoom every boundary is kept
    full = R.layer_grid(rows, cols, 480, 640, max_lines=40)
    assert full.step > 1 and len(full.segments) <= 2 * 41 + 2
    zoom = R.layer_grid(rows, cols, 480, 640, max_lines=40, view=v.view)
    assert zoom.step == 1
    xs = np.unique(zoom.segments[zoom.segments[:, 0] == zoom.segments[:, 2], 0])
    assert np.allclose(np.diff(xs), 4.0)  # one line per cell, a jump apart


def test_network_input_keeps_the_aspect_and_the_source():
    img = np.arange(300 * 200 * 3, dtype=np.uint32).astype(np.uint8).reshape(300, 200, 3)
    before = img.copy()
    out = R.network_input(img, 640)
    assert out.shape == (640, 427, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(img, before)
