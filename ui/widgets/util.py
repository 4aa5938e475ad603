"""Small Qt helpers shared by widgets and panels."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QWidget

__all__ = ["qimage_to_array", "array_to_qimage", "grab_array", "label", "double_spin"]


def qimage_to_array(img: QImage) -> np.ndarray:
    """Copy a QImage into an (H, W, 3) RGB uint8 array."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    arr = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return arr[:, : w * 3].reshape(h, w, 3).copy()


def array_to_qimage(rgb: np.ndarray) -> QImage:
    """Wrap an (H, W, 3) uint8 array as a QImage that owns a copy of the pixels."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def grab_array(widget: QWidget) -> np.ndarray:
    """What the widget looks like right now, as an RGB array."""
    return qimage_to_array(widget.grab().toImage())


def label(text: str = "", name: str | None = None, wrap: bool = False, rich: bool = False) -> QLabel:
    lab = QLabel(text)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    if rich:
        from PySide6.QtCore import Qt

        lab.setTextFormat(Qt.TextFormat.RichText)
    return lab


def double_spin(lo: float, hi: float, step: float, value: float, *, decimals: int = 2,
                suffix: str = "") -> QDoubleSpinBox:
    """A number box from ``lo`` to ``hi`` in steps of ``step``, showing ``value``."""
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setValue(value)
    box.setSuffix(suffix)
    return box
