"""The detector panel's settings column: scene, post-processing, evaluation (IoU slider, AP table, files)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHeaderView, QPushButton,
                               QSlider, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cvexplorer.text import fmt_number

from ...widgets.text import WrapLabel
from ...widgets.util import double_spin

__all__ = ["DetectorControls", "MODES"]

#: What the player steps through.
MODES = (("scene", "Post-processing"), ("evaluation", "Evaluation (mAP)"))


class DetectorControls(QWidget):
    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.mode_box = QComboBox()
        for key, text in MODES:
            self.mode_box.addItem(text, key)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.seed = QSpinBox()
        self.seed.setRange(0, 99_999)
        self.seed.setValue(9005)  # held-out seeds; this one has four objects
        self.new_scene_btn = QPushButton("New scene")
        self.conf = double_spin(0.0, 0.99, 0.05, 0.2)
        self.nms_iou = double_spin(0.05, 1.0, 0.05, 0.5)
        self.top_k = QSpinBox()
        self.top_k.setRange(1, 98)
        self.top_k.setValue(10)
        form.addRow("Step through", self.mode_box)
        form.addRow("Scene seed", self.seed)
        form.addRow(self.new_scene_btn)
        form.addRow("Score >", self.conf)
        form.addRow("NMS IoU >", self.nms_iou)
        form.addRow("Top-K", self.top_k)
        lay.addLayout(form)

        self.eval_title = WrapLabel("Evaluation", "Title")
        self.class_box = QComboBox()
        self.iou_slider = QSlider(Qt.Orientation.Horizontal)
        self.iou_slider.setRange(0, 9)  # COCO's thresholds 0.50, 0.55, …, 0.95
        self.iou_slider.setPageStep(1)
        self.iou_label = WrapLabel("")
        eform = QFormLayout()
        eform.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        eform.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        eform.addRow("Class", self.class_box)
        eform.addRow(self.iou_label, self.iou_slider)
        self.ap_table = QTableWidget(0, 4)
        self.ap_table.setHorizontalHeaderLabels(["class", "AP", "AP50", "AP75"])
        self.ap_table.verticalHeader().hide()
        self.ap_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ap_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.ap_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.load_btn = QPushButton("Score COCO files…")
        self.load_btn.setToolTip("Choose a COCO ground-truth JSON, then a COCO results JSON")
        self.generated_btn = QPushButton("Generated scenes")
        self.source_label = WrapLabel("", "Muted")
        lay.addWidget(self.eval_title)
        lay.addLayout(eform)
        lay.addWidget(self.ap_table)
        lay.addWidget(self.source_label)
        lay.addWidget(self.load_btn)
        lay.addWidget(self.generated_btn)
        self.apply_theme(theme)

    @property
    def iou_threshold(self) -> float:
        return 0.5 + 0.05 * self.iou_slider.value()

    def apply_theme(self, theme) -> None:
        self.ap_table.setFont(theme.font("cell"))

    def fill_ap_table(self, names, rows, overall) -> None:
        """``rows``: per class (AP, AP50, AP75) or None without ground truth; ``overall`` the means."""
        t = self.ap_table
        t.setRowCount(len(names) + 1)
        for r, (name, vals) in enumerate([*zip(names, rows), ("all (mAP)", overall)]):
            t.setItem(r, 0, QTableWidgetItem(name))
            for c in range(3):
                text = "—" if vals is None or vals[c] is None else fmt_number(vals[c], 3)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                t.setItem(r, c + 1, item)
        t.setFixedHeight(t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + 4)
