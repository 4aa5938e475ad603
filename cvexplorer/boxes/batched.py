"""Class-aware NMS and the detector post-processing order (threshold -> NMS -> top-K)."""

from __future__ import annotations

import numpy as np

from .iou import as_boxes
from .nms import _max_det, _prepare, nms

__all__ = ["batched_nms", "postprocess"]


def batched_nms(boxes, scores, classes, iou_threshold, *, score_threshold=0.0, max_detections=None):
    """Class-aware NMS: greedy :func:`nms` run separately per class, so boxes of different
    classes never suppress each other. Returns kept indices sorted by score (ties: lower index).

    >>> batched_nms([[0, 0, 10, 10], [1, 1, 11, 11]], [0.9, 0.8], [0, 1], 0.5).tolist()
    [0, 1]
    """
    b = as_boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    c = np.asarray(classes).reshape(-1)
    if len(c) != len(b):
        raise ValueError(f"classes must be one label per box: {len(b)} boxes but {len(c)} labels.")
    kmax = _max_det(max_detections)
    parts = []
    for cls in np.unique(c):
        sel = np.flatnonzero(c == cls)
        parts.append(sel[nms(b[sel], s[sel], iou_threshold, score_threshold=score_threshold)])
    if not parts:
        _prepare(b, s, iou_threshold, score_threshold)  # validate anyway
        return np.zeros(0, np.int64)
    keep = np.sort(np.concatenate(parts))
    keep = keep[np.argsort(-s[keep], kind="stable")]
    return keep if kmax is None else keep[:kmax]


def postprocess(boxes, scores, classes, *, conf_threshold=0.25, iou_threshold=0.45, top_k=100,
                class_aware=True):
    """The detector post-processing order: decoded boxes → confidence threshold → (per-class)
    NMS → top-K. Returns a list of ``(stage name, indices into the input)`` so each stage's
    survivors can be shown.

    >>> [(n, i.tolist()) for n, i in postprocess([[0, 0, 9, 9], [1, 1, 9, 9], [20, 20, 29, 29]],
    ...                                           [0.9, 0.8, 0.1], [0, 0, 0], top_k=1)]
    [('decoded', [0, 1, 2]), ('confidence > 0.25', [0, 1]), ('per-class NMS (IoU > 0.45)', [0]), ('top-1', [0])]
    """
    b = as_boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    c = np.asarray(classes).reshape(-1)
    if len(s) != len(b) or len(c) != len(b):
        raise ValueError("boxes, scores and classes must have the same length.")
    stages = [("decoded", np.arange(len(b)))]
    conf = np.flatnonzero(s > conf_threshold)
    stages.append((f"confidence > {conf_threshold:g}", conf))
    if class_aware:
        k = conf[batched_nms(b[conf], s[conf], c[conf], iou_threshold)]
        stages.append((f"per-class NMS (IoU > {iou_threshold:g})", k))
    else:
        k = conf[nms(b[conf], s[conf], iou_threshold, score_threshold=-np.inf)]
        stages.append((f"NMS (IoU > {iou_threshold:g})", k))
    tk = int(top_k)
    stages.append((f"top-{tk}", k[:tk]))
    return stages

