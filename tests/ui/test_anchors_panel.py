"""Anchors panel: drawing a box changes the positive count; changing the ratios changes the drawn anchors.

Driven through the panel's public controls and attributes only (no private names)."""

from __future__ import annotations

import re

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
    assert "tx" in panel.card.substituted.text() and "box 1" in panel.card.result.text()
    assert "decoded" in panel.card.meaning.text() and "(420.0, 370.0, 500.0, 490.0)" in panel.card.meaning.text()
    dec = panel.canvas.layer_items("decoded")[0].path().boundingRect()
    assert (dec.left(), dec.top(), dec.right(), dec.bottom()) == pytest.approx((420, 370, 500, 490), abs=1e-6)
    panel.preset.setCurrentIndex(list(A.PRESETS).index("yolov8"))
    panel.wait_idle(30)
    assert len(panel.result.boxes) == 8400
    assert panel.card.result.text() == "N = 8400" and "8400 predictions" in panel.card.meaning.text()
    assert panel.result.counts.positive > 0  # cells whose centre lies in the box
    panel.preset.setCurrentIndex(list(A.PRESETS).index("yolov3"))
    panel.wait_idle(30)
    assert panel.image_size == (416, 416)
    assert panel.gt[0] == pytest.approx([420 * 0.65, 370 * 0.65, 500 * 0.65, 490 * 0.65])  # follows the resize
    _drag(panel, (100, 100, 300, 260))
    assert panel.result.counts.positive == 2  # one (cell, anchor) per box
    assert panel.card.result.text() == "N = 10647" and "10647 predictions × 85" in panel.card.meaning.text()
    assert "box 2 → " in panel.card.meaning.text()  # the responsible cell of each box
    panel.in_w.setValue(640)
    panel.in_h.setValue(640)
    panel.wait_idle(30)
    assert "3 × (80² + 40² + 20²)" in panel.card.substituted.text() and panel.card.result.text() == "N = 25200"
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


# -- issue 19: what a teacher saw wrong ------------------------------------------------------------------------
def test_a_photo_is_letterboxed_not_stretched(make_panel, ctx):
    panel = make_panel("anchors")
    photo = np.full((400, 800, 3), 255, np.uint8)  # a 2:1 photo of a round red disk
    yy, xx = np.mgrid[0:400, 0:800]
    photo[(xx - 400) ** 2 + (yy - 200) ** 2 <= 150 ** 2] = (220, 0, 0)
    _drag(panel, (420, 370, 500, 490))
    panel.set_image(photo, "disk.png")
    panel.wait_idle(30)
    shown = panel.canvas.image_item.image
    assert shown.shape == (640, 640, 3)
    # scaled by 640 / 800 = 0.8 into a 640 x 320 band, 160 grey rows above and below
    assert np.all(shown[:158] == 114) and np.all(shown[-158:] == 114)
    red = (shown[..., 0] > 150) & (shown[..., 1] < 80)
    rows, cols = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    width, height = cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1
    assert abs(width - height) <= 2 and abs(width - 240) <= 3  # still round: 300 px * 0.8
    assert "letterboxed" in panel.caption.text() and "800×400" in panel.caption.text()
    assert panel.gt == []  # a new photo starts without boxes
    assert not ctx.errors


def test_headline_counts_all_levels_and_caption_the_level_shown(make_panel, ctx):
    panel = make_panel("anchors")
    _drag(panel, (420, 370, 500, 490))
    res = panel.result
    headline = panel.headline.text()
    assert "76725 anchors</b> (all 5 levels)" in headline
    swatched = re.findall(r"■</span>&nbsp;(\d+)", headline)  # the numbers behind the colour keys, in order
    assert swatched[:3] == [str(res.counts.positive), str(res.counts.ignored), str(res.counts.negative)]
    panel.level.setCurrentIndex(2)  # P5
    lab = res.labels[57600 + 14400:57600 + 14400 + 3600]
    caption = panel.caption.text()
    assert "P5</b> shown" in caption and "<b>3600</b>" in caption
    here = re.findall(r"■</span>&nbsp;(\d+)", caption.split("here")[1].split("<br>")[0])
    assert here == [str(int((lab == 1).sum())), str(int((lab == -1).sum())), str(int((lab == 0).sum()))]
    assert int((lab == 0).sum()) != res.counts.negative  # the two lines say different things
    assert not ctx.errors


def test_histogram_bars_add_up_to_the_headline(make_panel, ctx):
    import pyqtgraph as pg

    panel = make_panel("anchors")
    _drag(panel, (420, 370, 500, 490))
    h = panel.hist.histogram
    zero = int((panel.result.max_iou == 0).sum())
    assert h.zero == zero > 60000  # the anchors touching no box are counted, not dropped
    assert h.zero + int(h.counts.sum()) == len(panel.result.boxes) == 76725
    (bars,) = [it for it in panel.hist.getPlotItem().items if isinstance(it, pg.BarGraphItem)]
    heights = np.asarray(bars.opts["height"])
    assert len(heights) == 21 and heights[0] == pytest.approx(np.log10(zero + 1))
    np.testing.assert_allclose(10 ** heights[1:] - 1, h.counts, rtol=1e-9, atol=1e-6)
    texts = [it.toPlainText() for it in panel.hist.getPlotItem().items if isinstance(it, pg.TextItem)]
    assert any(str(zero) in t and "IoU 0" in t for t in texts)
    assert not ctx.errors


def test_first_open_builds_off_the_gui_thread_with_progress(qtbot, ctx):
    from cvexplorer.ui.registry import create_panel

    panel = create_panel("anchors", ctx)
    qtbot.addWidget(panel)
    # construction returned at once: the sample photo and the 76 725 anchors are still being built in workers
    assert panel.result is None and panel.canvas.image_item.image is None
    assert panel.frame.banner.kind == "progress" and ctx.workers.is_busy()
    panel.resize(1280, 800)
    panel.show()
    panel.wait_idle(60)
    assert panel.frame.banner.kind == "" and not panel.frame.banner.isVisible()
    assert len(panel.result.boxes) == 76725 and panel.canvas.image_item.image.shape == (640, 640, 3)
    assert not ctx.errors
