"""The NMS panel's own boxes: drawn with the mouse (with an editable score each) or loaded from a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog

from cvexplorer import boxes as B
from cvexplorer.text import parse_number

from .controls import DRAWN

__all__ = ["BoxInputs", "LOAD_JOB", "read_detections"]


class BoxInputs:
    """Mixed into the NMS panel: needs ``drawn``, ``canvas``, ``controls``, ``table`` and ``set_detections``."""

    def _on_draw_toggled(self, on: bool) -> None:
        self.canvas.drag_mode = bool(on)
        if on:
            self.ctx.status("Drag on the image to draw a box; change its score in the table.")

    def add_box(self, x0: float, y0: float, x1: float, y1: float, score: float | None = None) -> None:
        """Add a user box (image pixels) and make the drawn boxes the input."""
        x0, x1 = sorted((float(x0), float(x1)))
        y0, y1 = sorted((float(y0), float(y1)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        if self.source_kind != DRAWN:
            self.drawn = []
            self.controls.select_source(DRAWN)
        self.drawn.append((x0, y0, x1, y1, self.draw_score.value() if score is None else float(score)))
        self._use_drawn()

    def set_box_score(self, index: int, text: str) -> None:
        """Give drawn box ``index`` a new score (the table's score cell); the trace re-runs."""
        if self.shown_input is None or self.shown_input.kind != DRAWN or not 0 <= index < len(self.drawn):
            return
        try:
            s = parse_number(text, "A score")
            if not 0.0 <= s <= 1.0:
                raise ValueError(f"A score is between 0 and 1; {text.strip()} is not.")
        except ValueError:
            self.table.reset()  # put the old score back in the cell
            self._render_step(self.player_.index)
            raise
        x0, y0, x1, y1, _ = self.drawn[index]
        self.drawn[index] = (x0, y0, x1, y1, s)
        self._use_drawn(keep_index=True)

    def _on_drag(self, x0, y0, x1, y1, finished) -> None:
        if finished:
            self.canvas.clear_layer("rubber")
            self.add_box(x0, y0, x1, y1)
        else:
            self.canvas.set_rects("rubber", [[min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]],
                                  color="accent", dash=True, z=40)

    def _clear_drawn(self) -> None:
        self.drawn = []
        self.controls.select_source(DRAWN)
        self._use_drawn()

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load detections", "",
                                              "Detections (*.json *.txt);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path) -> None:
        """Load COCO results JSON or YOLO text lines over the current image.

        Read in a worker (a 16 MB COCO file takes half a second), with progress and Cancel in the
        banner; the input on screen stays until the file is read. Choosing another input meanwhile
        drops the file (``_set_input`` cancels :data:`LOAD_JOB`)."""
        h, w = self.image.shape[:2]
        self.frame.banner.show_progress(f"Reading detections from {Path(path).name}…", cancel=self._cancel_load)
        self.ctx.workers.submit(LOAD_JOB, read_detections, path, (w, h),
                                on_done=self.ctx.guard(self._loaded, "loading detections"),
                                on_error=self._load_failed)

    def _cancel_load(self) -> None:
        self.ctx.workers.cancel(LOAD_JOB)
        self.frame.banner.clear("progress")

    def _load_failed(self, exc: BaseException) -> None:
        self.frame.banner.clear("progress")
        self.ctx.report_error(exc, "loading detections")

    def _loaded(self, loaded: tuple) -> None:
        d, keep, msg = loaded
        self.frame.banner.clear("progress")
        if d.problems:
            self.ctx.report_error(msg, "loading detections")
        else:
            self.ctx.status(msg)
        self.set_detections(d.boxes[keep], d.scores[keep], d.classes[keep], note=msg)


#: The worker key of a detection file being read.
LOAD_JOB = "nms-load"


def read_detections(path, image_size: tuple[int, int]):
    """The worker's part of :meth:`BoxInputs.load_file`: the file's detections, which of them to show
    (a file covering several images shows its first ``image_id``), and the sentence that says so."""
    d = B.load_detections(path, image_size=image_size)
    keep = np.ones(len(d), bool)
    msg = f"Loaded {len(d)} detections from {d.source}"
    if d.image_ids is not None:
        ids = np.asarray([str(i) for i in d.image_ids])
        distinct = len(np.unique(ids))
        if distinct > 1:
            keep = ids == ids[0]
            msg += f"; the file covers {distinct} images, showing image_id {d.image_ids[0]} ({keep.sum()})"
    if d.problems:
        msg += f"; skipped {len(d.problems)}: " + "; ".join(d.problems[:3]) + (" …" if len(d.problems) > 3 else "")
    return d, keep, msg
