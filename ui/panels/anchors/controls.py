"""The Anchors panel's settings column: detector, level, view, anchor shapes, input size, IoU rule,
and the table of levels (click a row to show that level)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView, QLineEdit,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cvexplorer import anchors as A
from cvexplorer.text import fmt_count, fmt_values, parse_numbers

from ...widgets.text import WrapLabel

__all__ = ["VIEWS", "AnchorSettings", "AnchorControls"]

VIEWS = ("Cell anchors", "Density", "IoU heat map", "All anchors")  # short: the column is narrow


@dataclass(frozen=True)
class AnchorSettings:
    """What the user set, parsed: the keyword arguments of :func:`cvexplorer.anchors.label_anchors`."""

    preset: str
    image_size: tuple[int, int]
    sizes: tuple[float, ...] | None
    ratios: tuple[float, ...] | None
    scales: tuple[float, ...] | None
    pos_iou: float
    neg_iou: float
    allow_low_quality: bool


class AnchorControls(QWidget):
    """Every setting of the panel, laid out for a narrow column (each label above its field)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.preset = QComboBox()
        for name, p in A.PRESETS.items():
            self.preset.addItem(p.title, name)
        self.preset.setCurrentIndex(list(A.PRESETS).index("retinanet"))
        self.level = QComboBox()
        self.view = QComboBox()
        self.view.addItems(VIEWS)
        self.sizes = QLineEdit()
        self.ratios = QLineEdit()
        self.scales = QLineEdit()
        for edit, tip in ((self.sizes, "Base size per level (pixels), e.g. 32, 64, 128, 256, 512"),
                          (self.ratios, "Aspect ratios h/w, e.g. 0.5, 1, 2 (or 2:1, 1:1, 1:2 as w:h)"),
                          (self.scales, "Scales multiplying the size, e.g. 1, 2^(1/3), 2^(2/3)")):
            edit.setToolTip(tip)
        for i, tip in enumerate(("The anchors of one cell: hover a cell, click to pin it",
                                 "How many anchors of the level cover each pixel",
                                 "The best IoU of each cell's anchors with your boxes",
                                 "Every anchor of the level")):
            self.view.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        self.in_w = QSpinBox()
        self.in_h = QSpinBox()
        for spin in (self.in_w, self.in_h):
            spin.setRange(32, 2048)
            spin.setSingleStep(32)
        self.pos_iou = QDoubleSpinBox()
        self.neg_iou = QDoubleSpinBox()
        for spin in (self.pos_iou, self.neg_iou):
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
        self.pos_iou.setToolTip("An anchor whose best IoU reaches this is positive")
        self.neg_iou.setToolTip("An anchor whose best IoU stays below this is negative")
        self.low_quality = QCheckBox("Best anchor per box")
        self.low_quality.setToolTip("The low-quality rule: keep each box's best anchor positive, even below the threshold")
        self.low_quality.setChecked(True)
        self.anchor_k = QSpinBox()
        self.anchor_k.setPrefix("anchor #")
        self.anchor_k.setSpecialValueText("best anchor")
        self.anchor_k.setRange(-1, 8)
        self.anchor_k.setValue(-1)
        self.anchor_k.setToolTip("Which anchor of the pinned cell the card pairs with a box")
        self.clear_btn = QPushButton("Clear boxes")
        self.error = WrapLabel("", "Error")
        self.hint = WrapLabel("Drag on the image to draw a box; hover a cell to see its anchors, click to pin "
                              "it; right-click a box to remove it.", "Muted")

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        size_row = QHBoxLayout()
        size_row.addWidget(self.in_w, 1)
        size_row.addWidget(self.in_h, 1)
        iou_row = QHBoxLayout()
        iou_row.addWidget(self.pos_iou, 1)
        iou_row.addWidget(self.neg_iou, 1)
        for text, field in (("Detector", self.preset), ("Level", self.level), ("View", self.view),
                            ("Sizes", self.sizes), ("Ratios h/w", self.ratios), ("Scales", self.scales),
                            ("Input W×H", size_row), ("IoU pos/neg", iou_row), ("Pinned cell", self.anchor_k)):
            form.addRow(text, field)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Level", "Anchors", "Share"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.cellClicked.connect(self._on_row)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.low_quality)
        lay.addWidget(self.clear_btn)
        lay.addWidget(self.error)
        lay.addWidget(self.table)
        lay.addWidget(self.hint)

    # -- presets --------------------------------------------------------------------------------------
    @property
    def preset_obj(self) -> A.Preset:
        return A.get_preset(self.preset.currentData())

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.in_w.value()), int(self.in_h.value())

    def load_preset(self, p: A.Preset) -> None:
        """Show a preset's own settings (its levels, shapes, input size and thresholds)."""
        self.level.clear()
        self.level.addItems(list(p.names()))
        self.level.setCurrentIndex(min(1, len(p.strides) - 1))
        for edit in (self.sizes, self.ratios, self.scales):
            edit.setEnabled(p.editable)
        if p.anchors_wh:
            self.sizes.setText("  ".join("/".join(f"{w}×{h}" for w, h in lv) for lv in p.anchors_wh))
            self.ratios.setText("explicit (w, h) per anchor")
            self.scales.setText("—")
        elif p.anchor_free:
            self.sizes.setText("no anchors: one point per cell")
            self.ratios.setText("—")
            self.scales.setText("—")
        else:
            self.sizes.setText(fmt_values(p.sizes))
            self.ratios.setText(fmt_values(p.ratios))
            self.scales.setText(fmt_values(p.scales))
        self.in_w.setValue(p.default_size[0])
        self.in_h.setValue(p.default_size[1])
        self.pos_iou.setValue(p.pos_iou)
        self.neg_iou.setValue(p.neg_iou)
        for w in (self.pos_iou, self.neg_iou, self.low_quality):
            w.setEnabled(p.rule == "iou")

    def settings(self) -> AnchorSettings:
        """The settings as numbers; a ValueError names the field that does not parse."""
        p = self.preset_obj
        sizes = ratios = scales = None
        if p.editable:
            sizes = parse_numbers(self.sizes.text(), "Sizes")
            ratios = parse_numbers(self.ratios.text(), "Ratios")
            scales = parse_numbers(self.scales.text(), "Scales")
            if len(sizes) != len(p.strides):
                raise ValueError(f"Sizes: {p.title} has {len(p.strides)} levels, so give {len(p.strides)} sizes "
                                 f"(got {len(sizes)}).")
            A.anchor_shapes(sizes[0], ratios, scales)  # the engine's own sentence for a zero or negative value
        pos, neg = self.pos_iou.value(), self.neg_iou.value()
        if neg > pos:
            raise ValueError(f"The negative threshold {neg:.2f} is above the positive one {pos:.2f}.")
        return AnchorSettings(p.name, self.image_size, sizes, ratios, scales, pos, neg, self.low_quality.isChecked())

    # -- the table of levels --------------------------------------------------------------------------
    def fill_table(self, res: A.AnchorLabels, names) -> None:
        """One row per level (anchors and share of all), then the total; the table is as tall as its rows."""
        rows = [(names[i], fmt_count(n), f"{100 * share:.1f} %")
                for i, (n, share) in enumerate(zip(res.level_counts, res.level_shares))]
        rows.append(("Total", fmt_count(sum(res.level_counts)), "100 %"))
        self.table.setRowCount(len(rows))
        for i, vals in enumerate(rows):
            for k, v in enumerate(vals):
                item = QTableWidgetItem(v)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(i, k, item)
        self.table.resizeRowsToContents()
        height = self.table.horizontalHeader().height() + sum(self.table.rowHeight(i) for i in range(len(rows)))
        self.table.setFixedHeight(height + 2 * self.table.frameWidth())

    def _on_row(self, row: int, _col: int) -> None:
        if row < self.level.count():
            self.level.setCurrentIndex(row)
