"""Detector anatomy: a tiny YOLOv1 taken apart, then scored the COCO way.

Main view: a generated scene (or the user's photo) with the S×S grid and the true boxes. Click an
object: its responsible cell lights up, the cell's slice of the output tensor appears in the
"Cell tensor" tab (x, y, √w, √h, confidence per predictor, class probabilities, the owner ★) and
the card adds up the cell's five loss terms with their λ weights. The player steps through the
post-processing (98 boxes → score threshold → per-class NMS → top-K) or, in evaluation mode,
walks a class's detections over a set of held-out scenes in score order, each marked TP or FP
(and why), while the precision–recall curve grows and, at the end, its 101-point area is shaded.

All computation: :mod:`cvexplorer.detect`, in workers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QFileDialog, QVBoxLayout, QWidget

from cvexplorer import detect as D

from ...widgets.canvas import ImageCanvas
from ...widgets.formula import FormulaCard
from ...widgets.player import TracePlayer
from ...widgets.text import ElidedLabel
from ..base import Panel
from .controls import DetectorControls
from .views import (LAYERS, CellTable, PRPlot, clear_cell, draw_cell, draw_eval_step, draw_grid, draw_stage,
                    draw_truth)

__all__ = ["PanelWidget"]

SCENE_JOB, EVAL_JOB, TRACE_JOB = "detector-scene", "detector-eval", "detector-trace"
_BIG_SET = 20_000  # detections: from here tracing a class shows progress (below, it is over in a blink)
LOSS_FORMULA = "5·coord + 5·size + obj + ½·noobj + cls"


class PanelWidget(Panel):
    """The detector-anatomy panel."""

    demo_replaces_input = True

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self.mode = "scene"
        self.scene: D.DetectionScene | None = None
        self.run: D.SceneRun | None = None
        self.cell: D.CellNumbers | None = None
        self.scored: D.ScoredSet | None = None
        self.trace = None
        self.source = "generated scene"
        self._photo: np.ndarray | None = None
        self._drawn_cell: D.CellNumbers | None = None
        self._building = True

        self.controls = c = DetectorControls(th)
        for name in ("mode_box", "seed", "new_scene_btn", "conf", "nms_iou", "top_k", "class_box", "iou_slider",
                     "ap_table", "load_btn", "generated_btn"):
            setattr(self, name, getattr(c, name))
        self.header = ElidedLabel("", "Title")
        self.canvas = ImageCanvas(theme=th)
        main = QWidget()
        ml = QVBoxLayout(main)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.header)
        ml.addWidget(self.canvas, 1)
        self.player_w = TracePlayer(steps_per_second=2)
        self.card = FormulaCard("Loss of the chosen cell", LOSS_FORMULA)
        self.cell_table = CellTable(th)
        self.pr_plot = PRPlot(th)

        frame = self.use_frame()
        frame.set_main(main)
        frame.set_player(self.player_w)
        frame.add_controls(c)
        frame.set_card(self.card)
        frame.add_secondary(self.cell_table, "Cell tensor")
        frame.add_secondary(self.pr_plot, "PR curve", "Precision–recall curve of the generated scenes")

        g = ctx.guard
        c.mode_box.currentIndexChanged.connect(g(lambda _i: self.set_mode(c.mode_box.currentData()), "mode"))
        c.new_scene_btn.clicked.connect(g(lambda: c.seed.setValue(c.seed.value() + 1), "new scene"))
        c.seed.valueChanged.connect(g(lambda _v: self.new_scene(), "scene"))
        for w in (c.conf, c.nms_iou, c.top_k):
            w.valueChanged.connect(g(lambda _v: self.recompute(), "post-processing"))
        c.class_box.currentIndexChanged.connect(g(lambda _i: self.rebuild_eval_trace(), "class"))
        c.iou_slider.valueChanged.connect(g(lambda _v: self.rebuild_eval_trace(), "IoU threshold"))
        c.load_btn.clicked.connect(g(self.choose_files, "loading COCO files"))
        c.generated_btn.clicked.connect(g(self.score_generated, "generated scenes"))
        self.canvas.clicked.connect(g(self.on_click, "choosing an object"))
        self.player_w.stepChanged.connect(g(self.render_step, "step"))
        self._building = False
        self._update_iou_label()
        self.new_scene()
        self.score_generated()

    # -- Panel hooks --------------------------------------------------------------------------------
    def player(self):
        return self.player_w

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self._photo = rgb
        self.source = source or "your photo"
        self.recompute()

    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update(mode=self.mode, seed=self.seed.value(), conf=self.conf.value(), nms_iou=self.nms_iou.value(),
                  top_k=self.top_k.value(), iou=self.iou_slider.value(), cls=self.class_box.currentIndex(),
                  cell=None if self.cell is None else [self.cell.row, self.cell.col])
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        self._building = True
        try:
            for key, w in (("seed", self.seed), ("conf", self.conf), ("nms_iou", self.nms_iou),
                           ("top_k", self.top_k), ("iou", self.iou_slider)):
                if key in state:
                    w.setValue(state[key])
        finally:
            self._building = False
        self._photo = None
        self.new_scene()
        self.wait_idle(60)
        if state.get("cls") is not None and self.class_box.count():
            self.class_box.setCurrentIndex(int(state["cls"]))
        if state.get("mode"):
            self.set_mode(state["mode"])
        if state.get("cell"):
            self.select_cell(*state["cell"])
        if "step" in state:
            self.go_to_step(int(state["step"]))

    def demo(self) -> None:
        self.wait_idle(60)
        if self.scene is not None and len(self.scene.boxes):
            b = self.scene.boxes[0]
            self.on_click((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, 1, 0)
        self.player_w.seek(2)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.controls.apply_theme(theme)
        self.cell_table.apply_theme(theme)
        self.pr_plot.apply_theme(theme)
        self.render_step(self.player_w.index)

    def shutdown(self) -> None:
        self.player_w.pause()
        self.ctx.workers.cancel(SCENE_JOB)
        self.ctx.workers.cancel(EVAL_JOB)
        self.ctx.workers.cancel(TRACE_JOB)

    # -- the scene ------------------------------------------------------------------------------------
    def new_scene(self) -> None:
        if self._building:
            return
        self._photo = None
        self.source = f"generated scene {self.seed.value()}"
        self.scene = D.detection_scene(seed=self.seed.value())
        self.recompute()

    def recompute(self) -> None:
        if self._building:
            return
        try:
            model = D.load_detector()
        except (ValueError, OSError) as exc:
            self.frame.banner.show_error(f"The tiny detector could not be loaded: {exc}")
            return
        if self._photo is not None:
            args = (model, self._photo, None, None)
        else:
            args = (model, self.scene.rgb, self.scene.boxes, self.scene.classes)
        self.ctx.workers.submit(SCENE_JOB, D.run_scene, *args, conf_threshold=self.conf.value(),
                                iou_threshold=self.nms_iou.value(), top_k=self.top_k.value(),
                                on_done=self._on_scene, on_error=lambda e: self.ctx.report_error(e, "detector"))

    def _on_scene(self, run: D.SceneRun) -> None:
        keep = (self.cell.row, self.cell.col) if self.cell is not None else None
        self.run = run
        self.cell = None
        self.ctx.record("detector", run.ms, run.device)
        if keep is not None:
            self.cell = D.cell_numbers(run, *keep)
        if self.mode == "scene":
            self._show_scene_trace()

    def _show_scene_trace(self) -> None:
        run = self.run
        h, w = run.rgb.shape[:2]
        for name in LAYERS:
            self.canvas.clear_layer(name)
        self._drawn_cell = None
        if self.canvas.image_shape != run.rgb.shape:
            self.canvas.set_image(run.rgb)
            self.canvas.fit()
        else:
            self.canvas.set_image(run.rgb, autorange=False)
        draw_grid(self.canvas, run.S, w, h)
        draw_truth(self.canvas, run.gt_boxes)
        self.trace = D.pipeline_trace(run.pipeline)
        self.player_w.set_trace(self.trace, keep_index=True)
        self.render_step(self.player_w.index)

    def on_click(self, x: float, y: float, _button: int = 1, _mods: int = 0) -> None:
        """A click on an object picks its responsible cell; elsewhere, the cell under the cursor."""
        if self.run is None:
            return
        if self.mode != "scene":
            self.mode_box.setCurrentIndex(0)
        h, w = self.run.rgb.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            return
        k = D.object_at(self.run.gt_boxes, x, y) if len(self.run.gt_boxes) else -1
        if k >= 0:
            row, col = D.cell_of(self.run.gt_boxes[k:k + 1], self.run.S, (w, h))[0]
        else:
            row, col = D.point_cell(x, y, self.run.S, (w, h))
        self.select_cell(int(row), int(col))

    def select_cell(self, row: int, col: int) -> None:
        self.cell = D.cell_numbers(self.run, row, col)
        self.frame.show_secondary(self.cell_table)
        self.render_step(self.player_w.index)

    # -- evaluation -----------------------------------------------------------------------------------
    def score_generated(self) -> None:
        try:
            model = D.load_detector()
        except (ValueError, OSError) as exc:
            self.frame.banner.show_error(f"The tiny detector could not be loaded: {exc}")
            return
        self.ctx.workers.submit(EVAL_JOB, D.score_scenes, model, on_done=self._on_scored, on_error=self._scoring_failed)

    def choose_files(self) -> None:
        gt_path, _ = QFileDialog.getOpenFileName(self, "COCO ground truth (dataset JSON)", "", "JSON (*.json)")
        if not gt_path:
            return
        dt_path, _ = QFileDialog.getOpenFileName(self, "COCO results (detections JSON)", "", "JSON (*.json)")
        if dt_path:
            self.load_files(gt_path, dt_path)

    def load_files(self, gt_source, results_source) -> None:
        """Score COCO ground truth + results (paths or text) with the same step-through. Read and
        scored in a worker (a whole val2017 takes about 20 s), with progress and Cancel in the banner;
        what is on screen stays until the new score is ready."""
        self.frame.banner.show_progress("Reading and scoring your COCO files…", cancel=self._cancel_scoring)
        self.ctx.workers.submit(EVAL_JOB, D.score_coco_files, gt_source, results_source,
                                on_done=self._on_scored, on_error=self._scoring_failed)

    def _cancel_scoring(self) -> None:
        self.ctx.workers.cancel(EVAL_JOB)
        self.ctx.workers.cancel(TRACE_JOB)
        self.frame.banner.clear("progress")

    def _scoring_failed(self, exc: BaseException) -> None:
        self.frame.banner.clear("progress")
        self.ctx.report_error(exc, "scoring")

    def _on_scored(self, scored: D.ScoredSet) -> None:
        self.frame.banner.clear("progress")
        self.scored = scored
        ev = scored.evaluation
        self.controls.fill_ap_table(ev.category_names, [v for _n, v in ev.table()], (ev.ap, ev.ap50, ev.ap75))
        n_img = len(scored.gt["images"])
        self.controls.source_label.setText(f"{scored.source}: {n_img} images, {int(ev.num_gt.sum())} objects, "
                                           f"{len(scored.dets)} detections")
        if scored.problems:
            self.frame.banner.show_hint(f"{len(scored.problems)} detections were skipped: {scored.problems[0]}")
        self._building = True
        self.class_box.clear()
        for cid, name, n in zip(ev.category_ids, ev.category_names, ev.num_gt):
            self.class_box.addItem(f"{name} ({n} objects)", int(cid))
        first = int(np.flatnonzero(ev.num_gt > 0)[0]) if (ev.num_gt > 0).any() else 0
        self.class_box.setCurrentIndex(first)
        self._building = False
        self.rebuild_eval_trace()

    def rebuild_eval_trace(self) -> None:
        self._update_iou_label()
        if self._building or self.scored is None or self.class_box.currentData() is None:
            return
        ev = self.scored.evaluation
        cid = int(self.class_box.currentData())
        if ev.num_gt[list(ev.category_ids).index(cid)] == 0:
            self.frame.banner.show_hint("This class has no ground truth: COCO leaves it out of the mean.")
            return
        # one class of a whole dataset is thousands of detections (0.4 s for 6,700): traced in a worker
        if len(self.scored.dets) > _BIG_SET:
            self.frame.banner.show_progress("Tracing the class's detections…", cancel=self._cancel_scoring)
        self.ctx.workers.submit(TRACE_JOB, D.evaluate_trace, self.scored.gt, self.scored.dets, category_id=cid,
                                iou_threshold=self.controls.iou_threshold, result=ev,
                                on_done=self.ctx.guard(self._eval_trace_ready, "scoring"), on_error=self._scoring_failed)

    def _eval_trace_ready(self, trace) -> None:
        self.frame.banner.clear("progress")
        self.eval_trace = trace
        if self.mode == "evaluation":
            self.trace = trace
            self.player_w.set_trace(trace)
            self.render_step(0)

    def _update_iou_label(self) -> None:
        self.controls.iou_label.setText(f"IoU ≥ {self.controls.iou_threshold:.2f}")

    # -- modes and steps ------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        idx = [self.mode_box.itemData(i) for i in range(self.mode_box.count())].index(mode)
        if self.mode_box.currentIndex() != idx:
            self.mode_box.setCurrentIndex(idx)  # comes back here through the signal
            return
        for name in LAYERS:
            self.canvas.clear_layer(name)
        self._drawn_cell = None
        if mode == "scene":
            if self.run is not None:
                self._show_scene_trace()
        else:
            self.frame.show_secondary(self.pr_plot)
            self.rebuild_eval_trace()

    def render_step(self, i: int) -> None:
        if self.trace is None or not len(self.trace):
            return
        step = self.trace[min(max(i, 0), len(self.trace) - 1)]
        self.player_w.set_caption(step.caption)
        if self.mode == "scene":
            self._render_scene_step(step)
        else:
            self._render_eval_step(step)

    def _render_scene_step(self, step) -> None:
        run = self.run
        draw_stage(self.canvas, run.decoded, step, run.class_names, labels=self.cell is None)
        counts = " → ".join(str(n) for n in run.pipeline.counts[:step.index + 1])
        where = f"{self.source}, {run.S}×{run.S} grid, B = {run.B}, C = {run.C}"
        cell = self.cell
        if cell is None:
            clear_cell(self.canvas)
            self._drawn_cell = None
            self.header.setText(f"{where} — click an object to see its cell")
        else:
            if self._drawn_cell is not cell:  # the cell's layers survive steps: draw a new cell only
                draw_cell(self.canvas, cell)
                self._drawn_cell = cell
            if self.cell_table.cell is not cell:  # a step does not change the cell: refill on a new one only
                self.cell_table.show_cell(cell, run.class_names, run.loss.weights if run.loss is not None else {})
            self.header.setText(f"{where} — cell ({cell.row}, {cell.col})" + (
                f", predictor b={cell.owner} owns the object" if cell.owner >= 0 else ", no object here"))
        if cell is not None and cell.loss:
            self.card.set_formula(LOSS_FORMULA, f"Loss of cell ({cell.row}, {cell.col})")
            self.card.show_result(" + ".join(f"{v:.3f}" for v in cell.loss.values()),
                                  f"= {sum(cell.loss.values()):.4f}", f"boxes per stage: {counts}")
            return
        self.card.set_formula("decoded → score → NMS → top-K", "Post-processing")
        hint = ("Your photo has no ground truth, so no loss." if self._photo is not None
                else "Click an object for its cell's numbers and loss.")
        self.card.show_result(f"boxes per stage: {counts}", f"{step.count} boxes", hint)

    def _render_eval_step(self, step) -> None:
        sc = self.scored
        o = step.get("outcome")
        image_id = o.image_id if o is not None else int(sc.gt["images"][0]["id"])
        img = D.image_of(sc, image_id)
        if self.canvas.image_shape != img.shape:
            self.canvas.set_image(img)
            self.canvas.fit()
        else:
            self.canvas.set_image(img, autorange=False)
        for name in ("grid", "cell", "owner", "other", "cell-labels", "cell-labels-other"):
            self.canvas.clear_layer(name)
        self._drawn_cell = None
        gtb, gti, dtb, dti = D.boxes_of(sc, image_id)
        walked = {int(s.get("det")) for s in self.trace[1:step.index + 1]}
        draw_eval_step(self.canvas, gtb, gti, dtb, dti, step, walked)
        self.pr_plot.show_step(step, sc.evaluation.recall_thresholds)
        meta = self.trace.meta
        self.header.setText(f"{sc.source}: class {meta['category']}, image {image_id}, IoU ≥ {meta['iou_threshold']:.2f}")
        tp, fp, npos = step.get("tp", 0), step.get("fp", 0), step.get("npos", 0)
        ap = step.get("ap")
        self.card.set_formula("P = TP/(TP+FP), R = TP/N", f"Class {meta['category']}, N = {npos} objects")
        self.card.show_result(f"P = {tp}/({tp}+{fp}), R = {tp}/{npos}",
                              f"AP = {ap:.3f}" if ap is not None else f"P = {step.get('precision', 1):.2f}, "
                                                                         f"R = {step.get('recall', 0):.2f}")
