"""The ``cvexplorer`` command.

``cvexplorer [IMAGE] [--panel ID] [--theme NAME]``   open the app (optionally on an image)
``cvexplorer screenshot PANEL OUT.png [...]``         render a panel offscreen to a PNG
``cvexplorer screenshot --list``                      the panel ids, one per line
``cvexplorer calc FAMILY [...]``                      a formula with its derivation
``cvexplorer models [DIR ...]``                       installed models and SAM pairs found, with their variants
``cvexplorer models get ID | install FILE | remove ID``  fetch, install or remove a catalogue model
``cvexplorer bench [NAME ...]``                       the benchmark suite, as a table
``cvexplorer open LESSON.json``                       open a saved lesson
``cvexplorer install-desktop [--uninstall]``          add (remove) the menu entry and icon for this user

Bad input prints one sentence on stderr and exits with status 2; never a traceback. The GUI and
heavy libraries are imported only by the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["main"]

SUBCOMMANDS = ("screenshot", "calc", "models", "bench", "open", "install-desktop")


class CliError(Exception):
    """A user error: its message is printed as one sentence."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one sentence (exit 2) instead of a usage dump."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        raise CliError(f"{message[0].upper() + message[1:]} (see `{self.prog} --help`).")


def _fail(msg: str) -> int:
    print(f"cvexplorer: {msg}", file=sys.stderr)
    return 2


def _screenshot(argv: Sequence[str]) -> int:
    ap = _Parser(prog="cvexplorer screenshot", description="Render a panel offscreen to a PNG.")
    ap.add_argument("panel", nargs="?", help="panel id (see --list)")
    ap.add_argument("out", nargs="?", help="output PNG path")
    ap.add_argument("--list", action="store_true", help="print the panel ids, one per line")
    ap.add_argument("--size", default="1600x1000", help="WxH in pixels (default 1600x1000)")
    ap.add_argument("--theme", default="light", choices=("light", "dark", "projector"))
    ap.add_argument("--image", help="an image file to load into the panel")
    ap.add_argument("--step", type=int, help="go to this step of the panel's step-through (1 = the first, as the "
                    "player counts)")
    ap.add_argument("--demo", action="store_true", help="drive the panel's main interaction first (a click, a box…)")
    ap.add_argument("--window", action="store_true", help="render the whole window, not only the panel")
    ap.add_argument("--presentation", action="store_true", help="render the window in presentation mode")
    args = ap.parse_args(argv)
    if args.list:
        from cvexplorer.ui.registry import panel_ids

        print("\n".join(panel_ids()))
        return 0
    if not args.panel or not args.out:
        raise CliError("screenshot needs a panel id and an output path, e.g. `cvexplorer screenshot conv out.png`.")
    from cvexplorer.ui.screenshot import parse_size, render

    size = parse_size(args.size)
    path = render(args.panel, args.out, size=size, theme=args.theme, image=args.image, step=args.step,
                  demo=args.demo, window=args.window, presentation=args.presentation)
    print(path)
    return 0


def _gui(argv: Sequence[str]) -> int:
    ap = _Parser(prog="cvexplorer", description="A visual explorer of computer-vision arithmetic "
                                 "and algorithms. Subcommands: " + ", ".join(SUBCOMMANDS) + ".")
    ap.add_argument("image", nargs="?", help="an image to open")
    ap.add_argument("--panel", help="panel to open first")
    ap.add_argument("--theme", choices=("light", "dark", "projector"))
    ap.add_argument("--version", action="store_true")
    args = ap.parse_args(argv)
    if args.version:
        from cvexplorer import __version__

        print(__version__)
        return 0
    if args.image:
        from pathlib import Path

        p = Path(args.image)
        if not p.exists():
            raise CliError(f"{args.image} does not exist.")
    if args.panel:
        from cvexplorer.ui.registry import get_spec

        get_spec(args.panel)
    from cvexplorer.ui.app import run_app

    lesson = args.image if args.image and args.image.lower().endswith(".json") else None
    return run_app(image=None if lesson else args.image, panel=args.panel, theme=args.theme, lesson=lesson)


def _open(argv: Sequence[str]) -> int:
    ap = _Parser(prog="cvexplorer open", description="Open a saved lesson (JSON).")
    ap.add_argument("lesson")
    args = ap.parse_args(argv)
    from pathlib import Path

    if not Path(args.lesson).is_file():
        raise CliError(f"{args.lesson} does not exist.")
    from cvexplorer.ui.app import run_app

    return run_app(lesson=args.lesson)


def _calc(argv: Sequence[str]) -> int:
    from cvexplorer.calc_cli import main as calc_main

    return calc_main(list(argv))


def _models(argv: Sequence[str]) -> int:
    from cvexplorer.models_cli import main as models_main

    return models_main(list(argv))


def _bench(argv: Sequence[str]) -> int:
    from cvexplorer.bench import main as bench_main

    return bench_main(list(argv))


def _install_desktop(argv: Sequence[str]) -> int:
    from cvexplorer.desktop import main as desktop_main

    return desktop_main(list(argv))


# Third-party imports the app needs: top-level module -> (what to call it, the pip command that fixes it).
_DEPENDENCIES = {
    "cv2": ("OpenCV (cv2)", "pip install --force-reinstall opencv-python-headless"),
    "onnxruntime": ("onnxruntime", "pip install --force-reinstall onnxruntime-gpu (or onnxruntime, CPU only)"),
    "PySide6": ("PySide6", "pip install --force-reinstall 'PySide6-Essentials>=6.6,<6.12'"),
    "shiboken6": ("PySide6", "pip install --force-reinstall 'PySide6-Essentials>=6.6,<6.12'"),
    "pyqtgraph": ("pyqtgraph", "pip install --force-reinstall pyqtgraph"),
    "numpy": ("NumPy", "pip install --force-reinstall numpy"),
    "onnx": ("onnx", "pip install --force-reinstall onnx"),
    "PIL": ("Pillow", "pip install --force-reinstall Pillow"),
}


def _broken_dependency(exc: BaseException) -> str:
    """One sentence for a missing or broken third-party import, or '' if ``exc`` is not one.

    A half-removed package (``opencv-python`` uninstalled beside ``opencv-python-headless``, which
    share ``cv2/``) imports as an empty namespace, so an AttributeError on it counts too.
    """
    root = ""
    if isinstance(exc, ImportError):
        name = exc.name or ""
        root = name.split(".")[0]
        if root not in _DEPENDENCIES:  # e.g. a shared library a compiled module needs
            root = next((m for m in _DEPENDENCIES if f"'{m}" in str(exc) or f" {m}" in str(exc)
                         or str(exc).startswith(m)), "")
    elif isinstance(exc, AttributeError):
        root = next((m for m in _DEPENDENCIES if m in sys.modules and sys.modules[m] is not None
                     and getattr(sys.modules[m], "__file__", None) is None
                     and f"module '{m}" in str(exc)), "")
    if not root:
        return ""
    what, fix = _DEPENDENCIES[root]
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = lines[-1][:200] if lines else type(exc).__name__  # numpy puts the cause on its last line
    extra = (" (if opencv-python was installed beside it, uninstall both first: they share the cv2 folder)"
             if root == "cv2" else "")
    return f"{what} is missing or broken ({detail}); reinstall it with `{fix}`{extra}."


def _quiet_qt(command: str) -> None:
    """Drop Qt's harmless offscreen noise before any window exists (commands that start Qt)."""
    if command in ("screenshot", "open", "gui"):
        try:
            from cvexplorer.ui.qt_messages import install
        except ImportError:
            return  # a broken PySide6 is reported by the command itself
        install()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    handlers = {"screenshot": _screenshot, "calc": _calc, "models": _models, "bench": _bench, "open": _open,
                "install-desktop": _install_desktop}
    try:
        if argv and argv[0] in handlers:
            _quiet_qt(argv[0])
            return int(handlers[argv[0]](argv[1:]) or 0)
        _quiet_qt("gui")
        return int(_gui(argv) or 0)
    except CliError as exc:
        return _fail(str(exc))
    except (ImportError, AttributeError) as exc:
        msg = _broken_dependency(exc)
        if not msg:
            raise
        return _fail(msg)
    except (ValueError, OSError) as exc:  # the engine's sentences (ImageLoadError, bad sizes, ...)
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
