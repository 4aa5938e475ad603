"""The box table: the best-scoring boxes with their score, class, IoU and state at the current step.

At the end it still tells the story: a suppressed box keeps the box that suppressed it ("by") and
their IoU. The score cells of boxes the teacher drew are editable.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from cvexplorer import boxes as B
from cvexplorer.boxes import NmsOverview

from .views import ROLE

__all__ = ["BoxTable", "COLUMNS"]

COLUMNS = ("box", "score", "class", "IoU", "by", "state")
BOX, SCORE, CLASS, IOU, BY, STATE = range(len(COLUMNS))
#: Only the best-scoring boxes are listed (a 20 000-box file stays responsive).
MAX_ROWS = 200


class BoxTable(QTableWidget):
    """Rows are boxes in score order. ``scoreEdited(box index, text)`` when the user edits a score."""

    scoreEdited = Signal(int, str)

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().setVisible(False)
        hh = self.horizontalHeader()
        # fixed widths, sized once per input: ResizeToContents would re-measure every row on every step
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        # the last column (state) elides in a narrow column; its colour still tells the state
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QTableWidget.EditTrigger.DoubleClicked | QTableWidget.EditTrigger.EditKeyPressed
                             | QTableWidget.EditTrigger.AnyKeyPressed)
        self.theme = None
        self._ov: NmsOverview | None = None
        self._rows = np.zeros(0, np.int64)
        self._shown: dict[int, np.ndarray] = {}
        self.itemChanged.connect(self._on_item_changed)

    @property
    def rows(self) -> np.ndarray:
        """The box index shown in each row."""
        return self._rows

    def reset(self) -> None:
        """Rebuild on the next update (the theme changed)."""
        self._ov = None

    def show_step(self, ov: NmsOverview, step, class_name, *, multi_class: bool, editable: bool, theme) -> None:
        """Show ``step`` of ``ov``'s trace; ``class_name(id)`` names a class."""
        if ov is not self._ov or theme is not self.theme:
            self._fill(ov, class_name, multi_class, editable, theme)
        states = np.asarray(step["states"])[self._rows]
        n = len(ov.boxes)
        iou = np.full(n, np.nan)
        by = np.full(n, -1, np.int64)
        nb = np.asarray(step["neighbours"])
        if len(nb):
            iou[nb] = np.asarray(step["ious"])  # IoU with the current pick
        if "suppressed_by" in step.data:  # a suppressed box keeps its suppressor and their IoU
            sb = np.asarray(step["suppressed_by"])
            gone = sb >= 0
            by[gone] = sb[gone]
            iou[gone] = np.asarray(step["suppressed_iou"])[gone]
        iou, by = iou[self._rows], by[self._rows]
        self.blockSignals(True)
        try:
            self._set_column(IOU, np.array(["" if np.isnan(v) else f"{v:.2f}" for v in iou], dtype=object))
            self._set_column(BY, np.array([f"#{j}" if j >= 0 else "" for j in by], dtype=object))
            self._set_column(STATE, np.array([B.STATE_NAMES[c] for c in states], dtype=object), states)
        finally:
            self.blockSignals(False)

    def state_texts(self) -> dict[str, str]:
        """``{"#box": "state"}`` for every row (what the user reads in the state column)."""
        return {self.item(r, BOX).text(): self.item(r, STATE).text() for r in range(self.rowCount())}

    # -- internals ------------------------------------------------------------------------------------
    def _fill(self, ov: NmsOverview, class_name, multi_class: bool, editable: bool, theme) -> None:
        self._ov, self.theme = ov, theme
        self._rows = np.argsort(-ov.scores, kind="stable")[:MAX_ROWS]
        self._shown = {}
        fixed = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        self.blockSignals(True)
        try:
            self.setRowCount(len(self._rows))
            for r, j in enumerate(self._rows):
                cells = (f"#{j}", f"{ov.scores[j]:.2f}", class_name(ov.classes[j]), "", "", "")  # in COLUMNS order
                for col, text in enumerate(cells):
                    it = QTableWidgetItem(text)
                    it.setFlags(fixed | Qt.ItemFlag.ItemIsEditable if (col == SCORE and editable) else fixed)
                    if col == SCORE and editable:
                        it.setToolTip("Double-click or type to change this box's score (0 to 1).")
                    self.setItem(r, col, it)
        finally:
            self.blockSignals(False)
        self.ensurePolished()  # measure in the style sheet's font, the one the cells are drawn in
        fm = self.fontMetrics()
        pad = fm.horizontalAdvance("  ")
        for col in (BOX, SCORE, CLASS):
            self.resizeColumnToContents(col)
        self.setColumnWidth(BOX, max(self.columnWidth(BOX), fm.horizontalAdvance(f"#{len(ov.boxes)}") + pad))
        self.setColumnWidth(IOU, fm.horizontalAdvance("0.00") + pad)
        self.setColumnWidth(BY, fm.horizontalAdvance(f"#{len(ov.boxes)}") + pad)
        self.setColumnHidden(CLASS, not multi_class)

    def _set_column(self, col: int, texts: np.ndarray, codes: np.ndarray | None = None) -> None:
        prev = self._shown.get(col)
        changed = range(len(texts)) if prev is None else np.flatnonzero(prev != texts)
        for r in changed:
            it = self.item(int(r), col)
            it.setText(texts[r])
            if codes is not None:
                color = QColor(self.theme.color(ROLE[int(codes[r])]))
                color.setAlphaF(0.45)
                it.setBackground(QBrush(color))
        self._shown[col] = texts

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == SCORE and 0 <= item.row() < len(self._rows):
            self.scoreEdited.emit(int(self._rows[item.row()]), item.text())
