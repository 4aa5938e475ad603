"""The conv lab's settings column: mode, preset or gallery kernel, kernel size, stride, padding, dilation,
bias, pooling, the number editors and "Show code". Laid out top to bottom for the frame's narrow column."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from ...widgets.text import WrapLabel

__all__ = ["MODES", "MODE_TITLES", "PRESETS", "DEFAULTS", "GALLERY", "ConvControls"]

MODES = ("matrix", "rgb", "pooling", "transposed", "image")
MODE_TITLES = {"matrix": "Matrix", "rgb": "RGB (3 channels)", "pooling": "Pooling",
               "transposed": "Transposed conv", "image": "Image (photo)"}

_EDGE_KERNEL = [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]
PRESETS: dict[str, tuple[list, list]] = {
    # Rows 0 and 2 reproduce the vision chapter's worked example: output(0,0) = 5, output(0,1) = 10.
    "worked example: horizontal edge": (
        [[2, 0, 1, 5, 3], [4, 2, 3, 1, 0], [0, 1, 7, 8, 2], [3, 6, 2, 0, 1], [1, 4, 5, 2, 6]], _EDGE_KERNEL),
    "vertical edge": ([[0, 0, 0, 9, 9, 9]] * 6, [[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
    "diagonal": ([[9 if i == j else 0 for j in range(6)] for i in range(6)],
                 [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]]),
    "random integers": ([], []),
    "pooling 4×4 (workbook)": ([[1, 3, 2, 8], [6, 0, 1, 4], [3, 1, 0, 2], [2, 0, 3, 1]], [[1, 1], [1, 1]]),
}
DEFAULTS = {
    "matrix": dict(preset="worked example: horizontal edge", stride=1, padding=1, dilation=1),
    "rgb": dict(preset="random integers", stride=1, padding=1, dilation=1),
    "pooling": dict(preset="pooling 4×4 (workbook)", stride=2, padding=0, dilation=1),
    "transposed": dict(preset="transposed 3×3", stride=2, padding=0, dilation=1),
    "image": dict(preset="", stride=1, padding=1, dilation=1),
}
GALLERY = ["identity", "box blur", "gaussian", "sharpen", "sobel x", "sobel y", "laplacian", "emboss",
           "diagonal edge", "custom"]


def _spin(lo: int, hi: int) -> QSpinBox:
    sb = QSpinBox()
    sb.setRange(lo, hi)
    sb.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return sb


def _combo(items) -> QComboBox:
    cb = QComboBox()
    cb.addItems(list(items))
    cb.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return cb


class ConvControls(QWidget):
    """The widgets of the settings column (public: the panel and its tests drive them)."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.mode_box = _combo([])
        for m in MODES:
            self.mode_box.addItem(MODE_TITLES[m], m)
        self.preset_box = _combo(PRESETS)
        self.gallery = _combo(GALLERY)
        self.gallery.setCurrentText("sobel x")
        self.channels = _combo(["grey", "rgb"])
        self.pool_mode = _combo(["max", "avg"])
        self.kh, self.kw = _spin(1, 9), _spin(1, 9)
        self.stride, self.padding, self.dilation = _spin(1, 6), _spin(0, 8), _spin(1, 5)
        self.bias = _spin(-50, 50)
        self.same_btn = QPushButton("same")
        self.same_btn.setToolTip("Padding that keeps the output the size of the input at stride 1: P = D(K−1)/2")
        self.relu = QCheckBox("ReLU: max(0, y)")
        self.code_btn = QPushButton("Show code")
        self.apply_btn = QPushButton("Apply numbers")
        self.input_edit = QPlainTextEdit()
        self.kernel_edit = QPlainTextEdit()
        for e in (self.input_edit, self.kernel_edit):
            e.setObjectName("Mono")
            e.setMinimumHeight(int(theme.font_pt * 7))
            e.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # label above field: the column is narrow
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._rows: dict[str, tuple[QLabel, QWidget]] = {}

        def row(key: str, text: str, field) -> None:
            label = QLabel(text)
            if isinstance(field, QWidget):
                form.addRow(label, field)
            else:
                holder = QWidget()
                holder.setLayout(field)
                field.setContentsMargins(0, 0, 0, 0)
                form.addRow(label, holder)
                field = holder
            self._rows[key] = (label, field)

        row("mode", "Mode", self.mode_box)
        row("preset", "Preset", self.preset_box)
        row("gallery", "Kernel", self.gallery)
        row("channels", "Colour", self.channels)
        ksz = QHBoxLayout()
        ksz.addWidget(self.kh, 1)
        ksz.addWidget(QLabel("×"))
        ksz.addWidget(self.kw, 1)
        row("size", "Size", ksz)
        row("stride", "Stride", self.stride)
        prow = QHBoxLayout()
        prow.addWidget(self.padding, 1)
        prow.addWidget(self.same_btn)
        row("padding", "Padding", prow)
        row("dilation", "Dilation", self.dilation)
        row("bias", "Bias", self.bias)
        row("pool", "Pool", self.pool_mode)

        self.edit_box = QFrame()
        self.edit_box.setObjectName("Card")
        ev = QVBoxLayout(self.edit_box)
        self.edit_title = WrapLabel("Numbers: edit, then Apply", "Muted")
        ev.addWidget(self.edit_title)
        self.input_label = QLabel("Input")
        ev.addWidget(self.input_label)
        ev.addWidget(self.input_edit)
        ev.addWidget(QLabel("Kernel"))
        ev.addWidget(self.kernel_edit)
        ev.addWidget(self.apply_btn)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.relu)
        lay.addWidget(self.edit_box)
        lay.addWidget(self.code_btn)

    def show_mode(self, mode: str) -> None:
        """Show the settings that mean something in ``mode``; hide the rest."""
        image = mode == "image"
        shown = {"mode": True, "size": True, "stride": True, "padding": True,
                 "preset": mode in ("matrix", "pooling"), "gallery": image, "channels": image,
                 "pool": mode == "pooling", "dilation": mode in ("matrix", "rgb", "image"),
                 "bias": mode in ("matrix", "rgb")}
        for key, (label, field) in self._rows.items():
            label.setVisible(shown[key])
            field.setVisible(shown[key])
        self.relu.setVisible(image)
        self.input_label.setVisible(not image)
        self.input_edit.setVisible(not image)
        self.edit_title.setText("Custom kernel: edit, then Apply" if image else "Numbers: edit, then Apply")
