"""The U-Net panel's drawings: the U itself (:class:`UDiagram`) and the feature-map / mask pictures beside it."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from cvexplorer import unet as U
from cvexplorer.text import fmt_params, fmt_shape

from ...widgets.canvas import ImageCanvas
from ...widgets.text import ElidedLabel, WrapLabel
from ...widgets.util import grab_array

__all__ = ["UDiagram", "UNetMainView", "MASK_VIEWS"]

#: The three small pictures under the feature maps: the two models' masks and where they differ.
MASK_VIEWS = {"skip": "Skips", "noskip": "No skips", "diff": "Differ"}


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
        self.f_px = 12.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_blocks(self, blocks, *, skips: bool, totals: str, error: str = "") -> None:
        self.blocks, self.skips, self.totals, self.error = list(blocks), skips, totals, error
        self.layout_blocks()
        self.update()

    def set_selected(self, name: str) -> None:
        self.selected = name
        self.update()

    def block_center(self, name: str) -> QPointF:
        self.layout_blocks()
        return self.hit[name].center()

    # -- geometry -----------------------------------------------------------------------------------
    def layout_blocks(self) -> None:
        """Where each block sits at the widget's current size (``hit``: name -> rectangle)."""
        self.hit = {}
        if not self.blocks:
            return
        W, H = float(self.width()), float(self.height())
        by = {b.name: b for b in self.blocks}
        depth = sum(1 for b in self.blocks if b.kind == "enc")
        f_px = self.theme.font_pt * 96 / 72
        self.f_px = f_px
        fm = QFontMetricsF(self._font("small"))
        totals_h = fm.boundingRect(QRectF(0, 0, max(50.0, W - 16), 1e5), int(Qt.TextFlag.TextWordWrap),
                                   self.totals or " ").height() + 6
        row_h = (H - totals_h - 8) / (depth + 1.3)
        self.f_px = max(9.0, min(f_px, row_h / 2.9))
        bh = min(row_h * 0.78, 2.5 * self.f_px)
        m = 6.0
        bw = min(W * 0.25, 16 * self.f_px * 0.62)
        catw = min(W * 0.11, 3.6 * self.f_px)
        room = W - 2 * m - 2 * bw - catw - 2 * self.f_px
        ind = max(0.0, min(bw * 0.45, room / max(1, 2 * (depth - 1)) if depth > 1 else 0.0))
        self.totals_y = H - totals_h
        top = 4.0 + (row_h - bh) / 2
        for i in range(depth):
            y = top + i * row_h
            self.hit[f"enc{i}"] = QRectF(m + i * ind, y, bw, bh)
            dx = W - m - bw - i * ind
            self.hit[f"dec{i}"] = QRectF(dx, y, bw, bh)
            key = f"cat{i}" if self.skips and f"dec{i}" in by and by[f"dec{i}"].skip_from else f"up{i}"
            self.hit[key] = QRectF(dx - catw - 0.4 * self.f_px, y, catw, bh)
        self.hit["bottleneck"] = QRectF(W / 2 - bw / 2, top + depth * row_h, bw, bh)

    def resizeEvent(self, ev) -> None:  # noqa: N802
        self.layout_blocks()
        super().resizeEvent(ev)

    # -- painting -----------------------------------------------------------------------------------
    def _font(self, role: str = "body", scale: float = 1.0):
        f = self.theme.font(role)
        f.setPixelSize(max(8, int(self.f_px * scale)))
        return f

    def _arrow(self, p: QPainter, a: QPointF, b: QPointF, color: str, width: float, dash: bool = False) -> None:
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

    def paintEvent(self, _ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        th = self.theme
        p.fillRect(self.rect(), QColor(th.plot_bg))
        if not self.hit:
            self.layout_blocks()
        if self.error or not self.blocks:
            p.setPen(QColor(th.error))
            self.f_px = th.font_pt * 96 / 72
            p.setFont(self._font("title"))
            p.drawText(QRectF(20, 20, self.width() - 40, self.height() - 40),
                       Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter, self.error or "No blocks.")
            return
        by = {b.name: b for b in self.blocks}
        lw = max(2.0, th.line_px * 0.75)
        fg = QColor(th.fg)
        depth = sum(1 for b in self.blocks if b.kind == "enc")
        small = self._font("small", 0.8 / 0.85)
        for i in range(depth):  # pools (down the left) and up-convolutions (up the right)
            a = self.hit[f"enc{i}"]
            nxt = self.hit[f"enc{i + 1}"] if i + 1 < depth else self.hit["bottleneck"]
            start = QPointF(a.left() + a.width() * 0.35, a.bottom())
            end = QPointF(max(nxt.left() + 10, start.x()), nxt.top()) if i + 1 < depth else \
                QPointF(nxt.left() + nxt.width() * 0.2, nxt.top())
            self._arrow(p, start, end, th.color("negative"), lw)
            p.setFont(small)
            p.setPen(QColor(th.color("negative")))
            mid = QPointF((start.x() + end.x()) / 2, (start.y() + end.y()) / 2)
            p.drawText(QPointF(max(2.0, mid.x() - QFontMetricsF(small).horizontalAdvance("pool ") - 4),
                               mid.y() + self.f_px * 0.3), "pool")
            src = self.hit[f"dec{i + 1}"] if i + 1 < depth else self.hit["bottleneck"]
            ub = self.hit[f"cat{i}" if f"cat{i}" in self.hit else f"up{i}"]
            s0 = QPointF(src.left() + src.width() * (0.35 if i + 1 < depth else 0.8), src.top())
            tgt = QPointF(ub.right() - ub.width() * 0.25, ub.bottom())
            self._arrow(p, s0, tgt, th.color("current"), lw)
            p.setFont(small)
            p.setPen(fg)
            p.drawText(QPointF(tgt.x() + 6, (s0.y() + tgt.y()) / 2 + self.f_px * 0.3),
                       f"up {fmt_params(by[f'up{i}'].params)}")
        for i in range(depth):  # skip arrows
            dec = by.get(f"dec{i}")
            if not (self.skips and dec is not None and dec.skip_from):
                continue
            a, c = self.hit[f"enc{i}"], self.hit[f"cat{i}"]
            y = a.center().y()
            self._arrow(p, QPointF(a.right(), y), QPointF(c.left(), y), th.color("accent"), lw * 1.2, dash=True)
            p.setFont(small)
            p.setPen(QColor(th.color("accent")))
            lab = f"crop {dec.crop}/side" if dec.crop else "copy"
            if QFontMetricsF(small).horizontalAdvance(lab) < c.left() - a.right() - 12:
                p.drawText(QRectF(a.right(), y - 1.15 * self.f_px, c.left() - a.right(), self.f_px),
                           Qt.AlignmentFlag.AlignCenter, lab)
        self._paint_blocks(p, by, lw)
        self.f_px = self.theme.font_pt * 96 / 72  # the totals keep the theme's size (they were measured at it)
        p.setFont(self._font("small"))
        p.setPen(fg)
        p.drawText(QRectF(8, self.totals_y, self.width() - 16, self.height() - self.totals_y),
                   Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.totals)
        p.end()

    def _paint_blocks(self, p: QPainter, by: dict, lw: float) -> None:
        th = self.theme
        fills = {"enc": th.color("waiting"), "bottleneck": th.color("padding"), "dec": th.color("positive")}

        def outlined(r: QRectF, sel: bool, text: str) -> None:
            """A small block (concatenation, bare up-sampling): outline, selection ring, label."""
            p.setPen(QPen(QColor(th.fg), lw))
            p.drawRect(r)
            if sel:
                p.setPen(QPen(QColor(th.color("negative")), lw * 1.8))
                p.drawRect(r.adjusted(-lw * 2, -lw * 2, lw * 2, lw * 2))
            p.setFont(self._font("label", 0.8 / 0.9))
            p.setPen(QColor(th.fg))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

        def light(role: str) -> QColor:
            c = QColor(th.color(role))
            c.setAlphaF(0.45)
            return c

        for name, r in self.hit.items():
            sel = name == self.selected
            if name.startswith("cat"):
                dec = by[f"dec{name[3:]}"]
                half = QRectF(r.left(), r.top(), r.width() / 2, r.height())
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(light("accent"))
                p.drawRect(half)
                p.setBrush(light("current"))
                p.drawRect(half.translated(r.width() / 2, 0))
                p.setBrush(Qt.BrushStyle.NoBrush)
                outlined(r, sel, f"⊕\n{dec.in_shape[0]}")
                continue
            b = by[name]
            if b.kind == "up":  # no skips: the up-sampled tensor alone feeds the decoder
                p.setBrush(light("current"))
                outlined(r, sel, f"up\n{b.out_shape[0]}")
                p.setBrush(Qt.BrushStyle.NoBrush)
                continue
            col = QColor(fills.get(b.kind, th.color("current")))
            col.setAlphaF(0.28)
            p.setBrush(col)
            p.setPen(QPen(QColor(th.color("negative")), lw * 2.2) if sel else QPen(QColor(th.fg), lw))
            p.drawRoundedRect(r, 6, 6)
            p.setPen(QColor(th.fg))
            title = {"enc": f"enc{b.level}", "dec": f"dec{b.level}", "bottleneck": "bottleneck"}.get(b.kind, b.name)
            tr = r.adjusted(6, 2, -6, -r.height() / 2)
            br = r.adjusted(6, r.height() / 2, -6, -2)
            shape, sub = fmt_shape(b.out_shape), f"{title} · {fmt_params(b.params)} p"
            f1, f2 = self._font("title", 1.0 / 1.15), self._font("small")
            for f, t in ((f1, shape), (f2, sub)):
                wpx = QFontMetricsF(f).horizontalAdvance(t)
                if wpx > tr.width():
                    f.setPixelSize(max(7, int(f.pixelSize() * tr.width() / wpx)))
            p.setFont(f1)
            p.drawText(tr, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, shape)
            p.setFont(f2)
            p.drawText(br, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, sub)
        p.setBrush(Qt.BrushStyle.NoBrush)

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        pos = ev.position()
        for name, r in self.hit.items():
            if r.contains(pos):
                self.blockClicked.emit(name)
                return

    def apply_theme(self, theme) -> None:
        self.theme = theme
        self.layout_blocks()
        self.update()

    def render_array(self) -> np.ndarray:
        return grab_array(self)


class UNetMainView(QWidget):
    """The main picture: the U on the left; on the right the clicked block's feature maps above the two
    models' masks and where they differ."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.diagram = UDiagram(theme)
        self.feat_title = ElidedLabel("")
        self.feat_title.setFont(theme.font("title"))
        self.feat_canvas = ImageCanvas(theme=theme)
        self.feat_note = WrapLabel("", "Muted")
        self.mask_canvases = {k: ImageCanvas(theme=theme) for k in MASK_VIEWS}
        self.mask_labels = {k: ElidedLabel(t) for k, t in MASK_VIEWS.items()}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for j, k in enumerate(MASK_VIEWS):
            grid.addWidget(self.mask_labels[k], 0, j)
            grid.addWidget(self.mask_canvases[k], 1, j)
            grid.setColumnStretch(j, 1)
        grid.setRowStretch(1, 1)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.feat_title)
        right.addWidget(self.feat_canvas, 5)
        right.addWidget(self.feat_note)
        right.addLayout(grid, 3)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.diagram, 11)
        lay.addLayout(right, 9)
        for w in [self.diagram, self.feat_canvas, *self.mask_canvases.values()]:
            w.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        for w in [self.feat_note, self.feat_title, *self.mask_labels.values()]:
            w.setMinimumWidth(0)

    def apply_theme(self, theme) -> None:
        self.diagram.apply_theme(theme)
        self.feat_title.setFont(theme.font("title"))
