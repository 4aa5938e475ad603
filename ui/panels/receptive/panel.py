"""Receptive-field panel: the exact input region behind any feature-map cell, on a photo.

Main view: the image with the chosen layer's feature-map grid. Clicking a cell zooms to its
neighbourhood and draws its receptive field (the part outside the image hatched as padding), the
effective RF (all-ones kernels: the centre dominates) and the chosen layer's kernel taps (dilation
spreads them). Side column: the preset, the image size, the layer table (name, RF, jump, output
size: the numbers a student reads) and the editor of the chosen layer. The card says how the chosen
layer's RF follows from the previous one. "How big is my object?": drag a box; the panel names the
first layer whose RF covers it.

All arithmetic: :mod:`cvexplorer.receptive`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QGridLayout, QPushButton, QSpinBox, QVBoxLayout, QWidget

from cvexplorer import receptive as R
from cvexplorer.samples import get_sample, still_life_objects

from ...widgets.canvas import ImageCanvas
from ...widgets.formula import FormulaCard
from ...widgets.text import ElidedLabel, WrapLabel
from ..base import Panel
from .controls import LayerEditor, LayerTable
from .views import clear_cell, draw_cell, draw_grid, draw_object

__all__ = ["PanelWidget"]

#: Grid lines per axis at most: beyond that the grid hides the photo (finer maps show every n-th line).
MAX_GRID_LINES = 48


@lru_cache(maxsize=1)
def _sample() -> np.ndarray:
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
        self.cell_view: R.CellView | None = None
        self.grid: R.LayerGrid | None = None
        self.object_box: tuple[float, float, float, float] | None = None
        self.covering: int | None = None
        self.rows_res: list = []
        self.cols_res: list = []
        self.box: tuple[int, int, int, int] | None = None
        self.error = ""
        self._focus: tuple[float, float] | None = None  # image point the chosen cell follows across layers
        self._view = None

        frame = self.use_frame()
        # -- main view: header, canvas, legend ------------------------------------------------------
        self.info = ElidedLabel("", "Title")
        self.canvas = ImageCanvas(theme=ctx.theme)
        self.canvas.clicked.connect(ctx.guard(self._on_click, "choosing a cell"))
        self.canvas.dragged.connect(ctx.guard(self._on_drag, "measuring an object"))
        self.legend = WrapLabel("", "Muted")
        main = QWidget()
        ml = QVBoxLayout(main)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.info)
        ml.addWidget(self.canvas, 1)
        ml.addWidget(self.legend)
        frame.set_main(main)

        # -- side column ------------------------------------------------------------------------------
        self.preset_box = QComboBox()
        for key, title in R.PRESET_TITLES.items():
            self.preset_box.addItem(title, key)
        self.preset_box.addItem("Custom stack", "custom")
        self.preset_box.setCurrentIndex(list(R.PRESETS).index(self.preset))
        self.preset_box.activated.connect(ctx.guard(self._on_preset, "choosing a preset"))
        self.onnx_btn = QPushButton("Import ONNX…")
        self.onnx_btn.clicked.connect(ctx.guard(self._ask_onnx, "importing an ONNX model"))
        self.input_size = QSpinBox()
        self.input_size.setRange(32, 4096)
        self.input_size.setValue(640)
        self.input_size.setSuffix(" px")
        self.input_size.valueChanged.connect(ctx.guard(self._on_input_size, "resizing the image"))
        self.table = LayerTable()
        self.table.currentCellChanged.connect(ctx.guard(self._on_row, "choosing a layer"))
        self.layer_editor = LayerEditor(ctx.guard(self._on_layer_edit, "editing the layer"))
        self.add_btn, self.del_btn = QPushButton("Add"), QPushButton("Remove")
        self.up_btn, self.down_btn = QPushButton("Up"), QPushButton("Down")
        self.add_btn.clicked.connect(ctx.guard(self.add_layer, "adding a layer"))
        self.del_btn.clicked.connect(ctx.guard(self.remove_layer, "removing a layer"))
        self.up_btn.clicked.connect(ctx.guard(lambda: self.move_layer(-1), "moving a layer"))
        self.down_btn.clicked.connect(ctx.guard(lambda: self.move_layer(1), "moving a layer"))
        buttons = QGridLayout()  # two by two: the column is narrow
        for i, b in enumerate((self.add_btn, self.del_btn, self.up_btn, self.down_btn)):
            buttons.addWidget(b, i // 2, i % 2)
        self.measure_btn = QPushButton("How big is my object?")
        self.measure_btn.setToolTip("Drag a box around an object: the first layer whose RF covers it is marked ✔")
        self.measure_btn.setCheckable(True)
        self.measure_btn.toggled.connect(self._on_measure)
        frame.add_controls(self.preset_box, self.onnx_btn, WrapLabel("Image longer side"), self.input_size,
                           self.measure_btn, self.table, self.layer_editor, buttons)
        frame.set_controls_stretch(self.table)
        self.card = FormulaCard("", "r = r′ + (K′−1)·j′\nj = j′·S")
        self.sub = self.card.meaning
        frame.set_card(self.card)

        self.apply_theme(ctx.theme)
        self._set_source(_sample(), "still-life sample")
        self.recompute()

    # -- input ------------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self._set_source(rgb, source or "your image")
        self.cell = None
        self.object_box = None
        self.covering = None
        self.recompute()

    def _set_source(self, rgb: np.ndarray, source: str) -> None:
        self.source_rgb = np.asarray(rgb)
        self.source = source
        self.image = R.network_input(self.source_rgb, self.input_size.value())
        self.canvas.set_image(self.image, autorange=True)

    def _on_input_size(self, _v) -> None:
        if self.source_rgb is None:
            return
        self._set_source(self.source_rgb, self.source)
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
        self.covering = None if self.object_box is None else R.first_covering_layer(self.stack, self.object_box)
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

    def _on_layer_edit(self, layer: R.Layer) -> None:
        st = list(self.stack)
        st[self.layer] = layer
        try:
            stack = R.make_stack(st)
        except ValueError as exc:  # explained in the banner, not applied
            self.error = str(exc)
            self.frame.banner.show_error(f"⚠ {exc}")
            return
        self.frame.banner.clear("error")
        self.stack, self.preset = stack, "custom"
        self.preset_box.setCurrentIndex(self.preset_box.count() - 1)
        self.recompute()

    def _ask_onnx(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import an ONNX model", "", "ONNX models (*.onnx)")
        if path:
            self.load_onnx(path)

    def load_onnx(self, path) -> None:
        self.set_stack(R.stack_from_onnx(path), "custom")
        self.frame.banner.show_hint(f"Imported {len(self.stack)} conv/pool layers from {Path(str(path)).name} "
                                    "(the path with the largest receptive field)")

    def _on_row(self, row, _col, _prow, _pcol) -> None:
        if row < 0 or row == self.layer:
            return
        self.select_layer(row)

    def select_layer(self, index: int) -> None:
        self.layer = index % len(self.stack)
        self.recompute()

    # -- compute ----------------------------------------------------------------------------------
    def recompute(self) -> None:
        """Per-layer numbers on this image (microseconds: no worker), then the table and the picture."""
        h, w = self.image.shape[:2]
        try:
            self.rows_res = R.analyze(self.stack, h)
            self.cols_res = R.analyze(self.stack, w)
            self.error = ""
            self.frame.banner.clear("error")
        except ValueError as exc:
            self.rows_res = R.analyze(self.stack)
            self.cols_res = self.rows_res
            self.error = str(exc)
            self.frame.banner.show_error(f"⚠ On this {w}×{h} image: {exc}")
        if self.cell is not None and self._focus is not None:  # the cell follows the same image point
            self.cell = R.cell_near(self.rows_res[self.layer], self.cols_res[self.layer], *self._focus)
        self._update_table()
        self._render()

    def select_cell(self, row: int, col: int) -> None:
        self.cell = (int(row), int(col))
        self._focus = None
        self._render()
        x0, y0, x1, y1 = self.box
        self._focus = ((x0 + x1) / 2, (y0 + y1) / 2)

    def _on_click(self, x, y, button, _mods) -> None:
        if button != int(Qt.MouseButton.LeftButton.value) and button != 1:
            return
        if self.measure_btn.isChecked():
            return
        self._focus = (x, y)
        self.cell = R.cell_near(self.rows_res[self.layer], self.cols_res[self.layer], x, y)
        self._render()

    def _on_measure(self, on: bool) -> None:
        self.canvas.drag_mode = on
        if on:
            self.frame.banner.show_hint("Drag a box around an object: the first layer whose RF covers it is marked ✔.")
        else:
            self.frame.banner.clear("hint")

    def _on_drag(self, x0, y0, x1, y1, finished) -> None:
        self.measure_object((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), select=finished)

    def measure_object(self, box, select: bool = True) -> int | None:
        self.object_box = tuple(float(v) for v in box)
        self.covering = R.first_covering_layer(self.stack, self.object_box)
        if select and self.covering is not None:
            bx0, by0, bx1, by1 = self.object_box
            self.layer = self.covering
            self._focus = ((bx0 + bx1) / 2, (by0 + by1) / 2)
            self.cell = R.cell_near(self.rows_res[self.layer], self.cols_res[self.layer], *self._focus)
        self._update_table()  # the covering row gets its mark either way
        self._render()
        return self.covering

    # -- render -----------------------------------------------------------------------------------
    def _update_table(self) -> None:
        self.table.blockSignals(True)
        try:
            self.table.fill(self.stack, self.rows_res, self.cols_res)
            self.table.mark(self.layer, self.covering, self.ctx.theme)
            if 0 <= self.layer < self.table.rowCount():
                self.table.setCurrentCell(self.layer, 0)
                self.table.scrollToItem(self.table.item(self.layer, 0), LayerTable.ScrollHint.PositionAtCenter)
        finally:
            self.table.blockSignals(False)
        self.layer_editor.show_layer(self.layer, self.stack[self.layer])

    def _render(self) -> None:
        c, th = self.canvas, self.ctx.theme
        h, w = self.image.shape[:2]
        layer = self.stack[self.layer]
        rr, cr = self.rows_res[self.layer], self.cols_res[self.layer]
        prev = self.rows_res[self.layer - 1] if self.layer > 0 else None
        n = f"{cr.out_size}×{rr.out_size}" if rr.out_size else "?"
        self.info.setText(f"{layer.name or 'layer'} ({self.layer + 1}/{len(self.stack)}) · {n} cells · "
                          f"jump {rr.jump} px · RF {rr.rf} px")
        pr, pj = (prev.rf, prev.jump) if prev else (1, 1)
        self.card.set_formula("r = r′ + (K′−1)·j′\nj = j′·S", f"Receptive field of {layer.name or 'this layer'}")
        substituted = f"r = {pr} + ({layer.span}−1)·{pj} = {rr.rf}\nj = {pj}·{layer.stride} = {rr.jump}"
        sentences = []
        legend = []
        if self.cell is not None:
            row, col = self.cell
            self.cell_view = R.cell_view(self.stack, self.layer, row, col, height=h, width=w)
            self.box = self.cell_view.box
            x0, y0, x1, y1 = self.box
            draw_cell(c, self.cell_view, th)
            pad_txt = " (hatched: padding)" if self.cell_view.padding else ""
            sentences.append(f"cell ({row}, {col}) sees x {x0}…{x1 - 1}, y {y0}…{y1 - 1}{pad_txt}")
            legend = ["orange: receptive field", "red: effective RF", "yellow: the cell", "dim: unseen"]
            k, d = layer.kernel, layer.dilation
            if k > 1:
                legend.insert(2, f"blue dots: {k}×{k} taps" + (f", dilation {d}" if d > 1 else ""))
            if self.cell_view.padding:
                legend.append("purple: padding")
            self._view = self.cell_view.view
            c.set_view(*self._view)
        else:
            self.cell_view = None
            clear_cell(c)
            self._view = None
            c.fit()
        self.grid = R.layer_grid(rr, cr, h, w, max_lines=MAX_GRID_LINES, view=self._view)
        draw_grid(c, self.grid, th)
        legend.insert(0, f"blue grid: every {self.grid.step}th cell" if self.grid.step > 1 else "blue grid: cells")
        if self.cell is None:
            legend.append("click a cell to see what it sees")
        c.clear_layer("object")
        c.clear_layer("labels")
        if self.object_box is not None:
            ox0, oy0, ox1, oy1 = self.object_box
            size = max(ox1 - ox0, oy1 - oy0)
            if self.covering is None:
                msg, short = f"No layer's RF covers this {size:.0f} px object", "no layer covers it"
            else:
                cl = self.stack[self.covering]
                name = cl.name or str(self.covering + 1)
                msg = (f"First layer that sees the whole {size:.0f} px object: {name} "
                       f"(RF {self.rows_res[self.covering].rf} px, ✔ in the table)")
                short = f"covered from {name}"
            draw_object(c, self.object_box, short, th)
            sentences.append(msg)
        self.card.show_result(substituted, f"RF {rr.rf} px · jump {rr.jump} px", "  ·  ".join(sentences))
        self.legend.setText("   ·   ".join(legend))

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(ev)
        if self._view is not None:
            self.canvas.set_view(*self._view)

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if self._view is not None:
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
        self._focus = centre
        self.cell = R.cell_near(self.rows_res[self.layer], self.cols_res[self.layer], *centre)
        self._update_table()
        self._render()

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.table.setStyleSheet(f"font-size: {theme.font('small').pointSizeF():.0f}pt;")
        if self.rows_res:
            self._update_table()
            self._render()
