"""The calculator's main view: the derivation (formula, substituted numbers, answer, meaning) over its picture.

Every number drawn here comes from the :class:`~cvexplorer.derivations.Derivation` (its ``extra``
holds the curves, boxes and kernel windows); this module only places them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGraphicsRectItem, QSizePolicy, QVBoxLayout, QWidget

from cvexplorer import derivations as D

from ...widgets.formula import FormulaCard
from ...widgets.text import WrapLabel

__all__ = ["DerivationView", "PLOTTED"]

#: Families with a picture.
PLOTTED = ("ransac", "iou", "anchors", "budget", "rf", "depth-error", "conv-out", "pool-out", "same-padding")


def _brush(theme, role: str, alpha: float) -> QBrush:
    c = QColor(theme.color(role))
    c.setAlphaF(alpha)
    return QBrush(c)


class DerivationView(QWidget):
    """The card on top (it takes the height its wrapped text needs), the plot and its caption below."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.card = FormulaCard("", "")
        self.card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        for lab in (self.card.formula, self.card.substituted):
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget()
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plot.setMinimumHeight(0)
        self.caption = WrapLabel("", "Muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.card, 0)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.caption, 0)
        lay.addStretch(0)

    # -- drawing --------------------------------------------------------------------------------------
    def _reset(self) -> pg.PlotItem:
        pi = self.plot.getPlotItem()
        pi.clear()
        for ax in ("left", "bottom"):
            pi.getAxis(ax).setTicks(None)
        pi.enableAutoRange()
        pi.setLogMode(False, False)
        pi.getViewBox().invertY(False)
        pi.getViewBox().setAspectLocked(False)
        pi.showGrid(False, False)
        self.caption.setText("")
        return pi

    def draw(self, d: D.Derivation | None, family: str, values: dict) -> None:
        """Draw the picture of ``d`` (or hide the plot when the family has none or the inputs are invalid)."""
        th = self.theme
        pi = self._reset()
        drawable = d is not None and family in PLOTTED
        self.plot.setVisible(drawable)
        self.caption.setVisible(drawable)
        if not drawable:
            return
        lw = th.line_px
        marker = dict(pen=None, symbol="o", symbolSize=8 + 3 * lw, symbolBrush=th.color("current"),
                      symbolPen=th.pen("fg", 1.5))
        if family in ("conv-out", "pool-out", "same-padding"):
            self._draw_windows(d.extra["windows"])
            return
        if family == "ransac":
            pi.setLogMode(False, True)
            pi.plot(np.asarray(d.extra["ratios"]), np.asarray(d.extra["iterations"], dtype=float), pen=th.pen("accent", lw))
            w = values["inlier_ratio"]
            pi.plot([w], [max(1, d.value)], **marker)
            pi.showGrid(True, True, 0.3)
            th.style_plot(self.plot, left="iterations N (log)", bottom="inlier ratio w")
            self.caption.setText(f"N explodes as w falls: w = {w:g} needs {D.answer_text(d)} samples of "
                                 f"{values['sample_size']}")
        elif family == "iou":
            self._draw_iou(d)
        elif family == "anchors":
            pct = np.asarray(d.extra["percent"])
            n = len(pct)
            pi.addItem(pg.BarGraphItem(x=np.arange(n), height=pct, width=0.7, brush=th.color("accent"),
                                       pen=th.pen("fg", 1)))
            for i, s in enumerate(pct):
                t = pg.TextItem(f"{s:.0f}%", color=th.fg, anchor=(0.5, 1))
                t.setFont(th.font("axis"))
                t.setPos(i, s)
                pi.addItem(t)
            pi.getAxis("bottom").setTicks([[(i, name) for i, name in enumerate(d.extra["levels"])]])
            pi.setRange(xRange=(-0.6, n - 0.4), yRange=(0, max(pct) * 1.2))
            th.style_plot(self.plot, left="share of anchors (%)", bottom="feature-map level")
            self.caption.setText("finer levels (more cells) hold most of the anchors")
        elif family == "budget":
            for i, (x0, t) in enumerate(zip(d.extra["starts"], d.extra["stages"])):
                pi.addItem(pg.BarGraphItem(x0=[x0], y=[0], width=[t], height=0.6, brush=th.series[i % len(th.series)],
                                           pen=th.pen("fg", 1)))
            for fps, role in ((60, "current"), (30, "negative")):
                ms = d.extra["frame_ms"][fps]
                line = pg.InfiniteLine(ms, angle=90, pen=th.pen(role, lw, style="dash"),
                                       label=f"{fps} fps: {ms:.1f} ms",
                                       labelOpts={"position": 0.9, "color": th.color(role), "anchors": [(1, 0), (1, 0)]})
                line.label.setFont(th.font("axis"))
                pi.addItem(line)
            pi.setRange(xRange=(0, max(d.value, d.extra["frame_ms"][30]) * 1.1), yRange=(-0.6, 0.8))
            pi.getAxis("left").setTicks([[(0, "total")]])
            th.style_plot(self.plot, left="", bottom="milliseconds")
            self.caption.setText("one coloured block per stage, against the 60 and 30 fps frame times")
        elif family == "rf":
            rows = d.extra["rows"]
            rf = np.array([r["rf"] for r in rows], dtype=float)
            pi.addItem(pg.BarGraphItem(x=np.arange(1, len(rows) + 1), height=rf, width=0.7, brush=th.color("accent"),
                                       pen=th.pen("fg", 1)))
            for r in rows:
                if r["stride"] > 1:
                    pi.addItem(pg.InfiniteLine(r["layer"] + 0.5, angle=90, pen=th.pen("current", lw / 2, style="dash")))
            pi.setRange(xRange=(0.4, len(rows) + 0.6), yRange=(0, rf.max() * 1.1))
            th.style_plot(self.plot, left="receptive field (px)", bottom="layer")
            self.caption.setText("dashed: after a stride, every later kernel adds (K−1)·jump — the growth speeds up")
        elif family == "depth-error":
            pi.plot(d.extra["depths"], d.extra["widths"], pen=th.pen("accent", lw), connect="finite")
            if math.isfinite(d.value):
                pi.plot([values["depth"]], [d.value], **marker)
            pi.showGrid(True, True, 0.3)
            th.style_plot(self.plot, left="depth range (m)", bottom="depth Z (m)")
            self.caption.setText("the error grows with the square of the depth")

    def _draw_iou(self, d: D.Derivation) -> None:
        th = self.theme
        pi = self.plot.getPlotItem()
        a, b = d.extra["box_a"], d.extra["box_b"]
        vb = pi.getViewBox()
        vb.invertY(True)
        vb.setAspectLocked(True)
        for box, role in ((a, "accent"), (b, "current")):
            r = QGraphicsRectItem(QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]))
            r.setPen(th.pen(role, th.line_px))
            r.setBrush(_brush(th, role, 0.15))
            pi.addItem(r)
        inter = d.extra["intersection"]
        if inter is not None:
            r = QGraphicsRectItem(QRectF(inter[0], inter[1], inter[2] - inter[0], inter[3] - inter[1]))
            r.setPen(th.pen("fg", 1))
            r.setBrush(_brush(th, "positive", 0.6))
            pi.addItem(r)
        for box, name, role in ((a, "A", "accent"), (b, "B", "current")):
            t = pg.TextItem(name, color=th.color(role), anchor=(0, 0))
            t.setFont(th.font("title"))
            t.setPos(box[0], box[1])
            pi.addItem(t)
        xs, ys = [a[0], a[2], b[0], b[2]], [a[1], a[3], b[1], b[3]]
        pi.setRange(xRange=(min(xs) - 1, max(xs) + 1), yRange=(min(ys) - 1, max(ys) + 1))
        th.style_plot(self.plot, left="y", bottom="x")
        self.caption.setText("green: the intersection A∩B; IoU divides it by the whole covered area")

    def _draw_windows(self, w: D.KernelWindows) -> None:
        """One row of input pixels (padding in purple) and the first and last kernel windows under it."""
        th = self.theme
        pi = self.plot.getPlotItem()
        brushes = [_brush(th, "padding", 0.45) if q else _brush(th, "muted", 0.3) for q in w.is_padding]
        pi.addItem(pg.BarGraphItem(x0=w.pixel_x, y0=np.zeros(len(w.pixel_x)), width=1.0, height=1.0, brushes=brushes,
                                   pen=th.pen("fg", 1)))
        font = th.font("axis")
        if w.cut_x is not None:
            t = pg.TextItem("…", color=th.fg, anchor=(0.5, 0.5))
            t.setFont(font)
            t.setPos(w.cut_x, 0.5)
            pi.addItem(t)
        none = QBrush(Qt.BrushStyle.NoBrush)
        ys = np.array([-1.4 - row * 1.15 for row in range(len(w.windows))])
        # one item for all windows and one for all taps: a repaint walks few items
        pi.addItem(pg.BarGraphItem(x0=[win.x0 for win in w.windows], y0=ys, width=[win.x1 - win.x0 for win in w.windows],
                                   height=0.8, brush=none, pen=th.pen("current", th.line_px * 0.75)))
        tx = np.concatenate([win.taps for win in w.windows])
        ty = np.concatenate([np.full(len(win.taps), y + 0.4) for win, y in zip(w.windows, ys)])
        pi.plot(tx, ty, pen=None, symbol="s", symbolSize=5 + 2 * th.line_px, symbolBrush=th.color("current"),
                symbolPen=None)
        for win, y in zip(w.windows, ys):
            t = pg.TextItem(f"out {win.output}", color=th.fg, anchor=(1, 0.5))
            t.setFont(font)
            t.setPos(win.x0 - 0.3, y + 0.4)
            pi.addItem(t)
        if w.unreached is not None:  # the floor leaves pixels no window reaches
            xa, xb = w.unreached
            pi.addItem(pg.BarGraphItem(x0=[xa], y0=[0], width=[xb - xa], height=[1.0], brush=none,
                                       pen=th.pen("negative", th.line_px)))
        y_min = -1.4 - (len(w.windows) - 1) * 1.15 - 0.3
        pi.setRange(xRange=w.x_range, yRange=(y_min, 1.3), padding=0.02)
        pi.getAxis("left").setTicks([[]])
        pi.getAxis("bottom").setTicks([list(w.ticks)])
        th.style_plot(self.plot, left="", bottom="pixel index (purple: padding)")
        n = w.unreached_count
        extra = f"; red: {n} pixel{'s' if n != 1 else ''} no window reaches" if w.unreached is not None else ""
        self.caption.setText(f"orange: the first and last {w.kernel}-tap windows, {w.stride} px apart" + extra)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self.plot)
