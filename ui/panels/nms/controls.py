"""The NMS panel's settings column: input, thresholds, what to step through, drawing, the answer toggle."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from cvexplorer import boxes as B

from ...widgets.text import ElidedLabel, WrapLabel

__all__ = ["NmsControls", "DRAWN", "FILE"]

DRAWN = "drawn"   # the source key of the boxes the teacher draws
FILE = "file"     # the source key of a loaded detections file


def _slider(value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(0, 100)
    s.setValue(value)
    return s


class NmsControls(QWidget):
    """The widgets only; the panel connects them. Laid out in one column (the side column is narrow)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.scenario_box = QComboBox()
        for key, title in B.SCENARIOS.items():
            self.scenario_box.addItem(title, key)
        self.scenario_box.addItem("Your boxes (drag on the image)", DRAWN)
        self.stepping = QComboBox()
        self.stepping.addItem("Step through greedy NMS", "greedy")
        self.stepping.addItem("Step through Soft-NMS", "soft")

        self.iou_label = ElidedLabel("")
        self.iou_slider = _slider(50)
        self.iou_slider.setToolTip("Suppress a box when its IoU with a kept box is above this.")
        self.conf_label = ElidedLabel("")
        self.conf_slider = _slider(25)
        self.conf_slider.setToolTip("Boxes whose score is not above this are dropped before NMS.")
        self.topk = QSpinBox()
        self.topk.setRange(1, 100000)
        self.topk.setValue(100)
        self.topk.setPrefix("top-K ")
        self.topk.setToolTip("Keep at most this many boxes.")
        self.soft_method = QComboBox()
        self.soft_method.addItem("gaussian")
        self.soft_method.addItem("linear")
        self.soft_method.setToolTip("How Soft-NMS lowers the score of an overlapping box.")

        self.draw_btn = QPushButton("Draw")
        self.draw_btn.setCheckable(True)
        self.draw_btn.setToolTip("Drag on the image to add a box; edit its score in the table.")
        self.clear_btn = QPushButton("Clear")
        self.clear_btn.setToolTip("Remove the boxes you drew.")
        self.draw_score = QDoubleSpinBox()
        self.draw_score.setRange(0.0, 1.0)
        self.draw_score.setSingleStep(0.05)
        self.draw_score.setValue(0.80)
        self.draw_score.setPrefix("new box: ")
        self.draw_score.setToolTip("The score a newly drawn box starts with.")
        self.load_btn = QPushButton("Load detections…")
        self.load_btn.setToolTip("COCO results JSON, or YOLO text lines (class cx cy w h conf).")
        self.reveal_box = QCheckBox("Show the answer now")
        self.reveal_box.setToolTip("The detector order and the three methods side by side; "
                                   "otherwise they appear at the last step.")
        self.note = WrapLabel("", name="Muted")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (self.scenario_box, self.stepping):
            lay.addWidget(w)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.iou_label, 0, 0)
        grid.addWidget(self.iou_slider, 1, 0)
        grid.addWidget(self.conf_label, 2, 0)
        grid.addWidget(self.conf_slider, 3, 0)
        lay.addLayout(grid)
        lay.addWidget(self.topk)
        lay.addWidget(WrapLabel("Soft-NMS decay:"))
        lay.addWidget(self.soft_method)
        row = QGridLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.draw_btn, 0, 0)
        row.addWidget(self.clear_btn, 0, 1)
        lay.addLayout(row)
        lay.addWidget(self.draw_score)
        lay.addWidget(self.load_btn)
        lay.addWidget(self.reveal_box)
        lay.addWidget(self.note)

    def show_thresholds(self, iou: float, conf: float) -> None:
        self.iou_label.setText(f"IoU threshold t = {iou:.2f}")
        self.conf_label.setText(f"score threshold = {conf:.2f}")

    def select_source(self, key: str) -> None:
        """Show ``key`` as the current input without re-running anything."""
        i = self.scenario_box.findData(key)
        if i < 0 and key == FILE:
            self.scenario_box.addItem("Detections from a file", FILE)
            i = self.scenario_box.findData(key)
        self.scenario_box.blockSignals(True)
        self.scenario_box.setCurrentIndex(i)
        self.scenario_box.blockSignals(False)
