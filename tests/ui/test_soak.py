"""Soak: drive every panel through its main interactions for a while, offscreen.

`make soak` runs it for CVEXPLORER_SOAK_SECONDS (default 300); in the normal test run it is
short (10 s after two warm-up rounds). It asserts that no error was reported and that memory stayed bounded, and prints
the figures.
"""

import os
import time

import numpy as np
import pytest

from cvexplorer.samples import get_sample
from cvexplorer.ui.app import MainWindow
from cvexplorer.ui.registry import panel_ids

RSS_GROWTH_LIMIT_MB = 400  # after warm-up; a leak of one image per interaction would blow far past this


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="RSS is read from /proc")
def test_soak_every_panel(qtbot):
    seconds = float(os.environ.get("CVEXPLORER_SOAK_SECONDS", "10"))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    photo = get_sample("still-life", (1600, 1200))

    def one_round(rounds: int) -> int:
        ops = 0
        for pid in panel_ids():
            win.show_panel(pid)
            panel = win.current_panel()
            if panel.accepts_images and rounds % 2 == 0:
                panel.set_image(photo, "soak")
                ops += 1
            panel.wait_idle(120)
            panel.demo()
            ops += 1
            panel.wait_idle(120)
            p = panel.player()
            if p is not None and p.length:
                for _ in range(5):
                    p.step_forward()
                    ops += 1
                p.first()
            win.dock.refresh(force=True)
        win.apply_theme(("light", "dark", "projector")[rounds % 3])
        return ops

    # Warm-up: two full rounds (one on the photo, one on the samples), so lazy imports, first
    # sessions and each panel's per-image working state exist before measuring; what grows after
    # that is a leak, not a first use.
    ops = one_round(0) + one_round(1)
    start_rss = rss_mb()
    t_end = time.monotonic() + seconds
    rounds = 2
    while time.monotonic() < t_end:
        ops += one_round(rounds)
        rounds += 1
    end_rss = rss_mb()
    growth = end_rss - start_rss
    print(f"\nsoak: {seconds:.0f} s, {rounds} rounds over {len(panel_ids())} panels, {ops} operations, "
          f"RSS {start_rss:.0f} MB -> {end_rss:.0f} MB (growth {growth:+.0f} MB, limit {RSS_GROWTH_LIMIT_MB} MB)")
    assert win.ctx.errors == []
    assert growth < RSS_GROWTH_LIMIT_MB
    win.ctx.workers.shutdown(3000)
