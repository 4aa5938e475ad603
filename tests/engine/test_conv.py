"""cvexplorer.conv: fast (OpenCV) and teaching (NumPy) paths against direct loop definitions."""

import cv2
import numpy as np
import pytest

from cvexplorer import formulas
from cvexplorer.conv import (KERNELS, conv2d, conv2d_trace, conv_geometry, conv_transpose2d,
                             conv_transpose2d_trace, pool2d, pool2d_trace)


def loop_conv(x, k, s=(1, 1), p=(0, 0), d=(1, 1), bias=0.0):
    x = np.asarray(x, float)
    k = np.asarray(k, float)
    if x.ndim == 2:
        x, k = x[..., None], k[..., None]
    H, W, C = x.shape
    kh, kw = k.shape[:2]
    xp = np.zeros((H + 2 * p[0], W + 2 * p[1], C))
    xp[p[0]:p[0] + H, p[1]:p[1] + W] = x
    oh = (H + 2 * p[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (W + 2 * p[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            acc = bias
            for a in range(kh):
                for b in range(kw):
                    for c in range(C):
                        acc += k[a, b, c] * xp[i * s[0] + a * d[0], j * s[1] + b * d[1], c]
            out[i, j] = acc
    return out


def loop_pool(x, k, s, p, mode):
    H, W = x.shape
    xp = np.full((H + 2 * p, W + 2 * p), -np.inf if mode == "max" else 0.0)
    xp[p:p + H, p:p + W] = x
    oh = (H + 2 * p - k) // s + 1
    ow = (W + 2 * p - k) // s + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            w = xp[i * s:i * s + k, j * s:j * s + k]
            out[i, j] = w.max() if mode == "max" else w.mean()
    return out


def loop_transpose(x, k, s, p, op):
    H, W = x.shape
    kh, kw = k.shape
    full = np.zeros(((H - 1) * s + kh + op, (W - 1) * s + kw + op))
    for i in range(H):
        for j in range(W):
            full[i * s:i * s + kh, j * s:j * s + kw] += x[i, j] * k
    oh, ow = full.shape[0] - 2 * p, full.shape[1] - 2 * p
    return full[p:p + oh, p:p + ow]


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_conv2d_equals_filter2d_for_odd_kernels(name, dtype):
    rng = np.random.default_rng(1)
    img = (rng.random((37, 53)) * 255).astype(dtype)
    k = KERNELS[name]
    ref = cv2.filter2D(img.astype(np.float64), cv2.CV_64F, k, borderType=cv2.BORDER_CONSTANT)
    for method in ("opencv", "numpy"):
        ours = conv2d(img, k, padding=1, method=method)
        np.testing.assert_allclose(ours, ref, atol=1e-9)


@pytest.mark.parametrize("kh,kw", [(5, 5), (3, 7), (7, 3), (11, 11), (13, 5)])
def test_conv2d_same_matches_filter2d_with_anchor(kh, kw):
    rng = np.random.default_rng(kh * 31 + kw)
    img = rng.normal(size=(40, 45))
    k = rng.normal(size=(kh, kw))
    ref = cv2.filter2D(img, cv2.CV_64F, k, borderType=cv2.BORDER_CONSTANT)  # anchor = centre
    np.testing.assert_allclose(conv2d(img, k, padding=(kh // 2, kw // 2), method="opencv"), ref, atol=1e-9)
    # "valid" (no padding): filter2D with the anchor at the top-left corner, cropped.
    ref_valid = cv2.filter2D(img, cv2.CV_64F, k, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    ref_valid = ref_valid[: 40 - kh + 1, : 45 - kw + 1]
    np.testing.assert_allclose(conv2d(img, k, method="opencv"), ref_valid, atol=1e-9)


def test_conv2d_random_shapes_strides_paddings_dilations_equal_loop():
    rng = np.random.default_rng(7)
    n = 0
    while n < 60:
        H, W = rng.integers(1, 14, size=2)
        kh, kw = rng.integers(1, 6, size=2)
        s = tuple(rng.integers(1, 4, size=2))
        p = tuple(rng.integers(0, 5, size=2))
        d = tuple(rng.integers(1, 4, size=2))
        C = int(rng.integers(0, 4))
        x = rng.normal(size=(H, W, C) if C else (H, W))
        k = rng.normal(size=(kh, kw, C) if C else (kh, kw))
        try:
            g = conv_geometry(x.shape, k.shape, stride=s, padding=p, dilation=d)
        except ValueError:
            with pytest.raises(ValueError):
                conv2d(x, k, stride=s, padding=p, dilation=d)
            continue
        ref = loop_conv(x, k, s, p, d, bias=0.5)
        assert g["out"] == (formulas.conv_output_size(H, kh, s[0], p[0], d[0]),
                            formulas.conv_output_size(W, kw, s[1], p[1], d[1]))
        for method in ("numpy", "opencv"):
            ours = conv2d(x, k, stride=s, padding=p, dilation=d, bias=0.5, method=method)
            assert ours.shape == ref.shape == g["out"]
            assert ours.dtype == np.float64
            np.testing.assert_allclose(ours, ref, atol=1e-9)
        n += 1


def test_float32_photo_path_close_to_float64():
    rng = np.random.default_rng(3)
    img = (rng.random((120, 160)) * 255).astype(np.uint8)
    a = conv2d(img, KERNELS["sobel x"], padding=1, method="opencv", dtype=np.float32)
    b = conv2d(img, KERNELS["sobel x"], padding=1, method="numpy")
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_invalid_settings_say_why():
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(np.zeros((3, 3)), np.ones((5, 5)))
    with pytest.raises(ValueError, match="channels"):
        conv2d(np.zeros((3, 3, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="stride"):
        conv2d(np.zeros((3, 3)), np.ones((2, 2)), stride=0)


def test_inputs_not_mutated():
    x = np.arange(25.0).reshape(5, 5)
    k = np.ones((3, 3))
    x0, k0 = x.copy(), k.copy()
    conv2d(x, k, padding=2, dilation=2, method="opencv")
    conv2d(x, k, padding=2, dilation=2, method="numpy")
    assert np.array_equal(x, x0) and np.array_equal(k, k0)


def test_workbook_example_output_size():
    # 3x3 kernel on 5x5, no padding, stride 1 -> 3x3; 224, k3, s2, p1 -> 112.
    assert conv2d(np.zeros((5, 5)), np.ones((3, 3))).shape == (3, 3)
    assert conv_geometry((224, 224), (3, 3), stride=2, padding=1)["out"] == (112, 112)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool2d_equals_loop(mode):
    rng = np.random.default_rng(5)
    for _ in range(25):
        H, W = rng.integers(2, 12, size=2)
        H = W = int(max(H, W))
        k = int(rng.integers(1, 4))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, k // 2 + 1))
        if k > H + 2 * p:
            continue
        x = rng.normal(size=(H, W))
        ours = pool2d(x, k, stride=s, padding=p, mode=mode)
        np.testing.assert_allclose(ours, loop_pool(x, k, s, p, mode))
        assert ours.shape[0] == formulas.pool_output_size(H, k, stride=s, padding=p)


def test_pool2d_workbook_example():
    x = np.array([[1, 3, 2, 8], [6, 0, 1, 4], [3, 1, 0, 2], [2, 0, 3, 1]])
    assert pool2d(x, 2).tolist() == [[6, 8], [3, 3]]
    assert pool2d(np.dstack([x, -x]), 2)[..., 0].tolist() == [[6, 8], [3, 3]]


def test_conv_transpose_equals_loop_and_formula():
    rng = np.random.default_rng(9)
    for _ in range(30):
        H, W = (int(v) for v in rng.integers(1, 7, size=2))
        kh = int(rng.integers(1, 5))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, 3))
        op = int(rng.integers(0, s))
        x = rng.normal(size=(H, H))
        k = rng.normal(size=(kh, kh))
        try:
            n = formulas.transposed_conv_output_size(H, kh, stride=s, padding=p, output_padding=op)
        except ValueError:
            continue
        ours = conv_transpose2d(x, k, stride=s, padding=p, output_padding=op)
        assert ours.shape == (n, n)
        np.testing.assert_allclose(ours, loop_transpose(x, k, s, p, op), atol=1e-12)
    # the "doubling" recipe K=4, S=2, P=1
    assert conv_transpose2d(np.ones((14, 14)), np.ones((4, 4)), stride=2, padding=1).shape == (28, 28)


def test_conv_transpose_is_adjoint_of_conv():
    # <conv(x), y> == <x, conv_transpose(y)>: the transposed convolution is the true transpose.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(7, 7))
    k = rng.normal(size=(3, 3))
    y = conv2d(x, k, stride=2, padding=1)
    g = rng.normal(size=y.shape)
    xt = conv_transpose2d(g, k, stride=2, padding=1)
    assert xt.shape == x.shape
    assert np.isclose((y * g).sum(), (x * xt).sum())


def test_conv_trace_final_and_steps():
    rng = np.random.default_rng(4)
    x = rng.integers(-3, 4, size=(6, 7)).astype(float)
    k = rng.integers(-2, 3, size=(3, 2)).astype(float)
    t = conv2d_trace(x, k, stride=(2, 1), padding=1, dilation=(1, 2), bias=1.0)
    fast = conv2d(x, k, stride=(2, 1), padding=1, dilation=(1, 2), bias=1.0)
    np.testing.assert_array_equal(t.final, fast)
    rebuilt = np.array([t[i]["sum"] for i in range(len(t))]).reshape(fast.shape)
    np.testing.assert_allclose(rebuilt, fast)
    s0 = t[0]
    assert s0["out_pos"] == (0, 0)
    assert s0["in_padding"][0].all()  # the top row of the first window lies in the padding
    assert list(s0["rows"]) == [-1, 0, 1] and list(s0["cols"]) == [-1, 1]
    assert np.allclose(s0["products"], s0["values"] * k)


def test_rgb_trace_channel_sums():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 5, size=(4, 4, 3)).astype(float)
    k = rng.integers(-1, 2, size=(3, 3, 3)).astype(float)
    t = conv2d_trace(x, k, padding=1, bias=2.0)
    st = t[5]
    assert st["channel_sums"].shape == (3,)
    assert np.isclose(st["channel_sums"].sum() + 2.0, st["sum"])
    np.testing.assert_allclose(t.final, loop_conv(x, k, p=(1, 1), bias=2.0))


def test_pool_and_transpose_traces_final_equal_fast():
    x = np.arange(25.0).reshape(5, 5) % 7
    t = pool2d_trace(x, 3, stride=2, padding=1, mode="max")
    np.testing.assert_array_equal(t.final, pool2d(x, 3, stride=2, padding=1))
    assert np.array_equal(np.array([s["result"] for s in t]).reshape(t.final.shape), t.final)
    t = pool2d_trace(x, 2, mode="avg")
    assert np.allclose(np.array([s["result"] for s in t]).reshape(t.final.shape), t.final)
    k = np.arange(9.0).reshape(3, 3)
    tt = conv_transpose2d_trace(x[:3, :3], k, stride=2)
    np.testing.assert_allclose(tt[len(tt) - 1]["partial"], tt.final)
    np.testing.assert_allclose(tt.final, conv_transpose2d(x[:3, :3], k, stride=2))
    ov = tt.meta["overlap"]
    assert ov.shape == (7, 7) and ov.max() == 4 and ov.min() == 1
    assert ov[2, 2] == 4 and ov[1, 1] == 1 and ov[2, 1] == 2  # the checkerboard for K=3, S=2


# -- pooling with ceil_mode and dilation, against PyTorch's rules ------------------------------------------
def torch_pool_ref(x, k, s, p, d, ceil_mode, mode):
    """A direct loop over PyTorch's documented rules (pooling_output_shape, AvgPool2d's divisor)."""
    H, W = x.shape

    def osize(n):
        num = n + 2 * p - d * (k - 1) - 1 + ((s - 1) if ceil_mode else 0)
        o = num // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        return o

    oh, ow = osize(H), osize(W)
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - p, j * s - p
            taps = [(r0 + a * d, c0 + b * d) for a in range(k) for b in range(k)]
            inside = [x[r, c] for r, c in taps if 0 <= r < H and 0 <= c < W]
            if mode == "max":
                out[i, j] = max(inside, default=-np.inf)  # every tap in the padding: PyTorch gives -inf
            else:
                pool = (min(r0 + k, H + p) - r0) * (min(c0 + k, W + p) - c0)
                out[i, j] = sum(inside) / pool
    return out


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool2d_ceil_mode_and_dilation_follow_pytorch(mode):
    rng = np.random.default_rng(11)
    n = 0
    while n < 60:
        H = int(rng.integers(1, 10))
        k = int(rng.integers(1, 5))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, k // 2 + 1))
        d = int(rng.integers(1, 4)) if mode == "max" else 1
        ceil = bool(rng.integers(0, 2))
        if d * (k - 1) + 1 > H + 2 * p:  # no full window (see the xfail below for ceil mode)
            continue
        x = rng.normal(size=(H, H + 1))
        ref = torch_pool_ref(x, k, s, p, d, ceil, mode)
        ours = pool2d(x, k, stride=s, padding=p, dilation=d, ceil_mode=ceil, mode=mode)
        assert ours.shape == ref.shape, (H, k, s, p, d, ceil)
        np.testing.assert_allclose(ours, ref, atol=1e-12)
        t = pool2d_trace(x, k, stride=s, padding=p, dilation=d, ceil_mode=ceil, mode=mode)
        np.testing.assert_allclose(np.array([st["result"] for st in t]).reshape(ours.shape), ours, atol=1e-12)
        n += 1


def test_pool2d_hand_cases():
    row = np.array([[1.0, 2, 3, 4, 5]])
    # k=2, s=2 on 5: floor gives 2 windows, ceil a third, partial one (only x[4]; avg divides by 1)
    assert pool2d(row, (1, 2)).tolist() == [[2, 4]]
    assert pool2d(row, (1, 2), ceil_mode=True).tolist() == [[2, 4, 5]]
    assert pool2d(row, (1, 2), ceil_mode=True, mode="avg").tolist() == [[1.5, 3.5, 5]]
    # AvgPool1d(3, 2, padding=1, ceil_mode=True) on 1..6: the last window is [6, pad] -> 6/2 (padding counts)
    six = np.arange(1.0, 7.0)[None]
    assert pool2d(six, (1, 3), stride=(1, 2), padding=(0, 1), ceil_mode=True, mode="avg").tolist() == [[1, 3, 5, 3]]
    # dilation 2 reads every other pixel: windows {0,2,4}, {1,3,5}, {2,4,6}
    x = np.array([[5.0, 0, 1, 9, 2, 0, 3]])
    assert pool2d(x, (1, 3), stride=1, dilation=(1, 2)).tolist() == [[5, 9, 3]]
    with pytest.raises(ValueError, match="dilation"):
        pool2d(x, (1, 3), dilation=2, mode="avg")
    with pytest.raises(ValueError, match="half the window"):
        pool2d(x, 2, padding=2)


def test_pool2d_ceil_mode_window_larger_than_input():  # PyTorch: MaxPool2d(2, ceil_mode=True) on 1×1 gives 1×1
    assert pool2d(np.array([[7.0]]), 2, ceil_mode=True).tolist() == [[7.0]]


def test_max_pool_equals_cv2_dilate_with_a_dilated_element():
    rng = np.random.default_rng(12)
    for k, s, d, p, ceil in [(3, 2, 1, 1, True), (2, 2, 2, 0, False), (3, 1, 2, 1, False), (3, 2, 2, 1, True)]:
        x = rng.normal(size=(23, 31)).astype(np.float32)
        ours = pool2d(x, k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        span = d * (k - 1) + 1
        xp = np.pad(x, ((p, p + span), (p, p + span)), constant_values=-np.inf)
        element = np.zeros((span, span), np.uint8)
        element[::d, ::d] = 1
        ref = cv2.dilate(xp, element, anchor=(0, 0))[::s, ::s][: ours.shape[0], : ours.shape[1]]
        np.testing.assert_array_equal(ours, ref)


def test_conv_transpose_dilation_equals_loop_and_is_adjoint():
    rng = np.random.default_rng(13)
    for _ in range(20):
        H, k, s, d = (int(v) for v in (rng.integers(1, 6), rng.integers(1, 4), rng.integers(1, 3), rng.integers(1, 4)))
        p = int(rng.integers(0, 2))
        x, w = rng.normal(size=(H, H)), rng.normal(size=(k, k))
        try:
            n = formulas.transposed_conv_output_size(H, k, stride=s, padding=p, dilation=d)
        except ValueError:
            continue
        ours = conv_transpose2d(x, w, stride=s, padding=p, dilation=d)
        full = np.zeros(((H - 1) * s + d * (k - 1) + 1,) * 2)
        for i in range(H):
            for j in range(H):
                for a in range(k):
                    for b in range(k):
                        full[i * s + a * d, j * s + b * d] += x[i, j] * w[a, b]
        assert ours.shape == (n, n)
        np.testing.assert_allclose(ours, full[p:p + n, p:p + n], atol=1e-12)
    # <conv(x), g> == <x, conv_transpose(g)> with the same stride, padding and dilation
    x, w = rng.normal(size=(9, 9)), rng.normal(size=(3, 3))
    y = conv2d(x, w, stride=2, padding=2, dilation=2)
    g = rng.normal(size=y.shape)
    xt = conv_transpose2d(g, w, stride=2, padding=2, dilation=2)
    assert xt.shape == x.shape and np.isclose((y * g).sum(), (x * xt).sum())
    t = conv_transpose2d_trace(g, w, stride=2, padding=2, dilation=2)
    np.testing.assert_allclose(t[len(t) - 1]["partial"], xt)
    assert conv_transpose2d(np.array([[1.0, 2.0]]), np.ones((1, 2)), dilation=2).tolist() == [[1, 2, 1, 2]]


# -- image mode's job and the lab's sentences --------------------------------------------------------------
def test_signed_maxabs_pool_keeps_signed_extremes():
    from cvexplorer.conv import signed_maxabs_pool

    a = np.random.default_rng(1).normal(size=(31, 44)).astype(np.float32)
    for f in (1, 2, 3):
        r = signed_maxabs_pool(a, f)
        # partial blocks are completed with their edge values: ⌈31/f⌉ × ⌈44/f⌉ blocks
        e = np.pad(a, ((0, -31 % f), (0, -44 % f)), mode="edge")
        b = e.reshape(e.shape[0] // f, f, e.shape[1] // f, f)
        mx, mn = b.max(axis=(1, 3)), b.min(axis=(1, 3))
        np.testing.assert_array_equal(r, np.where(mx >= -mn, mx, mn) if f > 1 else a)
    assert signed_maxabs_pool(a[:1], 3).shape == (1, 15)  # a one-row strip still shows


@pytest.mark.parametrize("channels", ["grey", "rgb"])
def test_feature_map_equals_conv2d_and_its_trace(channels):
    from cvexplorer.conv import feature_map

    rgb = np.random.default_rng(2).integers(0, 256, size=(90, 130, 3), dtype=np.uint8)
    k = KERNELS["laplacian"]
    r = feature_map(rgb, k, channels=channels, stride=2, padding=1, relu=True, max_display=50)
    src = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if channels == "grey" else rgb
    kk = k if channels == "grey" else np.repeat(k[..., None], 3, axis=2) / 3
    ref = np.maximum(conv2d(src, kk, stride=2, padding=1), 0)
    np.testing.assert_allclose(r.fmap, ref, atol=1e-3)
    assert not r.fmap.flags.writeable and r.trace.final is r.fmap and r.in_shape == (90, 130)
    assert r.trace[7 * r.fmap.shape[1] + 9]["sum"] == pytest.approx(float(ref[7, 9]) if ref[7, 9] > 0
                                                                   else r.trace[7 * r.fmap.shape[1] + 9]["sum"])
    lo, hi = r.levels
    assert lo == -hi and hi > 0
    assert max(r.shown_in.shape[:2]) <= 50 and max(r.shown_out.shape) <= 50
    assert set(r.timings) == {"to grey", "feature map", "display copies"}


@pytest.mark.parametrize("channels, stride, padding, dilation", [
    ("grey", 1, 1, 1), ("grey", 1, 4, 2), ("grey", 1, 0, 1), ("grey", 2, 3, 1), ("grey", 1, 12, 1),
    ("rgb", 1, 1, 2)])
@pytest.mark.parametrize("two_threads", [False, True])
def test_feature_map_in_bands_is_the_whole_map(channels, stride, padding, dilation, two_threads, monkeypatch):
    """Image mode computes the map and its display copy band by band, a large map's two halves on two
    threads; small bands (and paddings wider than the kernel, 'valid' convolutions, strides,
    dilations), one run or two, give the same map and display copy."""
    import sys

    from cvexplorer.conv import feature_map, signed_maxabs_pool

    monkeypatch.setattr(sys.modules["cvexplorer.conv.feature_map"], "_BAND_BYTES", 4 * 160 * 5)
    monkeypatch.setattr(sys.modules["cvexplorer.conv.feature_map"], "_SPLIT_PIXELS", 0 if two_threads else 1 << 40)
    rgb = np.random.default_rng(3).integers(0, 256, size=(97, 150, 3), dtype=np.uint8)
    k = KERNELS["sobel x"]
    r = feature_map(rgb, k, channels=channels, stride=stride, padding=padding, dilation=dilation, max_display=40)
    src = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if channels == "grey" else rgb
    kk = k if channels == "grey" else np.repeat(k[..., None], 3, axis=2) / 3
    whole = conv2d(src, kk, stride=stride, padding=padding, dilation=dilation, method="opencv", dtype=np.float32)
    np.testing.assert_allclose(r.fmap, whole, atol=1e-4)
    f = int(np.ceil(max(whole.shape) / 40))
    np.testing.assert_allclose(r.shown_out, signed_maxabs_pool(whole, f), atol=1e-4)
    assert r.out_cover == (r.shown_out.shape[0] * f, r.shown_out.shape[1] * f)
    np.testing.assert_array_equal(r.source, src)


@pytest.mark.parametrize("padding", [1, 12])
def test_feature_map_halves_in_either_order(padding, monkeypatch):
    """The two halves of the bands may finish in any order: here the second runs to the end before
    the first starts (a band of the first half must write no row of the second's)."""
    import sys
    from concurrent.futures import Future

    from cvexplorer.conv import feature_map

    class SecondHalfFirst:
        def submit(self, fn, *args):
            done = Future()
            done.set_result(fn(*args))
            return done

    fm = sys.modules["cvexplorer.conv.feature_map"]
    monkeypatch.setattr(fm, "_BAND_BYTES", 4 * 160 * 5)
    monkeypatch.setattr(fm, "_SPLIT_PIXELS", 0)
    monkeypatch.setattr(fm, "shared_pool", SecondHalfFirst)
    rgb = np.random.default_rng(4).integers(0, 256, size=(97, 150, 3), dtype=np.uint8)
    k = KERNELS["sobel x"]
    whole = conv2d(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), k, padding=padding, method="opencv", dtype=np.float32)
    np.testing.assert_allclose(feature_map(rgb, k, padding=padding, max_display=40).fmap, whole, atol=1e-4)


def test_window_under_the_cursor_and_its_footprint():
    from cvexplorer.conv import window_at, window_under

    g = conv_geometry((3000, 4000), (3, 3), padding=1)
    w = window_under(1000.2, 500.4, g)
    assert w.out_pos == (500, 1000) and (w.x0, w.y0, w.x1, w.y1) == (999, 499, 1002, 502)
    g = conv_geometry((20, 20), (3, 3), stride=2, padding=2, dilation=3)  # footprint 7×7, taps every 3rd pixel
    w = window_at((1, 2), g)
    assert (w.y0, w.y1) == (0, 7) and w.taps_x == (2, 5, 8)
    assert window_under(-50, 99, g).out_pos == (g.out[0] - 1, 0)  # clamped to the map


def test_output_size_card_and_the_shared_axis_derivation():
    from cvexplorer.conv import conv_size_derivation, output_size

    o = output_size("conv", (5, 5), (3, 3), padding=0, dilation=2)
    assert o.result == "1 × 1" and "spans 5×5" in o.meaning and "D(K−1)" in o.formula
    assert output_size("pool", (4, 4), (2, 2), stride=2).shape == (2, 2)
    assert output_size("transposed", (3, 3), (3, 3), stride=2).result == "7 × 7"
    with pytest.raises(ValueError, match="larger than the padded input"):
        output_size("conv", (5, 5), (3, 3), dilation=3)
    for n, k, s, p, d in [(224, 3, 2, 1, 1), (7, 3, 1, 0, 2), (32, 5, 1, 2, 1)]:
        assert conv_size_derivation(n, k, s, p, d).value == formulas.conv_output_size(n, k, s, p, d)


def test_sized_gaussian_equals_opencv():
    from cvexplorer.conv import sized_kernel

    for kh, kw in [(3, 3), (5, 3), (1, 7), (9, 9)]:
        ref = cv2.getGaussianKernel(kh, -1) @ cv2.getGaussianKernel(kw, -1).T
        np.testing.assert_allclose(sized_kernel("gaussian", (kh, kw)), ref, atol=1e-12)
