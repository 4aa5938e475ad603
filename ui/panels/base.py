"""Panel: the base class of every panel (one module per panel in ``ui/panels``).

A panel is a QWidget that receives an :class:`~cvexplorer.ui.context.AppContext`. It calls the
engine (in a worker for anything over ~5 ms) and renders the result. The main window talks to
panels only through the hooks below, so every panel gets images, shortcuts, screenshots,
lessons and the soak test for free by overriding what applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..context import AppContext
from ..frame import PanelFrame
from ..themes import Theme

if TYPE_CHECKING:  # NumPy is not needed to build the window (it paints before NumPy loads)
    import numpy as np

__all__ = ["Panel"]


class Panel(QWidget):
    #: Set by the registry: the panel's id, title and one-line description.
    panel_id: str = ""
    title: str = ""
    description: str = ""
    #: Does File > Open image... feed this panel? (and drag-and-drop)
    accepts_images: bool = True
    accepts_stereo: bool = False
    #: Does :meth:`demo` load its own example (so a screenshot cannot honour ``--image`` with ``--demo``)?
    demo_replaces_input: bool = False

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        #: The file the current image came from (saved into lessons), if any.
        self.image_path: str | None = None
        #: The panel's :class:`~cvexplorer.ui.frame.PanelFrame`, once :meth:`use_frame` built it.
        self.frame: PanelFrame | None = None
        ctx.themeChanged.connect(self._on_theme)

    def use_frame(self) -> PanelFrame:
        """The frame this panel fills (built on first call): main view, controls, card, secondary, banner."""
        if self.frame is None:
            self.frame = PanelFrame(self)
            lay = QVBoxLayout(self)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(self.frame)
        return self.frame

    def minimumSizeHint(self):  # noqa: N802 - a framed panel always fits (its slots scroll or wrap)
        return self.frame.minimumSizeHint() if self.frame is not None else super().minimumSizeHint()

    # -- input --------------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        """Show the user's image (RGB uint8, already validated). Called by Open, drag-and-drop, CLI."""

    def set_stereo_pair(self, left: np.ndarray, right: np.ndarray, source: str = "") -> None:
        """Receive a stereo pair (only panels with ``accepts_stereo``)."""

    # -- step-through -------------------------------------------------------------------------------
    def player(self):
        """The panel's TracePlayer, if it has one (Space / arrows / Home / End drive it)."""
        return None

    def go_to_step(self, n: int) -> None:
        p = self.player()
        if p is not None:
            p.seek(n)

    # -- lessons --------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to restore this panel (JSON-serialisable)."""
        st: dict[str, Any] = {}
        p = self.player()
        if p is not None:
            st["step"] = p.index
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        if "step" in state:
            self.go_to_step(int(state["step"]))

    # -- scripted use: screenshots (--demo) and the soak test -----------------------------------------
    def demo(self) -> None:
        """Drive the panel's main interaction once (a click, a box, a few steps)."""
        p = self.player()
        if p is not None and p.length:
            p.seek(p.length // 2)

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Let background work and debounced recomputes finish (tests and screenshots only)."""
        from PySide6.QtCore import QCoreApplication

        from ..workers import Debouncer

        for deb in self.findChildren(Debouncer):
            deb.flush()
        ok = self.ctx.workers.wait_idle(timeout_s)
        QCoreApplication.processEvents()
        return ok

    # -- theme ----------------------------------------------------------------------------------------
    def _on_theme(self, theme: Theme) -> None:
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        """Re-style views that draw themselves (canvases, plots); QSS handles plain widgets."""
        from ..widgets.canvas import ImageCanvas

        for c in self.findChildren(ImageCanvas):
            c.apply_theme(theme)

    # -- presentation mode ------------------------------------------------------------------------------
    def set_presentation(self, on: bool) -> None:
        """Presentation mode: the settings collapse so the picture gets the room."""
        if self.frame is not None:
            self.frame.set_presentation(on)
            return
        for w in self.findChildren(QWidget, "Controls"):
            w.setVisible(not on)

    # -- lifecycle ----------------------------------------------------------------------------------
    def on_shown(self) -> None:
        """The panel became the current one."""

    def on_hidden(self) -> None:
        """Another panel became current (pause animations here)."""
        p = self.player()
        if p is not None:
            p.pause()

    def on_device_changed(self, device: str) -> None:
        """The user chose Auto / GPU / CPU for onnxruntime: rebuild sessions here."""

    def shutdown(self) -> None:
        """The window is closing: cancel what can be cancelled."""
