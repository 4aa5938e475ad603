"""Receptive-field panel: clicking a cell draws the expected box; presets, editing, measuring."""

from __future__ import annotations

import numpy as np
import pytest

from cvexplorer import receptive as R

from .helpers import layer_rect


@pytest.fixture
def panel(make_panel):
    return make_panel("receptive-field")


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
    assert layer_rect(panel.canvas, "rf") == pytest.approx((37, 17, 47, 27))
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
    assert [panel.table.horizontalHeaderItem(c).text() for c in range(3)] == ["layer", "RF", "jump"]
    assert "output 80×60" in panel.table.item(12, 1).toolTip()  # conv4_3 on the 640×480 photo
    assert panel.table.item(17, 1).text() == "212" and panel.table.item(17, 2).text() == "32"
    panel.table.setCurrentCell(4, 0)
    assert panel.layer == 4
    assert "conv2_2" in panel.info.text()
    assert panel.table.currentRow() == 4
    assert panel.layer_editor.kernel.value() == 3 and panel.layer_editor.name.text() == "conv2_2"


def test_rf_column_is_visible_in_the_side_column(panel):
    """The key numbers (RF, jump) sit inside the table's viewport: no horizontal scrollbar hides them."""
    panel.resize(1280, 720)
    panel.set_stack(R.PRESETS["resnet50"], "resnet50")
    t = panel.table
    assert not t.horizontalScrollBar().isVisible()
    right = t.horizontalHeader().sectionViewportPosition(2) + t.horizontalHeader().sectionSize(2)
    assert right <= t.viewport().width() + 1
    assert t.horizontalHeader().sectionSize(1) >= t.fontMetrics().horizontalAdvance("427")


def test_edit_the_stack_in_the_layer_editor(panel):
    panel.set_stack([(3, 1, 1), (3, 1, 1)])
    panel.table.setCurrentCell(1, 0)
    panel.layer_editor.stride.setValue(2)  # stride of layer 2
    assert panel.stack[1].stride == 2 and panel.preset == "custom"
    assert panel.table.item(1, 2).text() == "2"  # jump
    panel.layer_editor.stride.setValue(0)
    assert "stride" in panel.frame.banner.message() and panel.stack[1].stride == 2  # explained, not applied
    panel.layer_editor.stride.setValue(1)
    assert panel.frame.banner.message() == ""
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
    assert panel.table.item(1, 1).text() == "5" and panel.preset == "custom"
    assert "Imported 2" in panel.frame.banner.message()


def test_early_layer_zooms_to_the_cell_and_thins_the_grid(panel):
    """At conv1 a 320×240 grid over the photo is a mesh: whole-image grids are thinned, a click zooms in."""
    from cvexplorer.ui.panels.receptive.panel import MAX_GRID_LINES

    panel.set_stack(R.PRESETS["resnet50"], "resnet50", layer=0)
    assert panel.cols_res[0].out_size == 320
    assert panel.grid.step > 1
    assert len(panel.grid.segments) <= 2 * (MAX_GRID_LINES + 2)
    assert "every" in panel.legend.text()
    panel.canvas.clicked.emit(300.0, 200.0, 1, 0)
    (vx0, vx1), (vy0, vy1) = panel.canvas.vb.viewRange()
    x0, y0, x1, y1 = panel.box
    assert vx0 <= x0 and vx1 >= x1 and vy0 <= y0 and vy1 >= y1  # the field is in view
    assert vx1 - vx0 < 160  # …and it is zoomed: the 7-px field is not a speck on a 640-px photo
    assert panel.grid.step == 1  # inside the zoom every cell boundary is drawn
    segs = panel.grid.segments
    xs = np.unique(segs[segs[:, 0] == segs[:, 2], 0])
    assert np.allclose(np.diff(xs), 2.0)  # conv1's jump
    panel.select_layer(len(panel.stack) - 1)  # a late layer: the field spans the image, the view shows it all
    (vx0, vx1), _ = panel.canvas.vb.viewRange()
    assert vx1 - vx0 >= 600


def _luminance(c) -> float:
    def ch(v):
        v = v / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * ch(c.red()) + 0.7152 * ch(c.green()) + 0.0722 * ch(c.blue())


@pytest.mark.parametrize("theme_name", ["light", "dark", "projector"])
def test_covering_row_is_readable_in_every_theme(panel, theme_name):
    """The "first layer that covers the object" row used to be neon aqua with pale text in light and dark."""
    from PySide6.QtGui import QColor

    from cvexplorer.ui.themes import get_theme

    theme = get_theme(theme_name)
    panel.ctx.set_theme(theme)
    panel.set_stack(R.PRESETS["vgg16"], "vgg16")
    i = panel.measure_object((100.0, 100.0, 190.0, 150.0), select=False)
    assert i is not None and i != panel.layer
    it = panel.table.item(i, 0)
    assert it.text().startswith("✔")
    bg, fg = it.background().color(), it.foreground().color()
    base = QColor(theme.plot_bg)  # the table's own background (theme QSS)
    a = bg.alphaF()
    shown = QColor.fromRgbF(*(a * x + (1 - a) * y for x, y in zip(bg.getRgbF()[:3], base.getRgbF()[:3])))
    assert shown != QColor(theme.plot_bg)  # the row is marked
    hi, lo = sorted((_luminance(shown), _luminance(fg)), reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 4.5, (theme_name, shown.name(), fg.name())
