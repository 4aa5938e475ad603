"""``cvexplorer install-desktop [--uninstall]``: the launcher entry and icon in the user's XDG folders.

Writes ``$XDG_DATA_HOME/applications/cvexplorer.desktop`` (default ``~/.local/share``) with an
absolute ``Exec`` path to this installation's ``cvexplorer`` (a virtualenv's ``bin/`` is not on a
desktop session's PATH), and the icon as ``icons/hicolor/scalable/apps/cvexplorer.svg``. The
entry is the same text as ``packaging/cvexplorer.desktop`` (which distributions install), with
only the ``Exec``/``TryExec`` lines changed. No root, no Qt.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["desktop_entry", "install", "uninstall", "xdg_data_home", "main"]

DESKTOP_ID = "cvexplorer.desktop"
ICON_NAME = "cvexplorer"

MIME_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/bmp", "image/webp", "image/gif",
              "image/x-portable-graymap", "image/x-portable-pixmap", "image/x-portable-bitmap",
              "image/x-portable-anymap")


def desktop_entry(exec_path: str = "cvexplorer") -> str:
    """The ``.desktop`` file's text for a launcher at ``exec_path``.

    >>> "Exec=cvexplorer %f" in desktop_entry() and "Categories=Education;" in desktop_entry()
    True
    """
    cmd = exec_path if exec_path == "cvexplorer" else _quote_exec(exec_path)
    try_exec = "" if exec_path == "cvexplorer" else f"TryExec={_quote_exec(exec_path)}\n"
    return ("[Desktop Entry]\n"
            "Type=Application\n"
            "Name=cvexplorer\n"
            "GenericName=Computer-vision explorer\n"
            "Comment=See and check computer-vision arithmetic and algorithms on your own images\n"
            f"{try_exec}"
            f"Exec={cmd} %f\n"
            f"Icon={ICON_NAME}\n"
            "Terminal=false\n"
            # One main category (Education); the additional ones are those the spec allows under it.
            "Categories=Education;ComputerScience;ArtificialIntelligence;\n"
            f"MimeType={';'.join(MIME_TYPES)};\n"
            "Keywords=convolution;stereo;homography;segmentation;NMS;anchors;U-Net;SAM;\n"
            "StartupWMClass=cvexplorer\n")


def _quote_exec(path: str) -> str:
    """Quote an Exec path the way the Desktop Entry spec wants (double quotes, backslash escapes)."""
    if all(c not in path for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$") + '"'


def xdg_data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME", "")
    return Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"


def launcher_path() -> str:
    """The absolute path of the command that starts this installation."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle
        return str(Path(sys.executable).resolve())
    beside = Path(sys.executable).parent / "cvexplorer"
    if beside.is_file():
        return str(beside)
    found = shutil.which("cvexplorer")
    return str(Path(found).resolve()) if found else f"{shlex.quote(sys.executable)} -m cvexplorer"


def _icon_source() -> Path:
    from importlib import resources

    return Path(str(resources.files("cvexplorer.assets").joinpath("cvexplorer.svg")))


def _targets(data_home: Path) -> tuple[Path, Path]:
    return (data_home / "applications" / DESKTOP_ID,
            data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg")


def _refresh_caches(data_home: Path) -> None:
    """Tell the desktop about the change where the usual tools exist (quietly; optional)."""
    for cmd in (["update-desktop-database", "-q", str(data_home / "applications")],
                ["gtk-update-icon-cache", "-q", "-t", "-f", str(data_home / "icons" / "hicolor")]):
        if shutil.which(cmd[0]):
            try:
                subprocess.run(cmd, capture_output=True, timeout=30)
            except (OSError, subprocess.SubprocessError):
                pass


def install(data_home: Path | None = None, exec_path: str | None = None) -> list[Path]:
    """Write the entry and the icon; returns the two paths."""
    data_home = data_home or xdg_data_home()
    entry, icon = _targets(data_home)
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(desktop_entry(exec_path or launcher_path()), encoding="utf-8")
    shutil.copyfile(_icon_source(), icon)
    _refresh_caches(data_home)
    return [entry, icon]


def uninstall(data_home: Path | None = None) -> list[Path]:
    """Remove the entry and the icon; returns the paths that were removed."""
    data_home = data_home or xdg_data_home()
    removed = []
    for p in _targets(data_home):
        if p.is_file():
            p.unlink()
            removed.append(p)
    if removed:
        _refresh_caches(data_home)
    return removed


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="cvexplorer install-desktop",
                                 description="Add cvexplorer to the desktop's application menu (for this user).")
    ap.add_argument("--uninstall", action="store_true", help="remove the menu entry and icon again")
    args = ap.parse_args(list(argv))
    if args.uninstall:
        removed = uninstall()
        print("\n".join(f"removed {p}" for p in removed) if removed else "cvexplorer was not in the menu.")
        return 0
    for p in install():
        print(f"installed {p}")
    return 0
