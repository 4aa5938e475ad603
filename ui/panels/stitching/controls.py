"""The stitching panel's settings column: input, matching and RANSAC settings, blend, manual target.

Laid out top to bottom for the frame's narrow side column: every setting has its caption above
it, so nothing asks for width.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QGroupBox, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from cvexplorer import homography as hg

from ...widgets.text import WrapLabel
from ...widgets.util import double_spin
from .wide import WIDE_STAGES

__all__ = ["SOURCES", "StitchingControls"]

SOURCES = (
    ("poster", "Built-in: poster, two views (known H)"),
    ("still-life", "Built-in: still life, two views (known H)"),
    ("views3", "Built-in: three overlapping views"),
    ("user", "Your images"),
)


def _side(prefix: str) -> QSpinBox:
    """A side of the rectified target in pixels; 0 reads "auto" (the clicked quadrilateral's size)."""
    box = QSpinBox()
    box.setRange(0, 4000)
    box.setSpecialValueText("auto")
    box.setPrefix(prefix)
    return box


def _group(title: str, *rows) -> QGroupBox:
    box = QGroupBox(title)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(6, 6, 6, 6)
    lay.setSpacing(3)
    for caption, widget in rows:
        if caption:
            lay.addWidget(WrapLabel(caption))
        lay.addWidget(widget)
    return box


class StitchingControls(QWidget):
    """Public widgets (tests and the panel drive them): ``source``, ``open_btn``, ``pair_combo``,
    ``detector``, ``ratio``, ``threshold``, ``blend``, ``seams``, ``show_outliers``, ``rect_w``,
    ``rect_h``, ``clear_btn``, the group ``manual_box``; for the Wide panorama tab ``open_folder_btn``,
    ``wide_stage``, ``surface``, ``plane_check``, ``crop_check`` in the group ``wide_box``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source = QComboBox()
        for key, text in SOURCES:
            self.source.addItem(text, key)
        self.open_btn = QPushButton("Open images…")
        self.pair_combo = QComboBox()
        self.detector = QComboBox()
        for d in hg.available_detectors():
            self.detector.addItem(d.upper(), d)
        self.ratio = double_spin(0.4, 1.0, 0.05, 0.75)
        self.threshold = double_spin(0.5, 50, 0.5, 3.0, suffix=" px")
        self.blend = QComboBox()
        for b in hg.BLENDS:
            self.blend.addItem(b, b)
        self.blend.setCurrentIndex(hg.BLENDS.index("feather"))
        self.seams = QCheckBox("show seams")
        self.seams.setChecked(True)
        self.show_outliers = QCheckBox("show outliers")
        self.show_outliers.setChecked(True)
        self.rect_w, self.rect_h = _side("w "), _side("h ")
        self.clear_btn = QPushButton("Clear clicks")
        self.open_folder_btn = QPushButton("Open folder…")
        self.wide_stage = QComboBox()
        for key, text in WIDE_STAGES:
            self.wide_stage.addItem(text, key)
        self.wide_stage.setCurrentIndex(len(WIDE_STAGES) - 1)
        self.surface = QComboBox()
        for key in ("auto", "plane", "cylindrical", "spherical"):
            self.surface.addItem(key, key)
        self.plane_check = QCheckBox("show why a plane fails")
        self.crop_check = QCheckBox("crop to the valid rectangle")

        self.input_box = _group("Input", ("", self.source), ("", self.open_btn), ("", self.open_folder_btn),
                                ("", self.pair_combo))
        self.wide_box = _group("Turning camera", ("show", self.wide_stage), ("surface", self.surface),
                               ("", self.plane_check), ("", self.crop_check))
        self.settings_box = _group("Settings", ("features", self.detector), ("ratio test", self.ratio),
                                   ("RANSAC threshold", self.threshold), ("blend", self.blend),
                                   ("", self.show_outliers), ("", self.seams))
        self.manual_box = _group("Manual target (w × h)", ("", self.rect_w), ("", self.rect_h),
                                 ("", self.clear_btn))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for box in (self.input_box, self.wide_box, self.settings_box, self.manual_box):
            lay.addWidget(box)

    def show_for_tab(self, tab: str) -> None:
        """Only the settings that change what this tab shows."""
        self.manual_box.setVisible(tab == "Manual")
        self.wide_box.setVisible(tab == "Wide panorama")
        self.settings_box.setVisible(tab != "Wide panorama")
        self.seams.setVisible(tab in ("Warp & blend", "Panorama"))
        self.show_outliers.setVisible(tab in ("Matches", "RANSAC"))

    def select_source(self, key: str, *, quiet: bool = True) -> None:
        """Show ``key`` as the current source; ``quiet`` does not trigger a reload."""
        self.source.blockSignals(quiet)
        self.source.setCurrentIndex([k for k, _ in SOURCES].index(key))
        self.source.blockSignals(False)

    def set_pairs(self, n: int) -> None:
        """One entry per neighbouring pair of ``n`` images (hidden for a single pair)."""
        self.pair_combo.blockSignals(True)
        self.pair_combo.clear()
        for i in range(n - 1):
            self.pair_combo.addItem(f"pair {i + 1}–{i + 2}", (i, i + 1))
        self.pair_combo.setVisible(n > 2)
        self.pair_combo.blockSignals(False)

    def pair(self) -> tuple[int, int]:
        d = self.pair_combo.currentData()
        return tuple(d) if d else (0, 1)

    def options(self) -> dict:
        """The matching settings, as keyword arguments of :func:`cvexplorer.homography.analyse_pair`."""
        return {"detector": self.detector.currentData(), "ratio": float(self.ratio.value()),
                "threshold": float(self.threshold.value())}

    def target_size(self) -> tuple[int, int] | None:
        w, h = self.rect_w.value(), self.rect_h.value()
        return (w, h) if w and h else None
