"""Lessons in the window: save the current panel's state, open a lesson all-or-nothing.

Reading and validating a lesson file is the engine's (:mod:`cvexplorer.lessons`): the whole file
is checked before anything changes. If a panel still refuses the state, the window goes back to
the panel, theme and state it had, and says why in one sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvexplorer.imageio import ImageLoadError, ImageSaveError, load_image, write_file
from cvexplorer.lessons import Lesson, LessonError, lesson_json
from cvexplorer.lessons import read_lesson as _read

from .registry import panel_ids
from .themes import THEMES

__all__ = ["save_lesson", "read_lesson", "apply_lesson", "LessonError"]


def save_lesson(path: str | Path, panel_id: str, state: dict[str, Any], *, theme: str | None = None,
                image: str | None = None) -> Path:
    try:
        return write_file(path, lesson_json(panel_id, state, theme=theme, image=image).encode("utf-8"), "lesson")
    except ImageSaveError as exc:
        raise LessonError(str(exc)) from None


def read_lesson(path: str | Path) -> Lesson:
    return _read(path, panels=panel_ids(), themes=THEMES)


def apply_lesson(win, path: str | Path) -> None:
    """Open the lesson's panel, theme, image and state in ``win``, or change nothing."""
    lesson = read_lesson(path)
    before = (win.current_id, win.ctx.theme.name, win.current_panel().state() if win.current_panel() else {})
    try:
        win.show_panel(lesson.panel)
        if lesson.theme:
            win.apply_theme(lesson.theme)
        panel = win.current_panel()
        for note in lesson.notes:
            win.ctx.report_error(note)
        if lesson.image is not None:
            try:
                panel.set_image(load_image(lesson.image), str(lesson.image))
                panel.image_path = str(lesson.image)
            except ImageLoadError as exc:
                win.ctx.report_error(f"The lesson's image could not be opened ({exc}) The rest of the lesson was opened.")
        panel.restore_state(dict(lesson.state))
    except Exception as exc:  # noqa: BLE001 - roll back, then say why in one sentence
        panel_id, theme, state = before
        if panel_id:
            win.show_panel(panel_id)
            win.apply_theme(theme)
            try:
                win.current_panel().restore_state(state)
            except Exception:  # noqa: BLE001 - the old state came from this panel; nothing better to do
                pass
        raise LessonError(f"The lesson {Path(path).name} does not fit the {lesson.panel} panel "
                          f"({str(exc)[:200] or type(exc).__name__}); nothing was changed.") from None
    win.ctx.status(f"Lesson {Path(path).name} opened.")
