"""ViT lab panel: the patch-size slider, a patch click on the tiny ViT, positions, windows, masking."""

import numpy as np
import pytest

from cvexplorer import vit as V


@pytest.fixture
def panel(make_panel):
    if not V.vit_model_path().is_file():
        pytest.skip("models/vit_tiny.onnx is not present")
    return make_panel("vit")


def test_patch_slider_updates_tokens_cost_and_matrix(panel):
    assert panel.mode == "patches"
    h, w = panel.photo.shape[:2]
    panel.patch_slider.setValue(16)
    assert panel.card.result.text() == f"{-(-h // 16) * -(-w // 16) + 1} tokens"
    t16 = panel.patch_cost.grid.tokens
    panel.patch_slider.setValue(8)
    pc = panel.patch_cost
    assert pc.grid.patch == 8 and panel.card.result.text() == f"{pc.grid.tokens} tokens"
    assert pc.reference_tokens == t16 and pc.ratio == pytest.approx(pc.grid.tokens ** 2 / t16 ** 2)
    assert 15 < pc.ratio < 16.1  # halving the patch: 4× the tokens, ~16× the attention
    assert panel.matrix.sides == (pc.grid.tokens, t16)
    assert "16-pixel patches" in panel.card.meaning.text() and "Patch size: 8 px" == panel.controls.patch_label.text()
    # the grid drawn on the picture: one vertical line per column border, one horizontal per row border
    path = panel.canvas.layer_items("grid")[0].path()
    assert path.elementCount() == 2 * (pc.grid.rows + 1 + pc.grid.cols + 1)
    panel.patch_slider.setValue(12)  # 480 is a multiple of 12 but 640 is not: padding on the right
    assert panel.patch_cost.grid.pad_right == 8 and panel.canvas.layer_items("padding")


def test_patch_click_shows_that_patch_attention(panel, qtbot):
    panel.set_mode("attention")
    panel.wait_idle(30)
    run = panel.run
    assert run is not None and panel.card.result.text().startswith(run.name)
    x0, y0, x1, y1 = panel.scene.box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    panel.canvas.clicked.emit(cx, cy, 1, 0)
    p = int(cy // 8) * 8 + int(cx // 8)
    assert panel.selected == p and panel.query_box.currentData() == "patch"
    expected, on_cls = V.attention_map(run, p, layer=run.layers - 1)
    np.testing.assert_allclose(panel.heat, expected)
    alpha = panel.canvas.layer_items("heat")[0].image[..., 3]  # opacity follows the weight
    assert alpha.shape == (8, 8) and alpha.max() == round(255 * 0.8)
    assert np.unravel_index(alpha.argmax(), alpha.shape) == np.unravel_index(expected.argmax(), expected.shape)
    assert panel.canvas.layer_items("selected") and f"{100 * on_cls:.0f} % stays on the CLS token" in \
        panel.card.meaning.text()
    panel.layer_spin.setValue(1)
    panel.head_box.setCurrentIndex(2)  # head 2
    np.testing.assert_allclose(panel.heat, V.attention_map(run, p, layer=0, head=1)[0])
    assert "layer 1" in panel.card.substituted.text() and "head 2" in panel.card.substituted.text()
    panel.query_box.setCurrentIndex(panel.query_box.findData("rollout"))
    np.testing.assert_allclose(panel.heat, V.attention_map(run, "rollout")[0])
    assert panel.probs.values == pytest.approx(tuple(run.probs))


def test_positions_windows_and_masking(panel):
    panel.set_mode("positions")
    panel.wait_idle(30)
    sim = V.pos_similarity(panel.run.pos, 8, 8)
    np.testing.assert_allclose(panel.canvas.image_item.image, V.similarity_mosaic(sim), atol=1e-6)
    panel.set_mode("windows")
    panel.sam_btn.click()
    assert panel.picture().shape[:2] == (1024, 1024) and "16.0" not in panel.card.result.text()
    assert panel.card.result.text() == "17.5× fewer pairs"
    panel.canvas.clicked.emit(20 * 16 + 3, 30 * 16 + 3, 1, 0)  # token (row 30, column 20)
    vis = panel.canvas.layer_items("visible")[0].image
    assert vis.shape[:2] == (64, 64) and (vis[..., 3] > 0).sum() == 196
    panel.window_check.setChecked(False)
    assert (panel.canvas.layer_items("visible")[0].image[..., 3] > 0).all()
    panel.set_mode("masking")
    panel.mask_slider.setValue(50)
    panel.wait_idle(30)
    m = panel.masked
    assert m.draw.hidden == 32 and "32 of 64 patches visible" in panel.card.substituted.text()
    np.testing.assert_array_equal(panel.canvas.image_item.image, m.view)
    assert np.abs(m.masked.attn[:, :, :, 1:][..., ~m.draw.visible]).max() < 1e-6


def test_users_image_feeds_the_model(panel):
    panel.set_mode("attention")
    panel.wait_idle(30)
    img = np.zeros((100, 150, 3), np.uint8)
    img[30:70, 40:90] = 255
    panel.set_image(img, "test")
    panel.wait_idle(30)
    assert panel.source_box.currentData() == "image" and panel.run.image.shape == (64, 64, 3)
    assert "shape's patches" not in panel.card.meaning.text()
