"""Labelling anchors against ground truth (the IoU rule) and the box offsets (tx, ty, tw, th)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..boxes import as_boxes, iou_matrix
from .grid import _positive

__all__ = ["Match", "match", "encode", "decode", "CellPair", "pair_cell"]


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


@dataclass(frozen=True)
class CellPair:
    """One anchor of a cell paired with a box (:func:`pair_cell`).

    anchor : index of the anchor among the cell's; box : index of the box; iou : their IoU;
    anchor_box, gt_box : both xyxy; deltas : (tx, ty, tw, th) of :func:`encode`; decoded : the box
    :func:`decode` rebuilds from them (equal to ``gt_box``).
    """

    anchor: int
    box: int
    iou: float
    anchor_box: np.ndarray
    gt_box: np.ndarray
    deltas: np.ndarray
    decoded: np.ndarray


def pair_cell(cell_anchors, gt_boxes, anchor: int | None = None) -> CellPair | None:
    """Pair one of a cell's anchors with the box it overlaps most, and encode the offsets between them.

    ``anchor=None`` picks the cell's anchor of highest IoU with any box (the one training would
    match first); an index picks that anchor. Returns None without boxes.

    >>> p = pair_cell([[0, 0, 10, 10], [0, 0, 20, 20]], [[5, 0, 25, 20]])
    >>> p.anchor, p.box, round(p.iou, 3), p.deltas.round(4).tolist(), p.decoded.tolist()
    (1, 0, 0.6, [0.25, 0.0, 0.0, 0.0], [5.0, 0.0, 25.0, 20.0])
    """
    a = as_boxes(cell_anchors, "cell_anchors")
    g = as_boxes(gt_boxes, "gt_boxes")
    if not len(g) or not len(a):
        return None
    m = iou_matrix(a, g)
    if anchor is None:
        k = int(np.unravel_index(int(np.argmax(m)), m.shape)[0])
    elif 0 <= int(anchor) < len(a):
        k = int(anchor)
    else:
        raise ValueError(f"This cell has anchors 0 to {len(a) - 1}; there is no anchor {anchor}.")
    j = int(np.argmax(m[k]))
    t = encode(a[k:k + 1], g[j:j + 1])[0]
    dec = decode(a[k:k + 1], t[None])[0]
    return CellPair(k, j, float(m[k, j]), a[k].copy(), g[j].copy(), t, dec)
