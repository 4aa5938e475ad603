"""Capture: a PNG of the current panel (any size up to 4K) and recordings of step-throughs."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from cvexplorer.animation import FrameSpool, RecordingCancelled, encode_animation
from cvexplorer.imageio import resize, save_png

from .widgets.util import grab_array

__all__ = ["panel_array", "save_panel_png", "encode_animation", "TraceRecorder", "MAX_CAPTURE", "MAX_RECORD_STEPS"]

MAX_CAPTURE = (3840, 2160)


def _check_capture_size(w: int, h: int) -> None:
    if not (16 <= w <= MAX_CAPTURE[0] and 16 <= h <= MAX_CAPTURE[1]):
        raise ValueError(f"A capture must be between 16×16 and {MAX_CAPTURE[0]}×{MAX_CAPTURE[1]}, not {w}×{h}.")


def panel_array(panel, size: tuple[int, int] | None = None) -> np.ndarray:
    """Render ``panel`` to an RGB array, at ``size`` = (w, h) if given (rendered at that size, not scaled)."""
    if size is None:
        return grab_array(panel)
    w, h = size
    _check_capture_size(w, h)
    old = panel.size()
    parent = panel.parentWidget()
    if parent is None:
        panel.resize(w, h)
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.processEvents()
        arr = grab_array(panel)
        panel.resize(old)
        return arr
    # A panel inside the window: grab at its size and scale to the requested one.
    return resize(grab_array(panel), (w, h))


def save_panel_png(panel, path: str | Path, size: tuple[int, int] | None = None) -> Path:
    """Save the panel as PNG; an unwritable place raises ImageSaveError (the state is untouched)."""
    return save_png(path, panel_array(panel, size))


# -- recordings of step-throughs -------------------------------------------------------------------
# Frames go to a cvexplorer.animation.FrameSpool (a temporary folder) as they are grabbed, and
# encode_animation streams them into the GIF or MP4 in a worker: memory stays at about one frame.

#: The longest recording, in steps (at 2 steps per second, a quarter of an hour).
MAX_RECORD_STEPS = 2_000


def _record_steps(player, steps: range | None) -> range:
    n = player.length
    steps = range(n) if steps is None else steps
    if steps.step != 1 or not (0 <= steps.start and steps.stop <= n):
        raise ValueError(f"This step-through has steps 1 to {n:,}; steps {steps.start + 1:,} to {steps.stop:,} "
                         f"are not all in it.")
    if steps.start >= steps.stop:
        raise ValueError(f"The first step to record ({steps.start + 1:,}) comes after the last ({steps.stop:,}).")
    if len(steps) > MAX_RECORD_STEPS:
        raise ValueError(f"A recording holds at most {MAX_RECORD_STEPS:,} steps and this one would have "
                         f"{len(steps):,}: choose a shorter range of steps, or make the step-through shorter.")
    return steps


def _encode_and_clean_up(spool: FrameSpool, path: Path, fps: float, cancelled) -> Path:
    try:
        return encode_animation(spool.frames(cancelled), path, fps)
    finally:
        spool.cleanup()


class TraceRecorder:
    """Grabs one frame per step of a panel's TracePlayer, driven by a QTimer (the GUI stays live),
    then encodes in a worker. ``progress(done, total)``, ``finished(path)``, ``failed(message)``.

    ``steps`` is the range of step indices to record (all by default, at most ``MAX_RECORD_STEPS``).
    Each frame is written to ``spool`` (a temporary folder) as soon as it is grabbed; the folder is
    deleted when the recording is saved, fails or is cancelled."""

    def __init__(self, panel, ctx, path: str | Path, fps: float = 2.0, size: tuple[int, int] | None = None,
                 progress=None, finished=None, failed=None, steps: range | None = None) -> None:
        from PySide6.QtCore import QTimer

        self.panel, self.ctx, self.path, self.fps, self.size = panel, ctx, Path(path), fps, size
        self.progress, self.finished, self.failed = progress, finished, failed
        self.player = panel.player() if panel is not None else None
        if self.player is None or self.player.length == 0:
            raise ValueError("This panel has no step-through to record.")
        if size is not None:
            _check_capture_size(*size)
        self.steps = _record_steps(self.player, steps)
        self.total = len(self.steps)
        self.spool: FrameSpool | None = None
        self.cancelled = False
        self.done = False
        self._stop = threading.Event()  # tells the encoding worker to stop
        self._encoding = False
        self._start_index = self.player.index
        self.player.pause()
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.spool = FrameSpool()
        self.player.seek(self.steps[0])
        self._timer.start()

    def cancel(self) -> None:
        """Stop grabbing (or encoding); nothing is saved and the temporary frames are deleted."""
        self.cancelled = True
        self._stop.set()
        self._timer.stop()
        self.player.seek(self._start_index)
        if self.spool is not None and not self._encoding:
            self.spool.cleanup()  # while encoding, the worker deletes them when it stops

    def _tick(self) -> None:
        if self.cancelled or self.done:
            return
        try:
            self.player.seek(self.steps[len(self.spool)])
            self.spool.append(panel_array(self.panel, self.size))
        except Exception as exc:  # noqa: BLE001 - a failed grab or a full disk ends the recording
            self._timer.stop()
            self.player.seek(self._start_index)
            self.spool.cleanup()
            self._fail(exc)
            return
        if self.progress:
            self.progress(len(self.spool), self.total)
        if len(self.spool) >= self.total and not self.cancelled:
            self._timer.stop()
            self.player.seek(self._start_index)
            self._encoding = True
            self.ctx.workers.submit("record", _encode_and_clean_up, self.spool, self.path, self.fps, self._stop.is_set,
                                    on_done=self._done, on_error=self._fail)

    def _done(self, path) -> None:
        self.done = True
        if self.finished and not self.cancelled:
            self.finished(path)

    def _fail(self, exc) -> None:
        self.done = True
        if self.cancelled or isinstance(exc, RecordingCancelled):
            return
        self.ctx.report_error(exc, "Record")
        if self.failed:
            self.failed(str(exc))


def _record_dialog_class():
    from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                                   QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox)

    class RecordDialog(QDialog):
        """Choose format, frame rate, size and the range of steps; progress bar with cancel."""

        def __init__(self, panel, ctx, parent=None) -> None:
            super().__init__(parent)
            self.setWindowTitle("Record step-through")
            self.panel, self.ctx, self.recorder = panel, ctx, None
            self.path = QLineEdit(str(Path.home() / f"{getattr(panel, 'panel_id', 'panel')}.gif"))
            browse = QPushButton("…")
            browse.clicked.connect(self._browse)
            self.fps = QDoubleSpinBox()
            self.fps.setRange(0.5, 60)
            self.fps.setValue(2)
            self.size = QComboBox()
            for s in ("as shown", "1280x720", "1920x1080", "3840x2160"):
                self.size.addItem(s)
            player = panel.player() if panel is not None else None
            n = max(1, player.length if player is not None else 0)
            self.first, self.last = QSpinBox(), QSpinBox()
            for box, value in ((self.first, 1), (self.last, n)):
                box.setRange(1, n)
                box.setValue(value)
            self.message = QLabel(f"At most {MAX_RECORD_STEPS:,} steps per recording.")
            self.message.setWordWrap(True)
            self.bar = QProgressBar()
            self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
            self.buttons.accepted.connect(self._start)
            self.buttons.rejected.connect(self._cancel)
            form = QFormLayout(self)
            form.addRow("File (.gif or .mp4)", self.path)
            form.addRow("", browse)
            form.addRow("Frames per second", self.fps)
            form.addRow("Size", self.size)
            form.addRow("From step", self.first)
            form.addRow("To step", self.last)
            form.addRow(self.message)
            form.addRow(self.bar)
            form.addRow(self.buttons)

        def _browse(self) -> None:
            p, _ = QFileDialog.getSaveFileName(self, "Record to", self.path.text(), "GIF (*.gif);;MP4 (*.mp4)")
            if p:
                self.path.setText(p)

        def _start(self) -> None:
            size = None if self.size.currentIndex() == 0 else tuple(int(v) for v in self.size.currentText().split("x"))
            try:
                self.recorder = TraceRecorder(self.panel, self.ctx, self.path.text(), self.fps.value(), size,
                                              progress=lambda d, t: (self.bar.setMaximum(t), self.bar.setValue(d)),
                                              finished=self._finished, failed=lambda m: self.reject(),
                                              steps=range(self.first.value() - 1, self.last.value()))
            except ValueError as exc:
                self.message.setText(str(exc))  # the dialog stays open: choose a shorter range
                return
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            self.recorder.start()

        def _finished(self, path) -> None:
            self.ctx.status(f"Recorded {self.recorder.total} steps to {path}.")
            self.accept()

        def _cancel(self) -> None:
            if self.recorder is not None and not self.recorder.done:
                self.recorder.cancel()
                self.ctx.status("Recording cancelled.")
            self.reject()

    return RecordDialog


def __getattr__(name):  # RecordDialog is built on first use, keeping this module light to import
    if name == "RecordDialog":
        return _record_dialog_class()
    raise AttributeError(name)
