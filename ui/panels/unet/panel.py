"""U-Net panel: the U with every shape and parameter count, real feature maps, skips on/off.

Main view: the U drawn by :class:`~.views.UDiagram` from :func:`cvexplorer.unet.shape_trace` (encoder
down the left, bottleneck, decoder up the right, skip arrows across), beside the clicked block's real
feature maps and the shipped tiny U-Net's mask against its no-skip twin's (computed by
:func:`cvexplorer.unet.compare_skips` in a worker). Settings in the frame's controls column; the
boundary F-scores on the result card.
"""

from __future__ import annotations

import math
import time

import numpy as np

from cvexplorer import unet as U
from cvexplorer.imageio import working_copy
from cvexplorer.overlay import hex_to_rgb
from cvexplorer.samples.segmentation import segmentation_scene
from cvexplorer.text import fmt_params, fmt_shape

from ...widgets.formula import FormulaCard
from ...workers import Debouncer
from ..base import Panel
from .controls import SAMPLE_SIZE, UNetControls
from .views import MASK_VIEWS, UNetMainView

__all__ = ["PanelWidget"]

#: A user's photo is shrunk to at most this many pixels before both models run on it.
MAX_PIXELS = 640 * 480
PAPER = (572, 4, 64, "valid", "transposed")


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self.result: U.SkipComparison | None = None
        self.seed = 4
        self.source = "sample"
        self.rgb, self.gt = segmentation_scene((SAMPLE_SIZE, SAMPLE_SIZE), seed=self.seed)
        self.selected = "enc0"
        self.blocks: list[U.Block] = []
        self.shown_features: tuple | None = None  # (name, count, h, w) of what the grid shows
        self.mosaic: U.FeatureMosaic | None = None
        self.zoom: tuple | None = None
        self.redraw_ms = 0.0
        self._features_key = None

        frame = self.use_frame()
        self.view = UNetMainView(th)
        frame.set_main(self.view)
        self.controls = UNetControls()
        frame.add_controls(self.controls)
        self.card = FormulaCard("Skips against no skips: boundary F-score", "F = 2·P·R / (P + R)")
        frame.set_card(self.card)
        # the widgets tests and lessons drive, by their plain names
        c, v = self.controls, self.view
        self.size_spin, self.depth_spin, self.base_spin = c.size_spin, c.depth_spin, c.base_spin
        self.pad_combo, self.up_combo, self.skip_box = c.pad_combo, c.up_combo, c.skip_box
        self.paper_btn, self.tiny_btn, self.scene_btn, self.status_label = c.paper_btn, c.tiny_btn, c.scene_btn, \
            c.status_label
        self.diagram, self.feat_canvas, self.feat_title, self.feat_note = v.diagram, v.feat_canvas, v.feat_title, \
            v.feat_note
        self.mask_canvases, self.mask_labels = v.mask_canvases, v.mask_labels

        self.diagram.blockClicked.connect(ctx.guard(self.select_block, "U-Net"))
        self._deb = Debouncer(ctx.guard(self.update_diagram, "U-Net diagram"), 30, self)
        for sp in (self.size_spin, self.depth_spin, self.base_spin):
            sp.valueChanged.connect(self._deb.trigger)
        for cb in (self.pad_combo, self.up_combo):
            cb.currentIndexChanged.connect(self._deb.trigger)
        self.skip_box.toggled.connect(ctx.guard(self._skips_toggled, "U-Net"))
        self.paper_btn.clicked.connect(ctx.guard(lambda: self.set_config(*PAPER), "U-Net"))
        self.tiny_btn.clicked.connect(ctx.guard(self.use_shipped_config, "U-Net"))
        self.scene_btn.clicked.connect(ctx.guard(self.new_scene, "U-Net"))
        self.update_diagram()
        self.run_models()

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        self.show_features()  # the tiles re-flow to the canvas's new shape

    # -- configuration --------------------------------------------------------------------------------
    def config(self) -> dict:
        paper_input = self.size_spin.value() == 572 and self.pad_combo.currentText() == "valid"
        return dict(depth=self.depth_spin.value(), base_channels=self.base_spin.value(),
                    in_channels=1 if paper_input else 3, num_classes=2, padding=self.pad_combo.currentText(),
                    upsample=self.up_combo.currentText())

    def set_config(self, size: int, depth: int, base: int, padding: str, upsample: str) -> None:
        for w in self.controls.spins():
            w.blockSignals(True)
        self.size_spin.setValue(size)
        self.depth_spin.setValue(depth)
        self.base_spin.setValue(base)
        self.pad_combo.setCurrentText(padding)
        self.up_combo.setCurrentText(upsample)
        for w in self.controls.spins():
            w.blockSignals(False)
        self.update_diagram()

    def use_shipped_config(self) -> None:
        c = U.TINY_CONFIG
        h, w = self.rgb.shape[:2]
        m = 2 ** c["depth"]
        self.set_config(int(math.ceil(max(h, w) / m) * m) if h == w else SAMPLE_SIZE, c["depth"],
                        c["base_channels"], c["padding"], c["upsample"])

    def matches_model(self) -> bool:
        c, t = self.config(), U.TINY_CONFIG
        return all(c[k] == t[k] for k in ("depth", "base_channels", "padding", "upsample", "in_channels"))

    def diagram_input(self) -> int | tuple[int, int]:
        """The shipped configuration draws the shapes of the run on screen (a photo's own H×W); others the spin box."""
        if self.matches_model() and self.result is not None:
            return tuple(self.result.skip.padded_shape)
        return self.size_spin.value()

    def update_diagram(self) -> None:
        t0 = time.perf_counter()
        c = self.config()
        skips = self.skip_box.isChecked()
        size = self.diagram_input()
        try:
            blocks = U.shape_trace(size, skips=skips, **c)
        except ValueError as exc:
            self.diagram.set_blocks([], skips=skips, totals="", error=str(exc))
            self.redraw_ms = (time.perf_counter() - t0) * 1000
            return
        other = "bilinear" if c["upsample"] == "transposed" else "transposed"
        alt = U.shape_trace(size, skips=skips, **{**c, "upsample": other})
        ups = sum(b.params for b in blocks if b.kind == "up")
        ups_alt = sum(b.params for b in alt if b.kind == "up")
        run = ""
        if not isinstance(size, int) and self.result is not None and self.result.gt is None:
            h, w = self.result.skip.input_shape
            run = f" (your image, {h}×{w}" + (" padded" if (h, w) != tuple(size) else "") + ")"
        totals = (f"{U.total_params(blocks):,} parameters · {fmt_shape(blocks[0].out_shape)}{run}"
                  f" → {fmt_shape(blocks[-1].out_shape)} · up-sampling {c['upsample']} {fmt_params(ups)} "
                  f"({other}: {fmt_params(ups_alt)})")
        self.diagram.set_blocks(blocks, skips=skips, totals=totals)
        self.blocks = blocks
        self.diagram.set_selected(self.selected)
        self.diagram.repaint()
        self.redraw_ms = (time.perf_counter() - t0) * 1000
        if (self.matches_model(), skips, self.selected) != self._features_key:
            self.show_features()

    def _skips_toggled(self, on: bool) -> None:
        if self.selected.startswith("cat") and not on:
            self.selected = "up" + self.selected[3:]
        elif self.selected.startswith("up") and on:
            self.selected = "cat" + self.selected[2:]
        self.update_diagram()

    # -- images and inference -------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self.rgb, _ = working_copy(np.asarray(rgb), MAX_PIXELS)
        self.gt = None
        self.source = source or "your image"
        self.run_models()

    def new_scene(self) -> None:
        self.seed += 1
        self.rgb, self.gt = segmentation_scene((SAMPLE_SIZE, SAMPLE_SIZE), seed=self.seed)
        self.source = "sample"
        self.run_models()

    def run_models(self) -> None:
        self.status_label.setText("Running the tiny U-Net and its no-skip twin…")
        self.frame.banner.show_progress("Running the tiny U-Net and its no-skip twin…")
        self.ctx.workers.submit("unet", U.compare_skips, self.rgb, self.gt, on_done=self._on_result,
                                on_error=self._on_failed)

    def _on_failed(self, exc: BaseException) -> None:
        self.frame.banner.clear("progress")
        self.ctx.report_error(exc, "U-Net")

    def _on_result(self, res: U.SkipComparison) -> None:
        self.result = res
        a, b = res.skip, res.noskip
        self.ctx.record(self.panel_id or "unet", {"U-Net (skips)": a.ms["onnx"], "no-skip twin": b.ms["onnx"]},
                        device=a.device)
        h, w = a.input_shape
        self.status_label.setText(f"{self.source}: {w}×{h} · U-Net {a.ms['onnx']:.1f} ms, no-skip "
                                  f"{b.ms['onnx']:.1f} ms on {a.device} (onnxruntime). Every feature map is a "
                                  "real output of models/unet_tiny.onnx.")
        self.frame.banner.clear("progress")
        if res.gt is None:
            self.frame.banner.show_hint("Your photo is outside what the tiny model learnt: see the note on the card.")
        else:
            self.frame.banner.clear("hint")
        self._show_masks()
        self.update_diagram()
        self.show_features()

    def _show_masks(self) -> None:
        res = self.result
        if res is None:
            return
        th = self.ctx.theme
        for key, run in (("skip", res.skip), ("noskip", res.noskip)):
            self.mask_canvases[key].set_image(U.mask_picture(res.rgb, run.mask, fill=th.color("positive"),
                                                             edge=th.color("current")))
            sc = res.scores(key == "skip")
            self.mask_labels[key].setText(MASK_VIEWS[key] + (f" F {sc.boundary_f_exact:.2f}" if sc else ""))
        self.mask_canvases["diff"].set_image(U.difference_picture(
            res, won=th.color("positive"), lost=th.color("negative"), differ=th.color("current"), truth=th.fg))
        zoomed = " (zoomed)" if res.zoom and res.gt is None else ""
        if res.gt is not None:
            self.mask_labels["diff"].setText(f"Differ{zoomed}")
            ss, sn = res.skip_scores, res.noskip_scores
            self.card.show_result(
                f"skips {ss.boundary_f_exact:.2f} · no skips {sn.boundary_f_exact:.2f}",
                f"{ss.boundary_f_exact - sn.boundary_f_exact:+.2f} with skips",
                f"±1 px: {ss.boundary_f:.2f} vs {sn.boundary_f:.2f}; IoU {ss.iou:.2f} vs {sn.iou:.2f}. "
                f"Differ: green = only the skips right ({res.won} px), red = only the twin ({res.lost} px).")
        else:
            self.mask_labels["diff"].setText(f"Differ {res.differ} px{zoomed}")
            self.card.show_result("no ground truth for your image", "—", U.training_note())
        self.zoom = res.zoom
        for cv in self.mask_canvases.values():
            if res.zoom:
                cv.set_view(*res.zoom)
            else:
                cv.fit()

    # -- feature maps ----------------------------------------------------------------------------------
    def select_block(self, name: str) -> None:
        self.selected = name
        self.diagram.set_selected(name)
        self.show_features()

    def show_features(self) -> None:
        name = self.selected
        self._features_key = (self.matches_model(), self.skip_box.isChecked(), name)
        fc = self.feat_canvas
        if not self.matches_model():
            self.shown_features = self.mosaic = None
            fc.clear_overlays()
            fc.set_image(np.full((8, 8, 3), hex_to_rgb(self.ctx.theme.plot_bg), np.uint8))
            c = U.TINY_CONFIG
            self.feat_title.setText("Feature maps: our tiny model only")
            self.feat_note.setText(f"Real feature maps exist for the shipped model's configuration (depth "
                                   f"{c['depth']}, base {c['base_channels']}, {c['padding']}, {c['upsample']}): "
                                   "press “Our tiny model”.")
            return
        if self.result is None:
            self.feat_title.setText("Feature maps: running…")
            return
        feats = self.result.run(self.skip_box.isChecked()).features
        if not (name in feats or name.startswith("cat")):
            return
        m = U.block_mosaic(feats, name, area=(fc.width(), fc.height()))
        fc.clear_overlays()
        if m.halves is not None:
            fc.set_rects("halves", np.array(m.halves, float), color="current", width=self.ctx.theme.line_px)
        fc.set_image(m.image, levels=m.levels, colormap=m.colormap, autorange=True)
        fc.set_rects("tiles", np.array(m.rects, float), color="neutral", width=1)
        self.mosaic = m
        self.shown_features = (name, m.channels, m.height, m.width)
        self.tile_rects = list(m.rects)
        self.half_scales = m.scales
        model = "U-Net" if self.skip_box.isChecked() else "no-skip twin"
        if m.halves is None:
            self.feat_title.setText(f"{name}: {m.channels} maps of {m.height}×{m.width} ({model})")
            self.feat_note.setText(f"One colour scale for all {m.channels} channels: {m.levels[0]:.2f} … "
                                   f"{m.levels[1]:.2f}" + (" (blue < 0 < red)" if m.signed else "")
                                   + (f". {m.dead} of {m.channels} are all zero here (ReLU)." if m.dead else ".")
                                   + " Click another block.")
        else:
            i = name[3:]
            up, enc = m.half_channels
            self.feat_title.setText(f"Skip {i}: {up} up + {enc} copied = {m.channels} maps, {m.height}×{m.width}")
            self.feat_note.setText(f"Left: up{i}, up-sampled from below (coarse; scale ±{m.scales[0]:.2g}). "
                                   f"Right: enc{i}, copied across (sharp edges; scale ±{m.scales[1]:.2g}).")

    # -- hooks -------------------------------------------------------------------------------------------
    def demo(self) -> None:
        self.wait_idle(60)
        self.select_block("cat0")

    def state(self) -> dict:
        return {"config": [self.size_spin.value(), self.depth_spin.value(), self.base_spin.value(),
                           self.pad_combo.currentText(), self.up_combo.currentText()],
                "skips": self.skip_box.isChecked(), "selected": self.selected, "seed": self.seed}

    def restore_state(self, state: dict) -> None:
        if "config" in state:
            self.set_config(*state["config"])
        if "skips" in state:
            self.skip_box.setChecked(bool(state["skips"]))
        if "seed" in state and int(state["seed"]) != self.seed:
            self.seed = int(state["seed"]) - 1
            self.new_scene()
        if "selected" in state:
            self.select_block(str(state["selected"]))

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.view.apply_theme(theme)
        self._show_masks()
        self.show_features()

    def on_device_changed(self, device: str) -> None:
        U.clear_model_cache()
        self.run_models()

    def shutdown(self) -> None:
        self.ctx.workers.cancel("unet")
