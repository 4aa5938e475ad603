"""The welcome page: every panel with its one-line description; a click opens it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from ..registry import PANELS
from .base import Panel


class PanelWidget(Panel):
    accepts_images = False

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        title = QLabel("cvexplorer")
        title.setObjectName("Big")
        intro = QLabel("Computer-vision arithmetic and algorithms you can see and check. Open a panel, "
                       "load your own photo (Ctrl+O or drag it here), and step through what the algorithm does.")
        intro.setWordWrap(True)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.cards: dict[str, QPushButton] = {}
        specs = [p for p in PANELS if p.id != "welcome"]
        for i, spec in enumerate(specs):
            # A button holding wrapping labels: QPushButton's own text never wraps.
            b = QPushButton()
            b.setObjectName("WelcomeCard")
            t = QLabel(f"<b>{spec.title}</b>")
            d = QLabel(spec.description)
            d.setWordWrap(True)
            inner_lay = QVBoxLayout(b)
            for lab in (t, d):
                lab.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
                lab.setStyleSheet("background: transparent;")
                inner_lay.addWidget(lab)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
            b.setToolTip(f"Open the {spec.title} panel ({spec.id})")
            b.clicked.connect(lambda _=False, pid=spec.id: ctx.open_panel(pid))
            self.cards[spec.id] = b
            grid.addWidget(b, i // 2, i % 2)
        shortcuts = QLabel("Space play/pause · ←/→ step · Home/End · Ctrl+O open image · "
                           "Ctrl+Shift+S save PNG · F11 full screen · F5 presentation mode")
        shortcuts.setObjectName("Muted")
        shortcuts.setWordWrap(True)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addLayout(grid)
        lay.addWidget(shortcuts)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        scroll.setAlignment(Qt.AlignmentFlag.AlignTop)
