"""After the window is on screen: import what the panels need, mostly in a background thread."""

from __future__ import annotations

__all__ = ["WARM_UP_MODULES", "GUI_THREAD_MODULES", "warm_up_imports", "after_first_paint"]

#: What panels import on first open, loaded off the GUI thread (pure Python or C libraries, no Qt).
WARM_UP_MODULES = ("numpy", "cv2", "cvexplorer.imageio", "cvexplorer.samples.scenes", "cvexplorer.boxes",
                   "cvexplorer.conv", "cvexplorer.stereo", "cvexplorer.runtime")
#: Qt-based modules: imported on the GUI thread once the others are in (an idle ~0.1 s, not at a click).
GUI_THREAD_MODULES = ("cvexplorer.ui.widgets.pg", "cvexplorer.ui.widgets.canvas")

_keep = []  # the relay lives as long as the thread may call it


def warm_up_imports(on_done=None) -> None:
    """Import NumPy, OpenCV and the engine in a background thread after the window is on screen.

    The window paints without them (start-up is faster); this way the first panel a user opens
    does not wait for them on the GUI thread either (~0.3 s). pyqtgraph defines Qt classes, so it
    follows on the GUI thread when the thread is done. Best effort (see :func:`_import_all`).
    ``on_done()`` runs on the GUI thread.
    """
    import threading

    from PySide6.QtCore import QObject, Qt, Signal

    class Relay(QObject):
        finished = Signal()

    relay = Relay()
    _keep.append(relay)

    def on_gui_thread() -> None:
        _import_all(GUI_THREAD_MODULES)
        _keep.remove(relay)
        if on_done is not None:
            on_done()

    relay.finished.connect(on_gui_thread, Qt.ConnectionType.QueuedConnection)

    def work() -> None:
        _import_all(WARM_UP_MODULES)
        relay.finished.emit()

    threading.Thread(target=work, name="cvexplorer-warm-up", daemon=True).start()


def after_first_paint(window, fn, fallback_ms: int = 3000) -> None:
    """Call ``fn()`` once on the GUI thread, after ``window`` has painted its first frame.

    A zero-time timer set before the event loop runs fires *before* that paint, and a warm-up
    thread started then competes with the paint for the interpreter (30 ms later on screen,
    ``benchmarks/startup.py``); this waits for the window's first Paint event, then queues ``fn``.
    A window that does not paint (started minimised) gets ``fn`` after ``fallback_ms`` anyway.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer

    done = []

    def fire() -> None:  # once: after the first paint or at the fallback, whichever comes first
        if not done:
            done.append(True)
            fn()

    class FirstPaint(QObject):
        def eventFilter(self, obj, ev) -> bool:  # noqa: N802
            if ev.type() == QEvent.Type.Paint:
                obj.removeEventFilter(self)
                QTimer.singleShot(0, fire)  # after this paint pass
            return False

    watcher = FirstPaint(window)  # the window owns it: no Python reference to keep
    window.installEventFilter(watcher)
    QTimer.singleShot(fallback_ms, fire)


def _import_all(names) -> None:
    """Import ``names`` in order; stop at the first that fails (it fails again, with its sentence,
    where a panel needs it)."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported where it is really needed
            return
