"""The SAM panel's settings column: the model, refinement, undo/clear, export, and the timings."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ...widgets.text import ElidedLabel, WrapLabel

__all__ = ["SamControls"]


class SamControls(QWidget):
    """Stacked vertically: the side column is narrow and every sentence wraps."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model_box = QComboBox()
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(8)
        self.model_box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.model_label = WrapLabel("", rich=True)
        self.get_model_btn = QPushButton("Get MobileSAM (37 MB)…")
        self.get_model_btn.setToolTip("Download MobileSAM, or install it from a file, checked against its "
                                      "pinned SHA-256 (nothing is downloaded until you ask).")
        self.refine = QCheckBox("Refine with last mask")
        self.undo_btn = QPushButton("Undo (Ctrl+Z)")
        self.clear_btn = QPushButton("Clear (Esc)")
        self.export_mask_btn = QPushButton("Export mask…")
        self.export_overlay_btn = QPushButton("Export overlay…")
        self.vit_btn = QPushButton("Its encoder: open the ViT lab")
        self.vit_btn.setToolTip("SAM's encoder is a ViT on a 64×64 token grid: the ViT lab shows its patches, "
                                "its 14×14 attention windows and what they save.")
        self.hint = WrapLabel("Left click: object · right or Alt+click: not object · drag: a box", "Muted")
        self.timing_label = WrapLabel("", "Muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(ElidedLabel("Model"))
        for w in (self.model_box, self.model_label, self.get_model_btn, self.hint, self.refine, self.undo_btn, self.clear_btn,
                  self.export_mask_btn, self.export_overlay_btn, self.vit_btn, self.timing_label):
            lay.addWidget(w)
        for w in (self.get_model_btn, self.vit_btn, self.refine, self.undo_btn, self.clear_btn, self.export_mask_btn,
                  self.export_overlay_btn):
            # a button's text may be cut in a narrow column (its tooltip keeps it); the column never widens
            w.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            w.setToolTip(w.text())
