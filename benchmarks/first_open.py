"""First open of each panel: the longest time the GUI thread does not answer, against a 0.5 s budget.

Each panel is opened in a fresh process (fresh settings) from the welcome page of a 1280×720
window, after the start-up warm-up thread has imported NumPy, OpenCV and the engine (as it has
about a second after the window appears; pyqtgraph follows on the GUI thread). A 5 ms heartbeat timer runs on the GUI thread; the
longest gap between its ticks, over the open and the 3 s after it (the panel's first worker jobs
landing), is the stall a user feels. ``show_panel`` alone is printed beside it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

PROBE = """
import os, sys, threading, time
from PySide6.QtCore import QTimer
from cvexplorer.ui.app import MainWindow, ensure_app
from cvexplorer.ui.warmup import warm_up_imports

app = ensure_app()
win = MainWindow()
win.resize(1280, 720)
win.show()
app.processEvents()
done = []
warm_up_imports(lambda: done.append(1))
while not done:
    app.processEvents()
    time.sleep(0.005)
last, gaps, opened = [time.perf_counter()], [], []

def beat():
    now = time.perf_counter()
    gaps.append((now - last[0]) * 1000)
    last[0] = now

def go():
    t0 = time.perf_counter()
    win.show_panel(sys.argv[1])
    opened.append((time.perf_counter() - t0) * 1000)

heart = QTimer()
heart.setInterval(5)
heart.timeout.connect(beat)
heart.start()
QTimer.singleShot(50, go)
QTimer.singleShot(3050, app.quit)
app.exec()
print(f"{opened[0]:.1f} {max(gaps):.1f}")
sys.stdout.flush()
os._exit(0)
"""

BUDGET_MS = 500.0


def run(quick: bool = False, panels: list[str] | None = None) -> list[dict]:
    from cvexplorer.ui.registry import panel_ids

    rows = []
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CVEXPLORER_SETTINGS": os.path.join(d, "s.ini")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode caches
        for pid in panels or [p for p in panel_ids() if p != "welcome"]:
            if os.path.exists(env["CVEXPLORER_SETTINGS"]):
                os.remove(env["CVEXPLORER_SETTINGS"])
            out = subprocess.run([sys.executable, "-c", PROBE, pid], env=env, capture_output=True, text=True,
                                 timeout=120)
            if out.returncode != 0:
                raise RuntimeError(f"{pid}: {out.stderr.strip().splitlines()[-1:]}")
            opened, stall = (float(v) for v in out.stdout.split()[-2:])
            rows.append({"what": f"first open of {pid} (show_panel {opened:.0f} ms)", "ours_ms": stall,
                         "ref": "budget: longest GUI stall", "ref_ms": BUDGET_MS, "ratio": stall / BUDGET_MS,
                         "accuracy": "✓" if stall <= BUDGET_MS else "✗ over"})
    return rows


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
