"""Opening the user's photos: files or a folder, loaded in a worker (a set of 12-MP photos takes seconds)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from cvexplorer.imageio import load_image

__all__ = ["OpenImages", "IMAGE_FILES"]

IMAGE_FILES = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff)"
_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


class OpenImages:
    """Mixed into the stitching panel: needs ``ctx``, ``frame``, ``set_image`` and ``set_images``."""

    def _open_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open two or more overlapping photos", "", IMAGE_FILES)
        self.open_paths(paths)

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of overlapping photos (in shooting order)")
        if folder:
            self.open_paths(sorted(str(p) for p in Path(folder).iterdir() if p.suffix.lower() in _EXTENSIONS))

    def open_paths(self, paths: list[str]) -> None:
        """Load photos by path in a worker (one: a synthetic second view; several: a set, in the given order)."""
        paths = [str(p) for p in paths]
        if not paths:
            return
        self.frame.banner.show_progress(f"Opening {len(paths)} photo{'s' if len(paths) > 1 else ''}…",
                                        cancel=lambda: self.ctx.workers.cancel("stitching-open"))
        self.ctx.workers.submit("stitching-open", lambda: [load_image(p) for p in paths],
                                on_done=self.ctx.guard(lambda imgs: self._opened(paths, imgs), "stitching: open"),
                                on_error=self._open_failed)

    def _opened(self, paths: list[str], imgs) -> None:
        self.frame.banner.clear("progress")
        if len(imgs) == 1:
            self.set_image(imgs[0], paths[0])
        else:
            self.set_images(imgs, ", ".join(Path(p).name for p in paths))

    def _open_failed(self, exc: BaseException) -> None:
        self.frame.banner.clear("progress")
        self.ctx.report_error(exc, "stitching: open images")  # the current images stay
