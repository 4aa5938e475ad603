"""ImageCanvas: a pyqtgraph view of one image with overlay layers, in image pixel coordinates.

The image item is created once and updated in place. Overlays are grouped into named layers;
each layer is a handful of items (one path per colour for thousands of rectangles or lines, one
scatter for points), never one item per shape. Clicks, drags and hover positions are reported in
image pixel coordinates (x to the right, y down, the pixel (0, 0) covering [0, 1) x [0, 1)).
Large photos are displayed through a downscaled copy positioned over the full-size frame, so
coordinates stay those of the original image.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from .pg import pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QImage, QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from cvexplorer.imageio import display_copy

from ..themes import THEMES, Theme
from .overlays import CrispPathItem, LabelBatch, PathItem, lines_path, qcolor, rects_path
from .util import grab_array

__all__ = ["ImageCanvas", "COLORMAPS", "LabelBatch", "rects_path", "lines_path"]

COLORMAPS = {"diverging": "CET-D1A", "heat": "inferno", "viridis": "viridis", "grey": None, "depth": "turbo"}


class _ImageItem(pg.ImageItem):
    """pyqtgraph's ImageItem whose picture is converted once, when it changes, to the pixel format Qt's
    painter draws directly (RGB32, or premultiplied ARGB32 with transparency). pyqtgraph keeps RGB888 or
    an 8-bit indexed image, which the painter converts on every repaint: 3-8 ms per picture at 1080p."""

    def render(self) -> None:
        super().render()
        q = self.qimage
        if q is not None:
            fmt = QImage.Format.Format_ARGB32_Premultiplied if q.hasAlphaChannel() else QImage.Format.Format_RGB32
            if q.format() != fmt:
                self.qimage = q.convertToFormat(fmt)


class _ViewBox(pg.ViewBox):
    """A ViewBox that reports clicks and (optionally) left-drags in view coordinates."""

    def __init__(self, canvas: "ImageCanvas") -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self._canvas = canvas

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - Qt naming
        p = self.mapSceneToView(ev.scenePos())
        self._canvas.clicked.emit(p.x(), p.y(), int(ev.button().value), int(ev.modifiers().value))
        ev.accept()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if self._canvas.drag_mode and ev.button() == Qt.MouseButton.LeftButton:
            a = self.mapSceneToView(ev.buttonDownScenePos())
            b = self.mapSceneToView(ev.scenePos())
            self._canvas.dragged.emit(a.x(), a.y(), b.x(), b.y(), bool(ev.isFinish()))
            ev.accept()
            return
        super().mouseDragEvent(ev, axis)


class ImageCanvas(pg.GraphicsView):
    """An image with zoom/pan, overlay layers, and mouse events in image pixel coordinates.

    Signals
    -------
    clicked(x, y, button, modifiers) : a click; ``button`` is Qt.MouseButton's value.
    dragged(x0, y0, x1, y1, finished) : a left drag while :attr:`drag_mode` is on.
    hovered(x, y) : the cursor moved over the view.
    """

    clicked = Signal(float, float, int, int)
    dragged = Signal(float, float, float, float, bool)
    hovered = Signal(float, float)

    def __init__(self, parent=None, theme: Theme | None = None, max_display: int = 2560) -> None:
        super().__init__(parent)
        self.theme = theme or THEMES["light"]
        self.max_display = max_display
        self.drag_mode = False
        self.vb = _ViewBox(self)
        self.setCentralItem(self.vb)
        self.image_item = _ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image_item)
        self.image_shape: tuple[int, ...] | None = None
        self._layers: dict[str, list] = {}
        self._colorbar = None
        self.scene().sigMouseMoved.connect(self._on_move)
        self.setBackground(self.theme.plot_bg)

    # -- the image ----------------------------------------------------------------------------------
    def set_image(self, image: np.ndarray, *, levels: tuple[float, float] | None = None,
                  colormap: str | None = None, autorange: bool | None = None) -> None:
        """Show an (H, W) scalar or (H, W, 3|4) uint8 image; scalars use ``levels`` and ``colormap``."""
        a = np.asarray(image)
        h, w = a.shape[:2]
        first = self.image_shape is None or self.image_shape[:2] != (h, w)
        shown = display_copy(a, self.max_display)  # a 12-MP photo is drawn from a screen-sized copy
        shown = np.ascontiguousarray(shown)
        if shown.ndim == 2 or colormap is not None:
            if levels is None:
                finite = shown[np.isfinite(shown)] if shown.dtype.kind == "f" else shown
                lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
                levels = (lo, hi if hi > lo else lo + 1.0)
            cmap = COLORMAPS.get(colormap or "grey", colormap)
            lut = pg.colormap.get(cmap).getLookupTable(nPts=256) if cmap else None
            self.image_item.setImage(shown, levels=levels, lut=lut, autoLevels=False)
        else:
            self.image_item.setImage(shown, levels=(0, 255), lut=None, autoLevels=False)
        self.image_item.setRect(QRectF(0, 0, w, h))
        self.image_shape = a.shape
        if autorange or (autorange is None and first):
            self.fit()

    def fit(self) -> None:
        if self.image_shape is not None:
            h, w = self.image_shape[:2]
            self.vb.setRange(QRectF(0, 0, w, h), padding=0.02)

    def set_view(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Zoom to a region of the image (image coordinates)."""
        self.vb.setRange(QRectF(x0, y0, x1 - x0, y1 - y0), padding=0.0)

    # -- overlays -----------------------------------------------------------------------------------
    def clear_layer(self, name: str) -> None:
        for item in self._layers.pop(name, []):
            self.vb.removeItem(item)

    def clear_overlays(self) -> None:
        for name in list(self._layers):
            self.clear_layer(name)

    def layer_names(self) -> list[str]:
        return list(self._layers)

    def layer_items(self, name: str) -> list:
        return list(self._layers.get(name, []))

    def add_item(self, name: str, item, z: float = 10, *, ignore_bounds: bool = False) -> None:
        """Put any graphics item on layer ``name`` (image coordinates); cleared with the layer."""
        item.setZValue(z)
        self.vb.addItem(item, ignoreBounds=ignore_bounds)
        self._layers.setdefault(name, []).append(item)

    def set_path(self, name: str, path: QPainterPath, *, color: str = "accent", width: float | None = None,
                 fill: str | None = None, alpha: float | None = None, dash: bool = False, replace: bool = True,
                 z: float = 10, crisp: bool = False) -> QGraphicsPathItem:
        """Draw a ready QPainterPath (see :func:`rects_path`, :func:`lines_path`) in a theme colour role;
        ``crisp`` (for axis-aligned outlines) draws it without antialiasing."""
        reuse = self._take_path(name, crisp) if replace else None
        return self._path_item(name, path, color, width, fill, alpha, dash, z, reuse, crisp)

    def _take_path(self, name: str, crisp: bool = False) -> QGraphicsPathItem | None:
        """Clear layer ``name`` but hand back its one path item, to be re-used: a step-through redraws its
        layers every step, and re-pathing an item is cheaper than removing and adding scene items."""
        items = self._layers.get(name, [])
        if len(items) == 1 and type(items[0]) is (CrispPathItem if crisp else PathItem):
            del self._layers[name]
            return items[0]
        self.clear_layer(name)
        return None

    def _drop(self, item: QGraphicsPathItem | None) -> None:
        if item is not None:
            self.vb.removeItem(item)

    def _path_item(self, name: str, path: QPainterPath, color, width, fill, alpha, dash, z,
                   reuse: QGraphicsPathItem | None = None, crisp: bool = False) -> QGraphicsPathItem:
        item = reuse if reuse is not None else (CrispPathItem() if crisp else PathItem())
        item.setPath(path)
        pen = self.theme.pen(color, width if width is not None else self.theme.line_px,
                             style="dash" if dash else None)
        item.setPen(pen)
        item.setBrush(QBrush(qcolor(self.theme.color(fill), alpha if alpha is not None else 0.3))
                      if fill is not None else QBrush())
        if reuse is not None:
            item.setZValue(z)
            self._layers.setdefault(name, []).append(item)
        else:
            self.add_item(name, item, z)
        return item

    def set_rects(self, name: str, rects: np.ndarray | Sequence, *, color: str = "accent",
                  width: float | None = None, fill: str | None = None, alpha: float | None = None,
                  dash: bool = False, replace: bool = True, z: float = 10) -> None:
        """Draw (N, 4) x0, y0, x1, y1 rectangles as one crisp path item."""
        reuse = self._take_path(name, True) if replace else None
        r = np.asarray(rects, dtype=float).reshape(-1, 4)
        if not len(r):
            self._drop(reuse)
            return
        self._path_item(name, rects_path(r), color, width, fill, alpha, dash, z, reuse, True)

    def set_lines(self, name: str, segments: np.ndarray | Sequence, *, color: str = "accent",
                  width: float | None = None, dash: bool = False, replace: bool = True, z: float = 10) -> None:
        """Draw (N, 4) x0, y0, x1, y1 line segments as one path item."""
        reuse = self._take_path(name) if replace else None
        s = np.asarray(segments, dtype=float).reshape(-1, 4)
        if not len(s):
            self._drop(reuse)
            return
        self._path_item(name, lines_path(s), color, width, None, None, dash, z, reuse)

    def set_polygons(self, name: str, polygons: Iterable[np.ndarray], *, color: str = "accent",
                     width: float | None = None, fill: str | None = None, alpha: float | None = None,
                     closed: bool = True, dash: bool = False, replace: bool = True, z: float = 10) -> None:
        """Draw polygons (each (K, 2) x, y) as one path item."""
        reuse = self._take_path(name) if replace else None
        path = QPainterPath()
        n = 0
        for poly in polygons:
            p = np.asarray(poly, dtype=float).reshape(-1, 2)
            if len(p) < 2:
                continue
            path.moveTo(QPointF(*p[0]))
            for x, y in p[1:]:
                path.lineTo(x, y)
            if closed:
                path.closeSubpath()
            n += 1
        if n:
            self._path_item(name, path, color, width, fill, alpha, dash, z, reuse)
        else:
            self._drop(reuse)

    def set_points(self, name: str, points: np.ndarray | Sequence, *, color: str = "accent", size: float = 12,
                   symbol: str = "o", brush: str | None = None, replace: bool = True, z: float = 20) -> None:
        """Draw (N, 2) points as one scatter item (size in screen pixels)."""
        if replace:
            self.clear_layer(name)
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        if not len(p):
            return
        scale = max(1.0, self.theme.line_px / 2.0)
        item = pg.ScatterPlotItem(p[:, 0], p[:, 1], size=size * scale, symbol=symbol,
                                  pen=self.theme.pen("black" if brush else color, 1.5),
                                  brush=pg.mkBrush(self.theme.color(brush or color)))
        self.add_item(name, item, z)

    def set_texts(self, name: str, items: Iterable[tuple[float, float, str]], *, color: str = "black",
                  background: str | None = "white", scale: float = 1.0, anchor=(0.0, 0.0),
                  replace: bool = True, z: float = 30) -> LabelBatch:
        """Write labels at image positions, all in one item; the font is the theme's "label" role at
        screen size (it does not zoom). Calling again with the same layer re-texts the batch in place."""
        batch = self.label_batch(name)
        if batch is None or not replace:
            if replace:
                self.clear_layer(name)
            font = self.theme.font("label")
            font.setPointSizeF(font.pointSizeF() * scale)
            batch = LabelBatch(self, color, background, font, anchor)
            self.add_item(name, batch, z, ignore_bounds=True)
        batch.set_labels(items)
        return batch

    def label_batch(self, name: str) -> LabelBatch | None:
        items = self._layers.get(name, [])
        return items[0] if len(items) == 1 and isinstance(items[0], LabelBatch) else None

    def label_texts(self, name: str) -> list[str]:
        """The texts of layer ``name``'s labels, in order (what the user reads)."""
        return [t for it in self._layers.get(name, []) if isinstance(it, LabelBatch) for t in it.texts()]

    def set_overlay(self, name: str, image: np.ndarray | None, *, rect: tuple[float, float, float, float] | None = None,
                    opacity: float = 1.0, levels=None, colormap: str | None = None, z: float = 5) -> None:
        """Lay an RGBA (or scalar with a colormap) image over the picture, e.g. a mask or a heat map.

        ``rect`` is (x0, y0, x1, y1) in image pixels; by default the overlay covers the whole image.
        The overlay item is reused across calls so a mask that follows the mouse costs one upload.
        """
        if image is None:
            self.clear_layer(name)
            return
        items = self._layers.get(name)
        if items and isinstance(items[0], pg.ImageItem):
            item = items[0]
        else:
            self.clear_layer(name)
            item = _ImageItem(axisOrder="row-major")
            self.add_item(name, item, z)
        a = np.ascontiguousarray(image)
        if a.ndim == 2:
            cmap = COLORMAPS.get(colormap or "heat", colormap)
            lut = pg.colormap.get(cmap).getLookupTable(nPts=256) if cmap else None
            if levels is None:
                levels = (float(np.nanmin(a)), float(np.nanmax(a)) if np.nanmax(a) > np.nanmin(a) else float(np.nanmin(a)) + 1)
            item.setImage(a, levels=levels, lut=lut, autoLevels=False)
        else:
            item.setImage(a, levels=(0, 255), lut=None, autoLevels=False)
        item.setOpacity(opacity)
        if rect is None and self.image_shape is not None:
            rect = (0, 0, self.image_shape[1], self.image_shape[0])
        if rect is not None:
            x0, y0, x1, y1 = rect
            item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    # -- events -------------------------------------------------------------------------------------
    def _on_move(self, scene_pos) -> None:
        if self.vb.sceneBoundingRect().contains(scene_pos):
            p = self.vb.mapSceneToView(scene_pos)
            self.hovered.emit(p.x(), p.y())

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.plot_bg)

    def to_array(self) -> np.ndarray:
        """Render the view as an (H, W, 3) uint8 array (what a screenshot of it shows)."""
        return grab_array(self)
