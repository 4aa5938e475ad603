"""Capture: a PNG of the current panel (any size up to 4K) and recordings of step-throughs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvexplorer.imageio import encode_animation, resize, save_png

from .widgets.util import grab_array

__all__ = ["panel_array", "save_panel_png", "encode_animation", "MAX_CAPTURE"]

MAX_CAPTURE = (3840, 2160)


def panel_array(panel, size: tuple[int, int] | None = None) -> np.ndarray:
    """Render ``panel`` to an RGB array, at ``size`` = (w, h) if given (rendered at that size, not scaled)."""
    if size is None:
        return grab_array(panel)
    w, h = size
    if not (16 <= w <= MAX_CAPTURE[0] and 16 <= h <= MAX_CAPTURE[1]):
        raise ValueError(f"A capture must be between 16×16 and {MAX_CAPTURE[0]}×{MAX_CAPTURE[1]}, not {w}×{h}.")
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
# Encoding (GIF through Pillow, MP4 through OpenCV's writer) is cvexplorer.imageio.encode_animation.

class TraceRecorder:
    """Grabs one frame per step of a panel's TracePlayer, driven by a QTimer (the GUI stays live),
    then encodes in a worker. ``progress(done, total)``, ``finished(path)``, ``failed(message)``."""

    def __init__(self, panel, ctx, path: str | Path, fps: float = 2.0, size: tuple[int, int] | None = None,
                 progress=None, finished=None, failed=None) -> None:
        from PySide6.QtCore import QTimer

        self.panel, self.ctx, self.path, self.fps, self.size = panel, ctx, Path(path), fps, size
        self.progress, self.finished, self.failed = progress, finished, failed
        self.player = panel.player() if panel is not None else None
        if self.player is None or self.player.length == 0:
            raise ValueError("This panel has no step-through to record.")
        self.total = self.player.length
        self.frames: list[np.ndarray] = []
        self.cancelled = False
        self.done = False
        self._start_index = self.player.index
        self.player.pause()
        self._timer = QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.player.seek(0)
        self._timer.start()

    def cancel(self) -> None:
        self.cancelled = True
        self._timer.stop()
        self.player.seek(self._start_index)

    def _tick(self) -> None:
        if self.cancelled:
            return
        i = len(self.frames)
        self.player.seek(i)
        self.frames.append(panel_array(self.panel, self.size))
        if self.progress:
            self.progress(len(self.frames), self.total)
        if len(self.frames) >= self.total:
            self._timer.stop()
            self.player.seek(self._start_index)
            self.ctx.workers.submit("record", encode_animation, self.frames, self.path, self.fps,
                                    on_done=self._done, on_error=self._fail)

    def _done(self, path) -> None:
        self.done = True
        if self.finished:
            self.finished(path)

    def _fail(self, exc) -> None:
        self.done = True
        self.ctx.report_error(exc, "Record")
        if self.failed:
            self.failed(str(exc))


def _record_dialog_class():
    from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                                   QLineEdit, QProgressBar, QPushButton)

    class RecordDialog(QDialog):
        """Choose format, frame rate and size; progress bar with cancel."""

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
            self.bar = QProgressBar()
            self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
            self.buttons.accepted.connect(self._start)
            self.buttons.rejected.connect(self._cancel)
            form = QFormLayout(self)
            form.addRow("File (.gif or .mp4)", self.path)
            form.addRow("", browse)
            form.addRow("Frames per second", self.fps)
            form.addRow("Size", self.size)
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
                                              finished=self._finished, failed=lambda m: self.reject())
            except ValueError as exc:
                self.ctx.report_error(exc, "Record")
                self.reject()
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
