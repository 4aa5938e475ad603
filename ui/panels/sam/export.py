"""The SAM panel's exports: the shown mask, or the photo with the mask over it, as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog

from cvexplorer import sam
from cvexplorer.imageio import save_png

__all__ = ["MaskExport"]


class MaskExport:
    """Mixed into the SAM panel: needs ``current_mask()``, ``rgb`` and ``ctx``."""

    def export_mask(self, path) -> Path:
        m = self.current_mask()
        if m is None:
            raise ValueError("There is no mask to export yet: click on an object first.")
        return save_png(path, np.repeat((m.astype(np.uint8) * 255)[..., None], 3, axis=2))

    def export_overlay(self, path) -> Path:
        m = self.current_mask()
        if m is None or self.rgb is None:
            raise ValueError("There is no mask to export yet: click on an object first.")
        return save_png(path, sam.overlay_rgb(self.rgb, m, color=self.ctx.theme.color("highlight"),
                                              outline_px=max(2, max(m.shape) // 500)))

    def _export_dialog(self, what: str) -> None:
        if self.current_mask() is None:
            raise ValueError("There is no mask to export yet: click on an object first.")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {what} as PNG", f"sam-{what}.png", "PNG (*.png)")
        if path:
            out = self.export_mask(path) if what == "mask" else self.export_overlay(path)
            self.ctx.status(f"Saved {out}")
