"""Soft-NMS (Bodla et al., ICCV 2017): overlapping boxes lose score instead of being deleted."""

from __future__ import annotations

import numpy as np

from ..trace import Step, Trace
from .iou import _iou_one, areas
from .nms import BELOW_SCORE, CURRENT, KEPT, SUPPRESSED, WAITING, _prepare

__all__ = ["soft_nms", "soft_nms_trace"]


def _soft_weights(iou, method, sigma, nt):
    if method == "gaussian":
        return np.exp(-(iou * iou) / sigma)
    return np.where(iou > nt, 1.0 - iou, 1.0)


def _soft_run(boxes, scores, method, sigma, iou_threshold, score_threshold, record):
    if method not in ("gaussian", "linear"):
        raise ValueError(f'Soft-NMS method must be "gaussian" or "linear", not {method!r}.')
    sigma = float(sigma)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number, not {sigma}.")
    b, s, nt, order = _prepare(boxes, scores, iou_threshold, -np.inf)
    st = float(score_threshold)
    area = areas(b)
    cur = s.copy()
    alive = np.flatnonzero(cur >= st)
    kept, kept_scores, steps = [], [], []
    while alive.size:
        j = int(np.argmax(cur[alive]))  # first maximum: lower index wins ties
        i = int(alive[j])
        kept.append(i)
        kept_scores.append(cur[i])
        rest = np.delete(alive, j)
        before = cur.copy() if record else None
        iou = _iou_one(b, area, i, rest) if rest.size else np.zeros(0)
        cur[rest] = cur[rest] * _soft_weights(iou, method, sigma, nt)
        dropped = rest[cur[rest] < st]
        alive = rest[cur[rest] >= st]
        if record:
            steps.append((i, rest, iou, before, cur.copy(), dropped))
    return np.asarray(kept, np.int64), np.asarray(kept_scores, np.float64), s, steps


def soft_nms(boxes, scores, *, method="gaussian", sigma=0.5, iou_threshold=0.3,
             score_threshold=0.001):
    r"""Soft-NMS (Bodla et al., ICCV 2017): decay the scores of overlapping boxes instead of deleting them.

    Repeatedly keep the remaining box with the highest *current* score ``M`` (ties: lower index),
    then rescale every other remaining box ``b``:

    * gaussian: :math:`s \leftarrow s \, e^{-\mathrm{IoU}(M, b)^2 / \sigma}`
    * linear:   :math:`s \leftarrow s \, (1 - \mathrm{IoU}(M, b))` when IoU > ``iou_threshold``,
      unchanged otherwise.

    Boxes whose score falls below ``score_threshold`` are discarded (so are inputs below it).

    Returns ``(kept indices, their new scores)``, in the order they were picked.

    >>> k, s = soft_nms([[0, 0, 10, 10], [0, 0, 10, 5]], [0.9, 0.8], method="linear")
    >>> k.tolist(), s.round(3).tolist()
    ([0, 1], [0.9, 0.4])
    """
    k, ks, _, _ = _soft_run(boxes, scores, method, sigma, iou_threshold, score_threshold, False)
    return k, ks


def soft_nms_trace(boxes, scores, *, method="gaussian", sigma=0.5, iou_threshold=0.3,
                   score_threshold=0.001):
    """Soft-NMS as a Trace: each step picks a box and shows ``scores_before`` / ``scores_after``
    (one per input box), the ``neighbours`` / ``ious`` it decayed and the boxes ``dropped``
    below the score threshold. ``trace.final`` is ``(kept, new_scores)`` as :func:`soft_nms`.
    The last step also gives ``suppressed_by`` (for each dropped box, the pick whose decay took
    it under the threshold; -1 otherwise) and ``suppressed_iou`` (their IoU).

    >>> t = soft_nms_trace([[0, 0, 10, 10], [0, 0, 10, 5]], [0.9, 0.8], method="linear")
    >>> len(t), t.final[0].tolist()
    (4, [0, 1])
    """
    k, ks, s0, rec = _soft_run(boxes, scores, method, sigma, iou_threshold, score_threshold, True)
    n = len(s0)
    st = float(score_threshold)
    steps = []
    states = np.full(n, WAITING, np.int8)
    states[s0 < st] = BELOW_SCORE
    by = np.full(n, -1, np.int64)
    by_iou = np.zeros(n)
    steps.append(Step(0, f"{int((s0 >= st).sum())} boxes; Soft-NMS ({method}) decays scores instead of deleting",
                      {"states": states.copy(), "scores": s0, "current": -1,
                       "neighbours": np.zeros(0, np.int64), "ious": np.zeros(0),
                       "dropped": np.zeros(0, np.int64), "kept": np.zeros(0, np.int64),
                       "scores_before": s0, "scores_after": s0}))
    for j, (i, rest, iou, before, after, dropped) in enumerate(rec):
        states[states == CURRENT] = KEPT
        states[i] = CURRENT
        states[dropped] = SUPPRESSED
        if len(dropped):
            by[dropped] = i
            by_iou[dropped] = iou[np.isin(rest, dropped)]
        nz = iou > 0
        steps.append(Step(j + 1, f"pick box {i} (score {before[i]:.2f}): decay {int(nz.sum())} "
                                 f"overlapping, drop {len(dropped)}",
                          {"states": states.copy(), "scores": after, "current": i,
                           "neighbours": rest[nz], "ious": iou[nz], "dropped": dropped,
                           "kept": k[: j + 1], "scores_before": before, "scores_after": after}))
    states[states == CURRENT] = KEPT
    last = rec[-1][4] if rec else s0
    steps.append(Step(len(steps), f"done: kept {len(k)} boxes with decayed scores",
                      {"states": states.copy(), "scores": last, "current": -1,
                       "neighbours": np.zeros(0, np.int64), "ious": np.zeros(0),
                       "dropped": np.zeros(0, np.int64), "kept": k,
                       "scores_before": last, "scores_after": last,
                       "suppressed_by": by, "suppressed_iou": by_iou}))
    return Trace(steps, final=(k, ks), meta={"kind": "soft", "method": method, "sigma": float(sigma),
                                              "iou_threshold": float(iou_threshold),
                                              "score_threshold": st})

