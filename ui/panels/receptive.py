"""Receptive-field panel: the exact input region behind any feature-map cell, on a photo.

Left: the preset networks and the stack table. The table is both the stack editor (type, kernel,
stride, padding, dilation are editable; add / remove / move rows) and the per-layer table
(output size, jump, receptive field and how much it grew); the chosen layer's row is highlighted.
Right: the image with the chosen layer's feature-map grid. Clicking a cell draws its receptive
field (the part outside the image hatched as padding), the effective-RF heat map (all-ones
kernels: the centre dominates) and the chosen layer's kernel taps (dilation spreads them).
"How big is my object?": drag a box; the panel names the first layer whose RF covers it.

All arithmetic: :mod:`cvexplorer.receptive`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QPushButton, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cvexplorer import receptive as R

from ..widgets.canvas import ImageCanvas
from ..widgets.util import label
from .base import Panel

__all__ = ["PanelWidget"]

_EDIT = ["name", "type", "K", "S", "P", "D"]
_READ = ["out", "jump", "RF", "+RF"]
_MAX_GRID_LINES = 120


@lru_cache(maxsize=1)
def _sample() -> np.ndarray:
    from cvexplorer.samples import get_sample

    img = get_sample("still-life", (640, 480))
    img.setflags(write=False)
    return img


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        self.source_rgb: np.ndarray | None = None
        self.image: np.ndarray | None = None
        self.source = "still-life sample"
        self.preset = "resnet50"
        self.stack: tuple[R.Layer, ...] = R.PRESETS[self.preset]
        self.layer = len(self.stack) - 1
        self.cell: tuple[int, int] | None = None
        self.object_box: tuple[float, float, float, float] | None = None
        self.covering: int | None = None
        self.rows_res: list = []
        self.cols_res: list = []
        self.box: tuple[int, int, int, int] | None = None
        self.error = ""
        self._filling = False

        # -- controls -----------------------------------------------------------------------------
        self.preset_box = QComboBox()
        for key, title in R.PRESET_TITLES.items():
            self.preset_box.addItem(title, key)
        self.preset_box.addItem("Custom stack", "custom")
        self.preset_box.setCurrentIndex(list(R.PRESETS).index(self.preset))
        self.preset_box.activated.connect(ctx.guard(self._on_preset, "choosing a preset"))
        self.input_size = QSpinBox()
        self.input_size.setRange(32, 4096)
        self.input_size.setValue(640)
        self.input_size.setPrefix("image longer side ")
        self.input_size.setSuffix(" px")
        self.input_size.valueChanged.connect(ctx.guard(self._on_input_size, "resizing the image"))

        self.table = QTableWidget(0, len(_EDIT) + len(_READ))
        self.table.setHorizontalHeaderLabels(_EDIT + _READ)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.itemChanged.connect(ctx.guard(self._on_table_edit, "editing the stack"))
        self.table.currentCellChanged.connect(ctx.guard(self._on_row, "choosing a layer"))

        self.add_btn = QPushButton("Add")
        self.del_btn = QPushButton("Remove")
        self.up_btn = QPushButton("Up")
        self.down_btn = QPushButton("Down")
        self.onnx_btn = QPushButton("Import ONNX…")
        self.add_btn.clicked.connect(ctx.guard(self.add_layer, "adding a layer"))
        self.del_btn.clicked.connect(ctx.guard(self.remove_layer, "removing a layer"))
        self.up_btn.clicked.connect(ctx.guard(lambda: self.move_layer(-1), "moving a layer"))
        self.down_btn.clicked.connect(ctx.guard(lambda: self.move_layer(1), "moving a layer"))
        self.onnx_btn.clicked.connect(ctx.guard(self._ask_onnx, "importing an ONNX model"))
        self.measure_btn = QPushButton("How big is my object? (drag a box)")
        self.measure_btn.setCheckable(True)
        self.measure_btn.toggled.connect(self._on_measure)
        self.error_label = label("", "Error", wrap=True)

        # -- views --------------------------------------------------------------------------------
        self.canvas = ImageCanvas(theme=ctx.theme)
        self.canvas.clicked.connect(ctx.guard(self._on_click, "choosing a cell"))
        self.canvas.dragged.connect(ctx.guard(self._on_drag, "measuring an object"))
        self.info = label("", wrap=True)
        self.info.setObjectName("Big")
        self.sub = label("", wrap=True)
        self.legend = label("", "Muted", wrap=True)

        controls = QWidget()
        controls.setObjectName("Controls")
        cl = QVBoxLayout(controls)
        cl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.preset_box, 1)
        row.addWidget(self.onnx_btn)
        cl.addLayout(row)
        cl.addWidget(self.input_size)
        cl.addWidget(self.table, 1)
        row = QHBoxLayout()
        for b in (self.add_btn, self.del_btn, self.up_btn, self.down_btn):
            row.addWidget(b)
        cl.addLayout(row)
        cl.addWidget(self.measure_btn)
        cl.addWidget(self.error_label)
        view = QWidget()
        vl = QVBoxLayout(view)
        vl.setContentsMargins(0, 0, 0, 0)
        vl.addWidget(self.info)
        vl.addWidget(self.sub)
        vl.addWidget(self.canvas, 1)
        vl.addWidget(self.legend)
        split = QSplitter()
        split.addWidget(controls)
        split.addWidget(view)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([840, 1060])
        QVBoxLayout(self).addWidget(split)

        self._view = None
        self.apply_theme(ctx.theme)
        self._set_source(_sample(), "still-life sample")
        self._fill_table()
        self.recompute()

    # -- input ------------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self._set_source(rgb, source or "your image")
        self.cell = None
        self.object_box = None
        self.recompute()

    def _set_source(self, rgb: np.ndarray, source: str) -> None:
        self.source_rgb = np.asarray(rgb)
        self.source = source
        self._resize_image()

    def _resize_image(self) -> None:
        import cv2

        h, w = self.source_rgb.shape[:2]
        side = self.input_size.value()
        s = side / max(h, w)
        size = (max(1, int(round(w * s))), max(1, int(round(h * s))))
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        self.image = np.ascontiguousarray(cv2.resize(self.source_rgb, size, interpolation=interp))
        self.canvas.set_image(self.image, autorange=True)

    def _on_input_size(self, _v) -> None:
        if self.source_rgb is None:
            return
        self._resize_image()
        self.cell = None
        self.recompute()

    # -- stack editing ----------------------------------------------------------------------------
    def set_stack(self, stack, preset: str = "custom", layer: int | None = None) -> None:
        self.stack = R.make_stack(stack)
        self.preset = preset
        idx = self.preset_box.findData(preset)
        self.preset_box.setCurrentIndex(idx if idx >= 0 else self.preset_box.count() - 1)
        self.layer = len(self.stack) - 1 if layer is None else max(0, min(layer, len(self.stack) - 1))
        self.cell = None
        self.error = ""
        self._fill_table()
        self.recompute()

    def _on_preset(self, _i: int) -> None:
        key = self.preset_box.currentData()
        if key in R.PRESETS:
            self.set_stack(R.PRESETS[key], key)

    def add_layer(self) -> None:
        i = self.layer + 1 if self.stack else 0
        st = list(self.stack)
        st.insert(i, R.Layer("conv", 3, 1, 1, 1, f"added{i + 1}"))
        self.set_stack(st, "custom", i)

    def remove_layer(self) -> None:
        if len(self.stack) <= 1:
            raise ValueError("A stack needs at least one layer.")
        st = list(self.stack)
        del st[self.layer]
        self.set_stack(st, "custom", min(self.layer, len(st) - 1))

    def move_layer(self, delta: int) -> None:
        i, j = self.layer, self.layer + delta
        if not 0 <= j < len(self.stack):
            return
        st = list(self.stack)
        st[i], st[j] = st[j], st[i]
        self.set_stack(st, "custom", j)

    def _ask_onnx(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import an ONNX model", "", "ONNX models (*.onnx)")
        if path:
            self.load_onnx(path)

    def load_onnx(self, path) -> None:
        from pathlib import Path

        self.set_stack(R.stack_from_onnx(path), "custom")
        self.ctx.status(f"Imported {len(self.stack)} conv/pool layers from {Path(str(path)).name} "
                        "(the path with the largest receptive field)")

    def _fill_table(self) -> None:
        self._filling = True
        try:
            self.table.setRowCount(len(self.stack))
            for r, layer in enumerate(self.stack):
                vals = [layer.name or f"layer{r + 1}", layer.kind, layer.kernel, layer.stride, layer.padding,
                        layer.dilation]
                for c, v in enumerate(vals):
                    it = QTableWidgetItem(str(v))
                    if c >= 2:
                        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(r, c, it)
                for c in range(len(_EDIT), len(_EDIT) + len(_READ)):
                    it = QTableWidgetItem("")
                    it.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(r, c, it)
        finally:
            self._filling = False

    def _on_table_edit(self, item) -> None:
        if self._filling:
            return
        layers = []
        try:
            for r in range(self.table.rowCount()):
                t = [self.table.item(r, c).text().strip() for c in range(len(_EDIT))]
                try:
                    k, s, p, d = (int(v) for v in t[2:6])
                except ValueError:
                    raise ValueError(f"Row {r + 1}: kernel, stride, padding and dilation must be whole numbers.") from None
                layers.append(R.Layer(t[1].lower(), k, s, p, d, t[0]))
            stack = R.make_stack(layers)
        except ValueError as exc:
            self.error = str(exc)
            self.error_label.setText(f"⚠ {exc}")
            return
        self.error = ""
        self.error_label.setText("")
        self.stack = stack
        self.preset = "custom"
        self.preset_box.setCurrentIndex(self.preset_box.count() - 1)
        self.recompute()

    def _on_row(self, row, _col, _prow, _pcol) -> None:
        if self._filling or row < 0 or row == self.layer:
            return
        self.select_layer(row)

    def select_layer(self, index: int) -> None:
        self.layer = index % len(self.stack)
        if self.cell is not None:
            self.cell = self._centre_cell_near(self.cell_centre_hint)
        self.recompute()

    # -- compute ----------------------------------------------------------------------------------
    def recompute(self) -> None:
        h, w = self.image.shape[:2]
        try:
            self.rows_res = R.analyze(self.stack, h)
            self.cols_res = R.analyze(self.stack, w)
            self.error = ""
            self.error_label.setText("")
        except ValueError as exc:
            self.rows_res = R.analyze(self.stack)
            self.cols_res = self.rows_res
            self.error = str(exc)
            self.error_label.setText(f"⚠ On this {w}×{h} image: {exc}")
        self._update_table()
        self._render()

    @property
    def cell_centre_hint(self) -> tuple[float, float]:
        """Image position of the current cell's centre (kept when the layer changes)."""
        if self.cell is None or not self.rows_res:
            return (self.image.shape[1] / 2, self.image.shape[0] / 2)
        if getattr(self, "_hint", None) is not None:
            return self._hint
        r = self.rows_res[self.layer]
        return (r.start + self.cell[1] * r.jump + 0.5, r.start + self.cell[0] * r.jump + 0.5)

    def _centre_cell_near(self, xy) -> tuple[int, int]:
        res = self.rows_res[self.layer] if self.rows_res else R.analyze(self.stack)[self.layer]
        x, y = xy
        row = int(round((y - 0.5 - res.start) / res.jump))
        col = int(round((x - 0.5 - res.start) / res.jump))
        n_r = self.rows_res[self.layer].out_size if self.rows_res and self.rows_res[self.layer].out_size else None
        n_c = self.cols_res[self.layer].out_size if self.cols_res and self.cols_res[self.layer].out_size else None
        row = max(0, row if n_r is None else min(row, n_r - 1))
        col = max(0, col if n_c is None else min(col, n_c - 1))
        return row, col

    def select_cell(self, row: int, col: int) -> None:
        self.cell = (int(row), int(col))
        self._hint = None
        self._render()

    def _on_click(self, x, y, button, _mods) -> None:
        if button != int(Qt.MouseButton.LeftButton.value) and button != 1:
            return
        if self.measure_btn.isChecked():
            return
        self.cell = self._centre_cell_near((x, y))
        self._hint = (x, y)
        self._render()

    def _on_measure(self, on: bool) -> None:
        self.canvas.drag_mode = on
        self.ctx.status("Drag a box around an object" if on else "")

    def _on_drag(self, x0, y0, x1, y1, finished) -> None:
        self.measure_object((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), select=finished)

    def measure_object(self, box, select: bool = True) -> int | None:
        self.object_box = tuple(float(v) for v in box)
        self.covering = R.first_covering_layer(self.stack, self.object_box)
        if select and self.covering is not None:
            cx, cy = (self.object_box[0] + self.object_box[2]) / 2, (self.object_box[1] + self.object_box[3]) / 2
            self.layer = self.covering
            self.cell = self._centre_cell_near((cx, cy))
            self._hint = (cx, cy)
            self._update_table()
        self._render()
        return self.covering

    # -- render -----------------------------------------------------------------------------------
    def _update_table(self) -> None:
        self._filling = True
        try:
            th = self.ctx.theme
            prev_rf = 1
            hi = QColor(th.color("highlight"))
            for r, (rr, cr) in enumerate(zip(self.rows_res, self.cols_res)):
                out = "" if rr.out_size is None else f"{cr.out_size}×{rr.out_size}"
                vals = [out, str(rr.jump), str(rr.rf), f"+{rr.rf - prev_rf}"]
                prev_rf = rr.rf
                for c, v in enumerate(vals):
                    it = self.table.item(r, len(_EDIT) + c)
                    if it is not None:
                        it.setText(v)
                for c in range(self.table.columnCount()):
                    it = self.table.item(r, c)
                    if it is None:
                        continue
                    if r == self.layer:
                        it.setBackground(QBrush(hi))
                        it.setForeground(QBrush(QColor("#000000")))
                    elif self.covering is not None and r == self.covering:
                        it.setBackground(QBrush(QColor(th.color("positive")).lighter(170)))
                    else:
                        it.setBackground(QBrush())
                        it.setForeground(QBrush())
            if 0 <= self.layer < self.table.rowCount():
                self.table.setCurrentCell(self.layer, 0)
                self.table.scrollToItem(self.table.item(self.layer, 0), QTableWidget.ScrollHint.PositionAtCenter)
        finally:
            self._filling = False

    def grid_segments(self) -> np.ndarray:
        """Cell boundaries of the chosen layer's feature map, as (N, 4) segments in image pixels."""
        h, w = self.image.shape[:2]
        rr, cr = self.rows_res[self.layer], self.cols_res[self.layer]
        segs = []
        for res, n, length, vertical in ((cr, cr.out_size, h, True), (rr, rr.out_size, w, False)):
            if n is None:
                continue
            step = max(1, int(np.ceil((n + 1) / _MAX_GRID_LINES)))
            for i in range(0, n + 1, step):
                pos = res.start + 0.5 + (i - 0.5) * res.jump  # boundary between cells i-1 and i
                pos = min(max(pos, 0.0), float(w if vertical else h))
                segs.append((pos, 0, pos, length) if vertical else (0, pos, length, pos))
        return np.asarray(segs, dtype=float).reshape(-1, 4)

    def _render(self) -> None:
        c = self.canvas
        th = self.ctx.theme
        h, w = self.image.shape[:2]
        for name in ("rf", "pad", "cell", "erf", "dim", "taps", "object", "labels"):
            c.clear_layer(name)
        layer = self.stack[self.layer]
        rr, cr = self.rows_res[self.layer], self.cols_res[self.layer]
        c.set_lines("grid", self.grid_segments(), color="grid", width=max(1.0, th.line_px / 3))
        n = f"{cr.out_size}×{rr.out_size}" if rr.out_size else "?"
        head = f"{layer.name or 'layer'} ({self.layer + 1}/{len(self.stack)}) · {n} cells · jump {rr.jump} px · RF {rr.rf} px"
        sub = []
        legend = ["blue grid: the chosen layer's cells", "click a cell to see what it sees"]
        if self.cell is not None:
            row, col = self.cell
            self.box = R.rf_box(self.stack, self.layer, row, col)
            x0, y0, x1, y1 = self.box
            # effective RF heat map: yellow (weak) to red (strong), alpha follows the weight
            erf = R.effective_rf(self.stack, self.layer, row, col)
            wgt = erf.weights / erf.weights.max()
            rgba = np.zeros(wgt.shape + (4,), np.uint8)
            rgba[..., 0] = 255
            rgba[..., 1] = np.clip(230 * (1 - wgt), 0, 255).astype(np.uint8)
            rgba[..., 2] = 0
            rgba[..., 3] = np.clip(np.sqrt(wgt) * 235, 0, 255).astype(np.uint8)
            c.set_overlay("erf", rgba, rect=(erf.x0, erf.y0, erf.x0 + wgt.shape[1], erf.y0 + wgt.shape[0]), z=6)
            # dim what the cell cannot see
            dims = [(0, 0, w, max(0, min(h, y0))), (0, min(h, max(0, y1)), w, h),
                    (0, max(0, y0), max(0, min(w, x0)), min(h, y1)), (min(w, max(0, x1)), max(0, y0), w, min(h, y1))]
            dims = [d_ for d_ in dims if d_[2] > d_[0] and d_[3] > d_[1]]
            if dims:
                c.set_rects("dim", dims, color="black", fill="black", alpha=0.5, width=0.01, z=5.5)
            # padding: the parts of the box outside the image, hatched
            pads = []
            if x0 < 0:
                pads.append((x0, y0, 0, y1))
            if x1 > w:
                pads.append((w, y0, x1, y1))
            if y0 < 0:
                pads.append((max(x0, 0), y0, min(x1, w), 0))
            if y1 > h:
                pads.append((max(x0, 0), h, min(x1, w), y1))
            if pads:
                self._hatch(pads)
            c.set_rects("rf", [self.box], color="current", width=th.line_px * 1.25)
            cx = cr.start + col * cr.jump + 0.5
            cy = rr.start + row * rr.jump + 0.5
            c.set_rects("cell", [(cx - rr.jump / 2, cy - rr.jump / 2, cx + rr.jump / 2, cy + rr.jump / 2)],
                        color="black", fill="highlight", alpha=0.85, width=max(1.0, th.line_px / 2), z=12)
            # the chosen layer's kernel taps, in input pixels (dilation spreads them)
            prev = self.rows_res[self.layer - 1] if self.layer > 0 else None
            pj = prev.jump if prev else 1
            ps = prev.start if prev else 0.0
            k, s, p, d = layer.as_tuple()
            t = np.arange(k)
            tx = ps + ((col * s - p) + t * d) * pj + 0.5
            ty = ps + ((row * s - p) + t * d) * pj + 0.5
            gx, gy = np.meshgrid(tx, ty)
            if k > 1:
                c.set_points("taps", np.stack([gx.ravel(), gy.ravel()], axis=1), color="accent", brush="accent",
                             size=7 if k * k > 25 else 9)
            pad_txt = " (hatched: padding)" if pads else ""
            sub.append(f"cell ({row}, {col}) sees x {x0}…{x1 - 1}, y {y0}…{y1 - 1}{pad_txt}")
            legend = ["orange box: the receptive field", "yellow→red: effective RF (all-ones kernels)",
                      "yellow square: the cell itself", "dimmed: what it cannot see"]
            if k > 1:
                legend.insert(2, f"blue dots: the {k}×{k} taps of this layer" + (f" (dilation {d})" if d > 1 else ""))
            if pads:
                legend.append("purple hatching: zero padding")
            self._view = (min(0, x0) - 4, min(0, y0) - 4, max(w, x1) + 4, max(h, y1) + 4)
            c.set_view(*self._view)
        else:
            self._view = None
            c.fit()
        if self.object_box is not None:
            c.set_rects("object", [self.object_box], color="positive", width=th.line_px * 1.25, dash=True, z=14)
            ox0, oy0, ox1, oy1 = self.object_box
            size = max(ox1 - ox0, oy1 - oy0)
            if self.covering is None:
                msg = f"no layer's RF covers this {size:.0f} px object"
            else:
                cl = self.stack[self.covering]
                msg = (f"first layer that sees the whole {size:.0f} px object: "
                       f"{cl.name or self.covering + 1} (RF {self.rows_res[self.covering].rf} px)")
            short = "no layer covers it" if self.covering is None else f"covered from {cl.name or self.covering + 1}"
            c.set_texts("labels", [(ox0, oy0, short)], color="black", background="white", anchor=(0, 1))
            sub.append(msg[0].upper() + msg[1:])
        self.info.setText(head)
        self.sub.setText("  ·  ".join(sub))
        self.legend.setText("   ·   ".join(legend))

    def _hatch(self, rects) -> None:
        th = self.ctx.theme
        self.canvas.set_rects("pad", rects, color="padding", fill="padding", alpha=0.25, width=1, z=7)
        segs = []
        for x0, y0, x1, y1 in rects:
            step = max(4.0, max(x1 - x0, y1 - y0) / 14)
            for off in np.arange(-(y1 - y0), x1 - x0, step):
                # diagonal from (x0+off, y1) to (x0+off+(y1-y0), y0), clipped to the rect
                a0, a1 = max(0.0, -off), min(y1 - y0, x1 - x0 - off)
                if a1 <= a0:
                    continue
                segs.append((x0 + off + a0, y1 - a0, x0 + off + a1, y1 - a1))
        self.canvas.set_lines("pad_hatch", segs, color="padding", width=max(1.0, th.line_px / 2), z=8)
        self.canvas._layers.setdefault("pad", []).extend(self.canvas._layers.pop("pad_hatch", []))

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(ev)
        if getattr(self, "_view", None) is not None:
            self.canvas.set_view(*self._view)

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if getattr(self, "_view", None) is not None:
            self.canvas.set_view(*self._view)

    # -- hooks ------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"preset": self.preset,
                "stack": [dict(kind=l.kind, kernel=l.kernel, stride=l.stride, padding=l.padding, dilation=l.dilation,
                               name=l.name) for l in self.stack],
                "layer": self.layer, "cell": list(self.cell) if self.cell else None,
                "object_box": list(self.object_box) if self.object_box else None,
                "input_size": self.input_size.value()}

    def restore_state(self, state: dict[str, Any]) -> None:
        if "input_size" in state:
            self.input_size.setValue(int(state["input_size"]))
        stack = [R.Layer(**d) for d in state.get("stack", [])] or R.PRESETS.get(state.get("preset"), self.stack)
        self.set_stack(stack, state.get("preset", "custom"), state.get("layer"))
        if state.get("cell"):
            self.select_cell(*state["cell"])
        if state.get("object_box"):
            self.measure_object(state["object_box"], select=False)

    def demo(self) -> None:
        """ResNet-50 on the still life: the last layer's cell over the mug-sized object, and its RF."""
        from cvexplorer.samples import still_life_objects

        if self.preset != "resnet50":
            self.set_stack(R.PRESETS["resnet50"], "resnet50")
        h, w = self.image.shape[:2]
        objs = still_life_objects((w, h)) if self.source.startswith("still-life") else []
        if objs:
            self.measure_object(objs[0].box, select=False)
            x0, y0, x1, y1 = objs[0].box
            centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        else:
            centre = (w / 2, h / 2)
        self.layer = max(i for i, l in enumerate(self.stack) if l.kernel > 1)  # layer4.2.conv2: taps visible
        self.cell = self._centre_cell_near(centre)
        self._hint = centre
        self._update_table()
        self._render()

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.table.setStyleSheet(f"font-size: {max(9, int(round(theme.font_pt * 0.8)))}pt;")
        self.sub.setStyleSheet(f"font-size: {int(round(theme.font_pt * 1.1))}pt;")
        if self.rows_res:
            self._update_table()
            self._render()
