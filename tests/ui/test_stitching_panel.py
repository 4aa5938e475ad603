"""The stitching panel: matches drawn in two colours, RANSAC step-through, blend, panorama, manual DLT."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cvexplorer import homography as hg


@pytest.fixture
def panel(make_panel):
    return make_panel("stitching", size=(1600, 1000))


def test_default_view_shows_matches_and_verdict(panel):
    r = panel.pair_result
    assert r is not None and r.reliable
    c = panel.match_canvas
    assert c.layer_items("inliers") and c.layer_items("keypoints")
    # inlier and outlier lines use different colours
    if c.layer_items("outliers"):
        assert c.layer_items("inliers")[0].pen().color() != c.layer_items("outliers")[0].pen().color()
    assert f"{r.n_inliers} inliers" in panel.stats.text()
    assert "reliable" in panel.verdict.text()
    # the estimate agrees with the known homography of the built-in pair
    h, w = panel.images[0].shape[:2]
    grid = hg.grid_points(w, h, 20)
    assert np.linalg.norm(hg.project(r.H, grid) - hg.project(panel.true_H, grid), axis=1).mean() < 2.0


def test_ransac_step_through(panel):
    t = panel.trace
    assert t is not None and panel.player().length == len(t)
    H, mask = t.final
    assert np.array_equal(mask, panel.pair_result.inliers)
    panel.go_to_step(2)
    assert panel.tabs.tabText(panel.tabs.currentIndex()) == "RANSAC"
    st = t[2]
    c = panel.ransac_canvas
    if not st.degenerate:
        assert len(c.layer_items("sample-points")) == 1
        assert c.layer_items("sample")
    assert panel.ransac_plot.bound_line.value() == st.bound
    assert panel.ransac_plot.iter_line.value() == st.iteration
    assert "iteration 3" in panel.player().caption.text()
    panel.player().last()
    assert "refine" in panel.player().caption.text()


def test_blend_modes_and_panorama(panel, qtbot):
    panel.tabs.setCurrentIndex(2)
    for k, b in enumerate(hg.BLENDS):
        panel.controls.blend.setCurrentIndex(k)
        panel.wait_idle(60)
        assert panel.blend_result is not None and panel.blend_result.coverage.max() == 2
    assert panel.warp_canvas.layer_items("seams")
    panel.demo()
    panel.wait_idle(60)
    res = panel.stitch_result
    assert res is not None and res.used == [0, 1, 2]
    assert "3 of 3 images used" in panel.stats.text()
    assert panel.pano_canvas.image_shape[1] > panel.images[0].shape[1]


def test_manual_rectification_and_degenerate_clicks(panel):
    panel.tabs.setCurrentIndex(4)
    assert panel.manual_H is not None  # pre-filled poster corners
    panel.clear_manual_points()
    assert "click corner 1" in panel.stats.text()
    left = int(Qt.MouseButton.LeftButton.value)
    for x, y in ((100, 100), (200, 200), (300, 300), (100, 300)):  # three on a line: clicks on the canvas
        panel.manual_canvas.clicked.emit(x, y, left, 0)
    assert panel.manual_H is None and "one line" in panel.warning.text()
    panel.controls.clear_btn.click()
    assert panel.manual_points == []
    panel.manual_canvas.clicked.emit(5, 5, int(Qt.MouseButton.RightButton.value), 0)  # not a corner
    assert panel.manual_points == []
    quad = [(120, 80), (600, 120), (560, 520), (90, 470)]
    for x, y in quad:
        panel.add_manual_point(x, y)
    assert panel.manual_H is not None and panel.warning.text() == ""
    h, w = panel.rectified_canvas.image_shape[:2]
    assert np.allclose(hg.project(panel.manual_H, np.array(quad, float)), [[0, 0], [w, 0], [w, h], [0, h]], atol=1e-6)


def test_user_image_and_unrelated_pair_warns(panel):
    from cvexplorer.samples import get_sample

    panel.set_image(get_sample("still-life", (640, 480)), "photo.png")
    panel.wait_idle(60)
    assert panel.pair_result.reliable
    panel.set_images([get_sample("still-life", (640, 480)), get_sample("checkerboard", (640, 480))], "two")
    panel.wait_idle(60)
    assert not panel.pair_result.reliable
    assert panel.warning.text() and "not reliable" in panel.verdict.text()


def test_state_round_trip(panel, make_panel):
    panel.go_to_step(3)
    st = panel.state()
    other = make_panel("stitching")
    other.restore_state(st)
    other.wait_idle(60)
    assert other.player().index == 3 and other.state()["tab"] == "RANSAC"


def _unrelated_pair():
    from cvexplorer.samples import get_sample

    return [get_sample("still-life", (640, 480)), get_sample("checkerboard", (640, 480))]


def test_new_set_clears_the_old_panorama_at_once(panel):
    panel.demo()
    panel.wait_idle(60)
    old = panel.stitch_result
    assert old is not None and "3 of 3 images used" in panel.stats.text()
    old_shape = panel.pano_canvas.image_shape
    panel.set_images(_unrelated_pair(), "two")
    # before any result is back: no old picture, no old numbers
    assert panel.stitch_result is None
    assert panel.pano_canvas.image_shape != old_shape
    assert not any("3 images" in t for t in panel.pano_canvas.label_texts("title"))
    assert "3 of 3" not in panel.stats.text() and panel.verdict.text() == ""
    panel.wait_idle(60)
    res = panel.stitch_result
    assert res is not None and f"{len(res.used)} of 2 images used" in panel.stats.text()


def test_a_panorama_that_cannot_be_drawn_uses_no_image(panel, monkeypatch):
    def behind_camera(*_a, **_k):
        raise ValueError("a homography sends an image corner behind the camera; it cannot be warped")

    monkeypatch.setattr(hg.stitching, "warp_and_blend", behind_camera)
    panel.demo()
    panel.wait_idle(60)
    assert panel.stitch_result is not None and panel.stitch_result.panorama is None
    assert "0 of 3 images used" in panel.stats.text() and "3 of 3" not in panel.stats.text()
    assert "behind the camera" in panel.warning.text()
    assert any(t.startswith("no panorama") for t in panel.pano_canvas.label_texts("title"))


def test_matching_shows_its_stage_in_the_banner_and_can_be_cancelled(panel):
    assert panel.pair_result is not None and "reliable" in panel.verdict.text()
    stages = []
    panel.jobs.progressed.connect(lambda job, _token, stage, _f: stages.append((job, stage)))
    panel.set_images(_unrelated_pair(), "two")
    # at once: the banner says what runs, the old verdict and match lines are gone
    banner = panel.frame.banner
    assert banner.kind == "progress" and "Matching images 1 and 2" in banner.message()
    assert banner.cancel_btn.isVisibleTo(panel)
    assert panel.pair_result is None and "reliable" not in panel.verdict.text()
    assert panel.stats.text() == "matching…"
    assert not panel.match_canvas.layer_items("inliers")
    banner.cancel_btn.click()
    panel.wait_idle(60)
    assert panel.pair_result is None and banner.kind == "hint" and "Stopped" in banner.message()
    assert panel.stats.text() == "not matched"
    # a new request runs to the end, reporting each engine stage on the way
    del stages[:]
    panel.controls.ratio.setValue(0.8)
    panel.wait_idle(60)
    assert panel.pair_result is not None and banner.kind != "progress"
    # the unrelated pair stops after matching (too few matches for RANSAC)
    assert [s for j, s in stages if j == "pair"] == ["features of image 1", "features of image 2", "matching"]


def test_a_wide_sweep_shows_every_stage_of_a_turning_camera(panel, shared_data):
    from cvexplorer.imageio import load_image
    from cvexplorer.ui.panels.stitching.panel import TABS

    images = [load_image(p) for p in sorted((shared_data / "panorama" / "myself").glob("*.jpg"))]
    panel.set_images(images, "myself")
    panel.tabs.setCurrentIndex(TABS.index("Wide panorama"))
    banner = panel.frame.banner
    assert banner.kind == "progress" and "turning camera" in banner.message() and banner.cancel_btn.isVisibleTo(panel)
    panel.wait_idle(60)
    p = panel.wide.result
    assert p is not None and p.used == tuple(range(11))
    assert "11 of 11 images used" in panel.stats.text() and "focal f =" in panel.verdict.text()
    assert f"{p.fov_deg:.0f}°" in panel.verdict.text() and p.surface in panel.verdict.text()
    xs, ys = panel.residual_plot.curve.getData()
    assert len(xs) == len(p.residuals_px) >= 3
    c, w = panel.controls, panel.wide_canvas
    c.wide_stage.setCurrentIndex(0)  # the match graph: a line per trusted pair, its inliers written on it
    assert w.layer_items("edges") and len(w.label_texts("edge-labels")) == len(p.graph.pairs)
    c.wide_stage.setCurrentIndex(1)  # on the surface; the plane toggle shows the outer images flying off
    assert w.image_shape[:2] == p.preview.shape[:2]
    c.plane_check.setChecked(True)
    assert w.layer_items("outline-far") and "run off to infinity" in w.label_texts("title")[0]
    c.wide_stage.setCurrentIndex(2)  # seams and gains
    assert w.layer_items("seams") and len(w.label_texts("gains")) == 11
    c.wide_stage.setCurrentIndex(3)
    assert w.image_shape[:2] == p.image.shape[:2]
    c.crop_check.setChecked(True)
    x0, y0, x1, y1 = p.crop
    assert w.image_shape[:2] == (y1 - y0, x1 - x0)
    # a plane cannot hold it: the failure names the image and why, in the card and the banner
    c.surface.setCurrentIndex(c.surface.findData("plane"))
    panel.wait_idle(60)
    assert panel.wide.result is None and "plane cannot hold" in panel.warning.text()
    assert re.search(r"image \d+'s corners", panel.warning.text()) and banner.kind == "error"
    # Cancel in the banner stops a run
    c.surface.setCurrentIndex(c.surface.findData("cylindrical"))
    assert banner.kind == "progress"
    banner.cancel_btn.click()
    panel.wait_idle(60)
    assert panel.wide.result is None and "Stopped" in banner.message()


def test_opening_photos_by_path_loads_them_in_a_worker(make_panel, tmp_path, ctx):
    from cvexplorer.imageio import save_png
    from cvexplorer.samples import get_sample

    panel = make_panel("stitching")
    a = save_png(tmp_path / "a.png", get_sample("still-life", (320, 240)))
    b = save_png(tmp_path / "b.png", get_sample("checkerboard", (320, 240)))
    panel.open_paths([str(a), str(b)])
    assert panel.wait_idle(60)
    assert len(panel.images) == 2 and panel.source_name == "a.png, b.png"
    panel.open_paths([str(tmp_path / "missing.png")])
    assert panel.wait_idle(60)
    assert len(panel.images) == 2 and any("missing.png" in e for e in ctx.errors)
