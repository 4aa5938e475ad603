"""The panel's background jobs (each one engine call) and how the banner tells them: the stage, and Cancel.

Each job ("pair", "warp", "pano") has a stop flag that the engine reads between stages
(``should_stop``) and a reporter it calls as a stage starts (``progress``). The reporter runs on the
worker's thread, so it only emits a signal; the banner is updated on the GUI thread, and reports of a
stopped or finished run are ignored.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from cvexplorer import homography as hg
from cvexplorer import panorama as pano

__all__ = ["JobBanner", "pair_job", "warp_job", "stitch_job", "wide_job", "builtin_source", "PAIR_PIXELS"]

PAIR_PIXELS = 1_000_000  # features of a pair are detected on copies of at most this many pixels


def _trim_heap() -> None:
    """Give freed memory back to the OS after a heavy job (SIFT's scale space on a worker thread
    otherwise stays in that thread's malloc arena). Linux/glibc only; a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def pair_job(img1, img2, opts: dict, true_H, stop: threading.Event, report) -> hg.PairAnalysis:
    try:
        return hg.analyse_pair(img1, img2, **opts, confidence=0.99, seed=0, max_pixels=PAIR_PIXELS, true_H=true_H,
                               progress=report, should_stop=stop.is_set)
    finally:
        _trim_heap()


def warp_job(img1, img2, H, blend: str) -> hg.BlendResult:
    try:  # image 1 brought into image 2's frame: image 2 is the reference
        return hg.warp_and_blend([img2, img1], [np.eye(3), H], blend=blend)
    finally:
        _trim_heap()


def stitch_job(images, opts: dict, blend: str, stop: threading.Event, report) -> hg.StitchResult:
    try:
        return hg.stitch(images, **opts, blend=blend, fallback=False, progress=report, should_stop=stop.is_set)
    finally:
        _trim_heap()


def wide_job(images, surface: str, stop: threading.Event, report) -> pano.Panorama:
    try:
        return pano.stitch_panorama(images, surface=surface, progress=report, cancel=stop.is_set)
    finally:
        _trim_heap()


def builtin_source(source: str) -> tuple[list[np.ndarray], np.ndarray | None]:
    if source == "poster":
        a, b, H = hg.sample_pair("document", size=(800, 600), seed=4, strength=0.8)
        return [a, b], H
    if source == "still-life":
        a, b, H = hg.sample_pair("still-life", size=(800, 600), seed=3)
        return [a, b], H
    views, _ = hg.sample_panorama(n=3)
    return views, None


class JobBanner(QObject):
    """Start, report, finish and cancel the jobs of one panel, in its frame's banner."""

    progressed = Signal(str, object, str, float)  # job, run token, stage, fraction
    cancelled = Signal(str)                       # job

    def __init__(self, banner, workers, keys: dict[str, str], parent=None) -> None:
        super().__init__(parent)
        self.banner = banner
        self.workers = workers
        self.keys = dict(keys)
        self.stops = {job: threading.Event() for job in keys}
        self.running: dict[str, str] = {}  # job -> what the banner says while it runs
        self.progressed.connect(self._on_progress)

    def start(self, job: str, text: str, *, banner: bool = True) -> tuple[threading.Event, Callable[[str, float], None]]:
        """Stop the job's previous run at its next stage; a fresh stop flag and progress reporter."""
        self.stops[job].set()
        stop = threading.Event()
        self.stops[job] = stop
        self.running[job] = text
        if banner:
            self._show(job, text, None)

        def report(stage: str, fraction: float) -> None:
            try:
                self.progressed.emit(job, stop, stage, fraction)
            except RuntimeError:  # the panel was deleted while the job ran
                pass

        return stop, report

    def _show(self, job: str, text: str, fraction: float | None) -> None:
        self.banner.show_progress(text, cancel=lambda: self.cancel(job), fraction=fraction)

    def _on_progress(self, job: str, token, stage: str, fraction: float) -> None:
        if token is not self.stops[job] or job not in self.running:
            return  # a stopped or finished run
        self._show(job, f"{self.running[job]} {stage}…", fraction)

    def finish(self, job: str) -> None:
        """The job delivered (or failed): the banner shows what still runs, or clears."""
        self.running.pop(job, None)
        if self.running:
            other = next(iter(self.running))
            self._show(other, self.running[other], None)
        elif self.banner.kind == "progress":
            self.banner.clear("progress")

    def drop(self, job: str) -> None:
        """Forget a run whose result is no longer wanted (new input), without saying so."""
        self.stops[job].set()
        self.workers.cancel(self.keys[job])
        self.finish(job)

    def cancel(self, job: str) -> None:
        """The user's Cancel: stop the run between two stages and say so."""
        was_running = job in self.running
        self.drop(job)
        if was_running:
            self.banner.show_hint("Stopped. Change a setting or choose the images again to start over.")
            self.cancelled.emit(job)

    def shutdown(self) -> None:
        for job in self.keys:
            self.stops[job].set()
            self.workers.cancel(self.keys[job])
