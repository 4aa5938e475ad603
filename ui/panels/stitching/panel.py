"""Homography & stitching: features, matches, RANSAC in the open, warping, blending, panoramas.

Tabs of the main view follow the pipeline:

* **Matches** — two images side by side, keypoints, match lines (inliers green, outliers red).
* **RANSAC** — one hypothesis per step (the player under the picture): its 4-point sample (orange),
  the matches that agree, its model's outline; the plot beside it shows every hypothesis's inlier
  count, the best so far and the adaptive bound N.
* **Warp & blend** — image 1 warped onto image 2, blend none / feather / multiband, seams drawn.
* **Panorama** — every image chained to a central reference and blended.
* **Manual** — click four corners of a planar thing; the DLT turns them into a rectified view.

All heavy work runs in worker jobs that call :mod:`cvexplorer.homography`; new input clears the old
pictures at once, and a running job shows its stage in the banner with a Cancel button.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QTabWidget

from cvexplorer import homography as hg
from cvexplorer.imageio import working_copy
from cvexplorer.samples import get_sample

from ...widgets import fit
from ...widgets.canvas import ImageCanvas
from ...widgets.player import TracePlayer
from ..base import Panel
from .cards import CardTexts
from .controls import SOURCES, StitchingControls
from .jobs import JobBanner, builtin_source, pair_job, stitch_job, warp_job
from .manual import ManualMode, ManualView
from .opening import OpenImages
from .views import RansacPlot, ResultCard, draw_blend, draw_hypothesis, draw_matches, draw_panorama, draw_waiting
from .wide_tab import KEY as WIDE_KEY
from .wide_tab import WideTab

__all__ = ["PanelWidget", "TABS"]

WORK_PIXELS = 800_000    # user photos are worked on (and shown) as copies of at most this many pixels
TABS = ("Matches", "RANSAC", "Warp & blend", "Panorama", "Manual", "Wide panorama")
#: Shorter tab titles, in the order they give way while the bar is too narrow (in the projector
#: theme: all six whole at 1920 px, "Warp" at 1280 px, "Wide" too at 1024 px; "Match" is spare)
_SHORT_TITLES = {"Warp & blend": "Warp", "Wide panorama": "Wide", "Matches": "Match"}
KEYS = {"pair": "stitching-pair", "warp": "stitching-warp", "pano": "stitching-pano", "wide": WIDE_KEY}


class PanelWidget(OpenImages, ManualMode, Panel):
    accepts_images = True
    demo_replaces_input = True  # the demo stitches the built-in views

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        self.images: list[np.ndarray] = []
        self.true_H: np.ndarray | None = None
        self.source_name = ""
        self.analysis: hg.PairAnalysis | None = None
        self.pair_view: hg.SideBySide | None = None
        self.blend_result: hg.BlendResult | None = None
        self.stitch_result: hg.StitchResult | None = None
        self.manual_image: np.ndarray | None = None
        self._stitch_dirty = True

        th = ctx.theme
        frame = self.use_frame()
        self.controls = StitchingControls()
        self.match_canvas = ImageCanvas(theme=th)
        self.ransac_canvas = ImageCanvas(theme=th)
        self.warp_canvas = ImageCanvas(theme=th)
        self.pano_canvas = ImageCanvas(theme=th)
        self.manual = ManualView(th, ctx.guard)
        self.manual_canvas = self.manual.canvas
        self.rectified_canvas = self.manual.rectified
        self.tabs = QTabWidget()
        for title, w in zip(TABS, (self.match_canvas, self.ransac_canvas, self.warp_canvas, self.pano_canvas,
                                         self.manual)):
            self.tabs.setTabToolTip(self.tabs.addTab(w, title.replace("&", "&&")), title)
        self.tp = TracePlayer()
        self.card = ResultCard()
        # the card's lines, by name (what tests and lessons read)
        self.stats, self.verdict, self.warning, self.details = (self.card.stats, self.card.verdict,
                                                                self.card.warning, self.card.details)
        self.ransac_plot = RansacPlot(th)
        frame.set_main(self.tabs)
        frame.set_player(self.tp)
        frame.add_controls(self.controls)
        frame.set_card(self.card)
        frame.add_secondary(self.ransac_plot, "Inliers", "RANSAC: inliers of each hypothesis, and the bound on iterations")
        self.texts = CardTexts(self)
        self.jobs = JobBanner(frame.banner, ctx.workers, KEYS, self)
        self.jobs.cancelled.connect(lambda *_: self.texts.render())
        self.wide = WideTab(self)  # the turning camera: match graph, cameras, surface, seams, panorama
        self.wide_canvas = self.wide.canvas
        self.residual_plot = self.wide.plot
        self.tabs.addTab(self.wide_canvas, TABS[-1])
        fit.short_tab_titles(self.tabs, _SHORT_TITLES)
        frame.add_secondary(self.residual_plot, "Ray error", "Bundle adjustment: ray error per iteration")

        c = self.controls
        c.source.currentIndexChanged.connect(self._on_source)
        c.open_btn.clicked.connect(self._open_files)
        c.open_folder_btn.clicked.connect(self._open_folder)
        for sig in (c.pair_combo.currentIndexChanged, c.detector.currentIndexChanged, c.ratio.valueChanged,
                    c.threshold.valueChanged):
            sig.connect(lambda *_: self._recompute())
        c.blend.currentIndexChanged.connect(self._on_blend)
        c.seams.toggled.connect(lambda *_: (self._render_warp_and_pano(), self.texts.render()))
        c.show_outliers.toggled.connect(lambda *_: self._render_pair())
        c.rect_w.valueChanged.connect(self._on_target_size)
        c.rect_h.valueChanged.connect(self._on_target_size)
        c.clear_btn.clicked.connect(self.clear_manual_points)
        self.manual.changed.connect(self._on_manual_changed)
        self.tp.stepChanged.connect(self._on_step)
        self.tabs.currentChanged.connect(self._on_tab)
        self._on_tab(0)
        self._load_source("poster")

    # ---- what the card and tests read -------------------------------------------------------------
    @property
    def pair_result(self) -> hg.HomographyResult | None:
        return self.analysis.result if self.analysis is not None else None

    @property
    def trace(self):
        return self.analysis.trace if self.analysis is not None else None

    def current_tab(self) -> str:
        return TABS[self.tabs.currentIndex()]

    def running(self) -> tuple[str, ...]:
        """The jobs running now ("pair", "warp", "pano")."""
        return tuple(self.jobs.running)

    def cancel(self, job: str = "pair") -> None:
        """Stop a running job ("pair", "warp" or "pano") between two stages (the banner's Cancel)."""
        self.jobs.cancel(job)

    # ---- input ---------------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        """One photo: a second view is made by warping it with a known H (said in the banner)."""
        rgb = working_copy(np.ascontiguousarray(rgb[..., :3]), WORK_PIXELS)[0]
        if self.controls.source.currentData() == "user" and len(self.images) == 1 and self.source_name != source:
            self.set_images([self.images[0], rgb], f"{self.source_name} + {source}")
            return
        view, H = hg.synthetic_view(rgb)
        self.controls.select_source("user")
        self.images, self.true_H, self.source_name, self.manual_image = [rgb, view], H, source, rgb
        self._after_new_images()
        self.frame.banner.show_hint(f"{source or 'Your photo'}: the second view was made by warping it with a known "
                                    f"homography. Open two or more overlapping photos for a real pair.")

    def set_images(self, images: list[np.ndarray], source: str = "") -> None:
        if len(images) < 2:
            raise ValueError("stitching needs at least two images")
        self.controls.select_source("user")
        self.images = [working_copy(np.ascontiguousarray(im[..., :3]), WORK_PIXELS)[0] for im in images]
        self.true_H = None
        self.source_name = source
        self.manual_image = self.images[0]
        self.frame.banner.clear("hint")
        self._after_new_images()

    def _on_source(self, *_):
        key = self.controls.source.currentData()
        if key == "user":
            if not self.images or self.source_name.startswith("built-in"):
                self.frame.banner.show_hint("Use 'Open images…' (or File > Open) to load your photos.")
            return
        self._load_source(key)

    def _load_source(self, key: str) -> None:
        self.images, self.true_H = builtin_source(key)
        self.source_name = f"built-in {key}"
        self.manual_image = get_sample("document", (800, 600))
        self.frame.banner.clear("hint")
        self._after_new_images()

    def _after_new_images(self) -> None:
        self.controls.set_pairs(len(self.images))
        self._init_manual()
        self.wide.invalidate()
        self._recompute()

    # ---- jobs ----------------------------------------------------------------------------------------
    def _recompute(self) -> None:
        """New images or settings: the old results leave the screen now, the new ones are computed."""
        if len(self.images) < 2:
            return
        i, j = self.controls.pair()
        self.analysis = None
        self.pair_view = hg.side_by_side(self.images[i], self.images[j])
        for c in (self.match_canvas, self.ransac_canvas):
            c.set_image(self.pair_view.image)
            c.clear_overlays()
        self.tp.set_trace(None)
        self.ransac_plot.set_trace(None)
        self._clear_warp()
        self._clear_panorama()
        stop, report = self.jobs.start("pair", f"Matching images {i + 1} and {j + 1}:")
        self.ctx.workers.submit(KEYS["pair"], pair_job, self.images[i], self.images[j], self.controls.options(),
                                self.true_H, stop, report, on_done=self._pair_done,
                                on_error=lambda exc: self._on_error("pair", exc))
        if self.current_tab() == "Panorama":
            self._request_stitch()
        self.texts.render()

    def _on_error(self, job: str, exc) -> None:
        self.jobs.finish(job)
        if isinstance(exc, hg.Cancelled):
            return
        self.ctx.report_error(exc, "stitching")
        if job == "pano":
            draw_waiting(self.pano_canvas, self.images[0].shape, "no panorama: the computation failed")
        self.texts.render(error=f"Could not compute: {exc}")

    def _pair_done(self, out: hg.PairAnalysis) -> None:
        self.jobs.finish("pair")
        self.analysis = out
        self.ctx.record(self.panel_id or "stitching", dict(out.result.timings), device="CPU")
        self.ransac_plot.set_trace(out.trace)
        self.tp.set_trace(out.trace)
        self._render_pair()
        if out.trace is not None:
            self.tp.seek(0)
        self._request_warp()
        self.texts.render()

    def _clear_warp(self) -> None:
        self.jobs.drop("warp")
        self.blend_result = None
        if len(self.images) >= 2:
            draw_waiting(self.warp_canvas, self.images[self.controls.pair()[1]].shape, "warping…")

    def _clear_panorama(self) -> None:
        self.jobs.drop("pano")
        self.stitch_result = None
        self._stitch_dirty = True
        if self.images:
            draw_waiting(self.pano_canvas, self.images[0].shape, f"{len(self.images)} images: not stitched yet")

    def _request_warp(self) -> None:
        r = self.pair_result
        i, j = self.controls.pair()
        if r is None or r.H is None or not r.reliable:
            # a failed estimate is not warped as if it were a result: say why instead
            self.blend_result = None
            self.warp_canvas.set_image(self.images[j])
            self.warp_canvas.clear_overlays()
            if r is not None:
                self.warp_canvas.set_texts("labels", [(8, 8, "no warp: " + (r.reason or "no homography"))])
            return
        self.jobs.start("warp", "Warping image 1 onto image 2…", banner=False)
        self.ctx.workers.submit(KEYS["warp"], warp_job, self.images[i], self.images[j], r.H,
                                self.controls.blend.currentData(), on_done=self._warp_done,
                                on_error=lambda exc: self._on_error("warp", exc))

    def _warp_done(self, br: hg.BlendResult) -> None:
        self.jobs.finish("warp")
        self.blend_result = br
        self.ctx.record(self.panel_id or "stitching", dict(br.timings), device="CPU")
        self._render_warp_and_pano()
        self.texts.render()

    def _request_stitch(self) -> None:
        if len(self.images) < 2:
            return
        self._stitch_dirty = False
        self.stitch_result = None
        draw_waiting(self.pano_canvas, self.images[0].shape, f"stitching {len(self.images)} images…")
        stop, report = self.jobs.start("pano", f"Stitching {len(self.images)} images:")
        self.ctx.workers.submit(KEYS["pano"], stitch_job, list(self.images), self.controls.options(),
                                self.controls.blend.currentData(), stop, report, on_done=self._stitch_done,
                                on_error=lambda exc: self._on_error("pano", exc))

    def _stitch_done(self, res: hg.StitchResult) -> None:
        self.jobs.finish("pano")
        self.stitch_result = res
        self.ctx.record(self.panel_id or "stitching", {f"stitch {k}": v for k, v in res.timings.items()},
                        device="CPU")
        if res.blend is None:
            draw_waiting(self.pano_canvas, self.images[0].shape, "no panorama: " + (res.warnings or ["failed"])[-1])
        self._render_warp_and_pano()
        self.texts.render()

    def _on_blend(self, *_):
        self._clear_warp()
        self._request_warp()
        self._clear_panorama()
        if self.current_tab() == "Panorama":
            self._request_stitch()

    def _on_tab(self, idx: int) -> None:
        self.controls.show_for_tab(TABS[idx])
        self.frame.show_secondary(self.residual_plot if TABS[idx] == "Wide panorama" else self.ransac_plot)
        if TABS[idx] == "Wide panorama" and self.wide.dirty and "wide" not in self.running():
            self.wide.request()
        if TABS[idx] == "Panorama" and (self._stitch_dirty or self.stitch_result is None) and "pano" not in self.running():
            self._request_stitch()
        self.texts.render()

    # ---- rendering -----------------------------------------------------------------------------------
    def _shapes(self) -> tuple[tuple, tuple]:
        i, j = self.controls.pair()
        return self.images[i].shape, self.images[j].shape

    def _render_pair(self) -> None:
        r = self.pair_result
        if r is None or self.pair_view is None:
            return
        th = self.ctx.theme
        draw_matches(self.match_canvas, r, self.pair_view, self.controls.show_outliers.isChecked(), th)
        self.ransac_canvas.clear_overlays()
        if self.trace is not None and self.tp.length:
            self._on_step(self.tp.index)

    def _on_step(self, i: int) -> None:
        t = self.trace
        if t is None or not len(t) or self.pair_view is None:
            return
        st = t[i]
        self.tp.set_caption(st.caption)
        draw_hypothesis(self.ransac_canvas, self.pair_result, self.pair_view, st, self._shapes(),
                        self.controls.show_outliers.isChecked(), self.ctx.theme)
        self.ransac_plot.set_step(st)
        if self.current_tab() == "RANSAC":
            self.texts.render()

    def _render_warp_and_pano(self) -> None:
        th = self.ctx.theme
        blend = self.controls.blend.currentData()
        seams = self.controls.seams.isChecked()
        if self.blend_result is not None:
            draw_blend(self.warp_canvas, self.blend_result, blend, seams, th)
        res = self.stitch_result
        if res is not None and res.blend is not None:
            draw_panorama(self.pano_canvas, res, [im.shape for im in self.images], blend, seams, th)

    # ---- player, lessons, demo ---------------------------------------------------------------------
    def player(self):  # noqa: D401 - Panel hook
        return self.tp

    def go_to_step(self, n: int) -> None:
        self.tabs.setCurrentIndex(TABS.index("RANSAC"))
        super().go_to_step(n)

    def state(self) -> dict[str, Any]:
        c = self.controls
        st = super().state()
        st.update({"tab": self.current_tab(), "source": c.source.currentData(),
                   "detector": c.detector.currentData(), "ratio": c.ratio.value(),
                   "threshold": c.threshold.value(), "blend": c.blend.currentData(),
                   "surface": c.surface.currentData(), "wide_stage": c.wide_stage.currentData(),
                   "manual_points": [list(p) for p in self.manual_points]})
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        c = self.controls
        if state.get("source") and state["source"] != "user":
            c.source.setCurrentIndex([k for k, _ in SOURCES].index(state["source"]))
        if "detector" in state:
            k = c.detector.findData(state["detector"])
            if k >= 0:
                c.detector.setCurrentIndex(k)
        if "ratio" in state:
            c.ratio.setValue(float(state["ratio"]))
        if "threshold" in state:
            c.threshold.setValue(float(state["threshold"]))
        if "blend" in state:
            c.blend.setCurrentIndex(list(hg.BLENDS).index(state["blend"]))
        if "manual_points" in state:
            self.manual.set_points(state["manual_points"])
        if "tab" in state and state["tab"] in TABS:
            self.tabs.setCurrentIndex(TABS.index(state["tab"]))
        self.wait_idle(60)
        if "step" in state:
            super().go_to_step(int(state["step"]))

    def demo(self) -> None:
        """Stitch the built-in three views and show the panorama."""
        self.controls.select_source("views3", quiet=False)
        self.wait_idle(60)
        self.tabs.setCurrentIndex(TABS.index("Panorama"))

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.ransac_plot.apply_theme(theme)
        self.wide.apply_theme(theme)
        self.ransac_plot.set_trace(self.trace)
        self._render_pair()
        self._render_warp_and_pano()

    def shutdown(self) -> None:
        self.jobs.shutdown()
