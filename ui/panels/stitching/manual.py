"""Manual mode: click the four corners of a flat thing; the DLT (:func:`cvexplorer.homography.rectify`)
turns them into a fronto-parallel view beside the photo."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter

from cvexplorer import homography as hg

from ...widgets.canvas import ImageCanvas

__all__ = ["ManualView", "ManualMode", "CORNER_NAMES"]

CORNER_NAMES = ("1 top-left", "2 top-right", "3 bottom-right", "4 bottom-left")


class ManualView(QSplitter):
    """The clicked photo (``canvas``) and its rectified view (``rectified``); ``points``, ``H`` and
    ``error`` describe the current clicks. ``changed`` fires after every update."""

    changed = Signal()

    def __init__(self, theme, guard) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.canvas = ImageCanvas(theme=theme)
        self.rectified = ImageCanvas(theme=theme)
        self.addWidget(self.canvas)
        self.addWidget(self.rectified)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.image: np.ndarray | None = None
        self.target_size: tuple[int, int] | None = None
        self.points: list[tuple[float, float]] = []
        self.H: np.ndarray | None = None
        self.error = ""
        self.canvas.clicked.connect(guard(self._on_click, "stitching: manual click"))

    def set_image(self, image: np.ndarray, corners: np.ndarray | None = None) -> None:
        """A new photo to click on, optionally with ready-made corners (the built-in poster's)."""
        self.image = image
        self.canvas.set_image(image)
        self.points = [] if corners is None else [tuple(p) for p in np.asarray(corners, float).tolist()]
        self.update_view()

    def set_points(self, points) -> None:
        self.points = [tuple(float(v) for v in p) for p in points]
        self.update_view()

    def clear(self) -> None:
        self.points = []
        self.update_view()

    def add(self, x: float, y: float) -> None:
        """One more corner; a fifth click starts a new quadrilateral."""
        if len(self.points) >= 4:
            self.points = []
        self.points.append((float(x), float(y)))
        self.update_view()

    def _on_click(self, x: float, y: float, button: int = 1, modifiers: int = 0) -> None:
        if button == int(Qt.MouseButton.LeftButton.value):
            self.add(x, y)

    def update_view(self) -> None:
        c = self.canvas
        pts = np.array(self.points, float).reshape(-1, 2)
        c.set_points("clicks", pts, color="current", size=14)
        c.set_texts("click-labels", [(x + 10, y + 10, CORNER_NAMES[k]) for k, (x, y) in enumerate(pts)])
        if len(pts) >= 2:
            c.set_polygons("quad", [pts], color="current", closed=len(pts) == 4)
        else:
            c.clear_layer("quad")
        self.H = None
        self.error = ""
        if len(pts) == 4 and self.image is not None:
            try:
                view, H = hg.rectify(self.image, pts, size=self.target_size)
                self.rectified.set_image(view, autorange=True)
                self.rectified.set_texts("labels", [(4, 4, f"rectified {view.shape[1]}×{view.shape[0]}")])
                self.H = H
            except ValueError as exc:  # DegenerateSampleError is a ValueError: explained in the card
                self.error = str(exc)
                self.rectified.clear_overlays()
        self.changed.emit()


class ManualMode:
    """Mixed into the stitching panel: the Manual tab's corners, driven through ``self.manual`` (a ManualView)."""

    @property
    def manual_points(self) -> list[tuple[float, float]]:
        return list(self.manual.points)

    @property
    def manual_H(self) -> np.ndarray | None:
        return self.manual.H

    @property
    def manual_error(self) -> str:
        return self.manual.error

    def _init_manual(self) -> None:
        img = self.manual_image if self.manual_image is not None else self.images[0]
        corners = hg.document_corners((img.shape[1], img.shape[0])) if self.source_name.startswith("built-in") else None
        self.manual.set_image(img, corners)

    def clear_manual_points(self) -> None:
        """Forget the clicked corners (the next click is corner 1)."""
        self.manual.clear()

    def add_manual_point(self, x: float, y: float) -> None:
        """Add a clicked corner (a fifth click starts a new quadrilateral)."""
        self.manual.add(x, y)

    def _on_target_size(self, *_) -> None:
        self.manual.target_size = self.controls.target_size()
        self.manual.update_view()

    def _on_manual_changed(self) -> None:
        if self.current_tab() == "Manual":
            self.texts.render()
