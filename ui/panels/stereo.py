"""Stereo depth panel: disparity from a rectified pair, depth = f·B/d, and the 1-D search along a row.

Top: the left and right views with horizontal epipolar guide lines and a shared cursor (the row you
point at in one view is drawn in the other, with the matched position); the rectification check
(median vertical offset of matched ORB features) sits under them. Bottom: the disparity map with a
colour bar and, when ground truth is known (the built-in scene always has it), the error map and
bad-2 / density / EPE. Click the disparity map (or the left view): d, Z = f·B/(d + doffs), Z's
range for ±1 px of disparity error, the pixel's cost curve over all disparities with its minimum,
and where that pixel sits on the depth-against-disparity curve. The matcher runs in a worker,
debounced, on every control change.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout,
                               QGroupBox, QHBoxLayout, QPushButton, QScrollArea, QSpinBox, QSplitter,
                               QVBoxLayout, QWidget)

from cvexplorer import formulas
from cvexplorer import stereo as S

from ..widgets.canvas import ImageCanvas
from ..widgets.formula import FormulaCard
from ..widgets.util import label
from ..workers import Debouncer
from .base import Panel

__all__ = ["PanelWidget"]

METHOD_TITLES = {"sgbm": "SGBM + fill + median", "bm": "Block matching (BM)",
                 "teaching": "Teaching: plain SAD"}

TRAP_TEXT = (
    "<b>OpenCV's ×16 trap:</b> <tt>compute()</tt> returns <b>int16 d × 16</b> (−16 = no match). "
    "{example}")


def _compute(left, right, gt, params: dict, pair_info: dict | None = None) -> dict:
    """Worker job (engine only): disparity, rectification check and, with ground truth, the errors.

    ``pair_info`` caches what depends on the pair only (the rectification check, the estimated
    range), so a slider change costs just the matcher.
    """
    t0 = time.perf_counter()
    info = dict(pair_info or {})
    if "offset" not in info:
        info["offset"] = S.vertical_offset(left, right)
    if "auto_nd" not in info:
        info["auto_nd"] = S.estimate_num_disparities(left, right)
    nd = params["num_disparities"] or info["auto_nd"]
    t1 = time.perf_counter()
    d, filled = S.compute_disparity(left, right, method=params["method"], num_disparities=nd,
                                    block_size=params["block_size"], lr_check=params["lr_check"],
                                    fill=params["fill"], smoothness=params["smoothness"],
                                    uniqueness=params["uniqueness"], return_filled=True)
    t2 = time.perf_counter()
    out: dict[str, Any] = {"disparity": d, "filled": filled, "nd": int(nd), "params": dict(params), "pair_info": info,
                           "offset": info["offset"]}
    if gt is not None:
        out["metrics"] = S.evaluate(d, gt, filled_mask=filled if filled.any() else None)
        err = np.abs(d - gt)
        out["error"] = err
    out["ms"] = {"matching": (t2 - t1) * 1e3}
    if pair_info is None:
        out["ms"]["rectification check + range"] = (t1 - t0) * 1e3
    return out


def _styled_plot(th, left: str, bottom: str) -> pg.PlotWidget:
    p = pg.PlotWidget()
    p.setMenuEnabled(False)
    p.setMouseEnabled(False, False)
    p.hideButtons()
    p.setLabel("left", left)
    p.setLabel("bottom", bottom)
    _style_plot(p, th)
    return p


def _style_plot(p: pg.PlotWidget, th) -> None:
    from PySide6.QtGui import QFont

    p.setBackground(th.plot_bg)
    f = QFont()
    f.setPointSizeF(th.font_pt * 0.85)
    for ax in ("left", "bottom"):
        a = p.getPlotItem().getAxis(ax)
        a.setPen(pg.mkPen(th.fg))
        a.setTextPen(pg.mkPen(th.fg))
        a.setTickFont(f)
        a.label.setFont(f)


class PanelWidget(Panel):
    accepts_stereo = True

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        from cvexplorer.samples.stereo import stereo_scene

        left, right, gt = stereo_scene(size=(640, 480), seed=0)
        self.left, self.right, self.gt = left, right, gt
        self.source = "built-in scene (exact truth)"
        self.result: dict | None = None
        self.pick: tuple[int, int] | None = None
        self.cost: np.ndarray | None = None
        self.readout: dict = {}
        self._pair_info: dict | None = None
        th = ctx.theme

        # -- views ------------------------------------------------------------------------------------
        self.banner = label("", "Big", wrap=True, rich=True)
        self.left_view = ImageCanvas(theme=th)
        self.right_view = ImageCanvas(theme=th)
        self.disp_view = ImageCanvas(theme=th)
        self.err_view = ImageCanvas(theme=th)
        for c, name in ((self.left_view, "left"), (self.disp_view, "disparity"), (self.err_view, "error")):
            c.clicked.connect(ctx.guard(lambda x, y, b, m: self.pick_pixel(x, y), "Stereo"))
        for c in (self.left_view, self.disp_view, self.err_view):
            c.hovered.connect(ctx.guard(lambda x, y: self._cursor(x, y, "left"), "Stereo"))
        self.right_view.hovered.connect(ctx.guard(lambda x, y: self._cursor(x, y, "right"), "Stereo"))
        self.t_left = label("Left view (reference)", wrap=True)
        self.t_right = label("Right view: a point moves LEFT by d", wrap=True)
        self.t_disp = label("Disparity d (px)", wrap=True)
        self.t_err = label("Error vs ground truth", wrap=True)
        self.rect_label = label("", wrap=True, rich=True)
        self.colorbar = pg.PlotWidget()
        self.colorbar.setMenuEnabled(False)
        self.colorbar.setMouseEnabled(False, False)
        self.colorbar.hideButtons()
        self.colorbar.getPlotItem().hideAxis("left")
        self.colorbar.setLabel("bottom", "d (px): high = near")
        self._cbar_img = pg.ImageItem(axisOrder="row-major")
        self.colorbar.addItem(self._cbar_img)
        self.colorbar.setFixedHeight(int(th.font_pt * 5.5))
        _style_plot(self.colorbar, th)
        self.metrics_label = label("", wrap=True, rich=True)

        views = QWidget()
        g = QGridLayout(views)
        g.setContentsMargins(0, 0, 0, 0)
        g.addWidget(self.t_left, 0, 0)
        g.addWidget(self.t_right, 0, 1)
        g.addWidget(self.left_view, 1, 0)
        g.addWidget(self.right_view, 1, 1)
        g.addWidget(self.rect_label, 2, 0, 1, 2)
        g.addWidget(self.t_disp, 3, 0)
        g.addWidget(self.t_err, 3, 1)
        g.addWidget(self.disp_view, 4, 0)
        g.addWidget(self.err_view, 4, 1)
        g.addWidget(self.colorbar, 5, 0)
        g.addWidget(self.metrics_label, 5, 1)
        g.setRowStretch(1, 3)
        g.setRowStretch(4, 3)

        # -- readout + plots ----------------------------------------------------------------------------
        self.card = FormulaCard("Depth at the clicked pixel", "Z = f·B / (d + doffs)")
        self.cost_plot = _styled_plot(th, "cost (SAD)", "disparity d (px)")
        self.depth_plot = _styled_plot(th, "depth Z (m)", "disparity d (px)")
        self.t_cost = label("Cost of every disparity at the pixel: the 1-D search", wrap=True)
        self.t_depth = label("Z = f·B/d: one pixel of d is worth more and more depth far away", wrap=True)
        self.trap = label("", wrap=True, rich=True)
        right_col = QWidget()
        rv = QVBoxLayout(right_col)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.card)
        rv.addWidget(self.t_cost)
        rv.addWidget(self.cost_plot, 2)
        rv.addWidget(self.t_depth)
        rv.addWidget(self.depth_plot, 2)

        # -- controls -----------------------------------------------------------------------------------
        self.method = QComboBox()
        self.method.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.method.setMinimumContentsLength(8)
        for k, t in METHOD_TITLES.items():
            self.method.addItem(t, k)
        self.ndisp = QSpinBox()
        self.ndisp.setRange(0, 256)
        self.ndisp.setSingleStep(16)
        self.ndisp.setSpecialValueText("auto")
        self.block = QSpinBox()
        self.block.setRange(3, 21)
        self.block.setSingleStep(2)
        self.block.setValue(5)
        self.smooth = QDoubleSpinBox()
        self.smooth.setRange(0.0, 8.0)
        self.smooth.setSingleStep(0.25)
        self.smooth.setValue(1.0)
        self.smooth.setToolTip("Multiplies SGBM's penalties P1 = 8·3·b² and P2 = 32·3·b²")
        self.unique = QSpinBox()
        self.unique.setRange(0, 50)
        self.unique.setValue(10)
        self.unique.setSuffix(" %")
        self.lr = QCheckBox("left-right check")
        self.lr.setChecked(True)
        self.lr.setToolTip("Reject pixels whose match, checked from the right image, lands elsewhere. SGBM: OpenCV's "
                           "built-in check (disp12MaxDiff = 1); teaching: a full right-to-left search.")
        self.method.setToolTip("SGBM + fill + median: OpenCV semi-global matching, holes filled from the background "
                               "side, then a colour-guided weighted median. BM: OpenCV block matching. Teaching: "
                               "plain SAD over a block, cheapest disparity wins (no smoothness).")
        self.fill = QCheckBox("fill holes (background side)")
        self.fill.setChecked(True)
        self.f_px = QDoubleSpinBox()
        self.f_px.setRange(1.0, 100000.0)
        self.f_px.setDecimals(1)
        self.f_px.setValue(700.0)
        self.f_px.setSuffix(" px")
        self.baseline = QDoubleSpinBox()
        self.baseline.setRange(0.001, 100.0)
        self.baseline.setDecimals(3)
        self.baseline.setSingleStep(0.01)
        self.baseline.setValue(0.12)
        self.baseline.setSuffix(" m")
        self.doffs = QDoubleSpinBox()
        self.doffs.setRange(-10000.0, 10000.0)
        self.doffs.setDecimals(2)
        self.doffs.setSuffix(" px")
        self.calib_btn = QPushButton("Calibration file…")
        self.calib_btn.clicked.connect(ctx.guard(self._choose_calibration, "Stereo"))
        self.gt_btn = QPushButton("Ground truth…")
        self.gt_btn.clicked.connect(ctx.guard(self._choose_ground_truth, "Stereo"))
        self.sample_btn = QPushButton("Sample")
        self.sample_btn.clicked.connect(ctx.guard(self.load_sample, "Stereo"))
        self.error = label("", "Error", wrap=True)

        box_m = QGroupBox("Matcher")
        fm = QFormLayout(box_m)
        fm.addRow("method", self.method)
        fm.addRow("disparities", self.ndisp)
        fm.addRow("block size", self.block)
        fm.addRow("smoothness", self.smooth)
        fm.addRow("uniqueness", self.unique)
        fm.addRow(self.lr)
        fm.addRow(self.fill)
        box_c = QGroupBox("Camera")
        fc = QFormLayout(box_c)
        fc.addRow("focal f", self.f_px)
        fc.addRow("baseline B", self.baseline)
        fc.addRow("doffs", self.doffs)
        fc.addRow(self.calib_btn)
        box_d = QGroupBox("Data")
        fd = QVBoxLayout(box_d)
        row = QHBoxLayout()
        row.addWidget(self.sample_btn)
        row.addWidget(self.gt_btn)
        fd.addLayout(row)
        self.source_label = label("", "Muted", wrap=True)
        fd.addWidget(self.source_label)
        ctrl = QWidget()
        cv = QVBoxLayout(ctrl)
        cv.addWidget(box_m)
        cv.addWidget(box_c)
        cv.addWidget(box_d)
        cv.addWidget(self.error)
        cv.addWidget(self.trap)
        cv.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("Controls")  # collapses in presentation mode (Panel.set_presentation)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(ctrl)
        scroll.setMinimumWidth(int(th.font_pt * 14))

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(views)
        split.addWidget(right_col)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        split.setSizes([max(380, int(th.font_pt * 28)), 880, 660])
        self.splitter = split
        lay = QVBoxLayout(self)
        lay.addWidget(self.banner)
        lay.addWidget(split, 1)

        self._deb = Debouncer(ctx.guard(self.recompute, "Stereo"), 40, self)
        for w in (self.ndisp, self.block, self.unique):
            w.valueChanged.connect(lambda *_: self._deb.trigger())
        self.smooth.valueChanged.connect(lambda *_: self._deb.trigger())
        self.method.currentIndexChanged.connect(lambda *_: self._deb.trigger())
        for w in (self.lr, self.fill):
            w.toggled.connect(lambda *_: self._deb.trigger())
        for w in (self.f_px, self.baseline, self.doffs):
            w.valueChanged.connect(ctx.guard(lambda *_: self._update_readout(), "Stereo"))
        self._show_pair()
        self.recompute()

    # -- data ---------------------------------------------------------------------------------------------
    def load_sample(self) -> None:
        from cvexplorer.samples.stereo import stereo_scene

        left, right, gt = stereo_scene(size=(640, 480), seed=0)
        self._set_pair(left, right, gt, "built-in scene (exact truth)")

    def set_stereo_pair(self, left: np.ndarray, right: np.ndarray, source: str = "") -> None:
        try:
            left, right = S.load_pair(left, right)
        except ValueError as exc:
            self.error.setText(str(exc))
            self.ctx.report_error(exc, "Stereo pair")
            return
        self._set_pair(left, right, None, source or "your pair")

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        try:
            left, right = S.split_side_by_side(rgb)
        except ValueError as exc:
            # a single photo is a normal thing to drop here: explain in the panel, keep the current pair
            msg = f"{exc} Open a stereo pair with File ▸ Open stereo pair (Ctrl+Shift+O)."
            self.error.setText(msg)
            self.ctx.status(msg)
            return
        self._set_pair(left, right, None, (source or "image") + " (side by side)")

    def set_ground_truth(self, gt: np.ndarray) -> None:
        gt = np.asarray(gt, np.float32)
        if gt.shape != self.left.shape[:2]:
            raise ValueError(f"The ground truth is {gt.shape[1]}×{gt.shape[0]} but the pair is "
                             f"{self.left.shape[1]}×{self.left.shape[0]}.")
        self.gt = gt
        self.recompute()

    def _set_pair(self, left, right, gt, source) -> None:
        self.left, self.right, self.gt, self.source = left, right, gt, source
        self._pair_info = None
        self.pick = None
        self.result = None
        self.error.setText("")
        self._show_pair()
        self.recompute()

    def _choose_calibration(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Middlebury calib.txt", "", "Calibration (*.txt)")
        if path:
            self.apply_calibration(S.read_calibration(path))

    def apply_calibration(self, cal: dict) -> None:
        self.f_px.setValue(cal["f_px"])
        self.baseline.setValue(cal["baseline"])
        self.doffs.setValue(cal.get("doffs", 0.0))
        if cal.get("ndisp"):
            self.ndisp.setValue(int(math.ceil(cal["ndisp"] / 16) * 16))

    def _choose_ground_truth(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Ground-truth disparity", "",
                                              "Disparity (*.pfm *.png *.pgm)")
        if not path:
            return
        scale = 1.0
        low = path.lower()
        if not low.endswith(".pfm"):
            # Middlebury 2001/2003 conventions by name: tsukuba disp*.pgm ×16, others ×8 or ×4
            scale = 16.0 if "tsukuba" in low else 8.0
        self.set_ground_truth(S.read_ground_truth(path, scale=scale))

    # -- compute ------------------------------------------------------------------------------------------
    def params(self) -> dict:
        return {"method": self.method.currentData(), "num_disparities": self.ndisp.value() or None,
                "block_size": self.block.value() | 1, "smoothness": self.smooth.value(),
                "uniqueness": self.unique.value(), "lr_check": self.lr.isChecked(), "fill": self.fill.isChecked()}

    def recompute(self) -> None:
        self.banner.setText(f"Stereo depth — matching {self.left.shape[1]}×{self.left.shape[0]}…")
        self.ctx.workers.submit("stereo", _compute, self.left, self.right, self.gt, self.params(), self._pair_info,
                                on_done=self.ctx.guard(self._on_result, "Stereo"),
                                on_error=self._on_error)

    def _on_error(self, exc) -> None:
        self.error.setText(str(exc))
        self.ctx.report_error(exc, "Stereo")

    def _on_result(self, res: dict) -> None:
        self.result = res
        self._pair_info = res["pair_info"]
        self.error.setText("")
        self.ctx.record(self.panel_id or "stereo", res["ms"], device="CPU")
        d = res["disparity"]
        nd = res["nd"]
        self.disp_view.set_image(d, levels=(0, nd), colormap="depth")
        ramp = np.linspace(0, nd, 256, dtype=np.float32)[None, :].repeat(2, 0)
        self._cbar_img.setImage(ramp, levels=(0, nd),
                                lut=pg.colormap.get("turbo").getLookupTable(nPts=256), autoLevels=False)
        self._cbar_img.setRect(0, 0, nd, 1)
        self.colorbar.setXRange(0, nd, padding=0)
        self.colorbar.setYRange(0, 1, padding=0)
        ms = res["ms"]["matching"]
        m = METHOD_TITLES[res["params"]["method"]]
        self.banner.setText(f"Stereo depth — {m}: {nd} disparities searched in {ms:.0f} ms · "
                            "click a pixel for its depth and cost curve")
        self.source_label.setText(f"Pair: {self.source}")
        off = res["offset"]
        if off["n"] >= 8 and np.isfinite(off["dy_abs"]):
            ok = off["dy_abs"] <= 1.0
            col = self.ctx.theme.color("positive" if ok else "negative")
            verdict = "rows align: rectified" if ok else "rows do NOT align: rectify the pair first"
            self.rect_label.setText(f"<span style='color:{col}'><b>Rectification check:</b> median vertical offset "
                                    f"{off['dy_abs']:.2f} px over {off['n']} matched features — {verdict}</span>")
        else:
            self.rect_label.setText("Rectification check: too few features matched to tell.")
        if "metrics" in res:
            mt = res["metrics"]
            err = res["error"]
            rgba = np.zeros(err.shape + (4,), np.uint8)
            rgba[...] = (235, 235, 235, 255)
            bad = ~(err <= 2.0)
            rgba[bad] = (213, 94, 0, 255)
            rgba[np.isnan(self.gt)] = (90, 90, 90, 255)
            self.err_view.set_image(rgba[..., :3])
            self.t_err.setText("Errors: orange = off by > 2 px")
            txt = (f"<b>bad-2 {mt['bad']:.1f}%</b> · density {mt['density']:.0f}% · "
                   f"mean error {mt['epe']:.2f} px")
            if mt.get("n_filled"):
                txt += (f"<br>filled {100 * mt['n_filled'] / mt['n']:.0f}% of pixels: "
                        f"bad-2 {mt['bad_filled']:.0f}% there")
            self.metrics_label.setText(txt)
        else:
            self.err_view.set_image(self.right)
            self.err_view.clear_overlays()
            self.t_err.setText("No ground truth loaded (Data ▸ Ground truth…)")
            self.metrics_label.setText("")
        if self.pick is None:
            h, w = d.shape
            self.pick = (w // 2, h // 2)
        self._update_pick()
        self._draw_depth_curve()

    # -- interaction --------------------------------------------------------------------------------------
    def pick_pixel(self, x: float, y: float) -> None:
        h, w = self.left.shape[:2]
        xi, yi = int(round(x)), int(round(y))
        if not (0 <= xi < w and 0 <= yi < h):
            return
        self.pick = (xi, yi)
        self._update_pick()

    def _update_pick(self) -> None:
        if self.result is None or self.pick is None:
            return
        x, y = self.pick
        d = float(self.result["disparity"][y, x])
        nd = self.result["nd"]
        bs = self.block.value() | 1
        self.cost = S.cost_volume_row(self.left, self.right, y, nd, block_size=bs)[x]
        self.readout = {"x": x, "y": y, "d": d}
        self._update_readout()
        self._draw_cost()
        self._draw_marks()
        self._draw_depth_curve()

    def _update_readout(self) -> None:
        r = self.readout
        if not r:
            return
        d, f, B, doffs = r["d"], self.f_px.value(), self.baseline.value(), self.doffs.value()
        x, y = r["x"], r["y"]
        if not np.isfinite(d):
            self.card.show_error(f"No disparity at ({x}, {y}): the matcher rejected this pixel "
                                 "(occluded, textureless or ambiguous). Turn on filling to guess it.")
            r.update(z=float("nan"), z_near=float("nan"), z_far=float("nan"))
            self._set_trap(None)
            return
        de = d + doffs
        z = S.depth_from_disparity(d, f, B, doffs)
        z_near = S.depth_from_disparity(d + 1, f, B, doffs)
        z_far = S.depth_from_disparity(d - 1, f, B, doffs)
        if de > 0 and doffs == 0:
            near, far = formulas.depth_uncertainty(f, B, z, 1.0)
            z_near, z_far = near, far
        if not np.isfinite(z_far):
            z_far = math.inf
        r.update(z=z, z_near=z_near, z_far=z_far)
        gt_txt = ""
        if self.gt is not None and np.isfinite(self.gt[y, x]):
            gt_txt = f" · ground truth d = {self.gt[y, x]:.2f} px"
        sub = (f"pixel ({x}, {y}): d = {d:.2f} px{gt_txt}<br>"
               f"Z = {f:.0f} · {B:.3f} / ({d:.2f} + {doffs:g})")
        far = "∞" if not math.isfinite(z_far) else f"{z_far:.2f} m"
        self.card.show_result(sub, f"Z = {z:.2f} m" if np.isfinite(z) else "Z = ∞ (d + doffs ≤ 0)",
                              f"±1 px of disparity → Z between {z_near:.2f} m and {far}")
        self._set_trap(d)

    def _set_trap(self, d) -> None:
        if d is None or not np.isfinite(d):
            ex = "A rejected pixel is −16 raw (NaN here)."
        else:
            raw = int(round(d * 16))
            ex = (f"Clicked pixel: raw <tt>{raw}</tt> → {raw}/16 = <b>{raw / 16:.4g} px</b>. "
                  f"Read as {raw} px, Z is 16× too small.")
        self.trap.setText(TRAP_TEXT.format(example=ex))

    def _draw_cost(self) -> None:
        p = self.cost_plot
        p.clear()
        c = self.cost
        if c is None:
            return
        th = self.ctx.theme
        ds = np.arange(len(c))
        ok = np.isfinite(c)
        if not ok.any():
            return
        p.plot(ds[ok], c[ok], pen=th.pen("accent", th.line_px * 1.5), symbol="o", symbolSize=th.font_pt * 0.6,
               symbolBrush=th.color("accent"), symbolPen=None)
        k = int(np.argmin(np.where(ok, c, np.inf)))
        p.plot([k], [c[k]], pen=None, symbol="star", symbolSize=th.font_pt * 2.2,
               symbolBrush=th.color("positive"), symbolPen=pg.mkPen("k"))
        right_side = k < 0.6 * len(c)
        txt = pg.TextItem(f"minimum: d = {k}", color=th.color("black"), anchor=(-0.15 if right_side else 1.15, 0.5),
                          fill=pg.mkBrush(255, 255, 255, 220), border=th.pen("positive", 2))
        from PySide6.QtGui import QFont

        f = QFont()
        f.setPointSizeF(th.font_pt * 0.9)
        f.setBold(True)
        txt.setFont(f)
        txt.setPos(k, c[k])
        p.addItem(txt)
        d = self.readout.get("d", float("nan"))
        if np.isfinite(d):
            line = pg.InfiniteLine(pos=d, angle=90, pen=th.pen("current", th.line_px, "dash"),
                                   label=f"matcher: {d:.2f}", labelOpts={"position": 0.92, "color": th.fg})
            line.label.setFont(f)
            p.addItem(line)
        p.setXRange(0, len(c) - 1, padding=0.02)

    def _draw_depth_curve(self) -> None:
        if self.result is None:
            return
        p = self.depth_plot
        p.clear()
        th = self.ctx.theme
        nd = self.result["nd"]
        f, B, doffs = self.f_px.value(), self.baseline.value(), self.doffs.value()
        dd = np.linspace(0.5, nd, 400)
        z = S.depth_from_disparity(dd, f, B, doffs)
        p.plot(dd, z, pen=th.pen("accent", th.line_px * 1.5))
        r = self.readout
        if r and np.isfinite(r.get("z", float("nan"))):
            d = r["d"]
            zn, zf = r["z_near"], r["z_far"]
            top = float(np.nanmax(z[np.isfinite(z)])) if np.isfinite(z).any() else r["z"] * 3
            zf_draw = zf if math.isfinite(zf) else top
            p.plot([d - 1, d + 1], [zf_draw, zn], pen=None, symbol="t", symbolSize=th.font_pt,
                   symbolBrush=th.color("ignored"))
            p.addItem(pg.PlotCurveItem([d, d], [zn, zf_draw], pen=th.pen("negative", th.line_px * 2.5)))
            p.plot([d], [r["z"]], pen=None, symbol="o", symbolSize=th.font_pt * 1.4, symbolBrush=th.color("current"))
            band = pg.LinearRegionItem(values=(zn, zf_draw), orientation="horizontal", movable=False,
                                       brush=pg.mkBrush(213, 94, 0, 60), pen=th.pen("negative", 1))
            p.addItem(band)
            from PySide6.QtGui import QFont

            fnt = QFont()
            fnt.setPointSizeF(th.font_pt * 0.85)
            fnt.setBold(True)
            far = f"{zf:.2f}" if math.isfinite(zf) else "∞"
            left_half = d < 0.5 * nd
            t = pg.TextItem(f"±1 px → {zn:.2f}…{far} m", color=th.fg, anchor=(0 if left_half else 1, 1.1))
            t.setFont(fnt)
            t.setPos(d + 2 if left_half else d - 2, zf_draw)
            p.addItem(t)
            top = min(float(np.nanpercentile(z, 97)), 4.0 * (zf if math.isfinite(zf) else r["z"] * 2))
            p.setYRange(0, top)
            return
        p.setYRange(0, float(np.nanpercentile(z, 97)) if np.isfinite(z).any() else 1)

    def _draw_marks(self) -> None:
        th = self.ctx.theme
        h, w = self.left.shape[:2]
        rows = np.linspace(h / 8, h - h / 8, 7)
        guides = [(0, yy, w, yy) for yy in rows]
        for c in (self.left_view, self.right_view):
            c.set_lines("epipolar", guides, color="grid", width=max(1.0, th.line_px / 2), dash=True)
        if self.pick is None:
            return
        x, y = self.pick
        d = self.readout.get("d", float("nan"))
        for c in (self.left_view, self.disp_view, self.err_view):
            c.set_points("pick", [(x, y)], color="current", size=14)
        self.left_view.set_lines("row", [(0, y, w, y)], color="current")
        self.right_view.set_lines("row", [(0, y, w, y)], color="current")
        if np.isfinite(d):
            self.right_view.set_points("pick", [(x - d, y)], color="current", size=14)
            self.right_view.set_points("ghost", [(x, y)], color="ignored", size=10, symbol="x")
            self.right_view.set_texts("dlabel", [(x - d, y - 0.06 * h, f"x − d = {x - d:.1f}")])
        else:
            self.right_view.clear_layer("pick")
            self.right_view.clear_layer("dlabel")

    def _cursor(self, x: float, y: float, where: str) -> None:
        h, w = self.left.shape[:2]
        if not (0 <= y < h and 0 <= x < w):
            return
        yy = int(y)
        for c in (self.left_view, self.right_view):
            c.set_lines("cursor", [(0, yy, w, yy)], color="highlight", width=max(1.0, self.ctx.theme.line_px / 2))

    def _show_pair(self) -> None:
        self.left_view.set_image(self.left)
        self.right_view.set_image(self.right)
        self.source_label.setText(f"Pair: {self.source}")
        self._draw_marks()

    # -- lessons / scripted use ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update(self.params())
        st.update(f_px=self.f_px.value(), baseline=self.baseline.value(), doffs=self.doffs.value(),
                  pick=list(self.pick) if self.pick else None)
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        if "method" in state:
            i = self.method.findData(state["method"])
            if i >= 0:
                self.method.setCurrentIndex(i)
        for key, w in (("num_disparities", self.ndisp), ("block_size", self.block), ("uniqueness", self.unique)):
            if key in state:
                w.setValue(int(state[key] or 0))
        for key, w in (("smoothness", self.smooth), ("f_px", self.f_px), ("baseline", self.baseline),
                       ("doffs", self.doffs)):
            if key in state:
                w.setValue(float(state[key]))
        if "lr_check" in state:
            self.lr.setChecked(bool(state["lr_check"]))
        if "fill" in state:
            self.fill.setChecked(bool(state["fill"]))
        if state.get("pick"):
            self.pick = tuple(int(v) for v in state["pick"])
            self._update_pick()
        super().restore_state(state)

    def demo(self) -> None:
        self.wait_idle(60)
        # the nearest object of the built-in scene (or the centre of the user's pair)
        h, w = self.left.shape[:2]
        if self.gt is not None and self.result is not None:
            # a far pixel (the wall) past the left border band: its depth range for ±1 px is wide
            g = np.where(np.isfinite(self.gt), self.gt, np.inf)
            g[:, : self.result["nd"] + 10] = np.inf
            g[: int(0.35 * h)] = np.inf
            g[int(0.65 * h):] = np.inf
            y, x = (int(v) for v in np.unravel_index(int(np.argmin(g)), g.shape))
        else:
            x, y = w // 2, h // 2
        self.pick_pixel(x, y)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        for p in (self.cost_plot, self.depth_plot, self.colorbar):
            _style_plot(p, theme)
        self.colorbar.setFixedHeight(int(theme.font_pt * 5.5))
        # on a 1280×720 projector the text card would otherwise squeeze both plots to a strip
        for p in (self.cost_plot, self.depth_plot):
            p.setMinimumHeight(int(theme.font_pt * 6))
        self.splitter.setSizes([max(380, int(theme.font_pt * 28)), 880, 660])
        if self.result is not None:
            self._on_result(self.result)

    def shutdown(self) -> None:
        self.ctx.workers.cancel("stereo")
