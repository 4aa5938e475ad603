"""FormulaCard: a formula, the same formula with the live values substituted, and the result.

Panels call :meth:`FormulaCard.show_result` whenever an input changes, or :meth:`show_error` with
the engine's ValueError sentence when a setting is invalid (explained in place, never clamped).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

__all__ = ["FormulaCard"]


class FormulaCard(QFrame):
    def __init__(self, title: str = "", formula: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("Card")
        self.title = QLabel(title)
        self.title.setObjectName("Muted")
        self.formula = QLabel(formula)
        self.formula.setObjectName("Mono")
        self.substituted = QLabel("")
        self.substituted.setObjectName("Mono")
        self.result = QLabel("")
        self.result.setObjectName("Big")
        self.meaning = QLabel("")
        self.meaning.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        lay = QVBoxLayout(self)
        for w in (self.title, self.formula, self.substituted, self.result, self.meaning, self.error):
            lay.addWidget(w)
            w.setWordWrap(True)
        lay.addStretch(1)  # a card taller than its text keeps the lines together at the top
        self.error.hide()

    def set_formula(self, formula: str, title: str | None = None) -> None:
        self.formula.setText(formula)
        if title is not None:
            self.title.setText(title)

    def show_result(self, substituted: str, result: str, meaning: str = "", formula: str | None = None) -> None:
        if formula is not None:
            self.formula.setText(formula)
        self.substituted.setText(substituted)
        self.result.setText(result)
        self.meaning.setText(meaning)
        self.error.hide()
        self.error.setText("")

    def show_error(self, message: str, substituted: str = "") -> None:
        self.substituted.setText(substituted)
        self.result.setText("—")
        self.meaning.setText("")
        self.error.setText(message)
        self.error.show()

    @property
    def has_error(self) -> bool:
        return bool(self.error.text())
