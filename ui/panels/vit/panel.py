"""Vision Transformer lab: patches and tokens, what attention costs, and a tiny ViT's attention.

Modes
-----
* patches     the photo cut into P×P patches (zero padding shaded); the card counts the tokens and the
              attention cost live as the patch-size slider moves; the side view draws the T×T attention
              matrix to scale against the one at 16-pixel patches.
* attention   the shipped tiny ViT on a generated scene (or the photo, shrunk to 64×64): click a patch to
              see its attention row as a heat map, per layer and head; or the CLS token's row; or rollout.
* positions   the learned position embeddings: one small cosine-similarity map per patch.
* windows     which tokens a clicked token can see with global attention, and inside a window; the
              card compares the two costs (SAM's encoder: 64×64 tokens, 14×14 windows).
* masking     MAE-style random masking: hidden patches are removed from every softmax; the card
              compares the prediction with and without them.

All arithmetic is :mod:`cvexplorer.vit`; model runs go through the worker pool.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cvexplorer import vit as V
from cvexplorer.overlay import hex_to_rgb, mask_rgba, values_rgba
from cvexplorer.samples import get_sample

from ...widgets.canvas import ImageCanvas
from ...widgets.formula import FormulaCard
from ..base import Panel
from .cards import attention_card, masking_card, patches_card, positions_card, windows_card
from .controls import MODES, ViTControls
from .views import MatrixScale, ProbabilityBars

__all__ = ["PanelWidget"]

RUN_JOB = "vit-run"
SAM_SIDE = 1024  # SAM's encoder input: 1024×1024 pixels in 16-pixel patches -> 64×64 tokens


class PanelWidget(Panel):
    """The ViT lab."""

    demo_replaces_input = False

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self.mode = "patches"
        self.photo = get_sample("still-life", size=(640, 480))
        self.photo_source = "sample: still life"
        self.scene = V.shape_scene(7)
        self.run: V.ViTRun | None = None
        self.masked: V.MaskedRun | None = None
        self.selected: int | None = None  # the clicked patch (attention) or token (windows)
        self.sam_grid = False
        self.patch_cost: V.PatchCost | None = None
        self.heat: np.ndarray | None = None  # the (rows, cols) map on screen in attention mode
        self._building = True

        self.controls = c = ViTControls()
        for name in ("mode_box", "patch_slider", "preset_box", "source_box", "scene_seed", "new_scene_btn",
                     "query_box", "layer_spin", "head_box", "window_check", "window_spin", "sam_btn",
                     "mask_slider", "mask_seed"):
            setattr(self, name, getattr(c, name))
        self.canvas = ImageCanvas(theme=th)
        self.card = FormulaCard("Tokens", "")
        self.matrix = MatrixScale(th)
        self.probs = ProbabilityBars(th)
        frame = self.use_frame()
        frame.set_main(self.canvas)
        frame.add_controls(c)
        frame.set_card(self.card)
        frame.add_secondary(self.matrix, "Attention", "Attention matrix: each token's weights over all tokens")
        frame.add_secondary(self.probs, "Prediction")

        g = ctx.guard
        c.mode_box.currentIndexChanged.connect(g(lambda _i: self.set_mode(c.mode_box.currentData()), "mode"))
        c.patch_slider.valueChanged.connect(g(lambda _v: self._patch_changed(), "patch size"))
        c.preset_box.currentIndexChanged.connect(g(lambda _i: self.render(), "model size"))
        c.source_box.currentIndexChanged.connect(g(lambda _i: self.submit_run(), "picture"))
        c.scene_seed.valueChanged.connect(g(lambda v: self.set_scene(v), "scene"))
        c.new_scene_btn.clicked.connect(g(lambda: c.scene_seed.setValue(c.scene_seed.value() + 1), "new scene"))
        for w in (c.query_box, c.head_box):
            w.currentIndexChanged.connect(g(lambda _i: self.render(), "attention view"))
        c.layer_spin.valueChanged.connect(g(lambda _v: self.render(), "layer"))
        c.window_check.toggled.connect(g(lambda _b: self.render(), "window"))
        c.window_spin.valueChanged.connect(g(lambda _v: self.render(), "window"))
        c.sam_btn.clicked.connect(g(self.use_sam_grid, "SAM grid"))
        c.open_sam_btn.clicked.connect(g(lambda: self.ctx.open_panel("sam"), "Open Segment Anything"))
        c.mask_slider.valueChanged.connect(g(lambda _v: self.submit_run(), "masking"))
        c.mask_seed.valueChanged.connect(g(lambda _v: self.submit_run(), "masking"))
        self.canvas.clicked.connect(g(lambda x, y, *_: self.click(x, y), "click"))
        self._building = False
        self.set_mode("patches")

    # -- Panel hooks ------------------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self.photo = rgb
        self.photo_source = source or "your image"
        self.sam_grid = False
        if self.mode in ("attention", "masking"):
            self._building = True
            self.source_box.setCurrentIndex(self.source_box.findData("image"))
            self._building = False
            self.submit_run()
        else:
            self.render(fit=True)

    def state(self) -> dict[str, Any]:
        return {"mode": self.mode, "patch": self.patch_slider.value(), "seed": self.scene_seed.value(),
                "query": self.query_box.currentData(), "layer": self.layer_spin.value(),
                "head": self.head_box.currentIndex(), "window": self.window_spin.value(),
                "windowed": self.window_check.isChecked(), "mask": self.mask_slider.value(),
                "selected": self.selected}

    def restore_state(self, state: dict[str, Any]) -> None:
        self._building = True
        try:
            for key, w in (("patch", self.patch_slider), ("seed", self.scene_seed), ("window", self.window_spin),
                           ("mask", self.mask_slider)):
                if key in state:
                    w.setValue(int(state[key]))
            if "windowed" in state:
                self.window_check.setChecked(bool(state["windowed"]))
            if "query" in state:
                self.query_box.setCurrentIndex(max(0, self.query_box.findData(state["query"])))
        finally:
            self._building = False
        self.scene = V.shape_scene(self.scene_seed.value())
        self.set_mode(state.get("mode", self.mode))
        self.wait_idle(30)
        if "layer" in state:
            self.layer_spin.setValue(int(state["layer"]))
        if "head" in state:
            self.head_box.setCurrentIndex(int(state["head"]))
        if state.get("selected") is not None:
            self.selected = int(state["selected"])
            self.render()

    def demo(self) -> None:
        """Show the tiny ViT's attention from a patch on the shape."""
        self.set_mode("attention")
        self.wait_idle(30)
        x0, y0, x1, y1 = self.scene.box
        self.click((x0 + x1) / 2, (y0 + y1) / 2)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.matrix.apply_theme(theme)
        self.probs.apply_theme(theme)
        self.render()

    def shutdown(self) -> None:
        self.ctx.workers.cancel(RUN_JOB)

    # -- what is shown ----------------------------------------------------------------------------------
    def picture(self) -> np.ndarray:
        """The photo the patch and window modes cut up (SAM's 1024×1024 square when asked for)."""
        return V.fit_square(self.photo, SAM_SIDE) if self.sam_grid else self.photo

    def grid(self) -> V.TokenGrid:
        h, w = self.picture().shape[:2]
        return V.token_grid(h, w, self.patch_slider.value())

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"There is no mode {mode!r}; choose one of {', '.join(MODES)}.")
        self.mode = mode
        self._building = True
        self.mode_box.setCurrentIndex(MODES.index(mode))
        self._building = False
        self.controls.show_mode(mode)
        self.selected = None
        self.canvas.clear_overlays()
        self.frame.show_secondary(self.probs if mode in ("attention", "masking") else self.matrix)
        if mode in ("attention", "masking", "positions"):
            self.submit_run()
        else:
            self.render(fit=True)

    def set_scene(self, seed: int) -> None:
        self.scene = V.shape_scene(int(seed))
        self.selected = None
        if self.source_box.currentData() != "scene":
            self.source_box.setCurrentIndex(self.source_box.findData("scene"))  # submits
        else:
            self.submit_run()

    def use_sam_grid(self) -> None:
        """SAM's encoder: the picture as 1024×1024 pixels, 16-pixel patches, 14×14-token windows."""
        self.sam_grid = True
        self._building = True
        self.patch_slider.setValue(16)
        self.window_spin.setValue(14)
        self.window_check.setChecked(True)
        self._building = False
        self.selected = None
        self._patch_changed()

    def _patch_changed(self) -> None:
        self.controls.patch_label.setText(f"Patch size: {self.patch_slider.value()} px")
        if not self._building:
            self.selected = None
            self.render(fit=False)

    # -- the model job --------------------------------------------------------------------------------
    def model_input(self) -> np.ndarray:
        return self.photo if self.source_box.currentData() == "image" else self.scene.image

    def submit_run(self) -> None:
        if self._building:
            return
        ratio = self.mask_slider.value() / 100.0
        self.controls.mask_label.setText(f"Hidden: {self.mask_slider.value()} %")
        fill = hex_to_rgb(self.ctx.theme.color("muted"))
        self.frame.banner.show_progress("Running the tiny ViT…")
        self.ctx.workers.submit(RUN_JOB, V.masked_prediction, self.model_input(), ratio,
                                seed=self.mask_seed.value(), fill=fill, on_done=self._run_done,
                                on_error=self._run_failed)

    def _run_done(self, result: V.MaskedRun) -> None:
        self.frame.banner.clear("progress")
        self.masked = result
        self.run = result.full
        self.controls.set_heads(self.run.heads, self.run.layers)
        self.ctx.record(self.panel_id or "vit", result.full.ms, result.full.device)
        self.render(fit=True)

    def _run_failed(self, exc: BaseException) -> None:
        self.frame.banner.show_error(f"The tiny ViT could not run: {exc}")
        self.card.show_error(str(exc))

    # -- interaction ------------------------------------------------------------------------------------
    def click(self, x: float, y: float) -> None:
        if self.mode == "attention" and self.run is not None:
            g = V.token_grid(self.run.image.shape[0], self.run.image.shape[1], self.run.patch)
        elif self.mode == "windows":
            g = self.grid()
        else:
            return
        p = V.patch_at(g, x, y)
        if p is None:
            return
        self.selected = p
        if self.mode == "attention" and self.query_box.currentData() != "patch":
            self.query_box.setCurrentIndex(self.query_box.findData("patch"))  # renders
        else:
            self.render()

    # -- rendering --------------------------------------------------------------------------------------
    def render(self, fit: bool = False) -> None:
        if self._building:
            return
        draw = {"patches": self._render_patches, "attention": self._render_attention,
                "positions": self._render_positions, "windows": self._render_windows,
                "masking": self._render_masking}[self.mode]
        self.canvas.clear_overlays()
        draw()
        if fit:
            self.canvas.fit()

    def _grid_lines(self, g: V.TokenGrid, *, every: int = 0, color: str = "highlight") -> None:
        width = 1 if g.rows * g.cols > 400 else 1.5  # thin: the grid must not hide the picture
        self.canvas.set_lines("grid", V.grid_segments(g), color="fg" if every else color, width=width)
        if every:
            self.canvas.set_lines("windows", V.grid_segments(g, every=every), color=color, z=11)

    def _render_patches(self) -> None:
        pic = self.picture()
        self.canvas.set_image(pic)
        try:
            pc = V.patch_cost(pic.shape[0], pic.shape[1], self.patch_slider.value(),
                              spec=V.preset(self.preset_box.currentText()))
        except ValueError as exc:
            self.card.show_error(str(exc))
            return
        self.patch_cost = pc
        self._grid_lines(pc.grid)
        self.canvas.set_rects("padding", V.padding_rects(pc.grid), color="padding", fill="padding", alpha=0.5)
        title, formula, sub, result, meaning, caption = patches_card(pc, self.preset_box.currentText())
        self.card.set_formula(formula, title)
        self.card.show_result(sub, result, meaning)
        self.matrix.set_sides(pc.grid.tokens, pc.reference_tokens, caption)

    def _render_attention(self) -> None:
        run = self.run
        if run is None:
            return
        self.canvas.set_image(run.image)
        g = V.token_grid(run.image.shape[0], run.image.shape[1], run.patch)
        self._grid_lines(g)
        query = self.query_box.currentData()
        if query == "patch" and self.selected is None:
            query = "cls"
        layer = self.layer_spin.value() - 1
        head = self.head_box.currentIndex() - 1
        q = self.selected if query == "patch" else query
        heat, on_cls = V.attention_map(run, q, layer=layer, head=None if head < 0 else head)
        self.heat = heat
        # opacity grows with the weight, so the picture stays readable where the token does not look
        self.canvas.set_overlay("heat", values_rgba(heat, self.ctx.theme.color("current"), alpha=0.8))
        if query == "patch":
            self.canvas.set_rects("selected", V.patch_rects(g)[[self.selected]], color="accent", z=12)
        on_object = None
        if self.source_box.currentData() == "scene":
            obj = V.object_patches(self.scene.mask, run.patch)
            on_object = (V.object_mass(heat, obj), float(obj.mean()))
            self.canvas.set_rects("object", V.patch_rects(g)[obj.ravel()], color="positive", width=1, dash=True)
        title, formula, sub, result, meaning = attention_card(run, query, self.selected, layer, head, on_cls,
                                                              on_object)
        self.card.set_formula(formula, title)
        self.card.show_result(sub, result, meaning)
        self.probs.set_probs(run.classes, run.probs)

    def _render_positions(self) -> None:
        run = self.run
        if run is None:
            return
        sim = V.pos_similarity(run.pos, run.rows, run.cols)
        self.canvas.set_image(V.similarity_mosaic(sim), levels=(-1.0, 1.0), colormap="diverging")
        self.canvas.set_lines("grid", V.grid_segments(V.token_grid(run.rows ** 2, run.cols ** 2, run.cols)),
                              color="fg", width=None)
        title, formula, sub, result, meaning = positions_card(run, V.neighbour_similarity(sim))
        self.card.set_formula(formula, title)
        self.card.show_result(sub, result, meaning)

    def _render_windows(self) -> None:
        pic = self.picture()
        self.canvas.set_image(pic)
        g = self.grid()
        window = self.window_spin.value() if self.window_check.isChecked() else 0
        self._grid_lines(g, every=window or 0, color="accent")
        wc = V.window_cost(g.rows, g.cols, self.window_spin.value())
        if self.selected is not None and self.selected < g.patches:
            vis = V.window_visibility(g.rows, g.cols, self.selected, window=window)
            ph, pw = g.padded_shape
            self.canvas.set_overlay("visible", mask_rgba(vis, self.ctx.theme.color("kept"), 0.45), rect=(0, 0, pw, ph))
            self.canvas.set_rects("selected", V.patch_rects(g)[[self.selected]], color="current", z=12)
        title, formula, sub, result, meaning = windows_card(wc, bool(window), self.sam_grid)
        self.card.set_formula(formula, title)
        self.card.show_result(sub, result, meaning)
        self.matrix.set_sides(g.tokens, V.token_grid(SAM_SIDE, SAM_SIDE, 16).tokens,
                              "filled: this grid · outline: SAM's 64×64 = 4096 tokens")

    def _render_masking(self) -> None:
        m = self.masked
        if m is None:
            return
        self.canvas.set_image(m.view)
        self._grid_lines(V.token_grid(m.view.shape[0], m.view.shape[1], m.full.patch))
        title, formula, sub, result, meaning = masking_card(m)
        self.card.set_formula(formula, title)
        self.card.show_result(sub, result, meaning)
        self.probs.set_probs(m.masked.classes, m.masked.probs)
