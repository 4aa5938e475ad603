"""The stereo panel's pictures: the main view (disparity map with its colour bar, left and right views
stacked so a matched point sits straight below its twin), the offer bar, and the secondary plots."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from cvexplorer import overlay
from cvexplorer.stereo import DepthAt, DepthCurve, ErrorClasses

from ...widgets.canvas import COLORMAPS, ImageCanvas
from ...widgets.text import ElidedLabel, WrapLabel

__all__ = ["StereoMain", "OfferBar", "ColorBar", "CostPlot", "DepthPlot", "ErrorView"]


class OfferBar(QWidget):
    """A row of buttons for what the banner's sentence offers (open the right view, split, swap). Hidden when empty."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}
        self.hide()

    def offer(self, actions: list[tuple[str, str, object]]) -> None:
        """``[(key, text, callback)]`` replaces the buttons; an empty list hides the bar."""
        for b in self.buttons.values():
            self._lay.removeWidget(b)
            b.deleteLater()
        self.buttons = {}
        for key, text, fn in actions:
            b = QPushButton(text)
            b.clicked.connect(fn)
            self._lay.insertWidget(self._lay.count() - 1, b)
            self.buttons[key] = b
        self.setVisible(bool(actions))

    def keys(self) -> list[str]:
        return list(self.buttons) if self.isVisible() else []


class ColorBar(pg.GraphicsLayoutWidget):
    """pyqtgraph's ColorBarItem for the disparity map: the same colour map and levels as the picture."""

    LABEL = "d (px) · high = near"

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.bar = pg.ColorBarItem(values=(0, 64), colorMap=pg.colormap.get(COLORMAPS["depth"]), interactive=False,
                                   orientation="vertical", label=self.LABEL)
        self.addItem(self.bar)
        self.apply_theme(theme)

    def set_range(self, top: float) -> None:
        self.bar.setLevels((0.0, float(top)))

    def apply_theme(self, theme) -> None:
        self.setBackground(theme.plot_bg)
        font = theme.font("axis")
        ticks = self.bar.axis  # the axis with the values; the label sits on the opposite one
        ticks.setPen(theme.pen("fg", 1))
        ticks.setTextPen(theme.pen("fg", 1))
        ticks.setStyle(tickFont=font)
        ticks.setWidth(max(36, int(theme.font_pt * 2.6)))
        label = self.bar.getAxis("left")
        label.label.setFont(font)
        label.setLabel(self.LABEL, **{"color": theme.fg, "font-size": f"{font.pointSizeF():.0f}pt"})
        self.setFixedWidth(max(96, int(theme.font_pt * 6)))


class StereoMain(QWidget):
    """The disparity map (the picture) beside the left view stacked over the right view (same x scale), and
    under them the clicked pixel's cost curve across the whole width: the 1-D search, readable."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.offers = OfferBar()
        self.disp_view = ImageCanvas(theme=theme)
        self.left_view = ImageCanvas(theme=theme)
        self.right_view = ImageCanvas(theme=theme)
        self.colorbar = ColorBar(theme)
        self.cost_plot = CostPlot(theme)
        self.t_disp = ElidedLabel("Disparity d: bright = near")
        self.t_left = ElidedLabel("Left view (reference)")
        self.t_right = ElidedLabel("Right view: points move LEFT by d")
        self.readout = ElidedLabel("Click the map or a view: that pixel's d, its depth Z and its cost curve")
        self.metrics = ElidedLabel("")
        for t in (self.t_disp, self.t_left, self.t_right):
            t.setObjectName("Muted")
        for w in (self.disp_view, self.left_view, self.right_view, self.cost_plot):
            w.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        g = QGridLayout()
        g.setContentsMargins(0, 0, 0, 0)
        g.setHorizontalSpacing(6)
        g.setVerticalSpacing(2)
        g.addWidget(self.t_disp, 0, 0, 1, 2)
        g.addWidget(self.disp_view, 1, 0, 3, 1)
        g.addWidget(self.colorbar, 1, 1, 3, 1)
        g.addWidget(self.t_left, 0, 2)
        g.addWidget(self.left_view, 1, 2)
        g.addWidget(self.t_right, 2, 2)
        g.addWidget(self.right_view, 3, 2)
        g.addWidget(self.readout, 4, 0, 1, 3)
        g.addWidget(self.metrics, 5, 0, 1, 3)
        g.addWidget(self.cost_plot, 6, 0, 1, 3)
        g.setColumnStretch(0, 5)
        g.setColumnStretch(2, 3)
        g.setRowStretch(1, 3)
        g.setRowStretch(3, 3)
        g.setRowStretch(6, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.offers)
        lay.addLayout(g, 1)

    def canvases(self) -> tuple[ImageCanvas, ...]:
        return self.disp_view, self.left_view, self.right_view

    def apply_theme(self, theme) -> None:
        self.colorbar.apply_theme(theme)
        self.cost_plot.apply_theme(theme)


class _StaticPlot(pg.PlotWidget):
    """A plot that explains rather than explores: no menu, no mouse zoom, the theme's axes and labels."""

    def __init__(self, theme, left: str, bottom: str, parent=None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.theme = theme
        self.axes = (left, bottom)
        theme.style_plot(self, left=left, bottom=bottom)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self, left=self.axes[0], bottom=self.axes[1])


def _label(theme, text: str, role: str) -> pg.TextItem:
    fill = pg.mkColor(theme.color("plot_bg"))
    fill.setAlpha(225)
    t = pg.TextItem(text, color=theme.fg, fill=pg.mkBrush(fill), border=theme.pen(role, 2))
    t.setFont(theme.font("label"))
    return t


class CostPlot(_StaticPlot):
    """The pixel's matching cost for every disparity: the 1-D search, its minimum starred."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(theme, "cost (SAD)", "disparity d (px)", parent)

    def show_costs(self, costs: np.ndarray | None, matcher_d: float, best: int | None) -> None:
        """``costs[d]`` (inf where x − d leaves the image), the matcher's d, and the cheapest d."""
        th = self.theme
        self.clear()
        if costs is None or best is None:
            return
        ds = np.arange(len(costs))
        ok = np.isfinite(costs)
        self.plot(ds[ok], costs[ok], pen=th.pen("accent", th.line_px * 1.2), symbol="o",
                  symbolSize=th.font_pt * 0.5, symbolBrush=th.color("accent"), symbolPen=None)
        self.plot([best], [costs[best]], pen=None, symbol="star", symbolSize=th.font_pt * 2.0,
                  symbolBrush=th.color("positive"), symbolPen=th.pen("fg", 1))
        txt = _label(th, f"cheapest d = {best}", "positive")
        txt.setAnchor((-0.05 if best < 0.5 * len(costs) else 1.05, 1.2))
        txt.setPos(best, costs[best])
        self.addItem(txt)
        if math.isfinite(matcher_d):
            line = pg.InfiniteLine(pos=matcher_d, angle=90, pen=th.pen("current", th.line_px, "dash"),
                                   label=f"matcher: {matcher_d:.2f}", labelOpts={"position": 0.88, "color": th.fg,
                                                                  "anchors": [(-0.05, 0.5), (-0.05, 0.5)]
                                                                  if matcher_d < 0.5 * len(costs) else
                                                                  [(1.05, 0.5), (1.05, 0.5)]})
            line.label.setFont(th.font("label"))
            self.addItem(line)
        self.setXRange(0, len(costs) - 1, padding=0.02)



class DepthPlot(_StaticPlot):
    """Z = fB/(d + doffs) against d, with the clicked pixel and its depth range for ±1 px of d."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(theme, "depth Z (m)", "disparity d (px)", parent)

    @property
    def unit(self) -> str:
        """The depth axis' title (it says when f and B are placeholders)."""
        return self.axes[0]

    def show_curve(self, curve: DepthCurve, at: DepthAt | None, *, assumed: bool) -> None:
        th = self.theme
        self.axes = ("depth Z (m, assumed f and B)" if assumed else "depth Z (m)", self.axes[1])
        th.style_plot(self, left=self.axes[0], bottom=self.axes[1])
        self.clear()
        self.plot(curve.d, curve.z, pen=th.pen("accent", th.line_px * 1.2))
        top = curve.top
        if at is not None and at.valid:
            far = at.z_far if math.isfinite(at.z_far) else top
            band_col = pg.mkColor(th.color("negative"))
            band_col.setAlpha(60)
            self.addItem(pg.LinearRegionItem(values=(at.z_near, far), orientation="horizontal", movable=False,
                                             brush=pg.mkBrush(band_col), pen=th.pen("negative", 1)))
            self.addItem(pg.PlotCurveItem([at.d, at.d], [at.z_near, far], pen=th.pen("negative", th.line_px * 2)))
            self.plot([at.d], [at.z], pen=None, symbol="o", symbolSize=th.font_pt * 1.2,
                      symbolBrush=th.color("current"))
            far_txt = f"{at.z_far:.2f}" if math.isfinite(at.z_far) else "∞"
            top = min(top, 4.0 * far) if math.isfinite(at.z_far) else top
            top = max(top, far * 1.1)
            t = _label(th, f"±1 px: {at.z_near:.2f}…{far_txt} m", "negative")
            t.setAnchor((1, 0))  # the top-right corner: inside the plot whatever the column's width
            t.setPos(float(curve.d[-1]), top)
            self.addItem(t)
        self.setYRange(0, top)
        self.setXRange(0, float(curve.d[-1]), padding=0.02)


class ErrorView(QWidget):
    """Where the map is wrong: bad pixels in the theme's "negative" colour over the canvas background (no white
    slab in the dark theme), good ones lightly in "positive", pixels without ground truth in "muted"."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.canvas = ImageCanvas(theme=theme)
        self.caption = WrapLabel("")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.caption)

    def show_errors(self, classes: ErrorClasses | None, shape: tuple[int, int], theme) -> None:
        h, w = shape
        self.canvas.set_image(np.zeros((h, w, 4), np.uint8))  # transparent: the canvas shows the theme's background
        if classes is None:
            for name in ("good", "bad", "unknown"):
                self.canvas.set_overlay(name, None)
            self.caption.setText("No ground truth for this pair: load one (Data ▸ Ground truth…) to see the errors.")
            return
        self.canvas.set_overlay("good", overlay.mask_rgba(classes.good, theme.color("positive"), 0.35))
        self.canvas.set_overlay("bad", overlay.mask_rgba(classes.bad, theme.color("negative"), 0.95))
        self.canvas.set_overlay("unknown", overlay.mask_rgba(classes.unknown, theme.color("muted"), 0.6))
        self.caption.setText("Vermilion: off by more than 2 px (or rejected) · green: within 2 px · "
                             "grey: no ground truth")
