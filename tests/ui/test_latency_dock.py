"""The latency dock shows the current panel's stages, cold apart from warm, the device, and fallbacks."""

import pytest

from cvexplorer.runtime import create_session
from cvexplorer.timing import LatencyRecorder
from cvexplorer.ui.widgets.latency import LatencyDock

from ..engine.test_runtime import tiny_model_bytes


@pytest.fixture
def dock(qtbot):
    d = LatencyDock(recorder=LatencyRecorder())
    qtbot.addWidget(d)
    d.show()
    return d


def test_stages_cold_and_warm(dock):
    dock.set_panel("sam")
    r = dock.recorder
    r.record("sam", "encoder", 900.0, device="CPU")
    for ms in (300.0, 310.0, 320.0):
        r.record("sam", "encoder", ms, device="CPU")
    r.record("sam", "decoder", 12.0, device="CPU")
    r.record("stereo", "matching", 50.0)  # another panel: not shown
    dock.refresh()
    rows = dock.stage_rows()
    assert [row[0] for row in rows] == ["encoder", "decoder"]
    enc = rows[0]
    assert enc[1] == "CPU" and enc[2] == "320.00" and enc[3] == "310.00" and enc[5] == "900.00" and enc[6] == "4"


def test_fallback_warning_from_a_real_session(dock):
    info = create_session(tiny_model_bytes(), device="gpu")
    if info.on_gpu:  # pragma: no cover
        pytest.skip("a GPU really runs here")
    dock.set_panel("unet")
    dock.recorder.record("unet", "inference", 3.0, device=info.device, note=info.fallback)
    dock.refresh()
    assert dock.stage_rows()[0][1] == "CPU"
    assert not dock.warning.isHidden() and "CPU" in dock.warning.text() and "⚠" in dock.warning.text()


def test_csv_export(dock, tmp_path):
    dock.recorder.record("nms", "nms", 1.5)
    p = dock.export_csv(str(tmp_path / "t.csv"))
    assert p and open(p).read().splitlines()[1].startswith("nms,nms,1.5000,CPU,1")


def test_sparkline_shows_a_single_slow_run(dock):
    # One 190 ms run: drawn as a dot (a line needs two points) and inside the y range, not clipped at 40 ms.
    dock.set_panel("stitching")
    dock.recorder.record("stitching", "features", 190.0, device="CPU")
    dock.refresh(force=True)
    curve = dock._curves["features"]
    assert curve.opts["symbol"] == "o"
    assert dock.plot.getViewBox().viewRange()[1][1] >= 190.0
    for ms in (12.0, 14.0):
        dock.recorder.record("stitching", "features", ms, device="CPU")
    dock.refresh(force=True)
    assert curve.opts["symbol"] is None and len(curve.getData()[0]) == 3
