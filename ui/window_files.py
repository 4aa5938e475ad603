"""The window's file actions: open images and stereo pairs (in workers), recent files, drag and drop,
save a PNG, record a step-through, save and open lessons. Mixed into :class:`~cvexplorer.ui.app.MainWindow`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

# The engine, NumPy and OpenCV are imported by the actions that use them, not here: the window
# is on screen before they load (start-up paints its first frame without them).

__all__ = ["FileActions", "IMAGE_FILTER"]

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif *.pgm *.ppm *.pfm);;All files (*)"


class FileActions:
    """Needs ``self.ctx``, ``self.settings``, ``self.recent_menu``, ``current_panel()`` and ``show_panel()``."""

    # -- images -------------------------------------------------------------------------------------
    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._last_dir(), IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_stereo_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open stereo pair (left, then right; or one side-by-side image)",
                                                self._last_dir(), IMAGE_FILTER)
        if paths:
            self.open_stereo(paths)

    def _last_dir(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def _target_for_images(self):
        panel = self.current_panel()
        if panel is None or not panel.accepts_images:
            self.show_panel("conv")
            panel = self.current_panel()
        return panel

    def open_image(self, path: str) -> None:
        """Load in a worker (a 12-MP JPEG takes longer than a frame), then hand it to the panel."""
        target = self._target_for_images()
        self.statusBar().showMessage(f"Loading {Path(path).name}…")

        def done(info) -> None:
            self._add_recent(path)
            target.set_image(info.rgb, info.path)
            target.image_path = info.path  # remembered for lessons
            h, w = info.rgb.shape[:2]
            note = " ".join(info.notes)
            self.ctx.status(f"{Path(path).name}: {w}×{h} pixels. {note}".strip())

        from cvexplorer.imageio import load_image_info

        self.ctx.workers.submit("open-image", load_image_info, path, on_done=self.ctx.guard(done, "Open image"),
                                on_error=lambda e: self.ctx.report_error(e, "Open image"))

    def open_stereo(self, paths: list[str]) -> None:
        panel = self.current_panel()
        if panel is None or not panel.accepts_stereo:
            self.show_panel("stereo")
            panel = self.current_panel()

        from cvexplorer import stereo
        from cvexplorer.imageio import ImageLoadError, load_image_info

        def load(ps):
            return [load_image_info(p).rgb for p in ps]

        def done(imgs) -> None:
            for p in paths:
                self._add_recent(p)
            if len(imgs) == 1:
                left, right = stereo.split_side_by_side(imgs[0])
            elif len(imgs) == 2:
                left, right = imgs
            else:
                raise ImageLoadError(f"A stereo pair is two images (or one side-by-side image), not {len(imgs)}.")
            panel.set_stereo_pair(left, right, " + ".join(Path(p).name for p in paths))

        self.ctx.workers.submit("open-stereo", load, list(paths), on_done=self.ctx.guard(done, "Open stereo pair"),
                                on_error=lambda e: self.ctx.report_error(e, "Open stereo pair"))

    def recent_files(self) -> list[str]:
        v = self.settings.value("recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent", recent[:10])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        if not recent:
            a = self.recent_menu.addAction("(none yet)")
            a.setEnabled(False)
        for p in recent:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(self.ctx.guard(lambda _=False, p=p: self.open_image(p), "Open recent"))

    # -- drag and drop ------------------------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        ev.acceptProposedAction()
        panel = self.current_panel()
        if paths[0].lower().endswith(".json"):
            self.ctx.guard(self.open_lesson, "Open lesson")(paths[0])
        elif len(paths) == 2 or (panel is not None and panel.accepts_stereo):
            self.open_stereo(paths[:2])
        else:
            self.open_image(paths[0])

    # -- saving -------------------------------------------------------------------------------------
    def save_png_dialog(self) -> None:
        panel = self.current_panel()
        path, _ = QFileDialog.getSaveFileName(self, "Save PNG of panel", f"{self.current_id}.png", "PNG (*.png)")
        if path:
            from .capture import save_panel_png

            out = save_panel_png(panel, path)
            self.ctx.status(f"Saved {out}.")

    def record_dialog(self) -> None:
        from .capture import RecordDialog

        RecordDialog(self.current_panel(), self.ctx, self).open()

    def save_lesson_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save lesson", f"{self.current_id}-lesson.json", "Lesson (*.json)")
        if path:
            from .lessons import save_lesson

            panel = self.current_panel()
            save_lesson(path, self.current_id, panel.state(), theme=self.ctx.theme.name,
                        image=panel.image_path)
            self.ctx.status(f"Lesson saved to {path}.")

    def open_lesson_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open lesson", self._last_dir(), "Lesson (*.json)")
        if path:
            self.open_lesson(path)

    def open_lesson(self, path: str) -> None:
        from .lessons import apply_lesson

        apply_lesson(self, path)
