"""The welcome page: every panel as a card (a picture of it and its name); a click opens it.

The pictures are small PNGs in ``assets/`` (``thumb-<panel>.png``), rendered from each panel's
built-in sample by ``tools/make_thumbnails.py`` and committed, so start-up renders nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from ..registry import PANELS
from ..themes import assets_folder
from ..widgets.text import ElidedLabel, WrapLabel
from .base import Panel

__all__ = ["PanelWidget", "thumbnail_path"]

_COLUMNS = 3


def thumbnail_path(panel_id: str) -> Path:
    """Where the card picture of ``panel_id`` lives (it may be missing in a source checkout)."""
    return Path(assets_folder()) / f"thumb-{panel_id}.png"


def _read_pictures(paths: dict) -> dict[str, QImage]:
    """The card pictures that exist, decoded (QImage, unlike QPixmap, may be made off the GUI thread)."""
    return {pid: QImage(str(p)) for pid, p in paths.items() if p.is_file()}


class _Thumb(QLabel):
    """A picture that scales to the room its card has, keeping its aspect ratio."""

    def __init__(self) -> None:
        super().__init__()
        self._pixmap = QPixmap()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def set_picture(self, pixmap: QPixmap) -> None:
        self._pixmap = pixmap
        self._fit()

    def _fit(self) -> None:
        if not self._pixmap.isNull() and self.width() > 8 and self.height() > 8:
            self.setPixmap(self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, ev) -> None:  # noqa: N802
        self._fit()
        super().resizeEvent(ev)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, 150)


class PanelWidget(Panel):
    accepts_images = False

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        title = QLabel("cvexplorer")
        title.setObjectName("Big")
        intro = WrapLabel("Computer-vision arithmetic and algorithms you can see and check. Open a panel, load "
                          "your own photo (Ctrl+O or drag it here) and step through what the algorithm does.")
        grid = QGridLayout()
        grid.setSpacing(10)
        self.cards: dict[str, QPushButton] = {}
        self._thumbs: dict[str, _Thumb] = {}
        specs = [p for p in PANELS if p.id != "welcome"]
        for i, spec in enumerate(specs):
            card = self._card(spec)
            self.cards[spec.id] = card
            grid.addWidget(card, i // _COLUMNS, i % _COLUMNS)
        for r in range((len(specs) + _COLUMNS - 1) // _COLUMNS):
            grid.setRowStretch(r, 1)
        for c in range(_COLUMNS):
            grid.setColumnStretch(c, 1)
        shortcuts = ElidedLabel("Space play/pause · ←/→ step · Home/End · Ctrl+O open image · "
                                "Ctrl+Shift+S save PNG · F11 full screen · F5 presentation", "Muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addLayout(grid, 1)
        lay.addWidget(shortcuts)
        # Eleven PNGs take ~20 ms to decode: a worker reads them while the window paints its first frame.
        paths = {pid: thumbnail_path(pid) for pid in self.cards}
        ctx.workers.submit("welcome-pictures", _read_pictures, paths, on_done=self._show_pictures)

    def _show_pictures(self, images: dict[str, QImage]) -> None:
        for pid, image in images.items():
            self._thumbs[pid].set_picture(QPixmap.fromImage(image))

    def _card(self, spec) -> QPushButton:
        # A button holding a picture and labels: QPushButton's own text never wraps.
        b = QPushButton()
        b.setObjectName("WelcomeCard")
        b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        b.setMinimumHeight(60)
        b.setToolTip(f"{spec.title}: {spec.description}")
        b.clicked.connect(lambda _=False, pid=spec.id: self.ctx.open_panel(pid))
        thumb = self._thumbs[spec.id] = _Thumb()
        name = ElidedLabel(spec.title, "Title")
        name.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        inner = QVBoxLayout(b)
        inner.setContentsMargins(6, 6, 6, 6)
        inner.setSpacing(4)
        inner.addWidget(thumb, 1)
        inner.addWidget(name)
        for lab in (thumb, name):
            lab.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            lab.setStyleSheet("background: transparent;")
        return b

    def card_rects(self) -> dict[str, tuple[int, int, int, int]]:
        """Each card's (x, y, w, h) in this page's coordinates (tests check every card is on screen)."""
        out = {}
        for pid, card in self.cards.items():
            p = card.mapTo(self, card.rect().topLeft())
            out[pid] = (p.x(), p.y(), card.width(), card.height())
        return out

