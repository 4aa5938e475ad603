"""Lesson files: one panel's state in a small JSON file that teachers prepare and share with students.

``{"cvexplorer_lesson": 1, "panel": "nms", "theme": "projector", "image": "photo.jpg", "state": {...}}``

Lessons travel between machines, so a lesson is untrusted input. :func:`read_lesson` checks the
whole file before anything is applied: it must be a regular file of bounded size, UTF-8 (or UTF-16
with a BOM) JSON without NaN/Infinity and without deep nesting; every path in it (``image``, and
state fields named ``model`` or ``*_path``) is resolved against the lesson's folder and must name a
regular file of bounded size. A refusal names the field, never the contents of the file it points at.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Lesson", "LessonError", "read_lesson", "lesson_json", "check_regular_file", "json_depth", "FORMAT",
           "LIMITS"]

FORMAT = 1
#: Bounds on what a lesson may hold (tests lower them).
LIMITS = {"lesson_bytes": 1_000_000, "linked_file_bytes": 2_000_000_000, "depth": 32, "step": 10_000_000}
_PATH_KEYS = ("model",)


class LessonError(ValueError):
    """The lesson cannot be used; the message is one sentence that names the field."""


@dataclass(frozen=True)
class Lesson:
    """A validated lesson: the panel id, theme name, resolved image path and the panel's state."""

    panel: str
    state: dict = field(default_factory=dict)
    theme: str | None = None
    image: Path | None = None
    source: Path | None = None
    #: Sentences about what the lesson names but this machine lacks (a missing image opens the rest).
    notes: tuple[str, ...] = ()


def check_regular_file(path: str | os.PathLike, what: str, max_bytes: int) -> Path:
    """``path`` if it is a regular file of at most ``max_bytes``; else :class:`ValueError` naming ``what``.

    FIFOs, devices, folders and symlink loops are refused before anything is opened.

    >>> check_regular_file("/dev/null", "the image", 10)
    Traceback (most recent call last):
    ValueError: the image (/dev/null) is not a regular file (a device, a pipe or a folder cannot be read).
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ValueError(f"{what} ({p.name}) does not exist.") from None
    except OSError as exc:
        raise ValueError(f"{what} ({p.name}) cannot be read: {exc.strerror or 'unreadable'}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{what} ({p}) is not a regular file (a device, a pipe or a folder cannot be read).")
    if st.st_size > max_bytes:
        raise ValueError(f"{what} ({p.name}) is {st.st_size:,} bytes; the limit is {max_bytes:,}.")
    return p


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """Nesting depth of JSON brackets outside strings, found without recursion and in C-speed passes
    (a 16 MB file takes a fraction of a second), so a hostile file is refused before ``json.loads``.

    >>> json_depth('{"a": [1, {"b": "[[["}]}'), json_depth("[" * 5000), json_depth("3")
    (3, 5000, 0)
    """
    import numpy as np  # lazy, as in _jsonable: reading a lesson's header should not need NumPy

    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    if not brackets:
        return 0
    steps = np.frombuffer(brackets, np.uint8)
    depth = np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1), dtype=np.int64)
    return max(0, int(depth.max()))


_max_depth = json_depth  # the name this module used first


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LessonError(f"{name} is not a text file (a lesson is UTF-8 JSON).") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def _resolve(base: Path, value: Any, what: str) -> Path:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise LessonError(f"The lesson's {what} must be a file name, not {type(value).__name__}.")
    p = Path(value).expanduser()
    if not p.is_absolute():
        p = base / p
    try:
        return check_regular_file(p, f"The lesson's {what}", LIMITS["linked_file_bytes"])
    except ValueError as exc:
        raise LessonError(str(exc)) from None


def _resolve_state_paths(base: Path, state: dict) -> dict:
    out = {}
    for key, value in state.items():
        if isinstance(value, str) and (key in _PATH_KEYS or key.endswith("_path")):
            out[key] = str(_resolve(base, value, f"state field {key!r}"))
        else:
            out[key] = value
    return out


def read_lesson(path: str | os.PathLike, *, panels: Iterable[str] | None = None,
                themes: Iterable[str] | None = None) -> Lesson:
    """Read and validate a lesson completely (see the module docstring); :class:`LessonError` otherwise.

    ``panels`` and ``themes`` are the accepted ids (the UI passes its registry's).
    """
    p = Path(path)
    try:
        check_regular_file(p, "The lesson", LIMITS["lesson_bytes"])
        raw = p.read_bytes()
    except (ValueError, OSError) as exc:
        raise LessonError(str(exc) if isinstance(exc, ValueError) else
                          f"{p.name} cannot be read: {exc.strerror or exc}.") from None
    text = _decode(raw, p.name)
    if _max_depth(text) > LIMITS["depth"]:
        raise LessonError(f"{p.name} nests more than {LIMITS['depth']} levels deep; a lesson is a flat settings file.")
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise LessonError(f"{p.name} is not valid JSON for a lesson ({why}{where}).") from None
    if not isinstance(doc, dict) or "cvexplorer_lesson" not in doc or "panel" not in doc:
        raise LessonError(f"{p.name} is not a cvexplorer lesson (no 'cvexplorer_lesson' and 'panel' keys).")
    panel = doc["panel"]
    allowed = list(panels) if panels is not None else None
    if not isinstance(panel, str) or (allowed is not None and panel not in allowed):
        raise LessonError(f"The lesson's 'panel' must be one of {', '.join(allowed or [])}, not {str(panel)[:40]!r}.")
    theme = doc.get("theme")
    allowed_themes = list(themes) if themes is not None else None
    if theme is not None and (not isinstance(theme, str) or (allowed_themes and theme not in allowed_themes)):
        raise LessonError(f"The lesson's 'theme' must be one of {', '.join(allowed_themes or [])}, "
                          f"not {str(theme)[:40]!r}.")
    state = doc.get("state", {})
    if not isinstance(state, dict):
        raise LessonError("The lesson's 'state' must be an object of settings.")
    step = state.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or
                             not 0 <= step <= LIMITS["step"]):
        raise LessonError(f"The lesson's 'step' must be a whole number from 0 to {LIMITS['step']:,}.")
    base = p.resolve().parent
    image, notes = None, ()
    if doc.get("image") is not None:
        try:
            image = _resolve(base, doc["image"], "'image'")
        except LessonError as exc:
            if "does not exist" not in str(exc):
                raise
            notes = (f"{exc} The rest of the lesson was opened.",)  # a lesson moved without its photo
    return Lesson(panel=panel, state=_resolve_state_paths(base, state), theme=theme, image=image, source=p,
                  notes=notes)


def lesson_json(panel_id: str, state: dict[str, Any], *, theme: str | None = None, image: str | None = None) -> str:
    """The JSON text of a lesson (NumPy values become plain numbers and lists)."""
    doc: dict[str, Any] = {"cvexplorer_lesson": FORMAT, "panel": panel_id, "state": state}
    if theme:
        doc["theme"] = theme
    if image:
        doc["image"] = str(image)
    try:
        return json.dumps(doc, indent=2, default=_jsonable, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LessonError(f"This panel's state cannot be saved as JSON ({exc}).") from None


def _jsonable(o):
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(f"{type(o).__name__} is not JSON-serialisable")
