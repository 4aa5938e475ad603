"""Detector benchmarks (engine only).

1. ``cvexplorer.detect.evaluate`` against pycocotools' ``COCOeval`` (evaluate + accumulate +
   summarize, the reference, when installed) on generated scenes with jittered, duplicated and
   mislabelled detections; the accuracy column compares AP, AP50 and AP75.
2. The shipped tiny detector (models/detector_tiny.onnx) on one 112×112 scene, then decode →
   score threshold → per-class NMS → top-K, against the ONNX run alone.

Run: ``.venv/bin/python benchmarks/detect.py [--quick]``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import sys

import numpy as np

from cvexplorer import detect as D
from cvexplorer.bench import median_ms


def noisy_detections(scenes, seed: int = 0) -> list[dict]:
    """Per object 0–2 jittered copies (15 % with the wrong class), plus 0–2 false alarms per image."""
    rng = np.random.default_rng(seed)
    out = []
    for k, sc in enumerate(scenes, start=1):
        for b, c in zip(sc.boxes, sc.classes):
            for _ in range(int(rng.integers(0, 3))):
                x0, y0, x1, y1 = b + rng.normal(0, 3, 4)
                cat = int(c) + 1 if rng.random() > 0.15 else int((c + 1) % 3) + 1
                out.append({"image_id": k, "category_id": cat, "bbox": [x0, y0, max(x1 - x0, 1), max(y1 - y0, 1)],
                            "score": float(rng.uniform(0, 1))})
        for _ in range(int(rng.integers(0, 3))):
            x, y = rng.uniform(0, 90, 2)
            out.append({"image_id": k, "category_id": int(rng.integers(1, 4)),
                        "bbox": [x, y, rng.uniform(4, 30), rng.uniform(4, 30)], "score": float(rng.uniform(0, 1))})
    return out


def _cocoeval(gt, dets):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO()
        g.dataset = copy.deepcopy(gt)
        g.createIndex()
        e = COCOeval(g, g.loadRes(copy.deepcopy(dets)), "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e.stats[:3]


def run(quick: bool = False) -> list[dict]:
    rows = []
    n = 50 if quick else 300
    scenes, gt = D.detection_dataset(n, seed=500)
    dets = noisy_detections(scenes)
    repeats = 3 if quick else 5
    ours = median_ms(lambda: D.evaluate(gt, dets), repeats)
    r = D.evaluate(gt, dets)
    try:
        ref_stats = _cocoeval(gt, dets)
        ref = median_ms(lambda: _cocoeval(gt, dets), repeats)
        diff = max(abs(a - b) for a, b in zip((r.ap, r.ap50, r.ap75), ref_stats))
        acc = f"AP {r.ap:.4f}, max |Δ| vs COCOeval {diff:.1e}"
        ref_name = "pycocotools COCOeval"
    except ImportError:
        ref, ref_name, acc = float("nan"), "pycocotools (not installed)", f"AP {r.ap:.4f}"
    rows.append({"what": f"evaluate: {n} scenes, {len(gt['annotations'])} objects, {len(dets)} detections",
                 "ours_ms": ours, "ref": ref_name, "ref_ms": ref, "ratio": ours / ref if ref == ref and ref > 0
                 else float("nan"), "accuracy": acc})
    model = D.DetectorModel(D.model_path(), device="cpu")
    sc = D.detection_scene(seed=9005)
    x = model.preprocess(sc.rgb)
    onnx_only = median_ms(lambda: model.session.run(["raw"], {"image": x}), 20 if quick else 100, warmup=3)

    def full():
        d = model.run(sc.rgb).decoded
        return D.pipeline(d, conf_threshold=0.2, iou_threshold=0.5, top_k=10)

    ours = median_ms(full, 20 if quick else 100, warmup=3)
    rows.append({"what": "tiny detector 112×112 + decode + threshold + per-class NMS + top-K", "ours_ms": ours,
                 "ref": "ONNX run alone", "ref_ms": onnx_only, "ratio": ours / onnx_only,
                 "accuracy": f"{full().counts} boxes per stage"})
    return rows


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
