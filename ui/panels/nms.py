"""NMS panel: greedy non-maximum suppression one pick at a time, and where it fails.

The big view shows every candidate box coloured by its state at the current step (waiting,
current pick, suppressed, kept; boxes under the confidence threshold dashed), the IoU with the
current pick written on each neighbour, and the running count of IoU evaluations against the
N(N-1)/2 bound. The table lists the boxes by score with their state. The strip below compares
greedy, Soft-NMS and class-aware NMS on the same input, and the pipeline line shows the detector's
post-processing order: decode -> confidence threshold -> per-class NMS -> top-K.

Boxes come from seeded scenarios, from the mouse (drag with "Draw boxes" on; the score spin box
gives the new box's score) or from a detections file (COCO results JSON or YOLO text lines).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QSlider, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cvexplorer import boxes as B

from ..widgets.canvas import ImageCanvas
from ..widgets.player import TracePlayer
from ..widgets.util import label
from ..workers import Debouncer
from .base import Panel

__all__ = ["PanelWidget"]

_ROLE = {B.WAITING: "waiting", B.CURRENT: "current", B.SUPPRESSED: "suppressed", B.KEPT: "kept",
         B.BELOW_SCORE: "ignored"}
_TABLE_ROWS = 200   # the table lists the best-scoring boxes only (a 20k-box file stays responsive)
_MAX_LABELS = 12    # IoU labels written per step (the largest IoUs; more is clutter on a projector)
_DRAWN = "drawn"
_FILE = "file"


def _rects_path(r: np.ndarray):
    r = np.asarray(r, dtype=float).reshape(-1, 4)
    x = np.stack([r[:, 0], r[:, 2], r[:, 2], r[:, 0], r[:, 0]], axis=1).ravel()
    y = np.stack([r[:, 1], r[:, 1], r[:, 3], r[:, 3], r[:, 1]], axis=1).ravel()
    connect = np.ones((len(r), 5), np.int32)
    connect[:, 4] = 0
    return pg.arrayToQPath(x, y, connect=connect.ravel(), finiteCheck=False)


_SYNC_MAX = 1500  # up to this many boxes everything runs in a few ms on the GUI thread; beyond, a worker


def compute(boxes, scores, classes, iou_threshold, conf_threshold, top_k, soft_method,
            stepping: str = "greedy") -> dict:
    """Everything the panel shows for one input and one set of parameters (no Qt: runs in a worker).

    ``stepping`` chooses the trace the player walks: "greedy" (:func:`nms_trace`) or "soft"
    (:func:`soft_nms_trace`, scores decayed instead of boxes deleted)."""
    t0 = time.perf_counter()
    if stepping == "soft":
        trace = B.soft_nms_trace(boxes, scores, method=soft_method, iou_threshold=iou_threshold,
                                 score_threshold=max(conf_threshold, 1e-3))
    else:
        trace = B.nms_trace(boxes, scores, iou_threshold, score_threshold=conf_threshold, max_detections=top_k)
    t1 = time.perf_counter()
    stages = B.postprocess(boxes, scores, classes, conf_threshold=conf_threshold,
                           iou_threshold=iou_threshold, top_k=top_k)
    greedy = B.nms(boxes, scores, iou_threshold, score_threshold=conf_threshold, max_detections=top_k)
    soft_min = max(conf_threshold, 1e-3)
    sk, ss = B.soft_nms(boxes, scores, method=soft_method, iou_threshold=iou_threshold, score_threshold=soft_min)
    cls = B.batched_nms(boxes, scores, classes, iou_threshold, score_threshold=conf_threshold,
                        max_detections=top_k)
    t2 = time.perf_counter()
    return {"boxes": boxes, "trace": trace, "stages": stages, "greedy": greedy, "soft": (sk[:top_k], ss[:top_k]),
            "soft_min": soft_min, "method": soft_method, "class_aware": cls,
            "ms": {"nms trace": (t1 - t0) * 1e3, "compare": (t2 - t1) * 1e3}}


class _Labels:
    """A reusable set of text items in one style on a canvas: a step moves and re-texts them
    instead of creating items (creating pg.TextItems costs ~1 ms each)."""

    def __init__(self, canvas: ImageCanvas, name: str, color: str, background: str, scale: float = 1.0) -> None:
        self.canvas, self.name, self.color, self.background, self.scale = canvas, name, color, background, scale
        self.items: list = []
        self.texts: list[str] = []

    def reset(self) -> None:
        self.canvas.clear_layer(self.name)
        self.items, self.texts = [], []

    def show(self, labels) -> None:
        from PySide6.QtGui import QFont

        th = self.canvas.theme
        labels = list(labels)
        while len(self.items) < len(labels):
            col = QColor(th.color(self.background))
            col.setAlphaF(0.9)
            it = pg.TextItem(text="", color=th.color(self.color), anchor=(0, 1), fill=pg.mkBrush(col))
            f = QFont()
            f.setPointSizeF(th.font_pt * 0.9 * self.scale)
            f.setBold(True)
            it.setFont(f)
            self.canvas._add(self.name, it, 30)
            self.items.append(it)
            self.texts.append("")
        for k, it in enumerate(self.items):
            if k < len(labels):
                x, y, text = labels[k]
                if self.texts[k] != text:
                    it.setText(text)
                    self.texts[k] = text
                it.setPos(x, y)
                it.setVisible(True)
            else:
                it.setVisible(False)

    def visible_texts(self) -> list[str]:
        return [t for t, it in zip(self.texts, self.items) if it.isVisible()]


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        self.image: np.ndarray | None = None
        self.source_kind = "duplicates"
        self.boxes = np.zeros((0, 4))
        self.scores = np.zeros(0)
        self.classes = np.zeros(0, np.int64)
        self.class_names: tuple[str, ...] = ("object",)
        self.drawn: list[tuple[float, float, float, float, float]] = []
        self.trace = None
        self.last_render_ms = 0.0

        # -- views ------------------------------------------------------------------------------
        self.canvas = ImageCanvas(theme=ctx.theme)
        self.canvas.dragged.connect(ctx.guard(self._on_drag, "drawing a box"))
        self.compare = []
        strip = QWidget()
        srow = QHBoxLayout(strip)
        srow.setContentsMargins(0, 0, 0, 0)
        for _ in range(3):
            col = QVBoxLayout()
            title = label("", name="Mono", wrap=True)
            cv = ImageCanvas(theme=ctx.theme)
            col.addWidget(title)
            col.addWidget(cv, 1)
            srow.addLayout(col, 1)
            self.compare.append((title, cv))
        self._make_labels()
        self.player_ = TracePlayer(self)
        self.player_.stepChanged.connect(ctx.guard(self._render_step, "showing an NMS step"))

        left = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.canvas, 1)
        tl.addWidget(self.player_)
        left.addWidget(top)
        left.addWidget(strip)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)

        # -- controls ---------------------------------------------------------------------------
        controls = QGroupBox("NMS")
        controls.setObjectName("Controls")
        g = QGridLayout(controls)
        self.scenario_box = QComboBox()
        for key, title in B.SCENARIOS.items():
            self.scenario_box.addItem(title, key)
        self.scenario_box.addItem("Your boxes (drag on the image)", _DRAWN)
        self.scenario_box.currentIndexChanged.connect(ctx.guard(self._on_scenario, "choosing a scenario"))
        self.iou_slider = QSlider(Qt.Orientation.Horizontal)
        self.iou_slider.setRange(0, 100)
        self.iou_slider.setValue(50)
        self.iou_label = QLabel()
        self.iou_slider.valueChanged.connect(ctx.guard(self._on_params, "changing the IoU threshold"))
        self.conf_slider = QSlider(Qt.Orientation.Horizontal)
        self.conf_slider.setRange(0, 100)
        self.conf_slider.setValue(25)
        self.conf_label = QLabel()
        self.conf_slider.valueChanged.connect(ctx.guard(self._on_params, "changing the confidence threshold"))
        self.topk = QSpinBox()
        self.topk.setRange(1, 100000)
        self.topk.setValue(100)
        self.topk.setPrefix("top-K ")
        self.topk.valueChanged.connect(ctx.guard(self._on_params, "changing top-K"))
        self.draw_btn = QPushButton("Draw boxes")
        self.draw_btn.setCheckable(True)
        self.draw_btn.toggled.connect(self._on_draw_toggled)
        self.draw_score = QDoubleSpinBox()
        self.draw_score.setRange(0.0, 1.0)
        self.draw_score.setSingleStep(0.05)
        self.draw_score.setValue(0.80)
        self.draw_score.setPrefix("score ")
        self.clear_btn = QPushButton("Clear")
        self.clear_btn.clicked.connect(ctx.guard(self._clear_drawn, "clearing boxes"))
        self.load_btn = QPushButton("Load detections…")
        self.load_btn.clicked.connect(ctx.guard(self._ask_load, "loading detections"))
        self.soft_method = QComboBox()
        self.soft_method.addItems(["gaussian", "linear"])
        self.soft_method.currentIndexChanged.connect(ctx.guard(self._on_params, "changing Soft-NMS"))
        self.stepping = QComboBox()
        self.stepping.addItem("Step through greedy NMS", "greedy")
        self.stepping.addItem("Step through Soft-NMS", "soft")
        self.stepping.currentIndexChanged.connect(ctx.guard(lambda *_: self._rerun(keep_index=False),
                                                            "choosing what to step through"))
        g.addWidget(self.scenario_box, 0, 0, 1, 3)
        g.addWidget(self.stepping, 6, 0, 1, 3)
        g.addWidget(self.iou_label, 1, 0)
        g.addWidget(self.iou_slider, 1, 1, 1, 2)
        g.addWidget(self.conf_label, 2, 0)
        g.addWidget(self.conf_slider, 2, 1, 1, 2)
        g.addWidget(self.topk, 3, 0)
        g.addWidget(label("Soft-NMS:"), 3, 1)
        g.addWidget(self.soft_method, 3, 2)
        g.addWidget(self.draw_btn, 4, 0)
        g.addWidget(self.draw_score, 4, 1)
        g.addWidget(self.clear_btn, 4, 2)
        g.addWidget(self.load_btn, 5, 0, 1, 3)

        self.counter = label("", name="Big", wrap=True)
        self.pipeline = label("", wrap=True, rich=True)
        self.note = label("", name="Muted", wrap=True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["box", "score", "class", "IoU", "state"])
        self.table.verticalHeader().setVisible(False)
        hh = self.table.horizontalHeader()
        # fixed widths, sized once per input: ResizeToContents re-measures all rows on every change
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(controls)
        rl.addWidget(self.counter)
        rl.addWidget(self.pipeline)
        rl.addWidget(self.table, 1)
        rl.addWidget(self.note)
        right.setMinimumWidth(420)
        right.setMaximumWidth(620)

        outer = QHBoxLayout(self)
        outer.addWidget(left, 1)
        outer.addWidget(right)

        self._debounce = Debouncer(lambda: self._rerun(keep_index=True), 120, self)
        self._load_scenario("duplicates")

    # ------------------------------------------------------------------------------------------
    # inputs
    # ------------------------------------------------------------------------------------------
    @property
    def iou_threshold(self) -> float:
        return self.iou_slider.value() / 100.0

    @property
    def conf_threshold(self) -> float:
        return self.conf_slider.value() / 100.0

    def _load_scenario(self, key: str) -> None:
        sc = B.scenario(key)
        self.source_kind = key
        self.image = B.scenario_image(sc)
        self.boxes, self.scores, self.classes = sc.boxes, sc.scores, sc.classes
        self.class_names = sc.class_names
        self.note.setText(sc.note)
        self.canvas.set_image(self.image, autorange=True)
        for _, cv in self.compare:
            cv.set_image(self.image, autorange=True)
        self._rerun(keep_index=False)

    def _on_scenario(self, _i: int) -> None:
        key = self.scenario_box.currentData()
        if key == _DRAWN:
            self._use_drawn()
        else:
            self._load_scenario(key)

    def _use_drawn(self) -> None:
        self.source_kind = _DRAWN
        d = np.asarray(self.drawn, float).reshape(-1, 5)
        self.boxes, self.scores = d[:, :4], d[:, 4]
        self.classes = np.zeros(len(d), np.int64)
        self.class_names = ("object",)
        if self.image is None:
            self.image = B.scenario_image(B.scenario("duplicates"))
        self.note.setText("Drag on the image to draw a box; its score comes from the score box."
                          if not len(d) else f"{len(d)} boxes drawn by you.")
        self._rerun(keep_index=False)

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self.image = rgb
        self.canvas.set_image(rgb, autorange=True)
        for _, cv in self.compare:
            cv.set_image(rgb, autorange=True)
        self.drawn = []
        self._select_source(_DRAWN)
        self._use_drawn()
        self.draw_btn.setChecked(True)

    def _select_source(self, key: str) -> None:
        i = self.scenario_box.findData(key)
        if i < 0 and key == _FILE:
            self.scenario_box.addItem("Detections from a file", _FILE)
            i = self.scenario_box.findData(key)
        self.scenario_box.blockSignals(True)
        self.scenario_box.setCurrentIndex(i)
        self.scenario_box.blockSignals(False)

    def _on_draw_toggled(self, on: bool) -> None:
        self.canvas.drag_mode = bool(on)
        if on:
            self.ctx.status("Drag on the image to draw a box with the chosen score.")

    def add_box(self, x0: float, y0: float, x1: float, y1: float, score: float | None = None) -> None:
        """Add a user box (image pixels) and make the drawn boxes the input."""
        x0, x1 = sorted((float(x0), float(x1)))
        y0, y1 = sorted((float(y0), float(y1)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        if self.source_kind != _DRAWN:
            self.drawn = []
            self._select_source(_DRAWN)
        s = self.draw_score.value() if score is None else float(score)
        self.drawn.append((x0, y0, x1, y1, s))
        self._use_drawn()

    def _on_drag(self, x0, y0, x1, y1, finished) -> None:
        if finished:
            self.canvas.clear_layer("rubber")
            self.add_box(x0, y0, x1, y1)
        else:
            self.canvas.set_rects("rubber", [[min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]],
                                  color="accent", dash=True, z=40)

    def _clear_drawn(self) -> None:
        self.drawn = []
        self._select_source(_DRAWN)
        self._use_drawn()

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load detections", "",
                                              "Detections (*.json *.txt);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path) -> None:
        """Load COCO results JSON or YOLO text lines over the current image."""
        h, w = self.image.shape[:2] if self.image is not None else (960, 1280)
        try:
            d = B.load_detections(path, image_size=(w, h))
        except (ValueError, OSError) as exc:
            self.ctx.report_error(exc, "loading detections")
            return
        keep = np.ones(len(d), bool)
        msg = f"Loaded {len(d)} detections from {d.source}"
        if d.image_ids is not None and len(set(map(str, d.image_ids))) > 1:
            first = d.image_ids[0]
            keep = np.array([str(i) == str(first) for i in d.image_ids])
            msg += f"; the file covers {len(set(map(str, d.image_ids)))} images, showing image_id {first} ({keep.sum()})"
        if d.problems:
            msg += f"; skipped {len(d.problems)}: " + "; ".join(d.problems[:3]) + (" …" if len(d.problems) > 3 else "")
            self.ctx.report_error(msg, "loading detections")
        else:
            self.ctx.status(msg)
        self.boxes, self.scores, self.classes = d.boxes[keep], d.scores[keep], d.classes[keep]
        self.class_names = tuple(str(c) for c in range(int(self.classes.max()) + 1)) if len(self.classes) else ("0",)
        self.source_kind = _FILE
        self._select_source(_FILE)
        self.note.setText(msg)
        self._rerun(keep_index=False)

    def _on_params(self, *_):
        if len(self.boxes) > _SYNC_MAX:
            self._debounce.trigger()
        else:
            self._rerun(keep_index=True)

    # ------------------------------------------------------------------------------------------
    # compute
    # ------------------------------------------------------------------------------------------
    def _rerun(self, keep_index: bool) -> None:
        t, c, k = self.iou_threshold, self.conf_threshold, self.topk.value()
        self.iou_label.setText(f"IoU > {t:.2f}")
        self.conf_label.setText(f"score > {c:.2f}")
        args = (self.boxes, self.scores, self.classes, t, c, k, self.soft_method.currentText(),
                self.stepping.currentData())
        if len(self.boxes) <= _SYNC_MAX:
            self.ctx.workers.cancel("nms")  # a slower run still in flight must not land afterwards
            self._apply(compute(*args), keep_index)
        else:
            self.player_.set_caption(f"running NMS on {len(self.boxes)} boxes…")
            self.ctx.workers.submit("nms", compute, *args,
                                    on_done=self.ctx.guard(lambda r: self._apply(r, keep_index), "NMS"),
                                    on_error=lambda e: self.ctx.report_error(e, "NMS"))

    def _apply(self, res: dict, keep_index: bool) -> None:
        if res["boxes"] is not self.boxes:
            return  # the input changed meanwhile
        self.trace = res["trace"]
        self.ctx.record(self.panel_id or "nms", res["ms"])
        self._update_pipeline(res["stages"])
        self._update_compare(res)
        self.player_.set_trace(self.trace, keep_index=keep_index)
        if len(self.trace):
            self._render_step(self.player_.index)

    def _update_pipeline(self, stages=None) -> None:
        th = self.ctx.theme
        stages = stages if stages is not None else self._final_stages
        parts = [f"{name}: <b>{len(idx)}</b>" for name, idx in stages]
        self.pipeline.setText(f"<span style='color:{th.muted}'>Order:</span> " + " → ".join(parts))
        self._final_stages = stages

    def _update_compare(self, res=None) -> None:
        res = res if res is not None else self._compare_res
        self._compare_res = res
        b, s = self.boxes, self.scores
        greedy, (sk, ss), cls = res["greedy"], res["soft"], res["class_aware"]
        results = (
            (f"Greedy: {len(greedy)} kept", greedy, s[greedy] if len(greedy) else np.zeros(0)),
            (f"Soft-NMS ({res['method']}): {len(sk)} above {res['soft_min']:.2f}", sk, ss),
            (f"Class-aware: {len(cls)} kept", cls, s[cls] if len(cls) else np.zeros(0)),
        )
        self.compare_results = results
        for (title, cv), (text, idx, sc) in zip(self.compare, results):
            title.setText(text)
            cv.clear_layer("boxes")
            if len(idx):
                cv.set_rects("boxes", b[idx], color="kept")
                multi = len(self.class_names) > 1
                pos = self._label_positions(b[idx[:12]], cv, scale=0.7, chars=9 if multi else 3.5)
                labels = [(x, y, f"{v:.2f}" + (f" {self._cname(i)}" if multi else ""))
                          for (x, y), i, v in zip(pos, idx[:12], sc[:12])]
                cv.set_texts("scores", labels, color="black", scale=0.7, anchor=(0, 1))
            else:
                cv.clear_layer("scores")

    def _make_labels(self) -> None:
        for lab in getattr(self, "labels", {}).values():
            lab.reset()
        self.labels = {"iou_hot": _Labels(self.canvas, "iou_hot", "white", "suppressed"),
                       "iou_cold": _Labels(self.canvas, "iou_cold", "black", "white"),
                       "pick": _Labels(self.canvas, "pick", "black", "current"),
                       "kept": _Labels(self.canvas, "kept", "black", "kept")}

    def _cname(self, i: int) -> str:
        c = int(self.classes[i])
        return self.class_names[c] if 0 <= c < len(self.class_names) else str(c)

    # ------------------------------------------------------------------------------------------
    # render one step
    # ------------------------------------------------------------------------------------------
    def _render_step(self, i: int) -> None:
        if self.trace is None or not len(self.trace):
            return
        t0 = time.perf_counter()
        step = self.trace[min(max(i, 0), len(self.trace) - 1)]
        states = np.asarray(step["states"])
        b = self.boxes
        cv = self.canvas
        th = cv.theme
        for code, role in _ROLE.items():
            name = f"state{code}"
            sel = states == code
            cv.clear_layer(name)
            if not sel.any():
                continue
            width = th.line_px * {B.CURRENT: 1.8, B.BELOW_SCORE: 0.5, B.SUPPRESSED: 0.5}.get(code, 1.0)
            z = {B.CURRENT: 16, B.KEPT: 14, B.WAITING: 13, B.SUPPRESSED: 12, B.BELOW_SCORE: 11}[code]
            from PySide6.QtWidgets import QGraphicsPathItem

            item = QGraphicsPathItem(_rects_path(b[sel]))
            item.setPen(th.pen(role, width, style="dash" if code in (B.SUPPRESSED, B.BELOW_SCORE) else None))
            if code == B.CURRENT:
                item.setBrush(QBrush(QColor(th.color("current")).lighter(100)))
                col = QColor(th.color("current"))
                col.setAlphaF(0.18)
                item.setBrush(QBrush(col))
            cv._add(name, item, z)
        # the boxes suppressed by this pick: full-width dashes (earlier ones stay thin)
        soft = "scores_after" in step.data
        now = np.asarray(step["dropped"] if soft else step["suppressed_now"])
        cv.clear_layer("supp_now")
        if len(now):
            from PySide6.QtWidgets import QGraphicsPathItem

            item = QGraphicsPathItem(_rects_path(b[now]))
            item.setPen(th.pen("suppressed", th.line_px * 1.2, style="dash"))
            cv._add("supp_now", item, 15)
        # IoU of each neighbour with the current pick
        texts = []
        cur = int(step["current"])
        if cur >= 0:
            nb, ious = np.asarray(step["neighbours"]), np.asarray(step["ious"])
            order = np.argsort(-ious)[:_MAX_LABELS]
            thr = self.iou_threshold
            pos = self._label_positions(b[nb[order]], occupied=[(b[cur, 0], b[cur, 1])])
            if soft:  # every overlap decays the score: show before -> after
                sb, sa = np.asarray(step["scores_before"]), np.asarray(step["scores_after"])
                txt = [f"IoU {ious[o]:.2f}: {sb[nb[o]]:.2f}→{sa[nb[o]]:.2f}" for o in order]
                pos = self._label_positions(b[nb[order]], chars=13, occupied=[(b[cur, 0], b[cur, 1])])
                hot = [(x, y, t_) for (x, y), t_, o in zip(pos, txt, order) if sa[nb[o]] < max(self.conf_threshold, 1e-3)]
                cold = [(x, y, t_) for (x, y), t_, o in zip(pos, txt, order) if sa[nb[o]] >= max(self.conf_threshold, 1e-3)]
                pick_score = sb[cur]
            else:
                hot = [(x, y, f"IoU {ious[o]:.2f}") for (x, y), o in zip(pos, order) if ious[o] > thr]
                cold = [(x, y, f"IoU {ious[o]:.2f}") for (x, y), o in zip(pos, order) if ious[o] <= thr]
                pick_score = self.scores[cur]
            self.labels["iou_hot"].show(hot)
            self.labels["iou_cold"].show(cold)
            self.labels["pick"].show([(b[cur, 0], b[cur, 1], f"pick {pick_score:.2f}")])
            self.labels["kept"].show([])
        else:
            for n in ("iou_hot", "iou_cold", "pick"):
                self.labels[n].show([])
            kept = np.asarray(step["kept"])
            if step.index == len(self.trace) - 1 and len(kept):
                final_s = np.asarray(step["scores_after"]) if soft else self.scores
                texts = [(b[j, 0], b[j, 1], f"{final_s[j]:.2f}") for j in kept[:_MAX_LABELS]]
            self.labels["kept"].show(texts)
        if soft:
            rule = ("s · exp(−IoU²/σ), σ = 0.5" if self.soft_method.currentText() == "gaussian"
                    else f"s · (1 − IoU) if IoU > {self.iou_threshold:.2f}")
            self.counter.setText(f"Soft-NMS: s ← {rule}")
        else:
            n_c = int(step["n_candidates"])
            ev, bound = int(step["evaluations"]), int(step["max_evaluations"])
            self.counter.setText(f"IoU evaluations: {ev} of N(N−1)/2 = {bound} (N = {n_c})")
        self.player_.set_caption(step.caption)
        self._update_table(states, (np.asarray(step["neighbours"]), np.asarray(step["ious"])))
        self.last_render_ms = (time.perf_counter() - t0) * 1e3

    def _label_positions(self, rects: np.ndarray, canvas: ImageCanvas | None = None,
                         scale: float = 1.0, chars: float = 6.5, occupied=()) -> list[tuple[float, float]]:
        """Bottom-left corners for labels, moved up or down so that labels never sit on each other."""
        canvas = canvas or self.canvas
        try:
            px, py = canvas.vb.viewPixelSize()
        except Exception:  # noqa: BLE001 - view not laid out yet
            px = py = 1.0
        lh = canvas.theme.font_pt * 1.9 * py * scale     # label height in image pixels
        lw = canvas.theme.font_pt * chars * px * scale   # label width in image pixels
        H = self.image.shape[0] if self.image is not None else 1e9
        fixed = [(float(x), float(y)) for x, y in occupied]  # e.g. the "pick" label
        placed: list[tuple[float, float]] = []
        for x0, y0, _x1, y1 in rects:
            x = float(x0) + 2 * px
            base = min(float(y1), H)
            # try the box's bottom edge, then alternately above and below it, inside the image
            tries = [base + d * lh for k in range(1, 30) for d in (-k, k)]
            y = base
            for cand in [base] + tries:
                if not (lh <= cand <= H):
                    continue
                y = cand
                if all(abs(x - qx) >= lw or abs(y - qy) >= lh for qx, qy in placed + fixed):
                    break
            placed.append((x, y))
        return placed

    def _update_table(self, states: np.ndarray, ious=None) -> None:
        th = self.ctx.theme
        order = np.argsort(-self.scores, kind="stable")[:_TABLE_ROWS]
        tab = self.table
        if tab.rowCount() != len(order) or getattr(self, "_table_order", None) is None \
                or not np.array_equal(self._table_order, order):
            tab.setRowCount(len(order))
            for r, j in enumerate(order):
                tab.setItem(r, 0, QTableWidgetItem(f"#{j}"))
                tab.setItem(r, 1, QTableWidgetItem(f"{self.scores[j]:.2f}"))
                tab.setItem(r, 2, QTableWidgetItem(self._cname(j)))
                tab.setItem(r, 3, QTableWidgetItem(""))
                tab.setItem(r, 4, QTableWidgetItem(""))
            for col in range(3):
                tab.resizeColumnToContents(col)
            tab.setColumnWidth(3, tab.fontMetrics().horizontalAdvance("IoU 0.00"))
            self._table_order = order
            self._table_states = np.full(len(order), -1, np.int16)
            self._table_iou = None
        codes = states[order].astype(np.int16)
        changed = np.flatnonzero(codes != self._table_states)
        self._table_states = codes
        # IoU with the current pick (blank for boxes it did not overlap)
        iou_txt = np.full(len(order), "", dtype=object)
        if ious is not None and len(ious[0]):
            pos = {int(j): r for r, j in enumerate(order)}
            for j, v in zip(ious[0], ious[1]):
                r = pos.get(int(j))
                if r is not None:
                    iou_txt[r] = f"{v:.2f}"
        prev = getattr(self, "_table_iou", None)
        for r in range(len(order)):
            if prev is None or len(prev) != len(order) or prev[r] != iou_txt[r]:
                tab.item(r, 3).setText(iou_txt[r])
        self._table_iou = iou_txt
        for r in changed:
            code = int(codes[r])
            it = tab.item(int(r), 4)
            it.setText(B.STATE_NAMES[code])
            col = QColor(th.color(_ROLE[code]))
            col.setAlphaF(0.45)
            it.setBackground(QBrush(col))

    # ------------------------------------------------------------------------------------------
    # panel hooks
    # ------------------------------------------------------------------------------------------
    def player(self):
        return self.player_

    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update(source=self.source_kind, iou=self.iou_slider.value(), conf=self.conf_slider.value(),
                  topk=self.topk.value(), soft=self.soft_method.currentText(),
                  stepping=self.stepping.currentData(),
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
        src = state.get("source", self.source_kind)
        if src == _DRAWN:
            self.drawn = [tuple(map(float, d)) for d in state.get("drawn", [])]
            self._select_source(_DRAWN)
            self._use_drawn()
        elif src in B.SCENARIOS:
            self._select_source(src)
            self._load_scenario(src)
        else:
            self._rerun(keep_index=False)
        super().restore_state(state)

    def demo(self) -> None:
        self._select_source("overlapping-people")
        self._load_scenario("overlapping-people")
        self.player_.seek(1)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self._make_labels()
        self._table_order = None
        if self.trace is not None:
            self._update_pipeline()
            self._update_compare()
            self._render_step(self.player_.index)
