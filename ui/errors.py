"""Global error handling: a sentence for the user, the traceback for the log file.

Nothing reaches the user as a traceback. Expected problems (the engine's ValueError subclasses,
OSError) are shown as their own sentence; anything else is "an unexpected error" with its type,
and the full traceback goes to ``cvexplorer.log`` in the user's data directory.
"""

from __future__ import annotations

import datetime
import os
import traceback
from pathlib import Path

__all__ = ["user_message", "log_path", "log_exception"]


def user_message(exc: BaseException) -> str:
    """One sentence for the user about ``exc``."""
    text = str(exc).strip()
    if isinstance(exc, (ValueError, OSError)) and text:
        return text if text.endswith((".", "!", "?", ")")) else text + "."
    if isinstance(exc, MemoryError):
        return "Not enough memory for this operation; try a smaller image or setting."
    if isinstance(exc, (OverflowError, ZeroDivisionError)):
        return "A setting or an input is too large or too small for this computation; try a value in a normal range."
    if isinstance(exc, RecursionError):
        return "The input is nested too deeply to read; a lesson or a detection file is a flat list."
    what = f" ({text[:160]})" if text else ""
    return f"Something went wrong in cvexplorer{what}; the app keeps running and the details are in {log_path()}."


def log_path() -> Path:
    base = os.environ.get("CVEXPLORER_DATA")
    if not base:
        try:
            from PySide6.QtCore import QStandardPaths

            base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        except Exception:  # pragma: no cover
            base = ""
    d = Path(base or Path.home() / ".local" / "share" / "cvexplorer")
    return d / "cvexplorer.log"


def log_exception(exc: BaseException, tb: str | None = None, where: str = "") -> None:
    """Append the traceback to the log file (rotated at 1 MB); never raises."""
    try:
        p = log_path()
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists() and p.stat().st_size > 1_000_000:
            p.replace(p.with_suffix(".log.1"))
        tb = tb or "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        with p.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.datetime.now().isoformat(timespec='seconds')} {where}\n{tb}\n")
    except Exception:
        pass
