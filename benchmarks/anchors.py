"""Anchors: IoU of RetinaNet's anchors at 1024×1024 against 50 boxes, matching, and one level's redraw.

* ``iou_matrix`` (chunked, float64 and float32) against a naive one-shot NumPy broadcast of the
  same formula, measured in the same run (accuracy: max |difference|).
* ``anchors.match`` (IoU + thresholds + low-quality rule) for the same inputs.
* ``anchors.label_anchors`` (what the panel's worker runs: generate + match + histogram) at 640².
* The Anchors panel (offscreen, created through the registry, driven through its public controls):
  building the path of all of RetinaNet P4's anchors with the canvas's ``rects_path`` against
  ``ImageCanvas.set_rects`` (a new item), a ratio change end to end, and its ``render()``.
"""

from __future__ import annotations

import os

import numpy as np

from cvexplorer.bench import median_ms


def _naive_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Reference: one broadcast over the whole (N, M) problem, no chunking."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = aa[:, None] + ab[None, :] - inter
    return inter / union


def _boxes(n: int, size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wh = rng.uniform(16, size / 2, (n, 2))
    xy = rng.uniform(0, size - wh)
    return np.concatenate([xy, xy + wh], axis=1)


def run(quick: bool = False) -> list[dict]:
    from cvexplorer import anchors as A
    from cvexplorer.boxes import iou_matrix

    reps = 5 if quick else 20
    anchors, _ = A.PRESETS["retinanet"].generate((1024, 1024))
    gt = _boxes(50, 1024)
    rows = []
    ref = _naive_iou(anchors, gt)
    ref_ms = median_ms(lambda: _naive_iou(anchors, gt), reps)
    for dtype in (np.float64, np.float32):
        ours = iou_matrix(anchors, gt, dtype=dtype)
        ms = median_ms(lambda: iou_matrix(anchors, gt, dtype=dtype), reps)
        rows.append({"what": f"iou_matrix {len(anchors):,} RetinaNet anchors @1024² × 50 boxes "
                             f"({np.dtype(dtype).name}, chunked)",
                     "ours_ms": ms, "ref": "naive NumPy broadcast (float64, one shot)", "ref_ms": ref_ms,
                     "ratio": ms / ref_ms,
                     "accuracy": f"max |Δ| = {float(np.abs(ours - ref).max()):.1e}"})
    m_ms = median_ms(lambda: A.match(anchors, gt, 0.5, 0.4, True), reps)
    rows.append({"what": "anchors.match (IoU + thresholds + low-quality rule), same inputs", "ours_ms": m_ms,
                 "ref": "naive IoU broadcast alone", "ref_ms": ref_ms, "ratio": m_ms / ref_ms,
                 "accuracy": f"{A.match(anchors, gt, 0.5, 0.4).counts}"})
    g_ms = median_ms(lambda: A.PRESETS["retinanet"].generate((1024, 1024)), reps)
    rows.append({"what": "generate RetinaNet anchors @1024² (196 416)", "ours_ms": g_ms, "ref": "—",
                 "ref_ms": float("nan"), "ratio": float("nan"), "accuracy": "count == formulas.anchor_count"})
    two = [[420, 370, 500, 490], [243, 537, 448, 563]]
    l_ms = median_ms(lambda: A.label_anchors("retinanet", (640, 640), two), reps)
    a640, _ = A.PRESETS["retinanet"].generate((640, 640))
    m_ref = median_ms(lambda: A.match(a640, two, 0.5, 0.4, True), reps)
    rows.append({"what": "label_anchors RetinaNet @640², 2 boxes (generate + match + histogram)", "ours_ms": l_ms,
                 "ref": "anchors.match alone on the same anchors", "ref_ms": m_ref, "ratio": l_ms / m_ref,
                 "accuracy": f"{A.label_anchors('retinanet', (640, 640), two).counts}"})
    rows.extend(_redraw_rows(quick))
    return rows


def _keep_none_alive() -> None:
    """PySide6 6.12 on Python 3.11 drops one reference to None per void call (None is immortal only
    from 3.12): the loop reference below makes ~50k such calls, enough to abort the process. Give
    None, True and False spare references for the duration of this benchmark process (no effect on 3.12+)."""
    import sys

    if sys.version_info < (3, 12):
        import ctypes

        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 30


def _redraw_rows(quick: bool) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _keep_none_alive()
    from cvexplorer import anchors as A
    from cvexplorer.timing import LatencyRecorder
    from cvexplorer.ui.context import AppContext, ensure_app
    from cvexplorer.ui.registry import create_panel
    from cvexplorer.ui.themes import THEMES
    from cvexplorer.ui.widgets.canvas import rects_path

    ensure_app()
    reps = 5 if quick else 15
    ctx = AppContext(THEMES["projector"], recorder=LatencyRecorder())
    panel = create_panel("anchors", ctx)
    panel.resize(1920, 1080)
    panel.show()
    panel.wait_idle(60)
    b, lv = A.PRESETS["retinanet"].generate((640, 640))
    level = b[lv == 1]
    canvas = panel.canvas
    ours = median_ms(lambda: (rects_path(level), None)[1], reps)
    ref = median_ms(lambda: canvas.set_rects("bench", level, width=1), reps)
    canvas.clear_layer("bench")
    rows = [{"what": f"path of one level: RetinaNet P4 @640², {len(level):,} anchors", "ours_ms": ours,
             "ref": "ImageCanvas.set_rects (path + new item)", "ref_ms": ref, "ratio": ours / ref,
             "accuracy": "same rectangles"}]
    # the panel's redraw after a ratio change (cell view, two boxes drawn through the canvas's drag signal)
    for x0, y0, x1, y1 in ([420, 370, 500, 490], [243, 537, 448, 563]):
        canvas.dragged.emit(float(x0), float(y0), float(x1), float(y1), True)
    panel.wait_idle(60)

    def one_change(ratios=("0.5, 1, 2", "0.5, 1, 2, 3"), state=[0]):
        state[0] ^= 1
        panel.ratios.setText(ratios[state[0]])
        panel.ratios.editingFinished.emit()
        panel.wait_idle(60)

    full = median_ms(one_change, reps)
    render = median_ms(panel.render, reps)
    panel.view.setCurrentIndex(3)
    render_all = median_ms(panel.render, reps)
    paint_all = median_ms(lambda: canvas.grab(), reps)
    rows.append({"what": "Anchors panel render() of one level (cell view, 2 boxes)", "ours_ms": render,
                 "ref": "ratio change incl. generate + match in worker", "ref_ms": full, "ratio": render / full,
                 "accuracy": "—"})
    rows.append({"what": "render() with all P4 anchors drawn", "ours_ms": render_all,
                 "ref": "painting that view (canvas.grab())", "ref_ms": paint_all,
                 "ratio": render_all / paint_all, "accuracy": "—"})
    ctx.workers.shutdown(2000)
    panel.close()
    return rows


if __name__ == "__main__":
    import sys

    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
