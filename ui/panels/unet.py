"""U-Net panel: the U with every shape and parameter count, real feature maps, skips on/off.

Left: the U drawn by :class:`UDiagram` from :func:`cvexplorer.unet.shape_trace` (encoder down the
left, bottleneck, decoder up the right, skip arrows across, the concatenation as a split box),
redrawn live from the controls. Right: the feature maps of the clicked block (a grid of channels
on one shared colour scale; at a skip, the up-sampled and the copied halves side by side), and
the shipped tiny U-Net against its no-skip twin on the same image, with their boundary F-scores.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from cvexplorer import unet as U

from ..widgets.canvas import ImageCanvas
from ..widgets.util import label
from ..workers import Debouncer
from .base import Panel

__all__ = ["PanelWidget", "UDiagram", "feature_mosaic"]

SAMPLE_SIZE = 256
MAX_PIXELS = 640 * 480


def _fmt_params(n: int) -> str:
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f} k"
    return f"{n / 1e6:.2f} M"


def _fmt_shape(s) -> str:
    return "×".join(str(v) for v in s)


def best_cols(c: int, h: int, w: int, area_w: float, area_h: float) -> int:
    """Columns that make ``c`` tiles of ``h``x``w`` largest inside an ``area_w``x``area_h`` box."""
    best, best_s = 1, -1.0
    for cols in range(1, c + 1):
        rows = math.ceil(c / cols)
        s = min(area_w / (cols * w), area_h / (rows * h))
        if s > best_s + 1e-9:
            best, best_s = cols, s
    return best


def feature_mosaic(maps: np.ndarray, *, cols: int | None = None, gap: int = 2):
    """Tile ``(C, h, w)`` maps into one image; returns (mosaic, tile rects [(x0, y0, x1, y1)], cols).

    Gaps are NaN-free: they take the minimum value, and the tile outlines are drawn as overlays.
    """
    c, h, w = maps.shape
    cols = cols or max(1, int(math.ceil(math.sqrt(c * h / max(w, 1)))))
    rows = int(math.ceil(c / cols))
    lo = float(maps.min()) if maps.size else 0.0
    hi = float(maps.max()) if maps.size else 0.0
    if lo < 0 < hi:
        lo = 0.0  # the neutral middle of a diverging scale
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap), lo, np.float32)
    rects = []
    for k in range(c):
        r, q = divmod(k, cols)
        y0, x0 = r * (h + gap), q * (w + gap)
        out[y0:y0 + h, x0:x0 + w] = maps[k]
        rects.append((x0, y0, x0 + w, y0 + h))
    return out, rects, cols


class UDiagram(QWidget):
    """The U: blocks with C×H×W and parameters, pools down, up-convolutions up, skips across."""

    blockClicked = Signal(str)

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.blocks: list[U.Block] = []
        self.skips = True
        self.error = ""
        self.totals = ""
        self.selected = ""
        self.hit: dict[str, QRectF] = {}
        self.clickable: set[str] = set()
        self.setMinimumSize(480, 360)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_blocks(self, blocks, *, skips: bool, totals: str, error: str = "") -> None:
        self.blocks, self.skips, self.totals, self.error = list(blocks), skips, totals, error
        self.update()

    def set_selected(self, name: str) -> None:
        self.selected = name
        self.update()

    def block_center(self, name: str) -> QPointF:
        self._layout()
        return self.hit[name].center()

    # -- geometry -----------------------------------------------------------------------------------
    def _layout(self) -> None:
        self.hit = {}
        if not self.blocks:
            return
        W, H = float(self.width()), float(self.height())
        by = {b.name: b for b in self.blocks}
        depth = sum(1 for b in self.blocks if b.kind == "enc")
        f_px = self.theme.font_pt * 96 / 72
        totals_h = 3.3 * f_px
        row_h = (H - totals_h - 8) / (depth + 1.3)
        self.f_px = max(9.0, min(f_px, row_h / 2.9))
        bh = min(row_h * 0.78, 2.5 * self.f_px)
        m = 6.0
        bw = min(W * 0.25, 16 * self.f_px * 0.62)
        catw = min(W * 0.11, 3.6 * self.f_px)
        room = W - 2 * m - 2 * bw - catw - 2 * self.f_px
        ind = max(0.0, min(bw * 0.45, room / max(1, 2 * (depth - 1)) if depth > 1 else 0.0))
        self.geom = dict(bw=bw, bh=bh, row_h=row_h, catw=catw, ind=ind, totals_y=H - totals_h)
        top = 4.0 + (row_h - bh) / 2
        for i in range(depth):
            y = top + i * row_h
            self.hit[f"enc{i}"] = QRectF(m + i * ind, y, bw, bh)
            dx = W - m - bw - i * ind
            self.hit[f"dec{i}"] = QRectF(dx, y, bw, bh)
            key = f"cat{i}" if self.skips and f"dec{i}" in by and by[f"dec{i}"].skip_from else f"up{i}"
            self.hit[key] = QRectF(dx - catw - 0.4 * self.f_px, y, catw, bh)
        self.hit["bottleneck"] = QRectF(W / 2 - bw / 2, top + depth * row_h, bw, bh)
        self.clickable = set(self.hit)

    # -- painting -----------------------------------------------------------------------------------
    def _font(self, scale: float = 1.0, bold: bool = False) -> QFont:
        f = QFont(self.font())
        f.setPixelSize(max(8, int(self.f_px * scale)))
        f.setBold(bold)
        return f

    def paintEvent(self, _ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        th = self.theme
        p.fillRect(self.rect(), QColor(th.plot_bg))
        self._layout()
        fg = QColor(th.fg)
        if self.error or not self.blocks:
            p.setPen(QColor(th.error))
            self.f_px = th.font_pt * 96 / 72
            p.setFont(self._font(1.0, True))
            p.drawText(QRectF(20, 20, self.width() - 40, self.height() - 40),
                       Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter, self.error or "No blocks.")
            return
        by = {b.name: b for b in self.blocks}
        lw = max(2.0, th.line_px * 0.75)
        g = self.geom

        def arrow(a: QPointF, b: QPointF, color: str, width: float = lw, dash: bool = False) -> None:
            pen = QPen(QColor(color), width)
            if dash:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(a, b)
            v = b - a
            n = math.hypot(v.x(), v.y()) or 1.0
            ux, uy = v.x() / n, v.y() / n
            s = 3.2 * width + 4
            tip = QPolygonF([b, QPointF(b.x() - s * ux + s * 0.5 * uy, b.y() - s * uy - s * 0.5 * ux),
                             QPointF(b.x() - s * ux - s * 0.5 * uy, b.y() - s * uy + s * 0.5 * ux)])
            p.setBrush(QColor(color))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawPolygon(tip)
            p.setBrush(Qt.BrushStyle.NoBrush)

        depth = sum(1 for b in self.blocks if b.kind == "enc")
        small = self._font(0.8)
        # pools (down the left) and up-convolutions (up the right)
        for i in range(depth):
            a = self.hit[f"enc{i}"]
            nxt = self.hit[f"enc{i + 1}"] if i + 1 < depth else self.hit["bottleneck"]
            start = QPointF(a.left() + a.width() * 0.35, a.bottom())
            end = QPointF(max(nxt.left() + 10, start.x()) if i + 1 < depth else nxt.left(), nxt.top())
            if i + 1 == depth:
                end = QPointF(nxt.left() + nxt.width() * 0.2, nxt.top())
            arrow(start, end, th.color("negative"))
            p.setFont(small)
            p.setPen(QColor(th.color("negative")))
            mid = QPointF((start.x() + end.x()) / 2, (start.y() + end.y()) / 2)
            p.drawText(QPointF(mid.x() - QFontMetricsF(small).horizontalAdvance("pool ") - 4,
                               mid.y() + self.f_px * 0.3), "pool")
            d = self.hit[f"dec{i}"]
            src = self.hit[f"dec{i + 1}"] if i + 1 < depth else self.hit["bottleneck"]
            upkey = f"cat{i}" if f"cat{i}" in self.hit else f"up{i}"
            ub = self.hit[upkey]
            s0 = QPointF(src.left() + src.width() * (0.35 if i + 1 < depth else 0.8), src.top())
            tgt = QPointF(ub.right() - ub.width() * 0.25, ub.bottom())
            arrow(s0, tgt, th.color("current"))
            upb = by[f"up{i}"]
            p.setFont(small)
            p.setPen(fg)
            txt = f"up {_fmt_params(upb.params)}"
            p.drawText(QPointF(tgt.x() + 6, (s0.y() + tgt.y()) / 2 + self.f_px * 0.3), txt)
        # skip arrows
        for i in range(depth):
            dec = by.get(f"dec{i}")
            if not (self.skips and dec is not None and dec.skip_from):
                continue
            a, c = self.hit[f"enc{i}"], self.hit[f"cat{i}"]
            y = a.center().y()
            arrow(QPointF(a.right(), y), QPointF(c.left(), y), th.color("accent"), lw * 1.2, dash=True)
            p.setFont(small)
            p.setPen(QColor(th.color("accent")))
            lab = f"crop {dec.crop}/side" if dec.crop else "copy"
            if QFontMetricsF(small).horizontalAdvance(lab) < c.left() - a.right() - 12:
                p.drawText(QRectF(a.right(), y - 1.15 * self.f_px, c.left() - a.right(), self.f_px),
                           Qt.AlignmentFlag.AlignCenter, lab)
        # blocks
        fills = {"enc": th.color("waiting"), "bottleneck": th.color("padding"), "dec": th.color("positive")}

        def outlined(r: QRectF, sel: bool, text: str) -> None:
            """A small block (concatenation, bare up-sampling): outline, selection ring, white label."""
            p.setPen(QPen(QColor(th.fg), lw))
            p.drawRect(r)
            if sel:
                p.setPen(QPen(QColor(th.color("negative")), lw * 1.8))
                p.drawRect(r.adjusted(-lw * 2, -lw * 2, lw * 2, lw * 2))
            p.setFont(self._font(0.8, True))
            p.setPen(QColor("white"))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

        for name, r in self.hit.items():
            sel = name == self.selected
            if name.startswith("cat"):
                i = int(name[3:])
                dec = by[f"dec{i}"]
                half = QRectF(r.left(), r.top(), r.width() / 2, r.height())
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(th.color("accent")))
                p.drawRect(half)
                p.setBrush(QColor(th.color("current")))
                p.drawRect(half.translated(r.width() / 2, 0))
                p.setBrush(Qt.BrushStyle.NoBrush)
                outlined(r, sel, f"⊕\n{dec.in_shape[0]}")
                continue
            b = by[name]
            if b.kind == "up":  # no skips: the up-sampled tensor alone feeds the decoder
                p.setBrush(QColor(th.color("current")))
                outlined(r, sel, f"up\n{b.out_shape[0]}")
                continue
            col = QColor(fills.get(b.kind, th.color("current")))
            col.setAlphaF(0.28)
            p.setBrush(col)
            pen = QPen(QColor(th.fg), lw)
            if sel:
                pen = QPen(QColor(th.color("negative")), lw * 2.2)
            p.setPen(pen)
            p.drawRoundedRect(r, 6, 6)
            p.setPen(fg)
            title = {"enc": f"enc{b.level}", "dec": f"dec{b.level}", "bottleneck": "bottleneck",
                     "up": f"up{b.level}"}[b.kind]
            tr = r.adjusted(6, 2, -6, -r.height() / 2)
            br = r.adjusted(6, r.height() / 2, -6, -2)
            shape = _fmt_shape(b.out_shape)
            sub = f"{title} · {_fmt_params(b.params)} p"
            f1, f2 = self._font(1.0, True), self._font(0.85)
            for f, t in ((f1, shape), (f2, sub)):
                wpx = QFontMetricsF(f).horizontalAdvance(t)
                if wpx > tr.width():
                    f.setPixelSize(max(7, int(f.pixelSize() * tr.width() / wpx)))
            p.setFont(f1)
            p.drawText(tr, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, shape)
            p.setFont(f2)
            p.drawText(br, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, sub)
        # legend + totals
        p.setFont(self._font(0.9, True))
        p.setPen(fg)
        p.drawText(QRectF(8, g["totals_y"], self.width() - 16, self.height() - g["totals_y"]),
                   Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   self.totals)
        p.end()

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        pos = ev.position()
        for name, r in self.hit.items():
            if r.contains(pos):
                self.blockClicked.emit(name)
                return

    def apply_theme(self, theme) -> None:
        self.theme = theme
        self.update()

    def render_array(self) -> np.ndarray:
        from ..widgets.util import grab_array

        return grab_array(self)


def _run_both(rgb: np.ndarray, gt: np.ndarray | None):
    t0 = time.perf_counter()
    a = U.run_unet(rgb, skips=True)
    b = U.run_unet(rgb, skips=False)
    out = {"skip": a, "noskip": b, "gt": gt, "rgb": rgb}
    if gt is not None:
        out["bf"] = {k: U.boundary_f_score(r.mask, gt) for k, r in (("skip", a), ("noskip", b))}
        out["bf0"] = {k: U.boundary_f_score(r.mask, gt, tolerance=0) for k, r in (("skip", a), ("noskip", b))}
        out["iou"] = {k: U.iou(r.mask, gt) for k, r in (("skip", a), ("noskip", b))}
    out["ms"] = (time.perf_counter() - t0) * 1000
    return out


class PanelWidget(Panel):
    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self.result: dict | None = None
        self.seed = 4
        self.source = "sample"
        self.rgb, self.gt = U_sample(self.seed)
        self.selected = "enc0"
        self.shown_features: tuple | None = None  # (name, count, h, w) of what the grid shows
        self.redraw_ms = 0.0

        # controls
        self.size_spin = QSpinBox(); self.size_spin.setRange(8, 2048); self.size_spin.setValue(SAMPLE_SIZE)
        self.depth_spin = QSpinBox(); self.depth_spin.setRange(1, 6); self.depth_spin.setValue(3)
        self.base_spin = QSpinBox(); self.base_spin.setRange(1, 256); self.base_spin.setValue(8)
        self.pad_combo = QComboBox(); self.pad_combo.addItems(["same", "valid"])
        self.up_combo = QComboBox(); self.up_combo.addItems(["transposed", "bilinear"])
        self.skip_box = QCheckBox("Skips"); self.skip_box.setChecked(True)
        self.paper_btn = QPushButton("Paper 572")
        self.tiny_btn = QPushButton("Tiny model")
        self.scene_btn = QPushButton("New scene")
        row = QHBoxLayout()
        for text, w in (("Input", self.size_spin), ("Depth", self.depth_spin), ("Base", self.base_spin),
                        ("Pad", self.pad_combo), ("Up", self.up_combo)):
            row.addWidget(QLabel(text)); row.addWidget(w)
        for w in (self.skip_box, self.paper_btn, self.tiny_btn, self.scene_btn):
            row.addWidget(w)
        row.addStretch(1)

        self.diagram = UDiagram(th)
        self.diagram.blockClicked.connect(ctx.guard(self.select_block, "U-Net"))

        # right side: feature maps + masks
        self.feat_title = label("", wrap=True)
        f = self.feat_title.font()
        f.setBold(True)
        self.feat_title.setFont(f)
        self.feat_canvas = ImageCanvas(theme=th)
        self.feat_note = label("", "Muted", wrap=True)
        self.mask_canvases = {k: ImageCanvas(theme=th) for k in ("skip", "noskip", "diff")}
        self.mask_labels = {k: label("", wrap=True) for k in ("skip", "noskip", "diff")}
        grid = QGridLayout()
        for j, k in enumerate(("skip", "noskip", "diff")):
            grid.addWidget(self.mask_labels[k], 0, j)
            grid.addWidget(self.mask_canvases[k], 1, j)
            grid.setColumnStretch(j, 1)
        grid.setRowStretch(0, 0)
        grid.setRowStretch(1, 1)
        right = QWidget()
        self.right = right
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.feat_title)
        rv.addWidget(self.feat_canvas, 5)
        rv.addWidget(self.feat_note)
        rv.addLayout(grid, 3)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.diagram)
        split.addWidget(right)
        split.setStretchFactor(0, 11)
        split.setStretchFactor(1, 9)
        self.split = split
        self.status_label = label("", "Muted", wrap=True)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(split, 1)
        lay.addWidget(self.status_label)

        self._deb = Debouncer(ctx.guard(self.update_diagram, "U-Net diagram"), 30, self)
        for sp in (self.size_spin, self.depth_spin, self.base_spin):
            sp.valueChanged.connect(self._deb.trigger)
        for cb in (self.pad_combo, self.up_combo):
            cb.currentIndexChanged.connect(self._deb.trigger)
        self.skip_box.toggled.connect(ctx.guard(self._skips_toggled, "U-Net"))
        self.paper_btn.clicked.connect(ctx.guard(lambda: self.set_config(572, 4, 64, "valid", "transposed"), "U-Net"))
        self.tiny_btn.clicked.connect(ctx.guard(self.use_shipped_config, "U-Net"))
        self.scene_btn.clicked.connect(ctx.guard(self.new_scene, "U-Net"))
        self.update_diagram()
        self.run_models()

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        w = self.split.width()
        if w > 0 and not getattr(self, "_user_split", False):
            self.split.setSizes([int(w * 0.54), w - int(w * 0.54)])
            for c in self.mask_canvases.values():
                c.setMaximumHeight(max(120, int((w - int(w * 0.54)) / 3)))
        self.show_features()

    # -- configuration --------------------------------------------------------------------------------
    def config(self) -> dict:
        return dict(depth=self.depth_spin.value(), base_channels=self.base_spin.value(),
                    in_channels=1 if self.size_spin.value() == 572 and self.pad_combo.currentText() == "valid"
                    else 3, num_classes=2, padding=self.pad_combo.currentText(),
                    upsample=self.up_combo.currentText())

    def set_config(self, size: int, depth: int, base: int, padding: str, upsample: str) -> None:
        for w in (self.size_spin, self.depth_spin, self.base_spin, self.pad_combo, self.up_combo):
            w.blockSignals(True)
        self.size_spin.setValue(size); self.depth_spin.setValue(depth); self.base_spin.setValue(base)
        self.pad_combo.setCurrentText(padding); self.up_combo.setCurrentText(upsample)
        for w in (self.size_spin, self.depth_spin, self.base_spin, self.pad_combo, self.up_combo):
            w.blockSignals(False)
        self.update_diagram()

    def use_shipped_config(self) -> None:
        c = U.TINY_CONFIG
        h, w = self.rgb.shape[:2]
        m = 2 ** c["depth"]
        self.set_config(int(math.ceil(max(h, w) / m) * m) if h == w else SAMPLE_SIZE, c["depth"],
                        c["base_channels"], c["padding"], c["upsample"])

    def matches_model(self) -> bool:
        c = self.config()
        t = U.TINY_CONFIG
        return all(c[k] == t[k] for k in ("depth", "base_channels", "padding", "upsample", "in_channels"))

    def update_diagram(self) -> None:
        t0 = time.perf_counter()
        c = self.config()
        skips = self.skip_box.isChecked()
        try:
            blocks = U.shape_trace(self.size_spin.value(), skips=skips, **c)
        except ValueError as exc:
            self.diagram.set_blocks([], skips=skips, totals="", error=str(exc))
            self.redraw_ms = (time.perf_counter() - t0) * 1000
            return
        other = "bilinear" if c["upsample"] == "transposed" else "transposed"
        alt = U.shape_trace(self.size_spin.value(), skips=skips, **{**c, "upsample": other})
        ups = sum(b.params for b in blocks if b.kind == "up")
        ups_alt = sum(b.params for b in alt if b.kind == "up")
        out = blocks[-1].out_shape
        totals = (f"Total {U.total_params(blocks):,} parameters · {_fmt_shape(blocks[0].out_shape)}"
                  f" → {_fmt_shape(out)}\nup-sampling: {c['upsample']} {_fmt_params(ups)} "
                  f"({other} would be {_fmt_params(ups_alt)})")
        self.diagram.set_blocks(blocks, skips=skips, totals=totals)
        self.blocks = blocks
        if self.selected not in self.diagram.hit and self.diagram.hit is not None:
            self.diagram._layout()
        self.diagram.set_selected(self.selected)
        self.diagram.repaint()
        self.redraw_ms = (time.perf_counter() - t0) * 1000
        key = (self.matches_model(), self.skip_box.isChecked(), self.selected)
        if key != getattr(self, "_features_key", None):
            self.show_features()

    def _skips_toggled(self, on: bool) -> None:
        if self.selected.startswith("cat") and not on:
            self.selected = "up" + self.selected[3:]
        elif self.selected.startswith("up") and on:
            self.selected = "cat" + self.selected[2:]
        self.update_diagram()

    # -- images and inference -------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        from cvexplorer.imageio import working_copy

        self.rgb, _ = working_copy(np.asarray(rgb), MAX_PIXELS)
        self.gt = None
        self.source = source or "your image"
        self.run_models()

    def new_scene(self) -> None:
        self.seed += 1
        self.rgb, self.gt = U_sample(self.seed)
        self.source = "sample"
        self.run_models()

    def run_models(self) -> None:
        self.status_label.setText("Running the tiny U-Net and its no-skip twin…")
        self.ctx.workers.submit("unet", _run_both, self.rgb, self.gt, on_done=self._on_result,
                                on_error=lambda e: self.ctx.report_error(e, "U-Net"))

    def _on_result(self, res: dict) -> None:
        self.result = res
        a, b = res["skip"], res["noskip"]
        self.ctx.record(self.panel_id or "unet", {"U-Net (skips)": a.ms["onnx"],
                                                 "no-skip twin": b.ms["onnx"]}, device=a.device)
        dev = a.device
        self.status_label.setText(
            f"{self.source}: {a.input_shape[1]}×{a.input_shape[0]} · U-Net {a.ms['onnx']:.1f} ms, "
            f"no-skip {b.ms['onnx']:.1f} ms on {dev} (onnxruntime) · every feature map is a real output "
            f"of models/unet_tiny.onnx")
        self._show_masks()
        self.show_features()

    def _show_masks(self) -> None:
        res = self.result
        if res is None:
            return
        th = self.ctx.theme
        rgb, gt = res["rgb"], res["gt"]
        grey = (rgb.mean(axis=2, keepdims=True) * 0.55 + 60).astype(np.uint8).repeat(3, axis=2)
        for key in ("skip", "noskip"):
            m = res[key].mask > 0
            img = grey.copy()
            col = np.array(QColor(th.color("positive")).getRgb()[:3], np.uint8)
            img[m] = (0.35 * img[m] + 0.65 * col).astype(np.uint8)
            b = U.boundary(m)
            img[b] = np.array(QColor(th.color("current")).getRgb()[:3], np.uint8)
            self.mask_canvases[key].set_image(img)
            name = "With skips" if key == "skip" else "Without skips"
            if gt is not None:
                self.mask_labels[key].setText(f"<b>{name}</b><br>boundary F <b>{res['bf0'][key]:.2f}</b> "
                                              f"(±1 px {res['bf'][key]:.2f}) · IoU {res['iou'][key]:.2f}")
            else:
                self.mask_labels[key].setText(f"<b>{name}</b><br>(no ground truth for this image)")
        ms, mn = res["skip"].mask > 0, res["noskip"].mask > 0
        img = grey.copy()
        if gt is not None:
            g = gt > 0
            img[U.boundary(g)] = (40, 40, 40)
            won = (ms == g) & (mn != g)   # the skips got these right, the twin wrong
            lost = (ms != g) & (mn == g)
            img[won] = np.array(QColor(th.color("positive")).getRgb()[:3], np.uint8)
            img[lost] = np.array(QColor(th.color("negative")).getRgb()[:3], np.uint8)
            self.mask_labels["diff"].setText(f"<b>Differ</b> (all 3 zoomed here)<br><span style='color:"
                                             f"{th.color('positive')}'>■ skips right</span> {int(won.sum())} · "
                                             f"<span style='color:{th.color('negative')}'>■ twin right</span> "
                                             f"{int(lost.sum())}")
        else:
            d = ms != mn
            img[d] = np.array(QColor(th.color("current")).getRgb()[:3], np.uint8)
            self.mask_labels["diff"].setText(f"<b>Differ</b> (all 3 zoomed here)<br>{int(d.sum())} px")
        self.mask_canvases["diff"].set_image(img)
        # zoom all three onto the window where the two masks disagree most
        import cv2

        h, w = ms.shape
        win = int(min(h, w, max(48, min(h, w) // 4)))
        dens = cv2.boxFilter((ms != mn).astype(np.float32), -1, (win, win), normalize=False,
                             borderType=cv2.BORDER_CONSTANT)
        if dens.max() > 0:
            cy, cx = np.unravel_index(int(np.argmax(dens)), dens.shape)
            x0 = int(np.clip(cx - win // 2, 0, w - win))
            y0 = int(np.clip(cy - win // 2, 0, h - win))
            self.zoom = (x0, y0, x0 + win, y0 + win)
            for cv in self.mask_canvases.values():
                cv.set_view(*self.zoom)
        else:
            self.zoom = None
            for cv in self.mask_canvases.values():
                cv.fit()
        for k in self.mask_labels:
            self.mask_labels[k].setTextFormat(Qt.TextFormat.RichText)

    # -- feature maps ----------------------------------------------------------------------------------
    def select_block(self, name: str) -> None:
        self.selected = name
        self.diagram.set_selected(name)
        self.show_features()

    def show_features(self) -> None:
        name = self.selected
        self._features_key = (self.matches_model(), self.skip_box.isChecked(), name)
        if not self.matches_model():
            self.shown_features = None
            self.feat_canvas.clear_overlays()
            bg = QColor(self.ctx.theme.plot_bg)
            self.feat_canvas.set_image(np.full((8, 8, 3), (bg.red(), bg.green(), bg.blue()), np.uint8))
            c = U.TINY_CONFIG
            self.feat_title.setText("Feature maps: shipped model only")
            self.feat_note.setText(f"Real feature maps exist for the shipped model's configuration (depth "
                                   f"{c['depth']}, base {c['base_channels']}, {c['padding']}, {c['upsample']}): "
                                   "press “Tiny model”.")
            return
        res = self.result
        if res is None:
            self.feat_title.setText("Feature maps: running…")
            return
        r = res["skip" if self.skip_box.isChecked() else "noskip"]
        feats = r.features
        halves = None
        if name.startswith("cat"):
            i = int(name[3:])
            halves = (feats[f"up{i}"], feats[f"enc{i}"])
            maps = np.concatenate(halves, axis=0)
        elif name in feats:
            maps = feats[name]
        else:
            return
        c, h, w = maps.shape
        lo, hi = float(maps.min()), float(maps.max())
        signed = lo < 0
        if signed:
            m = max(abs(lo), abs(hi)) or 1.0
            levels, cmap = (-m, m), "diverging"
        else:
            levels, cmap = (0.0, hi if hi > 0 else 1.0), "viridis"
        gap = max(2, h // 24)
        fc = self.feat_canvas
        fc.clear_overlays()
        scales = None
        if halves is None:
            aw, ah = max(fc.width(), 200), max(fc.height(), 120)
            mosaic, rects, _ = feature_mosaic(maps, cols=best_cols(c, h + gap, w + gap, aw, ah), gap=gap)
        else:
            # the two halves of the concatenation side by side; each half is divided by its own
            # largest |value| (the up-sampled half is often 10x larger), both shown on -1 … 1
            scales = tuple(float(np.abs(x).max()) or 1.0 for x in halves)
            ha, hb = halves[0] / scales[0], halves[1] / scales[1]
            levels, cmap, signed = (-1.0, 1.0), "diverging", True
            ca = halves[0].shape[0]
            aw, ah = max(fc.width(), 200), max(fc.height(), 120)
            cols = best_cols(ca, h + gap, w + gap, aw / 2 * 0.95, ah)
            ma, ra, _ = feature_mosaic(ha, cols=cols, gap=gap)
            mb, rb, _ = feature_mosaic(hb, cols=cols, gap=gap)
            hh = max(ma.shape[0], mb.shape[0])
            sep = 4 * gap
            mosaic = np.zeros((hh, ma.shape[1] + sep + mb.shape[1]), np.float32)
            mosaic[:ma.shape[0], :ma.shape[1]] = ma
            mosaic[:mb.shape[0], ma.shape[1] + sep:] = mb
            rects = ra + [(x0 + ma.shape[1] + sep, y0, x1 + ma.shape[1] + sep, y1) for x0, y0, x1, y1 in rb]
            fc.set_rects("halves", np.array([[0, 0, ma.shape[1], ma.shape[0]],
                                             [ma.shape[1] + sep, 0, mosaic.shape[1], mb.shape[0]]], float),
                         color="current", width=self.ctx.theme.line_px)
        fc.set_image(mosaic, levels=levels, colormap=cmap, autorange=True)
        fc.set_rects("tiles", np.array(rects, float), color="neutral", width=1)
        self.shown_features = (name, c, h, w)
        self.tile_rects = rects
        self.half_scales = scales
        model = "U-Net" if self.skip_box.isChecked() else "no-skip twin"
        if halves is None:
            self.feat_title.setText(f"{name}: {c} maps, {h}×{w} ({model})")
            dead = int((np.abs(maps).reshape(c, -1).max(axis=1) == 0).sum())
            self.feat_note.setText(f"One colour scale for all {c} channels: "
                                   f"{levels[0]:.2f} … {levels[1]:.2f}" + (" (blue < 0 < red)" if signed else "")
                                   + (f". {dead} of {c} are all zero here (ReLU)." if dead else ".")
                                   + " Click another block.")
        else:
            i = name[3:]
            self.feat_title.setText(f"Skip {i}: {halves[0].shape[0]} up + {halves[1].shape[0]} copied"
                                    f" = {c} maps, {h}×{w}")
            self.feat_note.setText(f"Left: up{i}, up-sampled from below (coarse; scale ±{scales[0]:.2g}). "
                                   f"Right: enc{i}, copied across (sharp edges; scale ±{scales[1]:.2g}).")

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
        self.diagram.apply_theme(theme)
        self._show_masks()
        self.show_features()

    def on_device_changed(self, device: str) -> None:
        U.clear_model_cache()
        self.run_models()

    def shutdown(self) -> None:
        self.ctx.workers.cancel("unet")


def U_sample(seed: int):  # noqa: N802
    from cvexplorer.samples.segmentation import segmentation_scene

    return segmentation_scene((SAMPLE_SIZE, SAMPLE_SIZE), seed=seed)
