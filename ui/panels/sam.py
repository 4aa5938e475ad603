"""Segment Anything: click an object, get its mask. Heavy encoder once per image, light decoder per click.

Left click adds a positive point, right click (or Alt+click) a negative one, a drag draws a box;
Ctrl+Z removes the last prompt, Esc clears. The encoder runs in a worker (clicks made meanwhile
are queued and answered when the embedding arrives); every decode runs in a worker too. The
pipeline strip shows encoder -> embedding (256x64x64) -> prompt encoder + decoder with the stage
running now highlighted; the embedding view projects its 256 channels to RGB (PCA). With no SAM
model installed, a GrabCut fallback seeded by the same clicks keeps the panel useful, and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QKeySequence, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from cvexplorer import sam

from ..widgets.canvas import ImageCanvas
from ..widgets.util import array_to_qimage
from .base import Panel

__all__ = ["PanelWidget", "PipelineView"]

_LEFT, _RIGHT = int(Qt.MouseButton.LeftButton.value), int(Qt.MouseButton.RightButton.value)
_ALT = int(Qt.KeyboardModifier.AltModifier.value)
_FALLBACK = "__fallback__"
_OPEN = "__open__"


class PipelineView(QWidget):
    """encoder -> embedding 256x64x64 -> prompt encoder + mask decoder, the running stage highlighted."""

    STAGES = ("encoder", "embedding", "decoder")

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.running = ""
        self.fallback = False
        self.texts = {"encoder": "", "embedding": "", "decoder": ""}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._resize_for_theme()

    def _resize_for_theme(self) -> None:
        self.setFixedHeight(int(self.theme.font_pt * 5.6))

    def set_theme(self, theme) -> None:
        self.theme = theme
        self._resize_for_theme()
        self.update()

    def set_state(self, running: str | None = None, **texts: str) -> None:
        if running is not None:
            self.running = running
        self.texts.update(texts)
        self.update()

    def titles(self) -> dict[str, str]:
        if self.fallback:
            return {"encoder": "No encoder (no SAM model)", "embedding": "No embedding",
                    "decoder": "GrabCut from your clicks (classical)"}
        return {"encoder": "Image encoder (ViT) · once per image", "embedding": "Embedding 256×64×64",
                "decoder": "Prompt encoder + mask decoder · per click"}

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        th = self.theme
        w, h = self.width(), self.height()
        gap = th.font_pt * 2.2
        weights = (1.25, 0.8, 1.35)
        unit = (w - 2 * gap - 8) / sum(weights)
        x = 4.0
        titles = self.titles()
        f_title, f_text = QFont(), QFont()
        f_title.setPointSizeF(th.font_pt * 0.9)
        f_title.setBold(True)
        f_text.setPointSizeF(th.font_pt * 0.8)
        for i, (stage, wt) in enumerate(zip(self.STAGES, weights)):
            bw = unit * wt
            rect = QRectF(x, 4, bw, h - 8)
            active = self.running == stage
            border = QColor(th.color("current" if active else ("muted" if self.fallback else "accent")))
            if self.fallback:
                border = QColor(th.muted)
            fill = QColor(th.color("current") if active else th.panel_bg)
            if active:
                fill.setAlphaF(0.25)
            p.setPen(QPen(border, th.line_px * (1.6 if active else 1.0)))
            p.setBrush(fill)
            p.drawRoundedRect(rect, 10, 10)
            p.setPen(QColor(th.fg if not self.fallback or stage == "decoder" else th.muted))
            p.setFont(f_title)
            top = QRectF(rect.x() + 8, rect.y() + 4, rect.width() - 16, rect.height() / 2 - 4)
            p.drawText(top, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, titles[stage])
            p.setFont(f_text)
            bot = QRectF(rect.x() + 8, rect.center().y(), rect.width() - 16, rect.height() / 2 - 6)
            txt = ("running…  " if active else "") + self.texts.get(stage, "")
            p.drawText(bot, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, txt)
            x += bw
            if i < 2:  # arrow
                p.setPen(QPen(QColor(th.fg), th.line_px))
                y = h / 2
                p.drawLine(int(x + 6), int(y), int(x + gap - 8), int(y))
                p.drawLine(int(x + gap - 8), int(y), int(x + gap - 20), int(y - 9))
                p.drawLine(int(x + gap - 8), int(y), int(x + gap - 20), int(y + 9))
                x += gap
        p.end()


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self.model: sam.SamModel | None = None
        self.predictor: Any = None  # SamPredictor or ClassicalSegmenter
        self.fallback_reason = ""
        self.rgb: np.ndarray | None = None
        self.source = ""
        self.prompts: list[tuple] = []  # ("point", x, y, label) or ("box", x0, y0, x1, y1)
        self.result: sam.SamResult | None = None
        self.choice: int | None = None  # the candidate the user picked (None: SAM's rule)
        self.encoding = False
        self.image_ready = False
        self._drag_box: tuple | None = None
        self._last_decode_ms = None

        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 8)
        root.setSpacing(6)
        bar = QHBoxLayout()
        self.model_box = QComboBox()
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_box.setMinimumWidth(int(th.font_pt * 14))
        self.model_box.activated.connect(ctx.guard(self._on_model_chosen, "Model"))
        self.refine = QCheckBox("Refine with previous mask")
        self.refine.toggled.connect(ctx.guard(lambda _v: self._decode(), "Refine"))
        self.undo_btn = QPushButton("Undo (Ctrl+Z)")
        self.undo_btn.clicked.connect(ctx.guard(self.undo, "Undo"))
        self.clear_btn = QPushButton("Clear (Esc)")
        self.clear_btn.clicked.connect(ctx.guard(self.clear_prompts, "Clear"))
        self.export_mask_btn = QPushButton("Export mask…")
        self.export_mask_btn.clicked.connect(ctx.guard(lambda: self._export_dialog("mask"), "Export"))
        self.export_overlay_btn = QPushButton("Export overlay…")
        self.export_overlay_btn.clicked.connect(ctx.guard(lambda: self._export_dialog("overlay"), "Export"))
        bar.addWidget(QLabel("Model:"))
        bar.addWidget(self.model_box)
        bar.addWidget(self.refine)
        bar.addStretch(1)
        for b in (self.undo_btn, self.clear_btn, self.export_mask_btn, self.export_overlay_btn):
            bar.addWidget(b)
        root.addLayout(bar)

        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        root.addWidget(self.model_label)
        self.pipeline = PipelineView(th)
        root.addWidget(self.pipeline)

        body = QHBoxLayout()
        left = QVBoxLayout()
        self.canvas = ImageCanvas(theme=th)
        self.canvas.drag_mode = True
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas.clicked.connect(ctx.guard(self._on_click, "Click"))
        self.canvas.dragged.connect(ctx.guard(self._on_drag, "Box"))
        left.addWidget(self.canvas, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Encoding the image… clicks are queued")
        self.progress.setTextVisible(True)
        self.progress.hide()
        left.addWidget(self.progress)
        self.hint = QLabel("Left click: object · Right/Alt+click: not object · Drag: box · Ctrl+Z undo · Esc clear")
        self.hint.setWordWrap(True)
        left.addWidget(self.hint)
        body.addLayout(left, 3)

        right = QVBoxLayout()
        self.emb_title = QLabel("What the decoder sees: 256 channels → 3 colours (PCA)")
        self.emb_title.setWordWrap(True)
        right.addWidget(self.emb_title)
        self.emb_view = QLabel()
        self.emb_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.emb_view.setMinimumSize(160, 160)
        self.emb_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        right.addWidget(self.emb_view, 2)
        self.cand_title = QLabel("Candidates (predicted IoU): click to choose")
        self.cand_title.setWordWrap(True)
        right.addWidget(self.cand_title)
        grid = QGridLayout()
        self.cand_buttons: list[QToolButton] = []
        for i in range(4):
            b = QToolButton()
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            b.clicked.connect(ctx.guard(lambda _c=False, i=i: self.choose(i), "Choose"))
            b.hide()
            grid.addWidget(b, i // 2, i % 2)
            self.cand_buttons.append(b)
        right.addLayout(grid, 3)
        self.timing_label = QLabel("")
        self.timing_label.setWordWrap(True)
        right.addWidget(self.timing_label)
        body.addLayout(right, 1)
        root.addLayout(body, 1)

        for w in (self, self.canvas):
            w.installEventFilter(self)
        self._populate_models()
        self._emb_pixmap: QPixmap | None = None
        from cvexplorer.samples import get_sample

        self.set_image(get_sample("still-life", size=(1280, 960)), "built-in sample: still life")

    # -- models -------------------------------------------------------------------------------------
    def _populate_models(self) -> None:
        self.model_box.blockSignals(True)
        self.model_box.clear()
        try:
            self._found = sam.find_models()
        except Exception:  # noqa: BLE001 - discovery never breaks the panel
            self._found = []
        for pair in self._found:
            self.model_box.addItem(f"SAM: {pair.name}", f"{pair.encoder}\n{pair.decoder}")
        self.model_box.addItem("Classical fallback (GrabCut, not SAM)", _FALLBACK)
        self.model_box.addItem("Open model…", _OPEN)
        self.model_box.blockSignals(False)
        if self._found:
            p = self._found[0]
            self.load_model(p.encoder, p.decoder, background=True)
        else:
            self.use_fallback("no SAM model was found in models/, the data folder or $CVEXPLORER_MODELS "
                              "(see models/README.md)")

    def _on_model_chosen(self, index: int) -> None:
        data = self.model_box.itemData(index)
        if data == _FALLBACK:
            self.use_fallback("chosen in the model menu")
        elif data == _OPEN:
            enc, _ = QFileDialog.getOpenFileName(self, "SAM encoder (.onnx)", "", "ONNX (*.onnx)")
            if not enc:
                return
            dec, _ = QFileDialog.getOpenFileName(self, "SAM decoder (.onnx)", str(Path(enc).parent), "ONNX (*.onnx)")
            if dec:
                self.load_model(enc, dec, background=True)
        elif data:
            self.load_model(*str(data).split("\n"), background=True)

    def use_fallback(self, reason: str) -> None:
        self.model = None
        self.fallback_reason = reason
        self.predictor = sam.ClassicalSegmenter()
        self.pipeline.fallback = True
        self.model_label.setText(f"<b>Classical fallback: GrabCut, not SAM</b> — {reason}.")
        self._select_combo(_FALLBACK)
        self._emb_pixmap = None
        self.emb_view.setPixmap(QPixmap())
        self.emb_view.setText("No embedding:\nGrabCut works\nfrom colours only")
        self.emb_title.setText("Embedding: needs a SAM model (models/README.md)")
        self.cand_title.setText("Result (GrabCut predicts no IoU)")
        self.pipeline.set_state("", encoder="—", embedding="—", decoder="")
        if self.rgb is not None:
            self._encode()

    def load_model(self, encoder, decoder, background: bool = False) -> None:
        """Open a SAM pair (in a worker when ``background``); an unusable pair falls back, with the reason."""
        from cvexplorer.runtime import preferred_device

        self.ctx.status(f"Loading SAM model {Path(encoder).name} …")
        self.pipeline.set_state("encoder", encoder="loading the model…")
        if background:
            self.ctx.workers.submit("sam-model", sam.SamModel.load, encoder, decoder, device=preferred_device(),
                                    on_done=self._model_ready, on_error=self._model_failed)
        else:
            try:
                self._model_ready(sam.SamModel.load(encoder, decoder, device=preferred_device()))
            except ValueError as exc:
                self._model_failed(exc)

    def _model_failed(self, exc: BaseException) -> None:
        self.ctx.report_error(exc, "SAM model")
        self.use_fallback(f"the chosen model could not be used ({exc})")

    def _model_ready(self, model: sam.SamModel) -> None:
        self.model = model
        self.predictor = sam.SamPredictor(model)
        self.pipeline.fallback = False
        self.fallback_reason = ""
        self.emb_title.setText("What the decoder sees: 256 channels → 3 colours (PCA)")
        self.cand_title.setText("Candidates (predicted IoU): click to choose")
        dev = model.device + (f" — {model.fallback}" if model.fallback else "")
        self.model_label.setText(f"<b>{Path(model.encoder_path).name}</b> + {Path(model.decoder_path).name}: "
                                 f"{model.variant}; runs on {dev}")
        key = f"{model.encoder_path}\n{model.decoder_path}"
        for i in range(self.model_box.count()):
            if self.model_box.itemData(i) == key:
                break
        else:
            self.model_box.insertItem(0, f"SAM: {Path(model.encoder_path).name}", key)
        self._select_combo(key)
        self.pipeline.set_state("", encoder="", embedding="", decoder="")
        if self.rgb is not None:
            self._encode()

    def _select_combo(self, data) -> None:
        for i in range(self.model_box.count()):
            if self.model_box.itemData(i) == data:
                self.model_box.blockSignals(True)
                self.model_box.setCurrentIndex(i)
                self.model_box.blockSignals(False)
                return

    def on_device_changed(self, device: str) -> None:
        if self.model is not None:
            self.ctx.status(f"Rebuilding SAM sessions for {device} …")
            self.ctx.workers.submit("sam-model", self.model.reload, device, on_done=self._model_ready,
                                    on_error=self._model_failed)

    # -- image and encoding ---------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self.rgb = np.ascontiguousarray(rgb)
        self.source = source
        self.prompts.clear()
        self.result = None
        self.choice = None
        self.canvas.set_image(self.rgb)
        self.canvas.clear_overlays()
        self._show_candidates()
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
            self.progress.show()
            self.pipeline.set_state("encoder", encoder="", decoder="")
        pred = self.predictor

        def job(rgb=self.rgb):
            t = pred.set_image(rgb)
            emb = sam.embedding_rgb(pred.embedding) if isinstance(pred, sam.SamPredictor) else None
            return pred, t, emb

        self.ctx.workers.submit("sam-encode", job, on_done=self._encoded, on_error=self._encode_failed)

    def _encode_failed(self, exc: BaseException) -> None:
        self.encoding = False
        self.progress.hide()
        self.pipeline.set_state("")
        self.ctx.report_error(exc, "SAM encoder")

    def _encoded(self, out) -> None:
        pred, timings, emb = out
        if pred is not self.predictor:
            return
        self.encoding = False
        self.image_ready = True
        self.progress.hide()
        if isinstance(pred, sam.SamPredictor):
            m = self.model
            if pred.encoder_run != "cached":
                self.ctx.record(self.panel_id, {"preprocess": timings["preprocess"]}, device="CPU")
                # cold = the first run of this session (a new model or device), whatever came before
                self.ctx.recorder.record(self.panel_id, "encoder", timings["encoder"], device=m.encoder.device,
                                         cold=pred.encoder_run == "cold", note=m.encoder.fallback)
            self.pipeline.set_state("", encoder=f"{timings['encoder']:.0f} ms {pred.encoder_run} on "
                                    f"{m.encoder.device}", embedding=f"{np.prod(sam.EMBEDDING_SHAPE) * 4 / 2**20:.0f} MiB"
                                    f" · cache {pred.cache_mb:.0f}/{pred.cache_limit_mb:.0f} MiB")
            self._set_embedding(emb)
        self._draw_prompts()
        if self.prompts:
            self._decode()

    def _set_embedding(self, emb: np.ndarray | None) -> None:
        if emb is None:
            return
        self._emb_pixmap = QPixmap.fromImage(array_to_qimage(emb))
        self._fit_embedding()

    def _fit_embedding(self) -> None:
        if self._emb_pixmap is not None:
            side = max(64, min(self.emb_view.width(), self.emb_view.height()) - 4)
            self.emb_view.setPixmap(self._emb_pixmap.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                            Qt.TransformationMode.FastTransformation))

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        self._fit_embedding()

    # -- prompts -------------------------------------------------------------------------------------
    def _on_click(self, x: float, y: float, button: int, modifiers: int) -> None:
        if self.rgb is None:
            return
        h, w = self.rgb.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            return
        negative = button == _RIGHT or (button == _LEFT and modifiers & _ALT)
        if button not in (_LEFT, _RIGHT):
            return
        self.add_point(x, y, 0 if negative else 1)

    def _on_drag(self, x0: float, y0: float, x1: float, y1: float, finished: bool) -> None:
        if self.rgb is None:
            return
        h, w = self.rgb.shape[:2]
        box = (max(0.0, min(x0, x1)), max(0.0, min(y0, y1)), min(float(w), max(x0, x1)), min(float(h), max(y0, y1)))
        if finished:
            self._drag_box = None
            if box[2] - box[0] >= 3 and box[3] - box[1] >= 3:
                self.add_box(box)
            else:
                self._draw_prompts()
        else:
            self._drag_box = box
            self.canvas.set_rects("drag", [box], color="current", dash=True)

    def add_point(self, x: float, y: float, label: int) -> None:
        self.prompts.append(("point", float(x), float(y), int(label)))
        self._prompts_changed()

    def add_box(self, box) -> None:
        self.prompts = [p for p in self.prompts if p[0] != "box"]  # SAM takes one box
        self.prompts.append(("box", *(float(v) for v in box)))
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
            self._draw_mask()
            self._show_candidates()
            return
        if self.encoding:
            self.ctx.status(f"{len(self.prompts)} prompt(s) queued until the encoder finishes")
            return
        self._decode()

    def _prompt_args(self):
        pts = [(p[1], p[2]) for p in self.prompts if p[0] == "point"]
        labs = [p[3] for p in self.prompts if p[0] == "point"]
        boxes = [p[1:] for p in self.prompts if p[0] == "box"]
        return pts, labs, (boxes[-1] if boxes else None)

    def _decode(self) -> None:
        if not self.prompts or not self.image_ready or self.predictor is None:
            return
        pts, labs, box = self._prompt_args()
        if isinstance(self.predictor, sam.ClassicalSegmenter) and not any(labs) and box is None:
            self.result = None
            self._draw_mask()
            self._show_candidates()
            self.ctx.status("GrabCut needs a positive click or a box to start from")
            return
        mask_input = None
        if self.refine.isChecked() and self.result is not None and self.result.low_res_logits is not None:
            mask_input = self.result.low_res_logits[self._shown_index()]
        self.pipeline.set_state("decoder")
        pred = self.predictor
        self.ctx.workers.submit("sam-decode", pred.predict, pts, labs, box, mask_input,
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
        self._draw_mask()
        self._show_candidates()

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
            self._draw_mask()
            self._show_candidates()

    def _draw_prompts(self) -> None:
        pos = [(p[1], p[2]) for p in self.prompts if p[0] == "point" and p[3] == 1]
        neg = [(p[1], p[2]) for p in self.prompts if p[0] == "point" and p[3] == 0]
        boxes = [p[1:] for p in self.prompts if p[0] == "box"]
        self.canvas.clear_layer("drag")
        self.canvas.set_points("positive", pos, color="positive", size=16, symbol="o")
        self.canvas.set_points("negative", neg, color="negative", size=16, symbol="x")
        self.canvas.set_rects("box", boxes, color="current")

    def _draw_mask(self) -> None:
        m = self.current_mask()
        if m is None:
            self.canvas.set_overlay("mask", None)
            self.canvas.clear_layer("outline")
            return
        h, w = m.shape
        s = min(1.0, 1600 / max(h, w))
        import cv2

        small = m.view(np.uint8) if s == 1.0 else cv2.resize(m.view(np.uint8), (round(w * s), round(h * s)),
                                                              interpolation=cv2.INTER_NEAREST)
        color = QColor(self.ctx.theme.color("highlight"))
        rgba = np.zeros(small.shape + (4,), np.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = color.red(), color.green(), color.blue()
        rgba[..., 3] = small * 120
        self.canvas.set_overlay("mask", rgba, rect=(0, 0, w, h))
        self.canvas.set_polygons("outline", sam.mask_outline(m), color="highlight",
                                 width=self.ctx.theme.line_px * 0.9)

    def _show_candidates(self) -> None:
        r = self.result
        n = 0 if r is None else len(r.scores)
        th = self.ctx.theme
        side = max(110, int(th.font_pt * 10))
        thumb_src = None
        if n and self.rgb is not None:
            import cv2

            h, w = self.rgb.shape[:2]
            s = side / max(h, w)
            tw, tht = max(1, round(w * s)), max(1, round(h * s))
            thumb_src = cv2.resize(self.rgb, (tw, tht), interpolation=cv2.INTER_AREA)
            col = QColor(th.color("highlight"))
        for i, b in enumerate(self.cand_buttons):
            if i >= n:
                b.hide()
                continue
            import cv2

            src = r.logits[i].view(np.uint8) if r.logits.dtype == np.bool_ else r.logits[i]
            m = cv2.resize(src, thumb_src.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
            img = sam.overlay_rgb(thumb_src, m, color=(col.red(), col.green(), col.blue()), alpha=0.6, outline_px=1)
            b.setIcon(QIcon(QPixmap.fromImage(array_to_qimage(img))))
            b.setIconSize(QSize(*img.shape[1::-1]))
            score = r.scores[i]
            tag = {0: "single", 1: "multi 1", 2: "multi 2", 3: "multi 3"}.get(i, str(i)) if n == 4 else "mask"
            star = "  ★" if i == r.best and n > 1 else ""
            b.setText(f"{tag}: IoU {score:.2f}{star}" if np.isfinite(score) else f"{r.source.split()[0]}: IoU —")
            b.setChecked(n > 1 and i == self._shown_index())
            b.show()

    # -- export --------------------------------------------------------------------------------------
    def export_mask(self, path) -> Path:
        from cvexplorer.imageio import save_png

        m = self.current_mask()
        if m is None:
            raise ValueError("There is no mask to export yet: click on an object first.")
        return save_png(path, np.repeat((m.astype(np.uint8) * 255)[..., None], 3, axis=2))

    def export_overlay(self, path) -> Path:
        from cvexplorer.imageio import save_png

        m = self.current_mask()
        if m is None or self.rgb is None:
            raise ValueError("There is no mask to export yet: click on an object first.")
        col = QColor(self.ctx.theme.color("highlight"))
        return save_png(path, sam.overlay_rgb(self.rgb, m, color=(col.red(), col.green(), col.blue()),
                                              outline_px=max(2, max(m.shape) // 500)))

    def _export_dialog(self, what: str) -> None:
        if self.current_mask() is None:
            raise ValueError("There is no mask to export yet: click on an object first.")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {what} as PNG", f"sam-{what}.png", "PNG (*.png)")
        if path:
            out = self.export_mask(path) if what == "mask" else self.export_overlay(path)
            self.ctx.status(f"Saved {out}")

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
        st.update(prompts=[list(p) for p in self.prompts], choice=self.choice, refine=self.refine.isChecked(),
                  model=None if self.model is None else [self.model.encoder_path, self.model.decoder_path])
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        self.refine.setChecked(bool(state.get("refine", False)))
        if state.get("model"):
            self.load_model(*state["model"], background=False)
        self.prompts = [tuple(p) for p in state.get("prompts", [])]
        self._prompts_changed()
        if state.get("choice") is not None:
            self.wait_idle(30)
            self.choose(int(state["choice"]))

    def demo(self) -> None:
        """Click the mug of the sample still life (or the centre of the user's image)."""
        from cvexplorer.samples import still_life_objects

        if self.rgb is None:
            return
        h, w = self.rgb.shape[:2]
        self.prompts.clear()
        if self.source.startswith("built-in"):
            mug = next(o for o in still_life_objects((w, h)) if o.label == "mug")
            x0, y0, x1, y1 = mug.box
            self.add_point((x0 + x1) / 2, (y0 + y1) / 2, 1)
        else:
            self.add_point(w / 2, h / 2, 1)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.pipeline.set_theme(theme)
        self._draw_prompts()
        self._draw_mask()
        self._show_candidates()

    def shutdown(self) -> None:
        for key in ("sam-model", "sam-encode", "sam-decode"):
            self.ctx.workers.cancel(key)
