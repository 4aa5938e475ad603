"""The only door to background threads.

``WorkerPool.submit(key, fn, ...)`` runs ``fn`` on a thread of a private QThreadPool and hands the
result back on the GUI thread through a signal. Each submit under a key bumps that key's
generation; a result whose generation is no longer the latest is dropped, so a slider dragged
quickly only ever shows the last computation ("latest result wins"). :class:`Debouncer` coalesces
bursts of requests (slider moves) into one call after a quiet period.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QRunnable, QThreadPool, QTimer, Signal

__all__ = ["WorkerPool", "Debouncer", "CancelToken", "progress_channel"]


class CancelToken:
    """A Cancel button's promise to a worker: the job polls ``token()`` between chunks and stops."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


class _ProgressRelay(QObject):
    report = Signal(object)


def progress_channel(callback: Callable[..., None], parent: QObject) -> Callable[..., None]:
    """A function any thread may call; ``callback(*args)`` then runs on the GUI thread (queued)."""
    relay = _ProgressRelay(parent)
    relay.report.connect(lambda args: callback(*args))
    return lambda *args: relay.report.emit(args)


class _Relay(QObject):
    done = Signal(str, int, object, object, float)  # key, generation, result, error, elapsed ms


class _Job(QRunnable):
    def __init__(self, pool: "WorkerPool", key: str, gen: int, fn: Callable, args, kwargs) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.pool, self.key, self.gen, self.fn, self.args, self.kwargs = pool, key, gen, fn, args, kwargs

    def run(self) -> None:  # runs on a worker thread
        t0 = time.perf_counter()
        result, error = None, None
        if not self.pool.is_stale(self.key, self.gen):
            try:
                result = self.fn(*self.args, **self.kwargs)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI thread
                exc.__cvx_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
                error = exc
        elapsed = (time.perf_counter() - t0) * 1000.0
        try:
            self.pool._relay.done.emit(self.key, self.gen, result, error, elapsed)
        except RuntimeError:  # the relay was deleted during shutdown
            pass


class WorkerPool(QObject):
    """Background jobs with per-key generations; results and errors arrive on the GUI thread."""

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int | None = None,
                 on_error: Callable[[BaseException, str], None] | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool()
        if max_threads:
            self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay()
        self._relay.done.connect(self._deliver)
        self._lock = threading.Lock()
        self._gen: dict[str, int] = {}
        self._callbacks: dict[tuple[str, int], tuple[Callable | None, Callable | None]] = {}
        self._pending = 0
        self._closing = False
        self.on_error = on_error

    # -- submitting -----------------------------------------------------------------------------
    def submit(self, key: str, fn: Callable, *args: Any, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, **kwargs: Any) -> int:
        """Run ``fn(*args, **kwargs)`` in the background; returns the job's generation id."""
        if self._closing:
            return -1
        with self._lock:
            gen = self._gen.get(key, 0) + 1
            self._gen[key] = gen
            self._callbacks[(key, gen)] = (on_done, on_error)
            self._pending += 1
            first = self._pending == 1
        if first:
            self.busyChanged.emit(True)
        self._pool.start(_Job(self, key, gen, fn, args, kwargs))
        return gen

    def is_stale(self, key: str, gen: int) -> bool:
        with self._lock:
            return self._closing or self._gen.get(key, 0) != gen

    def cancel(self, key: str) -> None:
        """Drop whatever is running or queued under ``key`` (its result will be ignored)."""
        with self._lock:
            self._gen[key] = self._gen.get(key, 0) + 1

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def is_busy(self, key: str | None = None) -> bool:
        with self._lock:
            if key is None:
                return self._pending > 0
            return any(k == key for (k, _g) in self._callbacks)

    # -- results ----------------------------------------------------------------------------------
    def _deliver(self, key: str, gen: int, result: Any, error: Any, elapsed: float) -> None:
        with self._lock:
            on_done, on_error = self._callbacks.pop((key, gen), (None, None))
            self._pending -= 1
            idle = self._pending == 0
            stale = self._closing or self._gen.get(key, 0) != gen
        try:
            if stale:
                return
            if error is not None:
                if on_error is not None:
                    on_error(error)
                elif self.on_error is not None:
                    self.on_error(error, getattr(error, "__cvx_traceback__", ""))
            elif on_done is not None:
                on_done(result)
        except Exception as exc:  # an error inside a result handler must not kill the app
            if self.on_error is not None:
                self.on_error(exc, traceback.format_exc())
            else:
                raise
        finally:
            if idle:
                self.busyChanged.emit(False)

    # -- for tests, screenshots and shutdown ------------------------------------------------------
    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Process events until no job is pending (tests and offscreen screenshots only)."""
        deadline = time.monotonic() + timeout_s
        app = QCoreApplication.instance()
        while self.pending and time.monotonic() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            self._pool.waitForDone(5)
        app.processEvents()
        return self.pending == 0

    def shutdown(self, timeout_ms: int = 800) -> bool:
        """Stop delivering results and wait briefly for running jobs; True when all finished."""
        with self._lock:
            self._closing = True
        self._pool.clear()  # queued jobs never start
        return self._pool.waitForDone(timeout_ms)


class Debouncer(QObject):
    """Call ``fn`` once, ``delay_ms`` after the last :meth:`trigger` (slider bursts -> one job)."""

    def __init__(self, fn: Callable[[], None], delay_ms: int = 120, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._fn)

    def trigger(self) -> None:
        self._timer.start()

    def flush(self) -> None:
        """Run now if a call is waiting (used by tests and screenshots)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fn()
