"""The Get-a-model dialog downloads from a local server, shows progress, installs, and cancels cleanly."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from cvexplorer import modelstore as M

from ..engine.sam_models import decoder_model, encoder_model
from ..engine.test_modelstore import DEC, ENC, _Server, _zip


@pytest.fixture
def served(monkeypatch, tmp_path):
    files = {ENC: encoder_model("fixed").SerializeToString(), DEC: decoder_model(4).SerializeToString()}
    body = _zip(files)
    srv = _Server(body)
    entry = replace(M.CATALOGUE["mobile-sam"], urls=(srv.url,), size=len(body),
                    sha256=hashlib.sha256(body).hexdigest(),
                    members=tuple(M.Member(n, hashlib.sha256(d).hexdigest(), len(d)) for n, d in files.items()))
    monkeypatch.setitem(M.CATALOGUE, "mobile-sam", entry)
    monkeypatch.setenv("CVEXPLORER_MODELS", str(tmp_path / "models"))
    yield srv, tmp_path / "models"
    srv.close()


def test_get_shows_progress_and_installs(ctx, qtbot, served):
    from cvexplorer.ui.widgets.model_dialog import ModelDialog

    _srv, models = served
    dlg = ModelDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    assert "Apache-2.0" in dlg.about.text() and "SHA-256" in dlg.about.text()
    with qtbot.waitSignal(dlg.installed, timeout=20000) as got:
        dlg.get_btn.click()
    assert got.args[0].verified and (models / "mobile-sam" / ENC).is_file()
    assert dlg.bar.value() == 1000 and "Installed and verified" in dlg.status.full_text()
    assert dlg.get_btn.isEnabled() and not dlg.cancel_btn.isEnabled()


def test_cancel_leaves_nothing_and_says_so(ctx, qtbot, served, monkeypatch):
    from cvexplorer.ui.widgets.model_dialog import ModelDialog

    _srv, models = served
    dlg = ModelDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.show()
    monkeypatch.setattr(M, "_CHUNK", 256)  # many small reads: Cancel lands mid-transfer
    dlg.get_btn.click()
    dlg.cancel_btn.click()
    ctx.workers.wait_idle(20)
    assert "cancelled" in dlg.status.full_text() and not list(models.rglob("*.onnx"))
    assert dlg.get_btn.isEnabled()


def test_install_from_file_refuses_a_lookalike(ctx, qtbot, served, tmp_path):
    from cvexplorer.ui.widgets.model_dialog import ModelDialog

    fake = tmp_path / ENC
    fake.write_bytes(b"not a model")
    (tmp_path / DEC).write_bytes(b"nor this")
    dlg = ModelDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.install_files([str(fake), str(tmp_path / DEC)])
    ctx.workers.wait_idle(20)
    assert "not its pinned SHA-256" in dlg.status.full_text()


def test_the_sam_panel_gets_a_model_and_segments_with_it(make_panel, qtbot, served):
    """No model: the panel offers MobileSAM; once the download is verified it segments with it, no restart."""
    import numpy as np

    panel = make_panel("sam")
    assert panel.model is None and panel.get_model_btn.isVisible()
    assert "Get MobileSAM" in panel.frame.banner.message()
    dlg = panel.open_model_dialog()
    with qtbot.waitSignal(dlg.installed, timeout=20000):
        dlg.get_btn.click()
    qtbot.waitUntil(lambda: panel.model is not None, timeout=20000)
    panel.wait_idle(30)
    assert panel.model.encoder_fixed == (684, 1024) and "mobile_sam" in panel.model.encoder_path
    assert not panel.get_model_btn.isVisible()
    h, w = panel.rgb.shape[:2]
    panel.canvas.clicked.emit(w / 2, h / 2, 1, 0)
    panel.wait_idle(30)
    mask = panel.result.mask
    assert mask.shape == (h, w) and mask[int(h / 2), int(w / 2)] and 0 < mask.mean() < 0.5
    assert np.isfinite(panel.result.scores).all()
    dlg.close()
