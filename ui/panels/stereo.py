"""Placeholder until this panel lands: says so plainly instead of pretending."""

from PySide6.QtWidgets import QLabel, QVBoxLayout

from .base import Panel


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        lab = QLabel("This panel is being built.")
        QVBoxLayout(self).addWidget(lab)
