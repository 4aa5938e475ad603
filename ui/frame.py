"""PanelFrame: the one layout every panel fills, and the responsive rules that keep it on screen.

```
+--------------------------------------------------------------+
| banner: one line (error, progress with Cancel, hint)         |
+---------------------------------------------+----------------+
|                                             | controls       |
|  main view (image / diagram / grid)         | (scroll; hidden|
|  + its step player                          |  in present.)  |
|                                             +----------------+
|                                             | result card    |
|                                             +----------------+
|                                             | secondary plots|
|                                             | (tabs if > 1)  |
+---------------------------------------------+----------------+
```
A panel says which widget goes in which slot; the frame decides the sizes. The side column is a
share of the frame's width (bounded in pixels); everything in it scrolls or wraps, so no panel can
push the window wider or taller than the screen. Secondary plots live in the side column, under the
card, rather than under the picture: on a 16:9 projector height is the scarce dimension, and a plot
below the picture would take it from the picture.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QProgressBar, QPushButton, QScrollArea, QSizePolicy, QTabWidget,
                               QVBoxLayout, QWidget)

from .widgets import fit
from .widgets.text import ElidedLabel

__all__ = ["PanelFrame", "Banner", "SIDE_SHARE", "CARD_SHARE"]

#: The side column's share of the frame's width, and its bounds in pixels (window, presentation).
SIDE_SHARE = {False: (0.27, 240, 560), True: (0.25, 200, 480)}
#: The result card's share of the frame's height, and the most it may take to show its answer line
#: (window, presentation): the settings above it scroll, the answer must not.
CARD_SHARE = {False: (0.4, 0.56), True: (0.55, 0.58)}
_ANSWER_TRIES = 4  # queued re-measures while the card's layout settles after a change
_MAX_MESSAGE = 600  # characters of a banner message (its tooltip holds them all)


class Banner(QFrame):
    """One line above the panel: an error, a hint, or progress with a Cancel button. Hidden when empty."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("Banner")
        self.kind = ""
        self.text = ElidedLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.cancel_btn = QPushButton("Cancel")
        self.close_btn = QPushButton("✕")
        self.close_btn.setFlat(True)
        self.close_btn.setToolTip("Dismiss")
        self.close_btn.clicked.connect(self.clear)
        self._on_cancel: Callable[[], None] | None = None
        self.cancel_btn.clicked.connect(self._cancel)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 4, 2)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.progress)
        lay.addWidget(self.cancel_btn)
        lay.addWidget(self.close_btn)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.clear()

    def _show(self, kind: str, text: str, *, busy: bool = False, cancel: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        # one line, whatever the message carried, and bounded: a file's contents never flood the banner
        line = " ".join(str(text)[:_MAX_MESSAGE].split())
        self.text.setText(line if len(str(text)) <= _MAX_MESSAGE else line + " …")
        self.progress.setVisible(busy)
        self._on_cancel = cancel
        self.cancel_btn.setVisible(cancel is not None)
        self.close_btn.setVisible(not busy)
        self.show()

    def show_error(self, text: str) -> None:
        self._show("error", text)

    def show_hint(self, text: str) -> None:
        self._show("hint", text)

    def show_progress(self, text: str, cancel: Callable[[], None] | None = None,
                      fraction: float | None = None) -> None:
        """A running job: a busy bar (or ``fraction`` done) and, when given, a Cancel button."""
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self._show("progress", text, busy=True, cancel=cancel)

    def clear(self, kind: str | None = None) -> None:
        """Hide the banner (only if it shows ``kind``, when given)."""
        if kind is not None and self.kind != kind:
            return
        self.kind = ""
        self._on_cancel = None
        self.text.setText("")
        self.hide()

    def message(self) -> str:
        return self.text.full_text() if self.isVisible() else ""

    def _cancel(self) -> None:
        fn = self._on_cancel
        self.clear()
        if fn is not None:
            fn()


class _FitScroll(QScrollArea):
    """A frameless scroll area that asks for its content's height at the current width, and no more."""

    def __init__(self, widget: QWidget, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(widget)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:  # noqa: N802
        w = self.widget()
        width = max(50, self.viewport().width())
        lay = w.layout()
        h = lay.totalHeightForWidth(width) if lay is not None and lay.hasHeightForWidth() else w.sizeHint().height()
        h = max(h, w.minimumSizeHint().height())  # the height the layout will give it, if more
        return QSize(width, max(0, h) + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, 0)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - a new width wraps the text anew: ask again
        super().resizeEvent(ev)
        if ev.size().width() != ev.oldSize().width():
            self.updateGeometry()


class PanelFrame(QWidget):
    """The slots of a panel: :meth:`set_main`, :meth:`add_controls`, :meth:`set_card`,
    :meth:`add_secondary`, :meth:`set_player`, and the :attr:`banner`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("PanelFrame")
        self.presenting = False
        self._fit_queued = False
        self.banner = Banner()

        self.main_view = QWidget()
        self.main_view.setObjectName("MainView")
        self.main_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._main_lay = QVBoxLayout(self.main_view)
        self._main_lay.setContentsMargins(0, 0, 0, 0)
        self._main_lay.setSpacing(2)
        self.main: QWidget | None = None
        self.player = None

        self._controls_body = QWidget()
        self._controls_body.setObjectName("Controls")
        self._controls_lay = QVBoxLayout(self._controls_body)
        self._controls_lay.setContentsMargins(2, 2, 6, 2)
        self._controls_lay.addStretch(1)
        self.controls = QScrollArea()
        self.controls.setObjectName("ControlsScroll")
        self.controls.setFrameShape(QFrame.Shape.NoFrame)
        self.controls.setWidgetResizable(True)
        self.controls.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.controls.setWidget(self._controls_body)
        self.controls.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

        self._card_holder = QWidget()
        self._card_lay = QVBoxLayout(self._card_holder)
        self._card_lay.setContentsMargins(0, 0, 0, 0)
        self.card_scroll = _FitScroll(self._card_holder)
        self.card_scroll.hide()
        # the range changes once the card's new height has reached the scroll area: look again then
        self.card_scroll.verticalScrollBar().rangeChanged.connect(lambda *_: self._queue_answer(fresh=False))
        self.card: QWidget | None = None
        self.answer: QWidget | None = None
        self._answer_need = 0  # the card's height down to its answer line, when last measured
        self._answer_queued = False
        self._answer_tries = 0  # re-measures left in this settling chain
        self._answer_fresh = False  # a new text or size: the card may also shrink back

        self.secondary = QTabWidget()
        self.secondary.setObjectName("Secondary")
        self.secondary.setDocumentMode(True)
        # in a narrow column two titles elide rather than hide one behind scroll arrows
        self.secondary.setElideMode(Qt.TextElideMode.ElideRight)
        self.secondary.setUsesScrollButtons(False)
        self.secondary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.secondary.hide()

        self.side = QWidget()
        self.side.setObjectName("SideColumn")
        side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(6)
        side.addWidget(self.controls, 3)
        side.addWidget(self.card_scroll, 0)
        side.addWidget(self.secondary, 2)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(8)
        body.addWidget(self.main_view, 1)
        body.addWidget(self.side, 0)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.banner)
        lay.addLayout(body, 1)

    # -- slots ----------------------------------------------------------------------------------------
    def set_main(self, widget: QWidget) -> None:
        """The picture: it takes all the room the side column leaves."""
        if self.main is not None:
            self._main_lay.removeWidget(self.main)
            self.main.setParent(None)
        self.main = widget
        widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._main_lay.insertWidget(0, widget, 1)

    def set_player(self, player: QWidget) -> None:
        """The step player sits under the picture it drives (it belongs to the main view)."""
        self.player = player
        player.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._main_lay.addWidget(player, 0)

    def add_controls(self, *items) -> None:
        """Append widgets (or layouts) to the controls column, top to bottom."""
        for it in items:
            at = self._controls_lay.count() - 1  # before the closing stretch
            if isinstance(it, QWidget):
                self._controls_lay.insertWidget(at, it)
            else:
                self._controls_lay.insertLayout(at, it)
        fit.prepare(self._controls_body)
        self._fit_controls()

    def set_controls_stretch(self, widget: QWidget, stretch: int = 1) -> None:
        """Let one control (a table, a list) take the column's spare height instead of the bottom gap."""
        self._controls_lay.setStretchFactor(widget, stretch)
        last = self._controls_lay.itemAt(self._controls_lay.count() - 1)
        if last is not None and last.spacerItem() is not None:
            self._controls_lay.removeItem(last)

    def set_card(self, card: QWidget, answer: QWidget | None = None) -> None:
        """The result card (formula, substituted numbers, answer), under the controls.

        ``answer`` (by default the card's ``result`` label, if it has one) is the line that must stay
        in view: the card takes more of the column's height to show it (see :data:`CARD_SHARE`), and
        where even that is short, the card scrolls to it whenever its text changes."""
        if self.card is not None:
            self._card_lay.removeWidget(self.card)
            self.card.setParent(None)
        self.card = card
        self.answer = answer if answer is not None else getattr(card, "result", None)
        self._card_lay.addWidget(card)
        card.installEventFilter(self)  # its text changes its height: the scroll area must ask again
        self.card_scroll.show()
        self._queue_answer()

    def add_secondary(self, widget: QWidget, title: str, tip: str = "") -> None:
        """A secondary view (a plot, a small picture); several share the space as tabs. The column is
        narrow: keep ``title`` to a word or two and say the rest in ``tip``."""
        widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.secondary.setTabToolTip(self.secondary.addTab(widget, title), tip)
        self.secondary.tabBar().setVisible(self.secondary.count() > 1)
        self.secondary.show()

    def show_secondary(self, widget: QWidget) -> None:
        i = self.secondary.indexOf(widget)
        if i >= 0:
            self.secondary.setCurrentIndex(i)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if obj is self.card and ev.type() == QEvent.Type.LayoutRequest:
            self.card_scroll.updateGeometry()
            self._queue_answer()
        return False

    # -- responsive rules -----------------------------------------------------------------------------
    def set_presentation(self, on: bool) -> None:
        """Presentation mode: the controls collapse; the card and secondary views stay."""
        self.presenting = bool(on)
        self.controls.setVisible(not on)
        self._apply_sizes()

    def side_width(self, width: int | None = None) -> int:
        share, lo, hi = SIDE_SHARE[self.presenting]
        w = self.width() if width is None else width
        return int(max(lo, min(hi, share * w)))

    def _fit_controls(self) -> None:
        """Fit the controls to the column once the current layout pass is over (fitting measures
        layouts, which must not run inside another one's resize)."""
        if not self._fit_queued:
            self._fit_queued = True
            QTimer.singleShot(0, self._fit_now)

    def _fit_now(self) -> None:
        self._fit_queued = False
        if not self.presenting:
            fit.fit_texts(self._controls_body, self.side_width() - self.controls.verticalScrollBar().sizeHint().width())

    def changeEvent(self, ev) -> None:  # noqa: N802 - a new theme's font changes what fits
        if ev.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_controls()
        super().changeEvent(ev)

    def _card_room(self) -> int:
        """The card's maximum height: its share, or more (up to the cap) if its answer needs it."""
        share, cap = CARD_SHARE[self.presenting]
        h = self.height()
        return max(80, int(h * share), min(int(h * cap), self._answer_need))

    def _queue_answer(self, fresh: bool = True) -> None:
        self._answer_fresh |= fresh
        if self.answer is not None and not self._answer_queued:
            self._answer_queued = True
            self._answer_tries = _ANSWER_TRIES
            QTimer.singleShot(0, self._show_answer)  # a bound method: dropped if the frame is deleted

    def _show_answer(self) -> None:
        """Measure how far down the card its answer ends, let the card grow that far (within its cap),
        then scroll the answer into view. Runs queued: after a change the card's layout settles in a
        few passes, so until the card has its height for its width it looks again (a few times)."""
        self._answer_queued = False
        tries, self._answer_tries = self._answer_tries, self._answer_tries - 1
        a, view = self.answer, self.card_scroll
        if a is None or not a.isVisible() or not view.isVisible():
            return
        # settled: the card has its height for its width (up to the scroll area's 2 px of slack)
        if all(abs(w.height() - w.heightForWidth(w.width())) <= 3 for w in (a, self.card) if w.hasHeightForWidth()):
            bottom = a.mapTo(view.widget(), a.rect().bottomLeft()).y() + 1
            need = bottom + 8 + 2  # the card's own margin under the line, and the scroll area's 2 px
            if not self._answer_fresh:  # settling after our own change, the card only grows: a scroll bar
                need = max(need, self._answer_need)  # that went and came back would rewrap the text each time
            self._answer_fresh = False
            self._answer_need = need
            room = self._card_room()
            if abs(room - view.maximumHeight()) <= 2:  # the answer at the bottom of the view, and above
                top = a.mapTo(view.widget(), a.rect().topLeft()).y()  # it as much as fits of what leads to it
                view.verticalScrollBar().setValue(max(0, min(top, bottom + 8 - view.viewport().height())))
                return
            view.setMaximumHeight(room)
            view.updateGeometry()
        if tries > 1:
            self._answer_queued = True
            QTimer.singleShot(0, self._show_answer)

    def _apply_sizes(self) -> None:
        self.side.setFixedWidth(self.side_width())
        self._fit_controls()
        h = self.height()
        self.card_scroll.setMaximumHeight(self._card_room())
        self._queue_answer()
        # a plot below ~a quarter of the column is a strip nobody can read: it keeps that much
        self.secondary.setMinimumHeight(int(h * (0.4 if self.presenting else 0.28)) if self.secondary.count() else 0)
        self.card_scroll.updateGeometry()

    def resizeEvent(self, ev) -> None:  # noqa: N802
        self._apply_sizes()
        super().resizeEvent(ev)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - the frame always fits; its slots scroll or wrap
        return QSize(SIDE_SHARE[self.presenting][1] + 200, 240)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(1200, 800)
