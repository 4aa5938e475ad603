"""Everything the NMS panel shows for one input: the trace it steps, the pipeline, three methods side by side."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..trace import Trace, freeze
from .batched import batched_nms, postprocess
from .iou import as_boxes
from .nms import nms, nms_trace
from .soft import soft_nms, soft_nms_trace

__all__ = ["NmsOverview", "nms_overview", "SOFT_MIN_SCORE"]

#: Soft-NMS never lets the score threshold reach 0: a decayed score stays positive forever.
SOFT_MIN_SCORE = 1e-3


@dataclass(frozen=True)
class NmsOverview:
    """One NMS lesson's numbers for one input and one set of settings.

    ``boxes`` / ``scores`` / ``classes`` are the (read-only) input the rest indexes: the trace,
    the kept indices and the pipeline stages all refer to rows of these arrays, so a view that
    draws from one overview never mixes two inputs.
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    #: The step-through: greedy (:func:`nms_trace`) or Soft-NMS (:func:`soft_nms_trace`).
    trace: Trace
    stepping: str
    iou_threshold: float
    conf_threshold: float
    top_k: int
    #: ``(stage name, surviving indices)`` in the detector's order (:func:`postprocess`).
    stages: tuple[tuple[str, np.ndarray], ...]
    greedy: np.ndarray
    soft_kept: np.ndarray
    soft_scores: np.ndarray
    soft_method: str
    soft_min: float
    class_aware: np.ndarray
    timings_ms: Mapping[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.boxes)


def nms_overview(boxes, scores, classes, *, iou_threshold: float = 0.5, conf_threshold: float = 0.25,
                 top_k: int = 100, soft_method: str = "gaussian", stepping: str = "greedy") -> NmsOverview:
    """Run greedy NMS step by step and compare it with Soft-NMS and class-aware NMS on the same boxes.

    Greedy NMS keeps the best remaining box and suppresses every box with
    IoU(best, b) = area(best ∩ b) / area(best ∪ b) > ``iou_threshold``; Soft-NMS multiplies the
    score instead (gaussian: s · exp(−IoU² / 0.5)); class-aware NMS runs greedy NMS per class.
    Boxes follow the package convention (xyxy, continuous, width ``x1 - x0``).

    Parameters
    ----------
    boxes, scores, classes : (N, 4), (N,), (N,) arrays.
    iou_threshold, conf_threshold : float, keyword-only; boxes at or under ``conf_threshold`` are
        dropped first (Soft-NMS uses ``max(conf_threshold, SOFT_MIN_SCORE)``).
    top_k : int, keyword-only: at most this many boxes kept.
    soft_method : "gaussian" or "linear".
    stepping : "greedy" or "soft": which algorithm :attr:`NmsOverview.trace` steps through.

    References: Bodla et al., "Soft-NMS", ICCV 2017; ``cv2.dnn.NMSBoxes``.

    >>> o = nms_overview([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], [0.9, 0.8, 0.7], [0, 1, 0])
    >>> o.greedy.tolist(), o.class_aware.tolist(), len(o.trace), o.trace.final.tolist()
    ([0, 2], [0, 1, 2], 4, [0, 2])
    """
    if stepping not in ("greedy", "soft"):
        raise ValueError(f'What to step through must be "greedy" or "soft", not {stepping!r}.')
    top_k = int(top_k)
    if top_k < 1:
        raise ValueError(f"top-K must be at least 1, not {top_k}.")
    b = freeze(as_boxes(boxes))
    s = freeze(np.asarray(scores, dtype=np.float64).reshape(-1))
    c = freeze(np.asarray(classes).reshape(-1))
    if len(s) != len(b) or len(c) != len(b):
        raise ValueError(f"boxes, scores and classes must have the same length ({len(b)}, {len(s)}, {len(c)}).")
    soft_min = max(float(conf_threshold), SOFT_MIN_SCORE)
    t0 = time.perf_counter()
    if stepping == "soft":
        trace = soft_nms_trace(b, s, method=soft_method, iou_threshold=iou_threshold, score_threshold=soft_min)
    else:
        trace = nms_trace(b, s, iou_threshold, score_threshold=conf_threshold, max_detections=top_k)
    t1 = time.perf_counter()
    stages = postprocess(b, s, c, conf_threshold=conf_threshold, iou_threshold=iou_threshold, top_k=top_k)
    greedy = nms(b, s, iou_threshold, score_threshold=conf_threshold, max_detections=top_k)
    sk, ss = soft_nms(b, s, method=soft_method, iou_threshold=iou_threshold, score_threshold=soft_min)
    cls = batched_nms(b, s, c, iou_threshold, score_threshold=conf_threshold, max_detections=top_k)
    t2 = time.perf_counter()
    return NmsOverview(
        boxes=b, scores=s, classes=c, trace=trace, stepping=stepping, iou_threshold=float(iou_threshold),
        conf_threshold=float(conf_threshold), top_k=top_k,
        stages=tuple((name, freeze(idx)) for name, idx in stages), greedy=freeze(greedy),
        soft_kept=freeze(sk[:top_k]), soft_scores=freeze(ss[:top_k]), soft_method=soft_method, soft_min=soft_min,
        class_aware=freeze(cls),
        timings_ms=MappingProxyType({"nms trace": (t1 - t0) * 1e3, "compare": (t2 - t1) * 1e3}))
