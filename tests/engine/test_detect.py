"""cvexplorer.detect: decode/encode, responsible on cell borders, loss terms, the pipeline, and COCO
scoring checked against pycocotools' COCOeval (a dev dependency, used here only as the reference)."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest

from cvexplorer import detect as D

S, B, C, SIZE = 7, 2, 3, 112


# -- the reference -------------------------------------------------------------------------------------------
def coco_reference(gt: dict, dets: list[dict]) -> tuple[float, float, float]:
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO()
        g.dataset = copy.deepcopy(gt)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(dets)) if dets else COCO()
        e = COCOeval(g, d, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return float(e.stats[0]), float(e.stats[1]), float(e.stats[2])


def noisy_detections(scenes, seed: int) -> list[dict]:
    """Jittered truths, duplicates, wrong classes and pure false alarms, with some tied scores."""
    rng = np.random.default_rng(seed)
    out = []
    for k, sc in enumerate(scenes, start=1):
        for b, c in zip(sc.boxes, sc.classes):
            for _ in range(int(rng.integers(0, 3))):
                j = rng.normal(0, 3, 4)
                x0, y0, x1, y1 = b + j
                cat = int(c) + 1 if rng.random() > 0.15 else int((c + 1) % C) + 1
                out.append({"image_id": k, "category_id": cat, "bbox": [x0, y0, max(x1 - x0, 1), max(y1 - y0, 1)],
                            "score": float(np.round(rng.uniform(0.05, 1), 1))})
        for _ in range(int(rng.integers(0, 3))):
            x, y = rng.uniform(0, 90, 2)
            out.append({"image_id": k, "category_id": int(rng.integers(1, C + 1)),
                        "bbox": [x, y, rng.uniform(4, 30), rng.uniform(4, 30)], "score": float(rng.uniform(0, 1))})
    return out


EDGE_GT = {
    "images": [{"id": i, "width": 100, "height": 100} for i in (1, 2, 3, 4)],
    "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 7, "name": "never seen"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "area": 900, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 40, 30], "area": 1200, "iscrowd": 0},
        {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0},  # tiny
        {"id": 4, "image_id": 2, "category_id": 1, "bbox": [60, 60, 20, 20], "area": 400, "iscrowd": 0},
        {"id": 5, "image_id": 4, "category_id": 2, "bbox": [5, 5, 50, 50], "area": 2500, "iscrowd": 0},
        # image 3 has no ground truth at all
    ],
}
EDGE_DT = [
    {"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "score": 0.9},     # TP
    {"image_id": 1, "category_id": 1, "bbox": [11, 11, 30, 30], "score": 0.9},     # duplicate, equal score
    {"image_id": 1, "category_id": 1, "bbox": [50, 50, 40, 30], "score": 0.8},     # wrong class (on the dog)
    {"image_id": 1, "category_id": 2, "bbox": [52, 50, 40, 30], "score": 0.7},     # TP, IoU 0.9
    {"image_id": 2, "category_id": 1, "bbox": [0, 0, 2, 3], "score": 0.9},         # tiny, IoU 0.67
    {"image_id": 2, "category_id": 1, "bbox": [60, 65, 20, 20], "score": 0.6},     # low IoU at 0.75
    {"image_id": 3, "category_id": 1, "bbox": [20, 20, 10, 10], "score": 0.95},    # no object on image 3
    {"image_id": 3, "category_id": 2, "bbox": [20, 20, 10, 10], "score": 0.6},     # equal score to the next
    {"image_id": 4, "category_id": 2, "bbox": [5, 5, 50, 45], "score": 0.6},       # TP
    {"image_id": 4, "category_id": 2, "bbox": [5, 5, 50, 50], "score": 0.6},       # equal score duplicate
    {"image_id": 4, "category_id": 7, "bbox": [5, 5, 50, 50], "score": 0.5},       # class without ground truth
    {"image_id": 4, "category_id": 9, "bbox": [5, 5, 50, 50], "score": 0.5},       # class the file does not list
]


def assert_same_as_coco(gt, dets):
    r = D.evaluate(gt, dets)
    ref = coco_reference(gt, dets)
    assert (r.ap, r.ap50, r.ap75) == pytest.approx(ref, abs=1e-6), (r.ap, r.ap50, r.ap75, ref)
    return r, ref


def test_evaluate_equals_cocoeval_on_hand_made_edge_cases():
    r, ref = assert_same_as_coco(EDGE_GT, EDGE_DT)
    assert 0 < r.ap < r.ap50 <= 1
    out = {o.index: o for o in r.outcomes(0.5)}
    assert out[0].status == "TP" and out[0].gt == 0
    assert (out[1].status, out[1].reason) == ("FP", "duplicate")
    assert (out[2].status, out[2].reason) == ("FP", "wrong class")
    assert out[3].status == "TP" and out[3].gt == 1 and out[3].iou == pytest.approx(38 * 30 / (2 * 1200 - 38 * 30))
    assert out[4].status == "TP"
    assert (out[6].status, out[6].reason) == ("FP", "no object")
    assert (out[10].status, out[10].reason) == ("FP", "wrong class")  # it sits on the dog
    assert (out[11].status, out[11].reason) == ("ignored", "unknown class")
    assert (r.outcome(5, 0.75).status, r.outcome(5, 0.75).reason) == ("FP", "low IoU")
    # a category without ground truth takes no part in the mean
    assert np.isnan(r.class_ap[:, 2]).all() and (r.precision[..., 2] == -1).all()


def test_evaluate_equals_cocoeval_with_crowds_and_more_than_100_detections():
    gt = copy.deepcopy(EDGE_GT)
    gt["annotations"].append({"id": 9, "image_id": 3, "category_id": 1, "bbox": [0, 0, 50, 50], "area": 2500,
                              "iscrowd": 1})
    rng = np.random.default_rng(4)
    dets = EDGE_DT + [{"image_id": 2, "category_id": 1, "bbox": [float(x), 60.0, 20.0, 20.0],
                       "score": float(s)} for x, s in zip(rng.uniform(40, 80, 120), rng.uniform(0, 1, 120))]
    r, _ = assert_same_as_coco(gt, dets)
    assert r.outcome(6).reason == "crowd"
    assert (~r.counted).sum() >= 20  # beyond the top 100 of image 2's cats


@pytest.mark.parametrize("seed", [0, 1])
def test_evaluate_equals_cocoeval_on_generated_scenes(seed):
    scenes, gt = D.detection_dataset(12, seed=100 + seed)
    r, _ = assert_same_as_coco(gt, noisy_detections(scenes, seed))
    assert r.precision.shape == (10, 101, 3)


def test_evaluate_trace_walks_in_score_order_and_ends_at_the_class_ap():
    r = D.evaluate(EDGE_GT, EDGE_DT)
    for thr in (0.5, 0.75):
        t = D.evaluate_trace(EDGE_GT, EDGE_DT, category_id=1, iou_threshold=thr, result=r)
        scores = [s.outcome.score for s in t[1:]]
        assert scores == sorted(scores, reverse=True)
        assert t.final == pytest.approx(r.class_ap[r.threshold_index(thr), 0])
        last = t[-1]
        assert last.tp + last.fp == len(t) - 1 and last.recall == pytest.approx(last.tp / 3)
        assert len(last.curve_recall) == len(t) - 1 and len(last.interpolated) == 101
    with pytest.raises(ValueError, match="0.50, 0.55"):
        r.threshold_index(0.52)


def test_evaluate_rejects_detections_on_unknown_images():
    with pytest.raises(ValueError, match="image 99"):
        D.evaluate(EDGE_GT, [{"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])


def test_loaders_read_files(tmp_path):
    (tmp_path / "gt.json").write_text(json.dumps(EDGE_GT))
    (tmp_path / "dt.json").write_text(json.dumps(EDGE_DT))
    gt = D.load_coco_ground_truth(tmp_path / "gt.json")
    rows, problems = D.load_coco_results(tmp_path / "dt.json")
    assert problems == () and len(rows) == len(EDGE_DT)
    assert D.evaluate(gt, rows).ap == pytest.approx(D.evaluate(EDGE_GT, EDGE_DT).ap, abs=1e-12)
    with pytest.raises(ValueError, match="results file"):
        D.load_coco_ground_truth(tmp_path / "dt.json")


def test_a_datasets_results_may_hold_more_than_one_images_detections(tmp_path, monkeypatch):
    """Scoring reads a whole dataset's results: more entries than the NMS panel's per-image limit."""
    from cvexplorer.boxes import loaders as bx
    from cvexplorer.detect import coco

    monkeypatch.setitem(bx.LIMITS, "detections", 3)  # as if one image's worth were 3 boxes
    dets = EDGE_DT[:5]
    (tmp_path / "gt.json").write_text(json.dumps(EDGE_GT))
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    with pytest.raises(bx.DetectionsLoadError, match="at most 3 detections"):
        bx.load_detections(tmp_path / "dt.json")
    rows, problems = D.load_coco_results(tmp_path / "dt.json")
    assert len(rows) == 5 and problems == ()
    scored = D.score_coco_files(tmp_path / "gt.json", tmp_path / "dt.json")
    assert scored.evaluation.ap == pytest.approx(D.evaluate(EDGE_GT, dets).ap, abs=1e-12)
    assert len(scored.dets) == 5 and scored.source == "your COCO files"
    monkeypatch.setitem(coco.RESULTS_LIMITS, "detections", 4)  # the dataset bound still holds
    with pytest.raises(ValueError, match="at most 4 detections"):
        D.score_coco_files(tmp_path / "gt.json", tmp_path / "dt.json")


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes here")
def test_a_ground_truth_that_is_not_a_regular_file_is_refused_unread(tmp_path):
    import os

    fifo = tmp_path / "gt.json"
    os.mkfifo(fifo)  # reading it would block for ever
    with pytest.raises(ValueError, match="not a regular file"):
        D.load_coco_ground_truth(fifo)
    with pytest.raises(ValueError, match="does not exist"):
        D.score_coco_files(tmp_path / "missing.json", "[]")


# -- layout ---------------------------------------------------------------------------------------------------
def test_decode_inverts_encode():
    sc = D.detection_scene(seed=3)
    raw = np.zeros((S, S, B * 5 + C))
    cells = D.cell_of(sc.boxes, S, (SIZE, SIZE))
    enc = D.encode(sc.boxes, sc.classes, S, C, (SIZE, SIZE))
    for (r, c), e in zip(cells, enc):
        raw[r, c, 5:10] = [*e, 1.0]
    d = D.decode(raw, S, B, C, image_size=(SIZE, SIZE))
    got = d.boxes[(cells[:, 0] * S + cells[:, 1]) * B + 1]
    np.testing.assert_allclose(got, sc.boxes, atol=1e-9)
    assert d.boxes.shape == (S * S * B, 4) and d.cell[B * (S + 2)].tolist() == [1, 2]


def test_responsible_cell_on_borders_goes_right_and_down():
    # cells are 16 px; centres exactly on the borders x = 32, y = 48
    boxes = [[22, 38, 42, 58], [0, 0, 112, 112], [100, 100, 112, 112]]
    r = D.responsible(boxes, np.zeros((S, S, 13)), S, B, C, image_size=(SIZE, SIZE))
    assert r.cell.tolist() == [[3, 2], [3, 3], [6, 6]]  # (row, col): the lower / right cell wins
    enc = D.encode(boxes, [0, 0, 0], S, C, (SIZE, SIZE))
    assert enc[0, :2].tolist() == [0.0, 0.0]  # the offset is 0 in the winning cell, never 1


def test_responsible_predictor_is_the_one_with_the_higher_iou():
    raw = np.zeros((S, S, 13))
    raw[2, 2, 0:5] = [0.5, 0.5, 0.2, 0.2, 0.9]   # small box
    raw[2, 2, 5:10] = [0.5, 0.5, 0.45, 0.45, 0.1]  # close to the truth
    truth = [[28, 28, 52, 52]]  # centre (40, 40) in cell (2, 2)
    r = D.responsible(truth, raw, S, B, C, image_size=(SIZE, SIZE))
    assert r.predictor.tolist() == [1] and r.ious[0, 1] > r.ious[0, 0]
    t = D.yolo_loss_terms(raw, truth, [2], S, B, C, image_size=(SIZE, SIZE))
    assert t.weights == {"coord": 5.0, "size": 5.0, "obj": 1.0, "noobj": 0.5, "cls": 1.0}
    assert t.obj[2, 2] == pytest.approx((0.1 - r.ious[0, 1]) ** 2)
    assert t.noobj[2, 2] == pytest.approx(0.5 * 0.9 ** 2)  # the other predictor is told "no object"
    assert t.cls[2, 2] == pytest.approx(1.0)  # class probabilities all 0, target one-hot
    assert t.size[2, 2] == pytest.approx(5 * 2 * (0.45 - np.sqrt(24 / 112)) ** 2)
    assert t.total == pytest.approx(sum(t.totals.values()))


def test_two_objects_in_one_cell_only_the_first_is_answered_for():
    r = D.responsible([[0, 0, 10, 10], [2, 2, 12, 12]], np.zeros((S, S, 13)), S, B, C, image_size=(SIZE, SIZE))
    assert r.owner.tolist() == [True, False]


def test_pipeline_counts_shrink_in_order():
    raw = np.random.default_rng(0).uniform(0, 1, (S, S, 13))
    p = D.pipeline(D.decode(raw, S, B, C, image_size=(SIZE, SIZE)), conf_threshold=0.3, iou_threshold=0.5, top_k=5)
    n = p.counts
    assert n[0] == 98 and n[0] >= n[1] >= n[2] >= n[3] and n[3] <= 5
    with pytest.raises(ValueError, match="S×S×"):
        D.decode(np.zeros((7, 7, 12)), S, B, C)


# -- the shipped model ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    pytest.importorskip("onnxruntime")
    return D.DetectorModel(D.model_path(), device="cpu")


def test_decode_of_the_model_reproduces_the_graphs_own_boxes(model):
    sc = D.detection_scene(seed=9001)
    det = model.run(sc.rgb)
    assert det.raw.shape == (7, 7, 13)
    np.testing.assert_allclose(det.decoded.boxes, det.graph_boxes, atol=1e-4)
    probs = det.raw[..., 10:]
    np.testing.assert_allclose(probs.sum(-1), 1, atol=1e-5)  # softmax applied in the graph
    assert ((det.raw[..., :10] >= 0) & (det.raw[..., :10] <= 1)).all()  # sigmoids applied in the graph


def test_the_model_reaches_its_stated_map_on_held_out_scenes(model):
    stated = json.loads(D.metrics_path().read_text())
    n = 40
    scenes, gt = D.detection_dataset(n, seed=stated["held_out"]["seed"])
    dets = []
    for k, sc in enumerate(scenes, start=1):
        d = model.run(sc.rgb).decoded
        dets += D.to_coco_results(d, D.pipeline(d, conf_threshold=0.05, iou_threshold=0.5, top_k=100).kept, image_id=k)
    r = D.evaluate(gt, dets)
    assert r.ap50 >= stated["metrics"]["ap50"] - 0.08 and r.ap >= stated["metrics"]["ap"] - 0.08


def test_a_few_training_steps_lower_the_loss():
    torch = pytest.importorskip("torch")
    script = Path(D.__file__).resolve().parents[2] / "models" / "train_detector.py"
    spec = importlib.util.spec_from_file_location("train_detector", script)
    T = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(T)

    torch.manual_seed(0)
    scenes, _ = D.detection_dataset(8, seed=5)
    net = T.build(torch, width=4)
    x = torch.from_numpy(T.to_input(np.stack([s.rgb for s in scenes])))
    tg = [torch.from_numpy(v) for v in T.targets(scenes)]
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(4):
        loss = T.yolo_loss(torch, net(x), *tg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
