"""cvexplorer.formulas: property tests against real convolutions/pooling, brute-force receptive
fields, and every worked problem of ../shared/reference/cv-formulas-workbook.txt that has data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from cvexplorer import formulas as F

FAST = settings(max_examples=60, deadline=None)


# ----------------------------------------------------------------------------- reference implementations
def np_conv1d(x, k, stride=1, padding=0, dilation=1, pad_value=0.0, reduce="sum", ceil_mode=False):
    """A real strided, dilated, padded 1-D correlation/pooling with NumPy (weights all ones)."""
    span = dilation * (k - 1) + 1
    xp = np.pad(np.asarray(x, dtype=np.float64), padding, constant_values=pad_value)
    if ceil_mode:  # PyTorch: extra right padding so a partial last window exists if it starts inside
        extra = (-(len(xp) - span)) % stride
        xp = np.pad(xp, (0, extra), constant_values=pad_value)
    if len(xp) < span:  # no window fits at all
        return np.zeros(0)
    win = sliding_window_view(xp, span)[::stride, ::dilation]
    if ceil_mode:
        starts = np.arange(len(win)) * stride
        win = win[starts < len(x) + padding]
    return win.max(axis=1) if reduce == "max" else win.sum(axis=1)


def np_conv2d(img, kernel, stride=1, padding=0, dilation=1):
    k = kernel.shape[0]
    span = dilation * (k - 1) + 1
    xp = np.pad(img, padding)
    win = sliding_window_view(xp, (span, span))[::stride, ::stride, ::dilation, ::dilation]
    return np.einsum("ijkl,kl->ij", win, kernel)


# ----------------------------------------------------------------------------- shapes
@FAST
@given(n=st.integers(1, 64), k=st.integers(1, 9), s=st.integers(1, 5), p=st.integers(0, 4), d=st.integers(1, 4))
def test_conv_output_size_matches_a_real_convolution(n, k, s, p, d):
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        with pytest.raises(ValueError, match="larger than the padded input"):
            F.conv_output_size(n, k, s, p, d)
        return
    rng = np.random.default_rng(n * 1000 + k)
    img = rng.random((n, n))
    kernel = rng.random((k, k))
    out = np_conv2d(img, kernel, s, p, d)
    o = F.conv_output_size(n, k, s, p, d)
    assert out.shape == (o, o)


def test_numpy_reference_convolution_equals_opencv():
    """The reference conv above is a real convolution: stride 1 equals cv2.filter2D's valid part."""
    import cv2

    rng = np.random.default_rng(0)
    img = rng.random((20, 20)).astype(np.float32)
    ker = rng.random((5, 5)).astype(np.float32)
    ref = cv2.filter2D(img, -1, ker, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)[: 20 - 4, : 20 - 4]
    ours = np_conv2d(img.astype(np.float64), ker.astype(np.float64))
    assert ours.shape == (F.conv_output_size(20, 5),) * 2
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
    # and its strided version is a subsampling of the stride-1 result
    np.testing.assert_allclose(np_conv2d(img.astype(np.float64), ker.astype(np.float64), stride=2), ours[::2, ::2])


@FAST
@given(n=st.integers(1, 64), k=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 3), ceil=st.booleans())
def test_pool_output_size_matches_real_pooling(n, k, s, p, ceil):
    assume(2 * p <= k)
    x = np.random.default_rng(n).random(n)
    out = np_conv1d(x, k, s, p, pad_value=-np.inf, reduce="max", ceil_mode=ceil)
    if len(out) == 0:
        with pytest.raises(ValueError, match="larger than the padded input"):
            F.pool_output_size(n, k, s, p, ceil)
        return
    assert len(out) == F.pool_output_size(n, k, s, p, ceil)
    assert np.all(np.isfinite(out))  # every window sees at least one real pixel


@pytest.mark.parametrize("n, k, s, p, ceil, expected", [
    (1, 2, 2, 0, True, 1),    # the window hangs over the end: PyTorch still pools it (used to raise)
    (3, 4, 2, 0, True, 1),
    (5, 2, 2, 0, True, 3), (5, 2, 2, 0, False, 2),
    (6, 3, 2, 1, True, 4),
    (5, 2, 2, 1, True, 3),    # a 4th window would start in the right padding only: dropped
    (7, 3, 2, 1, True, 4),
    (112, 3, 2, 1, False, 56), (55, 3, 2, 0, True, 27), (56, 3, 2, 0, True, 28),
])
def test_pool_output_size_follows_pytorchs_ceil_rule(n, k, s, p, ceil, expected):
    """PyTorch's pooling_output_shape: ceil((n + 2p − k)/s) + 1, minus one if that window starts past n + p."""
    assert F.pool_output_size(n, k, s, p, ceil) == expected


def test_pool_output_size_refuses_when_even_ceil_mode_leaves_no_window():
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.pool_output_size(1, 2, 2, 0, ceil_mode=False)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.pool_output_size(1, 3, 1, 0, ceil_mode=True)
    assert F.pool_output_size(9, 2, 2, 0, dilation=2) == 4  # dilated window spans 3 pixels, as in MaxPool2d


def test_pool_matches_opencv_resize_area_for_2x2():
    import cv2

    img = np.random.default_rng(1).random((30, 46)).astype(np.float32)
    area = cv2.resize(img, (23, 15), interpolation=cv2.INTER_AREA)
    o = F.pool_output_size(30, 2), F.pool_output_size(46, 2)
    assert area.shape == o
    np.testing.assert_allclose(area, img.reshape(15, 2, 23, 2).mean(axis=(1, 3)), rtol=1e-5)


def test_shapes_against_torch_when_available():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for _ in range(40):
        n, k, s, p = int(rng.integers(4, 40)), int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        d = int(rng.integers(1, 3))
        x = torch.zeros(1, 1, n, n)
        if d * (k - 1) + 1 <= n + 2 * p:
            conv = torch.nn.Conv2d(1, 1, k, s, p, d)
            assert conv(x).shape[-1] == F.conv_output_size(n, k, s, p, d)
        if 2 * p <= k and k <= n + 2 * p:
            for ceil in (False, True):
                pool = torch.nn.MaxPool2d(k, s, p, ceil_mode=ceil)
                assert pool(x).shape[-1] == F.pool_output_size(n, k, s, p, ceil)
        op = int(rng.integers(0, max(s, d)))
        t = torch.nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d)
        expected = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if expected >= 1:
            assert t(x).shape[-1] == F.transposed_conv_output_size(n, k, s, p, op, d)


@FAST
@given(n=st.integers(1, 64), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3))
def test_transposed_conv_inverts_conv(n, k, s, p):
    assume(k <= n + 2 * p)
    o = F.conv_output_size(n, k, s, p)
    # the floor loses (n + 2p - k) mod s pixels; output_padding gives them back
    lost = (n + 2 * p - k) % s
    assume(o - 1 >= 0)
    back = (o - 1) * s - 2 * p + (k - 1) + lost + 1
    assume(back >= 1 and lost < s)
    assert F.transposed_conv_output_size(o, k, s, p, output_padding=lost) == n


def test_transposed_conv_is_the_adjoint_shape_of_a_real_conv():
    """Scatter-adding a kernel at every stride position (a real transposed conv) gives the formula's size."""
    for n, k, s, p in [(14, 4, 2, 1), (7, 3, 2, 1), (5, 3, 1, 0), (10, 2, 2, 0)]:
        out = np.zeros((n - 1) * s + k)
        for i in range(n):
            out[i * s: i * s + k] += 1
        out = out[p: len(out) - p] if p else out
        assert len(out) == F.transposed_conv_output_size(n, k, s, p)


def test_same_padding():
    assert [F.same_padding(k) for k in (1, 3, 5, 7)] == [0, 1, 2, 3]
    assert F.same_padding(3, dilation=2) == 2
    for k, d in [(3, 1), (3, 2), (5, 3)]:
        assert F.conv_output_size(37, k, 1, F.same_padding(k, d), d) == 37
    with pytest.raises(ValueError, match="even"):
        F.same_padding(4)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, text", [
    (lambda: F.conv_output_size(3, 5), "larger than the padded input"),
    (lambda: F.conv_output_size(32, 3, stride=0), "stride must be at least 1"),
    (lambda: F.conv_output_size(0, 3), "input size must be at least 1"),
    (lambda: F.conv_output_size(32, 3, padding=-1), "padding cannot be negative"),
    (lambda: F.conv_output_size(32.5, 3), "whole number"),
    (lambda: F.pool_output_size(8, 2, padding=2), "at most half"),
    (lambda: F.ransac_iterations(0.0, 4), r"inlier ratio must be in \(0, 1\]"),
    (lambda: F.ransac_iterations(1.2, 4), r"inlier ratio must be in \(0, 1\]"),
    (lambda: F.ransac_iterations(0.5, 4, confidence=1.0), "confidence"),
    (lambda: F.depth_from_disparity(500, 0.12, 0), "disparity must be positive"),
    (lambda: F.disparity_from_depth(500, 0.12, -1), "depth must be a positive"),
    (lambda: F.disparity_search_range(500, 0.1, 10, 1), "farthest depth"),
    (lambda: F.conv_params(30, 64, 3, groups=4), "groups"),
    (lambda: F.iou([0, 0, -1, 5], [0, 0, 1, 1]), "x2 ≥ x1"),
    (lambda: F.apply_homography(np.eye(2), [[0, 0]]), "3×3"),
    (lambda: F.apply_homography([[1, 0, 0], [0, 1, 0], [1, 0, 0]], [[0, 0]]), "infinity"),
    (lambda: F.receptive_field([(3, 0)]), "stride of layer 1"),
    (lambda: F.receptive_field([(3, 1), (5,)]), "Layer 2"),
    (lambda: F.receptive_field([(3, 1)] * 3, input_size=5), "Layer 3"),
    (lambda: F.min_inference_ms(1, 10, utilization=1.5), "at most 1"),
    # overflow and underflow of finite inputs: a sentence, never inf, 0 or a NumPy warning
    (lambda: F.min_inference_ms(1e308, 83), "too large to compute .*lower the GMACs or raise the peak TFLOPS"),
    (lambda: F.min_inference_ms(20, 1e-308), "too large to compute"),
    (lambda: F.disparity_from_depth(1e-200, 1e-200, 1e100), "too small to compute"),
    (lambda: F.apply_homography(np.full((3, 3), 1e308), [[1, 1]]), "too large to compute"),
    (lambda: F.apply_homography(np.diag([10.0, 1, 1]), [[1e308, 0]]), "too large to compute"),
    (lambda: F.apply_homography([[np.inf, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 0]]), "nine finite numbers"),
    (lambda: F.apply_homography(np.eye(3), [[np.nan, 0]]), "finite numbers"),
    (lambda: F.anchor_count([80, 40], [9]), "one anchor count per level"),
    (lambda: F.transposed_conv_output_size(4, 3, stride=2, output_padding=2), "output padding"),
])
def test_bad_input_raises_a_sentence(call, text):
    with np.errstate(all="raise"), pytest.raises(ValueError, match=text) as info:
        call()
    msg = str(info.value)
    assert msg[0].isupper() and msg.endswith(".") and "\n" not in msg


def test_results_are_exact_ints():
    for v in (F.conv_output_size(224, 3, 2, 1), F.pool_output_size(7, 2, ceil_mode=True), F.conv_params(3, 64, 7),
              F.conv_macs(56, 56, 256, 256, 3), F.activation_bytes((2, 3)), F.anchor_count(80, 9),
              F.nms_max_comparisons(10), F.ransac_iterations(0.5, 4), F.disparity_search_range(500, 0.12, 1, 30)):
        assert type(v) is int
    assert F.conv_params(10**4, 10**4, 7) == 49 * 10**8 + 10**4  # no float rounding for big numbers


# ----------------------------------------------------------------------------- receptive field
def brute_force_rf(layers, cells):
    """For every input pixel, push an impulse through an all-ones stack and record which input
    pixels each of ``cells`` (of the last layer) sees."""
    rf = F.receptive_field(layers)[-1]
    pads = sum(l[2] if len(l) > 2 else 0 for l in layers)
    n_in = rf.rf + (max(cells) + 2) * rf.jump + pads * rf.jump + 8
    seen = {c: [] for c in cells}
    for i in range(n_in):
        x = np.zeros(n_in)
        x[i] = 1.0
        for layer in layers:
            k, s = layer[0], layer[1]
            p = layer[2] if len(layer) > 2 else 0
            d = layer[3] if len(layer) > 3 else 1
            x = np_conv1d(x, k, s, p, d)
        for c in cells:
            if c < len(x) and x[c] != 0:
                seen[c].append(i)
    return seen


layer_st = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 3))


@settings(max_examples=40, deadline=None)
@given(layers=st.lists(layer_st, min_size=1, max_size=4))
def test_receptive_field_equals_brute_force_impulse(layers):
    layers = [(k, s, min(p, d * (k - 1)), d) for k, s, p, d in layers]  # padding never exceeds the span
    res = F.receptive_field(layers)[-1]
    # cells far enough from the left border that their whole field lies on real pixels
    c0 = int(np.ceil((res.rf - res.start) / res.jump)) + 1
    seen = brute_force_rf(layers, [0, c0, c0 + 1])
    for c in (c0, c0 + 1):
        centre = res.start + c * res.jump
        lo, hi = centre - (res.rf - 1) / 2, centre + (res.rf - 1) / 2
        assert lo >= 0
        assert (min(seen[c]), max(seen[c])) == (lo, hi)
    # cell 0 may hang over the left border (padding): its right end is still exact
    assert max(seen[0]) == res.start + (res.rf - 1) / 2


def test_receptive_field_out_size_and_dilation():
    res = F.receptive_field([(3, 1, 2, 2), (3, 1, 4, 4)], input_size=64)
    assert [r.rf for r in res] == [5, 13]
    assert [r.out_size for r in res] == [64, 64]
    assert F.receptive_field([(3, 1)])[0].out_size is None
    assert all(r.start == 0 for r in res)  # 'same' padding keeps the first centre on pixel 0


# ----------------------------------------------------------------------------- detection, stereo, RANSAC
box = st.tuples(st.floats(-50, 50), st.floats(-50, 50), st.floats(0, 40), st.floats(0, 40)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]])


@FAST
@given(a=box, b=box)
def test_iou_symmetric_and_bounded(a, b):
    v = F.iou(a, b)
    assert 0.0 <= v <= 1.0
    assert v == pytest.approx(F.iou(b, a))
    if (a[2] - a[0]) * (a[3] - a[1]) > 0:
        assert F.iou(a, a) == pytest.approx(1.0)


def test_iou_against_rasterised_boxes():
    rng = np.random.default_rng(5)
    for _ in range(30):
        a = sorted(rng.integers(0, 40, 2)), sorted(rng.integers(0, 40, 2))
        b = sorted(rng.integers(0, 40, 2)), sorted(rng.integers(0, 40, 2))
        ma = np.zeros((40, 40), bool)
        mb = np.zeros((40, 40), bool)
        ma[a[1][0]:a[1][1], a[0][0]:a[0][1]] = True
        mb[b[1][0]:b[1][1], b[0][0]:b[0][1]] = True
        union = (ma | mb).sum()
        expected = (ma & mb).sum() / union if union else 0.0
        assert F.iou([a[0][0], a[1][0], a[0][1], a[1][1]], [b[0][0], b[1][0], b[0][1], b[1][1]]) == pytest.approx(expected)


def test_nms_worst_case_counts_greedy_loop():
    for n in range(0, 30):
        count = 0
        alive = list(range(n))
        while alive:
            alive.pop(0)
            count += len(alive)  # compare the kept box with every remaining one, suppress none
        assert F.nms_max_comparisons(n) == count


@FAST
@given(w1=st.floats(0.05, 1.0), w2=st.floats(0.05, 1.0), s=st.integers(1, 8))
def test_ransac_iterations_grows_as_inlier_ratio_falls(w1, w2, s):
    lo, hi = sorted((w1, w2))
    assert F.ransac_iterations(lo, s) >= F.ransac_iterations(hi, s)
    n = F.ransac_iterations(lo, s)
    if lo**s >= 1:
        assert n == 1
        return
    miss = math.log1p(-(lo**s))  # log P(a sample is not all inliers), precise for tiny lo**s
    assert n * miss <= math.log(0.01) * (1 - 1e-9)  # N iterations reach the confidence
    if n > 1:
        assert (n - 1) * miss > math.log(0.01) * (1 + 1e-9)  # and N-1 do not


def test_ransac_all_inliers_needs_one_sample():
    assert F.ransac_iterations(1.0, 4) == 1


def test_stereo_round_trip_and_uncertainty():
    for z in (0.5, 2.0, 7.0, 40.0):
        d = F.disparity_from_depth(700, 0.1, z)
        assert F.depth_from_disparity(700, 0.1, d) == pytest.approx(z)
        zn, zf = F.depth_uncertainty(700, 0.1, z)
        assert zn < z < zf
    assert F.depth_uncertainty(500, 0.12, 100)[1] == math.inf  # d = 0.6 px < 1 px error


def test_apply_homography_matches_opencv():
    import cv2

    rng = np.random.default_rng(2)
    H = np.array([[1.1, 0.05, 3.0], [-0.02, 0.95, 1.0], [1e-4, 2e-4, 1.0]])
    pts = rng.random((20, 2)) * 100
    ref = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), H).reshape(-1, 2)
    np.testing.assert_allclose(F.apply_homography(H, pts), ref, rtol=1e-9)


# ----------------------------------------------------------------------------- the workbook
# ../shared/reference/cv-formulas-workbook.txt, problem by problem (line numbers of that file).
# Values are computed by the formulas; where the text is wrong the comment says so.

def test_workbook_convolution_sizes():
    assert F.conv_output_size(5, 3) == 3                       # l.3
    assert F.conv_output_size(32, 3) == 30                     # l.5
    assert F.conv_output_size(224, 3, 2, 1) == 112             # l.7
    chain = [224]
    for _ in range(5):
        chain.append(F.conv_output_size(chain[-1], 3, 2, 1))
    assert chain == [224, 112, 56, 28, 14, 7]                  # l.8
    assert F.same_padding(5) == 2                              # l.12
    assert [F.same_padding(k) for k in (3, 5, 7)] == [1, 2, 3]  # l.14


def test_workbook_parameters_and_memory():
    assert F.conv_params(64, 128, 3) == 73_856                 # l.15 ("73K": right)
    # l.30: "three 3×3 use 45% fewer parameters than one 7×7": 27 vs 49 weights per channel pair
    assert 1 - 3 * F.conv_params(1, 1, 3, bias=False) / F.conv_params(1, 1, 7, bias=False) == pytest.approx(0.449, abs=1e-3)
    b = F.linear_params(7 * 7 * 2048, 1000)                    # l.36 approach B
    a = F.linear_params(2048, 1000)                            # l.36 approach A
    assert (a, b) == (2_049_000, 100_353_000)
    assert b - a == 98_304_000                                 # l.38 "saves ~98.3M": right
    assert b / a == pytest.approx(48.98, abs=0.01)             # l.38 "a 49x reduction": right (rounded)
    assert F.activation_bytes((56, 56, 256)) == 3_211_264      # l.39: 3.06 MiB
    std = F.conv_params(256, 256, 3, bias=False)
    dws = F.depthwise_separable_params(256, 256, 3)
    assert (std, dws) == (589_824, 67_840)                     # l.41
    assert std / dws == pytest.approx(8.69, abs=0.01)          # l.42 "close to our 8.7": right


def test_workbook_receptive_fields():
    assert F.receptive_field([(3, 1)] * 3)[-1].rf == 7                      # l.21
    assert F.receptive_field([(3, 2), (3, 1), (3, 1)])[-1].rf == 11         # l.24-25
    # l.26: conv1 7×7/2, maxpool 3×3/2, three 3×3/1 convs -> 35 (the text's 35×35 is right)
    assert F.receptive_field([(7, 2, 3), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)])[-1].rf == 35
    assert F.receptive_field([(3, 1, 2, 2)])[-1].rf == 5                    # l.29: dilation 2 spans 5×5


def test_workbook_pooling_and_gap():
    x = np.arange(16, dtype=float).reshape(4, 4)
    assert x.reshape(2, 2, 2, 2).max(axis=(1, 3)).shape == (F.pool_output_size(4, 2),) * 2  # l.32-33
    assert F.pool_output_size(7, 7) == 1                       # l.34: GAP on 7×7 = a 7×7 pool -> [1, 1, 2048]
    sizes = [256]
    for _ in range(4):
        sizes.append(F.pool_output_size(sizes[-1], 2))
    assert sizes == [256, 128, 64, 32, 16]                     # l.87-88


def test_workbook_anchors():
    assert F.anchor_count(32, 9) == 9_216                      # l.45 (text l.51 "~9K": right)
    assert F.anchor_count([100, 50, 25, 13, 7], 9) == 120_087  # l.46 "9 × 13,343 = ~120K": right
    total = F.anchor_count([80, 40, 20, 10, 5], 9)
    assert total == 76_725                                     # l.52 (l.53 "~77K": right)
    # l.53 says "~84% of anchors come from P3 alone": WRONG, P3 holds 6400/8525 = 75.1%.
    assert F.anchor_count(80, 9) / total == pytest.approx(0.7507, abs=1e-4)
    assert F.anchor_count([80, 40, 20], 1) == 8_400            # l.119
    assert F.anchor_count([80, 40, 20], 9) == 75_600           # l.120


def test_workbook_iou_and_nms():
    assert F.iou([0, 0, 10, 10], [5, 5, 15, 15]) == pytest.approx(25 / 175)  # l.47-48: 0.143
    # l.54-56: without the clamp, two disjoint boxes give a positive "intersection"; ours gives 0
    assert F.iou([0, 0, 1, 1], [2, 2, 3, 3]) == 0.0
    assert F.nms_max_comparisons(200) == 19_900                # l.121
    # l.122 "0.2 ms" at 10 ns per IoU: 19 900 × 10 ns = 0.199 ms (right for N(N-1)/2; N² would be 0.4 ms)
    assert F.nms_max_comparisons(200) * 10e-9 * 1e3 == pytest.approx(0.199)
    # l.68 "with N=77K anchors ... ~3 billion IoU ops": 76 725·76 724/2 = 2.94e9 (right)
    assert F.nms_max_comparisons(76_725) == 2_943_324_450


def test_workbook_resnet50_parameters():
    """l.72-74: bottleneck stages of ResNet-50 (no bias, projection shortcut in each first block)."""
    def stage(c_in, c_mid, c_out, blocks):
        total = 0
        cin = c_in
        for b in range(blocks):
            total += F.conv_params(cin, c_mid, 1, bias=False) + F.conv_params(c_mid, c_mid, 3, bias=False)
            total += F.conv_params(c_mid, c_out, 1, bias=False)
            if b == 0:
                total += F.conv_params(cin, c_out, 1, bias=False)
            cin = c_out
        return total

    conv1 = F.conv_params(3, 64, 7, bias=False)
    s1, s2, s3, s4 = stage(64, 64, 256, 3), stage(256, 128, 512, 4), stage(512, 256, 1024, 6), stage(1024, 512, 2048, 3)
    fc = F.linear_params(2048, 1000)
    assert conv1 == 9_408                 # "9.4K"
    assert s1 == 212_992                  # "0.2M"
    assert s2 == 1_212_416                # "1.2M"
    assert s3 == 7_077_888                # l.73 the question: "7.1M"
    assert s4 == 14_942_208               # "15.0M" (14.94M; the text rounds up)
    assert conv1 + s1 + s2 + s3 + s4 + fc == 25_503_912  # "≈ 25.6M" incl. BatchNorm (torchvision: 25 557 032)


def test_workbook_macs_and_latency():
    macs = F.conv_macs(56, 56, 256, 256, 3)
    assert macs == 1_849_688_064                               # l.75
    assert 2 * macs / 1e9 == pytest.approx(3.7, abs=0.01)      # l.77 "~3.7 GFLOPs"
    # l.116: 5 stages × 6 convs, 3×3, channels [48, 96, 192, 384, 536] at [320, 160, 80, 40, 20], C_in = C_out
    per_stage = [6 * F.conv_macs(h, h, c, c, 3) for h, c in zip([320, 160, 80, 40, 20], [48, 96, 192, 384, 536])]
    assert sum(per_stage) / 1e9 == pytest.approx(57.17, abs=0.01)
    # l.118 "Stage 1 at 320×320 uses as many FLOPs as Stage 5 ... despite having 12x fewer channels":
    # WRONG on both counts: stage 1 uses 12.74 GMACs, stage 5 6.21 GMACs (2.05×), and 536/48 = 11.2×.
    assert per_stage[0] / per_stage[4] == pytest.approx(2.05, abs=0.01)
    t = F.min_inference_ms(20, 83, 0.5)
    assert t == pytest.approx(0.9639, abs=1e-4)                # l.123-125 "under 1 ms": right
    assert F.min_inference_ms(4.1, 10) == pytest.approx(1.64)
    assert sum([1, 3, 0.5, 0.5, 1]) == 6                       # l.127 budget: 6 ms ≤ 33 ms, backbone 50%


def test_workbook_upsampling_parameters():
    assert F.transposed_conv_output_size(14, 4, 2, 1) == 28    # l.85
    assert [F.transposed_conv_output_size(n, 4, 2, 1) for n in (7, 14, 28, 56)] == [14, 28, 56, 112]  # l.86
    skip = F.conv_params(512, 256, 3)
    assert skip == 1_179_904                                   # l.89
    # l.90 says the skip concatenation "quadruples the conv parameters": WRONG, doubling C_in doubles them
    assert (skip - 256) / (F.conv_params(256, 256, 3) - 256) == 2
    tconv = F.conv_params(512, 256, 4)                         # l.92 option A: a 4×4 kernel, 512 → 256
    assert (tconv, skip) == (2_097_408, 1_179_904)             # option B: bilinear (0) + 3×3 conv


def test_workbook_stereo():
    assert F.disparity_from_depth(500, 0.12, 5) == pytest.approx(12)       # l.95
    assert F.disparity_from_depth(500, 0.12, 50) == pytest.approx(1.2)     # l.96
    assert F.depth_from_disparity(500, 0.12, 8) == pytest.approx(7.5)      # l.97
    zn, zf = F.depth_uncertainty(500, 0.12, 10)                           # l.98-100
    assert (zn, zf) == (pytest.approx(60 / 7), pytest.approx(12.0))
    assert zf - zn == pytest.approx(3.43, abs=0.01)                        # "~3.4 m"
    zn, zf = F.depth_uncertainty(500, 0.12, 2)
    assert (round(zn, 2), round(zf, 2), round(zf - zn, 2)) == (1.94, 2.07, 0.13)
    assert F.disparity_search_range(500, 0.12, 1, 30) == 58                # l.102-103
    assert 640 * 480 * 58 == 17_817_600                                    # "~17.8 million": right


def test_workbook_homography_and_ransac():
    H = [[2, 0, 1], [0, 1, 0], [0, 0, 1]]
    np.testing.assert_allclose(F.apply_homography(H, [[1, 0]]), [[3, 0]])  # l.105-107
    # l.110 says "P(all 4 inliers in one draw) = 0.64": WRONG, 0.6⁴ = 0.1296; N = 34 (l.111) is right.
    assert 0.6**4 == pytest.approx(0.1296)
    assert F.ransac_iterations(0.6, 4) == 34
    # l.111 "with 80% outliers ... N = ln(0.01)/ln(1−0.24) = ~2871": WRONG twice: the sample is all
    # inliers with probability 0.2⁴ = 0.0016 (not 0.24), and N = ⌈ln 0.01 / ln 0.9984⌉ = ⌈2875.9⌉ = 2876.
    assert F.ransac_iterations(0.2, 4) == 2876


def test_workbook_quantisation():
    # l.128: 25M parameters, FP32 -> INT8: 100 MB -> 25 MB, 75 MB saved (4×)
    assert F.activation_bytes(25_000_000, 4) - F.activation_bytes(25_000_000, 1) == 75_000_000


def test_depth_has_one_implementation_under_two_names():
    """formulas.depth_from_disparity (strict, for the calculator) computes through stereo.depth_from_disparity."""
    from cvexplorer import stereo

    for f, b, d in ((500, 0.12, 8.0), (700.0, 0.1, 0.25), (3997.684, 0.19301, 136.5)):
        assert F.depth_from_disparity(f, b, d) == stereo.depth_from_disparity(d, f, b) == pytest.approx(f * b / d)
    disp = np.array([[1.0, 2.5, 8.0], [64.0, 100.0, 0.5]])
    ours = F.depth_from_disparity(700, 0.1, disp)
    np.testing.assert_array_equal(ours, stereo.depth_from_disparity(disp, 700, 0.1))
    np.testing.assert_allclose(ours, 70.0 / disp, rtol=1e-6)
    assert ours.shape == disp.shape
    # where stereo says NaN (no depth), the calculator's twin says why
    assert np.isnan(stereo.depth_from_disparity(np.array([0.0, -2.0]), 700, 0.1)).all()
    for bad in (0, -2.0, [4.0, 0.0], float("nan")):
        with pytest.raises(ValueError, match="disparity must be positive"):
            F.depth_from_disparity(700, 0.1, bad)
