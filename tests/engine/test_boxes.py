"""cvexplorer.boxes: IoU matrix, greedy / soft / class-aware NMS, traces, loaders, scenarios."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvexplorer import boxes as B
from cvexplorer import formulas


def random_boxes(n, seed, size=(640, 480), clusters=None):
    """Detector-like boxes: jittered around a few objects (xyxy) and unique random scores."""
    rng = np.random.default_rng(seed)
    k = clusters or max(1, n // 8)
    c = rng.uniform((0, 0), size, (k, 2))
    wh = rng.uniform(8, 120, (k, 2))
    idx = rng.integers(0, k, n)
    cc = c[idx] + rng.normal(0, 0.2, (n, 2)) * wh[idx]
    ww = wh[idx] * rng.uniform(0.7, 1.3, (n, 2))
    return np.c_[cc - ww / 2, cc + ww / 2], rng.permutation(n) / n * 0.98 + 0.01


def cv2_nms(b, s, thr, score_thr=0.0):
    import cv2

    xywh = np.c_[b[:, :2], b[:, 2:] - b[:, :2]]
    k = cv2.dnn.NMSBoxes(xywh, s.astype(np.float32), score_thr, thr)
    return np.asarray(k, dtype=np.int64).reshape(-1)


# -- IoU ------------------------------------------------------------------------------------------

def test_iou_matrix_equals_pairwise_formula():
    a, _ = random_boxes(40, 1)
    b, _ = random_boxes(7, 2)
    m = B.iou_matrix(a, b)
    assert m.shape == (40, 7)
    ref = np.array([[formulas.iou(p, q) for q in b] for p in a])
    np.testing.assert_allclose(m, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(B.iou_matrix(b, a), ref.T, rtol=1e-12, atol=1e-15)


def test_iou_matrix_edge_cases():
    assert B.iou_matrix(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    # degenerate boxes: IoU 0, never NaN
    m = B.iou_matrix([[1, 1, 1, 1], [0, 0, 2, 2]], [[1, 1, 1, 1]])
    assert np.array_equal(m, [[0.0], [0.0]])
    with pytest.raises(ValueError, match="shape"):
        B.iou_matrix([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="NaN"):
        B.iou_matrix([[0, 0, np.nan, 1]], [[0, 0, 1, 1]])


def test_iou_matrix_large_is_chunk_safe():
    a, _ = random_boxes(20000, 3)
    b, _ = random_boxes(30, 4)
    m = B.iou_matrix(a, b, dtype=np.float32)
    assert m.shape == (20000, 30) and m.dtype == np.float32
    np.testing.assert_allclose(m[::997], B.iou_matrix(a[::997], b), atol=1e-6)


# -- greedy NMS -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_matches_opencv(seed, thr):
    b, s = random_boxes(300, seed)
    ours = B.nms(b, s, thr)
    ref = cv2_nms(b, s, thr)
    assert np.array_equal(ours, ref)


def test_nms_score_threshold_matches_opencv():
    b, s = random_boxes(400, 11)
    assert np.array_equal(B.nms(b, s, 0.45, score_threshold=0.5), cv2_nms(b, s, 0.45, 0.5))


def test_nms_tie_rules():
    # IoU exactly equal to the threshold: kept (IoU > t suppresses)
    b = [[0, 0, 2, 1], [0, 0, 1, 1]]
    assert B.iou_matrix(b[:1], b[1:])[0, 0] == 0.5
    assert B.nms(b, [0.9, 0.8], 0.5).tolist() == [0, 1]
    assert B.nms(b, [0.9, 0.8], 0.49).tolist() == [0]
    # equal scores: input order decides (stable), like OpenCV
    same = [[0, 0, 10, 10], [0, 0, 10, 10]]
    assert B.nms(same, [0.5, 0.5], 0.5).tolist() == [0]
    assert B.nms(same[::-1], [0.5, 0.5], 0.5).tolist() == [0]


def test_nms_max_detections_and_empty():
    b, s = random_boxes(100, 5)
    full = B.nms(b, s, 0.5)
    assert np.array_equal(B.nms(b, s, 0.5, max_detections=3), full[:3])
    assert B.nms(np.zeros((0, 4)), [], 0.5).tolist() == []
    with pytest.raises(ValueError, match="between 0 and 1"):
        B.nms(b, s, 1.5)
    with pytest.raises(ValueError, match="one number per box"):
        B.nms(b, s[:-1], 0.5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(1, 80), st.floats(0.0, 1.0))
def test_kept_boxes_never_overlap_above_threshold(seed, n, thr):
    b, s = random_boxes(n, seed, clusters=3)
    keep = B.nms(b, s, thr)
    m = B.iou_matrix(b[keep], b[keep])
    np.fill_diagonal(m, 0)
    assert (m <= thr).all()
    # every removed box overlaps a kept, higher-scoring one above the threshold
    removed = np.setdiff1d(np.arange(n), keep)
    if len(removed):
        assert (B.iou_matrix(b[removed], b[keep]).max(axis=1) > thr).all()


# -- trace ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_trace_final_equals_nms(seed):
    b, s = random_boxes(120, seed)
    for thr, conf, k in ((0.5, 0.0, None), (0.3, 0.4, None), (0.6, 0.2, 5)):
        t = B.nms_trace(b, s, thr, score_threshold=conf, max_detections=k)
        fast = B.nms(b, s, thr, score_threshold=conf, max_detections=k)
        assert np.array_equal(t.final, fast)
        last = t[-1]
        assert np.array_equal(np.flatnonzero(last.states == B.KEPT), np.sort(fast))
        assert len(t) == len(fast) + 2


def test_boxes_with_subnormal_areas_still_overlap_fully():
    """Areas near 1e-313 (subnormal): two identical boxes have IoU 1 in every IoU home (a floor at the
    smallest normal number gave 1e-5), and NMS suppresses the second at any threshold below 1."""
    b = np.array([[0.0, 0.0, 1.0, 2.2250738585e-313]] * 2)
    assert B.iou_matrix(b[:1], b[1:])[0, 0] == formulas.iou(b[0], b[1]) == 1.0
    assert B.nms(b, [0.9, 0.8], 0.5).tolist() == B.nms_trace(b, [0.9, 0.8], 0.5).final.tolist() == [0]
    assert B.iou_matrix([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0  # empty boxes: 0, never NaN


def test_trace_and_fast_path_agree_when_areas_overflow():
    """Boxes near 1e155 have areas beyond float range and NaN IoUs: neither path lets such a box
    vanish; an IoU that is not a number suppresses nothing."""
    b = np.array([[0, 0, 1e155, 1e155], [1e154, 1e154, 1.1e155, 1.1e155], [0, 0, 10, 10]])
    with np.errstate(all="ignore"):
        fast = B.nms(b, [0.9, 0.8, 0.7], 0.5)
        traced = B.nms_trace(b, [0.9, 0.8, 0.7], 0.5)
    assert fast.tolist() == [0, 1, 2] and traced.final.tolist() == [0, 1, 2]
    assert (traced[-1].states == B.KEPT).all()


def test_trace_steps_tell_the_story():
    b = [[0, 0, 10, 10], [1, 1, 11, 11], [30, 30, 40, 40], [0, 0, 10, 9]]
    s = [0.9, 0.8, 0.7, 0.6]
    t = B.nms_trace(b, s, 0.5)
    step = t[1]
    assert step.current == 0
    assert sorted(step.suppressed_now.tolist()) == [1, 3]
    assert step.states.tolist() == [B.CURRENT, B.SUPPRESSED, B.WAITING, B.SUPPRESSED]
    assert dict(zip(step.neighbours.tolist(), step.ious.round(4).tolist())) == {
        1: round(81 / 119, 4), 3: 0.9}
    assert step.evaluations == 3 and step.max_evaluations == formulas.nms_max_comparisons(4)
    assert t[2].current == 2 and t[2].evaluations == 3  # nothing left to compare
    # nothing overlapping: every pair is evaluated, the N(N-1)/2 bound is reached
    far = [[i * 20, 0, i * 20 + 10, 10] for i in range(6)]
    tf = B.nms_trace(far, np.linspace(1, 0.5, 6), 0.5)
    assert tf[-1].evaluations == formulas.nms_max_comparisons(6)


def test_trace_marks_below_score_threshold():
    t = B.nms_trace([[0, 0, 1, 1], [5, 5, 6, 6]], [0.9, 0.1], 0.5, score_threshold=0.2)
    assert t[0].states.tolist() == [B.WAITING, B.BELOW_SCORE]
    assert t.final.tolist() == [0]


# -- Soft-NMS ---------------------------------------------------------------------------------------

def test_soft_nms_gaussian_hand_case():
    b = [[0, 0, 10, 10], [0, 0, 10, 5], [50, 50, 60, 60]]  # IoU(0, 1) = 0.5
    k, ns = B.soft_nms(b, [0.9, 0.8, 0.7], method="gaussian", sigma=0.5)
    assert k.tolist() == [0, 2, 1]
    assert ns[0] == 0.9 and ns[1] == 0.7
    assert ns[2] == pytest.approx(0.8 * math.exp(-0.25 / 0.5), rel=1e-12)


def test_soft_nms_linear_hand_case():
    b = [[0, 0, 10, 10], [0, 0, 10, 5], [0, 0, 10, 8.5]]  # IoUs with box 0: 0.5 and 0.85
    k, ns = B.soft_nms(b, [0.9, 0.8, 0.85], method="linear", iou_threshold=0.6)
    # box 2 (IoU 0.85 > 0.6) decays to 0.85 * 0.15; box 1 (IoU 0.5 <= 0.6) is untouched by box 0
    got = dict(zip(k.tolist(), ns.tolist()))
    assert got[0] == 0.9 and got[1] == pytest.approx(0.8)
    iou12 = B.iou_matrix([b[1]], [b[2]])[0, 0]  # 0.588 <= 0.6: box 1 leaves box 2 alone
    assert iou12 == pytest.approx(5 / 8.5)
    assert k.tolist() == [0, 1, 2]
    assert got[2] == pytest.approx(0.85 * 0.15, rel=1e-12)
    # below the threshold the linear rule is the identity; gaussian still decays
    k2, ns2 = B.soft_nms(b[:2], [0.9, 0.8], method="linear", iou_threshold=0.5)
    assert ns2.tolist() == [0.9, 0.8]
    k3, ns3 = B.soft_nms(b[:2], [0.9, 0.8], method="linear", iou_threshold=0.49)
    assert ns3[1] == pytest.approx(0.8 * 0.5)


def test_soft_nms_drops_below_score_threshold_and_trace_agrees():
    b, s = random_boxes(60, 8)
    k, ns = B.soft_nms(b, s, method="gaussian", sigma=0.3, score_threshold=0.2)
    assert (ns >= 0.2).all() and np.all(np.diff(ns) <= 1e-12)  # picked in decreasing score
    t = B.soft_nms_trace(b, s, method="gaussian", sigma=0.3, score_threshold=0.2)
    assert np.array_equal(t.final[0], k) and np.allclose(t.final[1], ns)
    with pytest.raises(ValueError, match="gaussian"):
        B.soft_nms(b, s, method="cubic")
    with pytest.raises(ValueError, match="sigma"):
        B.soft_nms(b, s, sigma=0)


# -- class-aware -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_batched_nms_never_suppresses_across_classes(seed):
    b, s = random_boxes(200, seed)
    c = np.random.default_rng(seed).integers(0, 4, len(b))
    keep = B.batched_nms(b, s, c, 0.5)
    for cls in range(4):
        sel = np.flatnonzero(c == cls)
        assert np.array_equal(np.sort(keep[c[keep] == cls]), np.sort(sel[B.nms(b[sel], s[sel], 0.5)]))
    assert np.all(np.diff(s[keep]) <= 0)
    # two identical boxes of different classes are both kept
    assert B.batched_nms([[0, 0, 5, 5]] * 2, [0.9, 0.8], [0, 1], 0.5).tolist() == [0, 1]


def test_postprocess_order():
    sc = B.scenario("multi-class")
    stages = B.postprocess(sc.boxes, sc.scores, sc.classes, conf_threshold=0.3, iou_threshold=0.5, top_k=5)
    names = [n for n, _ in stages]
    assert names[0] == "decoded" and names[-1] == "top-5"
    sizes = [len(i) for _, i in stages]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] <= 5


# -- scenarios ---------------------------------------------------------------------------------------

def test_scenarios_are_seeded_and_teach_their_point():
    for name in B.SCENARIOS:
        a, b2 = B.scenario(name, seed=3), B.scenario(name, seed=3)
        assert np.array_equal(a.boxes, b2.boxes) and len(a.boxes) == len(a.scores) == len(a.classes)
        assert (a.boxes[:, 2] > a.boxes[:, 0]).all()
    people = B.scenario("overlapping-people")
    assert len(B.nms(people.boxes, people.scores, 0.5)) == 1           # greedy loses a person
    k, ns = B.soft_nms(people.boxes, people.scores)
    best2 = B.iou_matrix(people.boxes[k[:2]], people.truth).argmax(axis=1)
    assert sorted(best2.tolist()) == [0, 1]                              # soft-NMS keeps both
    mc = B.scenario("multi-class")
    assert len(B.batched_nms(mc.boxes, mc.scores, mc.classes, 0.5)) > len(B.nms(mc.boxes, mc.scores, 0.5))
    with pytest.raises(ValueError, match="Unknown scenario"):
        B.scenario("nope")


# -- loaders -----------------------------------------------------------------------------------------

def test_coco_loader(tmp_path):
    p = tmp_path / "res.json"
    p.write_text(json.dumps([
        {"image_id": 1, "category_id": 2, "bbox": [10, 20, 30, 40], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [10, 20, -3, 40], "score": 0.9},
        {"image_id": 1, "category_id": "cat", "bbox": [1, 2, 3, 4], "score": 0.5},
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.4},
    ]))
    d = B.load_detections(p)
    assert d.boxes.tolist() == [[10, 20, 40, 60], [1, 2, 4, 6]]
    assert d.classes.tolist() == [2, 1] and d.scores.tolist() == [0.9, 0.4]
    assert [q.split(":")[0] for q in d.problems] == ["entry 2", "entry 3", "entry 4"]


def test_yolo_loader(tmp_path):
    p = tmp_path / "pred.txt"
    p.write_text("# comment\n0 0.5 0.5 0.2 0.4 0.9\n\n1 0.5 0.5 0.2\n2 0.1 0.1 x 0.1 0.3\n"
                 "-1 0.5 0.5 0.1 0.1 0.5\n3 0.25 0.25 0.5 0.5 0.7\n")
    d = B.load_detections(p, image_size=(100, 50))
    assert d.boxes.tolist() == [[40, 15, 60, 35], [0, 0, 50, 25]]
    assert d.classes.tolist() == [0, 3]
    assert [q.split(":")[0] for q in d.problems] == ["line 4", "line 5", "line 6"]
    with pytest.raises(B.DetectionsLoadError, match="image size"):
        B.load_detections(p)


def test_raised_limits_hold_for_both_formats():
    """``load_detections(limits=...)`` counts entries against the given limit, JSON and YOLO alike."""
    yolo = "\n".join("0 0.5 0.5 0.1 0.1 0.9" for _ in range(6))
    coco = json.dumps([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}] * 6)
    for text, size in ((yolo, (100, 100)), (coco, None)):
        assert len(B.load_detections(text, size, limits={"detections": 6}).boxes) == 6
        with pytest.raises(B.DetectionsLoadError, match="at most 5 detections"):
            B.load_detections(text, size, limits={"detections": 5})


def test_loaders_reject_unusable_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"bbox": [1, 2, 3, 4], "score": 0.5},')
    with pytest.raises(B.DetectionsLoadError, match="not valid JSON.*line 1"):
        B.load_detections(bad)
    obj = tmp_path / "obj.json"
    obj.write_text('{"hello": 1}')
    with pytest.raises(B.DetectionsLoadError, match="JSON list"):
        B.load_detections(obj)
    binf = tmp_path / "x.txt"
    binf.write_bytes(b"\x89PNG\x00\x00\x01")
    with pytest.raises(B.DetectionsLoadError, match="binary"):
        B.load_detections(binf, image_size=(10, 10))
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\n")
    with pytest.raises(B.DetectionsLoadError, match="No valid detections.*line 1"):
        B.load_detections(junk, image_size=(10, 10))
    with pytest.raises(B.DetectionsLoadError, match="does not exist"):
        B.load_detections(tmp_path / "missing.json")
    assert issubclass(B.DetectionsLoadError, ValueError)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)), st.booleans())
def test_loader_fuzz_only_documented_errors(data, with_size):
    src = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        d = B.load_detections(src, image_size=(64, 48) if with_size else None)
    except B.DetectionsLoadError:
        return
    assert len(d.boxes) == len(d.scores) == len(d.classes) > 0
    assert np.isfinite(d.boxes).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.floats(allow_nan=True, allow_infinity=True, width=32)] * 5), max_size=12),
       st.floats(-1, 2))
def test_nms_fuzz_only_value_errors(rows, thr):
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    try:
        keep = B.nms(arr[:, :4], arr[:, 4], thr)
    except ValueError:
        return
    assert keep.dtype == np.int64 and len(set(keep.tolist())) == len(keep)


# -- what the NMS panel shows ---------------------------------------------------------------------------

def test_coco_coordinates_that_overflow_are_skipped_with_a_sentence():
    d = B.load_coco_results(json.dumps([
        {"image_id": 1, "category_id": 0, "bbox": [1.5e308, 0, 1.5e308, 10], "score": 0.9},
        {"image_id": 1, "category_id": 0, "bbox": [0, 0, 10, 10], "score": 0.8},
    ]))
    assert d.boxes.tolist() == [[0, 0, 10, 10]] and np.isfinite(d.boxes).all()
    assert d.problems[0].startswith("entry 1: bbox reaches beyond")


def test_trace_keeps_each_suppressed_box_its_suppressor_and_iou():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]]
    scores = [0.9, 0.8, 0.7, 0.6]
    t = B.nms_trace(boxes, scores, 0.5)
    iou = B.iou_matrix(boxes, boxes)
    last = t[-1]
    assert last["suppressed_by"].tolist() == [-1, 0, -1, 0]
    assert np.allclose(last["suppressed_iou"], [0, iou[0, 1], 0, iou[0, 3]])
    assert t[0]["suppressed_by"].tolist() == [-1] * 4  # nothing decided before the first pick
    assert t[1]["suppressed_by"].tolist() == [-1, 0, -1, 0]  # decided by the first pick
    # Soft-NMS: a box dropped under the threshold names the pick that decayed it
    st = B.soft_nms_trace([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.5], method="linear",
                          iou_threshold=0.3, score_threshold=0.25)
    assert st[-1]["suppressed_by"].tolist() == [-1, 0] and st[-1]["suppressed_iou"][1] == 1.0


def test_nms_overview_is_one_consistent_record():
    sc = B.scenario("multi-class")
    o = B.nms_overview(sc.boxes, sc.scores, sc.classes, iou_threshold=0.5, conf_threshold=0.25, top_k=100)
    assert o.trace.final.tolist() == B.nms(sc.boxes, sc.scores, 0.5, score_threshold=0.25).tolist()
    assert o.greedy.tolist() == o.trace.final.tolist()
    assert o.class_aware.tolist() == B.batched_nms(sc.boxes, sc.scores, sc.classes, 0.5,
                                                   score_threshold=0.25).tolist()
    k, s = B.soft_nms(sc.boxes, sc.scores, iou_threshold=0.5, score_threshold=0.25)
    assert o.soft_kept.tolist() == k.tolist() and np.allclose(o.soft_scores, s)
    assert [n for n, _ in o.stages] == [n for n, _ in B.postprocess(sc.boxes, sc.scores, sc.classes,
                                                                      iou_threshold=0.5)]
    assert not o.boxes.flags.writeable and np.array_equal(o.boxes, sc.boxes) and len(o) == len(sc.boxes)
    soft = B.nms_overview(sc.boxes, sc.scores, sc.classes, stepping="soft")
    assert soft.trace.meta["kind"] == "soft" and soft.trace.final[0].tolist() == soft.soft_kept.tolist()
    with pytest.raises(ValueError, match="greedy"):
        B.nms_overview(sc.boxes, sc.scores, sc.classes, stepping="animated")
    with pytest.raises(ValueError, match="same length"):
        B.nms_overview(sc.boxes, sc.scores[:3], sc.classes)
