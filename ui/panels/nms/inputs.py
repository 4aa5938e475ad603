"""The NMS panel's own boxes: drawn with the mouse (with an editable score each) or loaded from a file."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog

from cvexplorer import boxes as B
from cvexplorer.text import parse_number

from .controls import DRAWN

__all__ = ["BoxInputs"]


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
        """Load COCO results JSON or YOLO text lines over the current image."""
        h, w = self.image.shape[:2]
        try:
            d = B.load_detections(path, image_size=(w, h))
        except (ValueError, OSError) as exc:
            self.ctx.report_error(exc, "loading detections")
            return
        keep = np.ones(len(d), bool)
        msg = f"Loaded {len(d)} detections from {d.source}"
        if d.image_ids is not None and len(set(map(str, d.image_ids))) > 1:
            first = d.image_ids[0]
            keep = np.array([str(i) == str(first) for i in d.image_ids])
            msg += f"; the file covers {len(set(map(str, d.image_ids)))} images, showing image_id {first} ({keep.sum()})"
        if d.problems:
            msg += f"; skipped {len(d.problems)}: " + "; ".join(d.problems[:3]) + (" …" if len(d.problems) > 3 else "")
            self.ctx.report_error(msg, "loading detections")
        else:
            self.ctx.status(msg)
        self.set_detections(d.boxes[keep], d.scores[keep], d.classes[keep], note=msg)
