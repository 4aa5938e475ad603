"""Latency recording: stage timings plus the device that really ran each stage.

Engine functions measure their own stages with :func:`stopwatch` / :class:`Stages` and return the
figures with their results; the UI feeds them to a :class:`LatencyRecorder`, which the latency
dock reads. Everything here is thread-safe (workers record while the GUI thread reads).
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator


__all__ = ["Sample", "StageStats", "LatencyRecorder", "Stages", "stopwatch", "RECORDER"]


@dataclass(frozen=True)
class Sample:
    """One timed run of one stage."""

    panel: str
    stage: str
    ms: float
    device: str
    cold: bool
    t: float  # time.monotonic() when recorded


@dataclass(frozen=True)
class StageStats:
    """Summary of one stage: last, p50 and p95 of warm runs, the cold (first) run apart."""

    panel: str
    stage: str
    device: str
    count: int
    last_ms: float
    p50_ms: float
    p95_ms: float
    cold_ms: float | None
    history: tuple[float, ...]
    note: str = ""
    version: int = 0  # samples ever recorded for this stage: unchanged version, unchanged stats


class LatencyRecorder:
    """Bounded ring buffers of stage timings keyed by (panel, stage).

    >>> r = LatencyRecorder(window=4)
    >>> for ms in (10.0, 2.0, 3.0, 4.0):
    ...     r.record("demo", "decode", ms, device="CPU")
    >>> s = r.stats("demo")[0]
    >>> s.cold_ms, s.last_ms, s.p50_ms, s.count
    (10.0, 4.0, 3.0, 4)
    """

    def __init__(self, window: int = 200) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._buffers: dict[tuple[str, str], deque[Sample]] = {}
        self._cold: dict[tuple[str, str], float] = {}
        self._notes: dict[tuple[str, str], str] = {}
        self._order: list[tuple[str, str]] = []
        self._key_version: dict[tuple[str, str], int] = {}
        self._cache: dict[tuple[str, str], StageStats] = {}
        self.version = 0  # bumps on every change, so a view redraws only when needed

    def record(self, panel: str, stage: str, ms: float, *, device: str = "CPU",
               cold: bool | None = None, note: str = "") -> None:
        """Add one timing. The first sample of a stage counts as cold unless ``cold`` says otherwise."""
        key = (panel, stage)
        with self._lock:
            buf = self._buffers.get(key)
            if buf is None:
                buf = self._buffers[key] = deque(maxlen=self.window)
                self._order.append(key)
            if cold is None:
                cold = key not in self._cold
            if cold:
                self._cold[key] = float(ms)
            if note:
                self._notes[key] = note
            buf.append(Sample(panel, stage, float(ms), device, bool(cold), time.monotonic()))
            self._key_version[key] = self._key_version.get(key, 0) + 1
            self.version += 1

    def record_all(self, panel: str, timings: dict[str, float], *, device: str = "CPU",
                   devices: dict[str, str] | None = None) -> None:
        """Record a ``{stage: ms}`` dict as returned by engine functions."""
        for stage, ms in timings.items():
            self.record(panel, stage, ms, device=(devices or {}).get(stage, device))

    def stats(self, panel: str | None = None) -> list[StageStats]:
        """Per-stage summaries, in the order stages first appeared; warm runs only in p50/p95."""
        out = []
        with self._lock:
            for key in self._order:
                if panel is not None and key[0] != panel:
                    continue
                kv = self._key_version.get(key, 0)
                cached = self._cache.get(key)
                if cached is not None and cached.version == kv:
                    out.append(cached)  # nothing new for this stage: skip the percentiles
                    continue
                samples = list(self._buffers[key])
                if not samples:
                    continue
                warm = [s.ms for s in samples if not s.cold] or [s.ms for s in samples]
                import numpy as np  # here, not at import: the window paints before NumPy loads

                p50, p95 = (float(v) for v in np.percentile(np.asarray(warm, float), (50, 95)))
                st = StageStats(
                    panel=key[0], stage=key[1], device=samples[-1].device, count=len(samples),
                    last_ms=samples[-1].ms, p50_ms=p50, p95_ms=p95,
                    cold_ms=self._cold.get(key), history=tuple(s.ms for s in samples),
                    note=self._notes.get(key, ""), version=kv,
                )
                self._cache[key] = st
                out.append(st)
        return out

    def panels(self) -> list[str]:
        with self._lock:
            return list(dict.fromkeys(k[0] for k in self._order))

    def clear(self, panel: str | None = None) -> None:
        with self._lock:
            for key in [k for k in self._order if panel is None or k[0] == panel]:
                self._order.remove(key)
                self._buffers.pop(key, None)
                self._cold.pop(key, None)
                self._notes.pop(key, None)
                self._cache.pop(key, None)
                self._key_version.pop(key, None)
            self.version += 1

    def to_csv(self) -> str:
        """Every sample as CSV: panel, stage, ms, device, cold."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["panel", "stage", "ms", "device", "cold"])
        with self._lock:
            for key in self._order:
                for s in self._buffers[key]:
                    w.writerow([s.panel, s.stage, f"{s.ms:.4f}", s.device, int(s.cold)])
        return buf.getvalue()


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Time a block; the elapsed milliseconds land in the yielded list's first item.

    >>> with stopwatch() as t:
    ...     _ = sum(range(1000))
    >>> t[0] >= 0.0
    True
    """
    box = [0.0]
    t0 = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = (time.perf_counter() - t0) * 1000.0


class Stages:
    """Collects named stage timings for one engine call: ``with st("match"): ...``.

    >>> st = Stages()
    >>> with st("a"):
    ...     pass
    >>> list(st.ms)
    ['a']
    """

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000.0

    @property
    def total(self) -> float:
        return sum(self.ms.values())


#: The process-wide recorder the UI's latency dock reads.
RECORDER = LatencyRecorder()


def opencv_device() -> str:
    """Describe where OpenCV runs: CPU with its thread count, and whether OpenCL is on."""
    import cv2

    ocl = ""
    try:
        if cv2.ocl.haveOpenCL() and cv2.ocl.useOpenCL():
            ocl = ", OpenCL on"
    except Exception:  # pragma: no cover - depends on the OpenCV build
        pass
    return f"CPU ({cv2.getNumThreads()} threads{ocl})"
