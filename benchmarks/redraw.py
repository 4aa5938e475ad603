"""Each panel's redraw for one animation step at 1920×1080, offscreen (p50/p95 over steps).

A step is: move the TracePlayer one step (the panel re-renders that step's overlays) and repaint
the panel synchronously. Panels without a step-through are timed on a plain repaint. The
reference is a repaint of a bare QWidget of the same size, measured in the same run. The budget
is 8 ms at p95 (half a 60 Hz frame); the GUI thread's CPU time per step is printed beside the wall
time, because on a loaded machine the wall time also counts time the thread was waiting for a core.
"""

from __future__ import annotations

import os
import time

import numpy as np


def _p(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def run(quick: bool = False, panels: list[str] | None = None) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QWidget

    from cvexplorer.ui.context import ensure_app
    from cvexplorer.ui.context import AppContext
    from cvexplorer.ui.registry import create_panel, panel_ids
    from cvexplorer.ui.themes import THEMES

    app = ensure_app()
    THEMES["projector"].apply(app)
    n = 15 if quick else 40
    bare = QWidget()
    bare.resize(1920, 1080)
    bare.show()
    app.processEvents()
    ref = []
    for _ in range(n):
        t0 = time.perf_counter()
        bare.repaint()
        ref.append((time.perf_counter() - t0) * 1000)
    ref_p50 = _p(ref, 50)
    rows = []
    for pid in panels or [p for p in panel_ids() if p != "welcome"]:
        ctx = AppContext(THEMES["projector"])
        panel = create_panel(pid, ctx)
        panel.resize(1920, 1080)
        panel.show()
        app.processEvents()
        panel.wait_idle(120)
        player = panel.player()
        times, cpu = [], []
        for i in range(n):
            t0, c0 = time.perf_counter(), time.thread_time()
            if player is not None and player.length > 1:
                player.seek(i % player.length)
            panel.repaint()
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        kind = "step + repaint" if player is not None and player.length > 1 else "repaint"
        rows.append({"what": f"{pid}: {kind} at 1920×1080 (p50; p95 {_p(times, 95):.1f} ms)",
                     "ours_ms": _p(times, 50), "ref": "bare QWidget repaint", "ref_ms": ref_p50,
                     "ratio": _p(times, 50) / ref_p50 if ref_p50 > 0 else float("nan"),
                     "accuracy": f"budget 8 ms at p95{' ✓' if _p(times, 95) <= 8.0 else ' ✗ (p95 over)'}; "
                                 f"CPU p95 {_p(cpu, 95):.1f} ms"})
        ctx.workers.shutdown(2000)
        panel.close()
        panel.deleteLater()
    return rows


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run())
