"""Detector panel: a click on an object lights its responsible cell and shows the cell's numbers;
the post-processing and a full evaluation step-through; the IoU slider; loading COCO files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cvexplorer import detect as D

from .helpers import layer_rect


@pytest.fixture
def panel(make_panel):
    return make_panel("detector")


def test_opens_on_a_scene_with_the_grid_and_its_objects(panel):
    assert panel.run is not None and panel.run.raw.shape == (7, 7, 13)
    assert panel.canvas.layer_items("grid") and panel.canvas.layer_items("truth")
    assert panel.player().length == 4
    assert panel.run.pipeline.counts[0] == 98
    assert panel.ap_table.rowCount() == 4 and panel.ap_table.item(3, 0).text() == "all (mAP)"


def test_click_on_an_object_lights_its_responsible_cell(panel):
    sc = panel.scene
    b = sc.boxes[0]
    # click near a corner of the object (not its centre): the object's centre still decides the cell
    panel.canvas.clicked.emit(float(b[0] + 2), float(b[1] + 2), 1, 0)
    row, col = D.cell_of(sc.boxes[:1], 7, (112, 112))[0]
    cell = panel.cell
    assert (cell.row, cell.col) == (row, col)
    assert layer_rect(panel.canvas, "cell") == pytest.approx((col * 16, row * 16, col * 16 + 16, row * 16 + 16))
    expected = D.responsible(sc.boxes, panel.run.raw, 7, 2, 3, image_size=(112, 112))
    assert cell.owner == expected.predictor[0] and cell.object == 0
    np.testing.assert_allclose(cell.predictors, panel.run.raw[row, col, :10].reshape(2, 5))
    t = panel.cell_table
    assert t.horizontalHeaderItem(1 + cell.owner).text().endswith("★")
    assert t.item(4, 0).text() == "conf"
    assert float(t.item(4, 1).text()) == pytest.approx(cell.predictors[0, 4], abs=1e-3)
    loss = D.yolo_loss_terms(panel.run.raw, sc.boxes, sc.classes, 7, 2, 3, image_size=(112, 112)).cell(row, col)
    assert panel.card.result.text() == f"= {sum(loss.values()):.4f}"
    assert "owns the object" in panel.header.text()
    assert panel.canvas.label_texts("cell-labels") == [f"b={cell.owner} owns it"]


def test_click_on_the_background_picks_the_cell_under_the_cursor(panel):
    panel.seed.setValue(9009)
    panel.wait_idle(60)
    free = [(r, c) for r in range(7) for c in range(7)
            if D.object_at(panel.scene.boxes, c * 16 + 8, r * 16 + 8) < 0 and
            (r, c) not in {tuple(x) for x in D.cell_of(panel.scene.boxes, 7, (112, 112))}]
    r, c = free[0]
    panel.canvas.clicked.emit(c * 16 + 8.0, r * 16 + 8.0, 1, 0)
    assert (panel.cell.row, panel.cell.col) == (r, c) and panel.cell.owner == -1
    assert "no object here" in panel.header.text()


def test_post_processing_steps_count_down(panel):
    p = panel.player()
    counts = panel.run.pipeline.counts
    for i in range(4):
        p.seek(i)
        assert panel.card.substituted.text().endswith(" → ".join(map(str, counts[:i + 1])))
    panel.top_k.setValue(1)
    panel.wait_idle(60)
    assert panel.run.pipeline.counts[3] == 1
    p.seek(3)
    assert len(panel.canvas.label_texts("kept-labels")) == 1


def test_full_evaluation_step_through(panel):
    panel.mode_box.setCurrentIndex(1)
    panel.wait_idle(60)  # the class's trace is built in a worker
    assert panel.mode == "evaluation"
    ev = panel.scored.evaluation
    p = panel.player()
    cid = int(panel.class_box.currentData())
    k = list(ev.category_ids).index(cid)
    assert p.length == len(ev.order(cid)) + 1
    seen = []
    for i in range(p.length):
        p.seek(i)
        step = panel.trace[i]
        if i:
            seen.append(step.outcome.status)
            assert panel.canvas.layer_items("current")
            assert panel.card.substituted.text() == f"P = {step.tp}/({step.tp}+{step.fp}), R = {step.tp}/{step.npos}"
            assert len(panel.pr_plot.curve.getData()[0]) == i
    assert set(seen) <= {"TP", "FP"} and seen.count("TP") == panel.trace[-1].tp
    assert panel.card.result.text() == f"AP = {ev.class_ap[0, k]:.3f}"
    assert len(panel.pr_plot.area.getData()[0]) == 101
    # the IoU slider: at 0.95 the class AP changes to COCO's value at that threshold
    panel.iou_slider.setValue(9)
    panel.wait_idle(60)
    panel.player().last()
    assert panel.card.result.text() == f"AP = {ev.class_ap[9, k]:.3f}"
    assert panel.controls.iou_label.text() == "IoU ≥ 0.95"


def test_scores_your_coco_files(panel, tmp_path):
    gt = {"images": [{"id": 1, "width": 100, "height": 80}], "categories": [{"id": 1, "name": "cat"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30]}]}
    dets = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "score": 0.9},
            {"image_id": 1, "category_id": 1, "bbox": [12, 10, 30, 30], "score": 0.8}]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    panel.mode_box.setCurrentIndex(1)
    panel.load_files(tmp_path / "gt.json", tmp_path / "dt.json")
    assert "Reading and scoring" in panel.frame.banner.message()  # read in a worker, not on the GUI thread
    panel.wait_idle(60)
    assert panel.frame.banner.message() == ""
    assert panel.scored.source == "your COCO files"
    assert panel.ap_table.item(1, 1).text() == "1"  # AP of the mean row: the duplicate comes after the TP
    p = panel.player()
    assert p.length == 3
    p.seek(2)
    assert panel.trace[2].outcome.reason == "duplicate"
    assert panel.canvas.image_shape[:2] == (80, 100)
    assert panel.canvas.label_texts("current-label") == ["FP: duplicate (0.80)"]
    # a broken ground truth: one sentence for the user, no progress left behind, the score on screen stays
    (tmp_path / "bad.json").write_text('{"images": [')
    panel.load_files(tmp_path / "bad.json", tmp_path / "dt.json")
    panel.wait_idle(60)
    assert "bad.json is not valid JSON" in panel.ctx.errors[-1] and panel.frame.banner.message() == ""
    assert panel.scored.source == "your COCO files" and panel.player().length == 3


def test_user_photo_has_no_loss(panel):
    rgb = np.full((90, 120, 3), 100, np.uint8)
    panel.set_image(rgb, "photo")
    panel.wait_idle(60)
    panel.canvas.clicked.emit(60.0, 45.0, 1, 0)
    assert panel.run.loss is None and panel.cell.loss == {}
    assert "no ground truth" in panel.card.meaning.text()
