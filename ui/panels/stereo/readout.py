"""The stereo panel's clicked pixel: its cost curve, the camera, and the depth read-out on the card.

Every number comes from ``cvexplorer.stereo`` (``pixel_costs``, ``depth_at``, ``depth_curve``).
"""

from __future__ import annotations

import numpy as np

from cvexplorer import stereo as S

__all__ = ["DepthReadout", "TRAP"]

TRAP = ("<b>OpenCV's ×16 trap:</b> <tt>compute()</tt> returns <b>int16 d × 16</b> (−16 = no match). {example}")


class DepthReadout:
    """Mixed into the stereo panel (it owns the pair, the result, the controls and the card)."""

    # -- the clicked pixel ----------------------------------------------------------------------------
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
        d = float(self.result.disparity[y, x])
        self.costs = S.pixel_costs(self.left, self.right, x, y, self.result.num_disparities,
                                   block_size=self.result.settings.block_size)
        self.cost_plot.show_costs(self.costs.costs, d, self.costs.best)
        self._update_readout()
        self._draw_marks()

    @property
    def cost(self) -> np.ndarray | None:
        """The clicked pixel's cost for every disparity (what the cost curve plots)."""
        return None if self.costs is None else self.costs.costs

    def check_camera(self, f, b, doffs) -> None:
        """Refuse (one sentence naming the field) an f, B or doffs the camera boxes cannot show as given;
        a value clamped to the box's limit would make every depth on the card wrong without a word."""
        for name, box, value in (("focal length f", self.f_px, f), ("baseline B", self.baseline, b),
                                 ("doffs", self.doffs, doffs)):
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"The camera's {name} must be a number, not {str(value)[:40]!r}; "
                                 "nothing was changed.") from None
            if not (np.isfinite(v) and box.minimum() <= v <= box.maximum()):
                raise ValueError(f"The camera's {name} = {v:g} is outside what this panel takes "
                                 f"({box.minimum():g} to {box.maximum():g}{box.suffix()}); nothing was changed.")

    def _set_camera(self, f: float, b: float, doffs: float) -> None:
        self.check_camera(f, b, doffs)
        self._camera_by_code = True
        try:
            self.f_px.setValue(float(f))
            self.baseline.setValue(float(b))
            self.doffs.setValue(float(doffs))
        finally:
            self._camera_by_code = False

    def _camera_changed(self) -> None:
        if not self._camera_by_code:
            self.calibrated = True  # the user typed this camera's f, B or doffs
            self._update_readout()

    def _update_readout(self) -> None:
        f, B, doffs = self.controls.camera()
        assumed = not self.calibrated
        self.controls.camera_note.setText(
            "Placeholders, not this camera's: load the pair's calib.txt or type its f and B." if assumed else
            "f, B and doffs of this pair's camera.")
        self.calib_note.setText(f"f = {f:g} px and B = {B:g} m are placeholders: these depths are illustrations. "
                                "Load the pair's calibration file, or type its f and B." if assumed else "")
        self.calib_note.setVisible(assumed)
        self.card_calib_btn.setVisible(assumed)
        if self.result is None or self.pick is None:
            return
        x, y = self.pick
        d = float(self.result.disparity[y, x])
        r = self.readout = S.depth_at(d, f, B, doffs)
        tag = " (assumed f, B)" if assumed else ""
        gt_txt = ""
        if self.gt is not None and np.isfinite(self.gt[y, x]):
            gt_txt = f" (truth {self.gt[y, x]:.2f})"
        self.views.readout.setText(self._readout_line(x, y, r, tag))
        if not np.isfinite(d):
            self.card.show_error(f"No disparity at ({x}, {y}): the matcher rejected this pixel (occluded, "
                                 "textureless or ambiguous). Turn on filling to guess it.")
        elif not r.valid:
            self.card.show_result(f"({x}, {y}): d = {d:.2f} px{gt_txt}\nZ = {f:g}·{B:g} / ({d:.2f} + {doffs:g})", "Z: none (d + doffs ≤ 0)",
                                  "A point at or beyond infinity: d + doffs must be positive.")
        else:
            far = "∞" if not np.isfinite(r.z_far) else f"{r.z_far:.2f} m"
            self.card.show_result(f"({x}, {y}): d = {d:.2f} px{gt_txt}\nZ = {f:g}·{B:g} / ({d:.2f} + {doffs:g})",
                                  f"Z = {r.z:.2f} m{tag}", f"±1 px of disparity → Z between {r.z_near:.2f} m and "
                                  f"{far}{tag}")
        ex = ("A rejected pixel is −16 raw (NaN here)." if r.raw16 is None else
              f"Clicked pixel: raw <tt>{r.raw16}</tt> → {r.raw16}/16 = <b>{r.raw16 / 16:.4g} px</b>. "
              f"Read as {r.raw16} px, Z is 16× too small.")
        self.trap.setText(TRAP.format(example=ex))
        self.depth_plot.show_curve(S.depth_curve(self.result.num_disparities, f, B, doffs), r, assumed=assumed)

    @staticmethod
    def _readout_line(x: int, y: int, r: S.DepthAt, tag: str) -> str:
        if not np.isfinite(r.d):
            return f"Pixel ({x}, {y}): no disparity (rejected by the matcher)"
        if not r.valid:
            return f"Pixel ({x}, {y}): d = {r.d:.2f} px, no depth (d + doffs ≤ 0)"
        far = "∞" if not np.isfinite(r.z_far) else f"{r.z_far:.2f}"
        return f"Pixel ({x}, {y}): d = {r.d:.2f} px → Z = {r.z:.2f} m{tag}, {r.z_near:.2f}…{far} m for ±1 px"
