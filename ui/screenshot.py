"""Render a panel offscreen to a PNG: ``cvexplorer screenshot PANEL OUT.png``.

Teachers use it for slides, tests and reviews use it to look at the panels. The panel is built
as a top-level widget of exactly the requested size (or inside the whole window with ``window``),
fed the image, driven to the step asked for, and grabbed once all background work has finished.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["render", "parse_size"]


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080), with a clear error for anything else."""
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 1920x1080, not {text!r}.") from None
    if not (64 <= w <= 7680 and 64 <= h <= 4320):
        raise ValueError(f"--size {w}x{h} is outside 64x64 … 7680x4320.")
    return w, h


def render(panel_id: str, out: str | os.PathLike, *, size: tuple[int, int] = (1600, 1000), theme: str = "light",
           image: str | None = None, step: int | None = None, demo: bool = False, window: bool = False,
           presentation: bool = False, timeout_s: float = 120.0) -> Path:
    """Render ``panel_id`` to ``out`` (PNG) and return the path; ValueError for any bad argument."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Qt is imported only below: the platform must be chosen before the first Qt import
    from cvexplorer.imageio import load_image_info, save_png

    from .registry import create_panel, get_spec
    from .themes import get_theme

    get_spec(panel_id)
    th = get_theme(theme)
    if step is not None and step < 1:
        raise ValueError(f"--step counts from 1 (the first step, as the player shows it), not {step}.")
    rgb = load_image_info(image).rgb if image else None
    from .context import AppContext, ensure_app
    from .widgets.util import grab_array

    app = ensure_app()
    th.apply(app)
    ctx = AppContext(th)
    if window or presentation:
        from PySide6.QtCore import QSettings

        from .app import MainWindow

        settings = QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "cvexplorer-screenshot.ini"),
                             QSettings.Format.IniFormat)
        settings.clear()
        win = MainWindow(ctx, settings)
        win.apply_theme(theme)
        win.show_panel(panel_id)
        panel = win.current_panel()
        target = win
        if presentation:
            from .presentation import enter_presentation

            enter_presentation(win, size=size)
    else:
        panel = create_panel(panel_id, ctx)
        target = panel
    target.resize(*size)
    target.show()
    app.processEvents()
    if demo and rgb is not None and panel.demo_replaces_input:
        raise ValueError(f"The {panel_id} panel's --demo loads its own example, which would replace --image: "
                         "give one of the two.")
    if rgb is not None:
        panel.set_image(rgb, str(image))
    panel.wait_idle(timeout_s)
    if demo:
        panel.demo()
        panel.wait_idle(timeout_s)
    if step is not None:
        player = panel.player()
        if player is None:
            raise ValueError(f"The {panel_id} panel has no step-through, so --step does not apply.")
        if step > player.length:
            raise ValueError(f"--step {step} is past the last step: this step-through has {player.length}.")
        panel.go_to_step(step - 1)
        panel.wait_idle(timeout_s)
    for _ in range(3):
        app.processEvents()
    target.resize(*size)
    app.processEvents()
    arr = grab_array(target)
    path = save_png(out, arr)
    ctx.workers.shutdown(2000)
    target.close()
    return path
