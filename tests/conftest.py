"""Shared fixtures. UI tests run offscreen with a throwaway settings file and data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Property tests draw new examples on every run here, which is how edge cases turn up; in CI ($CI
# set, as .ci/run does) they draw the same examples every time, so a run cannot turn red by chance
try:
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
except ImportError:  # hypothesis is a dev tool; tests that use it need it anyway
    pass

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CVEXPLORER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("CVEXPLORER_DATA", str(tmp_path / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (real stereo, homography and panorama data); the test skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA


@pytest.fixture
def ctx(qtbot):
    from cvexplorer.timing import LatencyRecorder
    from cvexplorer.ui.context import AppContext

    c = AppContext(recorder=LatencyRecorder())
    # the application's palette, font and style sheet are global: an earlier test may have left
    # another theme's, and a panel laid out under one theme and repainted under another moves
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app.property("cvexplorer_theme") != c.theme.name:  # restyling every live widget is not free
        c.theme.apply(app)
    yield c
    c.workers.shutdown(2000)


@pytest.fixture
def make_panel(qtbot, ctx):
    """make_panel("nms") -> the panel, shown at 1280x800, with its background work finished."""
    from cvexplorer.ui.registry import create_panel

    def make(panel_id: str, size=(1280, 800)):
        panel = create_panel(panel_id, ctx)
        qtbot.addWidget(panel)
        panel.resize(*size)
        panel.show()
        panel.wait_idle(60)
        return panel

    return make
