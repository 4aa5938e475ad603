"""Start-up: process start to the first painted frame of the real window, against a bare PySide6 window.

Both sides run as fresh processes in the same run, alternately, with the same probe: when a program
shows a top-level window, an event filter goes on that window, and at its first Paint event it
queues a zero-time timer (it fires once that paint pass has finished) which ends the process. The
filter watches the window only: an earlier probe filtered every event of the application, and
handing each object of each event to Python made PySide6 build the Python enums of every class it
met (≈190 of them, ≈35 ms in our process against a few in the bare one), a cost the real app never pays. Ours is ``cvexplorer`` itself
(``cvexplorer.cli.main([])``: the GUI path, main window and welcome page) with fresh settings (an
empty INI file through ``$CVEXPLORER_SETTINGS``, so no heavy panel is reopened); the reference is a
QApplication with one 800×600 QLabel. Medians over repeats.

Bytecode caches are allowed (``PYTHONDONTWRITEBYTECODE`` is dropped for the children, and the
warm-up run writes them): an installed app has them, since pip compiles the modules at install.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = """
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

class FirstFrame(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, lambda: os._exit(0))
        return False

_probe = FirstFrame()

def _watch(show):  # the probe joins whichever top-level window the program shows
    def shown(self, *a, **k):
        if self.isWindow():
            self.installEventFilter(_probe)
        return show(self, *a, **k)
    return shown

for _name in ("show", "showNormal", "showMaximized", "showFullScreen"):
    setattr(QWidget, _name, _watch(getattr(QWidget, _name)))
"""

OURS = PROBE + """
from cvexplorer.cli import main
sys.exit(main([]))
"""

BARE = PROBE + """
from PySide6.QtWidgets import QLabel
app = QApplication(sys.argv)
label = QLabel("hello"); label.resize(800, 600); label.show()
sys.exit(app.exec())
"""


def _time(code: str, env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, timeout=120)
    return (time.perf_counter() - t0) * 1000.0


def run(quick: bool = False) -> list[dict]:
    n = 5 if quick else 11
    with tempfile.TemporaryDirectory() as d:
        ini = os.path.join(d, "fresh.ini")
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CVEXPLORER_SETTINGS": ini}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _time(OURS, env), _time(BARE, env)  # warm the file cache
        ours, bare = [], []
        for _ in range(n):  # alternately, so that machine load hits both alike
            if os.path.exists(ini):
                os.remove(ini)  # fresh settings every start
            ours.append(_time(OURS, env))
            bare.append(_time(BARE, env))
        imp = statistics.median(_time("import cvexplorer", env) for _ in range(n))
        py = statistics.median(_time("pass", env) for _ in range(n))
    o, b = statistics.median(ours), statistics.median(bare)
    return [
        {"what": "start → first painted frame (cvexplorer main window, welcome, fresh settings)", "ours_ms": o,
         "ref": "bare QApplication + QLabel, same probe", "ref_ms": b, "ratio": o / b, "accuracy": "aim ≤ 2×"},
        {"what": "import cvexplorer", "ours_ms": imp, "ref": "python -c pass", "ref_ms": py, "ratio": imp / py,
         "accuracy": "no Qt/cv2/onnxruntime at import"},
    ]


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
