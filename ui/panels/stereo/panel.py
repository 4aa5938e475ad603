"""Stereo depth panel: disparity from a rectified pair, depth Z = f·B/(d + doffs), and the 1-D search along a row.

Main view: the disparity map with its colour bar, and the left view above the right view (same x scale,
so a matched point sits straight below its twin, moved left by d). Click any of them: the card gives d,
Z and Z's range for ±1 px of disparity; the secondary tabs show that pixel's cost curve, where it sits on
the Z-against-d curve, and (with ground truth) the error map. The matcher runs in a worker, debounced.
Every number comes from ``cvexplorer.stereo``; this module only wires and draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QFileDialog, QPushButton, QVBoxLayout, QWidget

from cvexplorer import stereo as S
from cvexplorer.imageio import load_image
from cvexplorer.samples.stereo import stereo_scene

from ...widgets.formula import FormulaCard
from ...widgets.text import WrapLabel
from ...workers import Debouncer
from ..base import Panel
from .controls import METHOD_TITLES, StereoControls
from .readout import DepthReadout
from .views import DepthPlot, ErrorView, StereoMain

__all__ = ["PanelWidget"]

SAMPLE = "built-in scene (exact ground truth; rendered with f = 700 px, B = 0.12 m)"


class PanelWidget(DepthReadout, Panel):
    accepts_stereo = True

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self.left, self.right, self.gt = stereo_scene(size=(640, 480), seed=0)
        self.source = SAMPLE
        #: False while f and B are the built-in placeholders for a pair that is not the built-in scene.
        self.calibrated = True
        self.photo: np.ndarray | None = None  # a single photo waiting for its second view
        self.result: S.StereoResult | None = None
        self.pick: tuple[int, int] | None = None
        self.readout: S.DepthAt | None = None
        self.costs: S.PixelCosts | None = None
        self._pair_check: S.PairCheck | None = None
        self._camera_by_code = False

        frame = self.use_frame()
        self.banner = frame.banner
        self.views = StereoMain(th)
        frame.set_main(self.views)
        self.controls = StereoControls()
        frame.add_controls(self.controls)
        self.card = FormulaCard("Depth at the clicked pixel", "Z = f·B / (d + doffs)")
        self.calib_note = WrapLabel("", "Warning")
        self.card_calib_btn = QPushButton("Calibration file…")
        holder = QWidget()
        hv = QVBoxLayout(holder)
        hv.setContentsMargins(0, 0, 0, 0)
        hv.addWidget(self.card)
        hv.addWidget(self.calib_note)
        hv.addWidget(self.card_calib_btn)
        frame.set_card(holder, answer=self.card.result)
        self.cost_plot = self.views.cost_plot
        self.depth_plot = DepthPlot(th)
        self.error_view = ErrorView(th)
        frame.add_secondary(self.depth_plot, "Z against d")
        frame.add_secondary(self.error_view, "Errors")

        # public handles for tests, lessons and scripts
        c = self.controls
        self.method, self.ndisp, self.block, self.smooth, self.unique, self.lr, self.fill = c.matcher_widgets()
        self.f_px, self.baseline, self.doffs = c.f_px, c.baseline, c.doffs
        self.trap, self.rect_label, self.source_label = c.trap, c.rect_label, c.source_label
        self.disp_view, self.left_view, self.right_view = self.views.canvases()
        self.err_view = self.error_view.canvas
        self.offers = self.views.offers
        self.metrics_label = self.views.metrics

        guard = ctx.guard
        for cv in (self.disp_view, self.left_view, self.right_view, self.err_view):
            cv.clicked.connect(guard(lambda x, y, b, m: self.pick_pixel(x, y), "Stereo"))
            cv.hovered.connect(guard(lambda x, y: self._cursor(y), "Stereo"))
        self._deb = Debouncer(guard(self.recompute, "Stereo"), 40, self)
        for w in (self.ndisp, self.block, self.unique, self.smooth):
            w.valueChanged.connect(lambda *_: self._deb.trigger())
        self.method.currentIndexChanged.connect(lambda *_: self._deb.trigger())
        for w in (self.lr, self.fill):
            w.toggled.connect(lambda *_: self._deb.trigger())
        for w in (self.f_px, self.baseline, self.doffs):
            w.valueChanged.connect(guard(lambda *_: self._camera_changed(), "Stereo"))
        for b in (c.calib_btn, self.card_calib_btn):
            b.clicked.connect(guard(self._choose_calibration, "Stereo"))
        c.gt_btn.clicked.connect(guard(self._choose_ground_truth, "Stereo"))
        c.sample_btn.clicked.connect(guard(self.load_sample, "Stereo"))
        self._show_pair()
        self.recompute()

    # -- input ----------------------------------------------------------------------------------------
    def load_sample(self) -> None:
        left, right, gt = stereo_scene(size=(640, 480), seed=0)
        self._set_camera(S.DEFAULT_F_PX, S.DEFAULT_BASELINE, 0.0)
        self.calibrated = True
        self._set_pair(left, right, gt, SAMPLE)

    def set_stereo_pair(self, left: np.ndarray, right: np.ndarray, source: str = "") -> None:
        try:
            left, right = S.load_pair(left, right)
        except ValueError as exc:
            self._error(exc, "Stereo pair")
            return
        self.calibrated = False
        self._set_pair(left, right, None, source or "your pair")

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        try:
            left, right = S.split_side_by_side(rgb)
        except ValueError:
            # one photo is a normal thing to drop here: say what depth needs and offer the two ways on
            self.photo = np.asarray(rgb)
            name = source or "This image"
            self.banner.show_hint(f"{name} is one photo: depth needs a second view of the same scene taken a little "
                                  "to the side. Open the right view, or split the photo if it holds both views side "
                                  "by side. The pair on screen is unchanged.")
            self.offers.offer([("right", "Open the right view…", self.ctx.guard(self._choose_right_view, "Stereo")),
                               ("split", "Split into left | right", self.ctx.guard(self.split_photo, "Stereo"))])
            return
        self.calibrated = False
        self._set_pair(left, right, None, (source or "image") + " (side by side)")

    def use_right_view(self, rgb: np.ndarray, source: str = "") -> None:
        """The second view for the single photo that is waiting (the photo becomes the left view)."""
        if self.photo is None:
            raise ValueError("Open a single photo first: it becomes the left view, this one the right view.")
        self.set_stereo_pair(self.photo, rgb, source or "your photo + its right view")

    def split_photo(self) -> None:
        """Treat the waiting photo as two views side by side (left half | right half)."""
        if self.photo is None:
            return
        try:
            left, right = S.split_halves(self.photo)
        except ValueError as exc:
            self._error(exc, "Split side by side")
            return
        self.calibrated = False
        self._set_pair(left, right, None, "your photo split into halves")

    def swap_views(self) -> None:
        """Exchange left and right (offered when most disparities come out negative)."""
        self._set_pair(self.right, self.left, None, self.source + " (left and right swapped)")

    def set_ground_truth(self, gt: np.ndarray) -> None:
        gt = np.asarray(gt, np.float32)
        if gt.shape != self.left.shape[:2]:
            raise ValueError(f"The ground truth is {gt.shape[1]}×{gt.shape[0]} but the pair is "
                             f"{self.left.shape[1]}×{self.left.shape[0]}.")
        self.gt = gt
        self.recompute()

    def apply_calibration(self, cal) -> None:
        """Use a rig's f, B, doffs (a :class:`cvexplorer.stereo.Calibration` or a dict) and its disparity range.

        ``ndisp`` is used as given (SGBM and BM round it up to a multiple of 16, and the read-out says so);
        one the matchers cannot take is refused with a sentence before anything changes."""
        self.check_camera(cal["f_px"], cal["baseline"], cal.get("doffs") or 0.0)
        nd = cal.get("ndisp")
        if nd and not 1 <= int(nd) <= self.ndisp.maximum():
            raise ValueError(f"The calibration's ndisp = {int(nd):,} is more disparities than the matchers search "
                             f"(at most {self.ndisp.maximum():,}); nothing was changed.")
        self._set_camera(cal["f_px"], cal["baseline"], cal.get("doffs") or 0.0)
        self.calibrated = True
        if nd:
            self.ndisp.setValue(int(nd))
        self._camera_changed()

    def _set_pair(self, left, right, gt, source) -> None:
        self.left, self.right, self.gt, self.source = left, right, gt, source
        self.photo = None
        self.offers.offer([])
        self.banner.clear("hint")
        self.banner.clear("error")
        self._pair_check = None
        self.pick = None
        self.result = None
        self.readout = None
        self._show_pair()
        self.recompute()

    def _choose_right_view(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The right view of the same scene", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)")
        if path:
            self.use_right_view(load_image(path), path)

    def _choose_calibration(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Middlebury calib.txt", "", "Calibration (*.txt)")
        if path:
            self.apply_calibration(S.read_calibration(path))

    def _choose_ground_truth(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Ground-truth disparity", "", "Disparity (*.pfm *.png *.pgm)")
        if path:
            self.set_ground_truth(S.read_ground_truth(path, scale=S.ground_truth_scale(path)))

    # -- compute --------------------------------------------------------------------------------------
    def params(self) -> dict:
        return self.controls.settings().as_dict()

    def recompute(self) -> None:
        if self._pair_check is None:
            h, w = self.left.shape[:2]
            self.banner.show_progress(f"Checking and matching the {w}×{h} pair…")
        self.ctx.workers.submit("stereo", S.match_pair, self.left, self.right, self.gt,
                                settings=self.controls.settings(), pair=self._pair_check,
                                on_done=self.ctx.guard(self._on_result, "Stereo"), on_error=self._on_error)

    def _error(self, exc, where: str) -> None:
        msg = self.ctx.report_error(exc, where)
        self.banner.show_error(msg)

    def _on_error(self, exc) -> None:
        self._error(exc, "Stereo")

    def _on_result(self, res: S.StereoResult) -> None:
        self.result = res
        self._pair_check = res.pair
        self.banner.clear("progress")
        self.banner.clear("error")  # a success: an earlier failure no longer describes what is on screen
        self.ctx.record(self.panel_id or "stereo", res.ms, device="CPU")
        self._draw_result()
        if res.pair.swapped:
            share = res.pair.rows.negative_share
            self.banner.show_hint(f"{share:.0%} of the matched features move right from the left view to the right "
                                  "view: left and right look swapped, so these disparities and depths are wrong.")
            self.offers.offer([("swap", "Swap left and right", self.ctx.guard(self.swap_views, "Stereo"))])
        if self.pick is None:
            h, w = res.disparity.shape
            self.pick = (w // 2, h // 2)
        self._update_pick()

    def _draw_result(self) -> None:
        res, th = self.result, self.ctx.theme
        nd, searched = res.num_disparities, res.searched_disparities
        self.disp_view.set_image(res.disparity, levels=(0, searched), colormap="depth")
        self.views.colorbar.set_range(searched)
        ms = res.ms["matching"]
        rounded = f" ({nd} rounded up to a multiple of 16)" if searched != nd else ""
        self.views.t_disp.setText(f"Disparity d: {METHOD_TITLES[res.settings.method]}, 0…{searched} px{rounded} "
                                  f"in {ms:.0f} ms")
        self.source_label.setText(f"Pair: {self.source}")
        rows = res.pair.rows
        if rows.rectified is None:
            self.rect_label.setText("Rectification check: too few features matched to tell.")
        else:
            col = th.color("positive" if rows.rectified else "negative")
            verdict = "rows align: rectified" if rows.rectified else "rows do NOT align: rectify the pair first"
            self.rect_label.setText(f"<span style='color:{col}'><b>Rectification check:</b> median vertical offset "
                                    f"{rows.dy_abs:.2f} px over {rows.n} matched features: {verdict}</span>")
        mt = res.metrics
        if mt is not None:
            txt = f"bad-2 {mt.bad:.1f}% · mean error {mt.epe:.2f} px · density {mt.density:.0f}%"
            if mt.n_filled:
                txt += f" · {mt.filled_share:.0f}% filled (bad-2 {mt.bad_filled:.0f}% there)"
            self.metrics_label.setText(txt)
        else:
            self.metrics_label.setText("No ground truth to score this map (Data ▸ Ground truth…)")
        self.error_view.show_errors(res.errors, res.disparity.shape, th)

    # -- overlays -------------------------------------------------------------------------------------
    def _draw_marks(self) -> None:
        th = self.ctx.theme
        h, w = self.left.shape[:2]
        guides = [(0, yy, w, yy) for yy in np.linspace(h / 8, h - h / 8, 7)]
        for cv in (self.left_view, self.right_view):
            cv.set_lines("epipolar", guides, color="grid", width=max(1.0, th.line_px / 2), dash=True)
        if self.pick is None:
            return
        x, y = self.pick
        d = self.readout.d if self.readout is not None else float("nan")
        for cv in (self.left_view, self.disp_view, self.err_view):
            cv.set_points("pick", [(x, y)], color="current", size=14)
        for cv in (self.left_view, self.right_view):
            cv.set_lines("row", [(0, y, w, y)], color="current", width=max(1.0, th.line_px / 2))
            cv.set_lines("column", [(x, 0, x, h)], color="ignored", width=max(1.0, th.line_px / 2), dash=True)
        if np.isfinite(d):
            xr = x - d  # where the right camera sees the point: x_R = x_L − d
            self.right_view.set_points("pick", [(xr, y)], color="current", size=14)
            self.right_view.set_lines("shift", [(x, y, xr, y)], color="negative", width=th.line_px)
            self.right_view.clear_layer("dlabel")  # the anchor flips with the side: a fresh batch
            self.right_view.set_texts("dlabel", [(xr, y - 0.07 * h, f"x − d = {xr:.1f}")], color="fg",
                                      background="plot_bg", anchor=(1.0, 0.5) if xr > w / 2 else (0.0, 0.5))
        else:
            for name in ("pick", "shift", "dlabel"):
                self.right_view.clear_layer(name)

    def _cursor(self, y: float) -> None:
        h, w = self.left.shape[:2]
        if 0 <= y < h:
            for cv in (self.left_view, self.right_view):
                cv.set_lines("cursor", [(0, int(y), w, int(y))], color="highlight",
                             width=max(1.0, self.ctx.theme.line_px / 2))

    def _show_pair(self) -> None:
        self.left_view.set_image(self.left)
        self.right_view.set_image(self.right)
        self.source_label.setText(f"Pair: {self.source}")
        self._update_readout()
        self._draw_marks()

    # -- lessons, scripted use, theme -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update(self.params())
        st.update(f_px=self.f_px.value(), baseline=self.baseline.value(), doffs=self.doffs.value(),
                  pick=list(self.pick) if self.pick else None)
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        if any(k in state for k in ("f_px", "baseline", "doffs")):  # checked before anything changes
            self.check_camera(state.get("f_px", self.f_px.value()), state.get("baseline", self.baseline.value()),
                              state.get("doffs", self.doffs.value()))
        self.controls.set_settings(state)
        if any(k in state for k in ("f_px", "baseline", "doffs")):
            self._set_camera(state.get("f_px", self.f_px.value()), state.get("baseline", self.baseline.value()),
                             state.get("doffs", self.doffs.value()))
            self._update_readout()
        if state.get("pick"):
            self.pick = S.pick_in_image(state["pick"], self.left.shape)  # a lesson may name any pixel
            self._update_pick()
        super().restore_state(state)

    def demo(self) -> None:
        self.wait_idle(60)
        h, w = self.left.shape[:2]
        self.pick_pixel(int(w * 0.8), h // 2)  # right of centre: past the band the left border leaves unmatched

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.views.apply_theme(theme)
        self.depth_plot.apply_theme(theme)
        if self.result is not None:
            self._draw_result()
            self._update_pick()

    def shutdown(self) -> None:
        self.ctx.workers.cancel("stereo")
