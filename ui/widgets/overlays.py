"""Overlay pieces drawn on an :class:`~cvexplorer.ui.widgets.canvas.ImageCanvas`: many rectangles or
segments as one path, path items that are cheap to re-path, and batches of screen-sized labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from .pg import pg

if TYPE_CHECKING:
    from .canvas import ImageCanvas

__all__ = ["rects_path", "lines_path", "LabelBatch", "PathItem", "CrispPathItem", "qcolor"]


def rects_path(rects) -> QPainterPath:
    """(N, 4) x0, y0, x1, y1 rectangles as one closed-outline path, built without a Python loop."""
    r = np.asarray(rects, dtype=float).reshape(-1, 4)
    x = np.stack([r[:, 0], r[:, 2], r[:, 2], r[:, 0], r[:, 0]], axis=1).ravel()
    y = np.stack([r[:, 1], r[:, 1], r[:, 3], r[:, 3], r[:, 1]], axis=1).ravel()
    connect = np.ones((len(r), 5), np.int32)
    connect[:, 4] = 0
    return pg.arrayToQPath(x, y, connect=connect.ravel(), finiteCheck=False)


def lines_path(segments) -> QPainterPath:
    """(N, 4) x0, y0, x1, y1 segments as one path, built without a Python loop."""
    s = np.asarray(segments, dtype=float).reshape(-1, 4)
    return pg.arrayToQPath(s[:, [0, 2]].ravel(), s[:, [1, 3]].ravel(), connect="pairs", finiteCheck=False)


class LabelBatch(QGraphicsItem):
    """Many text labels in one item, drawn at screen size (they do not zoom) in one paint call.

    Positions are image coordinates; ``anchor`` (ax, ay) places the label's box relative to the
    point as in pg.TextItem ((0, 0) top-left at the point, (0, 1) bottom-left).
    """

    def __init__(self, canvas: "ImageCanvas", color: str, background: str | None, font, anchor=(0.0, 0.0)) -> None:
        super().__init__()
        self._canvas = canvas
        self.color, self.background, self.font, self.anchor = color, background, font, anchor
        self.labels: list[tuple[float, float, str]] = []
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, False)
        canvas.vb.sigRangeChanged.connect(self._range_changed)

    def _range_changed(self, *_a) -> None:
        self.prepareGeometryChange()

    def set_labels(self, labels) -> None:
        self.prepareGeometryChange()
        self.labels = [(float(x), float(y), str(t)) for x, y, t in labels]
        self.update()

    def texts(self) -> list[str]:
        return [t for _x, _y, t in self.labels] if self.isVisible() else []

    def boundingRect(self) -> QRectF:  # noqa: N802 - the visible part of the view: labels are screen-sized
        return self._canvas.vb.viewRect()

    def paint(self, painter, _option, _widget=None) -> None:
        if not self.labels:
            return
        th = self._canvas.theme
        tr = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # axis-aligned boxes; text keeps its own
        painter.setFont(self.font)
        fm = QFontMetricsF(self.font)
        pad = 3.0
        fill = qcolor(th.color(self.background), 0.85) if self.background else None
        pen_color = qcolor(th.color(self.color))
        ax, ay = self.anchor
        for x, y, text in self.labels:
            p = tr.map(QPointF(x, y))
            w, h = fm.horizontalAdvance(text) + 2 * pad, fm.height() + 2 * pad
            box = QRectF(p.x() - ax * w, p.y() - ay * h, w, h)
            if fill is not None:
                painter.fillRect(box, fill)
            painter.setPen(pen_color)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()


class PathItem(QGraphicsPathItem):
    """QGraphicsPathItem with a cheap bounding rectangle. Qt's strokes the whole path with the pen to
    find it, on every new path: for a thousand box outlines that took milliseconds per step. The
    outline's control-point rectangle grown by half the pen width is the same rectangle."""

    _rect = QRectF()
    _half = 0.0

    def setPath(self, path: QPainterPath) -> None:  # noqa: N802 - Qt naming
        self._rect = path.controlPointRect()
        super().setPath(path)

    def setPen(self, pen) -> None:  # noqa: N802
        self._half = 0.0 if pen.style() == Qt.PenStyle.NoPen else pen.widthF() / 2
        super().setPen(pen)

    def boundingRect(self) -> QRectF:  # noqa: N802
        h = self._half
        return self._rect.adjusted(-h, -h, h, h)

    def shape(self) -> QPainterPath:
        return self.path()


class CrispPathItem(PathItem):
    """A path drawn without antialiasing, for axis-aligned outlines: they stay sharp, and a thousand
    of them rasterise several times faster (a 1,000-box NMS step: about 10 → 3 ms)."""

    def paint(self, painter, option, widget=None) -> None:
        aa = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        super().paint(painter, option, widget)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, aa)


def qcolor(color, alpha: float | None = None) -> QColor:
    c = QColor(color) if not isinstance(color, QColor) else QColor(color)
    if alpha is not None:
        c.setAlphaF(float(alpha))
    return c
