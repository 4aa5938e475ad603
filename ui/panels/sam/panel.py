"""Segment Anything: click an object, get its mask. Heavy encoder once per image, light decoder per click.

Left click adds a positive point, right click (or Alt+click) a negative one, a drag draws a box;
Ctrl+Z removes the last prompt, Esc clears. The encoder runs in a worker (clicks made meanwhile are
queued and answered when the embedding arrives); every decode runs in a worker too. The photo with
its mask is the main view; the candidates and the pipeline (with the embedding projected to RGB) are
secondary views. With no SAM model installed a GrabCut fallback, seeded by the same clicks, keeps the
panel useful, and the banner says once how to get a model.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeySequence

from cvexplorer import sam
from cvexplorer.overlay import mask_rgba
from cvexplorer.samples import get_sample, still_life_objects

from ...widgets.canvas import ImageCanvas
from ...widgets.formula import FormulaCard
from ..base import Panel
from .controls import SamControls
from .export import MaskExport
from .models import ModelMenu
from .views import CandidateGrid, PipelinePage

__all__ = ["PanelWidget"]

_LEFT, _RIGHT = int(Qt.MouseButton.LeftButton.value), int(Qt.MouseButton.RightButton.value)
_ALT = int(Qt.KeyboardModifier.AltModifier.value)
_TAGS = {0: "single", 1: "multi 1", 2: "multi 2", 3: "multi 3"}
SMALL_MASK = "Only a small mask: drag a box around the whole object to say how big it is."


class PanelWidget(MaskExport, ModelMenu, Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self.model: sam.SamModel | None = None
        self.predictor: Any = None  # SamPredictor or ClassicalSegmenter
        self.fallback_reason = ""
        self.rgb: np.ndarray | None = None
        self.source = ""
        self.prompts: list[sam.Prompt] = []
        self.result: sam.SamResult | None = None
        self.choice: int | None = None  # the candidate the user picked (None: SAM's rule)
        self.encoding = False
        self.image_ready = False
        # the predictor is shared by the jobs: one sets its image or decodes at a time, and an encode
        # overtaken by a newer image does nothing (landing last, it would put back the old picture)
        self._predictor_lock = threading.Lock()
        self._encode_token = 0

        frame = self.use_frame()
        self.canvas = ImageCanvas(theme=th)
        self.canvas.drag_mode = True
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas.clicked.connect(ctx.guard(self._on_click, "Click"))
        self.canvas.dragged.connect(ctx.guard(self._on_drag, "Box"))
        frame.set_main(self.canvas)
        self.controls = SamControls()
        frame.add_controls(self.controls)
        self.card = FormulaCard("The mask", "")
        frame.set_card(self.card)
        self.candidates = CandidateGrid()
        self.candidates.chosen.connect(ctx.guard(self.choose, "Choose"))
        frame.add_secondary(self.candidates, "Candidates")
        self.pipeline_page = PipelinePage(th)
        frame.add_secondary(self.pipeline_page, "Pipeline")
        # the widgets tests and lessons drive, by their plain names
        c = self.controls
        self.model_box, self.model_label, self.refine = c.model_box, c.model_label, c.refine
        self.undo_btn, self.clear_btn, self.timing_label = c.undo_btn, c.clear_btn, c.timing_label
        self.get_model_btn = c.get_model_btn
        c.vit_btn.clicked.connect(ctx.guard(lambda: ctx.open_panel("vit"), "Open the ViT lab"))
        self.get_model_btn.clicked.connect(ctx.guard(self.open_model_dialog, "Get a model"))
        self.pipeline, self.cand_buttons = self.pipeline_page.pipeline, self.candidates.buttons

        self.model_box.activated.connect(ctx.guard(self._on_model_chosen, "Model"))
        self.refine.toggled.connect(ctx.guard(lambda _v: self._decode(), "Refine"))
        self.undo_btn.clicked.connect(ctx.guard(self.undo, "Undo"))
        self.clear_btn.clicked.connect(ctx.guard(self.clear_prompts, "Clear"))
        c.export_mask_btn.clicked.connect(ctx.guard(lambda: self._export_dialog("mask"), "Export"))
        c.export_overlay_btn.clicked.connect(ctx.guard(lambda: self._export_dialog("overlay"), "Export"))
        for w in (self, self.canvas):
            w.installEventFilter(self)
        self._populate_models()
        self.set_image(get_sample("still-life", size=(1280, 960)), "built-in sample: still life")

    # -- image and encoding ---------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self.rgb = np.ascontiguousarray(rgb)
        self.source = source
        self.prompts.clear()
        self.result = None
        self.choice = None
        self.canvas.set_image(self.rgb)
        self.canvas.clear_overlays()
        self._show_result()
        if self.predictor is not None:
            self._encode()

    def _encode(self) -> None:
        if self.rgb is None or self.predictor is None:
            return
        self.encoding = True
        self.image_ready = False
        self.result = None
        self.ctx.workers.cancel("sam-decode")
        if isinstance(self.predictor, sam.SamPredictor):
            self.frame.banner.show_progress("Encoding the image (once per image)… your clicks are queued")
            self.pipeline.set_state("encoder", encoder="", decoder="")
        pred = self.predictor
        self._encode_token += 1
        token = self._encode_token

        def job(rgb=self.rgb):
            with self._predictor_lock:
                if token != self._encode_token:
                    return None  # a newer image (or model) was asked for meanwhile
                t = pred.set_image(rgb)
                emb = sam.embedding_rgb(pred.embedding) if isinstance(pred, sam.SamPredictor) else None
            return pred, t, emb

        self.ctx.workers.submit("sam-encode", job, on_done=self._encoded, on_error=self._encode_failed)

    def _encode_failed(self, exc: BaseException) -> None:
        self.encoding = False
        self.frame.banner.clear("progress")
        self.pipeline.set_state("")
        self.ctx.report_error(exc, "SAM encoder")

    def _encoded(self, out) -> None:
        if out is None:
            return
        pred, timings, emb = out
        if pred is not self.predictor:
            return
        self.encoding = False
        self.image_ready = True
        self.frame.banner.clear("progress")
        if isinstance(pred, sam.SamPredictor):
            m = self.model
            if pred.encoder_run != "cached":
                self.ctx.record(self.panel_id, {"preprocess": timings["preprocess"]}, device="CPU")
                # cold = the first run of this session (a new model or device), whatever came before
                self.ctx.recorder.record(self.panel_id, "encoder", timings["encoder"], device=m.encoder.device,
                                         cold=pred.encoder_run == "cold", note=m.encoder.fallback)
            self.pipeline.set_state("", encoder=f"{timings['encoder']:.0f} ms {pred.encoder_run} on "
                                    f"{m.encoder.device}", embedding=f"cache {pred.cache_mb:.0f} of "
                                    f"{pred.cache_limit_mb:.0f} MiB")
            self.pipeline_page.set_embedding(emb)
        self._draw_prompts()
        if self.prompts:
            self._decode()

    # -- prompts -------------------------------------------------------------------------------------
    def _on_click(self, x: float, y: float, button: int, modifiers: int) -> None:
        if self.rgb is None or button not in (_LEFT, _RIGHT):
            return
        h, w = self.rgb.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            return
        negative = button == _RIGHT or bool(modifiers & _ALT)
        self.add_point(x, y, 0 if negative else 1)

    def _on_drag(self, x0: float, y0: float, x1: float, y1: float, finished: bool) -> None:
        if self.rgb is None:
            return
        h, w = self.rgb.shape[:2]
        box = (max(0.0, min(x0, x1)), max(0.0, min(y0, y1)), min(float(w), max(x0, x1)), min(float(h), max(y0, y1)))
        if not finished:
            self.canvas.set_rects("drag", [box], color="current", dash=True)
        elif box[2] - box[0] >= 3 and box[3] - box[1] >= 3:
            self.add_box(box)
        else:
            self._draw_prompts()

    def add_point(self, x: float, y: float, label: int) -> None:
        self.prompts.append(sam.Prompt.point(x, y, label))
        self._prompts_changed()

    def add_box(self, box) -> None:
        self.prompts = [p for p in self.prompts if p.kind != "box"]  # SAM takes one box
        self.prompts.append(sam.Prompt.box(*box))
        self._prompts_changed()

    def undo(self) -> None:
        if self.prompts:
            self.prompts.pop()
            self._prompts_changed()

    def clear_prompts(self) -> None:
        self.prompts.clear()
        self._prompts_changed()

    def _prompts_changed(self) -> None:
        self.choice = None
        self._draw_prompts()
        if not self.prompts:
            self.result = None
            self.ctx.workers.cancel("sam-decode")
            self._show_result()
            return
        if self.encoding:
            self.ctx.status(f"{len(self.prompts)} prompt(s) queued until the encoder finishes")
            return
        self._decode()

    def _decode(self) -> None:
        if not self.prompts or not self.image_ready or self.predictor is None:
            return
        pts, labs, box = sam.prompt_args(self.prompts)
        if isinstance(self.predictor, sam.ClassicalSegmenter) and not any(labs) and box is None:
            self.result = None
            self._show_result()
            self.frame.banner.show_hint("GrabCut needs a click on the object (left click) or a box to start from.")
            return
        mask_input = None
        if self.refine.isChecked() and self.result is not None and self.result.low_res_logits is not None:
            mask_input = self.result.low_res_logits[self._shown_index()]
        self.pipeline.set_state("decoder")
        pred = self.predictor

        def job():
            with self._predictor_lock:
                return pred.predict(pts, labs, box, mask_input)

        self.ctx.workers.submit("sam-decode", job,
                                on_done=lambda r, pred=pred: self._decoded(pred, r), on_error=self._decode_failed)

    def _decode_failed(self, exc: BaseException) -> None:
        self.pipeline.set_state("")
        self.ctx.report_error(exc, "SAM decoder")

    def _decoded(self, pred, r: sam.SamResult) -> None:
        if pred is not self.predictor:
            return
        self.result = r
        self.choice = None
        t = r.timings
        if isinstance(pred, sam.SamPredictor):
            self.ctx.record(self.panel_id, {"decoder": t["decoder"]}, device=self.model.decoder.device,
                            note=self.model.decoder.fallback)
            self.ctx.record(self.panel_id, {"prompt + postprocess": t["prompt"] + t["postprocess"]}, device="CPU")
            self.pipeline.set_state("", decoder=f"{t['decoder']:.1f} ms on {self.model.decoder.device} · "
                                    f"ours +{t['prompt'] + t['postprocess']:.1f} ms")
            self.timing_label.setText(f"Decoder {t['decoder']:.1f} ms per click; encoder "
                                      f"{pred.image_timings.get('encoder', 0):.0f} ms once ({pred.encoder_run}).")
        else:
            self.ctx.record(self.panel_id, {"grabcut": t["grabcut"]}, device="CPU", note="classical fallback: "
                            + self.fallback_reason)
            self.pipeline.set_state("", decoder=f"{t['grabcut']:.0f} ms on CPU")
            self.timing_label.setText(f"GrabCut {t['grabcut']:.0f} ms per click (classical, no learned prior).")
        if sam.needs_box(self.prompts, r.mask):
            self.frame.banner.show_hint(SMALL_MASK)
        elif self.frame.banner.message() == SMALL_MASK:
            self.frame.banner.clear("hint")
        self._show_result()

    # -- display -------------------------------------------------------------------------------------
    def _shown_index(self) -> int:
        if self.result is None:
            return 0
        return self.result.best if self.choice is None else self.choice

    def current_mask(self) -> np.ndarray | None:
        return None if self.result is None else self.result.mask_of(self._shown_index())

    def choose(self, index: int) -> None:
        if self.result is not None and 0 <= index < len(self.result.scores):
            self.choice = index
            self._show_result()

    def _draw_prompts(self) -> None:
        self.canvas.clear_layer("drag")
        self.canvas.set_points("positive", [p.coords for p in self.prompts if p.positive], color="positive",
                               size=16, symbol="o")
        self.canvas.set_points("negative", [p.coords for p in self.prompts if p.negative], color="negative",
                               size=16, symbol="x")
        self.canvas.set_rects("box", [p.coords for p in self.prompts if p.kind == "box"], color="current")

    def _show_result(self) -> None:
        self._draw_mask()
        self._show_candidates()

    def _draw_mask(self) -> None:
        m = self.current_mask()
        if m is None:
            self.canvas.set_overlay("mask", None)
            self.canvas.clear_layer("outline")
            self.card.show_result("", "—", "Click an object in the picture, or drag a box around it.")
            return
        h, w = m.shape
        color = self.ctx.theme.color("highlight")
        self.canvas.set_overlay("mask", mask_rgba(sam.shrink_mask(m, 1600), color, alpha=120 / 255), rect=(0, 0, w, h))
        self.canvas.set_polygons("outline", sam.mask_outline(m), color="highlight", width=self.ctx.theme.line_px * 0.9)
        r = self.result
        score = r.scores[self._shown_index()]
        area, share = r.area_of(self._shown_index())
        if np.isfinite(score):
            formula, meaning = "mask = decoder(embedding, prompts)", f"SAM predicts IoU {score:.2f} for this mask."
        else:
            formula, meaning = "mask = GrabCut(colours, prompts)", "GrabCut is classical: it predicts no IoU."
        self.card.show_result(f"{area:,} of {m.size:,} pixels", f"{share:.1%} of the picture",
                              f"{meaning} {len(self.prompts)} prompt(s).", formula=formula)

    def _show_candidates(self) -> None:
        r = self.result
        if r is None or self.rgb is None:
            self.candidates.show_candidates([], [], None)
            return
        n = len(r.scores)
        thumbs = sam.candidate_thumbnails(self.rgb, r.logits, side=self.candidates.thumb_side(n),
                                          color=self.ctx.theme.color("highlight"))
        texts = []
        for i, score in enumerate(r.scores):
            tag = _TAGS.get(i, str(i)) if n == 4 else "mask"
            star = "  ★" if i == r.best and n > 1 else ""
            texts.append(f"{tag}: IoU {score:.2f}{star}" if np.isfinite(score) else f"{r.source.split()[0]}: IoU —")
        self.candidates.show_candidates(thumbs, texts, self._shown_index() if n > 1 else None)

    # -- keys ----------------------------------------------------------------------------------------
    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        t = ev.type()
        if t in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            if ev.key() == Qt.Key.Key_Escape or ev.matches(QKeySequence.StandardKey.Undo):
                if t == QEvent.Type.KeyPress:
                    self.ctx.guard(self.clear_prompts if ev.key() == Qt.Key.Key_Escape else self.undo, "Keys")()
                ev.accept()
                return True
        return super().eventFilter(obj, ev)

    # -- lessons, demo, lifecycle ---------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update(prompts=[p.to_list() for p in self.prompts], choice=self.choice, refine=self.refine.isChecked(),
                  model=None if self.model is None else [self.model.encoder_path, self.model.decoder_path])
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        self.refine.setChecked(bool(state.get("refine", False)))
        if state.get("model"):
            self.load_model(*state["model"], background=False)
        self.prompts = [sam.Prompt.from_list(p) for p in state.get("prompts", [])]
        self._prompts_changed()
        if state.get("choice") is not None:
            self.wait_idle(30)
            self.choose(int(state["choice"]))

    def demo(self) -> None:
        """Click the mug of the sample still life (or the centre of the user's image)."""
        if self.rgb is None:
            return
        h, w = self.rgb.shape[:2]
        self.prompts.clear()
        if self.source.startswith("built-in"):
            x0, y0, x1, y1 = next(o for o in still_life_objects((w, h)) if o.label == "mug").box
            self.add_point((x0 + x1) / 2, (y0 + y1) / 2, 1)
        else:
            self.add_point(w / 2, h / 2, 1)

    def set_presentation(self, on: bool) -> None:
        super().set_presentation(on)
        if on:  # the picture gets the room; the card and the pipeline still name GrabCut
            self.frame.banner.clear("hint")

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.pipeline.set_theme(theme)
        self._draw_prompts()
        self._show_result()

    def shutdown(self) -> None:
        for key in ("sam-model", "sam-encode", "sam-decode"):
            self.ctx.workers.cancel(key)
