"""Capture: a PNG of the current panel (any size up to 4K) and recordings of step-throughs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cvexplorer.imageio import save_png

from .widgets.util import grab_array

__all__ = ["panel_array", "save_panel_png", "MAX_CAPTURE"]

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
    import cv2

    arr = grab_array(panel)
    return cv2.resize(arr, (w, h), interpolation=cv2.INTER_AREA if w < arr.shape[1] else cv2.INTER_CUBIC)


def save_panel_png(panel, path: str | Path, size: tuple[int, int] | None = None) -> Path:
    """Save the panel as PNG; an unwritable place raises ImageSaveError (the state is untouched)."""
    return save_png(path, panel_array(panel, size))
