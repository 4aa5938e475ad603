"""Stereo panel: the disparity shown is the engine's, a click gives d, Z, Z's ±1 px range and the cost curve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cvexplorer import formulas
from cvexplorer import stereo as S


def test_sample_disparity_click_readout_and_cost_curve(make_panel, ctx):
    panel = make_panel("stereo", size=(1600, 900))
    res = panel.result
    assert res is not None and panel.accepts_stereo
    ref = S.compute_disparity(panel.left, panel.right, num_disparities=res["nd"])
    np.testing.assert_allclose(res["disparity"], ref, atol=1e-5)
    assert res["metrics"]["bad"] < 3.0 and "bad-2" in panel.metrics_label.text()
    assert "rows align" in panel.rect_label.text()
    # the disparity view shows the map (not blank), the error view shows the error colours
    img = panel.disp_view.to_array()
    assert img.std() > 10
    # click a pixel of the nearest object
    gt = panel.gt
    ys, xs = np.nonzero(gt >= gt.max() - 1e-3)
    x, y = int(np.median(xs)), int(np.median(ys))
    panel.disp_view.clicked.emit(float(x), float(y), 1, 0)
    r = panel.readout
    assert (r["x"], r["y"]) == (x, y)
    d = float(res["disparity"][y, x])
    assert abs(d - gt[y, x]) < 1.0
    f, B = panel.f_px.value(), panel.baseline.value()
    assert r["z"] == pytest.approx(formulas.depth_from_disparity(f, B, d))
    near, far = formulas.depth_uncertainty(f, B, r["z"], 1.0)
    assert r["z_near"] == pytest.approx(near) and r["z_far"] == pytest.approx(far)
    # the cost curve is the engine's cost row, its minimum marked
    row = S.cost_volume_row(panel.left, panel.right, y, res["nd"], block_size=5)[x]
    np.testing.assert_array_equal(panel.cost, row)
    assert abs(int(np.argmin(row)) - d) <= 1
    assert panel.right_view.layer_items("pick") and panel.left_view.layer_items("epipolar")
    assert f"{int(round(d * 16))}" in panel.trap.text()
    # changing f rescales Z without re-matching
    z0 = r["z"]
    panel.f_px.setValue(2 * f)
    assert panel.readout["z"] == pytest.approx(2 * z0)
    assert not ctx.errors


def test_controls_recompute_in_worker_and_state_roundtrip(make_panel, ctx):
    panel = make_panel("stereo")
    before = panel.result["disparity"].copy()
    panel.method.setCurrentIndex(panel.method.findData("teaching"))
    panel.ndisp.setValue(64)
    panel.wait_idle(60)
    res = panel.result
    assert res["params"]["method"] == "teaching" and res["nd"] == 64
    ref = S.compute_disparity(panel.left, panel.right, method="teaching", num_disparities=64)
    np.testing.assert_allclose(res["disparity"], ref, atol=1e-5, equal_nan=True)
    assert not np.array_equal(before, res["disparity"])
    st = panel.state()
    assert st["method"] == "teaching" and st["num_disparities"] == 64
    panel.method.setCurrentIndex(panel.method.findData("sgbm"))
    panel.restore_state(st)
    panel.wait_idle(60)
    assert panel.result["params"]["method"] == "teaching"
    assert not ctx.errors


def test_user_pairs_and_refusals(make_panel, ctx):
    from cvexplorer.samples.stereo import stereo_scene

    panel = make_panel("stereo")
    left, right, gt = stereo_scene(size=(320, 240), seed=5)
    panel.set_stereo_pair(left, right, "mine")
    panel.wait_idle(60)
    assert panel.result["disparity"].shape == (240, 320)
    assert "metrics" not in panel.result and panel.gt is None
    panel.set_ground_truth(gt)
    panel.wait_idle(60)
    assert panel.result["metrics"]["bad"] < 5
    n_err = len(ctx.errors)
    panel.set_stereo_pair(left, right[:, :300], "bad")
    assert len(ctx.errors) == n_err + 1 and "same size" in panel.error.text()
    panel.set_image(left, "photo.png")
    assert len(ctx.errors) == n_err + 1 and "stereo pair" in panel.error.text()  # explained in the panel
    assert panel.left.shape == (240, 320, 3)  # the pair is kept
    panel.set_image(np.hstack([left, right]), "sbs.png")
    panel.wait_idle(60)
    assert panel.result["disparity"].shape == (240, 320)
    panel.apply_calibration({"f_px": 1000.0, "baseline": 0.2, "doffs": 3.0, "ndisp": 40})
    assert panel.ndisp.value() == 48 and panel.doffs.value() == 3.0
    panel.pick_pixel(200, 120)
    r = panel.readout
    if math.isfinite(r["d"]):
        assert r["z"] == pytest.approx(1000 * 0.2 / (r["d"] + 3.0))


def test_demo_clicks_a_pixel(make_panel, ctx):
    panel = make_panel("stereo")
    panel.demo()
    assert panel.readout and math.isfinite(panel.readout["z"])
    assert panel.cost is not None and panel.cost_plot.getPlotItem().listDataItems()
