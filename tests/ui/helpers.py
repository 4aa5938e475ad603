"""Small readers the UI tests share: what the user sees, read from public widgets."""

from __future__ import annotations

__all__ = ["banner_text", "layer_rect"]


def banner_text(win) -> str:
    """The one-line message the user sees: the current panel's frame banner, or the window's for unframed pages."""
    frame = getattr(win.current_panel(), "frame", None)
    if frame is not None:
        return frame.banner.message()
    return win.banner.text.full_text() if win.banner.isVisible() else ""


def layer_rect(canvas, name: str, *, single: bool = False) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the first path item on a canvas layer (``single``: it must be the only one)."""
    items = canvas.layer_items(name)
    assert items, f"layer {name} is empty"
    if single:
        assert len(items) == 1, f"layer {name} has {len(items)} items"
    r = items[0].path().boundingRect()
    return (r.x(), r.y(), r.x() + r.width(), r.y() + r.height())
