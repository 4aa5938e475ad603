"""Drawing for the detector panel: the grid and boxes on the canvas, the cell's numbers, the PR plot."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from cvexplorer.text import fmt_number

from ...widgets.canvas import ImageCanvas

__all__ = ["draw_grid", "draw_truth", "draw_cell", "clear_cell", "draw_stage", "draw_eval_step", "CellTable",
           "PRPlot", "LAYERS"]

LAYERS = ("grid", "truth", "cell", "owner", "other", "cell-labels", "cell-labels-other", "dropped", "kept", "kept-labels",
          "matched", "current", "current-label")


def _grid_lines(S: int, w: int, h: int) -> np.ndarray:
    xs = [(w * k / S, 0, w * k / S, h) for k in range(S + 1)]
    ys = [(0, h * k / S, w, h * k / S) for k in range(S + 1)]
    return np.array(xs + ys, float)


def draw_grid(canvas: ImageCanvas, S: int, w: int, h: int) -> None:
    canvas.set_lines("grid", _grid_lines(S, w, h), color="grid", width=1.5, z=5)


def draw_truth(canvas: ImageCanvas, boxes) -> None:
    """The true boxes, dashed (their classes are the shapes themselves)."""
    canvas.set_rects("truth", boxes, color="fg", width=2, dash=True, z=8)


def clear_cell(canvas: ImageCanvas) -> None:
    for name in ("cell", "owner", "other", "cell-labels", "cell-labels-other"):
        canvas.clear_layer(name)


def draw_cell(canvas: ImageCanvas, cell) -> None:
    """The chosen cell filled, its predictors' boxes (the owner solid, the others dashed)."""
    canvas.set_rects("cell", [cell.cell_box], color="highlight", fill="highlight", alpha=0.35, width=3, z=6)
    own = [b for k, b in enumerate(cell.boxes) if k == cell.owner]
    other = [b for k, b in enumerate(cell.boxes) if k != cell.owner]
    canvas.set_rects("owner", own, color="kept", width=4, z=12)
    canvas.set_rects("other", other, color="current", width=3, dash=True, z=11)
    # the owner's label above its box, the other predictors' below theirs, so they never overlap
    canvas.set_texts("cell-labels", [(b[0], b[1], f"b={k} owns it") for k, b in enumerate(cell.boxes)
                                     if k == cell.owner], color="black", background="white", anchor=(0.0, 1.0))
    canvas.set_texts("cell-labels-other", [(b[0], b[3], f"b={k}") for k, b in enumerate(cell.boxes)
                                           if k != cell.owner], color="black", background="white", anchor=(0.0, 0.0))


def draw_stage(canvas: ImageCanvas, decoded, step, class_names, *, labels: bool = True) -> None:
    """One post-processing stage: survivors solid, boxes this stage removed dashed; labels (class
    and score) unless a chosen cell's own labels need the room."""
    kept = np.asarray(step["kept"], int)
    thin = step["stage"] == "decoded"
    canvas.set_rects("kept", decoded.boxes[kept], color="waiting" if thin else "kept", width=1 if thin else 3, z=9)
    canvas.set_rects("dropped", decoded.boxes[np.asarray(step["dropped"], int)], color="suppressed", width=2,
                     dash=True, z=7)
    texts = [] if thin or not labels else [(decoded.boxes[i][0], decoded.boxes[i][1],
                                            f"{class_names[int(decoded.cls[i])]} {decoded.score[i]:.2f}")
                                           for i in kept[:12]]
    canvas.set_texts("kept-labels", texts, color="black", background="white", anchor=(0.0, 1.0), scale=0.8)


def draw_eval_step(canvas: ImageCanvas, gt_boxes, gt_index, det_boxes, det_index, step, walked: set) -> None:
    """An evaluation step on its image: objects dashed (the matched one filled), detections already
    walked thin, the current one thick in green (TP) or vermillion (FP) with its verdict."""
    o = step.get("outcome")
    canvas.set_rects("truth", gt_boxes, color="fg", width=2, dash=True, z=8)
    done = [b for b, i in zip(det_boxes, det_index) if int(i) in walked and (o is None or int(i) != o.index)]
    canvas.set_rects("kept", done, color="waiting", width=1.5, z=9)
    canvas.clear_layer("dropped")
    canvas.clear_layer("kept-labels")
    if o is None:
        for name in ("matched", "current", "current-label"):
            canvas.clear_layer(name)
        return
    match = [b for b, g in zip(gt_boxes, gt_index) if int(g) == o.gt]
    canvas.set_rects("matched", match, color="positive", fill="positive", alpha=0.25, width=3, z=10)
    cur = [b for b, i in zip(det_boxes, det_index) if int(i) == o.index]
    role = "positive" if o.status == "TP" else "negative"
    canvas.set_rects("current", cur, color=role, width=4, z=12)
    text = "TP" if o.status == "TP" else f"FP: {o.reason}"
    canvas.set_texts("current-label", [(b[0], b[1], f"{text} ({o.score:.2f})") for b in cur], color="black",
                     background="white", anchor=(0.0, 1.0))


class CellTable(QTableWidget):
    """The cell's slice of the output tensor: one column per predictor (x, y, √w, √h, confidence;
    the owner ★ in bold), then the class probabilities and the cell's five weighted loss terms."""

    ROWS = ("x", "y", "√w", "√h", "conf")

    def __init__(self, theme, parent=None) -> None:
        super().__init__(0, 3, parent)
        self.cell = None  # the CellNumbers shown
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.setFont(theme.font("cell"))

    def _put(self, r, c, text, bold=False):
        item = QTableWidgetItem(text)
        if c:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if bold:
            f = self.font()
            f.setBold(True)
            item.setFont(f)
        self.setItem(r, c, item)

    def show_cell(self, cell, class_names, weights) -> None:
        self.cell = cell
        B = len(cell.predictors)
        self.setColumnCount(B + 1)
        self.setHorizontalHeaderLabels([""] +
                                       [f"b={k}" + (" ★" if k == cell.owner else "") for k in range(B)])
        rows = len(self.ROWS) + len(class_names) + (len(cell.loss) + 1 if cell.loss else 1)
        self.setRowCount(rows)
        r = 0
        for k, name in enumerate(self.ROWS):
            self._put(r, 0, name)
            for b in range(B):
                self._put(r, b + 1, fmt_number(cell.predictors[b, k], 3), bold=b == cell.owner)
            r += 1
        for name, p in zip(class_names, cell.class_probs):
            self._put(r, 0, name)
            self._put(r, 1, fmt_number(p, 3), bold=p == cell.class_probs.max())
            r += 1
        if cell.loss:
            self._put(r, 0, "loss", bold=True)
            r += 1
            for name, v in cell.loss.items():
                self._put(r, 0, f"{name} ×{fmt_number(weights[name])}")
                self._put(r, 1, fmt_number(v, 4))
                r += 1
        else:
            self._put(r, 0, "no loss")


class PRPlot(pg.PlotWidget):
    """Precision against recall: the walked points, then the 101-point interpolated curve shaded."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.setXRange(0, 1.02)
        self.setYRange(0, 1.05)
        self.setMouseEnabled(False, False)
        self.curve = self.plot([], [])
        self.points = pg.ScatterPlotItem()
        self.area = self.plot([], [])
        self.addItem(self.points)
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self, left="precision", bottom="recall")
        self.curve.setPen(theme.pen("accent", 2))
        self.area.setPen(theme.pen("positive", 2))
        self.area.setFillLevel(0)
        c = pg.mkColor(theme.color("positive"))
        c.setAlphaF(0.3)
        self.area.setBrush(c)
        self.points.setPen(theme.pen("fg", 1))

    def show_step(self, step, recall_thresholds) -> None:
        rec = np.asarray(step.get("curve_recall", []), float)
        prec = np.asarray(step.get("curve_precision", []), float)
        self.curve.setData(rec, prec)
        o = step.get("outcome")
        brushes = [pg.mkBrush(self.theme.color("waiting"))] * max(len(rec) - 1, 0)
        if len(rec):
            brushes.append(pg.mkBrush(self.theme.color("positive" if o is not None and o.status == "TP" else "negative")))
        self.points.setData(rec, prec, brush=brushes, size=9)
        interp = step.get("interpolated")
        if interp is not None:
            self.area.setData(recall_thresholds, np.asarray(interp, float), stepMode=None)
        else:
            self.area.setData([], [])
