"""Convolution lab benchmarks.

1. Image-mode feature map: ``cvexplorer.conv.conv2d`` (OpenCV path, float32, zero padding) against a bare
   ``cv2.filter2D`` (CV_32F, BORDER_CONSTANT) on the same photo-like 4000×3000 image (ratio; goal ≤ 1.2×),
   plus image mode's whole worker job, ``cvexplorer.conv.feature_map`` (grey conversion, map, colour levels,
   display copies, lazy trace; goal ≤ 2×).
2. The NumPy teaching path against the same filter2D call (it is meant for small grids).
3. One animation step of matrix mode rendered at 1920×1080 in the projector theme (p50 / p95; goal p95 < 8 ms):
   building the step's grids from the trace plus a synchronous repaint of the view.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/conv.py [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np


def _pair_ms(ours, ref, repeats: int) -> tuple[float, float]:
    """Medians of ``ours`` and ``ref`` timed alternately (machine noise hits both alike), after a warm-up."""
    ours(), ref()
    a, b = [], []
    for _ in range(repeats):
        for fn, acc in ((ours, a), (ref, b)):
            t0 = time.perf_counter()
            fn()
            acc.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(a), statistics.median(b)


def _photo(size=(4000, 3000)) -> np.ndarray:
    from cvexplorer.samples import get_sample

    return get_sample("still-life", size=size)


def run(quick: bool = False) -> list[dict]:
    import cv2

    from cvexplorer.conv import KERNELS, conv2d, feature_map

    rows: list[dict] = []
    reps = 5 if quick else 15
    rgb = _photo((2000, 1500) if quick else (4000, 3000))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    cases = [("sobel x 3×3", KERNELS["sobel x"], 1), ("gaussian 7×7", cv2.getGaussianKernel(7, -1) @ cv2.getGaussianKernel(7, -1).T, 3)]
    for name, k, p in cases:
        ours = lambda: conv2d(grey, k, padding=p, method="opencv", dtype=np.float32)  # noqa: E731
        ref = lambda: cv2.filter2D(grey, cv2.CV_32F, k.astype(np.float32), borderType=cv2.BORDER_CONSTANT)  # noqa: E731
        o, r = _pair_ms(ours, ref, reps)
        err = float(np.abs(ours() - ref()).max())
        rows.append({"what": f"image-mode feature map, {name}, {w}×{h} grey", "ours_ms": o,
                     "ref": "cv2.filter2D CV_32F BORDER_CONSTANT", "ref_ms": r, "ratio": o / r,
                     "accuracy": f"max |diff| = {err:.2g}"})

    k = KERNELS["sobel x"]
    job = lambda: feature_map(rgb, k, padding=1)  # noqa: E731
    ref = lambda: cv2.filter2D(grey, cv2.CV_32F, k.astype(np.float32), borderType=cv2.BORDER_CONSTANT)  # noqa: E731
    o, r = _pair_ms(job, ref, max(3, reps // 2))
    rows.append({"what": f"whole image-mode worker job (grey, map, levels, display copies), {w}×{h}",
                 "ours_ms": o, "ref": "cv2.filter2D alone", "ref_ms": r, "ratio": o / r,
                 "accuracy": "same map as above"})

    small = grey[:256, :256]
    o, r = _pair_ms(lambda: conv2d(small, k, padding=1, method="numpy"),
                    lambda: cv2.filter2D(small, cv2.CV_64F, k, borderType=cv2.BORDER_CONSTANT), reps * 2)
    err = float(np.abs(conv2d(small, k, padding=1, method="numpy")
                       - cv2.filter2D(small, cv2.CV_64F, k, borderType=cv2.BORDER_CONSTANT)).max())
    rows.append({"what": "NumPy teaching path, 256×256 sobel x (float64)", "ours_ms": o,
                 "ref": "cv2.filter2D CV_64F", "ref_ms": r, "ratio": o / r, "accuracy": f"max |diff| = {err:.2g}"})

    rows.extend(_render_step(40 if quick else 200))
    return rows


def _render_step(n: int) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from cvexplorer.timing import LatencyRecorder
    from cvexplorer.ui.app import ensure_app
    from cvexplorer.ui.context import AppContext
    from cvexplorer.ui.registry import create_panel
    from cvexplorer.ui.themes import THEMES

    app = ensure_app()
    th = THEMES["projector"]
    th.apply(app)
    ctx = AppContext(th, recorder=LatencyRecorder())
    panel = create_panel("conv", ctx)
    panel.resize(1920, 1080)
    panel.show()
    app.processEvents()
    out = []
    for mode in ("matrix", "rgb"):
        panel.set_mode(mode)
        app.processEvents()
        p = panel.player()
        ts, cpu = [], []
        for j in range(n + 5):
            i = j % p.length
            t0, c0 = time.perf_counter(), time.thread_time()
            p.seek(i if i != p.index else (i + 1) % p.length)
            panel.grid.repaint()
            ts.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.thread_time() - c0) * 1e3)
        ts, cpu = np.array(ts[5:]), np.array(cpu[5:])
        p50, p95 = float(np.percentile(ts, 50)), float(np.percentile(ts, 95))
        c50, c95 = float(np.percentile(cpu, 50)), float(np.percentile(cpu, 95))
        size = f"{panel.grid.width()}×{panel.grid.height()} view"
        out.append({"what": f"{mode} mode: one animation step rendered, panel 1920×1080 ({size}) p50",
                    "ours_ms": p50, "ref": "goal 8 ms", "ref_ms": 8.0, "ratio": p50 / 8.0,
                    "accuracy": f"GUI-thread CPU time p50 {c50:.2f} ms"})
        out.append({"what": f"{mode} mode: one animation step rendered, panel 1920×1080 p95",
                    "ours_ms": p95, "ref": "goal 8 ms", "ref_ms": 8.0, "ratio": p95 / 8.0,
                    "accuracy": f"GUI-thread CPU time p95 {c95:.2f} ms"})
    ctx.workers.shutdown(2000)
    panel.close()
    return out


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
