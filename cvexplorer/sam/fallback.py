"""The classical fallback when no SAM model is installed: GrabCut seeded by the same clicks."""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from .predictor import SamResult

__all__ = ["ClassicalSegmenter"]


class ClassicalSegmenter:
    """OpenCV GrabCut seeded by the clicks: the panel's fallback when no SAM model is installed.

    Not SAM: no embedding, no learned prior, no predicted IoU (``scores`` is NaN). It works on a
    copy whose long side is ``work_side`` pixels and scales the mask back up.

    >>> import numpy as np
    >>> img = np.full((120, 160, 3), 40, np.uint8); img[30:90, 50:110] = (220, 60, 30)
    >>> seg = ClassicalSegmenter(); _ = seg.set_image(img)
    >>> r = seg.predict([(80, 60)], [1])
    >>> bool(r.mask[60, 80]), bool(r.mask[5, 5])
    (True, False)
    """

    source = "GrabCut (classical fallback, not SAM)"

    def __init__(self, work_side: int = 512, iterations: int = 4) -> None:
        self.work_side, self.iterations = work_side, iterations
        self.image_hw: tuple[int, int] | None = None
        self._small: np.ndarray | None = None
        self._scale = 1.0
        self.image_timings: dict[str, float] = {}
        self.encoder_runs = 0

    def set_image(self, rgb: np.ndarray) -> dict[str, float]:
        import cv2

        a = np.asarray(rgb)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ValueError(f"GrabCut needs an (H, W, 3) uint8 RGB image, not {a.dtype} with shape {a.shape}.")
        t0 = time.perf_counter()
        h, w = a.shape[:2]
        s = min(1.0, self.work_side / max(h, w))
        self._scale = s
        self._small = np.ascontiguousarray(cv2.cvtColor(
            cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
            if s < 1 else a, cv2.COLOR_RGB2BGR))
        self.image_hw = (h, w)
        self.image_timings = {"preprocess": (time.perf_counter() - t0) * 1e3}
        return dict(self.image_timings)

    def predict(self, points: Sequence = (), labels: Sequence = (), box=None, mask_input=None) -> SamResult:
        import cv2

        if self._small is None or self.image_hw is None:
            raise ValueError("Call set_image(rgb) before predict().")
        t0 = time.perf_counter()
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        lab = np.asarray(labels, np.int32).reshape(-1)
        if len(pts) != len(lab):
            raise ValueError(f"{len(pts)} points but {len(lab)} labels; give one label (1 or 0) per point.")
        pos = pts[lab == 1] * self._scale
        neg = pts[lab == 0] * self._scale
        if not len(pos) and box is None:
            raise ValueError("GrabCut needs a positive click or a box to start from.")
        sh, sw = self._small.shape[:2]
        gc = np.full((sh, sw), cv2.GC_BGD, np.uint8)
        if box is not None:
            b = np.asarray(box, np.float32).reshape(4) * self._scale
            x0, x1 = sorted((b[0], b[2]))
            y0, y1 = sorted((b[1], b[3]))
        else:
            # a region around the positive clicks; everything outside is background
            r = 0.22 * max(sh, sw)
            x0, y0 = pos.min(axis=0) - r
            x1, y1 = pos.max(axis=0) + r
        x0, y0 = int(max(0, np.floor(x0))), int(max(0, np.floor(y0)))
        x1, y1 = int(min(sw, np.ceil(x1))), int(min(sh, np.ceil(y1)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise ValueError("The box is too small for GrabCut (under 2 pixels on the working copy).")
        gc[y0:y1, x0:x1] = cv2.GC_PR_BGD if box is None else cv2.GC_PR_FGD
        rad = max(2, int(round(0.015 * max(sh, sw))))
        for x, y in pos:
            cv2.circle(gc, (int(round(x)), int(round(y))), rad * 2, int(cv2.GC_PR_FGD), -1)
            cv2.circle(gc, (int(round(x)), int(round(y))), rad, int(cv2.GC_FGD), -1)
        for x, y in neg:
            cv2.circle(gc, (int(round(x)), int(round(y))), rad * 2, int(cv2.GC_BGD), -1)
        t1 = time.perf_counter()
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.grabCut(self._small, gc, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            pass  # e.g. only one class seeded: keep the seeds as they are
        small_mask = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.uint8)
        if len(pos):
            # keep the connected regions that contain a positive click
            n, comp = cv2.connectedComponents(small_mask, connectivity=8)
            keep = np.zeros(n, bool)
            for x, y in pos:
                xi, yi = min(sw - 1, max(0, int(x))), min(sh - 1, max(0, int(y)))
                keep[comp[yi, xi]] = comp[yi, xi] != 0
            if keep.any():
                small_mask = keep[comp].astype(np.uint8)
        t2 = time.perf_counter()
        h, w = self.image_hw
        full = cv2.resize(small_mask, (w, h), interpolation=cv2.INTER_NEAREST) > 0 if (sh, sw) != (h, w) \
            else small_mask > 0
        t3 = time.perf_counter()
        timings = {"prompt": (t1 - t0) * 1e3, "grabcut": (t2 - t1) * 1e3, "postprocess": (t3 - t2) * 1e3}
        return SamResult(full[None], np.array([np.nan], np.float32), 0, None, timings, "cached", "CPU",
                         self.source)
