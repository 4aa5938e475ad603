"""The latency dock's own cost: one refresh with 8 stages x 200 samples each (target < 1 ms),
and the recorder's cost per sample, against the 16.7 ms frame budget."""

from __future__ import annotations

import os
import time

import numpy as np


def run(quick: bool = False) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from cvexplorer.bench import median_ms
    from cvexplorer.timing import LatencyRecorder
    from cvexplorer.ui.context import ensure_app
    from cvexplorer.ui.widgets.latency import LatencyDock

    app = ensure_app()
    rec = LatencyRecorder()
    rng = np.random.default_rng(0)
    for s in range(8):
        for ms in rng.gamma(2.0, 5.0, 200):
            rec.record("demo", f"stage {s}", float(ms))
    dock = LatencyDock(recorder=rec)
    dock.resize(1600, 260)
    dock.set_panel("demo")
    dock.show()
    app.processEvents()
    n = 30 if quick else 200

    def refresh():
        rec.record("demo", "stage 0", 5.0)  # a new sample each time, as in real use
        dock.refresh()

    dock_ms = median_ms(refresh, repeats=n, warmup=5)
    t0 = time.perf_counter()
    for i in range(10000):
        rec.record("demo", "stage 1", 1.0)
    per_sample_us = (time.perf_counter() - t0) / 10000 * 1e6
    return [
        {"what": "latency dock refresh (8 stages × 200 samples)", "ours_ms": dock_ms, "ref": "frame budget 60 fps",
         "ref_ms": 16.7, "ratio": dock_ms / 16.7, "accuracy": "target < 1 ms"},
        {"what": "recorder.record() per sample", "ours_ms": per_sample_us / 1000, "ref": "frame budget 60 fps",
         "ref_ms": 16.7, "ratio": per_sample_us / 1000 / 16.7, "accuracy": f"{per_sample_us:.1f} µs"},
    ]


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run())
