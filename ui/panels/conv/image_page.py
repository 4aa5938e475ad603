"""Image mode's main view: the photo and its feature map side by side, the kernel, and the window's numbers.

The window is drawn as the kernel's real footprint on the photo (its taps, every D-th pixel when
dilated), with dashed guides through it so a 3×3 window stays findable on a 12-MP photo; "Zoom to
window" shows the full-resolution pixels under it with their values.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from cvexplorer.conv import FeatureMap, Window
from cvexplorer.text import fmt_number

from ...widgets.canvas import ImageCanvas
from ...widgets.text import ElidedLabel, WrapLabel
from .views import Block, ColorBar, GridView

__all__ = ["ImagePage"]

_MAX_LABELLED_TAPS = 49  # a 7×7 window's numbers still fit the zoomed view


class ImagePage(QWidget):
    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.in_canvas = ImageCanvas(theme=theme)
        self.out_canvas = ImageCanvas(theme=theme)
        self.colorbar = ColorBar(theme)
        self.in_title = ElidedLabel("Input", "Muted")
        self.out_title = ElidedLabel("Feature map", "Muted")
        self.kernel_view = GridView(theme)
        self.kernel_view.setMinimumSize(60, 60)
        self.readout = WrapLabel("Move the mouse over the photo.")
        self.img_arith = WrapLabel("", "Mono")
        self.zoom_btn = QPushButton("Zoom to window")
        self.zoom_btn.setCheckable(True)
        self.zoom_btn.setToolTip("Show the pixels under the window at full resolution, with their values")
        self.result: FeatureMap | None = None
        self.window: Window | None = None

        titles = QHBoxLayout()
        titles.addWidget(self.in_title, 1)
        titles.addWidget(self.out_title, 1)
        titles.addWidget(self.zoom_btn)
        pics = QHBoxLayout()
        pics.addWidget(self.in_canvas, 1)
        pics.addWidget(self.out_canvas, 1)
        pics.addWidget(self.colorbar)
        text = QVBoxLayout()
        text.addWidget(self.readout)
        text.addWidget(self.img_arith)
        text.addStretch(1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.kernel_view, 0)
        bottom.addLayout(text, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(titles)
        lay.addLayout(pics, 1)
        lay.addLayout(bottom)
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.kernel_view.theme = theme
        self.colorbar.apply_theme(theme)
        side = int(theme.font_pt * 7.5)  # a 3×3 kernel's numbers readable at the back of the room
        self.kernel_view.setFixedSize(side, side)
        self.kernel_view.update()

    # -- one computed map --------------------------------------------------------------------------------
    def show_result(self, res: FeatureMap, in_title: str, out_title: str, kernel_title: str, kernel) -> None:
        self.result = res
        H, W = res.in_shape
        self._show(self.in_canvas, res.shown_in, (H, W), None, None)
        self._show(self.out_canvas, res.shown_out, res.out_cover, res.levels, "diverging")
        self.out_canvas.image_shape = tuple(res.fmap.shape)  # hover and fit work in output pixels
        self.colorbar.set_levels(*res.levels)
        self.in_title.setText(in_title)
        self.out_title.setText(out_title)
        texts = [[fmt_number(round(float(v), 2)) for v in row] for row in np.asarray(kernel)]
        self.kernel_view.set_content([[Block(kernel_title, texts)]], [])

    @staticmethod
    def _show(canvas: ImageCanvas, shown: np.ndarray, full_hw, levels, cmap) -> None:
        canvas.set_image(shown, levels=levels, colormap=cmap, autorange=False)
        h, w = full_hw
        canvas.image_item.setRect(QRectF(0, 0, w, h))  # the display copy laid over full-size coordinates
        canvas.image_shape = (h, w) + tuple(shown.shape[2:])
        canvas.fit()

    # -- the window ---------------------------------------------------------------------------------------
    def show_window(self, win: Window, *, follow: bool = True) -> None:
        """Mark ``win`` on both pictures; when zoomed (and ``follow``), centre both views on it."""
        res = self.result
        if res is None:
            return
        self.window = win
        H, W = res.in_shape
        taps = np.array([[x, y, x + 1, y + 1] for y in win.taps_y for x in win.taps_x], dtype=float)
        self.in_canvas.set_rects("window", [[win.x0, win.y0, win.x1, win.y1]], color="current")
        dilated = win.y1 - win.y0 > len(win.taps_y) or win.x1 - win.x0 > len(win.taps_x)
        if dilated:  # the footprint has holes: mark the pixels the kernel actually reads
            self.in_canvas.set_rects("taps", taps, color="current", width=1, fill="current", alpha=0.35)
        else:
            self.in_canvas.clear_layer("taps")
        cy, cx = (win.y0 + win.y1) / 2, (win.x0 + win.x1) / 2
        self.in_canvas.set_lines("guides", [[cx, 0, cx, win.y0], [cx, win.y1, cx, H], [0, cy, win.x0, cy],
                                            [win.x1, cy, W, cy]], color="current", width=1, dash=True)
        r, c = win.out_pos
        oh, ow = res.fmap.shape
        self.out_canvas.set_rects("cell", [[c, r, c + 1, r + 1]], color="current")
        self.out_canvas.set_lines("guides", [[c + 0.5, 0, c + 0.5, r], [c + 0.5, r + 1, c + 0.5, oh],
                                             [0, r + 0.5, c, r + 0.5], [c + 1, r + 0.5, ow, r + 0.5]],
                                  color="current", width=1, dash=True)
        if self.zoom_btn.isChecked():
            self._zoom(win, follow)
        else:
            for cv in (self.in_canvas, self.out_canvas):
                for layer in ("crop", "numbers"):
                    cv.clear_layer(layer)

    def _zoom(self, win: Window, follow: bool) -> None:
        """The full-resolution pixels around the window (and around its output cell), with their values."""
        res = self.result
        H, W = res.in_shape
        m = max(2, (win.y1 - win.y0) // 2, (win.x1 - win.x0) // 2)
        y0, y1 = max(0, win.y0 - m), min(H, win.y1 + m)
        x0, x1 = max(0, win.x0 - m), min(W, win.x1 + m)
        src = res.source
        self.in_canvas.set_overlay("crop", np.ascontiguousarray(src[y0:y1, x0:x1]), rect=(x0, y0, x1, y1),
                                   levels=(0, 255), colormap="grey")
        labels = []
        if len(win.taps_y) * len(win.taps_x) <= _MAX_LABELLED_TAPS:
            labels = [(x + 0.5, y + 0.5, fmt_number(float(np.mean(src[y, x]))))
                      for y in win.taps_y for x in win.taps_x if 0 <= y < H and 0 <= x < W]
        self.in_canvas.set_texts("numbers", labels, anchor=(0.5, 0.5))
        r, c = win.out_pos
        oh, ow = res.fmap.shape
        b0, b1, a0, a1 = max(0, r - m), min(oh, r + 1 + m), max(0, c - m), min(ow, c + 1 + m)
        self.out_canvas.set_overlay("crop", np.ascontiguousarray(res.fmap[b0:b1, a0:a1]), rect=(a0, b0, a1, b1),
                                    levels=res.levels, colormap="diverging")
        self.out_canvas.set_texts("numbers", [(c + 0.5, r + 0.5, fmt_number(float(res.fmap[r, c]), 1))],
                                  anchor=(0.5, 0.5))
        # a hover inside the zoomed view leaves it still (else the view would jump under the cursor)
        seen = self.in_canvas.vb.viewRect().contains(QRectF(win.x0, win.y0, win.x1 - win.x0, win.y1 - win.y0))
        if follow or not seen:
            self.in_canvas.set_view(x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5)
        if follow or not self.out_canvas.vb.viewRect().contains(QRectF(c, r, 1, 1)):
            self.out_canvas.set_view(a0 - 0.5, b0 - 0.5, a1 + 0.5, b1 + 0.5)

    def unzoom(self) -> None:
        for cv in (self.in_canvas, self.out_canvas):
            for layer in ("crop", "numbers"):
                cv.clear_layer(layer)
            cv.fit()
