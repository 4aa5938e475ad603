"""Labels that never clip: one that elides to its width (full text in the tooltip) and one that wraps.

Every sentence a panel shows goes through one of these (or a FormulaCard), so a narrow column or a
large projector font shortens or wraps text instead of cutting it off or pushing the window wider.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy

__all__ = ["ElidedLabel", "WrapLabel"]


class ElidedLabel(QLabel):
    """One line of text; when it does not fit, it ends in "…" and the tooltip holds the whole text."""

    def __init__(self, text: str = "", name: str | None = None, parent=None) -> None:
        super().__init__(parent)
        if name:
            self.setObjectName(name)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        self._full = str(text)
        super().setText(self._full)
        self.setToolTip(self._full)
        self.updateGeometry()

    def full_text(self) -> str:
        return self._full

    def is_elided(self) -> bool:
        return QFontMetrics(self.font()).horizontalAdvance(self._full) > self.contentsRect().width()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        fm = QFontMetrics(self.font())
        return QSize(fm.horizontalAdvance("…") * 3, fm.height())

    def sizeHint(self) -> QSize:  # noqa: N802
        fm = QFontMetrics(self.font())
        return QSize(fm.horizontalAdvance(self._full) + 4, fm.height())

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        r = self.contentsRect()
        text = QFontMetrics(self.font()).elidedText(self._full, Qt.TextElideMode.ElideRight, r.width())
        p.setPen(self.palette().color(self.foregroundRole()))
        p.setFont(self.font())
        p.drawText(r, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


class WrapLabel(QLabel):
    """A word-wrapped label that asks for no width of its own (the column decides, it wraps to fit)."""

    def __init__(self, text: str = "", name: str | None = None, rich: bool = False, parent=None) -> None:
        super().__init__(text, parent)
        if name:
            self.setObjectName(name)
        self.setWordWrap(True)
        if rich:
            self.setTextFormat(Qt.TextFormat.RichText)
        sp = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)
