"""Run after install: can Qt start here? If a system library is missing, say which apt packages fix it."""

import os
import sys

APT = ("sudo apt-get install -y libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 "
       "libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0")

try:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication  # noqa: F401  (loads libQt6Gui and its system libraries)
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
except ImportError as exc:
    print(f"Qt cannot start: {exc}\nOn Debian/Ubuntu install the missing system libraries with:\n  {APT}",
          file=sys.stderr)
    sys.exit(1)
print("Qt OK")
