"""The YOLOv1 output tensor: its layout, decoding, the responsible cell and predictor, the loss.

Layout
------
``raw`` has shape (S, S, B·5 + C) (a leading batch axis of 1 is accepted). Cell ``(row, col)``
covers the image strip ``col·W/S ≤ x < (col+1)·W/S`` and ``row·H/S ≤ y < (row+1)·H/S``. In it,
predictor ``b`` is ``raw[row, col, 5b:5b+5] = (x, y, √w, √h, confidence)``:

- ``x, y`` — the box centre *relative to the cell*, 0 at its left/top edge, 1 at its right/bottom;
- ``√w, √h`` — the square roots of the box's width and height *relative to the whole image*
  (YOLO regresses square roots, so an error on a small box costs more than on a large one);
- ``confidence`` — trained towards Pr(object)·IoU(prediction, truth).

The last C numbers are the cell's class probabilities Pr(class | object), shared by its B boxes.
A box's class-specific score is ``confidence · Pr(class | object)``.

The shipped model (``models/detector_tiny.onnx``) already applies its output activations: a
sigmoid on x, y, √w, √h and confidence (so every one lies in 0..1) and a softmax over the C class
numbers. :func:`decode` therefore does geometry only; it never applies an activation.

Reference: Redmon, Divvala, Girshick & Farhadi, "You Only Look Once", CVPR 2016, §2 and §2.2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import boxes as bx

__all__ = ["LAMBDA_COORD", "LAMBDA_NOOBJ", "Decoded", "decode", "encode", "cell_of", "Responsibility",
           "responsible", "LossTerms", "yolo_loss_terms", "Pipeline", "pipeline"]

LAMBDA_COORD = 5.0  #: weight of the centre and size terms (the paper's λcoord)
LAMBDA_NOOBJ = 0.5  #: weight of the confidence term of predictors without an object (λnoobj)


def _check(raw, S: int, B_: int, C: int) -> np.ndarray:
    a = np.asarray(raw, dtype=np.float64)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    want = (int(S), int(S), int(B_) * 5 + int(C))
    if a.shape != want:
        raise ValueError(f"The output tensor should be S×S×(B·5+C) = {want[0]}×{want[1]}×{want[2]} "
                         f"for S={S}, B={B_}, C={C}, but it is {'×'.join(map(str, a.shape))}.")
    return a


@dataclass(frozen=True)
class Decoded:
    """Every predictor's box: ``boxes`` (S·S·B, 4) x0, y0, x1, y1 in pixels, ``confidence``
    (S·S·B,), ``class_probs`` (S·S·B, C) (the cell's, repeated for its B predictors), ``scores``
    (S·S·B, C) = confidence·class probability, ``cls`` the best class and ``score`` its score,
    ``cell`` (S·S·B, 2) row, col and ``predictor`` (S·S·B,) b. Order: row-major cells, then b."""

    boxes: np.ndarray
    confidence: np.ndarray
    class_probs: np.ndarray
    scores: np.ndarray
    cls: np.ndarray
    score: np.ndarray
    cell: np.ndarray
    predictor: np.ndarray


def decode(raw, S: int, B: int, C: int, *, image_size: tuple[int, int] = (1.0, 1.0)) -> Decoded:
    """Turn the S×S×(B·5+C) tensor into S·S·B boxes in image coordinates.

    For predictor b of cell (row, col) with numbers (x, y, √w, √h, conf), on a W×H image:
    ``cx = (col + x)·W/S``, ``cy = (row + y)·H/S``, ``w = (√w)²·W``, ``h = (√h)²·H``; the box is
    ``(cx − w/2, cy − h/2, cx + w/2, cy + h/2)``.

    >>> raw = np.zeros((7, 7, 2 * 5 + 3)); raw[3, 4, :5] = [0.5, 0.5, 0.5, 0.5, 0.9]; raw[3, 4, 10:] = [0, 1, 0]
    >>> d = decode(raw, 7, 2, 3, image_size=(112, 112))
    >>> i = int(np.argmax(d.score)); d.boxes[i].tolist(), float(d.score[i]), d.cell[i].tolist(), int(d.cls[i])
    ([58.0, 42.0, 86.0, 70.0], 0.9, [3, 4], 1)
    """
    a = _check(raw, S, B, C)
    W, H = float(image_size[0]), float(image_size[1])
    preds = a[..., :5 * B].reshape(S, S, B, 5)
    rows, cols = np.meshgrid(np.arange(S), np.arange(S), indexing="ij")
    cx = (cols[..., None] + preds[..., 0]) * W / S
    cy = (rows[..., None] + preds[..., 1]) * H / S
    w, h = preds[..., 2] ** 2 * W, preds[..., 3] ** 2 * H
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).reshape(-1, 4)
    conf = preds[..., 4].reshape(-1)
    probs = np.repeat(a[..., 5 * B:].reshape(S * S, C), B, axis=0)
    scores = conf[:, None] * probs
    cls = scores.argmax(1) if C else np.zeros(len(conf), np.int64)
    cell = np.stack([np.repeat(rows.reshape(-1), B), np.repeat(cols.reshape(-1), B)], 1)
    pred = np.tile(np.arange(B), S * S)
    return Decoded(boxes, conf, probs, scores, cls, scores[np.arange(len(cls)), cls], cell, pred)


def cell_of(boxes, S: int, image_size: tuple[int, int]) -> np.ndarray:
    """The cell (row, col) holding each box's centre. Cells are half-open, ``[k·W/S, (k+1)·W/S)``,
    so a centre exactly on a border belongs to the cell to its right (below): its offset is then
    0, never 1. A centre on the image's right or bottom edge stays in the last cell.

    >>> cell_of([[0, 0, 32, 32], [16, 16, 48, 48]], 7, (112, 112)).tolist()  # centres 16 and 32
    [[1, 1], [2, 2]]
    """
    b = _boxes(boxes)
    W, H = float(image_size[0]), float(image_size[1])
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    col = np.clip(np.floor(cx / W * S), 0, S - 1).astype(np.int64)
    row = np.clip(np.floor(cy / H * S), 0, S - 1).astype(np.int64)
    return np.stack([row, col], 1)


def encode(gt_boxes, gt_classes, S: int, C: int, image_size: tuple[int, int]) -> np.ndarray:
    """The regression targets (x, y, √w, √h) of each ground-truth box, (N, 4): x, y relative to the
    box's cell, √w, √h of its size relative to the image (the inverse of :func:`decode`).

    >>> encode([[58, 42, 86, 70]], [1], 7, 3, (112, 112)).tolist()
    [[0.5, 0.5, 0.5, 0.5]]
    """
    b = _boxes(gt_boxes)
    W, H = float(image_size[0]), float(image_size[1])
    cell = cell_of(b, S, image_size)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    x = cx / W * S - cell[:, 1]
    y = cy / H * S - cell[:, 0]
    return np.stack([x, y, np.sqrt((b[:, 2] - b[:, 0]) / W), np.sqrt((b[:, 3] - b[:, 1]) / H)], 1)


@dataclass(frozen=True)
class Responsibility:
    """Per object: ``cell`` (N, 2) row, col; ``predictor`` (N,) the responsible slot; ``ious`` (N, B)
    each predictor's IoU with the object; ``owner`` (N,) False for an object whose cell was
    already taken by an earlier object (YOLOv1 can report one object per cell)."""

    cell: np.ndarray
    predictor: np.ndarray
    ious: np.ndarray
    owner: np.ndarray


def responsible(gt_boxes, raw, S: int, B: int, C: int, *, image_size: tuple[int, int] = (1.0, 1.0)) -> Responsibility:
    """Which cell and which predictor answer for each ground-truth box.

    The cell is the one holding the box's centre (:func:`cell_of`: on a border the right/lower
    cell wins, because cells are half-open intervals, so the offset stays in [0, 1)). Of that cell's
    B predictors the responsible one is the one whose *current* prediction has the highest IoU with
    the truth (§2.2 of the paper; a tie goes to the lower slot).

    >>> raw = np.zeros((7, 7, 13)); raw[2, 2, 5:10] = [0.0, 0.0, 0.3, 0.3, 0.5]
    >>> r = responsible([[16, 16, 48, 48]], raw, 7, 2, 3, image_size=(112, 112))
    >>> r.cell.tolist(), r.predictor.tolist()
    ([[2, 2]], [1])
    """
    a = _check(raw, S, B, C)
    g = _boxes(gt_boxes)
    cells = cell_of(g, S, image_size) if len(g) else np.zeros((0, 2), np.int64)
    d = decode(a, S, B, C, image_size=image_size)
    ious = np.zeros((len(g), B))
    owner = np.ones(len(g), bool)
    seen = set()
    for i, (r, c) in enumerate(cells):
        k = (int(r), int(c))
        owner[i] = k not in seen
        seen.add(k)
        start = (r * S + c) * B
        ious[i] = bx.iou_matrix(g[i:i + 1], d.boxes[start:start + B])[0]
    return Responsibility(cells, ious.argmax(1) if len(g) else np.zeros(0, np.int64), ious, owner)


def _boxes(boxes) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    return b.reshape(0, 4) if b.size == 0 else bx.as_boxes(b)


@dataclass(frozen=True)
class LossTerms:
    """The five YOLOv1 loss terms per cell, (S, S) each, *already weighted*: ``coord`` (λcoord·centre
    error), ``size`` (λcoord·√size error), ``obj`` (confidence of responsible predictors vs their
    IoU), ``noobj`` (λnoobj·confidence of every other predictor), ``cls`` (class probabilities of
    cells holding an object). ``weights`` names each term's λ; ``totals`` sums each over the grid."""

    coord: np.ndarray
    size: np.ndarray
    obj: np.ndarray
    noobj: np.ndarray
    cls: np.ndarray
    weights: dict
    responsibility: Responsibility

    NAMES = ("coord", "size", "obj", "noobj", "cls")

    @property
    def totals(self) -> dict:
        return {n: float(getattr(self, n).sum()) for n in self.NAMES}

    @property
    def total(self) -> float:
        return float(sum(self.totals.values()))

    def cell(self, row: int, col: int) -> dict:
        """The five weighted terms of one cell."""
        return {n: float(getattr(self, n)[row, col]) for n in self.NAMES}


def yolo_loss_terms(raw, gt_boxes, gt_classes, S: int, B: int, C: int, *, image_size: tuple[int, int] = (1.0, 1.0),
                    lambda_coord: float = LAMBDA_COORD, lambda_noobj: float = LAMBDA_NOOBJ) -> LossTerms:
    """The sum-squared YOLOv1 loss, split into its five terms and kept per cell.

    With 1ᵢⱼ = 1 for the responsible predictor j of an object's cell i (:func:`responsible`)::

        λcoord Σ 1ᵢⱼ [(xᵢ−x̂ᵢ)² + (yᵢ−ŷᵢ)²]              coord
      + λcoord Σ 1ᵢⱼ [(√wᵢ−√ŵᵢ)² + (√hᵢ−√ĥᵢ)²]          size
      +        Σ 1ᵢⱼ (Cᵢ − IoU(predicted, truth))²       obj
      + λnoobj Σ (1 − 1ᵢⱼ) Cᵢ²                          noobj
      +        Σ 1ᵢ Σ_c (pᵢ(c) − p̂ᵢ(c))²                 cls

    with λcoord = 5 and λnoobj = 0.5 (§2.2 of the YOLO paper). An object whose cell is already
    taken by an earlier object adds nothing (the cell answers for the first one only).

    >>> raw = np.zeros((7, 7, 13)); raw[3, 4, :5] = [0.5, 0.5, 0.5, 0.5, 1.0]; raw[3, 4, 10:] = [0, 1, 0]
    >>> t = yolo_loss_terms(raw, [[58, 42, 86, 70]], [1], 7, 2, 3, image_size=(112, 112))
    >>> {k: round(v, 6) for k, v in t.totals.items()}
    {'coord': 0.0, 'size': 0.0, 'obj': 0.0, 'noobj': 0.0, 'cls': 0.0}
    """
    a = _check(raw, S, B, C)
    g = _boxes(gt_boxes)
    cl = np.asarray(gt_classes, dtype=np.int64).reshape(-1)
    if len(cl) != len(g):
        raise ValueError(f"Give one class per ground-truth box: {len(g)} boxes but {len(cl)} classes.")
    if len(cl) and (cl.min() < 0 or cl.max() >= C):
        raise ValueError(f"Class indices must lie in 0..{C - 1} for C={C}.")
    r = responsible(g, a, S, B, C, image_size=image_size)
    t = encode(g, cl, S, C, image_size) if len(g) else np.zeros((0, 4))
    preds = a[..., :5 * B].reshape(S, S, B, 5)
    resp = np.zeros((S, S, B), bool)
    coord, size, obj, cls = (np.zeros((S, S)) for _ in range(4))
    for i in np.flatnonzero(r.owner):
        row, col = r.cell[i]
        j = r.predictor[i]
        p = preds[row, col, j]
        resp[row, col, j] = True
        coord[row, col] = lambda_coord * ((p[0] - t[i, 0]) ** 2 + (p[1] - t[i, 1]) ** 2)
        size[row, col] = lambda_coord * ((p[2] - t[i, 2]) ** 2 + (p[3] - t[i, 3]) ** 2)
        obj[row, col] = (p[4] - r.ious[i, j]) ** 2
        onehot = np.zeros(C)
        onehot[cl[i]] = 1.0
        cls[row, col] = float(((a[row, col, 5 * B:] - onehot) ** 2).sum())
    noobj = lambda_noobj * np.where(resp, 0.0, preds[..., 4] ** 2).sum(-1)
    weights = {"coord": lambda_coord, "size": lambda_coord, "obj": 1.0, "noobj": lambda_noobj, "cls": 1.0}
    return LossTerms(coord, size, obj, noobj, cls, weights, r)


@dataclass(frozen=True)
class Pipeline:
    """The post-processing stages: ``stages`` is a tuple of (name, indices into the decoded boxes),
    in order decoded → confidence threshold → per-class NMS → top-K; ``counts`` their sizes."""

    stages: tuple
    decoded: Decoded

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(len(i) for _n, i in self.stages)

    @property
    def kept(self) -> np.ndarray:
        return self.stages[-1][1]


def pipeline(decoded: Decoded, *, conf_threshold: float = 0.2, iou_threshold: float = 0.5,
             top_k: int = 100) -> Pipeline:
    """Decoded boxes → keep class-specific score > ``conf_threshold`` → NMS per class at
    ``iou_threshold`` → the ``top_k`` best. Indices at every stage are sorted by score.

    >>> raw = np.zeros((7, 7, 13)); raw[3, 4, :10] = [.5, .5, .5, .5, .9, .5, .5, .52, .5, .8]; raw[3, 4, 10] = 1
    >>> pipeline(decode(raw, 7, 2, 3, image_size=(112, 112))).counts
    (98, 2, 1, 1)
    """
    if not 0 <= iou_threshold <= 1:
        raise ValueError(f"The NMS IoU threshold must lie between 0 and 1, not {iou_threshold}.")
    if int(top_k) < 1:
        raise ValueError(f"Top-K must keep at least one box, not {top_k}.")
    d = decoded
    order = np.argsort(-d.score, kind="stable")
    conf = order[d.score[order] > conf_threshold]
    nms = conf[bx.batched_nms(d.boxes[conf], d.score[conf], d.cls[conf], iou_threshold)] if len(conf) else conf
    stages = (("decoded", order), (f"score > {conf_threshold:g}", conf), (f"per-class NMS (IoU > {iou_threshold:g})", nms),
              (f"top-{int(top_k)}", nms[:int(top_k)]))
    return Pipeline(stages, d)
