"""The ViT lab's secondary views: the attention matrix drawn to scale, and the class probabilities."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...widgets.pg import pg

__all__ = ["MatrixScale", "ProbabilityBars"]


def _still_plot() -> pg.PlotWidget:
    """A plot that shows a result: no menu, no mouse panning or zooming, no auto-range button."""
    plot = pg.PlotWidget()
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    return plot


class MatrixScale(QWidget):
    """Two squares to scale: the T×T attention matrix of the current patch size (filled), and the one
    of a reference patch size (outlined), both in tokens; the tooltip says how they compare."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.plot = _still_plot()
        self.plot.setAspectLocked(True)
        self.sides: tuple[int, int] = (0, 0)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot, 1)
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self.plot, bottom="tokens")

    def set_sides(self, current: int, reference: int, caption: str = "") -> None:
        """Draw an ``current × current`` square over a ``reference × reference`` one (token units)."""
        self.sides = (int(current), int(reference))
        self.plot.clear()
        th = self.theme
        for side, role, width in ((reference, "muted", 2), (current, "accent", 3)):
            xs = np.array([0, side, side, 0, 0], float)
            ys = np.array([0, 0, side, side, 0], float)
            fill = QColor(th.color(role))
            fill.setAlphaF(0.35)
            item = pg.PlotDataItem(xs, ys, pen=th.pen(role, width))
            if role == "accent":  # the current matrix is filled, the reference only outlined
                item.setFillLevel(0)
                item.setFillBrush(pg.mkBrush(fill))
            self.plot.addItem(item)
        big = max(current, reference, 1)
        self.plot.setRange(xRange=(0, big), yRange=(0, big), padding=0.05)
        self.plot.setToolTip(caption)


class ProbabilityBars(QWidget):
    """The tiny ViT's class probabilities as horizontal bars (the winner in the accent colour)."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setXRange(0, 1)
        self.values: tuple[float, ...] = ()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self.plot, bottom="probability")

    def set_probs(self, names, probs) -> None:
        self.values = tuple(float(p) for p in probs)
        self.plot.clear()
        best = int(np.argmax(probs)) if len(probs) else -1
        brushes = [pg.mkBrush(self.theme.color("accent" if i == best else "muted")) for i in range(len(probs))]
        # horizontal bars: the class names sit one per line on the left and never overlap
        self.plot.addItem(pg.BarGraphItem(x0=0, y=np.arange(len(probs)), height=0.7, width=np.asarray(probs, float),
                                          brushes=brushes))
        self.plot.getAxis("left").setTicks([list(enumerate(names))])
        self.plot.setXRange(0, 1)
        self.plot.setYRange(-0.5, len(probs) - 0.5)
