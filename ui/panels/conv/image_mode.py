"""Image mode's half of the conv lab: the worker job (:func:`cvexplorer.conv.feature_map`), the window that
follows the cursor or the player, and "Zoom to window". Mixed into :class:`~.panel.PanelWidget`."""

from __future__ import annotations

import os
import time

import numpy as np

from cvexplorer import conv as C
from cvexplorer.text import fmt_number

__all__ = ["IMAGE_JOB", "ImageMode"]

IMAGE_JOB = "conv-image"


class _Tour:
    """Image mode's player: a coarse raster of window positions over the whole map, each stop a step of
    the full trace, so playing visibly sweeps the window across the photo."""

    def __init__(self, trace, out_shape) -> None:
        self.trace = trace
        self.ow = int(out_shape[1])
        self.rows, self.cols = C.tour_positions(out_shape)

    def __len__(self) -> int:
        return len(self.rows) * len(self.cols)

    def index_of(self, j: int) -> int:
        r, c = divmod(int(j), len(self.cols))
        return int(self.rows[r]) * self.ow + int(self.cols[c])

    def __getitem__(self, j: int):
        return self.trace[self.index_of(j)]


class ImageMode:
    """The image-mode methods of the panel (which owns the widgets and the state they use)."""

    def _submit_image(self) -> None:
        if self._image is None or self.geometry_error:
            if self.geometry_error:
                self.readout.setText(self.geometry_error)
            return
        self._pending = True
        self.readout.setText("computing the feature map…")
        self._t_request = time.perf_counter()
        self.ctx.workers.submit(IMAGE_JOB, C.feature_map, self._image, self.k.copy(),
                                channels=self.channels.currentText(), relu=self.relu.isChecked(),
                                on_done=self._image_done, **self.settings())

    def _image_done(self, res: C.FeatureMap) -> None:
        self._pending = False
        self._result = res
        H, W = res.in_shape
        oh, ow = res.fmap.shape
        # a file name, not its whole path: the title shares one row with the feature map's
        name = os.path.basename(self._image_source.rstrip("/\\")) or self._image_source
        self.image_page.show_result(
            res, f"Input {W}×{H} ({name}, {self.channels.currentText()})",
            f"Feature map {ow}×{oh}" + (" after ReLU" if self.relu.isChecked() else ""),
            self.gallery.currentText(), self.k)
        self.trace = res.trace
        self._tour = _Tour(self.trace, (oh, ow))
        self.player_w.set_trace(self._tour)
        wall = (time.perf_counter() - self._t_request) * 1e3
        self.ctx.record(self.panel_id or "conv", dict(res.timings, **{"request → shown": wall}))
        self.readout.setText("Move the mouse over the photo: the window and its output value follow.")

    def hover(self, x: float, y: float) -> None:
        if self.mode != "image" or self._result is None:
            return
        self._show_window(C.window_under(x, y, self._result.geometry), follow=False)

    def _zoom_toggled(self, on: bool) -> None:
        win = self.image_page.window
        if on and win is not None:
            self._show_window(win)
        elif not on:
            self.image_page.unzoom()

    def _show_window(self, win: C.Window, follow: bool = True) -> None:
        res = self._result
        r, c = win.out_pos
        v = float(res.fmap[r, c])
        self.window_value = v
        self.image_page.show_window(win, follow=follow)
        self.readout.setText(f"rows {win.y0}…{win.y1 - 1}, cols {win.x0}…{win.x1 - 1} → "
                             f"output ({r}, {c}) = {fmt_number(v, 1)}")
        st = self.trace[r * res.fmap.shape[1] + c]
        self.player_w.set_caption(st.caption)
        kh, kw = self.k.shape[:2]
        if np.ndim(st["values"]) == 2 and kh * kw <= 25:
            text = C.arithmetic_text(st["values"], self.k, round(st["sum"], 2))
            if self.relu.isChecked():
                text += f";  ReLU → {fmt_number(v)}"
        else:
            rgb = " × 3 channels (kernel/3 on R, G, B)" if np.ndim(st["values"]) == 3 else ""
            text = f"{kh}×{kw} window{rgb}: Σ products = {fmt_number(st['sum'], 1)}"
        self.img_arith.setText(text)

    def show_tour_stop(self, i: int) -> None:
        """Player step ``i`` in image mode: the window at the tour's ``i``-th stop."""
        if self._result is not None and self._tour is not None:
            r, c = divmod(self._tour.index_of(i), self._result.fmap.shape[1])
            self._show_window(C.window_at((r, c), self._result.geometry))
