"""NMS panel: greedy non-maximum suppression one pick at a time, and where it fails.

The picture shows every candidate box coloured by its state at the current step (waiting, current
pick, suppressed, kept; suppressed and below-threshold boxes thin and dashed), the IoU with the
current pick written on each neighbour. The card counts the IoU evaluations against the N(N−1)/2
bound; the table lists the boxes by score with their state, and at the end which box suppressed
each one. At the last step (or on request) the answer appears under the picture: the detector's
post-processing order and greedy, Soft-NMS and class-aware NMS side by side.

Boxes come from seeded scenarios, from the mouse (drag with "Draw" on; edit a drawn box's
score in the table) or from a detections file (COCO results JSON or YOLO text lines).

What is on screen is one pair: the input (boxes, image) and the :class:`~cvexplorer.boxes.NmsOverview`
computed from it. Both are replaced together on the GUI thread when a computation lands, and a
result for an input that is no longer the latest one is dropped, so a step is never drawn over
boxes it was not computed for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from cvexplorer import boxes as B
from cvexplorer.boxes import NmsOverview

from ...widgets.player import TracePlayer
from ...workers import Debouncer
from ..base import Panel
from .controls import DRAWN, FILE, NmsControls
from .inputs import LOAD_JOB, BoxInputs
from .table import BoxTable
from .views import MainView, NmsCard, StepPainter

__all__ = ["PanelWidget"]

#: Up to this many boxes everything runs in a few ms on the GUI thread; beyond, in a worker.
SYNC_MAX = 1500


@dataclass(frozen=True)
class NmsInput:
    """One input of the panel: where it came from, its boxes and the picture under them."""

    kind: str  # a scenario key, DRAWN or FILE
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    class_names: tuple[str, ...]  # names of class ids 0..K-1; () shows the ids themselves
    image: np.ndarray
    note: str = ""
    multi_class: bool = False

    def class_name(self, c) -> str:
        c = int(c)
        return self.class_names[c] if 0 <= c < len(self.class_names) else str(c)


class PanelWidget(BoxInputs, Panel):
    demo_replaces_input = True  # the demo loads its own scenario

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        self.drawn: list[tuple[float, float, float, float, float]] = []
        self.input: NmsInput | None = None        # the latest input asked for
        self.shown_input: NmsInput | None = None  # the input on screen, and the overview computed from it
        self.overview: NmsOverview | None = None
        self.last_render_ms = 0.0
        self._revealed: NmsOverview | None = None
        frame = self.use_frame()

        self.view = MainView(ctx.theme)
        self.canvas = self.view.canvas
        self.canvas.dragged.connect(ctx.guard(self._on_drag, "drawing a box"))
        self.painter = StepPainter(self.canvas)
        self.compare = self.view.answer.compare
        self.pipeline = self.view.answer.pipeline
        frame.set_main(self.view)
        self.player_ = TracePlayer(self)
        self.player_.stepChanged.connect(ctx.guard(self._render_step, "showing an NMS step"))
        frame.set_player(self.player_)

        self.controls = c = NmsControls()
        self.scenario_box, self.stepping, self.iou_slider, self.conf_slider = (
            c.scenario_box, c.stepping, c.iou_slider, c.conf_slider)
        self.topk, self.soft_method, self.draw_btn, self.draw_score = c.topk, c.soft_method, c.draw_btn, c.draw_score
        self.clear_btn, self.load_btn, self.reveal_box, self.note = c.clear_btn, c.load_btn, c.reveal_box, c.note
        self.table = BoxTable()
        self.table.scoreEdited.connect(ctx.guard(self.set_box_score, "changing a score"))
        frame.add_controls(c)
        # the table tells which box suppressed which: it stays in view, presentation mode included
        frame.add_secondary(self.table, "Boxes")
        self.card = NmsCard()
        self.counter = self.card.result
        frame.set_card(self.card)

        c.scenario_box.currentIndexChanged.connect(ctx.guard(self._on_scenario, "choosing a scenario"))
        c.iou_slider.valueChanged.connect(ctx.guard(self._on_params, "changing the IoU threshold"))
        c.conf_slider.valueChanged.connect(ctx.guard(self._on_params, "changing the score threshold"))
        c.topk.valueChanged.connect(ctx.guard(self._on_params, "changing top-K"))
        c.soft_method.currentIndexChanged.connect(ctx.guard(self._on_params, "changing Soft-NMS"))
        c.stepping.currentIndexChanged.connect(ctx.guard(lambda *_: self._rerun(keep_index=False),
                                                         "choosing what to step through"))
        c.draw_btn.toggled.connect(self._on_draw_toggled)
        c.clear_btn.clicked.connect(ctx.guard(self._clear_drawn, "clearing boxes"))
        c.load_btn.clicked.connect(ctx.guard(self._ask_load, "loading detections"))
        c.reveal_box.toggled.connect(ctx.guard(lambda *_: self._render_step(self.player_.index), "showing the answer"))
        self._debounce = Debouncer(lambda: self._rerun(keep_index=True), 120, self)
        self._load_scenario("duplicates")

    # -- what the rest of the app and the tests read --------------------------------------------------
    @property
    def iou_threshold(self) -> float:
        return self.iou_slider.value() / 100.0

    @property
    def conf_threshold(self) -> float:
        return self.conf_slider.value() / 100.0

    @property
    def source_kind(self) -> str:
        return self.input.kind

    @property
    def boxes(self) -> np.ndarray:
        return self.input.boxes

    @property
    def scores(self) -> np.ndarray:
        return self.input.scores

    @property
    def image(self) -> np.ndarray:
        return self.input.image

    @property
    def trace(self):
        return self.overview.trace if self.overview is not None else None

    # -- inputs -------------------------------------------------------------------------------------
    def _set_input(self, inp: NmsInput, *, keep_index: bool = False) -> None:
        self.ctx.workers.cancel(LOAD_JOB)  # a detection file still being read would describe another input
        previous = self.input
        self.input = inp
        try:
            self._rerun(keep_index=keep_index)
        except Exception:
            self.input = previous  # an input the engine refuses never becomes the current one
            raise

    def _load_scenario(self, key: str) -> None:
        sc = B.scenario(key)
        self._set_input(NmsInput(key, sc.boxes, sc.scores, sc.classes, sc.class_names, B.scenario_image(sc),
                                 sc.note, multi_class=len(sc.class_names) > 1))

    def _on_scenario(self, _i: int) -> None:
        key = self.scenario_box.currentData()
        if key == DRAWN:
            self._use_drawn()
        else:
            self._load_scenario(key)

    def _use_drawn(self, *, keep_index: bool = False) -> None:
        d = np.asarray(self.drawn, float).reshape(-1, 5)
        image = self.input.image if self.input is not None else B.scenario_image(B.scenario("duplicates"))
        note = (f"{len(d)} boxes drawn by you: double-click a score in the table to change it." if len(d)
                else "Turn on “Draw boxes” and drag on the image to draw a box.")
        self._set_input(NmsInput(DRAWN, d[:, :4], d[:, 4], np.zeros(len(d), np.int64), ("object",), image, note),
                        keep_index=keep_index)

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self.drawn = []
        self.controls.select_source(DRAWN)
        self.input = NmsInput(DRAWN, np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), ("object",), rgb)
        self._use_drawn()
        self.draw_btn.setChecked(True)

    def set_detections(self, boxes, scores, classes=None, *, note: str = "") -> None:
        """Step through these detections (xyxy boxes in image pixels) over the current image.

        Up to ~1 500 boxes the trace shows at once; beyond, it is computed in the background and the
        picture keeps the previous input until the new one is ready."""
        boxes = B.as_boxes(boxes)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        classes = np.zeros(len(boxes), np.int64) if classes is None else np.asarray(classes).reshape(-1)
        self.controls.select_source(FILE)
        self._set_input(NmsInput(FILE, boxes, scores, classes, (), self.image, note,
                                 multi_class=len(np.unique(classes)) > 1))

    def _on_params(self, *_):
        if len(self.boxes) > SYNC_MAX:
            self._debounce.trigger()
        else:
            self._rerun(keep_index=True)

    # -- compute: the engine in a worker for big inputs; results land together with their input ---------
    def _rerun(self, keep_index: bool) -> None:
        inp = self.input
        self.controls.show_thresholds(self.iou_threshold, self.conf_threshold)
        opts = dict(iou_threshold=self.iou_threshold, conf_threshold=self.conf_threshold, top_k=self.topk.value(),
                    soft_method=self.soft_method.currentText(), stepping=self.stepping.currentData())
        if len(inp.boxes) <= SYNC_MAX:
            self.ctx.workers.cancel("nms")  # a slower run still in flight must not land afterwards
            self.frame.banner.clear("progress")
            self._apply(inp, B.nms_overview(inp.boxes, inp.scores, inp.classes, **opts), keep_index)
            return
        self.frame.banner.show_progress(f"Running NMS on {len(inp.boxes)} boxes…", cancel=self._cancel)
        self.ctx.workers.submit("nms", B.nms_overview, inp.boxes, inp.scores, inp.classes, **opts,
                                on_done=self.ctx.guard(lambda ov: self._apply(inp, ov, keep_index), "NMS"),
                                on_error=lambda e: self._failed(inp, e))

    def _cancel(self) -> None:
        self.ctx.workers.cancel("nms")
        self._back_to_shown()

    def _failed(self, inp: NmsInput, error: BaseException) -> None:
        if inp is self.input:
            self._back_to_shown()
        self.ctx.report_error(error, "NMS")

    def _back_to_shown(self) -> None:
        """The pending input is abandoned: the controls name the input on screen again."""
        self.frame.banner.clear("progress")
        if self.shown_input is not None:
            self.input = self.shown_input
            self.controls.select_source(self.shown_input.kind)

    def _apply(self, inp: NmsInput, ov: NmsOverview, keep_index: bool) -> None:
        if inp is not self.input:
            return  # a newer input was asked for meanwhile: this result describes nothing on screen
        self.frame.banner.clear("progress")
        new_image = self.shown_input is None or self.shown_input.image is not inp.image
        self.shown_input, self.overview = inp, ov  # together: a step is only drawn over its own boxes
        if new_image:
            self.view.set_image(inp.image)
        self.note.setText(inp.note)
        self.ctx.record(self.panel_id or "nms", dict(ov.timings_ms))
        self.player_.set_trace(ov.trace, keep_index=keep_index)  # renders the step

    # -- render one step ------------------------------------------------------------------------------
    def _render_step(self, i: int) -> None:
        ov, inp = self.overview, self.shown_input
        if ov is None or not len(ov.trace):
            return
        t0 = time.perf_counter()
        i = min(max(int(i), 0), len(ov.trace) - 1)
        step = ov.trace[i]
        final = i == len(ov.trace) - 1
        undrawn = self.painter.draw(ov, step, final=final, image_height=inp.image.shape[0])
        self._update_card(ov, step)
        self.player_.set_caption(f"{step.caption} · {undrawn}" if undrawn else step.caption)
        self.table.show_step(ov, step, inp.class_name, multi_class=inp.multi_class, editable=inp.kind == DRAWN, theme=self.ctx.theme)
        self._reveal(ov, final or self.reveal_box.isChecked())
        self.last_render_ms = (time.perf_counter() - t0) * 1e3

    def _update_card(self, ov: NmsOverview, step) -> None:
        cur = int(step["current"])
        nb, ious = np.asarray(step["neighbours"]), np.asarray(step["ious"])
        top = int(np.argmax(ious)) if len(ious) else -1
        if ov.stepping == "soft":
            sigma = ov.trace.meta["sigma"]
            rule = (f"s ← s · exp(−IoU² / σ), σ = {sigma:g}" if ov.soft_method == "gaussian"
                    else f"s ← s · (1 − IoU) if IoU > t = {ov.iou_threshold:.2f}")
            sub = ""
            if cur >= 0 and top >= 0:
                j = int(nb[top])
                sub = (f"box #{j}: IoU {ious[top]:.2f} with #{cur}, score "
                       f"{step['scores_before'][j]:.2f} → {step['scores_after'][j]:.2f}")
            resized = self.card.show_result(f"Soft-NMS ({ov.soft_method})", rule, sub,
                                            f"Soft-NMS: {len(step['kept'])} kept")
        else:
            t, n_c, bound = ov.iou_threshold, int(step["n_candidates"]), int(step["max_evaluations"])
            sub = f"N(N−1)/2 = {bound}"
            if cur >= 0 and top >= 0:  # the pick's largest overlap, against the threshold
                v = float(ious[top])
                sub += f"; IoU(#{cur}, #{int(nb[top])}) = {v:.2f} {'>' if v > t else '≤'} {t:.2f}"
            resized = self.card.show_result(f"Greedy NMS, N = {n_c}",
                                            "IoU = |A ∩ B| / |A ∪ B|; suppress if IoU > t",
                                            sub, f"{int(step['evaluations'])} of {bound} IoUs")
        if resized:  # the frame sizes the card by its text: tell it the text changed height
            self.frame.card_scroll.updateGeometry()

    def _reveal(self, ov: NmsOverview, on: bool) -> None:
        """The pipeline and the comparison give the answer away: only at the end, or on request."""
        answer = self.view.answer
        if on and self._revealed is not ov:
            answer.show_answer(ov, self.shown_input.class_name, self.shown_input.multi_class, self.ctx.theme.muted)
            self._revealed = ov
        answer.setVisible(on)

    # -- panel hooks ------------------------------------------------------------------------------------
    def player(self):
        return self.player_

    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update(source=self.source_kind, iou=self.iou_slider.value(), conf=self.conf_slider.value(),
                  topk=self.topk.value(), soft=self.soft_method.currentText(),
                  stepping=self.stepping.currentData(), reveal=self.reveal_box.isChecked(),
                  drawn=[list(map(float, d)) for d in self.drawn])
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        for w, key in ((self.iou_slider, "iou"), (self.conf_slider, "conf"), (self.topk, "topk")):
            if key in state:
                w.blockSignals(True)
                w.setValue(int(state[key]))
                w.blockSignals(False)
        if "soft" in state:
            self.soft_method.blockSignals(True)
            self.soft_method.setCurrentText(str(state["soft"]))
            self.soft_method.blockSignals(False)
        if "stepping" in state:
            self.stepping.blockSignals(True)
            self.stepping.setCurrentIndex(max(0, self.stepping.findData(state["stepping"])))
            self.stepping.blockSignals(False)
        if "reveal" in state:
            self.reveal_box.blockSignals(True)
            self.reveal_box.setChecked(bool(state["reveal"]))
            self.reveal_box.blockSignals(False)
        src = state.get("source", self.source_kind)
        if src == DRAWN:
            self.drawn = [tuple(map(float, d)) for d in state.get("drawn", [])]
            self.controls.select_source(DRAWN)
            self._use_drawn()
        elif src in B.SCENARIOS:
            self.controls.select_source(src)
            self._load_scenario(src)
        else:
            self._rerun(keep_index=False)
        super().restore_state(state)

    def demo(self) -> None:
        self.controls.select_source("overlapping-people")
        self._load_scenario("overlapping-people")
        self.player_.seek(1)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.painter.reset_labels()  # label batches carry the old theme's font
        self.view.answer.reset_labels()
        self._revealed = None
        self.table.reset()
        if self.overview is not None:
            self._render_step(self.player_.index)
