"""Homography & stitching: features, matches, RANSAC in the open, warping, blending, panoramas.

Tabs, left to right, follow the pipeline:

* **Matches** — two images side by side, keypoints, match lines (inliers green, outliers red),
  counts and the inlier ratio, the verdict (``reliable`` or the reason it is not).
* **RANSAC** — one hypothesis per step: its 4-point sample (orange), the matches that agree with it,
  a plot of inlier count and best-so-far per iteration with the live adaptive bound N.
* **Warp & blend** — image 1 warped onto image 2, blend none / feather / multiband, seams drawn.
* **Panorama** — every image chained to a central reference and blended, with stage timings.
* **Manual** — click four corners of a planar thing; the DLT turns them into a rectified view.

All heavy work (features, RANSAC, warping, stitching) runs in workers; the step-through only renders
``trace[i]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from cvexplorer import homography as hg

from ..widgets.canvas import ImageCanvas
from ..widgets.player import TracePlayer
from ..widgets.util import label
from .base import Panel

GAP = 24  # pixels between the two images of the side-by-side view
WORK_PIXELS = 800_000  # user photos are downscaled to this for the whole panel

SOURCES = (
    ("poster", "Built-in: poster, two views (known H)"),
    ("still-life", "Built-in: still life, two views (known H)"),
    ("views3", "Built-in: three overlapping views"),
    ("user", "Your images"),
)
TABS = ("Matches", "RANSAC", "Warp & blend", "Panorama", "Manual")
TAB_TITLES = ("Matches", "RANSAC", "Warp && blend", "Panorama", "Manual")


def _side_by_side(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """(composite, x offset of image b)."""
    h = max(a.shape[0], b.shape[0])
    w = a.shape[1] + GAP + b.shape[1]
    out = np.full((h, w, 3), 255, np.uint8)
    out[: a.shape[0], : a.shape[1]] = a[..., :3]
    out[: b.shape[0], a.shape[1] + GAP:] = b[..., :3]
    return out, float(a.shape[1] + GAP)


def _clip_polygon(poly: np.ndarray, w: float, h: float) -> np.ndarray:
    """Sutherland–Hodgman: the part of a polygon inside [0, w] × [0, h]."""
    pts = [tuple(p) for p in poly]
    for axis, bound, keep_less in ((0, 0.0, False), (0, w, True), (1, 0.0, False), (1, h, True)):
        out = []
        for k in range(len(pts)):
            a, b = pts[k - 1], pts[k]
            ina = a[axis] <= bound if keep_less else a[axis] >= bound
            inb = b[axis] <= bound if keep_less else b[axis] >= bound
            if ina != inb:
                t = (bound - a[axis]) / (b[axis] - a[axis])
                out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
            if inb:
                out.append(b)
        pts = out
        if not pts:
            break
    return np.array(pts, float).reshape(-1, 2)


def _builtin(source: str) -> tuple[list[np.ndarray], np.ndarray | None]:
    if source == "poster":
        a, b, H = hg.sample_pair("document", size=(800, 600), seed=4, strength=0.8)
        return [a, b], H
    if source == "still-life":
        a, b, H = hg.sample_pair("still-life", size=(800, 600), seed=3)
        return [a, b], H
    views, _ = hg.sample_panorama(n=3)
    return views, None


def _trim_heap() -> None:
    """Give freed memory back to the OS after a heavy job (SIFT's scale space on a worker thread
    otherwise stays in that thread's malloc arena). Linux/glibc only; a no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _trimmed(fn):
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            _trim_heap()

    return run


def _compute_pair(img1, img2, opts: dict) -> dict:
    """Worker: estimate + the traced RANSAC on the same matches + the warped overlay."""
    r = hg.estimate(img1, img2, detector=opts["detector"], ratio=opts["ratio"], threshold=opts["threshold"],
                    confidence=opts["confidence"], seed=0, max_pixels=opts.get("max_pixels"))
    trace = None
    if r.n_matches >= 4:
        # the same matches, seed and settings as estimate's RANSAC, so trace.final is its answer
        trace = hg.ransac_trace(r.src, r.dst, threshold=opts["threshold"], confidence=opts["confidence"], seed=0)
    return {"result": r, "trace": trace}


def _compute_warp(img1, img2, H, blend: str):
    # image 1 brought into image 2's frame: img2 is the reference
    return hg.warp_and_blend([img2, img1], [np.eye(3), H], blend=blend)


class PanelWidget(Panel):
    accepts_images = True

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        self.images: list[np.ndarray] = []
        self.true_H: np.ndarray | None = None
        self.source_name = ""
        self.pair_result: hg.HomographyResult | None = None
        self.trace = None
        self.blend_result: hg.BlendResult | None = None
        self.stitch_result: hg.StitchResult | None = None
        self.manual_points: list[tuple[float, float]] = []
        self.manual_image: np.ndarray | None = None
        self._x_off = 0.0
        self._stitch_dirty = True

        # ---- views ----------------------------------------------------------------------------------
        th = ctx.theme
        self.tabs = QTabWidget()
        self.match_canvas = ImageCanvas(theme=th)
        self.ransac_canvas = ImageCanvas(theme=th)
        self.warp_canvas = ImageCanvas(theme=th)
        self.pano_canvas = ImageCanvas(theme=th)
        self.manual_canvas = ImageCanvas(theme=th)
        self.rectified_canvas = ImageCanvas(theme=th)
        self.manual_canvas.clicked.connect(self.ctx.guard(self._on_manual_click, "stitching: manual click"))

        # RANSAC tab: canvas over plot, player below
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(180)
        self.plot.setLabel("bottom", "iteration")
        self.plot.setLabel("left", "inliers")
        self.legend = self.plot.addLegend(offset=(10, 5), labelTextSize=f"{int(ctx.theme.font_pt * 0.7)}pt",
                                          labelTextColor=ctx.theme.fg)
        self.count_curve = self.plot.plot([], [], pen=None, symbol="o", symbolSize=7, name="this sample's inliers")
        self.degenerate_curve = self.plot.plot([], [], pen=None, symbol="x", symbolSize=9, name="degenerate sample")
        self.best_curve = self.plot.plot([], [], stepMode=None, name="best so far")
        self.bound_line = pg.InfiniteLine(angle=90, movable=False)
        self.iter_line = pg.InfiniteLine(angle=90, movable=False)
        self.bound_text = pg.TextItem("", anchor=(1, 0))
        self.plot.addItem(self.bound_line)
        self.plot.addItem(self.iter_line)
        self.plot.addItem(self.bound_text)
        self.tp = TracePlayer()
        self.tp.stepChanged.connect(self._on_step)
        self.ransac_info = label("", "Big", wrap=True)
        rs = QSplitter(Qt.Orientation.Vertical)
        rs.addWidget(self.ransac_canvas)
        rs.addWidget(self.plot)
        rs.setStretchFactor(0, 3)
        rs.setStretchFactor(1, 2)
        rw = QWidget()
        rl = QVBoxLayout(rw)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(rs, 1)
        rl.addWidget(self.tp)

        mw = QWidget()
        ml = QVBoxLayout(mw)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.match_canvas, 1)

        man = QWidget()
        mnl = QHBoxLayout(man)
        mnl.setContentsMargins(0, 0, 0, 0)
        mnl.addWidget(self.manual_canvas, 3)
        mnl.addWidget(self.rectified_canvas, 2)

        for name, w in zip(TAB_TITLES, (mw, rw, self.warp_canvas, self.pano_canvas, man)):
            self.tabs.addTab(w, name)
        self.tabs.currentChanged.connect(self._on_tab)

        # ---- controls -------------------------------------------------------------------------------
        self.source = QComboBox()
        for key, text in SOURCES:
            self.source.addItem(text, key)
        self.source.currentIndexChanged.connect(self._on_source)
        self.open_btn = QPushButton("Open images…")
        self.open_btn.clicked.connect(self._open_files)
        self.pair_combo = QComboBox()
        self.pair_combo.currentIndexChanged.connect(lambda *_: self._recompute())
        self.detector = QComboBox()
        for d in hg.available_detectors():
            self.detector.addItem(d.upper(), d)
        self.detector.currentIndexChanged.connect(lambda *_: self._recompute())
        self.ratio = QDoubleSpinBox()
        self.ratio.setRange(0.4, 1.0)
        self.ratio.setSingleStep(0.05)
        self.ratio.setValue(0.75)
        self.ratio.valueChanged.connect(lambda *_: self._recompute())
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.5, 50)
        self.threshold.setSingleStep(0.5)
        self.threshold.setValue(3.0)
        self.threshold.setSuffix(" px")
        self.threshold.valueChanged.connect(lambda *_: self._recompute())
        self.blend = QComboBox()
        for b in hg.BLENDS:
            self.blend.addItem(b, b)
        self.blend.setCurrentIndex(hg.BLENDS.index("feather"))
        self.blend.currentIndexChanged.connect(self._on_blend)
        self.seams = QCheckBox("show seams")
        self.seams.setChecked(True)
        self.seams.toggled.connect(lambda *_: self._render_warp_and_pano())
        self.show_outliers = QCheckBox("show outliers")
        self.show_outliers.setChecked(True)
        self.show_outliers.toggled.connect(lambda *_: self._render_matches())
        self.rect_w = QSpinBox()
        self.rect_w.setRange(0, 4000)
        self.rect_w.setSpecialValueText("auto")
        self.rect_h = QSpinBox()
        self.rect_h.setRange(0, 4000)
        self.rect_h.setSpecialValueText("auto")
        self.rect_w.valueChanged.connect(lambda *_: self._update_manual())
        self.rect_h.valueChanged.connect(lambda *_: self._update_manual())
        self.clear_btn = QPushButton("Clear clicks")
        self.clear_btn.clicked.connect(self._clear_manual)

        box = QGroupBox("Input")
        g = QGridLayout(box)
        g.addWidget(self.source, 0, 0, 1, 2)
        g.addWidget(self.open_btn, 1, 0)
        g.addWidget(self.pair_combo, 1, 1)
        opts = QGroupBox("Settings")
        for b in (box, opts):  # collapse in presentation mode (Panel.set_presentation)
            b.setObjectName("Controls")
        g2 = QGridLayout(opts)
        for r, (text, w) in enumerate((("features", self.detector), ("ratio test", self.ratio),
                                       ("RANSAC threshold", self.threshold), ("blend", self.blend))):
            g2.addWidget(QLabel(text), r, 0)
            g2.addWidget(w, r, 1)
        g2.addWidget(self.show_outliers, 4, 0)
        g2.addWidget(self.seams, 4, 1)
        self.manual_box = QGroupBox("Manual target (w × h)")
        g3 = QGridLayout(self.manual_box)
        g3.addWidget(self.rect_w, 0, 0)
        g3.addWidget(self.rect_h, 0, 1)
        g3.addWidget(self.clear_btn, 1, 0, 1, 2)

        self.stats = label("", "Big", wrap=True)
        self.verdict = label("", wrap=True)
        self.warning = label("", "Warning", wrap=True)
        self.details = label("", "Muted", wrap=True)

        side = QWidget()
        side.setMaximumWidth(560)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(box)
        sl.addWidget(opts)
        sl.addWidget(self.manual_box)
        sl.addWidget(self.stats)
        sl.addWidget(self.verdict)
        sl.addWidget(self.warning)
        sl.addWidget(self.details)
        sl.addStretch(1)

        lay = QHBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(side)
        self._on_tab(0)
        self.apply_theme(th)
        self._load_source("poster")

    # ---- input ---------------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        """One photo: a second view is synthesised by warping it with a known H (explained in place)."""
        from cvexplorer.imageio import working_copy

        rgb = working_copy(np.ascontiguousarray(rgb[..., :3]), WORK_PIXELS)[0]
        if self.source.currentData() == "user" and len(self.images) == 1 and self.source_name != source:
            self.set_images([self.images[0], rgb], f"{self.source_name} + {source}")
            return
        import cv2

        h, w = rgb.shape[:2]
        rng = np.random.default_rng(1)
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
        dst = src + rng.uniform(-1, 1, (4, 2)) * np.array([w, h]) * 0.07 + np.array([-0.1 * w, 0])
        H = hg.dlt(src, dst)
        b = cv2.warpPerspective(np.ascontiguousarray(rgb), H, (w, h), borderMode=cv2.BORDER_REFLECT)
        self._set_source_silently("user")
        self.images = [rgb, b]
        self.true_H = H
        self.source_name = source
        self.manual_image = rgb
        self.ctx.status(f"{source}: a second view was made by warping your photo with a known homography; "
                        f"open two or more photos for a real pair")
        self._after_new_images()

    def set_images(self, images: list[np.ndarray], source: str = "") -> None:
        if len(images) < 2:
            raise ValueError("stitching needs at least two images")
        self._set_source_silently("user")
        from cvexplorer.imageio import working_copy

        # photos are worked on (and shown) as copies of at most WORK_PIXELS pixels: same geometry, less waiting
        self.images = [working_copy(np.ascontiguousarray(im[..., :3]), WORK_PIXELS)[0] for im in images]
        self.true_H = None
        self.source_name = source
        self.manual_image = self.images[0]
        self._after_new_images()

    def _set_source_silently(self, key: str) -> None:
        self.source.blockSignals(True)
        self.source.setCurrentIndex([k for k, _ in SOURCES].index(key))
        self.source.blockSignals(False)

    def _open_files(self) -> None:
        from cvexplorer.imageio import load_image

        paths, _ = QFileDialog.getOpenFileNames(self, "Open two or more overlapping photos", "",
                                                "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff)")
        if not paths:
            return
        try:
            imgs = [load_image(p) for p in paths]
        except Exception as exc:  # ImageLoadError and friends: say so, keep the current images
            self.ctx.report_error(exc, "stitching: open images")
            return
        if len(imgs) == 1:
            self.set_image(imgs[0], paths[0])
        else:
            self.set_images(imgs, ", ".join(p.rsplit("/", 1)[-1] for p in paths))

    def _on_source(self, *_):
        key = self.source.currentData()
        if key == "user":
            if not self.images or self.source_name.startswith("built-in"):
                self.ctx.status("Use 'Open images…' (or File > Open) to load your photos.")
            return
        self._load_source(key)

    def _load_source(self, key: str) -> None:
        imgs, H = _builtin(key)
        self.images = imgs
        self.true_H = H
        self.source_name = f"built-in {key}"
        from cvexplorer.samples import get_sample

        self.manual_image = get_sample("document", (800, 600))
        self._after_new_images()

    def _after_new_images(self) -> None:
        self.pair_combo.blockSignals(True)
        self.pair_combo.clear()
        n = len(self.images)
        for i in range(n - 1):
            self.pair_combo.addItem(f"pair {i + 1}–{i + 2}", (i, i + 1))
        self.pair_combo.setVisible(n > 2)
        self.pair_combo.blockSignals(False)
        self._stitch_dirty = True
        self.stitch_result = None
        self._init_manual()
        self._recompute()

    # ---- computing -----------------------------------------------------------------------------------
    def _opts(self) -> dict:
        return {"detector": self.detector.currentData(), "ratio": float(self.ratio.value()),
                "threshold": float(self.threshold.value()), "confidence": 0.99, "max_pixels": 1_000_000}

    def _pair(self) -> tuple[int, int]:
        d = self.pair_combo.currentData()
        return tuple(d) if d else (0, 1)

    def _recompute(self) -> None:
        if len(self.images) < 2:
            return
        i, j = self._pair()
        self.stats.setText("computing…")
        self.ctx.workers.submit("stitching-pair", _trimmed(_compute_pair), self.images[i], self.images[j], self._opts(),
                                on_done=self._pair_done, on_error=self._on_error)
        self._stitch_dirty = True
        if self.tabs.currentIndex() == TABS.index("Panorama"):
            self._request_stitch()

    def _on_error(self, exc) -> None:
        self.ctx.report_error(exc, "stitching")
        self.warning.setText(f"Could not compute: {exc}")

    def _pair_done(self, out: dict) -> None:
        r: hg.HomographyResult = out["result"]
        self.pair_result = r
        self.trace = out["trace"]
        self.ctx.record(self.panel_id or "stitching", dict(r.timings), device="CPU")
        self._render_matches()
        self._render_verdict()
        if self.trace is not None:
            self.tp.set_trace(self.trace)
            self._setup_plot()
            self.tp.seek(0)
        else:
            self.tp.set_trace(None)
            self.ransac_canvas.clear_overlays()
        self._request_warp()

    def _request_warp(self) -> None:
        r = self.pair_result
        if r is None or r.H is None or not r.reliable:
            # a failed estimate is not warped as if it were a result: say why instead
            self.warp_canvas.clear_overlays()
            self.blend_result = None
            if r is not None and len(self.images) >= 2:
                self.warp_canvas.set_image(self.images[self._pair()[1]])
                self.warp_canvas.set_texts("labels", [(8, 8, "no warp: " + (r.reason or "no homography"))],
                                           color="black")
            return
        i, j = self._pair()
        self.ctx.workers.submit("stitching-warp", _trimmed(_compute_warp), self.images[i], self.images[j], r.H,
                                self.blend.currentData(), on_done=self._warp_done, on_error=self._on_error)

    def _warp_done(self, br: hg.BlendResult) -> None:
        self.blend_result = br
        self.ctx.record(self.panel_id or "stitching", dict(br.timings), device="CPU")
        self._render_warp_and_pano()

    def _request_stitch(self) -> None:
        if len(self.images) < 2:
            return
        self._stitch_dirty = False
        o = self._opts()
        self.ctx.workers.submit("stitching-pano", _trimmed(hg.stitch), list(self.images), detector=o["detector"],
                                ratio=o["ratio"], threshold=o["threshold"], blend=self.blend.currentData(),
                                on_done=self._stitch_done, on_error=self._on_error)

    def _stitch_done(self, res: hg.StitchResult) -> None:
        self.stitch_result = res
        self.ctx.record(self.panel_id or "stitching", {f"stitch {k}": v for k, v in res.timings.items()},
                        device="CPU")
        self._render_warp_and_pano()
        if self.tabs.currentIndex() == TABS.index("Panorama"):
            self._render_verdict()

    def _on_blend(self, *_):
        self._request_warp()
        self._stitch_dirty = True
        if self.tabs.currentIndex() == TABS.index("Panorama"):
            self._request_stitch()

    def _on_tab(self, idx: int) -> None:
        self.manual_box.setVisible(TABS[idx] == "Manual")
        self.seams.setVisible(TABS[idx] in ("Warp & blend", "Panorama"))
        self.show_outliers.setVisible(TABS[idx] in ("Matches", "RANSAC"))
        if TABS[idx] == "Panorama" and (self._stitch_dirty or self.stitch_result is None):
            self._request_stitch()
        self._render_verdict()

    # ---- rendering -----------------------------------------------------------------------------------
    def _composite(self, canvas: ImageCanvas) -> None:
        i, j = self._pair()
        comp, self._x_off = _side_by_side(self.images[i], self.images[j])
        canvas.set_image(comp)

    def _segments(self, idx: np.ndarray) -> np.ndarray:
        r = self.pair_result
        s, d = r.src[idx], r.dst[idx]
        return np.concatenate([s, d + [self._x_off, 0]], axis=1)

    def _render_matches(self) -> None:
        r = self.pair_result
        c = self.match_canvas
        if r is None:
            return
        self._composite(c)
        c.clear_overlays()
        m = r.matches
        lw = self.ctx.theme.line_px
        if m is not None:
            kp = np.concatenate([m.kp1, m.kp2 + [self._x_off, 0]]) if len(m.kp1) + len(m.kp2) else np.zeros((0, 2))
            c.set_points("keypoints", kp, color="waiting", size=3, z=8)
        inl = np.flatnonzero(r.inliers)
        out = np.flatnonzero(~r.inliers)
        # thin the drawing, not the data, when there are thousands of matches
        rng = np.random.default_rng(0)
        if len(inl) > 300:
            inl = np.sort(rng.choice(inl, 300, replace=False))
        if len(out) > 200:
            out = np.sort(rng.choice(out, 200, replace=False))
        if self.show_outliers.isChecked() and len(out):
            c.set_lines("outliers", self._segments(out), color="outlier", width=max(1.0, lw * 0.4), z=11)
        if len(inl):
            c.set_lines("inliers", self._segments(inl), color="inlier", width=max(1.0, lw * 0.5), z=12)
        c.set_texts("labels", [(8, 8, "image 1"), (self._x_off + 8, 8, "image 2")], scale=1.0)

    def _render_verdict(self) -> None:
        tab = TABS[self.tabs.currentIndex()]
        if tab == "Panorama":
            res = self.stitch_result
            if res is None:
                self.stats.setText("stitching…")
                self.verdict.setText("")
                self.warning.setText("")
                self.details.setText("")
                return
            n = len(self.images)
            self.stats.setText(f"{len(res.used)} of {n} images used\nreference: image {res.reference + 1}")
            self.verdict.setText("Each image is chained to the central one by its pairwise homographies.")
            self.warning.setText("\n".join(res.warnings))
            t = res.timings
            self.details.setText("  ".join(f"{k} {v:.0f} ms" for k, v in t.items()))
            return
        if tab == "Manual":
            self._render_manual_text()
            return
        r = self.pair_result
        if r is None:
            return
        kp = f"{len(r.matches.kp1)} + {len(r.matches.kp2)} keypoints\n" if r.matches is not None else ""
        self.stats.setText(f"{kp}{r.n_matches} matches\n{r.n_inliers} inliers ({r.inlier_ratio:.0%})")
        verdict = "✔ reliable homography" if r.reliable else "✘ not reliable"
        if tab == "RANSAC" and self.trace is not None and self.tp.length:
            st = self.tp.current_step()
            n = max(int(st["n"]), 1)
            w = max(st.best, 0) / n
            p = float(self.trace.meta.get("confidence", 0.99))
            verdict += (f"\nbound N = ⌈log(1−p) / log(1−w⁴)⌉\n"
                        f"  w = {max(st.best, 0)}/{n} = {w:.2f}, p = {p:g} → N = {st.bound}")
        self.verdict.setText(verdict)
        warn = [] if r.reliable else [r.reason]
        warn += list(r.warnings)
        if self.trace is not None and tab == "RANSAC":
            st = self.tp.current_step() if self.tp.length else None
            if st is not None and st.get("degenerate"):
                warn.append("This sample is degenerate: three of its points lie on a line (or it mirrors the "
                            "plane), so no homography is fitted and RANSAC draws again.")
        self.warning.setText("\n".join(warn))
        det = []
        if r.H is not None and self.true_H is not None and self.pair_result.reliable:
            i, j = self._pair()
            h, w = self.images[i].shape[:2]
            grid = hg.grid_points(w, h, 20)
            err = np.linalg.norm(hg.project(r.H, grid) - hg.project(self.true_H, grid), axis=1).mean()
            det.append(f"error vs the true H: {err:.2f} px (20×20 grid)")
        det.append("  ".join(f"{k} {v:.0f} ms" for k, v in r.timings.items()))
        self.details.setText("\n".join(det))

    def _setup_plot(self) -> None:
        t = self.trace
        th = self.ctx.theme
        counts = np.asarray(t[0]["counts"], float)
        bests = np.asarray(t[0]["bests"], float)
        it = np.arange(1, len(counts) + 1)
        good = counts >= 0
        self.count_curve.setData(it[good], counts[good], symbolBrush=pg.mkBrush(th.color("waiting")),
                                 symbolPen=pg.mkPen(th.color("waiting")), symbolSize=6 + th.line_px * 1.5)
        self.degenerate_curve.setData(it[~good], np.zeros(int((~good).sum())),
                                      symbolBrush=pg.mkBrush(th.color("outlier")),
                                      symbolPen=pg.mkPen(th.color("outlier")), symbolSize=8 + th.line_px * 2)
        # best-so-far as a staircase
        sx = np.repeat(np.append(it, it[-1] + 1), 2)[1:-1] if len(it) else it
        sy = np.repeat(bests, 2) if len(it) else bests
        self.best_curve.setData(sx, sy, pen=th.pen("inlier", th.line_px))
        bounds = np.asarray(t[0]["bounds"])
        first = int(bounds[0]) if len(bounds) else 1
        self.plot.setXRange(0, max(len(counts) + 1, min(first, 3 * len(counts)) + 1, 3), padding=0.02)
        self.plot.setYRange(0, max(1.0, float(t.meta["n"])) * 1.05, padding=0)

    def _on_step(self, i: int) -> None:
        if self.trace is None or not len(self.trace):
            return
        st = self.trace[i]
        self.tp.set_caption(st.caption)
        r = self.pair_result
        c = self.ransac_canvas
        self._composite(c)
        c.clear_overlays()
        th = self.ctx.theme
        inl = np.flatnonzero(st.inliers)
        out = np.flatnonzero(~np.asarray(st.inliers))
        rng = np.random.default_rng(0)
        if len(inl) > 300:
            inl = np.sort(rng.choice(inl, 300, replace=False))
        if len(out) > 150:
            out = np.sort(rng.choice(out, 150, replace=False))
        if self.show_outliers.isChecked() and len(out):
            c.set_lines("outliers", self._segments(out), color="outlier", width=max(1.0, th.line_px * 0.3), z=11)
        if len(inl):
            c.set_lines("inliers", self._segments(inl), color="inlier", width=max(1.0, th.line_px * 0.5), z=12)
        sample = np.asarray(st.sample, int)
        if len(sample):
            c.set_lines("sample", self._segments(sample), color="current", width=th.line_px * 1.5, z=15)
            pts = np.concatenate([r.src[sample], r.dst[sample] + [self._x_off, 0]])
            c.set_points("sample-points", pts, color="current", size=14, z=16)
        # the model's picture: image 1's outline mapped into image 2
        H = np.asarray(st.H)
        if np.isfinite(H).all():
            i0 = self.images[self._pair()[0]]
            h, w = i0.shape[:2]
            quad = hg.project(H, np.array([[0, 0], [w, 0], [w, h], [0, h]], float))
            h2, w2 = self.images[self._pair()[1]].shape[:2]
            if np.isfinite(quad).all() and np.abs(quad).max() < 1e6:
                clipped = _clip_polygon(quad, w2, h2)
                if len(clipped) >= 3:
                    c.set_polygons("model", [clipped + [self._x_off, 0]], color="current", dash=True, z=13)
        c.set_texts("labels", [(8, 8, f"iteration {st.iteration}" if not st.final else "refined"),
                               (self._x_off + 8, 8, f"{max(st.count, 0)} inliers")])
        # plot markers
        self.iter_line.setPos(st.iteration)
        self.iter_line.setPen(th.pen("current", th.line_px * 0.6))
        self.bound_line.setPos(st.bound)
        self.bound_line.setPen(th.pen("accent", th.line_px * 0.6, style="dash"))
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        self.bound_text.setText(f"bound N = {st.bound}")
        self.bound_text.setColor(th.color("accent"))
        self.bound_text.setPos(min(st.bound, x1), y1 * 0.98)
        self.ransac_info.setText(st.caption)
        self._render_verdict()

    def _render_warp_and_pano(self) -> None:
        th = self.ctx.theme
        for canvas, br, texts in ((self.warp_canvas, self.blend_result, None),
                                  (self.pano_canvas, self.stitch_result.blend if self.stitch_result else None, None)):
            if br is None:
                continue
            canvas.set_image(br.image)
            if self.seams.isChecked():
                import cv2

                seam = cv2.dilate(br.seams.astype(np.uint8), np.ones((3, 3), np.uint8),
                                  iterations=max(1, int(th.line_px // 2)))
                rgba = np.zeros(seam.shape + (4,), np.uint8)
                col = th.color("highlight").lstrip("#")
                rgba[seam > 0] = [int(col[0:2], 16), int(col[2:4], 16), int(col[4:6], 16), 255]
                canvas.set_overlay("seams", rgba, z=12)
            else:
                canvas.set_overlay("seams", None)
        blend = self.blend.currentData()
        what = ("yellow: where the cross-fade starts and ends" if blend == "feather"
                else "yellow: the seams between images")
        if self.blend_result is not None:
            self.warp_canvas.set_texts("labels", [(8, 8, f"image 1 warped onto image 2 — {blend} blend"
                                                         f"{'; ' + what if self.seams.isChecked() else ''}")])
        if self.stitch_result is not None and self.stitch_result.blend is not None:
            res = self.stitch_result
            br = res.blend
            # number each image at its warped centre
            items = []
            for k, i in enumerate(res.used):
                im = self.images[i]
                h, w = im.shape[:2]
                Hs = np.diag([res.scale, res.scale, 1.0]) @ res.homographies[i] @ np.diag([1 / res.scale, 1 / res.scale, 1])
                cxy = hg.project(Hs, np.array([[w * res.scale / 2, h * res.scale / 2]]))[0] + br.offset
                items.append((cxy[0], cxy[1], f"{i + 1}" + (" (ref)" if i == res.reference else "")))
            self.pano_canvas.set_texts("labels", items, anchor=(0.5, 0.5))
            self.pano_canvas.set_texts("title", [(8, 8, f"{len(res.used)} images, {blend} blend"
                                                        f"{'; ' + what if self.seams.isChecked() else ''}")])

    # ---- manual mode -------------------------------------------------------------------------------
    def _init_manual(self) -> None:
        img = self.manual_image if self.manual_image is not None else self.images[0]
        self.manual_canvas.set_image(img)
        self.manual_points = []
        if self.source_name.startswith("built-in"):
            w, h = img.shape[1], img.shape[0]
            # the poster's corners in the built-in "document" sample (top-left, top-right, bottom-right, bottom-left)
            self.manual_points = [(0.30 * w, 0.12 * h), (0.72 * w, 0.20 * h), (0.68 * w, 0.90 * h), (0.22 * w, 0.80 * h)]
        self._update_manual()

    def _clear_manual(self) -> None:
        self.manual_points = []
        self._update_manual()

    def _on_manual_click(self, x: float, y: float, button: int = 1, modifiers: int = 0) -> None:
        if button != int(Qt.MouseButton.LeftButton.value):
            return
        if len(self.manual_points) >= 4:
            self.manual_points = []
        self.manual_points.append((float(x), float(y)))
        self._update_manual()

    def _update_manual(self) -> None:
        c = self.manual_canvas
        pts = np.array(self.manual_points, float).reshape(-1, 2)
        names = ("1 top-left", "2 top-right", "3 bottom-right", "4 bottom-left")
        c.set_points("clicks", pts, color="current", size=14)
        c.set_texts("click-labels", [(x + 10, y + 10, names[k]) for k, (x, y) in enumerate(pts)])
        if len(pts) >= 2:
            c.set_polygons("quad", [pts], color="current", closed=len(pts) == 4)
        else:
            c.clear_layer("quad")
        self.manual_H = None
        self.manual_error = ""
        if len(pts) == 4:
            size = None
            if self.rect_w.value() and self.rect_h.value():
                size = (self.rect_w.value(), self.rect_h.value())
            try:
                img = self.manual_image if self.manual_image is not None else self.images[0]
                view, H = hg.rectify(img, pts, size=size)
                self.rectified_canvas.set_image(view, autorange=True)
                self.rectified_canvas.set_texts("labels", [(4, 4, f"rectified {view.shape[1]}×{view.shape[0]}")])
                self.manual_H = H
            except (hg.DegenerateSampleError, ValueError) as exc:
                self.manual_error = str(exc)
                self.rectified_canvas.clear_overlays()
        if TABS[self.tabs.currentIndex()] == "Manual":
            self._render_manual_text()

    def _render_manual_text(self) -> None:
        n = len(self.manual_points)
        if n < 4:
            self.stats.setText(f"click corner {n + 1} of 4")
            self.verdict.setText("Click the corners of a flat thing (poster, page, court) in the order "
                                 "top-left, top-right, bottom-right, bottom-left.")
            self.warning.setText("")
            self.details.setText("")
            return
        self.stats.setText("4 corners → H by DLT")
        if self.manual_error:
            self.verdict.setText("")
            self.warning.setText(self.manual_error)
            self.details.setText("")
            return
        self.warning.setText("")
        H = self.manual_H
        rows = "\n".join("  ".join(f"{v:9.4g}" for v in row) for row in H)
        self.verdict.setText("Four point pairs give 8 equations for H's 8 unknowns; the DLT solves them.")
        self.details.setText(f"H =\n{rows}")

    # ---- player, lessons, demo ---------------------------------------------------------------------
    def player(self):  # noqa: D401 - Panel hook
        return self.tp

    def go_to_step(self, n: int) -> None:
        self.tabs.setCurrentIndex(TABS.index("RANSAC"))
        super().go_to_step(n)

    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update({"tab": TABS[self.tabs.currentIndex()], "source": self.source.currentData(),
                   "detector": self.detector.currentData(), "ratio": self.ratio.value(),
                   "threshold": self.threshold.value(), "blend": self.blend.currentData(),
                   "manual_points": [list(p) for p in self.manual_points]})
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        if state.get("source") and state["source"] != "user":
            self.source.setCurrentIndex([k for k, _ in SOURCES].index(state["source"]))
        if "detector" in state:
            k = self.detector.findData(state["detector"])
            if k >= 0:
                self.detector.setCurrentIndex(k)
        if "ratio" in state:
            self.ratio.setValue(float(state["ratio"]))
        if "threshold" in state:
            self.threshold.setValue(float(state["threshold"]))
        if "blend" in state:
            self.blend.setCurrentIndex(list(hg.BLENDS).index(state["blend"]))
        if "manual_points" in state:
            self.manual_points = [tuple(p) for p in state["manual_points"]]
            self._update_manual()
        if "tab" in state and state["tab"] in TABS:
            self.tabs.setCurrentIndex(TABS.index(state["tab"]))
        self.wait_idle(60)
        if "step" in state:
            super().go_to_step(int(state["step"]))

    def demo(self) -> None:
        """Stitch the built-in three views and show the panorama."""
        self.source.setCurrentIndex([k for k, _ in SOURCES].index("views3"))
        self.wait_idle(60)
        self.tabs.setCurrentIndex(TABS.index("Panorama"))

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.plot.setBackground(theme.plot_bg)
        from PySide6.QtGui import QFont

        f = QFont()
        f.setPointSizeF(theme.font_pt * 0.7)
        for ax in ("bottom", "left"):
            a = self.plot.getAxis(ax)
            a.setTickFont(f)
            a.setPen(pg.mkPen(theme.fg))
            a.setTextPen(pg.mkPen(theme.fg))
            a.label.setFont(f)
        self.bound_text.setFont(f)
        if self.trace is not None:
            self._setup_plot()
            self._on_step(self.tp.index)

    def shutdown(self) -> None:
        for key in ("stitching-pair", "stitching-warp", "stitching-pano"):
            self.ctx.workers.cancel(key)
