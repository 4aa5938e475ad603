"""Start-up: process start to first painted frame, `cvexplorer screenshot welcome` against a bare
PySide6 QApplication + QLabel doing the same (start, paint, grab, save, exit), same run."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

BARE = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv)
l = QLabel("hello"); l.resize(800, 600); l.show(); app.processEvents()
l.grab().save(sys.argv[1])
"""


def _time(cmd: list[str]) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return (time.perf_counter() - t0) * 1000.0


def run(quick: bool = False) -> list[dict]:
    n = 3 if quick else 5
    with tempfile.TemporaryDirectory() as d:
        ours_cmd = [sys.executable, "-m", "cvexplorer", "screenshot", "welcome", f"{d}/w.png", "--size", "800x600"]
        bare_cmd = [sys.executable, "-c", BARE, f"{d}/b.png"]
        _time(ours_cmd), _time(bare_cmd)  # warm the file cache
        ours = statistics.median(_time(ours_cmd) for _ in range(n))
        bare = statistics.median(_time(bare_cmd) for _ in range(n))
        imp = statistics.median(_time([sys.executable, "-c", "import cvexplorer"]) for _ in range(n))
        py = statistics.median(_time([sys.executable, "-c", "pass"]) for _ in range(n))
    return [
        {"what": "start → first painted frame (welcome)", "ours_ms": ours, "ref": "bare QApplication+QLabel",
         "ref_ms": bare, "ratio": ours / bare, "accuracy": "aim < 2×"},
        {"what": "import cvexplorer", "ours_ms": imp, "ref": "python -c pass", "ref_ms": py, "ratio": imp / py,
         "accuracy": "no Qt/cv2/onnxruntime at import"},
    ]


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run())
