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
