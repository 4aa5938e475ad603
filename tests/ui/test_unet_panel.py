"""U-Net panel: clicking a block shows its real feature maps (count and size), skips toggle, presets."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from cvexplorer import unet as U


def _click(qtbot, panel, name):
    pt = panel.diagram.block_center(name).toPoint()
    qtbot.mouseClick(panel.diagram, Qt.MouseButton.LeftButton, pos=pt)


def test_clicking_a_block_shows_its_feature_maps(make_panel, qtbot):
    panel = make_panel("unet")
    assert panel.result is not None, "the sample ran at start-up"
    blocks = {b.name: b for b in U.shape_trace(256, **U.TINY_CONFIG)}
    for name in ("enc1", "bottleneck", "dec0"):
        _click(qtbot, panel, name)
        c, h, w = blocks[name].out_shape
        assert panel.shown_features == (name, c, h, w)
        assert len(panel.tile_rects) == c
        assert all((x1 - x0, y1 - y0) == (w, h) for x0, y0, x1, y1 in panel.tile_rects)
        shown = panel.feat_canvas.image_shape
        assert shown[0] >= h and shown[1] >= w
        assert len(panel.feat_canvas.layer_items("tiles")) == 1
        assert panel.diagram.selected == name


def test_concatenation_shows_two_halves(make_panel, qtbot):
    panel = make_panel("unet")
    _click(qtbot, panel, "cat1")
    assert panel.shown_features == ("cat1", 32, 128, 128)
    assert len(panel.tile_rects) == 32
    assert len(panel.feat_canvas.layer_items("halves")) == 1
    # the right half holds the copied encoder maps: the first copied tile equals enc1 channel 0
    x0, y0, x1, y1 = panel.tile_rects[16]
    img = panel.feat_canvas.image_item.image
    enc1 = panel.result.skip.features["enc1"]
    assert panel.half_scales[1] == float(np.abs(enc1).max())
    np.testing.assert_allclose(img[y0:y1, x0:x1], enc1[0] / panel.half_scales[1], rtol=1e-5, atol=1e-7)


def test_skip_toggle_changes_diagram_and_masks(make_panel, qtbot):
    panel = make_panel("unet")
    total_on = U.total_params(panel.blocks)
    panel.skip_box.setChecked(False)
    panel.wait_idle(30)
    assert U.total_params(panel.blocks) < total_on
    assert "cat0" not in panel.diagram.hit and "up0" in panel.diagram.hit
    res = panel.result
    assert res.skip_scores.boundary_f > res.noskip_scores.boundary_f
    assert f"F {res.skip_scores.boundary_f_exact:.2f}" in panel.mask_labels["skip"].text()
    assert f"{res.skip_scores.boundary_f_exact:.2f}" in panel.card.substituted.text()
    assert panel.zoom is not None and panel.zoom == res.zoom
    # the zoom holds the window where the two masks differ most
    x0, y0, x1, y1 = panel.zoom
    differ = (res.skip.mask > 0) != (res.noskip.mask > 0)
    assert differ[y0:y1, x0:x1].sum() > 0
    _click(qtbot, panel, "up0")
    assert panel.shown_features == ("up0", 8, 256, 256)


def test_paper_preset_and_invalid_sizes(make_panel, qtbot):
    panel = make_panel("unet")
    qtbot.mouseClick(panel.paper_btn, Qt.MouseButton.LeftButton)
    assert panel.blocks[-1].out_shape == (2, 388, 388)
    assert panel.shown_features is None  # no real maps for a configuration we did not train
    panel.size_spin.setValue(570)
    panel.wait_idle(10)
    assert panel.diagram.error and not panel.ctx.errors
    qtbot.mouseClick(panel.tiny_btn, Qt.MouseButton.LeftButton)
    assert panel.matches_model() and panel.shown_features is not None


def test_user_image_runs_without_ground_truth(make_panel, qtbot):
    panel = make_panel("unet")
    rgb = np.full((90, 130, 3), 80, np.uint8)
    rgb[30:60, 40:100] = (230, 120, 20)
    panel.set_image(rgb, "test")
    panel.wait_idle(30)
    assert panel.result.skip.mask.shape == (90, 130)
    assert panel.result.skip_scores is None and "no ground truth" in panel.card.substituted.text()
    # the diagram shows the shapes of this run (padded to a multiple of 8), not the 256×256 sample's
    blocks = {b.name: b for b in panel.blocks}
    assert blocks["enc0"].out_shape == (8, 96, 136) and panel.result.skip.features["enc0"].shape == (8, 96, 136)
    assert "generated" in panel.card.meaning.text() and panel.frame.banner.kind == "hint"


def test_state_round_trip(make_panel, qtbot):
    panel = make_panel("unet")
    panel.select_block("dec1")
    panel.base_spin.setValue(16)
    panel.wait_idle(10)
    st = panel.state()
    other = make_panel("unet")
    other.restore_state(st)
    other.wait_idle(30)
    assert other.state() == st
    assert other.blocks[-1].out_shape == panel.blocks[-1].out_shape
