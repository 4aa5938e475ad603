"""Presentation mode (F5): full screen, chrome hidden, projector styling scaled to the screen,
and a pointer highlight that follows the mouse. Escape leaves and restores everything.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QApplication, QWidget

from .themes import THEMES
from .widgets.text import ElidedLabel

__all__ = ["enter_presentation", "leave_presentation", "refresh_presentation", "presentation_theme",
           "PointerHighlight"]


def presentation_theme(screen_height: int):
    """The projector theme with fonts and strokes scaled to the screen (>= 20 pt at 1080 lines)."""
    base = THEMES["projector"]
    scale = max(0.8, screen_height / 1080.0)
    return dataclasses.replace(base, name="projector", font_pt=max(16, round(20 * scale)),
                               mono_pt=max(16, round(20 * scale)), line_px=max(3.0, 4.0 * scale))


class PointerHighlight(QWidget):
    """A translucent ring drawn where the mouse is, over the whole window; ignores clicks."""

    def __init__(self, parent: QWidget, radius: int = 28) -> None:
        super().__init__(parent)
        self.radius = radius
        self.pos_ = QPoint(-100, -100)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setGeometry(parent.rect())
        self.raise_()

    def move_to(self, global_pos: QPoint) -> None:
        self.pos_ = self.mapFromGlobal(global_pos)
        self.update()

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = QColor("#E69F00")
        c.setAlpha(90)
        p.setBrush(c)
        p.setPen(QPen(QColor("#D55E00"), 3))
        p.drawEllipse(self.pos_, self.radius, self.radius)


class _MouseFollower(QObject):
    def __init__(self, overlay: PointerHighlight) -> None:
        super().__init__(overlay)
        self.overlay = overlay

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() == QEvent.Type.MouseMove:
            self.overlay.move_to(ev.globalPosition().toPoint())
        elif ev.type() == QEvent.Type.Resize and obj is self.overlay.parentWidget():
            self.overlay.setGeometry(obj.rect())
        return False


def enter_presentation(win, size: tuple[int, int] | None = None) -> None:
    if win.presenting:
        return
    win._pres_saved = {
        "theme": win.ctx.theme.name, "dock": win.dock.isVisible(), "sidebar": win.sidebar.isVisible(),
        "menubar": win.menuBar().isVisible(), "status": win.statusBar().isVisible(), "geometry": win.saveGeometry(),
        "fullscreen": win.isFullScreen(),
    }
    win.presenting = True
    height = size[1] if size else (win.screen().geometry().height() if win.screen() else 1080)
    theme = presentation_theme(height)
    theme.apply(QApplication.instance())
    win.ctx.set_theme(theme)
    for w in (win.dock, win.sidebar, win.menuBar(), win.statusBar()):
        w.hide()
    win.pres_bar = ElidedLabel("", "Muted")
    win.centralWidget().widget(1).layout().insertWidget(0, win.pres_bar)
    win._fit_navigation()
    refresh_presentation(win)
    if size is None:
        win.showFullScreen()
    win.pointer = PointerHighlight(win)
    win.pointer.show()
    win._pointer_filter = _MouseFollower(win.pointer)
    QApplication.instance().installEventFilter(win._pointer_filter)
    win.setMouseTracking(True)


def refresh_presentation(win) -> None:
    """The current panel in presentation mode, and a hint line that names only the keys that do something."""
    panel = win.current_panel()
    if panel is None:
        return
    if hasattr(panel, "set_presentation"):
        panel.set_presentation(True)
    keys = ["←/→ step", "Space play"] if panel.player() is not None else []
    win.pres_bar.setText("   ·   ".join([f"  {panel.title}"] + keys + ["F5 or Esc leaves"]))


def leave_presentation(win) -> None:
    if not win.presenting:
        return
    saved = win._pres_saved
    win.presenting = False
    QApplication.instance().removeEventFilter(win._pointer_filter)
    win.pointer.hide()
    win.pointer.deleteLater()
    win.pres_bar.hide()  # out of the layout now: deleteLater alone leaves it there until the event loop runs
    win.pres_bar.setParent(None)
    win.pres_bar.deleteLater()
    panel = win.current_panel()
    if panel is not None and hasattr(panel, "set_presentation"):
        panel.set_presentation(False)
    win.dock.setVisible(saved["dock"])
    win.sidebar.setVisible(saved["sidebar"])
    win.menuBar().setVisible(saved["menubar"])
    win.statusBar().setVisible(saved["status"])
    if not saved["fullscreen"]:
        win.showNormal()
        win.restoreGeometry(saved["geometry"])
    win.apply_theme(saved["theme"])
    win._fit_navigation()
