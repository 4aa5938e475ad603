"""The SAM panel: clicks produce masks (tiny SAM1-contract model and the GrabCut fallback)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

_spec = importlib.util.spec_from_file_location(
    "sam_models", Path(__file__).resolve().parents[1] / "engine" / "sam_models.py")
sam_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sam_models)

LEFT, RIGHT = int(Qt.MouseButton.LeftButton.value), int(Qt.MouseButton.RightButton.value)
ALT = int(Qt.KeyboardModifier.AltModifier.value)


@pytest.fixture
def tiny_models(tmp_path, monkeypatch):
    d = tmp_path / "models"
    sam_models.write_pair(d, prefix="tiny_sam", num_masks=4)
    monkeypatch.setenv("CVEXPLORER_MODELS", str(d))
    from cvexplorer.runtime import set_preferred_device

    set_preferred_device("cpu")
    yield d
    set_preferred_device("auto")


def _mug(panel):
    from cvexplorer.samples import still_life_objects

    h, w = panel.rgb.shape[:2]
    x0, y0, x1, y1 = next(o for o in still_life_objects((w, h)) if o.label == "mug").box
    return (x0 + x1) / 2, (y0 + y1) / 2


def test_click_produces_mask_overlay_and_right_click_removes_area(make_panel, tiny_models, ctx, tmp_path):
    panel = make_panel("sam")
    assert panel.model is not None and "4-mask" in panel.model.variant, ctx.errors
    assert panel.predictor.encoder_runs == 1
    x, y = _mug(panel)
    panel.canvas.clicked.emit(x, y, LEFT, 0)
    panel.wait_idle(30)
    m = panel.current_mask()
    assert m is not None and m[int(y), int(x)] and m.shape == panel.rgb.shape[:2]
    assert panel.canvas.layer_items("mask") and panel.canvas.layer_items("outline")
    overlay = panel.canvas.layer_items("mask")[0].image
    assert overlay[..., 3].max() > 0  # the RGBA overlay really shows something
    assert sum(b.isVisible() for b in panel.cand_buttons) == 4
    assert "★" in panel.cand_buttons[panel.result.best].text() and "IoU 0.90" in panel.cand_buttons[2].text()
    area = m.sum()
    panel.canvas.clicked.emit(x + 12, y, RIGHT, 0)
    panel.wait_idle(30)
    m2 = panel.current_mask()
    assert m2.sum() < area and not m2[int(y), int(x + 12)]
    panel.canvas.clicked.emit(x - 12, y, LEFT, ALT)  # Alt+click is negative too
    panel.wait_idle(30)
    assert [p.label for p in panel.prompts] == [1, 0, 0]
    assert panel.predictor.encoder_runs == 1  # three clicks, one encoder run
    stages = {s.stage: s for s in ctx.recorder.stats("sam")}
    assert {"encoder", "decoder"} <= set(stages) and stages["decoder"].count == 3
    assert stages["decoder"].device == "CPU"
    # choosing a candidate, undo and clear
    panel.choose(3)
    assert panel.cand_buttons[3].isChecked() and panel.current_mask().sum() > m2.sum()
    undo = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.eventFilter(panel.canvas, undo)  # Ctrl+Z removes the last prompt
    panel.wait_idle(30)
    assert len(panel.prompts) == 2
    ev = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    panel.eventFilter(panel.canvas, ev)
    assert panel.prompts == [] and panel.current_mask() is None
    # a drag draws a box
    panel.canvas.dragged.emit(x - 60, y - 80, x + 60, y + 80, True)
    panel.wait_idle(30)
    m3 = panel.current_mask()
    assert m3[int(y), int(x)] and not m3[int(y - 100), int(x)]
    out = panel.export_mask(tmp_path / "m.png")
    panel.export_overlay(tmp_path / "o.png")
    from cvexplorer.imageio import load_image

    saved = load_image(out)
    assert saved.shape[:2] == m3.shape and ((saved[..., 0] > 127) == m3).all()
    st = panel.state()
    assert st["prompts"][0][0] == "box" and st["model"]


def test_clicks_during_encoding_are_queued(make_panel, tiny_models):
    panel = make_panel("sam")
    rng = np.random.default_rng(0)
    panel.set_image(rng.integers(0, 256, (300, 500, 3), dtype=np.uint8), "noise")
    assert panel.encoding
    panel.canvas.clicked.emit(100, 150, LEFT, 0)  # before the embedding exists
    assert panel.result is None
    panel.wait_idle(30)
    assert panel.current_mask()[150, 100]


def test_fallback_works_with_no_model(make_panel, ctx, monkeypatch, tmp_path):
    from cvexplorer import sam

    monkeypatch.setattr(sam, "find_models", lambda dirs=None: [])
    panel = make_panel("sam")
    assert panel.model is None and isinstance(panel.predictor, sam.ClassicalSegmenter)
    assert "GrabCut" in panel.model_label.text() and panel.pipeline.fallback
    x, y = _mug(panel)
    panel.canvas.clicked.emit(x, y, LEFT, 0)
    panel.wait_idle(30)
    m = panel.current_mask()
    assert m is not None and m[int(y), int(x)] and 0 < m.mean() < 0.3
    h, w = panel.rgb.shape[:2]
    truth = sam_models.still_life_masks((w, h))["mug"]
    assert (m & truth).sum() / (m | truth).sum() >= 0.8  # one click gets most of the mug
    assert panel.canvas.layer_items("mask")
    # the no-model state is said once, in the banner, with the way to get a model
    assert "Get MobileSAM (37 MB)" in panel.frame.banner.message() and panel.get_model_btn.isVisible()
    assert "No SAM model" not in panel.model_label.text()
    assert "IoU —" in panel.cand_buttons[0].text()
    stats = ctx.recorder.stats("sam")
    assert stats and "classical fallback" in stats[0].note
    # an unusable model falls back with the reason
    bad = tmp_path / "bad.encoder.onnx"
    bad.write_bytes(b"junk")
    panel.load_model(bad, bad)
    assert panel.model is None and ctx.errors and "SAM model" in ctx.errors[-1]


def test_a_click_on_a_new_image_is_decoded_on_that_image(make_panel, ctx, monkeypatch):
    """An image's encode still running when the next image arrives wrote its picture into the shared
    predictor under the new image's click ("boolean index did not match", seen with --image --demo)."""
    import time

    from cvexplorer import sam

    real_set, real_predict = sam.ClassicalSegmenter.set_image, sam.ClassicalSegmenter.predict

    def slow_set(self, rgb):
        if rgb.shape[:2] == (100, 150):
            time.sleep(0.2)  # the older image's encode lands after the newer one's
        return real_set(self, rgb)

    def slow_predict(self, *args, **kwargs):
        time.sleep(0.4)  # and while the click is being decoded
        return real_predict(self, *args, **kwargs)

    monkeypatch.setattr(sam.ClassicalSegmenter, "set_image", slow_set)
    monkeypatch.setattr(sam.ClassicalSegmenter, "predict", slow_predict)
    panel = make_panel("sam")
    panel.set_image(np.full((100, 150, 3), 90, np.uint8), "old")
    new = np.full((240, 320, 3), 40, np.uint8)
    new[60:180, 100:220] = (220, 60, 30)
    panel.set_image(new, "new")
    panel.add_point(160, 120, 1)
    assert panel.wait_idle(30)
    assert ctx.errors == []
    assert panel.result is not None and panel.result.mask.shape == (240, 320)
    assert panel.result.mask[120, 160] and panel.result.mask[60:180, 100:220].mean() > 0.9
