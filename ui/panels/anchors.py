"""Anchors panel: how detectors tile an image with anchors, and which become positives for your boxes.

The image (resized to the network input) carries the grid of the chosen level. Hover a cell to see
its anchors, click to pin it; drag on the image to draw ground-truth boxes. Anchors are then
labelled positive / ignored / negative by the detector's IoU rule (low-quality matches shown),
with counts, a per-cell max-IoU heat map and a histogram of best IoUs. The pinned cell's best
anchor and its box show the encoded offsets (tx, ty, tw, th) and the decoded box. YOLO presets
show the responsible cell of each box and the prediction bookkeeping.

Thousands of anchors are drawn as one path item per colour (built from arrays, no Python loop
per rectangle).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from cvexplorer import anchors as A

from ..widgets.canvas import ImageCanvas
from ..widgets.pg import pg
from ..widgets.util import label
from .base import Panel

__all__ = ["PanelWidget", "rects_path", "lines_path"]

VIEWS = ("Anchors of a cell", "Density of the level", "Max-IoU heat map", "All anchors of the level")


def rects_path(rects: np.ndarray):
    """One QPainterPath holding every (x0, y0, x1, y1) rectangle, built from arrays (no per-rect loop)."""
    r = np.asarray(rects, dtype=float).reshape(-1, 4)
    x = np.stack([r[:, 0], r[:, 2], r[:, 2], r[:, 0], r[:, 0]], axis=1).ravel()
    y = np.stack([r[:, 1], r[:, 1], r[:, 3], r[:, 3], r[:, 1]], axis=1).ravel()
    connect = np.ones((len(r), 5), np.int32)
    connect[:, 4] = 0
    return pg.arrayToQPath(x, y, connect=connect.ravel(), finiteCheck=False)


def lines_path(segments: np.ndarray):
    """One QPainterPath of (x0, y0, x1, y1) segments, built from arrays."""
    g = np.asarray(segments, dtype=float).reshape(-1, 4)
    x = g[:, [0, 2]].ravel()
    y = g[:, [1, 3]].ravel()
    return pg.arrayToQPath(x, y, connect="pairs", finiteCheck=False)


def _floats(text: str, name: str) -> tuple[float, ...]:
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    out = []
    for p in parts:
        p = p.strip()
        try:
            if ":" in p:  # "1:2" means w:h -> ratio h/w = 2
                a, b = p.split(":")
                out.append(float(b) / float(a))
            elif p.startswith("2^"):
                out.append(2 ** float(eval(p[2:], {"__builtins__": {}}, {})))  # "2^(1/3)"
            else:
                out.append(float(p))
        except Exception:  # noqa: BLE001 - explained below
            raise ValueError(f"{name}: {p!r} is not a number (write e.g. 0.5, 1, 2 or 1:2).") from None
    if not out:
        raise ValueError(f"{name} needs at least one value.")
    return tuple(out)


def _fmt(vals) -> str:
    return ", ".join(f"{v:.4g}" for v in vals)


def _compute(preset_name: str, image_size, sizes, ratios, scales, gt, pos_iou, neg_iou, low_quality) -> dict:
    """Worker job: the anchors and their labels (engine only)."""
    p = A.get_preset(preset_name)
    t0 = time.perf_counter()
    if p.anchor_free or (p.anchors_wh and sizes is None):
        boxes, level = p.generate(image_size)
        per = p.per_location
    else:
        boxes, level = A.generate(image_size, p.strides, sizes, ratios, scales)
        per = tuple(len(ratios) * len(scales) for _ in p.strides)
    t1 = time.perf_counter()
    gt = np.asarray(gt, float).reshape(-1, 4)
    result: dict[str, Any] = {"preset": preset_name, "boxes": boxes, "level": level, "per": per,
                              "size": tuple(image_size), "gt": gt}
    if p.name == "yolov3" or p.anchor_free:
        result["match"] = _yolo_labels(p, boxes, level, per, image_size, gt)
    else:
        result["match"] = A.match(boxes, gt, pos_iou, neg_iou, low_quality)
    t2 = time.perf_counter()
    result["ms"] = {"generate": (t1 - t0) * 1e3, "match": (t2 - t1) * 1e3}
    return result


def _yolo_labels(p: A.Preset, boxes, level, per, image_size, gt) -> dict:
    """YOLO assignment: v3 = centre cell x best-shape anchor; v8 = cells whose centre lies in a box."""
    n = len(boxes)
    labels = np.zeros(n, np.int8)
    slices = A.level_slices(image_size, p.strides, per)
    resp = []  # (level, col, row, anchor k, gt j)
    if len(gt):
        from cvexplorer.boxes import iou_matrix

        if p.anchor_free:
            cx = (boxes[:, 0] + boxes[:, 2]) / 2
            cy = (boxes[:, 1] + boxes[:, 3]) / 2
            inside = ((cx[:, None] > gt[None, :, 0]) & (cx[:, None] < gt[None, :, 2])
                      & (cy[:, None] > gt[None, :, 1]) & (cy[:, None] < gt[None, :, 3])).any(axis=1)
            labels[inside] = 1
            for j in range(len(gt)):
                for lv, s in enumerate(p.strides):
                    (c, r), = A.responsible_cells(gt[j:j + 1], image_size, A.grid_shape(image_size, s)).tolist()
                    resp.append((lv, c, r, 0, j))
        else:
            wh = np.concatenate([np.asarray(w, float) for w in p.anchors_wh])
            best, _ = A.best_anchor_by_shape(gt, wh)
            iou = iou_matrix(boxes, gt).max(axis=1)
            labels[iou > 0.5] = -1  # YOLOv3 ignores non-best predictions overlapping a box by > 0.5
            for j, b in enumerate(best.tolist()):
                lv, k = divmod(b, per[0])
                grid = A.grid_shape(image_size, p.strides[lv])
                (c, r), = A.responsible_cells(gt[j:j + 1], image_size, grid).tolist()
                idx = slices[lv].start + (r * grid[0] + c) * per[lv] + k
                labels[idx] = 1
                resp.append((lv, c, r, k, j))
    max_iou = np.zeros(n)
    if len(gt):
        from cvexplorer.boxes import iou_matrix

        max_iou = iou_matrix(boxes, gt).max(axis=1)
    return {"labels": labels, "max_iou": max_iou, "responsible": resp,
            "counts": {"positive": int((labels == 1).sum()), "negative": int((labels == 0).sum()),
                       "ignored": int((labels == -1).sum())}}


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        from cvexplorer.samples import get_sample

        self._photo = get_sample("still-life", size=(1280, 960))
        self._source = "still-life sample"
        self._image = None
        self.gt: list[list[float]] = []
        self.result: dict | None = None
        self.pinned: tuple[int, int] | None = None
        self.hover: tuple[int, int] | None = None
        self._error = ""
        self.last_draw_ms = 0.0
        self._path_style: dict[str, tuple] = {}
        self._gt_key = None

        # -- views --------------------------------------------------------------------------------------
        self.banner = label("", wrap=True, rich=True)
        self.canvas = ImageCanvas(theme=ctx.theme)
        self.canvas.drag_mode = True
        self.canvas.dragged.connect(ctx.guard(self._on_drag, "Anchors"))
        self.canvas.clicked.connect(ctx.guard(self._on_click, "Anchors"))
        self.canvas.hovered.connect(ctx.guard(self._on_hover, "Anchors"))
        self.caption = label("", wrap=True, rich=True)
        self.caption.setMinimumHeight(10)

        # -- controls -----------------------------------------------------------------------------------
        self.preset = QComboBox()
        for name, p in A.PRESETS.items():
            self.preset.addItem(p.title, name)
        self.preset.setCurrentIndex(list(A.PRESETS).index("retinanet"))
        self.level = QComboBox()
        self.view = QComboBox()
        self.view.addItems(VIEWS)
        self.sizes = QLineEdit()
        self.ratios = QLineEdit()
        self.scales = QLineEdit()
        for e, tip in ((self.sizes, "Base size per level (pixels), e.g. 32, 64, 128, 256, 512"),
                       (self.ratios, "Aspect ratios h/w, e.g. 0.5, 1, 2 (or 2:1, 1:1, 1:2 as w:h)"),
                       (self.scales, "Scales multiplying the size, e.g. 1, 1.26, 1.587 or 2^(1/3)")):
            e.setToolTip(tip)
        self.in_w = QSpinBox()
        self.in_h = QSpinBox()
        for s in (self.in_w, self.in_h):
            s.setRange(32, 2048)
            s.setSingleStep(32)
        self.pos_iou = QDoubleSpinBox()
        self.neg_iou = QDoubleSpinBox()
        for s in (self.pos_iou, self.neg_iou):
            s.setRange(0.0, 1.0)
            s.setSingleStep(0.05)
            s.setDecimals(2)
        self.low_quality = QCheckBox("keep best anchor per box")
        self.low_quality.setChecked(True)
        self.clear_btn = QPushButton("Clear boxes")
        self.clear_btn.clicked.connect(ctx.guard(self.clear_boxes, "Anchors"))
        self.error = label("", "Error", wrap=True)

        form = QGridLayout()
        rows = [("Detector", self.preset), ("Level", self.level), ("View", self.view),
                ("Sizes", self.sizes), ("Ratios h/w", self.ratios), ("Scales", self.scales)]
        for i, (t, w) in enumerate(rows):
            form.addWidget(QLabel(t), i, 0)
            form.addWidget(w, i, 1, 1, 3)
        i = len(rows)
        form.addWidget(QLabel("Input W×H"), i, 0)
        form.addWidget(self.in_w, i, 1)
        form.addWidget(self.in_h, i, 2)
        form.addWidget(QLabel("IoU pos/neg"), i + 1, 0)
        form.addWidget(self.pos_iou, i + 1, 1)
        form.addWidget(self.neg_iou, i + 1, 2)
        form.addWidget(self.low_quality, i + 2, 0, 1, 3)
        form.addWidget(self.clear_btn, i + 2, 3)
        form.addWidget(self.error, i + 3, 0, 1, 4)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(2, 1)
        box = QGroupBox("Anchors")
        box.setObjectName("Controls")  # collapses in presentation mode (Panel.set_presentation)
        box.setLayout(form)

        # table of levels
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Level", "Stride", "Grid", "Anchors", "Share"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.cellClicked.connect(lambda r, _c: self.level.setCurrentIndex(r) if r < self.level.count() else None)

        # histogram
        self.hist = pg.PlotWidget()
        self.hist.setMenuEnabled(False)
        self.hist.setMouseEnabled(False, False)
        self.hist.setLabel("bottom", "best IoU of each anchor")
        self.hist.setLabel("left", "anchors (log)")
        self._hist_bars = None
        self._style_hist(ctx.theme)

        # pair + yolo texts
        self.pair_text = label("", "Mono", wrap=True)
        self.pair_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.anchor_k = QSpinBox()
        self.anchor_k.setPrefix("anchor #")
        self.anchor_k.setSpecialValueText("best anchor")
        self.anchor_k.setRange(-1, 8)
        self.anchor_k.setValue(-1)
        pair_w = QWidget()
        pl = QVBoxLayout(pair_w)
        row = QHBoxLayout()
        row.addWidget(label("Click a cell:", "Muted"))
        row.addWidget(self.anchor_k, 1)
        pl.addLayout(row)
        pl.addWidget(self.pair_text)
        pl.addStretch(1)
        self.yolo_text = label("", "Mono", wrap=True, rich=True)
        yolo_w = QWidget()
        yl = QVBoxLayout(yolo_w)
        yl.addWidget(self.yolo_text)
        yl.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.hist, "IoU histogram")
        for w, title in ((pair_w, "Anchor → box"), (yolo_w, "YOLO grid")):
            sc = QScrollArea()
            sc.setWidgetResizable(True)
            sc.setFrameShape(QScrollArea.Shape.NoFrame)
            sc.setWidget(w)
            self.tabs.addTab(sc, title)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.banner)
        ll.addWidget(self.canvas, 1)
        ll.addWidget(self.caption)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(box)
        rl.addWidget(self.table)
        rl.addWidget(self.tabs, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(split)

        # -- wiring -------------------------------------------------------------------------------------
        self._loading = False
        self.preset.currentIndexChanged.connect(ctx.guard(self._on_preset, "Anchors"))
        for w in (self.sizes, self.ratios, self.scales):
            w.editingFinished.connect(ctx.guard(self.recompute, "Anchors"))
        for s in (self.in_w, self.in_h):
            s.valueChanged.connect(ctx.guard(self._on_input_size, "Anchors"))
        for s in (self.pos_iou, self.neg_iou):
            s.valueChanged.connect(ctx.guard(self.recompute, "Anchors"))
        self.low_quality.toggled.connect(ctx.guard(self.recompute, "Anchors"))
        self.level.currentIndexChanged.connect(ctx.guard(self._on_level, "Anchors"))
        self.view.currentIndexChanged.connect(ctx.guard(self.render, "Anchors"))
        self.anchor_k.valueChanged.connect(ctx.guard(self._render_cell, "Anchors"))
        self._on_preset()

    # -- settings -------------------------------------------------------------------------------------------
    @property
    def preset_obj(self) -> A.Preset:
        return A.get_preset(self.preset.currentData())

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.in_w.value()), int(self.in_h.value())

    def _on_preset(self, *_a) -> None:
        p = self.preset_obj
        old = self.image_size if self._image is not None else None
        self._loading = True
        try:
            self.level.clear()
            self.level.addItems(list(p.names()))
            self.level.setCurrentIndex(min(1, len(p.strides) - 1))
            editable = not (p.anchor_free or p.anchors_wh)
            for e in (self.sizes, self.ratios, self.scales):
                e.setEnabled(editable)
            if p.anchors_wh:
                self.sizes.setText("  ".join("/".join(f"{w}×{h}" for w, h in lv) for lv in p.anchors_wh))
                self.ratios.setText("explicit (w, h) per anchor")
                self.scales.setText("—")
            elif p.anchor_free:
                self.sizes.setText("no anchors: one point per cell")
                self.ratios.setText("—")
                self.scales.setText("—")
            else:
                self.sizes.setText(_fmt(p.sizes))
                self.ratios.setText(_fmt(p.ratios))
                self.scales.setText(_fmt(p.scales))
            self.in_w.setValue(p.default_size[0] if p.name != "faster-rcnn" else 1000)
            self.in_h.setValue(p.default_size[1])
            pos, neg = A.THRESHOLDS[p.name]
            self.pos_iou.setValue(pos)
            self.neg_iou.setValue(neg)
            for s in (self.pos_iou, self.neg_iou, self.low_quality):
                s.setEnabled(p.name not in ("yolov3", "yolov8"))
        finally:
            self._loading = False
        self._rescale_gt(old)
        self._update_image()
        self.pinned = None
        self.recompute()

    def _rescale_gt(self, old) -> None:
        new = self.image_size
        if self.gt and old is not None and tuple(old) != new:  # keep the boxes on the same objects
            sx, sy = new[0] / old[0], new[1] / old[1]
            self.gt = [[b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] for b in self.gt]

    def _on_input_size(self, *_a) -> None:
        if self._loading:
            return
        old = self._image.shape[1::-1] if self._image is not None else self.image_size
        self._rescale_gt(old)
        self._update_image()
        self.pinned = None
        self.recompute()

    def _on_level(self, *_a) -> None:
        if self._loading:
            return
        self.pinned = None
        self.render()

    def _update_image(self) -> None:
        import cv2

        w, h = self.image_size
        self._image = cv2.resize(self._photo, (w, h), interpolation=cv2.INTER_AREA)
        self.canvas.set_image(self._image, autorange=True)

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self._photo = np.ascontiguousarray(rgb)
        self._source = source or "your image"
        self.gt = []
        self._update_image()
        self.recompute()

    def _params(self) -> dict:
        p = self.preset_obj
        sizes = ratios = scales = None
        if not (p.anchor_free or p.anchors_wh):
            sizes = _floats(self.sizes.text(), "Sizes")
            ratios = _floats(self.ratios.text(), "Ratios")
            scales = _floats(self.scales.text(), "Scales")
            if len(sizes) != len(p.strides):
                raise ValueError(f"Sizes: {p.title} has {len(p.strides)} levels, so give {len(p.strides)} sizes "
                                 f"(got {len(sizes)}).")
        pos, neg = self.pos_iou.value(), self.neg_iou.value()
        if neg > pos:
            raise ValueError(f"The negative threshold {neg:.2f} is above the positive one {pos:.2f}.")
        return dict(preset_name=p.name, image_size=self.image_size, sizes=sizes, ratios=ratios, scales=scales,
                    gt=np.asarray(self.gt, float).reshape(-1, 4), pos_iou=pos, neg_iou=neg,
                    low_quality=self.low_quality.isChecked())

    def recompute(self, *_a) -> None:
        if self._loading:
            return
        try:
            params = self._params()
            # validate synchronously so the sentence appears next to the field
            if params["ratios"] is not None:
                A.anchor_shapes(params["sizes"][0], params["ratios"], params["scales"])
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        self.ctx.workers.submit("anchors", _compute, *params.values(), on_done=self._on_result,
                                on_error=lambda e, *_: self.error.setText(str(e)))

    def _on_result(self, result: dict) -> None:
        self.result = result
        self.ctx.record(self.panel_id or "anchors", result["ms"])
        self._fill_table()
        self._update_hist(self._labels()[1])
        self._update_yolo()
        self.render()

    # -- mouse -----------------------------------------------------------------------------------------------
    def _cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        s = self.preset_obj.strides[max(0, self.level.currentIndex())]
        cols, rows = A.grid_shape(self.image_size, s)
        c, r = int(x // s), int(y // s)
        if 0 <= c < cols and 0 <= r < rows:
            return c, r
        return None

    def _on_hover(self, x: float, y: float) -> None:
        cell = self._cell_at(x, y)
        if cell != self.hover:
            self.hover = cell
            self._render_cell()

    def _on_click(self, x: float, y: float, button: int, _mods: int) -> None:
        if button == int(Qt.MouseButton.RightButton.value):  # right click removes the box under it
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

    # -- rendering ---------------------------------------------------------------------------------------------
    def _level_data(self):
        res = self.result
        lv = max(0, self.level.currentIndex())
        p = self.preset_obj
        if res is None or res["preset"] != p.name or lv >= len(p.strides) or tuple(res["size"]) != self.image_size:
            return None  # a newer computation is on its way
        sl = A.level_slices(res["size"], p.strides, res["per"])[lv]
        return lv, p.strides[lv], sl, res["per"][lv]

    def _labels(self):
        m = self.result["match"]
        if isinstance(m, A.Match):
            return m.labels, m.max_iou, m.counts
        return m["labels"], m["max_iou"], m["counts"]

    def _path_layer(self, name: str, rects, color: str, *, width=None, dash=False, z=10, fill=None, alpha=None,
                    lines: bool = False):
        """One path item per layer, reused across redraws (setPath instead of remove + add)."""
        from PySide6.QtGui import QPainterPath
        from PySide6.QtWidgets import QGraphicsPathItem

        r = np.asarray(rects, float).reshape(-1, 4)
        build = lines_path if lines else rects_path
        items = self.canvas.layer_items(name)
        key = (color, width, dash, fill, alpha, self.ctx.theme.name)
        if len(items) == 1 and isinstance(items[0], QGraphicsPathItem) and self._path_style.get(name) == key:
            items[0].setPath(build(r) if len(r) else QPainterPath())
            return
        self.canvas.clear_layer(name)
        if not len(r):
            return
        self.canvas._path_item(name, build(r), color, width, fill, alpha, dash, z)
        self._path_style[name] = key

    def render(self, *_a) -> None:
        t0 = time.perf_counter()
        d = self._level_data()
        if d is None:
            return
        res = self.result
        lv, s, sl, per = d
        p = self.preset_obj
        w, h = res["size"]
        cols, rows = A.grid_shape((w, h), s)
        th = self.ctx.theme
        # the grid of the level (one path)
        xs = np.arange(cols + 1) * s
        ys = np.arange(rows + 1) * s
        segs = np.concatenate([np.stack([xs, np.zeros_like(xs), xs, np.full_like(xs, rows * s)], 1),
                               np.stack([np.zeros_like(ys), ys, np.full_like(ys, cols * s), ys], 1)])
        self._path_layer("grid", segs if s >= 6 else np.zeros((0, 4)), "grid", width=1, z=8, lines=True)
        boxes = res["boxes"]
        labels, max_iou, counts = self._labels()
        view = self.view.currentText()
        self._view_note = ""
        # overlays: density or max-IoU heat map of this level
        if view == VIEWS[1]:
            cell = max(2, int(min(w, h) // 160))
            cov = A.coverage_map(boxes[sl], (w, h), cell=cell)
            self._view_note = (f"density: a pixel lies inside {int(np.median(cov))} anchors of this level "
                               f"(median; {int(cov.min())} to {int(cov.max())})")
            self.canvas.set_overlay("heat", cov.astype(np.float32), opacity=0.6, colormap="viridis",
                                    rect=(0, 0, cov.shape[1] * cell, cov.shape[0] * cell))
        elif view == VIEWS[2]:
            heat = A.per_cell_max(max_iou[sl], (w, h), s, per)
            lut = pg.colormap.get("inferno").getLookupTable(nPts=256)
            rgba = np.zeros(heat.shape + (4,), np.uint8)
            rgba[..., :3] = lut[np.clip((heat * 255).astype(int), 0, 255)][..., :3]
            rgba[..., 3] = (np.clip(heat * 2.0, 0, 1) * 220).astype(np.uint8)  # IoU 0 stays transparent
            self.canvas.set_overlay("heat", rgba, opacity=1.0, rect=(0, 0, cols * s, rows * s))
            self._view_note = (f"heat: best IoU of each cell's anchors, max {heat.max():.2f} "
                               "(cell %d, %d)" % tuple(int(v) for v in np.unravel_index(heat.argmax(), heat.shape)[::-1])
                               if heat.max() > 0 else
                               "heat: best IoU of each cell's anchors (draw a box)")
        else:
            self.canvas.clear_layer("heat")
        if view == VIEWS[3]:
            self._path_layer("all", boxes[sl], "waiting", width=1, z=9)
        else:
            self.canvas.clear_layer("all")
        # labelled anchors: positives of every level, ignored of this level
        is_m = isinstance(res["match"], A.Match)
        lq = res["match"].low_quality if is_m else np.zeros(len(boxes), bool)
        pos = labels == 1
        if view in (VIEWS[1], VIEWS[2]):  # the map alone reads better: no labelled anchors on top
            pos = np.zeros(len(boxes), bool)
            lq = pos
        here = np.zeros(len(boxes), bool)
        here[sl] = True
        self._path_layer("positive", boxes[pos & ~lq & here], "positive", z=14)
        self._path_layer("positive-other", boxes[pos & ~lq & ~here], "positive", width=max(1.0, th.line_px / 3),
                         z=14)
        self._path_layer("lowq", boxes[lq], "padding", dash=True, z=15)
        lost = np.zeros((0, 4))
        if is_m and not self.low_quality.isChecked() and view not in (VIEWS[1], VIEWS[2]):
            m = res["match"]
            lost = boxes[m.best_anchor[m.orphan]]  # what the low-quality rule would have kept
        self._path_layer("lost", lost, "padding", dash=True, z=15)
        ign = np.zeros(len(boxes), bool)
        ign[sl] = (labels[sl] == -1) & (view not in (VIEWS[1], VIEWS[2]))
        self._path_layer("ignored", boxes[ign], "ignored", width=max(1.0, th.line_px / 2), dash=True, z=12)
        # YOLO: responsible cells
        resp = [] if is_m else res["match"]["responsible"]
        cells = [(c * s, r * s, (c + 1) * s, (r + 1) * s) for (l2, c, r, _k, _j) in resp if l2 == lv]
        self._path_layer("responsible", cells, "highlight", fill="highlight", alpha=0.45, z=13)
        # ground truth
        gt = res["gt"]
        key = (gt.tobytes(), th.name)
        if key != self._gt_key:
            self._gt_key = key
            self.canvas.set_rects("gt", gt, color="accent", width=th.line_px * 1.5, z=20)
            self.canvas.set_texts("gt-labels", [(b[0], b[1], f"box {j + 1}") for j, b in enumerate(gt)],
                                  color="white", background="accent", anchor=(0, 1))
        self._render_cell()
        self._update_texts(counts)
        self.last_draw_ms = (time.perf_counter() - t0) * 1e3
        self.ctx.record(self.panel_id or "anchors", {"redraw": self.last_draw_ms})

    def _cell_anchor_index(self) -> tuple[np.ndarray, int] | None:
        d = self._level_data()
        if d is None:
            return None
        lv, s, sl, per = d
        cols, rows = A.grid_shape(self.result["size"], s)
        # hovering shows a cell; a click pins one; with neither, the centre cell shows (never an empty view)
        cell = self.pinned or self.hover or (cols // 2, rows // 2)
        c, r = cell
        if not (0 <= c < cols and 0 <= r < rows):
            return None
        start = sl.start + (r * cols + c) * per
        return np.arange(start, start + per), s

    def _render_cell(self, *_a) -> None:
        if self.result is None:
            return
        got = self._cell_anchor_index()
        for name in ("cell", "cell-box", "pair", "decoded"):
            self.canvas.clear_layer(name)
        if got is None:
            self.pair_text.setText("Click a grid cell to pair its anchor with a box.")
            return
        idx, s = got
        boxes = self.result["boxes"]
        c = (boxes[idx[0], 0] + boxes[idx[0], 2]) / 2
        r = (boxes[idx[0], 1] + boxes[idx[0], 3]) / 2
        self.canvas.set_rects("cell-box", [[c - s / 2, r - s / 2, c + s / 2, r + s / 2]], color="current",
                              fill="current", alpha=0.35, width=1, z=16)
        self.canvas.set_rects("cell", boxes[idx], color="current", width=max(1.5, self.ctx.theme.line_px * 0.5),
                              z=17)
        self._update_pair(idx)

    def _update_pair(self, idx: np.ndarray) -> None:
        gt = self.result["gt"]
        boxes = self.result["boxes"]
        self.anchor_k.setMaximum(len(idx) - 1)
        if not len(gt):
            self.pair_text.setText(f"Cell anchors: {len(idx)}.\nDraw a box (drag on the image) to see offsets.")
            return
        from cvexplorer.boxes import iou_matrix

        m = iou_matrix(boxes[idx], gt)
        k = self.anchor_k.value()
        if k < 0 or k >= len(idx):
            k = int(np.unravel_index(np.argmax(m), m.shape)[0])
        j = int(np.argmax(m[k]))
        a = boxes[idx[k]]
        g = gt[j]
        t = A.encode(a[None], g[None])[0]
        dec = A.decode(a[None], t[None])[0]
        self.canvas.set_rects("pair", [a], color="current", width=self.ctx.theme.line_px * 1.5, z=21)
        self.canvas.set_rects("decoded", [dec], color="positive", width=max(1.0, self.ctx.theme.line_px / 2),
                              dash=True, z=22)
        aw, ah = a[2] - a[0], a[3] - a[1]
        self.pair_text.setText(
            f"anchor #{k} {aw:.0f}×{ah:.0f} at ({(a[0] + a[2]) / 2:.0f}, {(a[1] + a[3]) / 2:.0f})"
            f" ↔ box {j + 1} {g[2] - g[0]:.0f}×{g[3] - g[1]:.0f}, IoU {m[k, j]:.3f}\n"
            f"tx, ty = Δx/wa, Δy/ha     = {t[0]:+.3f}, {t[1]:+.3f}\n"
            f"tw, th = ln(wg/wa), ln(hg/ha) = {t[2]:+.3f}, {t[3]:+.3f}\n"
            f"decoded = ({dec[0]:.1f}, {dec[1]:.1f}, {dec[2]:.1f}, {dec[3]:.1f}) = box {j + 1}")

    def _update_texts(self, counts: dict) -> None:
        th = self.ctx.theme
        p = self.preset_obj
        res = self.result
        n = len(res["boxes"])

        def span(role, text):
            return f'<span style="color:{th.color(role)}">■</span> {text}'

        what = "predictions (one per cell)" if p.anchor_free else "anchors"
        if not len(res["gt"]):
            self.banner.setText(f"<b>{n:,} {what} · drag on the image to draw a box</b>".replace(",", " "))
        elif p.anchor_free:
            self.banner.setText("<b>" + " &nbsp; ".join([
                span("positive", f"{counts['positive']:,} candidate cells (centre inside a box)"),
                span("negative", f"{counts['negative']:,} background")]).replace(",", " ") + "</b>")
        else:
            rescued = ""
            m = res["match"]
            if isinstance(m, A.Match) and m.low_quality.any():
                rescued = "<br>" + span("padding", f"{int(m.low_quality.sum())} positive only by the low-quality rule")
            elif isinstance(m, A.Match) and m.orphan.any():
                j = int(np.flatnonzero(m.orphan)[0])
                rescued = "<br>" + span("padding", f"box {j + 1} has no positive anchor (best IoU "
                                                   f"{m.best_iou[j]:.2f}): lost without the low-quality rule")
            self.banner.setText("<b>" + " &nbsp; ".join([
                span("positive", f"{counts['positive']} positive"
                     + (" (responsible anchors)" if p.name == "yolov3" else "")),
                span("ignored", f"{counts['ignored']:,} ignored"),
                span("negative", f"{counts['negative']:,} negative")]).replace(",", " ") + rescued + "</b>")
        d = self._level_data()
        lv, s, sl, per = d
        cols, rows = A.grid_shape(res["size"], s)
        if p.name == "yolov3" or p.anchor_free:
            rule = ("centre cell × best-shape anchor = positive; other IoU > 0.5 ignored" if p.name == "yolov3"
                    else "cells whose centre lies in a box = candidates (TAL keeps the top 10)")
        else:
            rule = (f"IoU ≥ {self.pos_iou.value():.2f} positive, &lt; {self.neg_iou.value():.2f} negative"
                    + (", best anchor per box kept" if self.low_quality.isChecked() else ""))
        sq = "<br><span style='color:%s'>■</span> " % th.color("current")
        if getattr(self, "_view_note", ""):
            pinned = ""
        elif self.pinned and len(res["gt"]):
            pinned = sq + "pinned cell's anchors, thick = paired with a box; dashed green = box decoded from (tx, ty, tw, th)"
        else:
            pinned = sq + f"the {per} anchors of one cell: hover a cell, click to pin it"
        total = f"{cols * rows * per:,}".replace(",", " ")
        note = f"<br>{self._view_note}" if getattr(self, "_view_note", "") else ""
        self.caption.setText(f"<b>{p.names()[lv]}</b>: stride {s:g}, {cols}×{rows} cells × {per} = "
                             f"{total} anchors<br>{rule}" + note + pinned)

    def _fill_table(self) -> None:
        res = self.result
        p = A.get_preset(res["preset"])
        counts = [c * r * a for (c, r), a in zip(p.grid_sizes(res["size"]), res["per"])]
        total = sum(counts)
        names = p.names()
        self.table.setRowCount(len(counts) + 1)
        for i, (s, n) in enumerate(zip(p.strides, counts)):
            c, r = A.grid_shape(res["size"], s)
            vals = [names[i], f"{s:g}", f"{c}×{r}×{res['per'][i]}", f"{n:,}".replace(",", " "),
                    f"{100 * n / total:.1f} %"]
            for k, v in enumerate(vals):
                it = QTableWidgetItem(v)
                it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(i, k, it)
        for k, v in enumerate(["Total", "", "", f"{total:,}".replace(",", " "), "100 %"]):
            it = QTableWidgetItem(v)
            f = it.font()
            f.setBold(True)
            it.setFont(f)
            it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(len(counts), k, it)
        self.table.resizeRowsToContents()
        hh = self.table.horizontalHeader().height() + sum(self.table.rowHeight(i) for i in range(len(counts) + 1))
        self.table.setFixedHeight(hh + 2 * self.table.frameWidth())
        self.shares = [n / total for n in counts]

    def _update_hist(self, max_iou: np.ndarray) -> None:
        plot = self.hist.getPlotItem()
        plot.clear()
        v = np.asarray(max_iou)
        v = v[v > 0]
        counts, edges = np.histogram(v, bins=20, range=(0, 1))
        self.hist_counts = counts
        hlog = np.log10(counts + 1.0)
        th = self.ctx.theme
        colors = []
        pos, neg = self.pos_iou.value(), self.neg_iou.value()
        for e in edges[:-1]:
            role = "positive" if e >= pos - 1e-9 else ("negative" if e + 0.05 <= neg + 1e-9 else "ignored")
            colors.append(pg.mkBrush(th.color(role)))
        bars = pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=hlog, brushes=colors, pen=pg.mkPen(th.fg))
        plot.addItem(bars)
        for t in (pos, neg):
            plot.addItem(pg.InfiniteLine(t, angle=90, pen=th.pen("black", th.line_px, style="dash")))
        if not v.size:
            note = pg.TextItem("draw a box on the image", color=th.fg, anchor=(0.5, 0.5))
            f = self.font()
            f.setPointSizeF(th.font_pt)
            note.setFont(f)
            note.setPos(0.5, 0.5)
            plot.addItem(note)
        top = max(1, int(np.ceil(hlog.max() if len(hlog) else 1)))
        plot.getAxis("left").setTicks([[(k, f"{10 ** k:,}".replace(",", " ")) for k in range(top + 1)]])
        plot.setYRange(0, top, padding=0.05)
        plot.setXRange(0, 1, padding=0.02)
        f = self.font()
        f.setPointSizeF(th.font_pt * 0.8)
        for ax in ("left", "bottom"):
            plot.getAxis(ax).setStyle(tickFont=f)
            plot.getAxis(ax).label.setFont(f)

    def _update_yolo(self) -> None:
        res = self.result
        p = A.get_preset(res["preset"])
        size = res["size"]
        if p.name in ("yolov3", "yolov8"):
            per = 3 if p.name == "yolov3" else 1
            d = A.yolo_bookkeeping(size, p.strides, per, 80, objectness=p.name == "yolov3")
        else:
            d = A.yolo_bookkeeping(size, (8, 16, 32), 3, 80)
        terms = " + ".join(f"{c}²" if c == r else f"{c}×{r}" for c, r in d["grids"])
        layout = "tx ty tw th | obj | p0 … p79" if d["vector"] == 85 else "l t r b | p0 … p79"
        head = "" if p.name in ("yolov3", "yolov8") else "(YOLOv3 head at this input size, for comparison)<br>"
        resp = []
        m = res["match"]
        if not isinstance(m, A.Match):
            for lv, c, r, k, j in m["responsible"]:
                resp.append(f"box {j + 1} → {p.names()[lv]} cell ({c}, {r})" + (f" anchor {k}" if per > 1 else ""))
        self.yolo_text.setText((
            head + f"{d['per_location']} × ({terms})<br>= {d['predictions']:,} predictions<br>"
            f"× {d['vector']} numbers = {d['outputs']:,}<br><br>vector: [{layout}]<br><br>"
            + "<br>".join(resp[:8])).replace(",", " "))

    # -- hooks -------------------------------------------------------------------------------------------------
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
            for key, w in (("sizes", self.sizes), ("ratios", self.ratios), ("scales", self.scales)):
                if key in state and w.isEnabled():
                    w.setText(state[key])
            if "level" in state:
                self.level.setCurrentIndex(int(state["level"]))
            if "view" in state:
                self.view.setCurrentIndex(int(state["view"]))
        finally:
            self._loading = False
        self._update_image()
        self.gt = [list(map(float, b)) for b in state.get("gt", [])]
        self.pinned = tuple(state["pinned"]) if state.get("pinned") else None
        self.recompute()

    def demo(self) -> None:
        """Draw the apple and the pencil of the still-life photo, pin the apple's best anchor's cell."""
        from cvexplorer.samples import still_life_objects

        w, h = self.image_size
        self.gt = []  # the demo draws the same two boxes every time (soak test, screenshots)
        objs = {o.label: o.box for o in still_life_objects((w, h))}
        for name in ("apple", "pencil"):
            x0, y0, x1, y1 = objs[name]
            self.canvas.dragged.emit(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2, False)
            self.canvas.dragged.emit(x0, y0, x1, y1, True)
        self.wait_idle(30)
        res = self.result
        m = res["match"]
        if isinstance(m, A.Match) and len(m.best_anchor):
            b = res["boxes"][m.best_anchor[0]]
            lv = int(res["level"][m.best_anchor[0]])
            self.level.setCurrentIndex(lv)
            self.pinned = self._cell_at((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        self.tabs.setCurrentIndex(0)
        self.render()
        if len(res["gt"]):  # zoom on the boxes so the anchors read from the back of the room
            g = res["gt"]
            x0, y0 = g[:, :2].min(axis=0)
            x1, y1 = g[:, 2:].max(axis=0)
            mx, my = 0.35 * (x1 - x0) + 16, 0.35 * (y1 - y0) + 16
            self.canvas.set_view(max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my))

    def _style_hist(self, th) -> None:
        self.banner.setStyleSheet(f"font-size: {int(round(th.font_pt * 1.25))}pt;")
        self.hist.setBackground(th.plot_bg)
        for ax in ("left", "bottom"):
            a = self.hist.getPlotItem().getAxis(ax)
            a.setPen(pg.mkPen(th.fg))
            a.setTextPen(pg.mkPen(th.fg))

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self._style_hist(theme)
        if self.result is not None:
            self._on_result(self.result)
