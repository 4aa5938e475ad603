"""Stereo panel: the disparity shown is the engine's, a click gives d, Z, Z's ±1 px range and the cost curve;
a single photo, a failed pair, a swapped pair and an uncalibrated pair are each said in words."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cvexplorer import formulas
from cvexplorer import stereo as S
from cvexplorer.samples.stereo import stereo_scene


@pytest.fixture(scope="module")
def small_pair():
    return stereo_scene(size=(320, 240), seed=5)


def test_sample_disparity_click_readout_and_cost_curve(make_panel, ctx):
    panel = make_panel("stereo", size=(1600, 900))
    res = panel.result
    assert res is not None and panel.accepts_stereo
    ref = S.compute_disparity(panel.left, panel.right, num_disparities=res.num_disparities)
    np.testing.assert_allclose(res.disparity, ref, atol=1e-5)
    assert res.metrics.bad < 3.0 and "bad-2" in panel.metrics_label.full_text()
    assert "rows align" in panel.rect_label.text()
    assert panel.disp_view.to_array().std() > 10  # the map, not a blank view
    # click a pixel of the nearest object
    gt = panel.gt
    ys, xs = np.nonzero(gt >= gt.max() - 1e-3)
    x, y = int(np.median(xs)), int(np.median(ys))
    panel.disp_view.clicked.emit(float(x), float(y), 1, 0)
    assert panel.pick == (x, y)
    r = panel.readout
    d = float(res.disparity[y, x])
    assert r.d == d and abs(d - gt[y, x]) < 1.0
    f, B = panel.f_px.value(), panel.baseline.value()
    assert r.z == pytest.approx(formulas.depth_from_disparity(f, B, d)) and r.z == pytest.approx(f * B / d)
    near, far = formulas.depth_uncertainty(f, B, r.z, 1.0)
    assert r.z_near == pytest.approx(near) and r.z_far == pytest.approx(far)
    assert f"{r.z:.2f} m" in panel.card.result.text() and f"{r.z:.2f} m" in panel.views.readout.full_text()
    # the cost curve is the engine's cost row, its minimum marked
    row = S.cost_volume_row(panel.left, panel.right, y, res.num_disparities, block_size=5)[x]
    np.testing.assert_array_equal(panel.cost, row)
    assert abs(int(np.argmin(row)) - d) <= 1 and panel.costs.best == int(np.argmin(row))
    assert panel.cost_plot.getPlotItem().listDataItems()
    assert panel.right_view.layer_items("pick") and panel.left_view.layer_items("epipolar")
    assert panel.right_view.label_texts("dlabel") == [f"x − d = {x - d:.1f}"]
    assert f"{int(round(d * 16))}" in panel.trap.text()
    # changing f rescales Z without re-matching
    z0 = r.z
    panel.f_px.setValue(2 * f)
    assert panel.readout.z == pytest.approx(2 * z0)
    assert not ctx.errors


def test_the_main_view_dominates_and_the_side_views_are_readable(make_panel):
    panel = make_panel("stereo", size=(1280, 720))
    main = panel.frame.main_view
    assert main.width() * main.height() >= 0.5 * panel.width() * panel.height()
    for view in (panel.left_view, panel.right_view):
        assert view.width() >= 200 and view.height() >= 150  # was 60–100 px wide
    assert panel.disp_view.width() > panel.left_view.width()
    assert panel.cost_plot.height() >= 120 and panel.cost_plot.width() >= 500  # a plot, not a strip


def test_error_map_follows_the_theme(make_panel, ctx):
    from cvexplorer.ui.themes import THEMES

    panel = make_panel("stereo")
    panel.frame.show_secondary(panel.error_view)
    panel.apply_theme(THEMES["dark"])
    img = panel.err_view.to_array().astype(float)
    assert img.mean() < 110, img.mean()  # no glaring white slab in the dark theme
    bad = panel.result.errors.bad
    assert bad.any() and not (panel.result.errors.good & bad).any()
    assert [n for n in ("good", "bad", "unknown") if panel.err_view.layer_items(n)] == ["good", "bad", "unknown"]


def test_controls_recompute_in_worker_and_state_roundtrip(make_panel, ctx):
    panel = make_panel("stereo")
    before = panel.result.disparity.copy()
    panel.method.setCurrentIndex(panel.method.findData("teaching"))
    panel.ndisp.setValue(64)
    panel.wait_idle(60)
    res = panel.result
    assert res.settings.method == "teaching" and res.num_disparities == 64
    ref = S.compute_disparity(panel.left, panel.right, method="teaching", num_disparities=64)
    np.testing.assert_allclose(res.disparity, ref, atol=1e-5, equal_nan=True)
    assert not np.array_equal(before, res.disparity)
    st = panel.state()
    assert st["method"] == "teaching" and st["num_disparities"] == 64
    panel.method.setCurrentIndex(panel.method.findData("sgbm"))
    panel.restore_state(st)
    panel.wait_idle(60)
    assert panel.result.settings.method == "teaching"
    assert not ctx.errors


def test_user_pairs_refusals_and_success_clears_the_error(make_panel, ctx, small_pair):
    left, right, gt = small_pair
    panel = make_panel("stereo")
    panel.set_stereo_pair(left, right, "mine")
    panel.wait_idle(60)
    assert panel.result.disparity.shape == (240, 320)
    assert panel.result.metrics is None and panel.gt is None
    panel.set_ground_truth(gt)
    panel.wait_idle(60)
    assert panel.result.metrics.bad < 5
    n_err = len(ctx.errors)
    panel.set_stereo_pair(left, right[:, :300], "bad")
    assert len(ctx.errors) == n_err + 1
    assert panel.banner.kind == "error" and "same size" in panel.banner.message()
    assert panel.left.shape == (240, 320, 3)  # the pair on screen is kept
    # a later successful load takes the red banner down
    panel.set_image(np.hstack([left, right]), "sbs.png")
    panel.wait_idle(60)
    assert panel.result.disparity.shape == (240, 320)
    assert panel.banner.kind != "error" and panel.banner.message() == ""
    panel.apply_calibration({"f_px": 1000.0, "baseline": 0.2, "doffs": 3.0, "ndisp": 40})
    assert panel.ndisp.value() == 40 and panel.doffs.value() == 3.0  # as given: SGBM rounds up to 48 itself
    panel.pick_pixel(200, 120)
    r = panel.readout
    if math.isfinite(r.d):
        assert r.z == pytest.approx(1000 * 0.2 / (r.d + 3.0))


def test_a_single_photo_is_explained_in_the_banner_with_two_offers(make_panel, ctx, small_pair):
    left, right, _ = small_pair
    panel = make_panel("stereo")
    kept = panel.left
    n_err = len(ctx.errors)
    panel.set_image(left, "photo.png")
    assert len(ctx.errors) == n_err  # not an error: a normal thing to drop here
    msg = panel.banner.message()
    assert panel.banner.kind == "hint" and "photo.png is one photo" in msg and "right view" in msg
    assert panel.offers.keys() == ["right", "split"]
    assert panel.left is kept  # the pair on screen stays until the second view comes
    panel.use_right_view(right, "right.png")
    panel.wait_idle(60)
    assert np.array_equal(panel.left, left) and np.array_equal(panel.right, right)
    assert panel.offers.keys() == [] and panel.banner.message() == ""
    # a side-by-side picture too tall to be recognised: the user says "split it"
    tall_l, tall_r, _ = stereo_scene(size=(128, 240), seed=2)
    panel.set_image(np.hstack([tall_l, tall_r]), "tall.png")
    assert panel.offers.keys() == ["right", "split"]
    panel.offers.buttons["split"].click()
    panel.wait_idle(60)
    assert panel.result.disparity.shape == (240, 128) and np.array_equal(panel.right, tall_r)


def test_a_swapped_pair_is_detected_and_a_swap_offered(make_panel, ctx, small_pair):
    left, right, gt = small_pair
    panel = make_panel("stereo")
    panel.set_stereo_pair(right, left, "swapped")  # the views exchanged
    panel.wait_idle(60)
    assert panel.result.pair.swapped
    assert panel.banner.kind == "hint" and "swapped" in panel.banner.message()
    assert panel.offers.keys() == ["swap"]
    panel.offers.buttons["swap"].click()
    panel.wait_idle(60)
    assert np.array_equal(panel.left, left) and not panel.result.pair.swapped
    assert panel.offers.keys() == [] and panel.banner.message() == ""
    assert S.evaluate(panel.result.disparity, gt).bad < 5


def test_uncalibrated_pairs_say_so_next_to_every_depth(make_panel, ctx, small_pair):
    left, right, _ = small_pair
    panel = make_panel("stereo")
    assert panel.calibrated and not panel.calib_note.isVisible()  # the built-in scene's camera is known
    panel.set_stereo_pair(left, right, "mine")
    panel.wait_idle(60)
    panel.pick_pixel(200, 120)
    assert not panel.calibrated
    assert panel.calib_note.isVisible() and "placeholders" in panel.calib_note.text()
    assert panel.card_calib_btn.isVisible()
    for text in (panel.card.result.text(), panel.card.meaning.text(), panel.views.readout.full_text()):
        assert "assumed f, B" in text, text
    assert "assumed" in panel.depth_plot.unit
    panel.apply_calibration(S.Calibration(f_px=900.0, baseline=0.1))
    assert panel.calibrated and not panel.calib_note.isVisible()
    assert "assumed" not in panel.card.result.text() and "assumed" not in panel.views.readout.full_text()
    assert panel.readout.z == pytest.approx(900 * 0.1 / panel.readout.d)
    # typing f and B is a calibration too
    panel.set_stereo_pair(left, right, "mine again")
    panel.wait_idle(60)
    assert not panel.calibrated
    panel.baseline.setValue(0.3)
    assert panel.calibrated and "assumed" not in panel.card.result.text()


def test_demo_clicks_a_pixel(make_panel, ctx):
    panel = make_panel("stereo")
    panel.demo()
    assert panel.readout is not None and math.isfinite(panel.readout.z)
    assert panel.cost is not None and panel.cost_plot.getPlotItem().listDataItems()


def test_a_lesson_pick_outside_the_image_lands_on_its_edge(make_panel):
    panel = make_panel("stereo")
    h, w = panel.left.shape[:2]
    panel.restore_state({"pick": [w + 500, -40]})
    assert panel.pick == (w - 1, 0)


_CALIB = ("cam0=[1000 0 320; 0 1000 80; 0 0 1]\ncam1=[1000 0 320; 0 1000 80; 0 0 1]\ndoffs=0\nbaseline=100\n"
          "width=640\nheight=160\nndisp={ndisp}\n")


def _far_pair(shift: int, w: int = 640, h: int = 160):
    """A textured pair whose every matchable pixel has disparity ``shift`` (the right view is the left one moved)."""
    blobs = np.random.default_rng(3).integers(0, 256, (h // 4, (w + shift) // 4 + 1, 3), dtype=np.uint8)
    base = np.kron(blobs, np.ones((4, 4, 1), np.uint8))
    return np.ascontiguousarray(base[:h, :w]), np.ascontiguousarray(base[:h, shift:shift + w])


def _load_calibration(panel, qtbot, monkeypatch, path):
    """Calibration file… as the user does it: the button, then the file chosen in the dialog."""
    import cvexplorer.ui.panels.stereo.panel as stereo_panel

    monkeypatch.setattr(stereo_panel.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    qtbot.mouseClick(panel.controls.calib_btn, Qt.MouseButton.LeftButton)
    panel.wait_idle(60)


def test_a_calibration_with_more_than_256_disparities_is_searched_in_full(make_panel, ctx, qtbot, tmp_path,
                                                                          monkeypatch):
    # Middlebury's Motorcycle (and many other 2014 scenes) has ndisp=280; the control used to stop at 256
    left, right = _far_pair(270)
    panel = make_panel("stereo")
    panel.set_stereo_pair(left, right, "far")
    panel.wait_idle(60)
    calib = tmp_path / "calib.txt"
    calib.write_text(_CALIB.format(ndisp=280))
    _load_calibration(panel, qtbot, monkeypatch, calib)
    assert not ctx.errors
    assert panel.ndisp.value() == 280 and panel.f_px.value() == 1000.0
    res = panel.result
    assert res.settings.method == "sgbm" and res.num_disparities == 280 and res.searched_disparities == 288
    title = panel.views.t_disp.full_text()
    assert "0…288 px" in title and "280 rounded up to a multiple of 16" in title
    # the matcher really looked that far: the true disparity, 270 px, is found where it can be matched
    assert np.nanmedian(res.disparity[20:140, 320:620]) == pytest.approx(270, abs=1)

    panel.method.setCurrentIndex(panel.method.findData("teaching"))  # the teaching matcher searches exactly 280
    panel.wait_idle(60)
    assert panel.result.searched_disparities == 280 and "rounded" not in panel.views.t_disp.full_text()


def test_a_calibration_the_matchers_cannot_take_is_refused_and_changes_nothing(make_panel, ctx, qtbot, tmp_path,
                                                                               monkeypatch):
    panel = make_panel("stereo")
    before = (panel.ndisp.value(), panel.f_px.value(), panel.baseline.value())
    calib = tmp_path / "calib.txt"
    calib.write_text(_CALIB.format(ndisp=20000))
    _load_calibration(panel, qtbot, monkeypatch, calib)
    assert len(ctx.errors) == 1 and "\n" not in ctx.errors[0]
    assert "ndisp must be a whole number from 1 to 10,000, not '20000'" in ctx.errors[0]
    assert (panel.ndisp.value(), panel.f_px.value(), panel.baseline.value()) == before
    with pytest.raises(ValueError, match="ndisp = 20,000 is more disparities than the matchers search"):
        panel.apply_calibration({"f_px": 700.0, "baseline": 0.3, "ndisp": 20000})
    assert (panel.ndisp.value(), panel.f_px.value(), panel.baseline.value()) == before
    with pytest.raises(ValueError, match="from 0 .auto. to 10,000, not 20,000"):
        panel.restore_state({"num_disparities": 20000})
    assert panel.ndisp.value() == before[0]


def test_camera_values_the_boxes_cannot_show_are_refused_not_clamped(make_panel):
    """Issue 26: a lesson's or a dict's f, B or doffs outside the boxes' limits was clamped to the limit
    without a word, so every depth on the card was wrong. Now: one sentence, and nothing changes."""
    panel = make_panel("stereo")
    before = panel.state()
    for state, field in (({"baseline": -0.12, "ndisp": 32}, "baseline B"), ({"f_px": float("nan")}, "focal length f"),
                         ({"doffs": 1e30}, "doffs"), ({"f_px": "wide"}, "focal length f")):
        with pytest.raises(ValueError, match=field) as err:
            panel.restore_state(state)
        assert "nothing was changed" in str(err.value) and "float" not in str(err.value)
        assert panel.state() == before
    with pytest.raises(ValueError, match="focal length f = 0"):
        panel.apply_calibration({"f_px": 0.0, "baseline": 0.16, "ndisp": 64})
    assert panel.state() == before
    panel.restore_state({"f_px": 1000.0, "baseline": 0.2})  # in range: applied as given
    assert (panel.state()["f_px"], panel.state()["baseline"]) == (1000.0, 0.2)
