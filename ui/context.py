"""AppContext: what every panel receives -- theme, workers, latency recorder, status and errors.

Panels never reach into the main window; they talk to the context. The same context exists
without a window (offscreen screenshots, tests), where status and errors go to a list.
"""

from __future__ import annotations

import functools
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from cvexplorer.timing import RECORDER, LatencyRecorder

from .errors import log_exception, user_message
from .themes import THEMES, Theme
from .workers import WorkerPool

__all__ = ["AppContext", "ensure_app"]


def ensure_app(argv: list[str] | None = None):
    """The QApplication, created on first use."""
    import sys

    from PySide6.QtWidgets import QApplication

    from cvexplorer import __version__

    from .qt_messages import install as quiet_qt_noise

    quiet_qt_noise()  # one known-harmless offscreen message, filtered here so every entry point is quiet
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
        app.setApplicationName("cvexplorer")
        app.setOrganizationName("cvexplorer")
        app.setApplicationVersion(__version__)
    return app


class AppContext(QObject):
    themeChanged = Signal(object)
    errorRaised = Signal(str)
    statusMessage = Signal(str, int)
    openPanelRequested = Signal(str)
    deviceChanged = Signal(str)

    def __init__(self, theme: Theme | None = None, recorder: LatencyRecorder = RECORDER, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme or THEMES["light"]
        self.recorder = recorder
        self.workers = WorkerPool(self, on_error=self._worker_error)
        self.errors: list[str] = []  # every message shown, newest last (tests read it)
        self.messages: list[str] = []

    # -- theme --------------------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.themeChanged.emit(theme)

    # -- status and errors --------------------------------------------------------------------------
    def status(self, message: str, timeout_ms: int = 6000) -> None:
        self.messages.append(message)
        self.statusMessage.emit(message, timeout_ms)

    def report_error(self, error: BaseException | str, where: str = "", tb: str | None = None) -> str:
        """Show one sentence to the user (non-modal) and log the details; returns the sentence."""
        if isinstance(error, BaseException):
            msg = user_message(error)
            if not isinstance(error, (ValueError, OSError)):
                log_exception(error, tb, where)
        else:
            msg = str(error)
        if where:
            msg = f"{where}: {msg}"
        self.errors.append(msg)
        self.errorRaised.emit(msg)
        return msg

    def _worker_error(self, exc: BaseException, tb: str) -> None:
        self.report_error(exc, tb=tb)

    def guard(self, fn: Callable[..., Any], where: str = "") -> Callable[..., Any]:
        """Wrap a slot so an exception becomes a message instead of a traceback."""

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the app keeps running after any error
                self.report_error(exc, where, traceback.format_exc())
                return None

        return wrapped

    # -- timings ------------------------------------------------------------------------------------
    def record(self, panel: str, timings: dict[str, float], device: str = "CPU",
               devices: dict[str, str] | None = None, note: str = "") -> None:
        for stage, ms in timings.items():
            self.recorder.record(panel, stage, ms, device=(devices or {}).get(stage, device), note=note)

    def open_panel(self, panel_id: str) -> None:
        self.openPanelRequested.emit(panel_id)
