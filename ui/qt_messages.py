"""One Qt message handler that drops known-harmless platform noise and passes everything else on.

Qt's offscreen platform (screenshots, tests, CI) prints ``This plugin does not support
propagateSizeHints()`` every time a top-level window is shown: it is the default
``QPlatformWindow::propagateSizeHints()`` saying the plugin has no window manager to tell, and
it means nothing to a user. Call :func:`install` once, before or after the QApplication exists.
"""

from __future__ import annotations

import sys

__all__ = ["install", "is_noise", "NOISE"]

#: Exact messages (as Qt formats them) that are dropped.
NOISE = frozenset({"This plugin does not support propagateSizeHints()"})

_installed = False


def is_noise(message: str) -> bool:
    """Whether Qt's message is one of the known harmless ones.

    >>> is_noise("This plugin does not support propagateSizeHints()"), is_noise("QPainter::begin: failed")
    (True, False)
    """
    return message.strip() in NOISE


def install() -> None:
    """Install the filter (idempotent); other messages go to the previous handler or to stderr as Qt writes them."""
    global _installed
    if _installed:
        return
    from PySide6 import QtCore

    previous = None

    def handler(mode, context, message):
        if is_noise(message):
            return
        if previous is not None:
            previous(mode, context, message)
            return
        try:
            text = QtCore.qFormatLogMessage(mode, context, message)
        except Exception:  # noqa: BLE001 - a logger must never raise
            text = message
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    previous = QtCore.qInstallMessageHandler(handler)
    _installed = True
