"""The ``cvexplorer`` command.

``cvexplorer [IMAGE] [--panel ID] [--theme NAME]``   open the app (optionally on an image)
``cvexplorer screenshot PANEL OUT.png [...]``         render a panel offscreen to a PNG
``cvexplorer screenshot --list``                      the panel ids, one per line
``cvexplorer calc FAMILY [...]``                      a formula with its derivation
``cvexplorer models [DIR ...]``                       installed models and SAM pairs found, with their variants
``cvexplorer models get ID | install FILE | remove ID``  fetch, install or remove a catalogue model
``cvexplorer bench [NAME ...]``                       the benchmark suite, as a table
``cvexplorer open LESSON.json``                       open a saved lesson

Bad input prints one sentence on stderr and exits with status 2; never a traceback. The GUI and
heavy libraries are imported only by the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["main"]

SUBCOMMANDS = ("screenshot", "calc", "models", "bench", "open")


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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    handlers = {"screenshot": _screenshot, "calc": _calc, "models": _models, "bench": _bench, "open": _open}
    try:
        if argv and argv[0] in handlers:
            return int(handlers[argv[0]](argv[1:]) or 0)
        return int(_gui(argv) or 0)
    except CliError as exc:
        return _fail(str(exc))
    except (ValueError, OSError) as exc:  # the engine's sentences (ImageLoadError, bad sizes, ...)
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
