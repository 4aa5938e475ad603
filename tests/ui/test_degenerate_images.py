"""Degenerate images in every panel (issue 26): a 1×5000 strip, a 5000×1 column and a 3×20000 needle.

Each panel's ``set_image`` gets the array (as a drop or File ▸ Open would deliver it), its background
work finishes, and no arithmetic error (ZeroDivisionError, OverflowError: the banner's "too large or
too small" sentence) may come out; a panel that cannot use such an image says why in a sentence.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvexplorer.ui.registry import panel_ids

SHAPES = [(1, 5000), (5000, 1), (20000, 3)]
ARITHMETIC = "too large or too small for this computation"


@pytest.mark.parametrize("panel_id", [p for p in panel_ids() if p != "welcome"])
def test_degenerate_images_give_no_arithmetic_error(make_panel, ctx, panel_id):
    panel = make_panel(panel_id)
    rng = np.random.default_rng(0)
    for h, w in SHAPES:
        panel.set_image(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), f"strip_{w}x{h}.png")
        panel.wait_idle(60)
    bad = [e for e in ctx.errors if ARITHMETIC in e or "Unexpected" in e]
    assert not bad, bad
