"""The U-Net panel's settings column: the architecture (input, depth, base channels, padding, up-sampling),
skips on/off, presets, and a new scene."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ...widgets.text import WrapLabel

__all__ = ["UNetControls", "SAMPLE_SIZE"]

#: Side of the built-in scenes (the models were trained on such scenes).
SAMPLE_SIZE = 256


class UNetControls(QWidget):
    """Spin boxes and combos stacked vertically (the side column is narrow); the panel reads them."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(8, 2048)
        self.size_spin.setValue(SAMPLE_SIZE)
        self.size_spin.setToolTip("Input side in pixels (a square input; a photo shows its own shape)")
        self.depth_spin = QSpinBox()
        self.depth_spin.setRange(1, 6)
        self.depth_spin.setValue(3)
        self.base_spin = QSpinBox()
        self.base_spin.setRange(1, 256)
        self.base_spin.setValue(8)
        self.pad_combo = QComboBox()
        self.pad_combo.addItems(["same", "valid"])
        self.up_combo = QComboBox()
        self.up_combo.addItems(["transposed", "bilinear"])
        self.skip_box = QCheckBox("Skip connections")
        self.skip_box.setChecked(True)
        self.paper_btn = QPushButton("Paper's U-Net (572)")
        self.paper_btn.setToolTip("Ronneberger et al. 2015: 572×572, one channel, valid, depth 4, 64 channels")
        self.tiny_btn = QPushButton("Our tiny model")
        self.tiny_btn.setToolTip("The configuration of models/unet_tiny.onnx: real feature maps")
        self.scene_btn = QPushButton("New scene")
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for text, w in (("Input", self.size_spin), ("Depth", self.depth_spin), ("Base channels", self.base_spin),
                        ("Padding", self.pad_combo), ("Up-sampling", self.up_combo)):
            form.addRow(text, w)
        self.status_label = WrapLabel("", "Muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        for w in (self.skip_box, self.tiny_btn, self.paper_btn, self.scene_btn, self.status_label):
            lay.addWidget(w)

    def spins(self) -> tuple:
        return (self.size_spin, self.depth_spin, self.base_spin, self.pad_combo, self.up_combo)
