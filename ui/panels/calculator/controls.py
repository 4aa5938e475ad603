"""The calculator's side column: the formula family, its inputs, and the practice box."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGroupBox, QLineEdit, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from cvexplorer import derivations as D

from ...widgets.text import WrapLabel

__all__ = ["FamilyInputs", "PracticeBox"]

_FRACTIONS = {"inlier_ratio", "confidence", "utilization"}


class FamilyInputs(QWidget):
    """A family chooser (grouped) and one input per parameter; ``changed`` is called on every edit."""

    def __init__(self, on_family: Callable[[str], None], on_input: Callable[[], None], parent=None) -> None:
        super().__init__(parent)
        self._on_input = on_input
        self._building = False
        self.inputs: dict[str, QWidget] = {}
        self.chooser = QComboBox()
        self.chooser.setObjectName("FamilyChooser")
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(8)
        model: QStandardItemModel = self.chooser.model()
        group = None
        for key, fam in D.FAMILIES.items():
            if fam.group != group:
                group = fam.group
                self.chooser.addItem(f"— {group} —", None)
                model.item(self.chooser.count() - 1).setEnabled(False)
            self.chooser.addItem(fam.title, key)
        self.chooser.currentIndexChanged.connect(
            lambda _i: None if self._building or not self.chooser.currentData() else on_family(self.chooser.currentData()))
        self.box = QGroupBox("Inputs")
        self.form = QVBoxLayout(self.box)  # each label above its field: the column is narrow
        self.reset_btn = QPushButton("Reset to the example")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(WrapLabel("Formula"))
        lay.addWidget(self.chooser)
        lay.addWidget(self.box)
        lay.addWidget(self.reset_btn)

    def build(self, key: str, values: dict[str, Any]) -> None:
        """Show family ``key`` with these values (no change callbacks while building)."""
        fam = D.FAMILIES[key]
        self._building = True
        try:
            self.chooser.setCurrentIndex(self.chooser.findData(key))
            while self.form.count():
                item = self.form.takeAt(0)
                if item.widget() is not None:
                    item.widget().deleteLater()
                    item.widget().setParent(None)
            self.inputs = {}
            for p in fam.params:
                w = self._make_input(p, values[p.name])
                self.inputs[p.name] = w
                self.form.addWidget(WrapLabel(p.label, "Muted"))
                self.form.addWidget(w)
        finally:
            self._building = False

    def _changed(self, *_a) -> None:
        if not self._building:
            self._on_input()

    def _make_input(self, p: D.Param, value) -> QWidget:
        if p.kind == "int":
            w = QSpinBox()
            w.setRange(0, int(min(p.hi, 2**31 - 1)))  # 0 allowed: an invalid 0 is explained, not clamped away
            w.setSingleStep(int(p.step))
            w.setValue(int(value))
            w.setGroupSeparatorShown(p.hi >= 10**5)
            w.valueChanged.connect(self._changed)
        elif p.kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(3 if p.name in _FRACTIONS or p.name == "baseline" else 2)
            w.setRange(0.0, max(float(p.hi), 2.0) if p.name in _FRACTIONS else float(p.hi))
            w.setSingleStep(float(p.step) if p.step != 1 or p.name not in _FRACTIONS else 0.05)
            w.setValue(float(value))
            w.valueChanged.connect(self._changed)
        elif p.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(self._changed)
        else:
            w = QLineEdit(str(value))
            w.textChanged.connect(self._changed)
        w.setObjectName(f"input_{p.name}")
        return w

    def values(self) -> dict[str, Any]:
        out = {}
        for name, w in self.inputs.items():
            if isinstance(w, (QSpinBox, QDoubleSpinBox)):
                out[name] = w.value()
            elif isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            else:
                out[name] = w.text()
        return out

    def set_value(self, name: str, value) -> None:
        w = self.inputs[name]
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.setValue(value)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setText(str(value))


class PracticeBox(QGroupBox):
    """A question of the chosen family, the student's answer, the verdict and the worked solution."""

    def __init__(self, parent=None) -> None:
        super().__init__("Practice", parent)
        self.question = WrapLabel("Press “New problem” for a fresh question of this family.")
        self.answer = QLineEdit()
        self.answer.setPlaceholderText("your answer (a number)")
        self.new_btn = QPushButton("New problem")
        self.check_btn = QPushButton("Check")
        self.show_btn = QPushButton("Show solution")
        self.verdict = WrapLabel("", "Big")
        self.solution = WrapLabel("", "Mono")
        self.solution.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addWidget(self.question)
        lay.addWidget(self.answer)
        for b in (self.check_btn, self.show_btn, self.new_btn):  # stacked: the side column is narrow
            lay.addWidget(b)
        lay.addWidget(self.verdict)
        lay.addWidget(self.solution)

    def set_enabled(self, on: bool) -> None:
        for w in (self.answer, self.check_btn, self.show_btn, self.new_btn):
            w.setEnabled(on)

    def set_verdict(self, text: str, role: str | None, theme) -> None:
        """The verdict in the theme's colour for ``role`` (positive / error), or plain."""
        self.verdict.setStyleSheet("" if role is None else f"color: {theme.color(role)};")
        self.verdict.setText(text)
