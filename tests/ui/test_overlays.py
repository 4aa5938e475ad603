"""Canvas overlay items: the cheap bounding rectangle is Qt's, and crisp outlines are not antialiased."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from cvexplorer.ui.widgets.overlays import CrispPathItem, PathItem, rects_path

RECTS = np.array([[10.5, 12.25, 40.5, 30.75], [-3.0, 5.0, 8.0, 9.5], [20.0, 20.0, 20.0, 44.0]])


@pytest.mark.parametrize("width", [0.0, 1.0, 3.5])
@pytest.mark.parametrize("style", [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.NoPen])
def test_path_item_bounding_rect_is_qts(qapp, width, style):
    path = rects_path(RECTS)
    pen = QPen(QColor("red"), width)
    pen.setStyle(style)
    ours, qts = PathItem(), QGraphicsPathItem()
    for item in (ours, qts):
        item.setPen(pen)
        item.setPath(path)
    a, b = ours.boundingRect(), qts.boundingRect()
    # never smaller than Qt's (what it paints must be inside), and at most half a pen wider: Qt's is
    # tighter only where a join folds back (the zero-width box), and it costs a whole stroke to find
    ra, rb = np.array(a.getCoords()), np.array(b.getCoords())
    half = 0.0 if style == Qt.PenStyle.NoPen else width / 2
    assert np.all(ra[:2] <= rb[:2] + 1e-9) and np.all(ra[2:] >= rb[2:] - 1e-9)
    assert np.all(np.abs(ra - rb) <= half + 1e-9)
    assert np.allclose(ra[:3], rb[:3])  # equal on the sides the ordinary boxes reach
    # a new path moves the rectangle with it
    ours.setPath(rects_path(RECTS + 100))
    assert ours.boundingRect().left() == pytest.approx(a.left() + 100)


def _render(item_type) -> np.ndarray:
    scene = QGraphicsScene()
    item = item_type()
    item.setPen(QPen(QColor(0, 0, 0), 1.0))
    item.setPath(rects_path([[10.5, 10.5, 50.3, 40.7]]))
    scene.addItem(item)
    img = QImage(64, 64, QImage.Format.Format_RGB32)
    img.fill(QColor(255, 255, 255))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    scene.render(p, QRectF(0, 0, 64, 64), QRectF(0, 0, 64, 64))
    p.end()
    ptr = img.constBits()
    return np.frombuffer(ptr, np.uint8).reshape(64, img.bytesPerLine() // 4, 4)[:, :64, :3].copy()


def test_crisp_outline_has_only_pen_and_background_pixels(qapp):
    crisp = _render(CrispPathItem)
    smooth = _render(PathItem)
    assert set(np.unique(crisp)) == {0, 255}  # every pixel is pen or paper
    assert len(np.unique(smooth)) > 2  # the same outline antialiased has grey edges
    assert (crisp == 0).any(axis=2).sum() >= 2 * (40 + 30)  # the whole outline is there
