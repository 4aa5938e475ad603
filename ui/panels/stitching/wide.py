"""The "Wide panorama" tab: a turning camera's stages drawn one at a time.

Stages (the ``stage`` setting): the match graph; the images on the chosen surface (with the plane's
outlines on request, to show where a plane gives up); the seams and exposure gains; the panorama,
cropped to its valid rectangle on request. Every number here comes from :mod:`cvexplorer.panorama`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from cvexplorer import panorama as pano
from cvexplorer.overlay import mask_rgba

from ...widgets.canvas import ImageCanvas

__all__ = ["WIDE_STAGES", "ResidualPlot", "draw_wide", "wide_card"]

WIDE_STAGES = (("graph", "1 · match graph"), ("surface", "2 · images on the surface"),
               ("seams", "3 · seams and exposure gains"), ("result", "4 · panorama"))
SHEET_WIDTH = 1600  # the plane drawing's width in pixels


class ResidualPlot(pg.PlotWidget):
    """Bundle adjustment's ray error after each Levenberg–Marquardt iteration (0: the start)."""

    def __init__(self, theme) -> None:
        super().__init__()
        self.curve = self.plot([], [], symbol="o")
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self, left="ray error (px)", bottom="iteration")
        self.curve.setPen(theme.pen("accent", theme.line_px))
        self.curve.setSymbolBrush(pg.mkBrush(theme.color("accent")))
        self.curve.setSymbolSize(6 + theme.line_px * 1.5)

    def set_residuals(self, values) -> None:
        v = np.asarray(values or (), float)
        self.curve.setData(np.arange(len(v)), v)
        if len(v):
            self.setLogMode(False, True)  # from tens of pixels to one: a log axis shows every step
            self.enableAutoRange()


def _draw_graph(c: ImageCanvas, images, p: pano.Panorama) -> None:
    sheet = pano.graph_sheet(images, p.graph)
    c.set_image(sheet.image)
    c.clear_overlays()
    c.set_lines("edges", sheet.segments(), color="inlier", z=10)
    c.set_texts("edge-labels", sheet.edge_labels(), anchor=(0.5, 0.5), background="white")
    dropped = [sheet.boxes[i] for i, _ in p.graph.dropped]
    if dropped:
        c.set_rects("dropped", np.array(dropped, float), color="outlier", z=12)
    c.set_texts("labels", [(b[0] + 4, b[1] + 4, f"{k + 1}") for k, b in enumerate(sheet.boxes)], background="white")
    c.set_texts("title", [(8, 8, f"{len(p.used)} of {p.graph.n_images} images connected · numbers: inliers")])


def _draw_surface(c: ImageCanvas, p: pano.Panorama, show_plane: bool) -> None:
    c.clear_overlays()
    if show_plane and p.model == "rotation":
        out = pano.surface_outlines(p.cameras, [(int(2 * cam.ppx), int(2 * cam.ppy)) for cam in p.cameras], "plane")
        x0, y0, x1, y1 = out.extent
        scale = SHEET_WIDTH / max(x1 - x0, 1.0)
        c.set_image(np.full((max(2, int((y1 - y0) * scale)), SHEET_WIDTH, 3), 255, np.uint8))
        ok = [k for k, b in enumerate(out.behind) if not b]
        bad = [k for k, b in enumerate(out.behind) if b]
        if ok:
            c.set_lines("outline-ok", np.concatenate([out.segments(k, scale=scale) for k in ok]), color="inlier", z=10)
        if bad:
            c.set_lines("outline-far", np.concatenate([out.segments(k, scale=scale) for k in bad]), color="outlier", z=11)
        names = ", ".join(str(p.used[k] + 1) for k in bad)
        c.set_texts("title", [(8, 8, f"on a plane: images {names} run off to infinity (red)" if bad
                               else "on a plane: every image fits")])
        return
    c.set_image(p.preview)
    c.set_texts("title", [(8, 8, f"{len(p.used)} images on a {p.surface} surface (focal {p.focal:.0f} px)")])


def _draw_seams(c: ImageCanvas, p: pano.Panorama, theme) -> None:
    c.set_image(p.preview)
    c.clear_overlays()
    c.set_overlay("seams", mask_rgba(pano.label_edges(p.labels), theme.color("highlight"), 1.0), z=12)
    centres = pano.label_centres(p.labels, len(p.used))
    c.set_texts("gains", [(xy[0], xy[1], f"{p.used[k] + 1}: ×{p.gains[k]:.2f}")
                          for k, xy in enumerate(centres) if xy is not None], anchor=(0.5, 0.5), background="white")
    c.set_texts("title", [(8, 8, "yellow: seams found by the search · ×g: each image's exposure gain")])


def _draw_result(c: ImageCanvas, p: pano.Panorama, crop: bool) -> None:
    img = p.image
    if crop and p.crop is not None and p.crop[2] > p.crop[0] and p.crop[3] > p.crop[1]:
        x0, y0, x1, y1 = p.crop
        img = img[y0:y1, x0:x1]
    c.set_image(np.ascontiguousarray(img))
    c.clear_overlays()
    c.set_texts("title", [(8, 8, f"{len(p.used)} images · {p.surface} · {img.shape[1]}×{img.shape[0]}")])


def draw_wide(c: ImageCanvas, stage: str, images, p: pano.Panorama, *, show_plane: bool, crop: bool, theme) -> None:
    """Draw ``stage`` of the panorama ``p`` of ``images`` on canvas ``c``."""
    if stage == "graph":
        _draw_graph(c, images, p)
    elif stage == "surface":
        _draw_surface(c, p, show_plane)
    elif stage == "seams":
        _draw_seams(c, p, theme)
    else:
        _draw_result(c, p, crop)


def wide_card(p: pano.Panorama | None, n: int, running: bool, error: str) -> tuple[str, str, str, str]:
    """The card's four lines for the Wide panorama tab."""
    if p is None:
        if running:
            return f"stitching {n} images…", "", "", ""
        return ("no panorama", "", error, "") if error else ("not stitched", "", "", "")
    stats = f"{len(p.used)} of {n} images used"
    if p.model == "affine":
        verdict = "Flat scans: an affine model (shift, turn, scale) explains the matches as well as a homography."
    else:
        verdict = (f"focal f = {p.focal:.0f} px · field of view {p.fov_deg:.0f}° → "
                   f"{p.surface} surface\nray error {p.residuals_px[0]:.1f} → "
                   f"{p.residuals_px[-1]:.2f} px in {len(p.residuals_px) - 1} bundle-adjustment steps")
    warn = [f"image {i + 1} left out: {why}" for i, why in p.graph.dropped]
    details = "  ".join(f"{k} {v:.0f} ms" for k, v in p.timings.items())
    return stats, verdict, "\n".join(warn + ([error] if error else [])), details
