"""Anchors: counts per preset, exact sizes and ratios, matching rules, box coding, YOLO grids."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cvexplorer import anchors as A
from cvexplorer import formulas
from cvexplorer.boxes import iou_matrix


# -- counts ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(A.PRESETS))
@pytest.mark.parametrize("size", [(640, 640), (1024, 1024), (1000, 600), (416, 416)])
def test_preset_counts_equal_formula(name, size):
    p = A.PRESETS[name]
    grids = [(r, c) for c, r in p.grid_sizes(size)]  # formulas wants (h, w)
    expected = formulas.anchor_count(grids, list(p.per_location))
    boxes, level = p.generate(size)
    assert len(boxes) == p.count(size) == expected
    assert np.bincount(level, minlength=len(p.strides)).tolist() == p.counts(size)


def test_real_numbers():
    assert A.PRESETS["yolov8"].count((640, 640)) == 8400 == 80 ** 2 + 40 ** 2 + 20 ** 2
    assert A.PRESETS["yolov3"].count((416, 416)) == 10647 == 3 * (13 ** 2 + 26 ** 2 + 52 ** 2)
    assert A.PRESETS["yolov3"].count((640, 640)) == 3 * (80 ** 2 + 40 ** 2 + 20 ** 2) == 25200
    r = A.PRESETS["retinanet"]
    counts = r.counts((640, 640))
    assert counts == [57600, 14400, 3600, 900, 225]
    share = counts[0] / sum(counts)
    assert 0.75 < share < 0.751  # "three quarters": 57600 / 76725 = 0.7507
    assert r.count((1024, 1024)) == 9 * (128 ** 2 + 64 ** 2 + 32 ** 2 + 16 ** 2 + 8 ** 2) == 196416
    assert A.PRESETS["faster-rcnn"].count((1000, 600)) == 9 * 63 * 38
    assert A.yolo_bookkeeping((640, 640), (8, 16, 32), 1, 80, objectness=False)["vector"] == 84


def test_preset_shapes_are_the_published_ones():
    b, lv = A.PRESETS["faster-rcnn"].generate((1000, 600))
    wh = b[:9, 2:] - b[:9, :2]
    areas = np.sqrt(wh[:, 0] * wh[:, 1])
    assert sorted(set(np.round(areas, 6))) == [128, 256, 512]
    b, lv = A.PRESETS["yolov3"].generate((416, 416))
    first = [tuple(np.round(b[lv == l][:3, 2:] - b[lv == l][:3, :2], 6).ravel()) for l in range(3)]
    assert first[2] == (116, 90, 156, 198, 373, 326)


# -- property: requested sizes and ratios -----------------------------------------------------------------
pos = st.floats(0.2, 5.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    w=st.integers(16, 300), h=st.integers(16, 300),
    stride=st.sampled_from([4, 8, 16, 32, 64]),
    size=st.floats(4, 512), ratios=st.lists(pos, min_size=1, max_size=4, unique=True),
    scales=st.lists(st.floats(0.5, 3.0), min_size=1, max_size=3, unique=True),
)
def test_generated_anchors_have_requested_sizes_and_ratios(w, h, stride, size, ratios, scales):
    boxes, level = A.generate((w, h), (stride,), (size,), ratios, scales)
    cols, rows = math.ceil(w / stride), math.ceil(h / stride)
    per = len(ratios) * len(scales)
    assert boxes.shape == (cols * rows * per, 4)
    bw = boxes[:, 2] - boxes[:, 0]
    bh = boxes[:, 3] - boxes[:, 1]
    expected = [(r, k * size) for r in ratios for k in scales]
    got = np.stack([bh / bw, np.sqrt(bw * bh)], axis=1).reshape(rows, cols, per, 2)
    # every cell has every (ratio, size) pair -- a silently ignored ratio fails here
    np.testing.assert_allclose(got, np.broadcast_to(np.array(expected), got.shape), rtol=1e-9)
    # centred on the cell centres
    cx = ((boxes[:, 0] + boxes[:, 2]) / 2).reshape(rows, cols, per)
    cy = ((boxes[:, 1] + boxes[:, 3]) / 2).reshape(rows, cols, per)
    np.testing.assert_allclose(cx[0, :, 0], (np.arange(cols) + 0.5) * stride)
    np.testing.assert_allclose(cy[:, 0, 0], (np.arange(rows) + 0.5) * stride)


def test_bad_arguments_explained():
    with pytest.raises(ValueError, match="ratios"):
        A.generate((64, 64), (16,), (32,), ratios=(1.0, 0.0))
    with pytest.raises(ValueError, match="one base size per level"):
        A.generate((64, 64), (16, 32), (32,))
    with pytest.raises(ValueError, match="neg_iou"):
        A.match([[0, 0, 1, 1]], [[0, 0, 1, 1]], pos_iou=0.3, neg_iou=0.7)


# -- iou_matrix against the scalar formula -----------------------------------------------------------------
box = st.tuples(st.floats(0, 200), st.floats(0, 200), st.floats(0, 120), st.floats(0, 120)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3]))


@settings(max_examples=40, deadline=None)
@given(a=st.lists(box, min_size=1, max_size=8), b=st.lists(box, min_size=1, max_size=6))
def test_iou_matrix_equals_pairwise_formula(a, b):
    m = iou_matrix(a, b)
    ref = np.array([[formulas.iou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(m, ref, atol=1e-12)


def test_iou_matrix_on_real_anchors():
    anchors, _ = A.PRESETS["retinanet"].generate((256, 256))
    gt = np.array([[10, 20, 90, 140], [100, 100, 250, 180], [0, 0, 256, 256]], float)
    m = iou_matrix(anchors, gt)
    rng = np.random.default_rng(0)
    for i in rng.integers(0, len(anchors), 300):
        for j in range(len(gt)):
            assert m[i, j] == pytest.approx(formulas.iou(anchors[i], gt[j]), abs=1e-12)


# -- matching ------------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(gt=st.lists(box.filter(lambda b: b[2] - b[0] > 2 and b[3] - b[1] > 2), min_size=1, max_size=4),
       pos_iou=st.floats(0.4, 0.8), gap=st.floats(0.0, 0.3), low=st.booleans())
def test_match_follows_thresholds_and_low_quality_rule(gt, pos_iou, gap, low):
    anchors, _ = A.generate((320, 320), (16, 32), (32, 64), (0.5, 1, 2), (1.0,))
    neg_iou = pos_iou - gap
    m = A.match(anchors, gt, pos_iou, neg_iou, low)
    iou = iou_matrix(anchors, gt)
    best = iou.max(axis=1)
    np.testing.assert_allclose(m.max_iou, best)
    by_threshold = np.where(best >= pos_iou, 1, np.where(best < neg_iou, 0, -1))
    # outside the low-quality set, labels are exactly the thresholds
    lq = np.zeros(len(anchors), bool)
    if low:
        col_best = iou.max(axis=0)
        lq = ((iou == col_best[None, :]) & (col_best[None, :] > 0)).any(axis=1)
    assert np.array_equal(m.labels[~lq], by_threshold[~lq])
    assert np.all(m.labels[lq] == 1)
    assert np.array_equal(m.low_quality, lq & (by_threshold != 1))
    # positives point at their best box, negatives at none
    posi = m.labels == 1
    assert np.array_equal(m.matched[posi], iou.argmax(axis=1)[posi])
    assert np.all(m.matched[m.labels == 0] == -1)
    if low:  # every box that overlaps some anchor keeps at least one positive anchor
        for j in range(len(gt)):
            if iou[:, j].max() > 0:
                assert (iou[posi, j] == iou[:, j].max()).any()


def test_low_quality_rescues_a_small_box():
    anchors, _ = A.PRESETS["faster-rcnn"].generate((1000, 600))
    small = [[500, 300, 540, 330]]  # far smaller than the 128-pixel anchors: best IoU < 0.3
    off = A.match(anchors, small, 0.7, 0.3, allow_low_quality=False)
    on = A.match(anchors, small, 0.7, 0.3, allow_low_quality=True)
    assert off.counts["positive"] == 0 and off.best_iou[0] < 0.3
    assert on.counts["positive"] >= 1 and on.rescued.tolist() == [True]
    assert on.labels[on.best_anchor[0]] == 1 and on.low_quality[on.best_anchor[0]]


def test_match_without_boxes_is_all_negative():
    anchors, _ = A.generate((64, 64), (16,), (32,))
    m = A.match(anchors, np.zeros((0, 4)))
    assert m.counts == {"positive": 0, "negative": len(anchors), "ignored": 0}


# -- box coding ----------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(a=st.lists(box.filter(lambda b: b[2] - b[0] > 0.5 and b[3] - b[1] > 0.5), min_size=1, max_size=6),
       g=st.lists(box.filter(lambda b: b[2] - b[0] > 0.5 and b[3] - b[1] > 0.5), min_size=6, max_size=6),
       weights=st.sampled_from([(1, 1, 1, 1), (10, 10, 5, 5)]))
def test_encode_decode_round_trip(a, g, weights):
    g = g[: len(a)]
    d = A.encode(a, g, weights)
    np.testing.assert_allclose(A.decode(a, d, weights), np.asarray(g, float), atol=1e-9)


def test_encode_identity_is_zero():
    a = [[10, 10, 50, 30]]
    assert np.allclose(A.encode(a, a), 0)


# -- YOLO ----------------------------------------------------------------------------------------------------
def test_responsible_cells_contain_the_centres():
    gt = np.array([[0, 0, 31, 31], [100, 50, 300, 310], [600, 600, 640, 640]], float)
    for grid in (20, 40, 80, (13, 7)):
        cells = A.responsible_cells(gt, (640, 640), grid)
        cols, rows = (grid, grid) if isinstance(grid, int) else grid
        cw, ch = 640 / cols, 640 / rows
        cx, cy = (gt[:, 0] + gt[:, 2]) / 2, (gt[:, 1] + gt[:, 3]) / 2
        assert np.all(cells[:, 0] * cw <= cx) and np.all(cx <= (cells[:, 0] + 1) * cw)
        assert np.all(cells[:, 1] * ch <= cy) and np.all(cy <= (cells[:, 1] + 1) * ch)


def test_yolov3_anchor_choice_and_bookkeeping():
    wh = np.concatenate([np.asarray(w, float) for w in A.PRESETS["yolov3"].anchors_wh])
    idx, iou = A.best_anchor_by_shape([[0, 0, 373, 326], [5, 5, 15, 18]], wh)
    assert idx.tolist() == [8, 0] and np.allclose(iou, 1.0)
    d = A.yolo_bookkeeping((416, 416), (8, 16, 32), 3, 80)
    assert d["cells"] == [2704, 676, 169] and d["predictions"] == 10647 and d["vector"] == 85


def test_coverage_map_matches_brute_force():
    anchors, _ = A.generate((96, 64), (16,), (24,), (0.5, 1, 2), (1, 2))
    cov = A.coverage_map(anchors, (96, 64), cell=4)
    ys, xs = np.mgrid[0:16, 0:24]
    cx, cy = (xs + 0.5) * 4, (ys + 0.5) * 4
    ref = np.zeros_like(cov)
    for x0, y0, x1, y1 in anchors:
        ref += ((cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)).astype(ref.dtype)
    assert np.array_equal(cov, ref)


def test_orphans_are_reported_with_the_rule_off():
    anchors, _ = A.PRESETS["faster-rcnn"].generate((1000, 600))
    m = A.match(anchors, [[500, 300, 540, 330], [100, 100, 356, 356]], 0.7, 0.3, allow_low_quality=False)
    assert m.orphan.tolist() == [True, False] and m.rescued.tolist() == [False, False]


# -- centre offsets (the convention each preset follows) ------------------------------------------------------
@pytest.mark.parametrize("name", list(A.PRESETS))
def test_every_preset_centres_its_anchors_at_its_offset(name):
    p = A.PRESETS[name]
    boxes, level = p.generate(p.default_size)
    for lv, s in enumerate(p.strides):
        cols, rows = A.grid_shape(p.default_size, s)
        b = boxes[level == lv].reshape(rows, cols, -1, 4)
        cx = (b[..., 0] + b[..., 2]) / 2
        cy = (b[..., 1] + b[..., 3]) / 2
        np.testing.assert_allclose(cx[0, :, 0], (np.arange(cols) + p.offset) * s, atol=1e-9)
        np.testing.assert_allclose(cy[:, 0, 0], (np.arange(rows) + p.offset) * s, atol=1e-9)


def test_mmdet_retinanet_is_the_paper_grid_moved_half_a_stride():
    paper, lv = A.PRESETS["retinanet"].generate((640, 640))
    mmdet, lv2 = A.PRESETS["retinanet-mmdet"].generate((640, 640))
    assert A.PRESETS["retinanet"].offset == 0.5 and A.PRESETS["retinanet-mmdet"].offset == 0.0
    assert np.array_equal(lv, lv2)
    shift = np.asarray(A.PRESETS["retinanet"].strides, float)[lv] / 2
    np.testing.assert_allclose(mmdet, paper - shift[:, None], atol=1e-9)
    # mmdet's first P3 anchors (AnchorGenerator(strides=[8], octave_base_scale=4, scales_per_octave=3,
    # ratios=[0.5, 1, 2], center_offset=0)): ratio 0.5, scale 1 is w = 32 / sqrt(0.5), h = 32 sqrt(0.5) at (0, 0)
    w, h = 32 / np.sqrt(0.5), 32 * np.sqrt(0.5)
    np.testing.assert_allclose(mmdet[0], [-w / 2, -h / 2, w / 2, h / 2], atol=1e-9)
    with pytest.raises(ValueError, match="fraction of a cell"):
        A.Preset("x", "x", strides=(8,), sizes=(32,), offset=1.5)


# -- what the panel computes ----------------------------------------------------------------------------------
def test_label_anchors_equals_match_on_the_preset_anchors():
    gt = [[420, 370, 500, 490], [243, 537, 448, 563]]
    out = A.label_anchors("retinanet", (640, 640), gt, pos_iou=0.5, neg_iou=0.4)
    boxes, level = A.PRESETS["retinanet"].generate((640, 640))
    ref = A.match(boxes, gt, 0.5, 0.4, True)
    assert np.array_equal(out.boxes, boxes) and np.array_equal(out.level, level)
    assert np.array_equal(out.labels, ref.labels) and out.counts.positive == ref.counts["positive"]
    assert out.counts.total == len(boxes) == sum(out.level_counts) == out.histogram.total
    assert out.histogram.zero == int((ref.max_iou == 0).sum())
    assert out.level_shares[0] == pytest.approx(57600 / 76725)
    here = out.level_label_counts(1)
    assert here.total == 14400 and here.positive == int((ref.labels[out.level_slice(1)] == 1).sum())
    custom = A.label_anchors("retinanet", (640, 640), gt, ratios=(1.0, 3.0))
    assert len(custom.boxes) == 76725 * 6 // 9 and custom.per_location == (6,) * 5
    with pytest.raises(ValueError, match="give 5 sizes"):
        A.label_anchors("retinanet", (640, 640), sizes=(32, 64))


def test_yolo_assign_picks_one_slot_per_box_and_ignores_overlaps():
    p = A.PRESETS["yolov3"]
    boxes, level = p.generate((416, 416))
    gt = np.array([[100, 100, 300, 260], [10, 10, 26, 30]], float)
    out = A.yolo_assign(p, boxes, gt, (416, 416))
    assert int((out.labels == 1).sum()) == 2
    for r in out.responsible:
        idx = A.cell_anchors((416, 416), p.strides, p.per_location, r.level, (r.col, r.row))[r.anchor]
        assert out.labels[idx] == 1
        g = gt[r.box]  # the responsible cell holds the box centre
        s = p.strides[r.level]
        assert r.col * s <= (g[0] + g[2]) / 2 < (r.col + 1) * s and r.row * s <= (g[1] + g[3]) / 2 < (r.row + 1) * s
    iou = iou_matrix(boxes, gt).max(axis=1)
    assert np.all(out.labels[(iou > 0.5) & (out.labels != 1)] == -1)
    assert np.all(out.labels[iou <= 0.5][out.labels[iou <= 0.5] != 1] == 0)
    free = A.label_anchors("yolov8", (640, 640), [[100, 100, 300, 260]])
    cx = (free.boxes[:, 0] + free.boxes[:, 2]) / 2
    cy = (free.boxes[:, 1] + free.boxes[:, 3]) / 2
    inside = (cx > 100) & (cx < 300) & (cy > 100) & (cy < 260)
    assert np.array_equal(free.labels == 1, inside) and len(free.responsible) == 3
    with pytest.raises(ValueError, match="match"):
        A.yolo_assign(A.PRESETS["retinanet"], boxes, gt, (416, 416))


def test_pair_cell_encodes_and_decodes_back_to_the_box():
    boxes, _ = A.PRESETS["retinanet"].generate((640, 640))
    idx = A.cell_anchors((640, 640), A.PRESETS["retinanet"].strides, 9, 1, (28, 26))
    assert len(idx) == 9 and idx[0] == 57600 + (26 * 40 + 28) * 9
    gt = [[420, 370, 500, 490]]
    pair = A.pair_cell(boxes[idx], gt)
    m = iou_matrix(boxes[idx], gt)
    assert pair.anchor == int(m.argmax()) and pair.iou == pytest.approx(m.max())
    np.testing.assert_allclose(pair.decoded, gt[0], atol=1e-9)
    np.testing.assert_allclose(pair.deltas, A.encode(boxes[idx][pair.anchor:pair.anchor + 1], gt)[0])
    assert A.pair_cell(boxes[idx], np.zeros((0, 4))) is None
    with pytest.raises(ValueError, match="no anchor 9"):
        A.pair_cell(boxes[idx], gt, 9)
    assert A.cell_at(460, 430, (640, 640), 16) == (28, 26) and A.cell_at(700, 5, (640, 640), 16) is None


def test_letterbox_keeps_the_shape_and_maps_boxes_both_ways():
    photo = np.zeros((960, 1280, 3), np.uint8)
    photo[:, :, 0] = 200
    fit = A.letterbox_fit((1280, 960), (640, 640))
    assert fit.scale == 0.5 and fit.size == (640, 480) and fit.pad == (0, 80) and fit.stretched
    img = A.letterbox(photo, (640, 640))
    assert img.shape == (640, 640, 3)
    assert np.all(img[:80] == 114) and np.all(img[560:] == 114) and np.all(img[80:560, :, 0] == 200)
    box = [[840, 580, 1000, 820]]
    np.testing.assert_allclose(fit.to_input(box), [[420, 370, 500, 490]])
    np.testing.assert_allclose(fit.to_photo(fit.to_input(box)), box)
    assert not A.letterbox_fit((640, 640), (416, 416)).stretched
    with pytest.raises(ValueError, match="RGB uint8"):
        A.letterbox(np.zeros((4, 4), np.uint8), (8, 8))


def test_iou_histogram_keeps_zero_apart_and_adds_up():
    v = np.array([0.0] * 5 + [0.01, 0.05, 0.5, 0.999, 1.0])
    h = A.iou_histogram(v)
    assert h.zero == 5 and h.counts.sum() == 5 and h.total == len(v) and len(h.edges) == 21
    with pytest.raises(ValueError, match="between 0 and 1"):
        A.iou_histogram([1.5])
