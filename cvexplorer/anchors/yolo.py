"""YOLO grids: the responsible cell of each box, the anchor of best shape, the head's bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from ..boxes import as_boxes, iou_matrix
from .grid import _size, grid_shape, level_slices
from .presets import PRESETS, Preset

__all__ = ["responsible_cells", "best_anchor_by_shape", "yolo_bookkeeping", "YoloHead", "Responsible",
           "yolo_assign"]


# -- YOLO grids ------------------------------------------------------------------------------------------
def responsible_cells(gt_boxes, image_size, grid) -> np.ndarray:
    """The ``(col, row)`` cell holding each box centre on a YOLO grid: ``(G, 2)`` int.

    ``grid`` is the number of cells: ``S`` (an S x S grid, YOLOv1) or ``(cols, rows)``.
    A centre on the right/bottom image border belongs to the last cell.

    >>> responsible_cells([[100, 200, 300, 400], [630, 630, 640, 640]], (640, 640), 20).tolist()
    [[6, 9], [19, 19]]
    """
    w, h = _size(image_size)
    cols, rows = (int(grid), int(grid)) if np.isscalar(grid) else (int(grid[0]), int(grid[1]))
    if cols <= 0 or rows <= 0:
        raise ValueError(f"The grid needs at least one cell; got {cols} x {rows}.")
    g = as_boxes(gt_boxes, "gt_boxes")
    cx = (g[:, 0] + g[:, 2]) / 2
    cy = (g[:, 1] + g[:, 3]) / 2
    if np.any((cx < 0) | (cx > w) | (cy < 0) | (cy > h)):
        raise ValueError("A box centre lies outside the image: no grid cell is responsible for it.")
    c = np.minimum((cx * cols / w).astype(np.int64), cols - 1)
    r = np.minimum((cy * rows / h).astype(np.int64), rows - 1)
    return np.stack([c, r], axis=1)


def best_anchor_by_shape(gt_boxes, anchors_wh) -> tuple[np.ndarray, np.ndarray]:
    """YOLOv3's assignment: for each box, the anchor (w, h) with the best IoU *when both are centred*.

    Returns ``(index (G,), iou (G,))``.

    >>> best_anchor_by_shape([[0, 0, 100, 80]], [(10, 13), (116, 90), (373, 326)])[0].tolist()
    [1]
    """
    g = as_boxes(gt_boxes, "gt_boxes")
    wh = np.asarray(anchors_wh, dtype=np.float64).reshape(-1, 2)
    gw = (g[:, 2] - g[:, 0])[:, None]
    gh = (g[:, 3] - g[:, 1])[:, None]
    inter = np.minimum(gw, wh[None, :, 0]) * np.minimum(gh, wh[None, :, 1])
    union = gw * gh + wh[None, :, 0] * wh[None, :, 1] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    idx = iou.argmax(axis=1)
    return idx, iou[np.arange(len(g)), idx]


@dataclass(frozen=True)
class YoloHead:
    """What a YOLO head outputs (the result of :func:`yolo_bookkeeping`).

    grids : (cols, rows) per level; cells : cols x rows per level; per_location : predictions per cell;
    predictions : per_location x sum(cells); vector : numbers per prediction (4 box + objectness + classes);
    outputs : predictions x vector; layout : the first names of the vector.
    ``head["cells"]`` reads a field by name, as the earlier dict result did.
    """

    grids: tuple[tuple[int, int], ...]
    cells: tuple[int, ...]
    per_location: int
    predictions: int
    vector: int
    outputs: int
    layout: tuple[str, ...]

    def __getitem__(self, key: str):
        return list(v) if isinstance(v := getattr(self, key), tuple) else v


def yolo_bookkeeping(image_size, strides: Sequence[float], per_location: int, num_classes: int = 80, *,
                     objectness: bool = True) -> YoloHead:
    """How many predictions a YOLO head makes and how long each prediction vector is.

    YOLOv3: ``3 x (13^2 + 26^2 + 52^2) = 10647`` predictions at 416, each ``4 + 1 + C`` numbers.
    YOLOv8 (anchor-free, no objectness): ``80^2 + 40^2 + 20^2 = 8400`` at 640, each ``4 + C``
    (its box branch actually predicts 4 x 16 distribution bins, reduced to 4 distances).

    >>> d = yolo_bookkeeping((640, 640), (8, 16, 32), 3)
    >>> d.cells, d.predictions, d.vector, d.outputs
    ((6400, 1600, 400), 25200, 85, 2142000)
    """
    if int(num_classes) < 0 or int(per_location) <= 0:
        raise ValueError("Need per_location >= 1 and num_classes >= 0.")
    grids = tuple(grid_shape(image_size, s) for s in strides)
    cells = tuple(c * r for c, r in grids)
    preds = int(per_location) * sum(cells)
    vec = 4 + (1 if objectness else 0) + int(num_classes)
    layout = (("tx", "ty", "tw", "th") + (("obj",) if objectness else ()) + tuple(f"class {i}" for i in range(3))
              + (("…", f"class {int(num_classes) - 1}") if num_classes > 3 else ()))
    return YoloHead(grids, cells, int(per_location), preds, vec, preds * vec, layout)


class Responsible(NamedTuple):
    """The prediction slot that learns box ``box``: level, cell ``(col, row)`` and anchor ``anchor`` of the cell."""

    level: int
    col: int
    row: int
    anchor: int
    box: int


@dataclass(frozen=True)
class YoloLabels:
    """The result of :func:`yolo_assign`: ``labels`` (N,) int8 (1 positive / candidate, 0 negative,
    -1 ignored), each prediction's best IoU ``max_iou`` (N,) and the ``responsible`` slots."""

    labels: np.ndarray
    max_iou: np.ndarray
    responsible: tuple[Responsible, ...]


def yolo_assign(preset: Preset, anchors, gt_boxes, image_size) -> YoloLabels:
    """Label the predictions of a YOLO preset for some boxes.

    * YOLOv3 (``rule="yolov3"``): each box is learnt by the cell holding its centre, at the level and
      anchor of best shape IoU (:func:`best_anchor_by_shape`); every other prediction whose anchor
      overlaps a box by IoU > 0.5 is ignored (no objectness loss), the rest are negatives.
    * Anchor-free (``rule="centre"``): the cells whose centre lies strictly inside a box are the
      candidates (YOLOv8's task-aligned assigner then keeps the top 10 of them by score); the cell
      holding the box centre is reported at every level.

    Reference: Redmon & Farhadi, *YOLOv3* (2018) section 2.1; Ultralytics ``TaskAlignedAssigner``.

    >>> p = PRESETS["yolov3"]
    >>> anchors, _ = p.generate((416, 416))
    >>> out = yolo_assign(p, anchors, [[100, 100, 300, 260]], (416, 416))
    >>> int((out.labels == 1).sum()), out.responsible[0]
    (1, Responsible(level=2, col=6, row=5, anchor=1, box=0))
    """
    if preset.rule not in ("yolov3", "centre"):
        raise ValueError(f"{preset.title} labels its anchors by IoU: use match(), not yolo_assign().")
    a = as_boxes(anchors, "anchors")
    g = as_boxes(gt_boxes, "gt_boxes")
    per = preset.per_location
    if len(a) != sum(preset.counts(image_size)):
        raise ValueError(f"{len(a)} anchors given, but {preset.title} has {preset.count(image_size)} "
                         f"at {image_size[0]} x {image_size[1]}.")
    labels = np.zeros(len(a), np.int8)
    if not len(g):
        return YoloLabels(labels, np.zeros(len(a)), ())
    iou = iou_matrix(a, g)
    max_iou = iou.max(axis=1)
    responsible: list[Responsible] = []
    if preset.rule == "centre":
        cx = (a[:, 0] + a[:, 2]) / 2
        cy = (a[:, 1] + a[:, 3]) / 2
        inside = ((cx[:, None] > g[None, :, 0]) & (cx[:, None] < g[None, :, 2])
                  & (cy[:, None] > g[None, :, 1]) & (cy[:, None] < g[None, :, 3])).any(axis=1)
        labels[inside] = 1
        for j in range(len(g)):
            for lv, s in enumerate(preset.strides):
                (c, r), = responsible_cells(g[j:j + 1], image_size, grid_shape(image_size, s)).tolist()
                responsible.append(Responsible(lv, c, r, 0, j))
        return YoloLabels(labels, max_iou, tuple(responsible))
    wh = np.concatenate([np.asarray(w, float) for w in preset.anchors_wh])
    best, _ = best_anchor_by_shape(g, wh)
    slices = level_slices(image_size, preset.strides, per)
    labels[max_iou > 0.5] = -1  # YOLOv3 ignores non-best predictions overlapping a box by > 0.5
    first = np.cumsum((0,) + per[:-1])
    for j, b in enumerate(best.tolist()):
        lv = int(np.searchsorted(first, b, side="right") - 1)
        k = b - int(first[lv])
        grid = grid_shape(image_size, preset.strides[lv])
        (c, r), = responsible_cells(g[j:j + 1], image_size, grid).tolist()
        labels[slices[lv].start + (r * grid[0] + c) * per[lv] + k] = 1
        responsible.append(Responsible(lv, c, r, k, j))
    return YoloLabels(labels, max_iou, tuple(responsible))
