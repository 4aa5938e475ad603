"""The classical fallback when no SAM model is installed: GrabCut seeded by the same clicks.

One click says *where* the object is but not *how big*. The fallback guesses the size from the click:
a flood fill over a smoothed Lab copy grows the region of the click's colour (the *seed*), then GrabCut
(Rother, Kolmogorov & Blake, "GrabCut", SIGGRAPH 2004) refines two guesses around it in parallel threads:
the seed alone (its surroundings "probably background"), and a box 15 % larger than the seed (all of it
"probably object", the seed's core "surely object"). A larger third box was tried and dropped: it
swallowed the desk under the mug and the apple. Each answer keeps the
part connected to the click, loses thin strands (a 5 px opening) and has its holes filled; the answer
whose outline lies on the strongest image edges (mean gradient magnitude along the boundary) wins.
On a noisy photo the flood fill can stop after a few pixels; the guesses are then three boxes around
the click (8, 15 and 25 % of the short side), each refined by GrabCut, chosen the same way.
A box skips the guessing: GrabCut starts from it.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from ..parallel import shared_pool
from .predictor import SamResult

__all__ = ["ClassicalSegmenter"]

#: (name, margin around the seed's box as a share of its side, inside the box is "probably object",
#: isotropic margin, the seed's eroded core is "surely object")
_GUESSES = (("seed", 0.25, False, False, False), ("box", 0.15, True, True, True))
#: A seed under this share of the picture says nothing about the object's size (a flood fill stopped
#: by noise); the guesses are then boxes of these shares of the short side around the click.
_SMALL_SEED, _DEFAULT_BOXES = 0.002, (0.08, 0.15, 0.25)
#: Answers under this share of the picture lose to any larger one.
_MIN_ANSWER = 0.001


class ClassicalSegmenter:
    """OpenCV GrabCut seeded by the clicks: the panel's fallback when no SAM model is installed.

    Not SAM: no embedding, no learned prior, no predicted IoU (``scores`` is NaN). It works on a
    copy whose long side is ``work_side`` pixels and scales the mask back up.

    >>> import numpy as np
    >>> img = np.full((120, 160, 3), 40, np.uint8); img[30:90, 50:110] = (220, 60, 30)
    >>> seg = ClassicalSegmenter(); _ = seg.set_image(img)
    >>> r = seg.predict([(80, 60)], [1])
    >>> bool(r.mask[60, 80]), bool(r.mask[5, 5]), round(float(r.mask[30:90, 50:110].mean()), 2)
    (True, False, 1.0)
    """

    source = "GrabCut (classical fallback, not SAM)"

    def __init__(self, work_side: int = 512, iterations: int = 3, tolerance: int = 6) -> None:
        self.work_side, self.iterations, self.tolerance = work_side, iterations, tolerance
        self.image_hw: tuple[int, int] | None = None
        self._small: np.ndarray | None = None
        self._scale = 1.0
        self.image_timings: dict[str, float] = {}
        self.encoder_runs = 0
        self.guess = ""  # which guess won the last click

    def set_image(self, rgb: np.ndarray) -> dict[str, float]:
        import cv2  # lazy: importing cvexplorer stays fast

        a = np.asarray(rgb)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ValueError(f"GrabCut needs an (H, W, 3) uint8 RGB image, not {a.dtype} with shape {a.shape}.")
        t0 = time.perf_counter()
        h, w = a.shape[:2]
        s = min(1.0, self.work_side / max(h, w))
        self._scale = s
        small = cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) \
            if s < 1 else a
        self._small = np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        self._lab = cv2.cvtColor(cv2.bilateralFilter(self._small, 7, 30, 5), cv2.COLOR_BGR2Lab)
        g = cv2.cvtColor(self._small, cv2.COLOR_BGR2GRAY).astype(np.float32)
        self._grad = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
        self.image_hw = (h, w)
        self.image_timings = {"preprocess": (time.perf_counter() - t0) * 1e3}
        return dict(self.image_timings)

    # -- the steps ------------------------------------------------------------------------------------
    def _seed(self, pos: np.ndarray) -> np.ndarray:
        """The region of each positive click's colour: a flood fill that halves its tolerance while it
        floods more than 30 % of the picture."""
        import cv2

        sh, sw = self._lab.shape[:2]
        out = np.zeros((sh, sw), bool)
        for x, y in pos:
            tol = self.tolerance
            for _ in range(4):
                ff = np.zeros((sh + 2, sw + 2), np.uint8)
                cv2.floodFill(self._lab, ff, (int(x), int(y)), 0, (tol,) * 3, (tol,) * 3,
                              4 | cv2.FLOODFILL_MASK_ONLY | (1 << 8))
                reg = ff[1:-1, 1:-1] > 0
                if reg.mean() < 0.3:
                    break
                tol = max(1, tol // 2)
            out |= reg
        return out

    def _grabcut(self, gc: np.ndarray, roi: tuple[slice, slice]) -> np.ndarray:
        import cv2

        sub = np.ascontiguousarray(gc[roi])
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(7)  # GrabCut's k-means starts from this thread's RNG: the same click, the same mask
        try:
            cv2.grabCut(np.ascontiguousarray(self._small[roi]), sub, None, bgd, fgd, self.iterations,
                        cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            pass  # e.g. only one class seeded: keep the seeds as they are
        m = np.zeros(gc.shape, np.uint8)
        m[roi] = (sub == cv2.GC_FGD) | (sub == cv2.GC_PR_FGD)
        return m

    def _tidy(self, m: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Lose thin strands, keep the parts that hold a positive click, fill the holes."""
        import cv2

        sh, sw = m.shape
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
        if len(pos):
            n, comp = cv2.connectedComponents(m, connectivity=8)
            keep = np.zeros(n, bool)
            for x, y in pos:
                c = comp[min(sh - 1, max(0, int(y))), min(sw - 1, max(0, int(x)))]
                keep[c] = c != 0
            if keep.any():
                m = keep[comp].astype(np.uint8)
        outside = np.pad(1 - m, 1, constant_values=1)
        cv2.floodFill(outside, None, (0, 0), 2)
        return (outside[1:-1, 1:-1] != 2).astype(np.uint8)

    def _edge_score(self, m: np.ndarray) -> float:
        import cv2

        rim = m - cv2.erode(m, np.ones((3, 3), np.uint8))
        return float(self._grad[rim > 0].mean()) if rim.any() else 0.0

    def _guess(self, seed: np.ndarray, pos, neg, margin: float, inside_fg: bool, iso: bool, core: bool) -> np.ndarray:
        import cv2

        sh, sw = seed.shape
        ys, xs = np.nonzero(seed)
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        if iso:
            mx = my = int(max(x1 - x0, y1 - y0) * margin) + 8
        else:
            mx, my = int((x1 - x0) * margin) + 8, int((y1 - y0) * margin) + 8
        gc = np.full((sh, sw), cv2.GC_BGD, np.uint8)
        gc[max(0, y0 - my):y1 + my, max(0, x0 - mx):x1 + mx] = cv2.GC_PR_FGD if inside_fg else cv2.GC_PR_BGD
        gc[seed] = cv2.GC_PR_FGD
        if core:
            gc[cv2.erode(seed.astype(np.uint8), np.ones((5, 5), np.uint8), iterations=2) > 0] = cv2.GC_FGD
        self._clicks(gc, pos, neg)
        roi = (slice(max(0, y0 - 2 * my), y1 + 2 * my), slice(max(0, x0 - 2 * mx), x1 + 2 * mx))
        return self._tidy(self._grabcut(gc, roi), pos)

    def _best_guess(self, seed: np.ndarray, pos, neg) -> tuple[np.ndarray, str]:
        """Refine the guesses in parallel; the answer whose outline lies on the strongest edges wins.

        On a noisy photo (sensor noise, JPEG blocks) the flood fill can stop after a few pixels: the
        seed then says nothing about the object's size, so the guesses become boxes of
        :data:`_DEFAULT_BOXES` shares of the short side around the first click, each refined by
        GrabCut. Answers under :data:`_MIN_ANSWER` of the picture only win when nothing larger came back
        (a tiny mask's outline on texture can out-score a whole object's)."""
        sh, sw = seed.shape
        if seed.sum() >= _SMALL_SEED * sh * sw:
            guesses = [(g[0], seed, g[1:]) for g in _GUESSES]
        else:
            x, y = int(pos[0][0]), int(pos[0][1])
            guesses = []
            for share in _DEFAULT_BOXES:
                r = max(4, int(share * min(sh, sw)))
                box = np.zeros_like(seed)
                box[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1] = True
                guesses.append((f"box {share:.0%} of the short side", box, (0.0, True, False, False)))
        jobs = [shared_pool().submit(self._guess, s, pos, neg, *opts) for _name, s, opts in guesses]
        masks = [j.result() for j in jobs]
        areas = [int(m.sum()) for m in masks]
        scores = [self._edge_score(m) if a >= _MIN_ANSWER * sh * sw else -1.0 for m, a in zip(masks, areas)]
        k = int(np.argmax(scores)) if max(scores) >= 0 else int(np.argmax(areas))
        return masks[k], guesses[k][0]

    def _clicks(self, gc: np.ndarray, pos, neg) -> None:
        import cv2

        rad = max(2, int(round(0.01 * max(gc.shape))))
        for x, y in pos:
            cv2.circle(gc, (int(round(x)), int(round(y))), rad, int(cv2.GC_FGD), -1)
        for x, y in neg:
            cv2.circle(gc, (int(round(x)), int(round(y))), rad * 2, int(cv2.GC_BGD), -1)

    # -- the interface shared with SamPredictor -----------------------------------------------------------
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
        t1 = time.perf_counter()
        if box is not None:
            b = np.asarray(box, np.float32).reshape(4) * self._scale
            x0, x1 = sorted((b[0], b[2]))
            y0, y1 = sorted((b[1], b[3]))
            x0, y0 = int(max(0, np.floor(x0))), int(max(0, np.floor(y0)))
            x1, y1 = int(min(sw, np.ceil(x1))), int(min(sh, np.ceil(y1)))
            if x1 - x0 < 2 or y1 - y0 < 2:
                raise ValueError("The box is too small for GrabCut (under 2 pixels on the working copy).")
            gc = np.full((sh, sw), cv2.GC_BGD, np.uint8)
            gc[y0:y1, x0:x1] = cv2.GC_PR_FGD
            self._clicks(gc, pos, neg)
            small_mask = self._tidy(self._grabcut(gc, (slice(0, sh), slice(0, sw))), pos)
            self.guess = "box"
        else:
            seed = self._seed(pos)
            for x, y in neg:  # a "not object" click cuts its neighbourhood out of the seed
                cv2.circle(seed.view(np.uint8), (int(x), int(y)), max(3, int(0.02 * max(sh, sw))), 0, -1)
            small_mask, self.guess = self._best_guess(seed, pos, neg)
        t2 = time.perf_counter()
        h, w = self.image_hw
        full = cv2.resize(small_mask, (w, h), interpolation=cv2.INTER_NEAREST).view(bool) if (sh, sw) != (h, w) \
            else small_mask > 0
        t3 = time.perf_counter()
        timings = {"prompt": (t1 - t0) * 1e3, "grabcut": (t2 - t1) * 1e3, "postprocess": (t3 - t2) * 1e3}
        return SamResult(full[None], np.array([np.nan], np.float32), 0, None, timings, "cached", "CPU",
                         self.source)
