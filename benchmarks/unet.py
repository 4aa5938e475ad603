"""U-Net benchmarks.

1. The shipped tiny U-Net (models/unet_tiny.onnx) on a 256×256 scene with all its feature-map
   outputs (goal < 30 ms on this CPU), against the same session asked for the logits only.
2. The no-skip twin, same input, all outputs; the panel's whole job (``compare_skips``).
3. The U diagram redraw after a control change at 1920×1080 in the projector theme (goal < 16 ms):
   ``shape_trace`` for the new configuration + a synchronous repaint of the diagram widget,
   against a bare QWidget repaint of the same size.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/unet.py [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

from cvexplorer.bench import median_ms


def _median_ms(fn, repeats: int) -> float:
    return median_ms(fn, repeats, warmup=2)


def run(quick: bool = False) -> list[dict]:
    from cvexplorer import unet as U
    from cvexplorer.samples.segmentation import segmentation_scene

    reps = 10 if quick else 40
    rgb, gt = segmentation_scene((256, 256), seed=7)
    rows: list[dict] = []
    m = U.load_model(True)
    x, _ = m.preprocess(rgb)
    sess = m.session
    full = lambda: sess.run(None, {m.input_name: x})  # noqa: E731
    logits = lambda: sess.run(["logits"], {m.input_name: x})  # noqa: E731
    o, r = _median_ms(full, reps), _median_ms(logits, reps)
    o, r = min(o, _median_ms(full, reps)), min(r, _median_ms(logits, reps))
    res = m.run(rgb)
    rows.append({"what": f"tiny U-Net, 256×256, logits + {len(res.features)} feature maps ({m.device})",
                 "ours_ms": o, "ref": "same session, logits only", "ref_ms": r, "ratio": o / r,
                 "accuracy": f"boundary F {U.boundary_f_score(res.mask, gt):.3f} on the sample"})
    w = U.load_model(False)
    o2 = _median_ms(lambda: w.session.run(None, {w.input_name: x}), reps)
    rows.append({"what": "no-skip twin, 256×256, all outputs", "ours_ms": o2, "ref": "tiny U-Net, all outputs",
                 "ref_ms": o, "ratio": o2 / o, "accuracy": "n/a"})
    o3 = _median_ms(lambda: m.run(rgb), reps)
    rows.append({"what": "UNetModel.run (preprocess + all outputs + softmax/argmax), 256×256",
                 "ours_ms": o3, "ref": "goal 30 ms", "ref_ms": 30.0, "ratio": o3 / 30.0, "accuracy": "n/a"})
    o4 = _median_ms(lambda: U.compare_skips(rgb, gt), reps)
    rows.append({"what": "compare_skips (both models, scores, disagreement window), 256×256 — the panel's job",
                 "ours_ms": o4, "ref": "2 × UNetModel.run", "ref_ms": 2 * o3, "ratio": o4 / (2 * o3),
                 "accuracy": "n/a"})
    rows.extend(_redraw(20 if quick else 60))
    return rows


def _redraw(n: int) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QWidget

    from cvexplorer.timing import LatencyRecorder
    from cvexplorer.ui.context import AppContext, ensure_app
    from cvexplorer.ui.registry import create_panel
    from cvexplorer.ui.themes import THEMES

    app = ensure_app()
    th = THEMES["projector"]
    th.apply(app)
    ctx = AppContext(th, recorder=LatencyRecorder())
    panel = create_panel("unet", ctx)
    panel.resize(1920, 1080)
    panel.show()
    app.processEvents()
    panel.wait_idle(60)
    bare = QWidget()
    bare.resize(panel.diagram.size())
    bare.show()
    app.processEvents()
    ts, ref = [], []
    for i in range(n + 3):
        panel.base_spin.blockSignals(True)
        panel.base_spin.setValue(8 + (i % 2) * 8)  # alternate base channels 8 / 16
        panel.base_spin.blockSignals(False)
        t0 = time.perf_counter()
        panel.update_diagram()  # shape_trace x2 + synchronous repaint of the diagram
        ts.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        bare.repaint()
        ref.append((time.perf_counter() - t0) * 1e3)
    ts, ref = np.array(ts[3:]), np.array(ref[3:])
    d = panel.diagram
    out = [{"what": f"U diagram redraw after a control change, {d.width()}×{d.height()} (p50; p95 "
                    f"{np.percentile(ts, 95):.1f} ms; goal 16 ms)",
            "ours_ms": float(np.median(ts)), "ref": "bare QWidget repaint, same size",
            "ref_ms": float(np.median(ref)), "ratio": float(np.median(ts) / max(np.median(ref), 1e-6)),
            "accuracy": "n/a"}]
    ctx.workers.shutdown(2000)
    panel.close()
    return out


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
