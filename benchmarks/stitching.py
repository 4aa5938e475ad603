"""Stitching benchmark: ``homography.stitch`` and ``panorama.stitch_panorama`` against ``cv2.Stitcher``.

Panorama rows: ``stitch_panorama`` (rotating camera, OpenCV defaults: 0.6 MP working resolution,
0.1 MP seams, full-resolution composition) against ``cv2.Stitcher`` (PANORAMA mode) on the shared
sets, interleaved run by run so both sides see the same machine load; medians, with the images each
used and our per-stage medians. Planar rows: flower set from ../shared/data/panorama/flower when present (else the built-in three views); also
our RANSAC against ``cv2.findHomography(RANSAC)`` on the graf 1→3 matches (time and reprojection
error against the ground truth). Both sides are measured in the same run, after a warm-up, as
medians over repeats.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from cvexplorer import homography as hg
from cvexplorer import panorama as pano
from cvexplorer.imageio import load_image

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _median_ms(fn, repeats: int) -> tuple[float, object]:
    out = fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        ts.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(ts), out


def _images():
    root = SHARED / "panorama" / "flower"
    if root.is_dir():
        return "flower (4 × 700×464)", [load_image(root / f"small{i}.jpg") for i in range(1, 5)]
    views, _ = hg.sample_panorama(n=3)
    return "built-in 3 views", views


PANORAMA_SETS = ("flower", "myself")


def panorama_rows(repeats: int = 5, sets=PANORAMA_SETS) -> list[dict]:
    """``stitch_panorama`` against ``cv2.Stitcher`` on each shared set present, interleaved."""
    import cv2  # lazy, like the engine: importing the benchmark module stays cheap

    rows = []
    for name in sets:
        root = SHARED / "panorama" / name
        if not root.is_dir():
            continue
        imgs = [load_image(p) for p in sorted(root.glob("*.jpg"))]
        bgr = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in imgs]
        stitcher = cv2.Stitcher_create(cv2.Stitcher_PANORAMA)
        pano.stitch_panorama(imgs)  # warm-up both
        stitcher.stitch(bgr)
        ours, ref, stages = [], [], {}
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = pano.stitch_panorama(imgs)
            ours.append((time.perf_counter() - t0) * 1e3)
            for k, v in res.timings.items():
                stages.setdefault(k, []).append(v)
            t0 = time.perf_counter()
            status, _ = stitcher.stitch(bgr)
            ref.append((time.perf_counter() - t0) * 1e3)
        cv_used = len(stitcher.component()) if status == cv2.Stitcher_OK else 0
        o, r = statistics.median(ours), statistics.median(ref)
        h, w = imgs[0].shape[:2]
        rows.append({
            "what": f"panorama {name} ({len(imgs)} × {w}×{h}), {res.surface}",
            "ours_ms": o, "ref": "cv2.Stitcher (PANORAMA)", "ref_ms": r, "ratio": o / r,
            "accuracy": f"images used: ours {len(res.used)}/{len(imgs)}, OpenCV {cv_used}/{len(imgs)}; ours stages "
                        + ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in stages.items()) + " ms",
        })
    return rows


def run(quick: bool = False) -> list[dict]:
    import cv2  # lazy, like the engine: importing the benchmark module stays cheap

    repeats = 2 if quick else 5
    rows = panorama_rows(repeats)
    name, imgs = _images()
    bgr = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in imgs]

    for blend in ("multiband", "feather"):
        ours_ms, res = _median_ms(lambda: hg.stitch(imgs, blend=blend), repeats)
        stitcher = cv2.Stitcher_create(cv2.Stitcher_PANORAMA)

        def cv_run():
            status, pano = stitcher.stitch(bgr)
            return status, pano, len(stitcher.component()) if status == cv2.Stitcher_OK else 0

        ref_ms, (status, pano, cv_used) = _median_ms(cv_run, repeats)
        rows.append({
            "what": f"stitch {name}, blend={blend}",
            "ours_ms": ours_ms, "ref": "cv2.Stitcher (PANORAMA)", "ref_ms": ref_ms,
            "ratio": ours_ms / ref_ms,
            "accuracy": f"images used: ours {len(res.used)}/{len(imgs)}, OpenCV {cv_used}/{len(imgs)}; "
                        f"ours stages " + ", ".join(f"{k} {v:.0f}" for k, v in res.timings.items()) + " ms",
        })

    graf = SHARED / "homography" / "graf"
    if graf.is_dir():
        i1, i3 = load_image(graf / "img1.png"), load_image(graf / "img3.png")
        Hgt = np.loadtxt(graf / "H1to3p")
        m = hg.detect_and_match(i1, i3)
        s, d = m.src, m.dst
        grid = hg.grid_points(i1.shape[1], i1.shape[0], 20)

        def err(H):
            return float(np.linalg.norm(hg.project(H, grid) - hg.project(Hgt, grid), axis=1).mean())

        # interleaved rounds, best round of each: both sides see the same machine load
        ours, ref = [], []
        for _ in range(repeats):
            t, (H, _) = _median_ms(lambda: hg.ransac(s, d, seed=0), 5)
            ours.append(t)
            cv2.setRNGSeed(0)
            t, (Hcv, _) = _median_ms(lambda: cv2.findHomography(s.astype(np.float32), d.astype(np.float32),
                                                                cv2.RANSAC, 3.0), 5)
            ref.append(t)
        ours_ms, ref_ms = min(ours), min(ref)
        rows.append({
            "what": f"RANSAC + refine, graf 1→3 ({len(s)} matches)", "ours_ms": ours_ms,
            "ref": "cv2.findHomography(RANSAC, 3 px)", "ref_ms": ref_ms, "ratio": ours_ms / ref_ms,
            "accuracy": f"mean grid error vs ground truth: ours {err(H):.2f} px, OpenCV {err(Hcv):.2f} px",
        })
    return rows


if __name__ == "__main__":
    import sys

    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
