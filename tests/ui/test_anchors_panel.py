"""Anchors panel: drawing a box changes the positive count; changing the ratios changes the drawn anchors.

Driven through the panel's public controls and attributes only (no private names)."""

from __future__ import annotations

import numpy as np
import pytest

from cvexplorer import anchors as A


def _path_rects(item) -> np.ndarray:
    """The rectangles of a path item built by rects_path (5 points per rectangle)."""
    path = item.path()
    pts = np.array([[path.elementAt(i).x, path.elementAt(i).y] for i in range(path.elementCount())])
    return pts.reshape(-1, 5, 2)


def _drag(panel, box):
    x0, y0, x1, y1 = box
    panel.canvas.dragged.emit(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2, False)
    panel.canvas.dragged.emit(x0, y0, x1, y1, True)
    panel.wait_idle(30)


def test_drawing_a_box_changes_positive_count(make_panel, ctx):
    panel = make_panel("anchors")
    assert panel.result is not None and panel.preset.currentData() == "retinanet"
    assert len(panel.result.boxes) == 76725  # RetinaNet at 640 x 640
    assert panel.result.match.counts["positive"] == 0
    assert panel.canvas.layer_items("positive") == []
    before = panel.canvas.to_array()
    _drag(panel, (420, 370, 500, 490))
    m = panel.result.match
    ref = A.match(panel.result.boxes, [[420, 370, 500, 490]], 0.5, 0.4, True)
    assert m.counts == ref.counts and m.counts["positive"] > 0
    assert "positive" in panel.headline.text() and str(m.counts["positive"]) in panel.headline.text()
    # the drawn positives are exactly the engine's positives (this level + the others)
    drawn = sum(len(_path_rects(it)) for name in ("positive", "positive-other", "lowq")
                for it in panel.canvas.layer_items(name))
    assert drawn == m.counts["positive"]
    assert not np.array_equal(before, panel.canvas.to_array())
    # histogram bars count every anchor with IoU > 0
    assert panel.hist.histogram.counts.sum() == int((m.max_iou > 0).sum())
    # a second box adds positives; clearing removes them
    _drag(panel, (50, 40, 220, 270))
    assert panel.result.match.counts["positive"] > m.counts["positive"]
    panel.clear_btn.click()
    panel.wait_idle(30)
    assert panel.result.match.counts["positive"] == 0
    assert not ctx.errors


def test_changing_ratios_changes_drawn_anchors(make_panel, ctx):
    panel = make_panel("anchors")
    panel.view.setCurrentIndex(3)  # all anchors of the level (P4 by default)
    (item,) = panel.canvas.layer_items("all")
    r = _path_rects(item)
    assert len(r) == 40 * 40 * 9
    wh = np.round(r[:9, 2] - r[:9, 0], 6)
    ratios = sorted(set(np.round(wh[:, 1] / wh[:, 0], 6)))
    assert ratios == [0.5, 1.0, 2.0]
    panel.ratios.setText("1, 3")
    panel.ratios.editingFinished.emit()
    panel.wait_idle(30)
    (item,) = panel.canvas.layer_items("all")
    r2 = _path_rects(item)
    assert len(r2) == 40 * 40 * 6
    wh2 = r2[:6, 2] - r2[:6, 0]
    assert sorted(set(np.round(wh2[:, 1] / wh2[:, 0], 6))) == [1.0, 3.0]
    # the table follows: P3 share at 640 x 640 is the same fraction whatever the ratios
    assert panel.result.level_shares[0] == pytest.approx(57600 / 76725)
    assert panel.table.item(0, 2).text() == "75.1 %" and panel.table.item(0, 1).text() == str(57600 * 6 // 9)
    # a bad ratio is explained, not clamped
    panel.ratios.setText("1, -2")
    panel.ratios.editingFinished.emit()
    assert "positive" in panel.error.text()
    assert not ctx.errors


def test_cell_pair_and_yolo_mode(make_panel, ctx):
    panel = make_panel("anchors")
    _drag(panel, (420, 370, 500, 490))
    panel.canvas.clicked.emit(460.0, 430.0, 1, 0)  # pin the cell under the box centre (P4)
    assert panel.pinned == (28, 26)
    assert len(panel.canvas.layer_items("cell")) == 1 and len(panel.canvas.layer_items("decoded")) == 1
    assert "tx" in panel.card.substituted.text() and "decoded" in panel.card.result.text()
    dec = panel.canvas.layer_items("decoded")[0].path().boundingRect()
    assert (dec.left(), dec.top(), dec.right(), dec.bottom()) == pytest.approx((420, 370, 500, 490), abs=1e-6)
    panel.preset.setCurrentIndex(list(A.PRESETS).index("yolov8"))
    panel.wait_idle(30)
    assert len(panel.result.boxes) == 8400
    assert "8400 predictions" in panel.card.result.text()
    assert panel.result.counts.positive > 0  # cells whose centre lies in the box
    panel.preset.setCurrentIndex(list(A.PRESETS).index("yolov3"))
    panel.wait_idle(30)
    assert panel.image_size == (416, 416)
    assert panel.gt[0] == pytest.approx([420 * 0.65, 370 * 0.65, 500 * 0.65, 490 * 0.65])  # follows the resize
    _drag(panel, (100, 100, 300, 260))
    assert panel.result.counts.positive == 2  # one (cell, anchor) per box
    assert "10647 predictions" in panel.card.result.text()
    assert "box 2 → " in panel.card.meaning.text()  # the responsible cell of each box
    panel.in_w.setValue(640)
    panel.in_h.setValue(640)
    panel.wait_idle(30)
    assert "3 × (80² + 40² + 20²)" in panel.card.substituted.text() and "25200" in panel.card.result.text()
    st = panel.state()
    assert st["preset"] == "yolov3" and len(st["gt"]) == 2
    assert not ctx.errors


def test_low_quality_rule_shown_when_off(make_panel, ctx):
    panel = make_panel("anchors")
    _drag(panel, (243, 537, 448, 563))  # the pencil: 8:1, no anchor reaches IoU 0.5
    m = panel.result.match
    assert m.rescued.tolist() == [True] and m.counts["positive"] == int(m.low_quality.sum()) > 0
    assert "low-quality" in panel.headline.text()
    panel.low_quality.setChecked(False)
    panel.wait_idle(30)
    m = panel.result.match
    assert m.counts["positive"] == 0 and m.orphan.tolist() == [True]
    assert "lost without the low-quality rule" in panel.headline.text()
    (item,) = panel.canvas.layer_items("lost")
    assert len(_path_rects(item)) == int(m.orphan.sum())
    assert not ctx.errors


def test_state_round_trip(make_panel, ctx):
    panel = make_panel("anchors")
    panel.ratios.setText("1, 4")
    panel.ratios.editingFinished.emit()
    _drag(panel, (420, 370, 500, 490))
    panel.level.setCurrentIndex(2)
    st = panel.state()
    other = make_panel("anchors")
    other.restore_state(st)
    other.wait_idle(30)
    assert other.state() == st
    assert other.result.match.counts == panel.result.match.counts
    assert not ctx.errors


def test_typed_arithmetic_is_parsed_not_evaluated(make_panel, ctx):
    panel = make_panel("anchors")
    panel.scales.setText("2^0, 2^(1/3), 2^(2/3)")  # RetinaNet's own scales, as the paper writes them
    panel.ratios.setText("2:1, 1:1, 1:2")  # w:h
    panel.ratios.editingFinished.emit()
    panel.wait_idle(30)
    assert panel.error.text() == ""
    assert len(panel.result.boxes) == 76725
    ref, _ = A.PRESETS["retinanet"].generate((640, 640))
    np.testing.assert_allclose(panel.result.boxes, ref, atol=1e-9)
    panel.scales.setText("__import__('os').getcwd()")  # text, never code
    panel.scales.editingFinished.emit()
    assert "Scales" in panel.error.text() and "not a number" in panel.error.text()
    assert len(panel.result.boxes) == 76725  # the last good result stays
    assert not ctx.errors


def test_mmdet_preset_centres_anchors_on_cell_corners(make_panel, ctx):
    panel = make_panel("anchors")
    panel.preset.setCurrentIndex(list(A.PRESETS).index("retinanet-mmdet"))
    panel.wait_idle(30)
    panel.view.setCurrentIndex(3)  # all anchors of P4
    (item,) = panel.canvas.layer_items("all")
    r = _path_rects(item)
    centres = (r[:, 0] + r[:, 2]) / 2  # (N, 2) x, y of each rectangle
    assert len(r) == 40 * 40 * 9
    np.testing.assert_allclose(centres[0], (0.0, 0.0), atol=1e-9)  # (c + 0)·s, not (c + 0.5)·s
    np.testing.assert_allclose(centres[9], (16.0, 0.0), atol=1e-9)
    assert "mmdetection" in panel.caption.text()
    assert not ctx.errors
