"""Render the welcome page's card pictures: ``.venv/bin/python tools/make_thumbnails.py`` (offscreen).

Each panel is built with its built-in sample at 1280×800 in the light theme, its main view is
grabbed and shrunk to 320 px wide, and saved as ``assets/thumb-<panel>.png``. The PNGs are
committed, so the app renders nothing at start-up. Run it again after a panel's look changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from cvexplorer.imageio import display_copy, save_png  # noqa: E402
from cvexplorer.ui.context import AppContext, ensure_app  # noqa: E402
from cvexplorer.ui.registry import create_panel, panel_ids  # noqa: E402
from cvexplorer.ui.themes import THEMES  # noqa: E402
from cvexplorer.ui.widgets.util import grab_array  # noqa: E402

WIDTH = 320


def main(out_dir: Path = Path(__file__).resolve().parents[1] / "assets") -> int:
    app = ensure_app()
    theme = THEMES["light"]
    theme.apply(app)
    for pid in panel_ids():
        if pid == "welcome":
            continue
        ctx = AppContext(theme)
        panel = create_panel(pid, ctx)
        panel.resize(1280, 800)
        panel.show()
        panel.wait_idle(120)
        panel.demo()
        panel.wait_idle(120)
        app.processEvents()
        view = panel.frame.main_view if panel.frame is not None else panel
        shot = grab_array(view)
        path = save_png(out_dir / f"thumb-{pid}.png", display_copy(shot, WIDTH))
        print(f"{path.name}: {shot.shape[1]}×{shot.shape[0]} -> {WIDTH} px wide")
        ctx.workers.shutdown(2000)
        panel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
