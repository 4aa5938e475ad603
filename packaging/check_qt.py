"""Can Qt open a window here? If a system library is missing, print the exact install line.

    python packaging/check_qt.py            # `make` runs it after installing and before `make run`
    python packaging/check_qt.py --strict   # also fail when no display is set but the xcb plugin lacks libraries

The check loads the platform plugin the app will really use, not the offscreen one (which needs
none of the X libraries):

* ``QT_QPA_PLATFORM`` if set, else ``wayland`` when ``WAYLAND_DISPLAY`` is set, else ``xcb`` when
  ``DISPLAY`` is set; with no display at all, ``offscreen`` for tests and screenshots.
* On Linux, ``ldd`` of the xcb (and, on Wayland, the wayland) plugin lists every system library it
  cannot find; each is mapped to its Debian/Ubuntu and Fedora package.
* With a display, a real ``QGuiApplication`` starts on that platform in a child process (a plugin
  that cannot load aborts the process, so never in this one).

Exit status: 0 when the platform the user will use works (missing xcb libraries on a machine with
no display are only a warning, unless ``--strict``); 1 otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

# soname -> (Debian/Ubuntu package, Fedora package)
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
    "libz.so.1": ("zlib1g", "zlib"),
    "libpng16.so.16": ("libpng16-16", "libpng"),
    "libexpat.so.1": ("libexpat1", "expat"),
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


def missing_from_ldd(output: str) -> list[str]:
    """Sonames that ``ldd`` printed as ``not found`` (each once, in order).

    >>> missing_from_ldd("\\tlibX11.so.6 => /lib/libX11.so.6 (0x1)\\n\\tlibxcb-icccm.so.4 => not found\\n"
    ...                  "\\tlibxcb-icccm.so.4 => not found\\n")
    ['libxcb-icccm.so.4']
    """
    out: list[str] = []
    for line in output.splitlines():
        m = _NOT_FOUND.match(line)
        if m and m.group(1) not in out:
            out.append(m.group(1))
    return out


def install_lines(missing: list[str]) -> list[str]:
    """The commands that install ``missing`` sonames on Debian/Ubuntu and on Fedora.

    >>> install_lines(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])  # doctest: +NORMALIZE_WHITESPACE
    ['Debian/Ubuntu: sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1',
     'Fedora:        sudo dnf install -y xcb-util-wm xcb-util-keysyms']
    """
    deb, rpm, unknown = [], [], []
    for so in missing:
        if so in PACKAGES:
            d, f = PACKAGES[so]
            deb += [d] if d not in deb else []
            rpm += [f] if f not in rpm else []
        else:
            unknown.append(so)
    lines = []
    if deb:
        lines += [f"Debian/Ubuntu: sudo apt-get install -y {' '.join(deb)}",
                  f"Fedora:        sudo dnf install -y {' '.join(rpm)}"]
    for so in unknown:
        lines.append(f"{so}: find its package with `apt-file search {so}` or `dnf provides '*/{so}'`")
    return lines


def target_platform(env: dict[str, str] | None = None) -> str:
    """The platform plugin the app will use with this environment ('' when there is no display)."""
    env = os.environ if env is None else env
    if env.get("QT_QPA_PLATFORM"):
        return env["QT_QPA_PLATFORM"].split(";")[0].split(":")[0]
    if env.get("WAYLAND_DISPLAY"):
        return "wayland"
    if env.get("DISPLAY"):
        return "xcb"
    return ""


def plugin_path(platform: str) -> Path | None:
    """The Qt platform plugin file for ``platform`` in the installed PySide6, if it exists."""
    import PySide6

    name = {"xcb": "libqxcb.so", "wayland": "libqwayland.so", "offscreen": "libqoffscreen.so"}.get(platform)
    if not name:
        return None
    p = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / name
    return p if p.is_file() else None


def run_ldd(path: Path) -> str | None:
    if not shutil.which("ldd"):
        return None
    try:
        return subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def start_gui(platform: str) -> tuple[bool, str]:
    """Start a real QGuiApplication on ``platform`` in a child process; (ok, what it printed)."""
    code = ("import sys; from PySide6.QtGui import QGuiApplication; app = QGuiApplication(sys.argv[:1]); "
            "print('platform:', app.platformName())")
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        return False, f"Qt did not start on {platform} within 60 s"
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def check(env: dict[str, str] | None = None, *, strict: bool = False, ldd: Callable[[Path], str | None] = run_ldd,
          gui: Callable[[str], tuple[bool, str]] = start_gui, out=print) -> int:
    """Run the check, printing what it finds through ``out``; returns the exit status."""
    env = dict(os.environ if env is None else env)
    try:
        import PySide6  # noqa: F401
    except ImportError as exc:
        out(f"PySide6 is not installed ({exc}): pip install 'PySide6-Essentials>=6.6,<6.12'")
        return 1
    target = target_platform(env)
    if not sys.platform.startswith("linux"):
        ok, text = gui(target) if target else (True, "")
        out("Qt OK" if ok else f"Qt cannot start: {text}")
        return 0 if ok else 1
    # The libraries each plugin needs: xcb always (it is what a desktop uses, also under XWayland).
    plugins = ["xcb"] + (["wayland"] if target == "wayland" else [])
    missing: dict[str, list[str]] = {}
    for plat in plugins:
        path = plugin_path(plat)
        text = ldd(path) if path else None
        if text is not None:
            missing[plat] = missing_from_ldd(text)
    needed = [so for plat in plugins if (plat == target or plat == "xcb") for so in missing.get(plat, [])]
    needed = list(dict.fromkeys(needed))
    if target in ("", "offscreen", "minimal"):
        ok, text = gui("offscreen")
        if not ok:
            out(f"Qt cannot start even offscreen:\n  {text[-800:]}")
            for line in install_lines(needed or ["libEGL.so.1", "libfontconfig.so.1", "libxkbcommon.so.0"]):
                out("  " + line)
            return 1
        if needed:
            out("Qt works offscreen (tests, screenshots), but a desktop window (the xcb plugin) needs "
                f"{', '.join(needed)}. Install with:")
            for line in install_lines(needed):
                out("  " + line)
            return 1 if strict else 0
        out("Qt OK (offscreen; the xcb plugin finds all its libraries)")
        return 0
    ok, text = gui(target)
    fix = missing.get(target, [])
    if ok:
        out(f"Qt OK ({target})")
        if missing.get("xcb") and target != "xcb":
            out(f"  (the xcb plugin, used outside {target} sessions, lacks {', '.join(missing['xcb'])}: "
                + "; ".join(install_lines(missing["xcb"])) + ")")
        return 0
    said = text.splitlines()[-1][:400] if text else "nothing"
    out(f"Qt cannot open a window on {target}" + (f": {', '.join(fix)} not found." if fix else ".")
        + f"\n  Qt said: {said}")
    if fix:
        out("Install the missing libraries with:")
        for line in install_lines(fix):
            out("  " + line)
    else:
        out("  Run `QT_DEBUG_PLUGINS=1 cvexplorer` to see what the platform plugin lacks.")
    return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return check(strict="--strict" in argv)


if __name__ == "__main__":
    sys.exit(main())
