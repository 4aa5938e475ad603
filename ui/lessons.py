"""Lessons: a panel's full state in a small JSON file, so a teacher prepares a class once.

``{"cvexplorer_lesson": 1, "panel": "nms", "theme": "projector", "image": "/path/photo.jpg",
"state": {...}}``. A lesson whose image is missing says so and opens everything else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["save_lesson", "read_lesson", "apply_lesson", "LessonError"]

FORMAT = 1


class LessonError(ValueError):
    """The lesson file cannot be used; the message is one sentence."""


def save_lesson(path: str | Path, panel_id: str, state: dict[str, Any], *, theme: str | None = None,
                image: str | None = None) -> Path:
    p = Path(path)
    doc = {"cvexplorer_lesson": FORMAT, "panel": panel_id, "state": state}
    if theme:
        doc["theme"] = theme
    if image:
        doc["image"] = str(image)
    try:
        text = json.dumps(doc, indent=2, default=_jsonable)
    except (TypeError, ValueError) as exc:
        raise LessonError(f"This panel's state cannot be saved as JSON ({exc}).") from None
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LessonError(f"Could not save {p.name}: {exc.strerror or exc}.") from None
    return p


def _jsonable(o):
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(f"{type(o).__name__} is not JSON-serialisable")


def read_lesson(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LessonError(f"{p.name} cannot be read: {exc.strerror or exc}.") from None
    except ValueError as exc:
        raise LessonError(f"{p.name} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(doc, dict) or "cvexplorer_lesson" not in doc or "panel" not in doc:
        raise LessonError(f"{p.name} is not a cvexplorer lesson (no 'cvexplorer_lesson' and 'panel' keys).")
    if not isinstance(doc.get("state", {}), dict):
        raise LessonError(f"{p.name}: 'state' must be an object.")
    return doc


def apply_lesson(win, path: str | Path) -> None:
    """Open the lesson's panel, theme, image (if it still exists) and state in ``win``."""
    from cvexplorer.imageio import ImageLoadError, load_image

    doc = read_lesson(path)
    win.show_panel(doc["panel"])
    if doc.get("theme"):
        win.apply_theme(doc["theme"])
    panel = win.current_panel()
    img = doc.get("image")
    if img:
        try:
            panel.set_image(load_image(img), img)
            panel._cvx_image_path = img
        except ImageLoadError as exc:
            win.ctx.report_error(f"The lesson's image could not be opened ({exc}); the rest of the lesson was.")
    panel.restore_state(doc.get("state", {}))
    win.ctx.status(f"Lesson {Path(path).name} opened.")
