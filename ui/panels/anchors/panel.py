"""Anchors panel: how detectors tile an image with anchors, and which become positives for your boxes.

The photo, letterboxed into the network input, carries the grid of the chosen level. Hover a cell to
see its anchors, click to pin it; drag on the image to draw ground-truth boxes. Anchors are then
labelled positive / ignored / negative by the detector's rule (low-quality matches shown), with the
counts over all levels, the shown level's own, a per-cell max-IoU heat map and a histogram of best
IoUs. The card pairs the shown cell's best anchor with a box: offsets (tx, ty, tw, th) and the
decoded box. YOLO presets show the responsible cell of each box and the head's bookkeeping.

Frame slots: main = the headline, the canvas with the IoU histogram beside it (a square input leaves
half the main view's width empty: the histogram uses it), the caption; controls = the settings and the
table of levels; card = anchor → box (the head's bookkeeping for YOLO presets); no secondary view.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from cvexplorer import anchors as A
from cvexplorer.samples import get_sample, still_life_objects

from ...widgets.canvas import ImageCanvas
from ...widgets.formula import FormulaCard
from ...widgets.text import WrapLabel
from ..base import Panel
from . import texts
from .controls import VIEWS, AnchorControls
from .views import AnchorOverlay, IoUHistogramPlot, LevelView

__all__ = ["PanelWidget"]

SAMPLE_SIZE = (1280, 960)  # the built-in still life, a 4:3 photo like most cameras take


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        frame = self.use_frame()
        self.photo: np.ndarray | None = None  # None until the sample is rendered (in a worker) or a photo arrives
        self.source = "still-life sample"
        self.fit: A.Letterbox = A.letterbox_fit(SAMPLE_SIZE, (640, 640))
        self.gt: list[list[float]] = []
        self.result: A.AnchorLabels | None = None
        self.pinned: tuple[int, int] | None = None
        self.hover: tuple[int, int] | None = None
        self.last_draw_ms = 0.0
        self._loading = False
        self._waiting: set[str] = set()  # worker keys whose newest job has not come back

        # -- main view: the counts over all levels, the picture, the caption of the level shown ---------
        self.headline = WrapLabel("", rich=True)
        self.canvas = ImageCanvas(theme=ctx.theme)
        self.canvas.drag_mode = True
        self.overlay = AnchorOverlay(self.canvas)
        # the histogram is the picture's companion: a square input leaves the main view's width half empty
        self.hist = IoUHistogramPlot(ctx.theme)
        self.caption = WrapLabel("", rich=True)
        main = QWidget()
        pictures = QHBoxLayout()
        pictures.addWidget(self.canvas, 3)
        pictures.addWidget(self.hist, 2)
        ml = QVBoxLayout(main)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.headline)
        ml.addLayout(pictures, 1)
        ml.addWidget(self.caption)
        frame.set_main(main)

        # -- controls, card, secondary views ----------------------------------------------------------
        self.controls = AnchorControls()
        for name in ("preset", "level", "view", "sizes", "ratios", "scales", "in_w", "in_h", "pos_iou", "neg_iou",
                     "low_quality", "anchor_k", "clear_btn", "error", "table"):
            setattr(self, name, getattr(self.controls, name))  # the public controls tests and lessons drive
        frame.add_controls(self.controls)
        self.card = FormulaCard("Anchor → box", texts.PAIR_FORMULA)
        frame.set_card(self.card)

        # -- wiring ---------------------------------------------------------------------------------------
        g = ctx.guard
        self.canvas.dragged.connect(g(self._on_drag, "Anchors"))
        self.canvas.clicked.connect(g(self._on_click, "Anchors"))
        self.canvas.hovered.connect(g(self._on_hover, "Anchors"))
        self.preset.currentIndexChanged.connect(g(self._on_preset, "Anchors"))
        for edit in (self.sizes, self.ratios, self.scales):
            edit.editingFinished.connect(g(self.recompute, "Anchors"))
        for spin in (self.in_w, self.in_h):
            spin.valueChanged.connect(g(self._on_input_size, "Anchors"))
        for spin in (self.pos_iou, self.neg_iou):
            spin.valueChanged.connect(g(self.recompute, "Anchors"))
        self.low_quality.toggled.connect(g(self.recompute, "Anchors"))
        self.level.currentIndexChanged.connect(g(self._on_level, "Anchors"))
        self.view.currentIndexChanged.connect(g(self.render, "Anchors"))
        self.anchor_k.valueChanged.connect(g(self._render_cell, "Anchors"))
        self.clear_btn.clicked.connect(g(self.clear_boxes, "Anchors"))
        self._on_preset()

    # -- settings -------------------------------------------------------------------------------------
    @property
    def preset_obj(self) -> A.Preset:
        return self.controls.preset_obj

    @property
    def image_size(self) -> tuple[int, int]:
        return self.controls.image_size

    def _on_preset(self, *_a) -> None:
        self._loading = True
        try:
            self.controls.load_preset(self.preset_obj)
        finally:
            self._loading = False
        self._on_input_size()

    def _on_input_size(self, *_a) -> None:
        if self._loading:
            return
        new = A.letterbox_fit(self.fit.photo_size, self.image_size)
        if self.gt and new != self.fit:  # keep the boxes on the same objects of the photo
            self.gt = new.to_input(self.fit.to_photo(self.gt)).tolist()
        self.fit = new
        self.pinned = None
        self._update_image()
        self.recompute()

    def _on_level(self, *_a) -> None:
        if self._loading:
            return
        self.pinned = None
        self.render()

    def _update_image(self) -> None:
        """Letterbox the photo into the input in a worker (the sample is rendered there first)."""
        self._submit("anchors-image", "Preparing the input image…", _input_image, self.photo, self.image_size,
                     on_done=self._on_image)

    def _on_image(self, out) -> None:
        photo, image = out
        if self.photo is None:
            self.photo = photo
        self.canvas.set_image(image, autorange=True)

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self.photo = np.ascontiguousarray(rgb)
        self.source = source or "your image"
        self.fit = A.letterbox_fit(self.photo.shape[1::-1], self.image_size)
        self.gt = []
        self.pinned = None
        self._update_image()
        self.recompute()

    def recompute(self, *_a) -> None:
        if self._loading:
            return
        try:
            st = self.controls.settings()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        self._submit("anchors", "Tiling the input with anchors…", A.label_anchors, st.preset, st.image_size,
                     np.asarray(self.gt, float),
                     sizes=st.sizes, ratios=st.ratios, scales=st.scales, pos_iou=st.pos_iou,
                     neg_iou=st.neg_iou, allow_low_quality=st.allow_low_quality, on_done=self._on_result)

    def _submit(self, key: str, message: str, fn, *args, on_done, **kwargs) -> None:
        """Run an engine call in a worker with the banner's progress line until its newest result is back
        (stale results never call back, so the newest one of each key ends the wait)."""
        self._waiting.add(key)
        self.frame.banner.show_progress(message)

        def done(result, _key=key):
            self._job_ended(_key)
            on_done(result)

        def failed(exc, _key=key):
            self._job_ended(_key)
            self.error.setText(str(exc))

        self.ctx.workers.submit(key, fn, *args, on_done=done, on_error=failed, **kwargs)

    def _job_ended(self, key: str) -> None:
        self._waiting.discard(key)
        if not self._waiting:
            self.frame.banner.clear("progress")

    def _on_result(self, result: A.AnchorLabels) -> None:
        self.result = result
        self.ctx.record(self.panel_id or "anchors", result.timings)
        p = self.preset_obj
        self.controls.fill_table(result, p.names())
        self.hist.show_histogram(result.histogram, result.pos_iou, result.neg_iou, p.rule)
        self.render()

    # -- mouse ----------------------------------------------------------------------------------------
    def _cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        p = self.preset_obj
        return A.cell_at(x, y, self.image_size, p.strides[max(0, self.level.currentIndex())])

    def _on_hover(self, x: float, y: float) -> None:
        cell = self._cell_at(x, y)
        if cell != self.hover:
            self.hover = cell
            self._render_cell()

    def _on_click(self, x: float, y: float, button: int, _mods: int) -> None:
        if button == int(Qt.MouseButton.RightButton.value):  # right click removes the last box under it
            for j in range(len(self.gt) - 1, -1, -1):
                b = self.gt[j]
                if b[0] <= x <= b[2] and b[1] <= y <= b[3]:
                    del self.gt[j]
                    self.recompute()
                    return
            return
        self.pinned = self._cell_at(x, y)
        self.anchor_k.setValue(-1)
        self._render_cell()

    def _on_drag(self, x0: float, y0: float, x1: float, y1: float, finished: bool) -> None:
        w, h = self.image_size
        b = [max(0.0, min(x0, x1)), max(0.0, min(y0, y1)), min(float(w), max(x0, x1)), min(float(h), max(y0, y1))]
        if not finished:
            self.canvas.set_rects("drawing", [b], color="accent", dash=True, z=40)
            return
        self.canvas.clear_layer("drawing")
        if b[2] - b[0] >= 4 and b[3] - b[1] >= 4:
            self.add_box(b)

    def add_box(self, box) -> None:
        self.gt.append([float(v) for v in box])
        self.recompute()

    def clear_boxes(self) -> None:
        self.gt = []
        self.recompute()

    # -- rendering ------------------------------------------------------------------------------------
    def _level_view(self) -> LevelView | None:
        res, p = self.result, self.preset_obj
        lv = max(0, self.level.currentIndex())
        if res is None or res.preset != p.name or lv >= len(p.strides) or res.image_size != self.image_size:
            return None  # a newer computation is on its way
        cols, rows = A.grid_shape(res.image_size, p.strides[lv])
        # hovering shows a cell, a click pins one; with neither, the centre cell (never an empty view)
        cell = self.pinned or self.hover or (cols // 2, rows // 2)
        if not (0 <= cell[0] < cols and 0 <= cell[1] < rows):
            cell = None
        return LevelView(lv, self.view.currentText(), cell, self.low_quality.isChecked())

    def render(self, *_a) -> None:
        t0 = time.perf_counter()
        lv = self._level_view()
        if lv is None:
            return
        p, res = self.preset_obj, self.result
        note = self.overlay.draw(res, p.strides, lv)
        self.headline.setText(texts.headline(self.ctx.theme, p, res))
        self.caption.setText(texts.caption(self.ctx.theme, p, res, lv.level, note, self.pinned is not None,
                                           self.fit))
        self._render_cell()
        self.last_draw_ms = (time.perf_counter() - t0) * 1e3
        self.ctx.record(self.panel_id or "anchors", {"redraw": self.last_draw_ms})

    def _render_cell(self, *_a) -> None:
        lv = self._level_view()
        if lv is None:
            return
        res = self.result
        p = self.preset_obj
        if p.rule != "iou":  # YOLO encodes boxes its own way: the card shows the head's bookkeeping instead
            self.overlay.draw_cell(res, p.strides, lv, None)
            formula, substituted, result, meaning = texts.yolo_card(p, res)
            self.card.set_formula(formula, f"{p.title.split(' (')[0]} head")
            self.card.show_result(substituted, result, meaning)
            return
        self.card.set_formula(texts.PAIR_FORMULA, "Anchor → box")
        pair, n = None, res.per_location[lv.level]
        if lv.cell is not None:
            idx = A.cell_anchors(res.image_size, self.preset_obj.strides, res.per_location, lv.level, lv.cell)
            self.anchor_k.setMaximum(len(idx) - 1)
            k = self.anchor_k.value()
            pair = A.pair_cell(res.boxes[idx], res.gt, None if k < 0 else min(k, len(idx) - 1))
        self.overlay.draw_cell(res, self.preset_obj.strides, lv, pair)
        self.card.show_result(*texts.pair_card(pair, n, bool(len(res.gt))))

    # -- hooks ----------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"preset": self.preset.currentData(), "level": self.level.currentIndex(),
                "view": self.view.currentIndex(), "sizes": self.sizes.text(), "ratios": self.ratios.text(),
                "scales": self.scales.text(), "input": list(self.image_size), "gt": [list(b) for b in self.gt],
                "pinned": list(self.pinned) if self.pinned else None}

    def restore_state(self, state: dict[str, Any]) -> None:
        if "preset" in state:
            self.preset.setCurrentIndex(list(A.PRESETS).index(state["preset"]))
        self._loading = True
        try:
            if "input" in state:
                self.in_w.setValue(int(state["input"][0]))
                self.in_h.setValue(int(state["input"][1]))
            for key, edit in (("sizes", self.sizes), ("ratios", self.ratios), ("scales", self.scales)):
                if key in state and edit.isEnabled():
                    edit.setText(state[key])
            if "level" in state:
                self.level.setCurrentIndex(int(state["level"]))
            if "view" in state:
                self.view.setCurrentIndex(int(state["view"]))
        finally:
            self._loading = False
        self.fit = A.letterbox_fit(self.fit.photo_size, self.image_size)
        self._update_image()
        self.gt = [list(map(float, b)) for b in state.get("gt", [])]
        self.pinned = tuple(state["pinned"]) if state.get("pinned") else None
        self.recompute()

    def demo(self) -> None:
        """Draw the apple and the pencil of the still life, pin the cell of the apple's best anchor."""
        self.gt = []  # the demo draws the same two boxes every time (soak test, screenshots)
        objs = {o.label: o.box for o in still_life_objects(SAMPLE_SIZE)}
        for name in ("apple", "pencil"):
            x0, y0, x1, y1 = self.fit.to_input([objs[name]])[0]
            self.canvas.dragged.emit(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2, False)
            self.canvas.dragged.emit(x0, y0, x1, y1, True)
        self.wait_idle(30)
        res = self.result
        if res.match is not None and len(res.match.best_anchor):
            best = res.match.best_anchor[0]
            self.level.setCurrentIndex(int(res.level[best]))
            b = res.boxes[best]
            self.pinned = self._cell_at((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        self.render()
        if len(res.gt):  # zoom on the boxes so the anchors read from the back of the room
            x0, y0, x1, y1 = (*res.gt[:, :2].min(axis=0), *res.gt[:, 2:].max(axis=0))
            mx, my = 0.35 * (x1 - x0) + 16, 0.35 * (y1 - y0) + 16
            w, h = self.image_size
            self.canvas.set_view(max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my))

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.hist.apply_theme(theme)
        if self.result is not None:
            self._on_result(self.result)


def _input_image(photo: np.ndarray | None, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Worker job: (the photo, rendering the sample when there is none; the photo letterboxed into ``size``)."""
    if photo is None:
        photo = get_sample("still-life", size=SAMPLE_SIZE)
    return photo, A.letterbox(photo, size)
