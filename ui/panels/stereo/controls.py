"""The stereo panel's settings column: matcher, camera, data. Vertical, wrapping, narrow-column friendly."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from cvexplorer.stereo import DEFAULT_BASELINE, DEFAULT_F_PX, MAX_NUM_DISPARITIES, MatchSettings

from ...widgets.text import WrapLabel

__all__ = ["StereoControls", "METHOD_TITLES"]

METHOD_TITLES = {"sgbm": "SGBM + fill + median", "bm": "Block matching (BM)", "teaching": "Teaching: plain SAD"}


def _form(title: str) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title)
    form = QFormLayout(box)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return box, form


class StereoControls(QWidget):
    """Every control is a public attribute; :meth:`settings` reads the matcher's as a MatchSettings."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.method = QComboBox()
        self.method.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.method.setMinimumContentsLength(6)
        for k, t in METHOD_TITLES.items():
            self.method.addItem(t, k)
        self.method.setToolTip("SGBM + fill + median: OpenCV semi-global matching, holes filled from the background "
                               "side, then a colour-guided weighted median. BM: OpenCV block matching. Teaching: "
                               "plain SAD over a block, cheapest disparity wins (no smoothness).")
        self.ndisp = QSpinBox()
        self.ndisp.setRange(0, MAX_NUM_DISPARITIES)  # what the matchers and a calib.txt's ndisp allow
        self.ndisp.setSingleStep(16)
        self.ndisp.setSpecialValueText("auto")
        self.ndisp.setToolTip("How many disparities to search (0 = estimated from the pair). SGBM and BM search a "
                              "multiple of 16, so they round up.")
        self.block = QSpinBox()
        self.block.setRange(3, 21)
        self.block.setSingleStep(2)
        self.block.setValue(5)
        self.smooth = QDoubleSpinBox()
        self.smooth.setRange(0.0, 8.0)
        self.smooth.setSingleStep(0.25)
        self.smooth.setValue(1.0)
        self.smooth.setToolTip("Multiplies SGBM's penalties P1 = 8·3·b² and P2 = 32·3·b²")
        self.unique = QSpinBox()
        self.unique.setRange(0, 50)
        self.unique.setValue(10)
        self.unique.setSuffix(" %")
        self.lr = QCheckBox("left-right check")
        self.lr.setChecked(True)
        self.lr.setToolTip("Reject pixels whose match, checked from the right image, lands elsewhere. SGBM: OpenCV's "
                           "built-in check (disp12MaxDiff = 1); teaching: a full right-to-left search.")
        self.fill = QCheckBox("fill holes")
        self.fill.setChecked(True)
        self.fill.setToolTip("Fill rejected pixels from the background side of each row")

        self.f_px = QDoubleSpinBox()
        self.f_px.setRange(1.0, 100000.0)
        self.f_px.setDecimals(1)
        self.f_px.setValue(DEFAULT_F_PX)
        self.f_px.setSuffix(" px")
        self.baseline = QDoubleSpinBox()
        self.baseline.setRange(0.001, 100.0)
        self.baseline.setDecimals(3)
        self.baseline.setSingleStep(0.01)
        self.baseline.setValue(DEFAULT_BASELINE)
        self.baseline.setSuffix(" m")
        self.doffs = QDoubleSpinBox()
        self.doffs.setRange(-10000.0, 10000.0)
        self.doffs.setDecimals(2)
        self.doffs.setSuffix(" px")
        self.calib_btn = QPushButton("Calibration file…")
        self.camera_note = WrapLabel("", "Muted")

        self.sample_btn = QPushButton("Built-in scene")
        self.gt_btn = QPushButton("Ground truth…")
        self.source_label = WrapLabel("", "Muted")
        self.rect_label = WrapLabel("", rich=True)
        self.trap = WrapLabel("", rich=True)

        box_m, fm = _form("Matcher")
        fm.addRow("method", self.method)
        fm.addRow("disparities", self.ndisp)
        fm.addRow("block", self.block)
        fm.addRow("smoothness", self.smooth)
        fm.addRow("uniqueness", self.unique)
        fm.addRow(self.lr)
        fm.addRow(self.fill)
        box_c, fc = _form("Camera")
        fc.addRow("focal f", self.f_px)
        fc.addRow("baseline B", self.baseline)
        fc.addRow("doffs", self.doffs)
        fc.addRow(self.calib_btn)
        fc.addRow(self.camera_note)
        box_d = QGroupBox("Data")
        fd = QVBoxLayout(box_d)
        for w in (self.sample_btn, self.gt_btn, self.source_label, self.rect_label):
            fd.addWidget(w)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (box_m, box_c, box_d, self.trap):
            lay.addWidget(w)

    def settings(self) -> MatchSettings:
        return MatchSettings(method=self.method.currentData(), num_disparities=self.ndisp.value() or None,
                             block_size=self.block.value() | 1, smoothness=self.smooth.value(),
                             uniqueness=self.unique.value(), lr_check=self.lr.isChecked(), fill=self.fill.isChecked())

    def set_settings(self, st: dict) -> None:
        """Restore from a lesson's state (missing keys keep their value)."""
        if "method" in st:
            i = self.method.findData(st["method"])
            if i >= 0:
                self.method.setCurrentIndex(i)
        nd = int(st.get("num_disparities") or 0)
        if not 0 <= nd <= MAX_NUM_DISPARITIES:
            raise ValueError(f"The number of disparities must be from 0 (auto) to {MAX_NUM_DISPARITIES:,}, not {nd:,}.")
        for key, w in (("num_disparities", self.ndisp), ("block_size", self.block), ("uniqueness", self.unique)):
            if key in st:
                w.setValue(int(st[key] or 0))
        if "smoothness" in st:
            self.smooth.setValue(float(st["smoothness"]))
        if "lr_check" in st:
            self.lr.setChecked(bool(st["lr_check"]))
        if "fill" in st:
            self.fill.setChecked(bool(st["fill"]))

    def matcher_widgets(self) -> tuple:
        return self.method, self.ndisp, self.block, self.smooth, self.unique, self.lr, self.fill

    def camera(self) -> tuple[float, float, float]:
        return self.f_px.value(), self.baseline.value(), self.doffs.value()
