"""Convolution lab panel: stepping, geometry, image mode off the GUI thread, the other modes."""

import time

import numpy as np
import pytest

from cvexplorer.conv import conv2d, conv_transpose2d, pool2d


def test_matrix_step_moves_window_and_fills_value(make_panel):
    panel = make_panel("conv")
    assert panel.mode == "matrix"
    p = panel.player()
    assert p.length == 25  # 5x5 worked example, padding 1, stride 1
    p.seek(7)
    st = p.current_step()
    assert st["out_pos"] == (1, 2)
    inp, ker, out = panel.grid.rows[0]
    # the window on the padded input: rows 1..3, cols 2..4 in padded coordinates
    marked = sorted((r, c) for r, c, *_ in inp.marks)
    assert marked == [(r, c) for r in (1, 2, 3) for c in (2, 3, 4)]
    expected = conv2d(panel.x, panel.k, padding=1)
    assert out.texts[1][2] == "10" and expected[1, 2] == 10  # the chapter's output(0,1) = 10
    assert (1, 3) in out.overlay and out.overlay[(1, 3)].alpha() == 255  # not filled yet: covered
    assert out.marks[0][:2] == (1, 2)
    assert "= 10" in panel.grid.lines[0] and "5·(−1)" in panel.grid.lines[0]
    # padding drawn as a border of zeros
    assert inp.texts[0] == ["0"] * 7 and (0, 0) in inp.bg and (2, 3) in inp.overlay
    p.step_forward()
    inp2 = panel.grid.rows[0][0]
    assert sorted((r, c) for r, c, *_ in inp2.marks)[0] == (1, 3)
    assert panel.grid.rows[0][2].texts[1][3] == str(int(expected[1, 3]))
    img = panel.grid.grab().toImage()
    assert img.width() > 100
    p.step_back()
    assert p.current_step()["out_pos"] == (1, 2)


def test_settings_update_output_size_and_invalid_reason(make_panel):
    panel = make_panel("conv")
    assert panel.card.result.text() == "5 × 5"
    panel.stride.setValue(2)
    assert panel.card.result.text() == "3 × 3" and panel.player().length == 9
    panel.padding.setValue(0)
    assert panel.card.result.text() == "2 × 2"
    panel.stride.setValue(1)
    panel.dilation.setValue(2)  # 3x3 dilated spans 5 -> 5x5 input, no padding -> 1x1
    assert panel.card.result.text() == "1 × 1"
    assert "spans 5×5" in panel.card.meaning.text()
    panel.dilation.setValue(3)  # spans 7 > 5: invalid, with the reason
    assert panel.card.has_error and "larger than the padded input" in panel.card.error.text()
    assert panel.player().length == 0 and panel.grid.message
    panel.same_btn.click()  # P = D(K-1)/2 = 3
    assert panel.padding.value() == 3 and not panel.card.has_error
    assert panel.card.result.text() == "5 × 5"
    panel.kw.setValue(2)  # rectangular 3x2 kernel
    assert panel.k.shape == (3, 2)
    panel.dilation.setValue(1)
    panel.padding.setValue(1)
    assert panel.card.result.text() == "5 × 6"
    np.testing.assert_allclose(panel.trace.final, conv2d(panel.x, panel.k, padding=1))


def test_edit_numbers_and_code(make_panel):
    panel = make_panel("conv")
    panel.input_edit.setPlainText("1 2 3\n4 5 6\n7 8 9")
    panel.kernel_edit.setPlainText("1 0\n0 -1")
    panel.padding.setValue(0)
    panel.apply_btn.click()
    assert panel.card.result.text() == "2 × 2"
    np.testing.assert_allclose(panel.trace.final, [[-4, -4], [-4, -4]])
    panel.kernel_edit.setPlainText("1 x")
    panel.apply_btn.click()
    assert panel.card.has_error
    code = panel.code()
    assert "F.conv2d" in code["PyTorch"] and "einsum" in code["NumPy"]
    ns = {}
    exec(code["NumPy"].replace("print(y)", ""), ns)  # the NumPy snippet runs and gives the same numbers
    np.testing.assert_allclose(ns["y"], panel.trace.final)
    panel.code_btn.click()
    assert panel.code_dialog.isVisible()
    panel.code_dialog.close()


def test_rgb_pooling_transposed_modes(make_panel):
    panel = make_panel("conv")
    panel.set_mode("rgb")
    assert panel.x.shape == (4, 4, 3) and panel.k.shape == (3, 3, 3)
    panel.player().seek(5)
    st = panel.player().current_step()
    assert len(panel.grid.rows) == 2 and len(panel.grid.lines) == 4
    assert panel.grid.lines[-1].endswith(f"= {int(st['sum'])}".replace("-", "−"))
    np.testing.assert_allclose(panel.trace.final, conv2d(panel.x, panel.k, padding=1, bias=1.0))

    panel.set_mode("pooling")
    np.testing.assert_array_equal(panel.trace.final, [[6, 8], [3, 3]])
    panel.player().seek(1)
    assert "max(2, 8, 1, 4) = 8" in panel.grid.lines[0]
    panel.pool_mode.setCurrentText("avg")
    np.testing.assert_allclose(panel.trace.final, pool2d(panel.x, 2, mode="avg"))

    panel.set_mode("transposed")
    assert panel.card.result.text() == "7 × 7"  # (3-1)*2 + 3
    p = panel.player()
    p.last()
    out = panel.grid.rows[0][2]
    ref = conv_transpose2d(panel.x, panel.k, stride=2)
    assert out.texts[2][2] == str(int(ref[2, 2]))
    ov = panel.grid.rows[0][3]
    assert ov.texts[2][2] == "4" and ov.texts[1][1] == "1" and ov.texts[2][1] == "2"  # the checkerboard


def test_image_mode_large_photo_returns_control_quickly(make_panel, ctx):
    panel = make_panel("conv")
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, size=(3000, 4000, 3), dtype=np.uint8)
    t0 = time.perf_counter()
    panel.set_image(big, "big.png")
    elapsed_ms = (time.perf_counter() - t0) * 1e3
    # the work is in a worker: the request came back before the feature map exists
    assert panel.mode == "image" and panel.image_pending and ctx.workers.pending >= 1
    print(f"set_image(4000x3000) returned in {elapsed_ms:.1f} ms")
    assert panel.wait_idle(60)
    res = panel.image_result
    assert res.fmap.shape == (3000, 4000)
    assert panel.out_canvas.image_shape[:2] == (3000, 4000)
    grey = panel.trace.meta["input_shape"]
    assert grey == (3000, 4000)
    # hover: the window follows the cursor and reads out the map's value there
    panel.hover(1000.2, 500.4)
    assert panel.in_canvas.layer_items("window")
    assert panel.window_value == pytest.approx(float(res.fmap[500, 1000]))
    # the trace's step equals the fast map at that position
    st = panel.trace[500 * 4000 + 1000]
    assert st["sum"] == pytest.approx(float(res.fmap[500, 1000]), abs=1e-2)
    assert "·" in panel.img_arith.text() and "=" in panel.img_arith.text()  # the window's arithmetic
    # playing sweeps the window over a coarse raster of the whole map
    p = panel.player()
    assert 100 <= p.length <= 32 * 24
    p.last()
    assert panel.window_value == pytest.approx(float(res.fmap[2999, 3999]))
    stages = {s.stage for s in ctx.recorder.stats("conv")}
    assert {"feature map", "request → shown"} <= stages


def test_image_mode_relu_gallery_and_state(make_panel):
    panel = make_panel("conv")
    panel.restore_state({"mode": "image", "gallery": "laplacian", "relu": True})
    panel.wait_idle(30)
    assert panel.mode == "image" and panel.k[1, 1] == -4
    fmap = panel.image_result.fmap
    assert fmap.min() >= 0
    st = panel.state()
    assert st["mode"] == "image" and st["relu"] is True
    # the marker is the kernel's real footprint; "Zoom to window" shows the pixels' values under it
    panel.dilation.setValue(2)
    panel.wait_idle(30)
    panel.hover(100.3, 60.6)
    r = panel.in_canvas.layer_items("window")[0].path().boundingRect()
    assert (r.x(), r.y(), r.width(), r.height()) == (98, 59, 5, 5)  # 3 taps, 2 apart: a 5×5 footprint centred near the cursor
    assert len(panel.in_canvas.layer_items("taps")) == 1
    panel.zoom_btn.click()
    grey = panel.image_result.source
    assert panel.in_canvas.label_texts("numbers") == [str(int(grey[y, x])) for y in (59, 61, 63) for x in (98, 100, 102)]
    view = panel.in_canvas.vb.viewRect()
    assert view.contains(r) and view.width() < 20
    panel.zoom_btn.click()
    assert not panel.in_canvas.label_texts("numbers") and panel.in_canvas.vb.viewRect().width() > 500
    panel.dilation.setValue(1)
    panel.stride.setValue(2)
    panel.wait_idle(30)
    h, w = panel.image.shape[:2]
    assert panel.image_result.fmap.shape == ((h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1)
    panel.demo()
    assert panel.in_canvas.layer_items("window")


def test_image_mode_custom_kernel(make_panel):
    panel = make_panel("conv")
    panel.set_mode("image")
    panel.wait_idle(30)
    panel.kernel_edit.setPlainText("0 0\n0 2")
    panel.apply_btn.click()
    panel.wait_idle(30)
    assert panel.gallery.currentText() == "custom" and panel.k.shape == (2, 2)
    import cv2

    grey = cv2.cvtColor(panel.image, cv2.COLOR_RGB2GRAY).astype(float)
    fmap = panel.image_result.fmap
    # padding 1 with a 2x2 kernel: output (H+1)x(W+1); y[i, j] = 2 * x[i, j] (the tap at (1, 1) minus padding 1)
    assert fmap.shape == (grey.shape[0] + 1, grey.shape[1] + 1)
    np.testing.assert_allclose(fmap[:-1, :-1], 2 * grey, atol=1e-3)


def test_grid_titles_never_overlap(make_panel):
    panel = make_panel("conv")
    for mode in ("matrix", "rgb", "pooling", "transposed"):
        panel.set_mode(mode)
        panel.player().seek(1)
        panel.grid.repaint()
        rects = list(panel.grid.title_rects.values())
        assert len(rects) == sum(len(row) for row in panel.grid.rows)
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                assert not a.intersects(b), (mode, a, b)
