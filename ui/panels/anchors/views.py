"""What the Anchors panel draws: the layers over the image (grid, labelled anchors, heat maps, the pinned
cell, the boxes) and the histogram of best IoUs. Everything here is drawing; the numbers come from
:mod:`cvexplorer.anchors`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from cvexplorer import anchors as A
from cvexplorer.overlay import values_rgba
from cvexplorer.text import fmt_count

from ...widgets.canvas import ImageCanvas, lines_path, rects_path
from ...widgets.pg import pg
from .controls import VIEWS

__all__ = ["LevelView", "AnchorOverlay", "IoUHistogramPlot"]


@dataclass(frozen=True)
class LevelView:
    """Which part of a result is on screen: a level, a view of :data:`VIEWS`, the cell shown."""

    level: int
    view: str
    cell: tuple[int, int] | None
    low_quality_rule: bool

    @property
    def is_map(self) -> bool:  # a map reads better alone: no labelled anchors on top of it
        return self.view in (VIEWS[1], VIEWS[2])


class AnchorOverlay:
    """Draws one result on an :class:`ImageCanvas`, one path item per layer, reused between redraws."""

    def __init__(self, canvas: ImageCanvas) -> None:
        self.canvas = canvas
        self._styles: dict[str, tuple] = {}
        self._gt_key = None

    def _layer(self, name: str, rects, color: str, *, width=None, dash=False, z=10, fill=None, alpha=None,
               lines: bool = False) -> None:
        """Set a layer's path in place when its style has not changed (setPath is cheaper than a new item)."""
        r = np.asarray(rects, float).reshape(-1, 4)
        build = lines_path if lines else rects_path
        items = self.canvas.layer_items(name)
        key = (color, width, dash, fill, alpha, self.canvas.theme.name)
        if len(items) == 1 and isinstance(items[0], QGraphicsPathItem) and self._styles.get(name) == key:
            items[0].setPath(build(r) if len(r) else QPainterPath())
            return
        self.canvas.clear_layer(name)
        if len(r):
            self.canvas.set_path(name, build(r), color=color, width=width, fill=fill, alpha=alpha, dash=dash, z=z,
                                 crisp=not lines)
            self._styles[name] = key

    def draw(self, res: A.AnchorLabels, strides, lv: LevelView) -> str:
        """Draw ``res`` for the level and view in ``lv``; returns a sentence about the map shown ('' if none)."""
        th = self.canvas.theme
        s = strides[lv.level]
        per = res.per_location[lv.level]
        sl = res.level_slice(lv.level)
        boxes = res.boxes
        self._layer("grid", A.grid_segments(res.image_size, s) if s >= 6 else (), "grid", width=1, z=8, lines=True)
        note = ""
        if lv.view == VIEWS[1]:
            d = A.level_density(boxes[sl], res.image_size)
            gh, gw = d.map.shape
            self.canvas.set_overlay("heat", d.map.astype(np.float32), opacity=0.6, colormap="viridis",
                                    rect=(0, 0, gw * d.cell, gh * d.cell))
            note = (f"Density: a pixel lies inside {d.median} anchors of this level "
                    f"(median; {d.least} to {d.most}).")
        elif lv.view == VIEWS[2]:
            heat = A.level_heat(res.max_iou[sl], res.image_size, s, per)
            rows, cols = heat.map.shape
            self.canvas.set_overlay("heat", values_rgba(heat.map, th.color("current"), vmax=1.0, alpha=0.85),
                                    rect=(0, 0, cols * s, rows * s))
            note = (f"Heat: the best IoU of each cell's anchors, at most {heat.best:.2f} in cell "
                    f"({heat.cell[0]}, {heat.cell[1]})." if heat.best > 0
                    else "Heat: the best IoU of each cell's anchors (draw a box to see it).")
        else:
            self.canvas.clear_layer("heat")
        self._layer("all", boxes[sl] if lv.view == VIEWS[3] else (), "waiting", width=1, z=9)
        # labelled anchors: the positives of every level (thin on the others), the ignored of this level
        here = np.zeros(len(boxes), bool)
        here[sl] = True
        pos = (res.labels == 1) if not lv.is_map else np.zeros(len(boxes), bool)
        lq = res.match.low_quality & pos if res.match is not None else np.zeros(len(boxes), bool)
        self._layer("positive", boxes[pos & ~lq & here], "positive", z=14)
        self._layer("positive-other", boxes[pos & ~lq & ~here], "positive", width=max(1.0, th.line_px / 3), z=14)
        self._layer("lowq", boxes[lq], "padding", dash=True, z=15)
        lost = ()
        if res.match is not None and not lv.low_quality_rule and not lv.is_map:
            lost = boxes[res.match.best_anchor[res.match.orphan]]  # what the low-quality rule would have kept
        self._layer("lost", lost, "padding", dash=True, z=15)
        ignored = here & (res.labels == -1) & (not lv.is_map)
        self._layer("ignored", boxes[ignored], "ignored", width=max(1.0, th.line_px / 2), dash=True, z=12)
        cells = [(r.col * s, r.row * s, (r.col + 1) * s, (r.row + 1) * s)
                 for r in res.responsible if r.level == lv.level]
        self._layer("responsible", cells, "highlight", fill="highlight", alpha=0.45, z=13)
        key = (res.gt.tobytes(), th.name)
        if key != self._gt_key:
            self._gt_key = key
            self.canvas.set_rects("gt", res.gt, color="accent", width=th.line_px * 1.5, z=20)
            self.canvas.set_texts("gt-labels", [(b[0], b[1], f"box {j + 1}") for j, b in enumerate(res.gt)],
                                  color="white", background="accent", anchor=(0, 1))
        return note

    def draw_cell(self, res: A.AnchorLabels, strides, lv: LevelView, pair: A.CellPair | None) -> None:
        """The shown cell (filled), its anchors, and the anchor paired with a box with the decoded box."""
        for name in ("cell", "cell-box", "pair", "decoded"):
            self.canvas.clear_layer(name)
        if lv.cell is None:
            return
        th = self.canvas.theme
        s = strides[lv.level]
        idx = A.cell_anchors(res.image_size, strides, res.per_location, lv.level, lv.cell)
        c, r = lv.cell
        self.canvas.set_rects("cell-box", [[c * s, r * s, (c + 1) * s, (r + 1) * s]], color="current",
                              fill="current", alpha=0.35, width=1, z=16)
        self.canvas.set_rects("cell", res.boxes[idx], color="current", width=max(1.5, th.line_px * 0.5), z=17)
        if pair is not None:
            self.canvas.set_rects("pair", [pair.anchor_box], color="current", width=th.line_px * 1.5, z=21)
            self.canvas.set_rects("decoded", [pair.decoded], color="positive", width=max(1.0, th.line_px / 2),
                                  dash=True, z=22)


class IoUHistogramPlot(pg.PlotWidget):
    """Anchors by best IoU on a log axis: one bar for IoU 0 (left of the axis), 20 bars over (0, 1],
    coloured by the label the thresholds give them, so the bars add up to every anchor."""

    ZERO_BAR = (-0.13, -0.03)  # where the IoU-0 bar sits, left of the (0, 1] bins

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.histogram: A.IoUHistogram | None = None
        self.theme = theme
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self, left="anchors", bottom="best IoU")

    def show_histogram(self, hist: A.IoUHistogram, pos_iou: float, neg_iou: float, rule: str) -> None:
        self.histogram = hist
        th = self.theme
        plot = self.getPlotItem()
        plot.clear()
        heights = np.log10(np.concatenate([[hist.zero], hist.counts]) + 1.0)
        x0 = np.concatenate([[self.ZERO_BAR[0]], hist.edges[:-1]])
        x1 = np.concatenate([[self.ZERO_BAR[1]], hist.edges[1:]])
        if rule == "iou":
            roles = ["negative"] + ["positive" if e >= pos_iou - 1e-9 else "negative" if e + 0.05 <= neg_iou + 1e-9
                                    else "ignored" for e in hist.edges[:-1]]
        else:
            roles = ["negative"] + ["waiting"] * len(hist.counts)
        bars = pg.BarGraphItem(x0=x0, x1=x1, height=heights, brushes=[pg.mkBrush(th.color(r)) for r in roles],
                               pen=th.pen("fg", 1))
        plot.addItem(bars)
        if rule == "iou":
            for t in {pos_iou, neg_iou}:
                plot.addItem(pg.InfiniteLine(t, angle=90, pen=th.pen("fg", th.line_px, style="dash")))
        top = max(1, int(np.ceil(heights.max())))
        zero = pg.TextItem(f"◂ {fmt_count(hist.zero)}\n   at IoU 0", color=th.fg, anchor=(0, 0))
        zero.setFont(th.font("axis"))
        zero.setPos(self.ZERO_BAR[1], top * 1.04)
        plot.addItem(zero)
        if not hist.counts.sum():
            note = pg.TextItem("draw a box on the image", color=th.fg, anchor=(0.5, 0.5))
            note.setFont(th.font("body"))
            note.setPos(0.5, top / 2)
            plot.addItem(note)
        powers = [(k, str(10 ** k) if k < 5 else "10" + "⁰¹²³⁴⁵⁶⁷⁸⁹"[k]) for k in range(top + 1)]
        plot.getAxis("left").setTicks([powers])
        plot.getAxis("bottom").setTicks([[(sum(self.ZERO_BAR) / 2, "0")]
                                         + [(v, f"{v:g}") for v in (0.5, 1.0)]])
        plot.setYRange(0, top, padding=0.05)
        plot.setXRange(self.ZERO_BAR[0], 1.0, padding=0.02)
