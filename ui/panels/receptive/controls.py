"""The receptive-field side column: preset, image size, the layer table (key numbers only) and the
editor of the chosen layer (type, kernel, stride, padding, dilation)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGridLayout, QHeaderView, QLabel, QLineEdit,
                               QSpinBox, QTableWidget, QTableWidgetItem, QWidget)

from cvexplorer import receptive as R

from ...widgets.text import WrapLabel

__all__ = ["LayerTable", "LayerEditor", "COLUMNS"]

#: The table shows what a student reads off it (the output size is in each row's tooltip and in the
#: header over the picture); the layer's own settings are edited below it.
COLUMNS = ["layer", "RF", "jump"]


class LayerTable(QTableWidget):
    """One row per layer: its name, RF and jump (output size in the tooltip). Read-only; the
    chosen layer's row is highlighted and the first layer that covers a measured object is marked."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        head = self.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names give way; the numbers stay whole
        for c in range(1, len(COLUMNS)):
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideLeft)  # "…4.2.conv2": the end tells the layers apart
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)

    def fill(self, stack, rows_res, cols_res) -> None:
        self.setRowCount(len(stack))
        for r, (layer, rr, cr) in enumerate(zip(stack, rows_res, cols_res)):
            out = "" if rr.out_size is None else f" · output {cr.out_size}×{rr.out_size}"
            name = layer.name or f"layer{r + 1}"
            vals = [name, str(rr.rf), str(rr.jump)]
            for c, v in enumerate(vals):
                it = self.item(r, c)
                if it is None:
                    it = QTableWidgetItem()
                    if c:
                        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(r, c, it)
                it.setText(v)
                it.setToolTip(f"{name}: {layer.label()}, padding {layer.padding} · RF {rr.rf} px · jump {rr.jump} px{out}")

    def mark(self, chosen: int, covering: int | None, theme) -> None:
        """Colours from the theme: the chosen row in the highlight role, the covering row in the positive
        role (translucent, so the theme's own text colour stays readable on it)."""
        hi, ok = QColor(theme.color("highlight")), QColor(theme.color("positive"))
        ok.setAlphaF(0.3)
        for r in range(self.rowCount()):
            for c in range(self.columnCount()):
                it = self.item(r, c)
                if it is None:
                    continue
                if r == chosen:
                    it.setBackground(QBrush(hi))
                    it.setForeground(QBrush(QColor(theme.color("black"))))  # dark on the yellow highlight
                elif covering is not None and r == covering:
                    it.setBackground(QBrush(ok))
                    it.setForeground(QBrush(QColor(theme.fg)))
                else:
                    it.setBackground(QBrush())
                    it.setForeground(QBrush())
        if covering is not None and 0 <= covering < self.rowCount():
            it = self.item(covering, 0)
            name = it.text().removeprefix("✔ ")
            it.setText("✔ " + name)


class LayerEditor(QWidget):
    """The chosen layer's settings; ``on_change(Layer)`` gets the edited layer (validated by the engine)."""

    def __init__(self, on_change: Callable[[R.Layer], None], parent=None) -> None:
        super().__init__(parent)
        self._on_change = on_change
        self._filling = False
        self.title = WrapLabel("", "Muted")
        self.name = QLineEdit()
        self.kind = QComboBox()
        for k in R.KINDS:
            self.kind.addItem(k, k)
        self.kernel, self.stride, self.padding, self.dilation = (QSpinBox() for _ in range(4))
        for sb, lo, hi in ((self.kernel, 0, 99), (self.stride, 0, 16), (self.padding, 0, 99), (self.dilation, 0, 16)):
            sb.setRange(lo, hi)  # 0 is allowed so that an invalid value is explained, not clamped away
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title, 0, 0, 1, 4)
        lay.addWidget(self.name, 1, 0, 1, 2)
        lay.addWidget(self.kind, 1, 2, 1, 2)
        for i, (text, sb) in enumerate((("K", self.kernel), ("S", self.stride), ("P", self.padding), ("D", self.dilation))):
            lay.addWidget(QLabel(text), 2 + i // 2, (i % 2) * 2)  # one letter: a plain label cannot clip
            lay.addWidget(sb, 2 + i // 2, (i % 2) * 2 + 1)
        lay.setColumnStretch(1, 1)
        lay.setColumnStretch(3, 1)
        for sb in (self.kernel, self.stride, self.padding, self.dilation):
            sb.valueChanged.connect(self._changed)
        self.kind.currentIndexChanged.connect(self._changed)
        self.name.editingFinished.connect(self._changed)

    def show_layer(self, index: int, layer: R.Layer) -> None:
        self._filling = True
        try:
            self.title.setText(f"Layer {index + 1}: kernel K, stride S, padding P, dilation D")
            self.name.setText(layer.name)
            self.kind.setCurrentIndex(self.kind.findData(layer.kind))
            self.kernel.setValue(layer.kernel)
            self.stride.setValue(layer.stride)
            self.padding.setValue(layer.padding)
            self.dilation.setValue(layer.dilation)
        finally:
            self._filling = False

    def layer(self) -> R.Layer:
        return R.Layer(self.kind.currentData(), self.kernel.value(), self.stride.value(), self.padding.value(),
                       self.dilation.value(), self.name.text().strip())

    def _changed(self, *_a) -> None:
        if not self._filling:
            self._on_change(self.layer())
