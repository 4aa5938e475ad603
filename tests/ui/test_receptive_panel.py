"""Receptive-field panel: clicking a cell draws the expected box; presets, editing, measuring."""

from __future__ import annotations

import numpy as np
import pytest

from cvexplorer import receptive as R


@pytest.fixture
def panel(make_panel):
    return make_panel("receptive-field")


def _rect(panel, name):
    items = panel.canvas.layer_items(name)
    assert items, f"layer {name} is empty"
    r = items[0].path().boundingRect()
    return (r.x(), r.y(), r.x() + r.width(), r.y() + r.height())


def test_opens_on_resnet50_with_a_grid(panel):
    assert panel.preset == "resnet50"
    assert panel.image.shape[:2] == (480, 640)
    assert panel.rows_res[-1].out_size == 15 and panel.cols_res[-1].out_size == 20
    assert panel.canvas.layer_items("grid")
    assert "RF 427" in panel.info.text()


def test_click_a_cell_draws_the_expected_box(panel, qtbot):
    stack = [(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)]  # RF 10, jump 4
    panel.set_stack(stack)
    assert panel.layer == 3
    # a click at image (x=41, y=22) lies in cell col 10, row 5 of the 4-px grid
    panel.canvas.clicked.emit(41.0, 22.0, 1, 0)
    assert panel.cell == (5, 10)
    assert panel.box == R.rf_box(stack, 3, 5, 10) == (37, 17, 47, 27)
    assert _rect(panel, "rf") == pytest.approx((37, 17, 47, 27))
    assert not panel.canvas.layer_items("pad")  # inside the image: no padding
    erf = panel.canvas.layer_items("erf")[0]
    assert erf.image.shape[:2] == (10, 10)


def test_corner_cell_marks_padding(panel):
    panel.set_stack([(7, 2, 3), ("maxpool", 3, 2, 1)])
    panel.select_cell(0, 0)
    x0, y0, x1, y1 = panel.box
    assert (x0, y0) == (-5, -5) and x1 - x0 == 11
    assert panel.canvas.layer_items("pad")
    pad = panel.canvas.layer_items("pad")[0].path().boundingRect()
    assert pad.left() == pytest.approx(-5) and pad.right() <= 0 + 1e-6 or pad.top() == pytest.approx(-5)
    assert "padding" in panel.sub.text()


def test_dilation_spreads_the_taps(panel):
    panel.set_stack([(3, 1, 1), (3, 1, 4, 4)])
    panel.select_cell(20, 20)
    pts = panel.canvas.layer_items("taps")[0].getData()
    xs = sorted(set(np.round(pts[0], 3)))
    assert np.diff(xs).tolist() == [4.0, 4.0]  # dilation 4: taps 4 px apart
    panel.set_stack([(3, 2, 1), (3, 1, 1)])
    panel.select_cell(20, 20)
    xs = sorted(set(np.round(panel.canvas.layer_items("taps")[0].getData()[0], 3)))
    assert np.diff(xs).tolist() == [2.0, 2.0]  # after a stride-2 layer the taps are a jump (2 px) apart


def test_layer_table_highlights_and_selects(panel):
    panel.set_stack(R.PRESETS["vgg16"], "vgg16")
    assert panel.table.rowCount() == 18
    assert panel.table.item(17, 8).text() == "212" and panel.table.item(17, 7).text() == "32"
    panel.table.setCurrentCell(4, 0)
    assert panel.layer == 4
    assert "conv2_2" in panel.info.text()
    assert panel.table.currentRow() == 4


def test_edit_the_stack_in_the_table(panel):
    panel.set_stack([(3, 1, 1), (3, 1, 1)])
    panel.table.item(1, 3).setText("2")  # stride of layer 2
    assert panel.stack[1].stride == 2 and panel.preset == "custom"
    assert panel.table.item(1, 7).text() == "2"  # jump
    panel.table.item(1, 3).setText("0")
    assert "stride" in panel.error_label.text() and panel.stack[1].stride == 2  # explained, not applied
    panel.add_layer()
    assert len(panel.stack) == 3
    panel.move_layer(-1)
    panel.remove_layer()
    assert len(panel.stack) == 2


def test_how_big_is_my_object(panel):
    panel.set_stack(R.PRESETS["vgg16"], "vgg16")
    panel.measure_btn.setChecked(True)
    assert panel.canvas.drag_mode
    panel.canvas.dragged.emit(100.0, 100.0, 190.0, 150.0, True)  # a 90 px object
    i = panel.covering
    rfs = [r.rf for r in R.analyze(R.PRESETS["vgg16"])]
    assert rfs[i] >= 90 > rfs[i - 1]
    assert panel.layer == i
    assert R.PRESETS["vgg16"][i].name in panel.sub.text()


def test_presets_menu_and_state(panel, make_panel):
    idx = panel.preset_box.findData("alexnet")
    panel.preset_box.setCurrentIndex(idx)
    panel.preset_box.activated.emit(idx)
    assert panel.preset == "alexnet" and panel.rows_res[-1].rf == 195
    panel.select_cell(2, 3)
    other = make_panel("receptive-field")
    other.restore_state(panel.state())
    assert other.preset == "alexnet" and other.cell == (2, 3) and other.box == panel.box


def test_user_image_and_demo(panel):
    img = np.zeros((300, 200, 3), np.uint8)
    panel.set_image(img, "test")
    assert max(panel.image.shape[:2]) == 640
    panel.demo()
    assert panel.cell is not None and panel.preset == "resnet50"
    arr = panel.canvas.to_array()
    assert arr.std() > 0


def test_import_onnx_into_the_table(panel, tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((2, 3, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                              name="c1"),
             helper.make_node("MaxPool", ["c"], ["y"], kernel_shape=[2, 2], strides=[2, 2], name="p1")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[w])
    path = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(g), str(path))
    panel.load_onnx(path)
    assert [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())] == ["c1", "p1"]
    assert panel.table.item(1, 8).text() == "5" and panel.preset == "custom"
