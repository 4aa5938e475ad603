"""TracePlayer: play / pause / step / scrub / speed over a Trace (or any step count).

The player owns only an index and a QTimer. Panels connect :attr:`stepChanged` and render
``trace[i]``; nothing is animated behind the scenes, so stepping back is as cheap as forward.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

__all__ = ["TracePlayer", "SLIDER_MIN_CHARS"]

_SPEEDS = (0.5, 1, 2, 4, 8, 16, 30, 60)
#: The narrowest slider (in average characters of the counter's font) one row may leave it.
SLIDER_MIN_CHARS = 8


class _Caption(QLabel):
    """The step's caption: wraps, and always takes at least two lines, so that a caption of one line
    after one of two does not give the picture above 16 px more and make it jump while stepping."""

    def __init__(self) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self.setObjectName("Mono")

    def _two_lines(self) -> int:
        # measured the way QLabel measures wrapped text (two lines are not exactly 2 × lineSpacing)
        m = self.contentsMargins()
        flags = int(Qt.TextFlag.TextWordWrap.value) | int(self.alignment().value)
        return self.fontMetrics().boundingRect(0, 0, 10_000, 10_000, flags, "X\nX").height() + m.top() + m.bottom()

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return max(super().heightForWidth(width), self._two_lines())

    def sizeHint(self) -> QSize:  # noqa: N802
        s = super().sizeHint()
        return QSize(s.width(), max(s.height(), self._two_lines()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        s = super().minimumSizeHint()
        return QSize(s.width(), max(s.height(), self._two_lines()))


class TracePlayer(QWidget):
    """Transport controls over ``length`` steps; emits ``stepChanged(i)``."""

    stepChanged = Signal(int)
    playingChanged = Signal(bool)

    def __init__(self, parent=None, steps_per_second: float = 4) -> None:
        super().__init__(parent)
        self._length = 0
        self._index = 0
        self.trace = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.loop = False

        def btn(text, tip, slot):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.first_btn = btn("⇤", "First step (Home)", self.first)
        self.back_btn = btn("◀", "Step back (←)", self.step_back)
        self.play_btn = btn("▶ Play", "Play / pause (Space)", self.toggle)
        self.fwd_btn = btn("▶", "Step forward (→)", self.step_forward)
        self.last_btn = btn("⇥", "Last step (End)", self.last)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimum(0)
        self.slider.valueChanged.connect(self.seek)
        self.counter = QLabel("0 / 0")
        self.speed = QComboBox()
        for s in _SPEEDS:
            self.speed.addItem(f"{s:g} steps/s", s)
        self.speed.setCurrentIndex(_SPEEDS.index(steps_per_second) if steps_per_second in _SPEEDS else 3)
        self.speed.currentIndexChanged.connect(self._apply_speed)
        self.caption = _Caption()

        # one row when it fits; in a narrow view the slider and the counter take a row of their own
        # above the buttons, so that the slider never shrinks to a dot or the counter loses digits
        self.buttons = (self.first_btn, self.back_btn, self.play_btn, self.fwd_btn, self.last_btn)
        self._track = QHBoxLayout()
        self._bar = QHBoxLayout()
        for lay in (self._track, self._bar):
            lay.setContentsMargins(0, 0, 0, 0)
        self._narrow: bool | None = None
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(self._track)
        col.addLayout(self._bar)
        col.addWidget(self.caption)
        self._apply_speed()
        self._sync()
        self._arrange()

    # -- model --------------------------------------------------------------------------------------
    def set_trace(self, trace, *, keep_index: bool = False) -> None:
        """Attach a Trace (anything with ``len``) and go to step 0 (or keep the index if it still fits)."""
        self.trace = trace
        self.set_length(len(trace) if trace is not None else 0, keep_index=keep_index)

    def set_length(self, n: int, *, keep_index: bool = False) -> None:
        self._length = max(0, int(n))
        idx = min(self._index, max(0, self._length - 1)) if keep_index else 0
        self._index = -1  # force a signal
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(0, self._length - 1))
        self.slider.blockSignals(False)
        if self._length == 0:
            self.pause()
        self.seek(idx)
        self._arrange()

    @property
    def index(self) -> int:
        return max(0, self._index)

    @property
    def length(self) -> int:
        return self._length

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def current_step(self):
        if self.trace is None or not self._length:
            return None
        return self.trace[self.index]

    # -- transport ----------------------------------------------------------------------------------
    def seek(self, i: int) -> None:
        if self._length == 0:
            self._index = 0
            self._sync()
            return
        i = max(0, min(int(i), self._length - 1))
        if i == self._index:
            return
        self._index = i
        self._sync()
        self.stepChanged.emit(i)

    def step_forward(self) -> None:
        self.seek(self.index + 1)

    def step_back(self) -> None:
        self.seek(self.index - 1)

    def first(self) -> None:
        self.seek(0)

    def last(self) -> None:
        self.seek(self._length - 1)

    def play(self) -> None:
        if self._length <= 1:
            return
        if self.index >= self._length - 1:
            self.seek(0)
        self._timer.start()
        self._sync()
        self.playingChanged.emit(True)

    def pause(self) -> None:
        was = self._timer.isActive()
        self._timer.stop()
        self._sync()
        if was:
            self.playingChanged.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def _tick(self) -> None:
        if self.index >= self._length - 1:
            if self.loop:
                self.seek(0)
            else:
                self.pause()
            return
        self.step_forward()

    # -- layout -------------------------------------------------------------------------------------
    def one_row_width(self) -> int:
        """The width the controls need on one row: every button, the speed, the longest counter text
        of this trace, and a slider of :data:`SLIDER_MIN_CHARS` characters."""
        fm = self.counter.fontMetrics()
        n = max(self._length, 1)
        counter = fm.horizontalAdvance(f"step {n} / {n}") + 2 * self.counter.margin() + 4
        gap = max(0, self._bar.spacing())
        fixed = sum(w.sizeHint().width() for w in (*self.buttons, self.speed))
        return fixed + counter + SLIDER_MIN_CHARS * fm.averageCharWidth() + 7 * gap  # 8 widgets, 7 gaps

    @property
    def two_rows(self) -> bool:
        """Whether the slider and the counter sit on a row of their own (the view is too narrow)."""
        return bool(self._narrow)

    def _arrange(self) -> None:
        narrow = self.width() < self.one_row_width()
        if narrow == self._narrow:
            return
        self._narrow = narrow
        for lay in (self._track, self._bar):
            while lay.count():
                lay.takeAt(0)  # the widgets stay; only their places are emptied
        for w in self.buttons:
            self._bar.addWidget(w)
        track = self._track if narrow else self._bar
        track.addWidget(self.slider, 1)
        track.addWidget(self.counter)
        if narrow:
            self._bar.addStretch(1)
        self._bar.addWidget(self.speed)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._arrange()

    def changeEvent(self, event) -> None:  # noqa: N802 - a new theme font changes what fits
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._narrow = None
            self._arrange()

    def _apply_speed(self) -> None:
        sps = float(self.speed.currentData() or 4)
        self._timer.setInterval(max(1, int(1000 / sps)))

    def _sync(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self.index)
        self.slider.blockSignals(False)
        self.counter.setText(f"step {self.index + 1 if self._length else 0} / {self._length}")
        # ⏸/⏮/⏭ are missing from common fonts (DejaVu): they render as empty boxes.
        self.play_btn.setText("❚❚ Pause" if self.playing else "▶ Play")
        for b in (self.first_btn, self.back_btn):
            b.setEnabled(self._length > 0 and self.index > 0)
        for b in (self.fwd_btn, self.last_btn):
            b.setEnabled(self._length > 0 and self.index < self._length - 1)
        self.play_btn.setEnabled(self._length > 1)
