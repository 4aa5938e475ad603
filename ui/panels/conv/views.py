"""The conv lab's painted views: grids of numbers (GridView) and the feature map's colour bar."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...widgets.canvas import COLORMAPS

__all__ = ["Block", "GridView", "ColorBar"]


class Block:
    """One grid of numbers drawn by GridView: texts, per-cell background, marked cells."""

    def __init__(self, title: str, texts: list[list[str]], *, bg=None, fg=None, marks=(), sep: str = "") -> None:
        self.title = title
        self.texts = texts
        self.rows = len(texts)
        self.cols = len(texts[0]) if texts else 0
        self.bg = bg or {}      # (r, c) -> QColor
        self.fg = fg or {}      # (r, c) -> QColor
        self.marks = list(marks)  # (r, c, color, width_factor)
        self.sep = sep          # symbol drawn before the block ("⊛", "=")
        self.overlay = {}       # (r, c) -> QColor drawn over the cached grid (the step's highlights)

    def base_key(self, cs: float, theme_name: str) -> tuple:
        """What the cached picture of this grid depends on (not the per-step overlay and marks)."""
        return (round(cs, 2), theme_name, tuple(map(tuple, self.texts)),
                tuple((k, c.rgba()) for k, c in self.bg.items()), tuple((k, c.rgba()) for k, c in self.fg.items()))


def _runs(cells: dict) -> list:
    """Group {(r, c): colour} into horizontal runs ((r, c0, c1), colour) of equal colour."""
    out = []
    for (r, c), col in sorted(cells.items(), key=lambda kv: kv[0]):
        if out and out[-1][0][0] == r and out[-1][0][2] == c and out[-1][1] == col:
            out[-1] = ((r, out[-1][0][1], c + 1), col)
        else:
            out.append(((r, c, c + 1), col))
    return out


class GridView(QWidget):
    """Draws rows of :class:`Block` grids and lines of arithmetic with QPainter (fast, crisp, large).

    After a paint, :attr:`block_rects` and :attr:`title_rects` hold where each grid and its title went
    (titles never overlap: each stays inside its own grid's column, smaller or elided if it must).
    """

    SEP = 1.1  # width of the separator between grids, in cells

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.rows: list[list[Block]] = []
        self.lines: list[str] = []
        self.message = ""
        self.cell_px = 0.0
        self.block_rects: dict[str, QRectF] = {}
        self.title_rects: dict[str, QRectF] = {}
        self._cache: dict[tuple, QPixmap] = {}
        self._measure_key = None
        self._line_h: list[float] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paintEvent fills everything itself
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)

    def set_content(self, rows: list[list[Block]], lines: list[str], message: str = "") -> None:
        self.rows, self.lines, self.message = rows, lines, message
        self.update()

    @staticmethod
    def _num_px(b: Block, cs: float) -> int:
        longest = max((len(t) for r in b.texts for t in r), default=1)
        return max(6, int(min(cs * 0.42, cs * 0.95 / max(1.0, 0.62 * longest))))

    def _render_base(self, b: Block, cs: float, thin: QPen, fg: QColor) -> QPixmap:
        """Draw one grid (fills, lines, numbers) into a pixmap; reused while its numbers do not change."""
        w, h = max(1, math.ceil(b.cols * cs) + 1), max(1, math.ceil(b.rows * cs) + 1)
        pix = QPixmap(w, h)
        pix.fill(QColor(self.theme.plot_bg))
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        font = self.theme.font("cell")
        font.setBold(True)
        font.setPixelSize(self._num_px(b, cs))
        p.setFont(font)
        for (r, c), bg in b.bg.items():
            p.fillRect(QRectF(c * cs, r * cs, cs, cs), bg)
        p.setPen(thin)
        lines = [QLineF(0, r * cs, b.cols * cs, r * cs) for r in range(b.rows + 1)]
        lines += [QLineF(c * cs, 0, c * cs, b.rows * cs) for c in range(b.cols + 1)]
        p.drawLines(lines)
        p.setPen(fg)
        for r in range(b.rows):
            for c in range(b.cols):
                t = b.texts[r][c]
                if t:
                    p.setPen(b.fg.get((r, c), fg))
                    p.drawText(QRectF(c * cs, r * cs, cs, cs), Qt.AlignmentFlag.AlignCenter, t)
        p.end()
        return pix

    def _layout(self, W: float, H: float, m: float, title_h: float, text_h: float) -> float:
        """The cell size that fits every row of grids in the width and all rows in the height."""
        grid_h = max(30.0, H - 2 * m - text_h - (12 if self.lines else 0))
        cs, cells_h = 110.0, 0
        for row in self.rows:
            wc = sum(b.cols for b in row) + self.SEP * (len(row) - 1)
            cs = min(cs, (W - 2 * m) / max(1.0, wc))
            cells_h += max(b.rows for b in row)
        avail = grid_h - len(self.rows) * title_h - 10 * (len(self.rows) - 1)
        return max(8.0, min(cs, avail / max(1, cells_h)))

    def _draw_title(self, p: QPainter, b: Block, rect: QRectF) -> None:
        """The grid's title inside ``rect`` (its own column): shrunk down to 70 %, then elided."""
        font = self.theme.font("title")
        size = font.pointSizeF()
        fm = QFontMetricsF(font)
        need = fm.horizontalAdvance(b.title)
        if need > rect.width():
            font.setPointSizeF(max(size * 0.7, size * rect.width() / max(1.0, need)))
            fm = QFontMetricsF(font)
        text = fm.elidedText(b.title, Qt.TextElideMode.ElideRight, rect.width())
        p.setFont(font)
        p.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, text)
        tw = fm.horizontalAdvance(text)
        self.title_rects[b.title] = QRectF(rect.center().x() - tw / 2, rect.top(), tw, rect.height())

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)  # axis-aligned cells: no shape AA needed
        th = self.theme
        W, H = self.width(), self.height()
        p.fillRect(0, 0, W, H, QColor(th.plot_bg))
        fg = QColor(th.fg)
        if self.message:
            p.setPen(QColor(th.error))
            p.setFont(th.font("title"))
            p.drawText(QRectF(20, 20, W - 40, H - 40), Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter,
                       self.message)
            p.end()
            return
        m = min(14.0, W * 0.04)  # a small view (image mode's kernel) keeps its room for the numbers
        title_h = QFontMetricsF(th.font("title")).height() * 1.15
        mono = th.font("mono")
        fm_mono = QFontMetricsF(mono)
        text_w = W - 2 * m
        flags = int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft)
        key = (tuple(self.lines), int(text_w), mono.pointSizeF())
        if self._measure_key != key:  # measuring wrapped text is the costly part
            self._line_h = [fm_mono.height() if fm_mono.horizontalAdvance(line) < text_w - 4 else
                            fm_mono.boundingRect(QRectF(0, 0, text_w, 10000), flags, line).height()
                            for line in self.lines]
            self._measure_key = key
        cs = self._layout(W, H, m, title_h, sum(h + 4 for h in self._line_h))
        self.cell_px = cs
        self.block_rects, self.title_rects = {}, {}
        thin = QPen(QColor(th.muted))
        thin.setWidthF(1.0)
        sep_w = self.SEP * cs
        y = m
        for row in self.rows:
            rh = max(b.rows for b in row)
            wc = sum(b.cols for b in row) + self.SEP * (len(row) - 1)
            x = m + max(0.0, (W - 2 * m - wc * cs) / 2)
            for bi, b in enumerate(row):
                gy = y + title_h
                if bi > 0:
                    sep_font = th.font("title")
                    sep_font.setPixelSize(max(10, int(cs * 0.6)))
                    p.setFont(sep_font)
                    p.setPen(fg)
                    p.drawText(QRectF(x, gy, sep_w, rh * cs), Qt.AlignmentFlag.AlignCenter, b.sep or "")
                    x += sep_w
                p.setPen(fg)
                # a title may use half of each neighbouring separator, never a neighbour's column
                left = sep_w / 2 if bi > 0 else max(0.0, x - m)
                right = sep_w / 2 if bi < len(row) - 1 else max(0.0, W - m - (x + b.cols * cs))
                self._draw_title(p, b, QRectF(x - left, y, b.cols * cs + left + right, title_h))
                self.block_rects[b.title] = QRectF(x, gy, b.cols * cs, b.rows * cs)
                bkey = b.base_key(cs, th.name)
                pix = self._cache.get(bkey)
                if pix is None:
                    pix = self._render_base(b, cs, thin, fg)
                    if len(self._cache) > 48:
                        self._cache.clear()
                    self._cache[bkey] = pix
                p.drawPixmap(QPointF(x, gy), pix)
                if b.overlay:
                    self._draw_overlay(p, b, x, gy, cs, thin, fg)
                for r, c, color, wf in b.marks:
                    pen = QPen(QColor(color))
                    pen.setWidthF(max(2.0, th.line_px * wf))
                    p.setPen(pen)
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    inset = pen.widthF() / 2
                    p.drawRect(QRectF(x + c * cs + inset, gy + r * cs + inset, cs - 2 * inset, cs - 2 * inset))
                x += b.cols * cs
            y += title_h + rh * cs + 10
        y += 4
        p.setFont(mono)
        p.setPen(fg)
        for line, lh in zip(self.lines, self._line_h):
            p.drawText(QRectF(m, y, text_w, lh + 2), flags, line)
            y += lh + 4
        p.end()

    def _draw_overlay(self, p: QPainter, b: Block, x: float, gy: float, cs: float, thin: QPen, fg: QColor) -> None:
        for (r, c0, c1), col in _runs(b.overlay):  # one fill per horizontal run of a colour
            p.fillRect(QRectF(x + c0 * cs, gy + r * cs, (c1 - c0) * cs, cs), col)
        p.setPen(thin)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for (r, c) in b.overlay:
            p.drawRect(QRectF(x + c * cs, gy + r * cs, cs, cs))
        # numbers under a translucent highlight are written again on top, at full contrast
        font = self.theme.font("cell")
        font.setBold(True)
        font.setPixelSize(self._num_px(b, cs))
        p.setFont(font)
        for (r, c), col in b.overlay.items():
            t = b.texts[r][c]
            if t and col.alpha() < 255:
                p.setPen(b.fg.get((r, c), fg))
                p.drawText(QRectF(x + c * cs, gy + r * cs, cs, cs), Qt.AlignmentFlag.AlignCenter, t)


class ColorBar(pg.GraphicsLayoutWidget):
    """The feature map's colour bar: pyqtgraph's ColorBarItem for the diverging map, labelled ends and zero."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.levels = (-1.0, 1.0)
        self.bar = pg.ColorBarItem(values=self.levels, colorMap=pg.colormap.get(COLORMAPS["diverging"]),
                                   interactive=False, orientation="vertical", width=18)
        self.addItem(self.bar)
        self.apply_theme(theme)

    def set_levels(self, lo: float, hi: float) -> None:
        self.levels = (float(lo), float(hi))
        self.bar.setLevels(self.levels)

    def apply_theme(self, theme) -> None:
        self.theme = theme
        self.setBackground(theme.plot_bg)
        axis = self.bar.axis
        axis.setPen(theme.pen("fg", 1))
        axis.setTextPen(theme.pen("fg", 1))
        axis.setStyle(tickFont=theme.font("axis"))
        self.setFixedWidth(int(theme.font_pt * 5.5) + 30)
