"""The Wide panorama tab's state and its job: one :func:`cvexplorer.panorama.stitch_panorama` run per
set of images and surface; the stage shown, the plane toggle and the crop only redraw."""

from __future__ import annotations

from cvexplorer import panorama as pano

from ...widgets.canvas import ImageCanvas
from .jobs import wide_job
from .views import draw_waiting
from .wide import ResidualPlot, draw_wide, wide_card

__all__ = ["WideTab", "KEY"]

KEY = "stitching-wide"


class WideTab:
    """``canvas`` (the tab's picture), ``plot`` (the residual curve), ``result`` and ``error``."""

    def __init__(self, panel) -> None:
        self.panel = panel
        th = panel.ctx.theme
        self.canvas = ImageCanvas(theme=th)
        self.plot = ResidualPlot(th)
        self.result: pano.Panorama | None = None
        self.error = ""
        self.dirty = True
        c = panel.controls
        c.surface.currentIndexChanged.connect(lambda *_: self.invalidate(run=True))
        for sig in (c.wide_stage.currentIndexChanged, c.plane_check.toggled, c.crop_check.toggled):
            sig.connect(lambda *_: self.render())

    def invalidate(self, run: bool = False) -> None:
        """New images or surface: the old panorama leaves the screen now."""
        p = self.panel
        p.jobs.drop("wide")
        self.result, self.error, self.dirty = None, "", True
        self.plot.set_residuals(())
        if p.images:
            draw_waiting(self.canvas, p.images[0].shape, f"{len(p.images)} images: not stitched yet")
        if run or p.current_tab() == "Wide panorama":
            self.request()
        p.texts.render()

    def request(self) -> None:
        p = self.panel
        if len(p.images) < 2:
            return
        self.dirty = False
        n = len(p.images)
        draw_waiting(self.canvas, p.images[0].shape, f"stitching {n} images as a turning camera…")
        stop, report = p.jobs.start("wide", f"Stitching {n} images as a turning camera:")
        p.ctx.workers.submit(KEY, wide_job, list(p.images), p.controls.surface.currentData(), stop, report,
                             on_done=self._done, on_error=lambda exc: self._failed(exc, stop))

    def _done(self, result: pano.Panorama) -> None:
        p = self.panel
        p.jobs.finish("wide")
        self.result, self.error = result, ""
        p.ctx.record(p.panel_id or "stitching", {f"wide {k}": v for k, v in result.timings.items()}, device="CPU")
        self.plot.set_residuals(result.residuals_px)
        p.frame.show_secondary(self.plot)
        self.render()

    def _failed(self, exc, stop) -> None:
        p = self.panel
        p.jobs.finish("wide")
        if stop.is_set():
            return  # cancelled or replaced: the banner already says so
        self.result, self.error = None, str(exc)
        p.frame.banner.show_error(f"No panorama: {exc}")
        draw_waiting(self.canvas, p.images[0].shape, "no panorama: see the card")
        p.texts.render()

    def render(self) -> None:
        p = self.panel
        if self.result is not None:
            c = p.controls
            draw_wide(self.canvas, c.wide_stage.currentData(), [p.images[i] for i in range(len(p.images))],
                      self.result, show_plane=c.plane_check.isChecked(), crop=c.crop_check.isChecked(),
                      theme=p.ctx.theme)
        p.texts.render()

    def card(self) -> tuple[str, str, str, str]:
        p = self.panel
        return wide_card(self.result, len(p.images), "wide" in p.running(), self.error)

    def apply_theme(self, theme) -> None:
        self.plot.apply_theme(theme)
        self.render()
