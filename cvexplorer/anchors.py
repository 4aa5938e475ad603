"""Anchors: tiling an image with the anchor boxes of real detectors, matching them to ground truth,
box-offset encoding, and the anchor-free / YOLO grid bookkeeping.

Conventions
-----------
* ``image_size`` is ``(width, height)`` in pixels; boxes are ``xyxy`` floats (see :mod:`cvexplorer.boxes`).
* A level with stride ``s`` has a grid of ``ceil(W / s) x ceil(H / s)`` cells; the anchors of cell
  ``(col, row)`` are centred on the cell centre ``((col + 0.5) s, (row + 0.5) s)``.
* An anchor of base size ``S``, scale ``k`` and aspect ratio ``r = h / w`` has area ``(k S)^2``:
  ``w = k S / sqrt(r)``, ``h = k S sqrt(r)`` -- exact, no rounding.
* Anchors are ordered level by level, then row, column, and within a cell ratio-major
  (``for r in ratios: for k in scales``). So the anchors of one level reshape to
  ``(rows, cols, A)`` with ``A = len(ratios) * len(scales)``.

References: Ren et al., *Faster R-CNN* (2015); Lin et al., *Focal Loss for Dense Object Detection*
(RetinaNet, 2017); Redmon & Farhadi, *YOLOv3* (2018); Ultralytics YOLOv8 (2023, anchor-free heads).

>>> boxes, level = generate((64, 64), strides=(32,), sizes=(32,), ratios=(1.0,), scales=(1.0,))
>>> boxes.tolist()
[[0.0, 0.0, 32.0, 32.0], [32.0, 0.0, 64.0, 32.0], [0.0, 32.0, 32.0, 64.0], [32.0, 32.0, 64.0, 64.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = [
    "generate", "generate_wh", "grid_shape", "anchor_shapes", "Preset", "PRESETS", "get_preset",
    "Match", "match", "encode", "decode", "responsible_cells", "best_anchor_by_shape",
    "yolo_bookkeeping", "coverage_map", "level_slices", "per_cell_max",
]


# -- validation ----------------------------------------------------------------------------------------
def _size(image_size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (width, height); got {image_size!r}.") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"The image must have a positive width and height; got {w} x {h}.")
    return w, h


def _positive(values, name: str) -> tuple[float, ...]:
    vals = tuple(float(v) for v in np.atleast_1d(np.asarray(values, dtype=float)))
    if not vals:
        raise ValueError(f"{name} needs at least one value.")
    for v in vals:
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"Every value of {name} must be a positive number; got {v}.")
    return vals


def grid_shape(image_size, stride: float) -> tuple[int, int]:
    """``(cols, rows)`` of the grid of a level with this stride: ``ceil(W / s)``, ``ceil(H / s)``.

    >>> grid_shape((640, 640), 8), grid_shape((1000, 600), 64)
    ((80, 80), (16, 10))
    """
    w, h = _size(image_size)
    (s,) = _positive([stride], "stride")
    return int(math.ceil(w / s)), int(math.ceil(h / s))


def anchor_shapes(size: float, ratios: Sequence[float], scales: Sequence[float]) -> np.ndarray:
    """``(A, 2)`` widths and heights of the anchors of one location, ratio-major.

    ``w = k S / sqrt(r)``, ``h = k S sqrt(r)`` so that ``h / w = r`` and ``sqrt(w h) = k S``.

    >>> anchor_shapes(32, (0.5, 1, 2), (1,)).round(3).tolist()
    [[45.255, 22.627], [32.0, 32.0], [22.627, 45.255]]
    """
    (s,) = _positive([size], "sizes")
    r = np.asarray(_positive(ratios, "ratios"))
    k = np.asarray(_positive(scales, "scales"))
    side = (s * k)[None, :]  # (1, K)
    w = side / np.sqrt(r)[:, None]
    h = side * np.sqrt(r)[:, None]
    return np.stack([w.ravel(), h.ravel()], axis=1)


def _tile(image_size, stride: float, wh: np.ndarray, offset: float) -> np.ndarray:
    cols, rows = grid_shape(image_size, stride)
    cx = (np.arange(cols, dtype=np.float64) + offset) * stride
    cy = (np.arange(rows, dtype=np.float64) + offset) * stride
    cxg = np.broadcast_to(cx[None, :, None], (rows, cols, len(wh)))
    cyg = np.broadcast_to(cy[:, None, None], (rows, cols, len(wh)))
    hw = wh[:, 0][None, None, :] / 2.0
    hh = wh[:, 1][None, None, :] / 2.0
    out = np.stack([cxg - hw, cyg - hh, cxg + hw, cyg + hh], axis=-1)
    return out.reshape(-1, 4)


def generate(image_size, strides: Sequence[float], sizes: Sequence[float], ratios: Sequence[float] = (0.5, 1.0, 2.0),
             scales: Sequence[float] = (1.0,), *, offset: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """All anchors of a multi-level detector: ``(boxes (N, 4) xyxy, level (N,) int)``.

    Level ``l`` has stride ``strides[l]`` and base size ``sizes[l]``; every location gets
    ``len(ratios) * len(scales)`` anchors of exact size ``scale * size`` (geometric mean of the
    sides) and exact aspect ratio ``h / w = ratio``. ``N = A * sum_l ceil(W/s_l) ceil(H/s_l)``.

    >>> b, lv = generate((640, 640), strides=(8, 16, 32, 64, 128), sizes=(32, 64, 128, 256, 512),
    ...                  scales=(1, 2 ** (1 / 3), 2 ** (2 / 3)))
    >>> len(b), np.bincount(lv).tolist()
    (76725, [57600, 14400, 3600, 900, 225])
    """
    st = _positive(strides, "strides")
    sz = _positive(sizes, "sizes")
    if len(st) != len(sz):
        raise ValueError(f"Give one base size per level: {len(st)} strides but {len(sz)} sizes.")
    if not 0.0 <= offset <= 1.0:
        raise ValueError(f"offset is a fraction of a cell (0 to 1); got {offset}.")
    _size(image_size)
    parts, levels = [], []
    for lv, (s, size) in enumerate(zip(st, sz)):
        b = _tile(image_size, s, anchor_shapes(size, ratios, scales), offset)
        parts.append(b)
        levels.append(np.full(len(b), lv, np.int32))
    return np.concatenate(parts), np.concatenate(levels)


def generate_wh(image_size, strides: Sequence[float], anchors_wh: Sequence[Sequence[Sequence[float]]], *,
                offset: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`generate` but with explicit ``(w, h)`` anchors per level (YOLOv2/v3 style).

    >>> b, lv = generate_wh((416, 416), (32,), [[(116, 90), (156, 198), (373, 326)]])
    >>> len(b), (b[0, 2] - b[0, 0]).item(), (b[0, 3] - b[0, 1]).item()
    (507, 116.0, 90.0)
    """
    st = _positive(strides, "strides")
    if len(anchors_wh) != len(st):
        raise ValueError(f"Give one list of (w, h) anchors per level: {len(st)} strides, {len(anchors_wh)} lists.")
    parts, levels = [], []
    for lv, (s, wh) in enumerate(zip(st, anchors_wh)):
        wh = np.asarray(wh, dtype=np.float64).reshape(-1, 2)
        _positive(wh.ravel(), "anchor widths and heights")
        b = _tile(image_size, s, wh, offset)
        parts.append(b)
        levels.append(np.full(len(b), lv, np.int32))
    return np.concatenate(parts), np.concatenate(levels)


def level_slices(image_size, strides: Sequence[float], per_location: int | Sequence[int]) -> list[slice]:
    """Where each level's anchors sit in the concatenated array of :func:`generate`.

    >>> level_slices((64, 64), (16, 32), 3)
    [slice(0, 48, None), slice(48, 60, None)]
    """
    per = [int(per_location)] * len(strides) if np.isscalar(per_location) else [int(p) for p in per_location]
    out, start = [], 0
    for s, a in zip(strides, per):
        c, r = grid_shape(image_size, s)
        out.append(slice(start, start + c * r * a))
        start += c * r * a
    return out


# -- presets ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    """The anchor configuration of a real detector (numbers from the papers / reference code)."""

    name: str
    title: str
    strides: tuple[float, ...]
    sizes: tuple[float, ...] = ()
    ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    scales: tuple[float, ...] = (1.0,)
    anchors_wh: tuple = ()  # explicit (w, h) per level (YOLOv3); overrides sizes/ratios/scales
    anchor_free: bool = False
    default_size: tuple[int, int] = (640, 640)
    note: str = ""
    level_names: tuple[str, ...] = field(default=())

    @property
    def per_location(self) -> tuple[int, ...]:
        """Anchors (predictions) per grid location, per level."""
        if self.anchor_free:
            return tuple(1 for _ in self.strides)
        if self.anchors_wh:
            return tuple(len(w) for w in self.anchors_wh)
        return tuple(len(self.ratios) * len(self.scales) for _ in self.strides)

    def grid_sizes(self, image_size) -> list[tuple[int, int]]:
        return [grid_shape(image_size, s) for s in self.strides]

    def counts(self, image_size) -> list[int]:
        return [c * r * a for (c, r), a in zip(self.grid_sizes(image_size), self.per_location)]

    def count(self, image_size) -> int:
        return sum(self.counts(image_size))

    def names(self) -> tuple[str, ...]:
        return self.level_names or tuple(f"stride {s:g}" for s in self.strides)

    def generate(self, image_size, *, sizes=None, ratios=None, scales=None) -> tuple[np.ndarray, np.ndarray]:
        """This preset's anchors for an image (anchor-free: one stride-sized box per cell)."""
        if self.anchor_free:
            return generate(image_size, self.strides, self.strides, ratios=(1.0,), scales=(1.0,))
        if self.anchors_wh and sizes is None and ratios is None and scales is None:
            return generate_wh(image_size, self.strides, self.anchors_wh)
        return generate(image_size, self.strides, sizes if sizes is not None else self.sizes,
                        ratios if ratios is not None else self.ratios, scales if scales is not None else self.scales)


_THIRDS = (1.0, 2 ** (1 / 3), 2 ** (2 / 3))

PRESETS: dict[str, Preset] = {
    "faster-rcnn": Preset(
        "faster-rcnn", "Faster R-CNN RPN (VGG-16, stride 16)", strides=(16,), sizes=(128,), ratios=(0.5, 1.0, 2.0),
        scales=(1.0, 2.0, 4.0), default_size=(1000, 600), level_names=("conv5_3",),
        note="One level, 3 sizes (128, 256, 512) x 3 ratios (1:2, 1:1, 2:1) = 9 anchors per location; "
             "IoU >= 0.7 positive, < 0.3 negative."),
    "retinanet": Preset(
        "retinanet", "RetinaNet (FPN P3-P7)", strides=(8, 16, 32, 64, 128), sizes=(32, 64, 128, 256, 512),
        ratios=(0.5, 1.0, 2.0), scales=_THIRDS, default_size=(640, 640), level_names=("P3", "P4", "P5", "P6", "P7"),
        note="Five levels, sizes 32-512, scales 2^0, 2^(1/3), 2^(2/3) x ratios 1:2, 1:1, 2:1 = 9 per location; "
             "IoU >= 0.5 positive, < 0.4 negative."),
    "yolov3": Preset(
        "yolov3", "YOLOv3 (3 levels, 9 anchors)", strides=(8, 16, 32),
        anchors_wh=(((10, 13), (16, 30), (33, 23)), ((30, 61), (62, 45), (59, 119)),
                    ((116, 90), (156, 198), (373, 326))),
        default_size=(416, 416), level_names=("P3 /8", "P4 /16", "P5 /32"),
        note="9 k-means anchors on COCO (w, h in pixels at 416), 3 per level; each box is assigned to the cell "
             "holding its centre and the anchor of best shape IoU."),
    "yolov8": Preset(
        "yolov8", "YOLOv8 (anchor-free)", strides=(8, 16, 32), anchor_free=True, default_size=(640, 640),
        level_names=("P3 /8", "P4 /16", "P5 /32"),
        note="Anchor-free: one prediction per cell (a point), 80^2 + 40^2 + 20^2 = 8400 at 640 x 640; the box is "
             "predicted as distances to its 4 sides."),
}

#: The thresholds each detector uses (positive IoU, negative IoU).
THRESHOLDS = {"faster-rcnn": (0.7, 0.3), "retinanet": (0.5, 0.4), "yolov3": (0.5, 0.5), "yolov8": (0.5, 0.5)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.") from None


# -- matching --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    """The result of :func:`match`.

    labels : (N,) int8 -- 1 positive, 0 negative, -1 ignored (between the thresholds).
    matched : (N,) int -- index of the ground-truth box of each anchor (-1 for negatives).
    max_iou : (N,) float -- each anchor's best IoU over the ground truth (0 without boxes).
    best_anchor : (G,) int -- for each box, one anchor with its highest IoU.
    best_iou : (G,) float -- that IoU.
    low_quality : (N,) bool -- positives *only* because of the low-quality rule (their IoU < pos_iou).
    rescued : (G,) bool -- boxes that would have had no positive anchor without the rule.
    orphan : (G,) bool -- boxes with no anchor at or above ``pos_iou`` (rescued when the rule is on,
        lost for training when it is off).
    """

    labels: np.ndarray
    matched: np.ndarray
    max_iou: np.ndarray
    best_anchor: np.ndarray
    best_iou: np.ndarray
    low_quality: np.ndarray
    rescued: np.ndarray
    orphan: np.ndarray

    @property
    def counts(self) -> dict[str, int]:
        lab = self.labels
        return {"positive": int((lab == 1).sum()), "negative": int((lab == 0).sum()),
                "ignored": int((lab == -1).sum())}


def match(anchors, gt_boxes, pos_iou: float = 0.7, neg_iou: float = 0.3, allow_low_quality: bool = True, *,
          iou=None) -> Match:
    """Label anchors against ground-truth boxes (the Faster R-CNN / RetinaNet rule).

    * best IoU ``>= pos_iou``: positive (1), matched to its best box;
    * best IoU ``< neg_iou``: negative (0);
    * in between: ignored (-1), contributes no loss;
    * low-quality rule (``allow_low_quality``): for every box, the anchor(s) with its highest IoU
      (ties included, IoU > 0) become positive even below ``pos_iou`` -- so no box is left without
      an anchor. As in Detectron2 / torchvision, such an anchor keeps its *own* best box.

    ``iou`` may pass a precomputed ``(N, G)`` IoU matrix.

    >>> m = match([[0, 0, 10, 10], [0, 0, 20, 20], [50, 50, 60, 60]], [[0, 0, 14, 14]], 0.7, 0.3)
    >>> m.labels.tolist(), m.matched.tolist(), m.max_iou.round(2).tolist()
    ([1, -1, 0], [0, 0, -1], [0.51, 0.49, 0.0])
    """
    from .boxes import as_boxes, iou_matrix

    if not (0.0 <= neg_iou <= pos_iou <= 1.0):
        raise ValueError(f"Need 0 <= neg_iou <= pos_iou <= 1; got neg_iou={neg_iou}, pos_iou={pos_iou}.")
    a = as_boxes(anchors, "anchors")
    g = as_boxes(gt_boxes, "gt_boxes")
    n = len(a)
    if len(g) == 0:
        z = np.zeros(n)
        return Match(np.zeros(n, np.int8), np.full(n, -1, np.int64), z, np.zeros(0, np.int64), np.zeros(0),
                     np.zeros(n, bool), np.zeros(0, bool), np.zeros(0, bool))
    m = iou_matrix(a, g) if iou is None else np.asarray(iou, dtype=np.float64)
    if m.shape != (n, len(g)):
        raise ValueError(f"iou must have shape ({n}, {len(g)}); got {m.shape}.")
    # argmax along short rows is slow in NumPy: take the max everywhere, the argmax only where needed
    max_iou = m.max(axis=1)
    labels = np.full(n, -1, np.int8)
    labels[max_iou < neg_iou] = 0
    labels[max_iou >= pos_iou] = 1
    best_anchor = m.argmax(axis=0)
    best_iou = m[best_anchor, np.arange(len(g))]
    low_quality = np.zeros(n, bool)
    lq = np.zeros(n, bool)
    if allow_low_quality and np.any(best_iou > 0):
        ok = best_iou > 0
        # only anchors whose best IoU reaches the smallest per-box best can tie with a box's best
        cand = np.flatnonzero(max_iou >= best_iou[ok].min())
        ties = (m[cand] == best_iou[None, :]) & ok[None, :]
        lq[cand[ties.any(axis=1)]] = True
    need = np.flatnonzero((labels != 0) | lq)
    matched = np.full(n, -1, np.int64)
    matched[need] = m[need].argmax(axis=1)
    had_positive = np.zeros(len(g), bool)
    had_positive[matched[labels == 1]] = True
    if lq.any():
        low_quality = lq & (labels != 1)
        labels[lq] = 1
    orphan = ~had_positive & (best_iou > 0)
    rescued = orphan & bool(allow_low_quality)
    return Match(labels, matched.astype(np.int64), max_iou, best_anchor.astype(np.int64), best_iou, low_quality,
                 np.asarray(rescued, bool), np.asarray(orphan, bool))


# -- box coding ------------------------------------------------------------------------------------------
def _cxcywh(b: np.ndarray, name: str) -> tuple[np.ndarray, ...]:
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    if np.any(w <= 0) or np.any(h <= 0):
        raise ValueError(f"Every box of {name} needs a positive width and height to be encoded.")
    return b[:, 0] + w / 2, b[:, 1] + h / 2, w, h


def encode(anchors, boxes, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> np.ndarray:
    """Offsets ``(tx, ty, tw, th)`` that move each anchor onto its box (R-CNN parameterisation).

    ``tx = wx (gx - ax) / aw``, ``ty = wy (gy - ay) / ah``, ``tw = ww log(gw / aw)``, ``th = wh log(gh / ah)``
    with centres ``(x, y)`` and sizes ``(w, h)``; Faster R-CNN's second stage uses weights (10, 10, 5, 5).

    >>> encode([[0, 0, 10, 10]], [[5, 0, 25, 10]]).round(4).tolist()
    [[1.0, 0.0, 0.6931, 0.0]]
    """
    from .boxes import as_boxes

    a = as_boxes(anchors, "anchors")
    g = as_boxes(boxes, "boxes")
    if len(a) != len(g):
        raise ValueError(f"encode pairs anchors with boxes one to one: {len(a)} anchors, {len(g)} boxes.")
    ax, ay, aw, ah = _cxcywh(a, "anchors")
    gx, gy, gw, gh = _cxcywh(g, "boxes")
    wx, wy, ww, wh = _positive(weights, "weights")
    return np.stack([wx * (gx - ax) / aw, wy * (gy - ay) / ah, ww * np.log(gw / aw), wh * np.log(gh / ah)], axis=1)


def decode(anchors, deltas, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> np.ndarray:
    """Inverse of :func:`encode`: apply offsets ``(tx, ty, tw, th)`` to anchors, return xyxy boxes.

    >>> decode([[0, 0, 10, 10]], [[1.0, 0.0, np.log(2), 0.0]]).round(4).tolist()
    [[5.0, 0.0, 25.0, 10.0]]
    """
    from .boxes import as_boxes

    a = as_boxes(anchors, "anchors")
    d = np.asarray(deltas, dtype=np.float64).reshape(-1, 4)
    if len(a) != len(d):
        raise ValueError(f"decode pairs anchors with offsets one to one: {len(a)} anchors, {len(d)} offsets.")
    if not np.all(np.isfinite(d)):
        raise ValueError("The offsets contain NaN or infinite values.")
    ax, ay, aw, ah = _cxcywh(a, "anchors")
    wx, wy, ww, wh = _positive(weights, "weights")
    cx = ax + d[:, 0] / wx * aw
    cy = ay + d[:, 1] / wy * ah
    w = aw * np.exp(d[:, 2] / ww)
    h = ah * np.exp(d[:, 3] / wh)
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


# -- YOLO grids ------------------------------------------------------------------------------------------
def responsible_cells(gt_boxes, image_size, grid) -> np.ndarray:
    """The ``(col, row)`` cell holding each box centre on a YOLO grid: ``(G, 2)`` int.

    ``grid`` is the number of cells: ``S`` (an S x S grid, YOLOv1) or ``(cols, rows)``.
    A centre on the right/bottom image border belongs to the last cell.

    >>> responsible_cells([[100, 200, 300, 400], [630, 630, 640, 640]], (640, 640), 20).tolist()
    [[6, 9], [19, 19]]
    """
    from .boxes import as_boxes

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
    from .boxes import as_boxes

    g = as_boxes(gt_boxes, "gt_boxes")
    wh = np.asarray(anchors_wh, dtype=np.float64).reshape(-1, 2)
    gw = (g[:, 2] - g[:, 0])[:, None]
    gh = (g[:, 3] - g[:, 1])[:, None]
    inter = np.minimum(gw, wh[None, :, 0]) * np.minimum(gh, wh[None, :, 1])
    union = gw * gh + wh[None, :, 0] * wh[None, :, 1] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    idx = iou.argmax(axis=1)
    return idx, iou[np.arange(len(g)), idx]


def yolo_bookkeeping(image_size, strides: Sequence[float], per_location: int, num_classes: int = 80, *,
                     objectness: bool = True) -> dict:
    """How many predictions a YOLO head makes and how long each prediction vector is.

    YOLOv3: ``3 x (13^2 + 26^2 + 52^2) = 10647`` predictions at 416, each ``4 + 1 + C`` numbers.
    YOLOv8 (anchor-free, no objectness): ``80^2 + 40^2 + 20^2 = 8400`` at 640, each ``4 + C``
    (its box branch actually predicts 4 x 16 distribution bins, reduced to 4 distances).

    >>> d = yolo_bookkeeping((640, 640), (8, 16, 32), 3)
    >>> d["cells"], d["predictions"], d["vector"], d["outputs"]
    ([6400, 1600, 400], 25200, 85, 2142000)
    """
    if int(num_classes) < 0 or int(per_location) <= 0:
        raise ValueError("Need per_location >= 1 and num_classes >= 0.")
    cells = [c * r for c, r in (grid_shape(image_size, s) for s in strides)]
    grids = [grid_shape(image_size, s) for s in strides]
    preds = int(per_location) * sum(cells)
    vec = 4 + (1 if objectness else 0) + int(num_classes)
    return {"grids": grids, "cells": cells, "per_location": int(per_location), "predictions": preds,
            "vector": vec, "outputs": preds * vec,
            "layout": ["tx", "ty", "tw", "th"] + (["obj"] if objectness else []) + [f"class {i}" for i in range(3)]
            + (["…", f"class {int(num_classes) - 1}"] if num_classes > 3 else [])}


# -- views ------------------------------------------------------------------------------------------------
def coverage_map(boxes, image_size, *, cell: int = 4) -> np.ndarray:
    """How many boxes cover each ``cell x cell`` block of the image: ``(ceil(H/cell), ceil(W/cell))`` int32.

    A box covers a block when it contains the block's centre (clipped to the image). Built with a 2-D
    difference array, so 200k anchors cost a few milliseconds.

    >>> coverage_map([[0, 0, 8, 8], [4, 4, 8, 8]], (8, 8), cell=4).tolist()
    [[1, 1], [1, 2]]
    """
    from .boxes import as_boxes

    w, h = _size(image_size)
    b = as_boxes(boxes)
    gw, gh = int(math.ceil(w / cell)), int(math.ceil(h / cell))
    # block j (centre (j + 0.5) cell) is inside [x0, x1) when ceil(x0/cell - 0.5) <= j < ceil(x1/cell - 0.5)
    x0 = np.clip(np.ceil(b[:, 0] / cell - 0.5), 0, gw).astype(np.int64)
    x1 = np.clip(np.ceil(b[:, 2] / cell - 0.5), 0, gw).astype(np.int64)
    y0 = np.clip(np.ceil(b[:, 1] / cell - 0.5), 0, gh).astype(np.int64)
    y1 = np.clip(np.ceil(b[:, 3] / cell - 0.5), 0, gh).astype(np.int64)
    keep = (x1 > x0) & (y1 > y0)
    x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    d = np.zeros(((gh + 1) * (gw + 1),), np.int64)
    stride = gw + 1
    for ys, xs, sign in ((y0, x0, 1), (y0, x1, -1), (y1, x0, -1), (y1, x1, 1)):
        d += sign * np.bincount(ys * stride + xs, minlength=d.size)
    d = d.reshape(gh + 1, gw + 1)
    return np.cumsum(np.cumsum(d, axis=0), axis=1)[:gh, :gw].astype(np.int32)


def per_cell_max(values, image_size, stride: float, per_location: int) -> np.ndarray:
    """Reshape one level's per-anchor values to ``(rows, cols)`` taking the max over each cell's anchors.

    >>> per_cell_max(np.arange(4.0), (32, 16), 16, 2).tolist()
    [[1.0, 3.0]]
    """
    cols, rows = grid_shape(image_size, stride)
    v = np.asarray(values)
    if v.size != cols * rows * per_location:
        raise ValueError(f"Expected {cols * rows * per_location} values for this level, got {v.size}.")
    return v.reshape(rows, cols, per_location).max(axis=2)
