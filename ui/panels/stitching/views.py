"""What the stitching panel draws: matches, one RANSAC hypothesis, the RANSAC plot, warps, the panorama.

Every number drawn here was computed by :mod:`cvexplorer.homography`; these functions only place it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QFrame, QVBoxLayout

from cvexplorer import homography as hg
from cvexplorer.overlay import mask_rgba

from ...widgets.canvas import ImageCanvas
from ...widgets.text import WrapLabel

__all__ = ["ResultCard", "RansacPlot", "draw_matches", "draw_hypothesis", "draw_blend", "draw_panorama",
           "MATCH_LINES", "OUTLIER_LINES", "PLOT_KEY", "seam_caption"]

PLOT_KEY = "plot: dots = inliers of each sample, ✕ = refused sample, green steps = best so far, dashed = bound N"
MATCH_LINES = 300    # at most this many inlier lines are drawn (the counts cover all of them)
OUTLIER_LINES = 200  # and this many outlier lines


class ResultCard(QFrame):
    """The result card: the counts (big), the verdict, what is wrong (red) and the details (muted)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("Card")
        self.stats = WrapLabel("", "Big")
        self.verdict = WrapLabel("")
        self.warning = WrapLabel("", "Warning")
        self.details = WrapLabel("", "Muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        for w in (self.stats, self.verdict, self.warning, self.details):
            lay.addWidget(w)
        lay.addStretch(1)  # lines together at the top of a taller card

    def set_text(self, stats: str = "", verdict: str = "", warning: str = "", details: str = "") -> None:
        self.stats.setText(stats)
        self.verdict.setText(verdict)
        self.warning.setText(warning)
        self.details.setText(details)
        for w in (self.verdict, self.warning, self.details):
            w.setVisible(bool(w.text()))


class RansacPlot(pg.PlotWidget):
    """Inliers of each hypothesis (dots; crosses for refused samples), best so far (staircase),
    the current iteration and the adaptive bound N (vertical lines). No legend: it would cover the
    dots on a projector; :data:`PLOT_KEY` says it in the card."""

    def __init__(self, theme) -> None:
        super().__init__()
        self.count_curve = self.plot([], [], pen=None, symbol="o", name="this sample's inliers")
        self.degenerate_curve = self.plot([], [], pen=None, symbol="x", name="refused sample")
        self.best_curve = self.plot([], [], stepMode="center", name="best so far")
        self.bound_line = pg.InfiniteLine(angle=90, movable=False)
        self.iter_line = pg.InfiniteLine(angle=90, movable=False)
        self.bound_text = pg.TextItem("", anchor=(1, 0))
        for it in (self.bound_line, self.iter_line, self.bound_text):
            self.addItem(it)
        self.apply_theme(theme)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        theme.style_plot(self, left="inliers", bottom="iteration")
        self.bound_text.setFont(theme.font("axis"))
        self.bound_text.setColor(theme.color("accent"))
        self.iter_line.setPen(theme.pen("current", theme.line_px * 0.6))
        self.bound_line.setPen(theme.pen("accent", theme.line_px * 0.6, style="dash"))

    def set_trace(self, trace) -> None:
        """The whole run's history (the same in every step)."""
        th = self.theme
        if trace is None or not len(trace):
            for c in (self.count_curve, self.degenerate_curve, self.best_curve):
                c.setData([], [])
            return
        first = trace[0]
        counts = np.asarray(first["counts"], float)
        bests = np.asarray(first["bests"], float)
        it = np.arange(1, len(counts) + 1)
        good = counts >= 0
        size = 6 + th.line_px * 1.5
        self.count_curve.setData(it[good], counts[good], symbolBrush=pg.mkBrush(th.color("waiting")),
                                 symbolPen=pg.mkPen(th.color("waiting")), symbolSize=size)
        self.degenerate_curve.setData(it[~good], np.zeros(int((~good).sum())),
                                      symbolBrush=pg.mkBrush(th.color("outlier")),
                                      symbolPen=pg.mkPen(th.color("outlier")), symbolSize=size + 2)
        if len(it):
            self.best_curve.setData(np.append(it, it[-1] + 1) - 0.5, bests, pen=th.pen("inlier", th.line_px))
        else:
            self.best_curve.setData([], [])
        bounds = np.asarray(first["bounds"])
        start = int(bounds[0]) if len(bounds) else 1
        self.setXRange(0, max(len(counts) + 1, min(start, 3 * len(counts)) + 1, 3), padding=0.02)
        self.setYRange(0, max(1.0, float(trace.meta["n"])) * 1.05, padding=0)

    def set_step(self, st) -> None:
        self.iter_line.setPos(st.iteration)
        self.bound_line.setPos(st.bound)
        (_x0, x1), (_y0, y1) = self.getViewBox().viewRange()
        self.bound_text.setText(f"bound N = {st.bound}")
        self.bound_text.setPos(min(st.bound, x1), y1 * 0.98)


def _segments(result: hg.HomographyResult, idx: np.ndarray, x_off: float) -> np.ndarray:
    """Match lines from image 1 to image 2 drawn x_off to the right."""
    return np.concatenate([result.src[idx], result.dst[idx] + [x_off, 0]], axis=1)


def draw_matches(c: ImageCanvas, result: hg.HomographyResult, pair: hg.SideBySide, show_outliers: bool,
                 theme) -> None:
    """Keypoints (sky), inlier lines (green) and outlier lines (red) over the side-by-side pair."""
    c.set_image(pair.image)
    c.clear_overlays()
    x_off = pair.x_offset
    lw = theme.line_px
    m = result.matches
    if m is not None and len(m.kp1) + len(m.kp2):
        c.set_points("keypoints", np.concatenate([m.kp1, m.kp2 + [x_off, 0]]), color="waiting", size=3, z=8)
    outl = hg.draw_subset(~result.inliers, OUTLIER_LINES)
    inl = hg.draw_subset(result.inliers, MATCH_LINES)
    if show_outliers and len(outl):
        c.set_lines("outliers", _segments(result, outl, x_off), color="outlier", width=max(1.0, lw * 0.4), z=11)
    if len(inl):
        c.set_lines("inliers", _segments(result, inl, x_off), color="inlier", width=max(1.0, lw * 0.5), z=12)
    c.set_texts("labels", [(8, 8, "image 1"), (x_off + 8, 8, "image 2")])


def draw_hypothesis(c: ImageCanvas, result: hg.HomographyResult, pair: hg.SideBySide, st, shapes,
                    show_outliers: bool, theme) -> None:
    """One RANSAC step: its sample (orange), the matches that agree (green), its model's outline.

    The side-by-side picture is set once per pair by the caller; a step only redraws overlays.
    """
    x_off = pair.x_offset
    lw = theme.line_px
    inliers = np.asarray(st.inliers, bool)
    outl = hg.draw_subset(~inliers, OUTLIER_LINES // 2 + 50)
    inl = hg.draw_subset(inliers, MATCH_LINES)
    if show_outliers and len(outl):
        c.set_lines("outliers", _segments(result, outl, x_off), color="outlier", width=max(1.0, lw * 0.3), z=11)
    else:
        c.clear_layer("outliers")
    c.set_lines("inliers", _segments(result, inl, x_off), color="inlier", width=max(1.0, lw * 0.5), z=12)
    sample = np.asarray(st.sample, int)
    c.set_lines("sample", _segments(result, sample, x_off), color="current", width=lw * 1.5, z=15)
    pts = np.concatenate([result.src[sample], result.dst[sample] + [x_off, 0]]) if len(sample) else np.zeros((0, 2))
    # squares in one path item (a scatter item per step costs more than the rest of the step)
    r = 0.006 * pair.image.shape[1] * max(1.0, theme.line_px / 2)
    c.set_rects("sample-points", np.concatenate([pts - r, pts + r], axis=1), color="current", fill="current",
                alpha=1.0, z=16)
    outline = hg.model_outline(np.asarray(st.H), shapes[0], shapes[1])
    if len(outline):
        c.set_polygons("model", [outline + [x_off, 0]], color="current", dash=True, z=13)
    else:
        c.clear_layer("model")
    c.set_texts("labels", [(8, 8, f"iteration {st.iteration}" if not st.final else "refined"),
                           (x_off + 8, 8, f"{max(st.count, 0)} inliers")])


def _seams(c: ImageCanvas, br: hg.BlendResult, show: bool, theme) -> None:
    if show:
        thick = hg.thick_seams(br.seams, max(1, int(theme.line_px // 2)))
        c.set_overlay("seams", mask_rgba(thick, theme.color("highlight"), 1.0), z=12)
    else:
        c.set_overlay("seams", None)


def seam_caption(blend: str) -> str:
    """What the yellow lines mean (said in the card: a canvas title this long would run off the picture)."""
    return ("yellow lines: where the cross-fade starts and ends" if blend == "feather"
            else "yellow lines: the seams between images")


def draw_blend(c: ImageCanvas, br: hg.BlendResult, blend: str, show_seams: bool, theme) -> None:
    c.set_image(br.image)
    _seams(c, br, show_seams, theme)
    c.set_texts("labels", [(8, 8, f"image 1 warped onto image 2 · {blend}")])


def draw_panorama(c: ImageCanvas, res: hg.StitchResult, shapes, blend: str, show_seams: bool, theme) -> None:
    """The panorama with each image's number at its warped centre."""
    br = res.blend
    c.set_image(br.image)
    _seams(c, br, show_seams, theme)
    centres = hg.panorama_centres(res, shapes)
    c.set_texts("labels", [(x, y, f"{i + 1}" + (" (ref)" if i == res.reference else ""))
                           for (x, y), i in zip(centres, res.used)], anchor=(0.5, 0.5))
    c.set_texts("title", [(8, 8, f"{len(res.used)} images · {blend}")])


def draw_waiting(c: ImageCanvas, shape: tuple, text: str) -> None:
    """A blank page of the input's size with one line: the old picture never stays under new input."""
    h, w = shape[:2]
    c.set_image(np.full((h, w, 3), 255, np.uint8))
    c.clear_overlays()
    c.set_texts("title", [(8, 8, text)])
