"""Boxes: IoU, greedy / Soft / class-aware non-maximum suppression, their traces, loaders, scenarios.

Conventions
-----------
* Boxes are ``xyxy`` floats in *continuous* pixel coordinates: ``(x0, y0, x1, y1)`` with
  ``x1 >= x0``; the width is ``x1 - x0`` (no ``+1``). A box with zero or negative extent has area 0.
* IoU of two boxes whose union is empty (both degenerate) is defined as 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["as_boxes", "areas", "iou_matrix", "nms", "nms_trace", "soft_nms", "soft_nms_trace",
           "batched_nms", "postprocess", "STATE_NAMES", "Detections", "DetectionsLoadError",
           "load_coco_results", "load_yolo_txt", "load_detections", "Scenario", "SCENARIOS",
           "scenario", "scenario_image"]

def as_boxes(boxes, name: str = "boxes") -> np.ndarray:
    """Return ``boxes`` as a float64 ``(N, 4)`` array (an empty input gives ``(0, 4)``).

    Raises ``ValueError`` for a wrong shape or non-finite values.

    >>> as_boxes([[0, 0, 2, 2]]).shape
    (1, 4)
    """
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4), np.float64)
    if arr.ndim == 1 and arr.shape[0] == 4:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) as x0, y0, x1, y1; got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contain NaN or infinite coordinates.")
    return arr


def areas(boxes) -> np.ndarray:
    """Area of each xyxy box (0 for degenerate boxes).

    >>> areas([[0, 0, 2, 3], [5, 5, 4, 4]]).tolist()
    [6.0, 0.0]
    """
    b = as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou_matrix(a, b, *, dtype=np.float64) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b`` (both xyxy): a ``(len(a), len(b))`` array.

    Vectorised along the longer list, looping over the shorter one, so the temporaries are a
    few vectors of ``max(len(a), len(b))`` values whatever the sizes: only the result grows with
    ``len(a) * len(b)`` (200 000 × 100 in float64 is 160 MB; ``dtype=np.float32`` halves it).
    When ``a`` is the longer list the result is a Fortran-ordered array (a transposed view),
    which NumPy indexes exactly like any other.

    >>> iou_matrix([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]).round(4).tolist()
    [[0.1429, 1.0, 0.0]]
    >>> iou_matrix(np.zeros((3, 4)), np.zeros((0, 4))).shape
    (3, 0)
    """
    dtype = np.dtype(dtype)
    a = as_boxes(a, "a")
    b = as_boxes(b, "b")
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return np.zeros((n, m), dtype)
    transpose = n > m
    long_, short = (a, b) if transpose else (b, a)
    cols = np.ascontiguousarray(long_.T, dtype=dtype)  # (4, L): contiguous coordinate vectors
    x0, y0, x1, y1 = cols
    area_l = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    sh = short.astype(dtype)
    area_s = np.clip(sh[:, 2] - sh[:, 0], 0, None) * np.clip(sh[:, 3] - sh[:, 1], 0, None)
    out = np.empty((len(short), len(long_)), dtype)
    w = np.empty(len(long_), dtype)
    h = np.empty_like(w)
    t = np.empty_like(w)
    tiny = np.finfo(dtype).tiny  # union == 0 implies inter == 0, so the IoU comes out as 0
    for j in range(len(short)):
        sx0, sy0, sx1, sy1 = sh[j]
        np.minimum(x1, sx1, out=w)
        np.maximum(x0, sx0, out=t)
        w -= t
        np.maximum(w, 0, out=w)
        np.minimum(y1, sy1, out=h)
        np.maximum(y0, sy0, out=t)
        h -= t
        np.maximum(h, 0, out=h)
        w *= h
        np.add(area_l, area_s[j], out=t)
        t -= w
        np.maximum(t, tiny, out=t)
        np.divide(w, t, out=out[j])
    return out.T if transpose else out


# --------------------------------------------------------------------------------------------
# Greedy NMS
# --------------------------------------------------------------------------------------------

#: Per-box states in the traces (``step["states"]`` holds these codes).
WAITING, CURRENT, SUPPRESSED, KEPT, BELOW_SCORE = 0, 1, 2, 3, 4
STATE_NAMES = ("waiting", "current", "suppressed", "kept", "below score")


def _prepare(boxes, scores, iou_threshold, score_threshold):
    b = as_boxes(boxes)
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 0:
        s = s[None]
    if s.ndim != 1 or len(s) != len(b):
        raise ValueError(f"scores must be one number per box: {len(b)} boxes but scores of shape {s.shape}.")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinite values.")
    t = float(iou_threshold)
    if not np.isfinite(t) or not 0.0 <= t <= 1.0:
        raise ValueError(f"The IoU threshold must be between 0 and 1, not {iou_threshold}.")
    st = float(score_threshold)
    if np.isnan(st):
        raise ValueError("The score threshold is NaN.")
    cand = np.flatnonzero(s > st)
    order = cand[np.argsort(-s[cand], kind="stable")]
    return b, s, t, order


def _max_det(max_detections):
    if max_detections is None:
        return None
    k = int(max_detections)
    if k < 0:
        raise ValueError(f"max_detections must be 0 or more, not {max_detections}.")
    return k


def nms(boxes, scores, iou_threshold, *, score_threshold=0.0, max_detections=None) -> np.ndarray:
    """Greedy non-maximum suppression; returns the kept indices, highest score first.

    Boxes whose score is not above ``score_threshold`` are dropped first (as in
    ``cv2.dnn.NMSBoxes``). Then, repeatedly, the best remaining box is kept and every remaining box
    whose IoU with it is **greater than** ``iou_threshold`` is suppressed.

    Tie rules: equal scores are taken in input order (lower index first, a stable sort, as
    OpenCV does); a box whose IoU equals the threshold exactly is *kept* (``IoU > t`` suppresses).

    Parameters
    ----------
    boxes : (N, 4) array of xyxy boxes.
    scores : (N,) array.
    iou_threshold : float in [0, 1].
    score_threshold : float, keyword-only.
    max_detections : int or None: stop after keeping this many.

    References: Felzenszwalb et al., "Object Detection with Discriminatively Trained Part-Based
    Models", PAMI 2010; ``cv2.dnn.NMSBoxes``.

    >>> nms([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], [0.9, 0.8, 0.7], 0.5).tolist()
    [0, 2]
    """
    b, s, t, order = _prepare(boxes, scores, iou_threshold, score_threshold)
    kmax = _max_det(max_detections)
    if order.size == 0 or kmax == 0:
        return np.zeros(0, np.int64)
    # Work in score order. Blocked greedy (exactly the same result as one pick at a time): take the
    # best _BLOCK surviving boxes, resolve greedy NMS inside the block with a bit-mask scan, then let
    # the block's kept boxes suppress all later boxes in one vectorised (kept x rest) IoU pass.
    # This cuts the NumPy calls ~_BLOCK-fold against the textbook loop (one pass per kept box).
    sb = b[order]
    x0, y0, x1, y1 = (np.ascontiguousarray(sb[:, k]) for k in range(4))
    area = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    alive = np.arange(len(order))
    keep: list[int] = []
    while alive.size:
        blk, rest = alive[:_BLOCK], alive[_BLOCK:]
        if len(blk) > 1:
            iou = _pairwise(x0[blk], y0[blk], x1[blk], y1[blk], area[blk],
                            x0[blk], y0[blk], x1[blk], y1[blk], area[blk])
            rows = np.packbits(np.triu(iou > t, 1), axis=1, bitorder="little")
            masks = [int.from_bytes(r.tobytes(), "little") for r in rows]
            sup, kb = 0, []
            for a in range(len(blk)):
                if not (sup >> a) & 1:
                    kb.append(a)
                    sup |= masks[a]
            kept = blk[kb]
        else:
            kept = blk
        keep.extend(kept.tolist())
        if kmax is not None and len(keep) >= kmax:
            break
        if rest.size:
            iou = _pairwise(x0[kept, None], y0[kept, None], x1[kept, None], y1[kept, None], area[kept, None],
                            x0[rest], y0[rest], x1[rest], y1[rest], area[rest])
            rest = rest[~(iou > t).any(axis=0)]
        alive = rest
    out = order[np.asarray(keep, dtype=np.int64)]
    return out if kmax is None else out[:kmax]


_BLOCK = 16
_TINY = np.finfo(np.float64).tiny


def _pairwise(ax0, ay0, ax1, ay1, aa, bx0, by0, bx1, by1, ba):
    """IoU by broadcasting (column inputs against row inputs); union 0 gives IoU 0."""
    if np.ndim(ax0) == 1 and np.ndim(bx0) == 1:
        ax0, ay0, ax1, ay1, aa = (v[:, None] for v in (ax0, ay0, ax1, ay1, aa))
    w = np.minimum(ax1, bx1)
    w -= np.maximum(ax0, bx0)
    np.maximum(w, 0, out=w)
    h = np.minimum(ay1, by1)
    h -= np.maximum(ay0, by0)
    np.maximum(h, 0, out=h)
    w *= h
    u = aa + ba
    u -= w
    np.maximum(u, _TINY, out=u)
    np.divide(w, u, out=u)
    return u


def _iou_one(b, area, i, r):
    """IoU of box ``i`` with boxes ``r`` (indices)."""
    w = np.clip(np.minimum(b[r, 2], b[i, 2]) - np.maximum(b[r, 0], b[i, 0]), 0, None)
    h = np.clip(np.minimum(b[r, 3], b[i, 3]) - np.maximum(b[r, 1], b[i, 1]), 0, None)
    inter = w * h
    union = np.maximum(area[r] + area[i] - inter, np.finfo(np.float64).tiny)
    return inter / union


def nms_trace(boxes, scores, iou_threshold, *, score_threshold=0.0, max_detections=None):
    """Greedy NMS as a :class:`~cvexplorer.trace.Trace`; ``trace.final`` equals :func:`nms`.

    Step 0 shows the candidates sorted by score; each following step picks one box and shows:
    ``current`` (its index), ``states`` (one code per input box, see :data:`STATE_NAMES`),
    ``neighbours`` / ``ious`` (the boxes it overlapped, IoU > 0, and their IoUs),
    ``suppressed_now``, ``kept`` (so far), ``evaluations`` (running count of IoU evaluations;
    the bound is ``N(N-1)/2``) and ``compared_now``. The last step shows the result.
    Steps are built lazily, so a trace over 20 000 boxes is cheap to make.

    >>> t = nms_trace([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], [0.9, 0.8, 0.7], 0.5)
    >>> len(t), t[1].caption, t.final.tolist()
    (4, 'pick box 0 (score 0.90): 2 IoUs, suppress 1 box', [0, 2])
    """
    from .trace import Step, Trace

    b, s, t, order = _prepare(boxes, scores, iou_threshold, score_threshold)
    kmax = _max_det(max_detections)
    n = len(b)
    area = areas(b)
    picked_at = np.full(n, np.iinfo(np.int64).max, np.int64)   # step at which box was picked
    supp_at = np.full(n, np.iinfo(np.int64).max, np.int64)     # step at which box was suppressed
    picks, neigh, neigh_iou, supp, compared, evals = [], [], [], [], [], []
    idx = order
    total = 0
    while idx.size and (kmax is None or len(picks) < kmax):
        i = int(idx[0])
        stepno = len(picks) + 1
        picks.append(i)
        picked_at[i] = stepno
        r = idx[1:]
        last = kmax is not None and len(picks) >= kmax
        if r.size and not last:
            iou = _iou_one(b, area, i, r)
            total += r.size
            nz = iou > 0
            neigh.append(r[nz])
            neigh_iou.append(iou[nz])
            sup = r[iou > t]
            supp_at[sup] = stepno
            idx = r[iou <= t]
            compared.append(int(r.size))
        else:
            neigh.append(np.zeros(0, np.int64))
            neigh_iou.append(np.zeros(0))
            sup = np.zeros(0, np.int64)
            idx = r if not last else idx[:0]
            compared.append(0)
        supp.append(sup)
        evals.append(total)
    final = np.asarray(picks, dtype=np.int64)
    below = np.ones(n, bool)
    below[order] = False
    n_cand = int(order.size)
    nsteps = len(picks) + 2

    def make(k: int) -> Step:
        states = np.full(n, WAITING, np.int8)
        states[below] = BELOW_SCORE
        done = k == nsteps - 1
        kk = nsteps if done else k  # decisions taken strictly before step kk are shown as final
        states[picked_at < kk] = KEPT
        states[supp_at < kk] = SUPPRESSED
        data = {"states": states, "order": order, "n_candidates": n_cand,
                "max_evaluations": n_cand * (n_cand - 1) // 2, "threshold": t}
        if k == 0:
            data.update(current=-1, neighbours=np.zeros(0, np.int64), ious=np.zeros(0),
                        suppressed_now=np.zeros(0, np.int64), kept=np.zeros(0, np.int64),
                        evaluations=0, compared_now=0)
            cap = f"{n_cand} candidate boxes sorted by score" + (
                f" ({int(below.sum())} below the score threshold)" if below.any() else "")
            return Step(0, cap, data)
        if done:
            data.update(current=-1, neighbours=np.zeros(0, np.int64), ious=np.zeros(0),
                        suppressed_now=np.zeros(0, np.int64), kept=final,
                        evaluations=evals[-1] if evals else 0, compared_now=0)
            return Step(k, f"done: kept {len(final)} of {n_cand} boxes, "
                           f"{evals[-1] if evals else 0} IoU evaluations", data)
        j = k - 1
        i = picks[j]
        states[i] = CURRENT
        states[supp[j]] = SUPPRESSED
        data.update(current=i, neighbours=neigh[j], ious=neigh_iou[j], suppressed_now=supp[j],
                    kept=final[:k], evaluations=evals[j], compared_now=compared[j])
        ns = len(supp[j])
        cap = (f"pick box {i} (score {s[i]:.2f}): {compared[j]} IoUs, "
               f"suppress {ns} box{'es' if ns != 1 else ''}")
        return Step(k, cap, data)

    meta = {"kind": "greedy", "iou_threshold": t, "score_threshold": float(score_threshold),
            "n_boxes": n, "n_candidates": n_cand}
    return Trace(length=nsteps, make_step=make, final=final, meta=meta)


# --------------------------------------------------------------------------------------------
# Soft-NMS
# --------------------------------------------------------------------------------------------

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

    >>> t = soft_nms_trace([[0, 0, 10, 10], [0, 0, 10, 5]], [0.9, 0.8], method="linear")
    >>> len(t), t.final[0].tolist()
    (4, [0, 1])
    """
    from .trace import Step, Trace

    k, ks, s0, rec = _soft_run(boxes, scores, method, sigma, iou_threshold, score_threshold, True)
    n = len(s0)
    st = float(score_threshold)
    steps = []
    states = np.full(n, WAITING, np.int8)
    states[s0 < st] = BELOW_SCORE
    steps.append(Step(0, f"{int((s0 >= st).sum())} boxes; Soft-NMS ({method}) decays scores instead of deleting",
                      {"states": states.copy(), "scores": s0, "current": -1,
                       "neighbours": np.zeros(0, np.int64), "ious": np.zeros(0),
                       "dropped": np.zeros(0, np.int64), "kept": np.zeros(0, np.int64),
                       "scores_before": s0, "scores_after": s0}))
    for j, (i, rest, iou, before, after, dropped) in enumerate(rec):
        states[states == CURRENT] = KEPT
        states[i] = CURRENT
        states[dropped] = SUPPRESSED
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
                       "scores_before": last, "scores_after": last}))
    return Trace(steps, final=(k, ks), meta={"kind": "soft", "method": method, "sigma": float(sigma),
                                              "iou_threshold": float(iou_threshold),
                                              "score_threshold": st})


# --------------------------------------------------------------------------------------------
# Class-aware NMS and the post-processing pipeline
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Detections from files
# --------------------------------------------------------------------------------------------

class DetectionsLoadError(ValueError):
    """A detections file that cannot be read at all (not text, not JSON, nothing valid in it)."""


@dataclass(frozen=True)
class Detections:
    """Loaded detections: xyxy pixel ``boxes``, ``scores``, integer ``classes``, optional
    ``image_ids`` (COCO), and ``problems``: one readable line per skipped entry."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    problems: tuple[str, ...] = ()
    image_ids: np.ndarray | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.boxes)


def _read_text(source) -> tuple[str, str]:
    if isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), "<bytes>"
    elif isinstance(source, str) and ("\n" in source or source.lstrip().startswith(("[", "{"))):
        return source, "<text>"
    else:
        p = Path(source)
        name = p.name
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise DetectionsLoadError(f"Cannot read {p}: {exc.strerror or exc}.") from None
    if b"\x00" in raw[:4096]:
        raise DetectionsLoadError(f"{name} is a binary file, not detections (JSON or YOLO text).")
    try:
        return raw.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        raise DetectionsLoadError(f"{name} is not UTF-8 text (byte {exc.start}).") from None


def _finish(rows, problems, name, image_ids=None) -> Detections:
    if not rows:
        detail = ("; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")) if problems else "it is empty"
        raise DetectionsLoadError(f"No valid detections in {name}: {detail}.")
    arr = np.asarray(rows, dtype=np.float64)
    return Detections(arr[:, :4], arr[:, 4], arr[:, 5].astype(np.int64), tuple(problems),
                      None if image_ids is None else np.asarray(image_ids, dtype=object), name)


def _num(v, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{what} is {v!r}, not a number")
    f = float(v)
    if not np.isfinite(f):
        raise ValueError(f"{what} is not finite")
    return f


def load_coco_results(source) -> Detections:
    """Read a COCO *results* JSON: a list of ``{"image_id", "category_id", "bbox": [x, y, w, h],
    "score"}``. Malformed entries are skipped and reported (``entry 3: ...``).

    >>> d = load_coco_results('[{"image_id": 1, "category_id": 3, "bbox": [10, 20, 30, 40], '
    ...                       '"score": 0.9}, {"bbox": [1, 2]}]')
    >>> d.boxes.tolist(), d.classes.tolist(), d.problems
    ([[10.0, 20.0, 40.0, 60.0]], [3], ('entry 2: bbox must be 4 numbers [x, y, w, h]',))
    """
    return _coco_from_text(*_read_text(source))


def _coco_from_text(text: str, name: str) -> Detections:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DetectionsLoadError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                  f"column {exc.colno}.") from None
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        data = data["annotations"]  # a ground-truth style file: accept its annotations
    if not isinstance(data, list):
        raise DetectionsLoadError(f"{name}: a COCO results file is a JSON list of detections, "
                                  f"not a {type(data).__name__}.")
    rows, problems, ids = [], [], []
    for k, e in enumerate(data, start=1):
        try:
            if not isinstance(e, dict):
                raise ValueError("not an object")
            bb = e.get("bbox")
            if not isinstance(bb, (list, tuple)) or len(bb) != 4:
                raise ValueError("bbox must be 4 numbers [x, y, w, h]")
            x, y, w, h = (_num(v, n) for v, n in zip(bb, ("x", "y", "w", "h")))
            if w <= 0 or h <= 0:
                raise ValueError(f"bbox width and height must be positive (w={w:g}, h={h:g})")
            score = _num(e.get("score", None), "score") if "score" in e else None
            if score is None:
                raise ValueError("no score")
            cat = e.get("category_id", 0)
            if isinstance(cat, bool) or not isinstance(cat, int):
                raise ValueError(f"category_id {cat!r} is not an integer")
            rows.append((x, y, x + w, y + h, score, cat))
            ids.append(e.get("image_id"))
        except ValueError as exc:
            problems.append(f"entry {k}: {exc}")
    return _finish(rows, problems, name, ids)


def load_yolo_txt(source, image_size) -> Detections:
    """Read YOLO prediction lines ``class cx cy w h conf`` (normalised to 0..1) for an image of
    ``image_size = (width, height)`` pixels. Blank lines and ``#`` comments are ignored;
    malformed lines are skipped and reported with their line number.

    >>> d = load_yolo_txt("0 0.5 0.5 0.2 0.4 0.9\\n1 0.5 oops\\n", (100, 50))
    >>> d.boxes.tolist(), d.problems
    ([[40.0, 15.0, 60.0, 35.0]], ('line 2: expected 6 values (class cx cy w h conf), found 3',))
    """
    text, name = _read_text(source)
    return _yolo_from_text(text, name, image_size)


def _yolo_from_text(text: str, name: str, image_size) -> Detections:
    try:
        W, H = (float(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (width, height), not {image_size!r}.") from None
    if not (W > 0 and H > 0):
        raise ValueError(f"image_size must be positive, not {image_size!r}.")
    rows, problems = [], []
    for ln, line in enumerate(text.splitlines(), start=1):
        t = line.strip()
        if not t or t.startswith("#"):
            continue
        parts = t.split()
        try:
            if len(parts) != 6:
                raise ValueError(f"expected 6 values (class cx cy w h conf), found {len(parts)}")
            try:
                vals = [float(v) for v in parts]
            except ValueError:
                raise ValueError("a value is not a number") from None
            if not all(np.isfinite(vals)):
                raise ValueError("a value is not finite")
            c, cx, cy, w, h, conf = vals
            if c < 0 or c != int(c):
                raise ValueError(f"class {parts[0]} is not a non-negative integer")
            if w <= 0 or h <= 0:
                raise ValueError("width and height must be positive")
            if w > 1.5 or h > 1.5 or not (-0.5 <= cx <= 1.5 and -0.5 <= cy <= 1.5):
                raise ValueError("coordinates are not normalised to 0..1")
            rows.append(((cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H, conf, int(c)))
        except ValueError as exc:
            problems.append(f"line {ln}: {exc}")
    return _finish(rows, problems, name)


def load_detections(source, image_size=None) -> Detections:
    """Load a detections file, choosing the format from its content: JSON (COCO results) when
    it starts with ``[`` or ``{``, YOLO text lines otherwise (which need ``image_size``).

    ``source`` is a path, ``bytes``, or the text itself (a ``str`` holding a newline or starting
    with ``[`` / ``{``). Raises :class:`DetectionsLoadError` (a ``ValueError``) for a file that
    cannot be used at all; skipped entries are listed in ``Detections.problems``."""
    # The text goes on already read, with the file's name: handing the text itself to the public
    # loaders would re-read a one-line file (or an empty one) as a path.
    text, name = _read_text(source)
    if not text.strip():
        raise DetectionsLoadError(f"{name} is empty: no detections to load.")
    if text.lstrip()[:1] in ("[", "{"):
        return _coco_from_text(text, name)
    if image_size is None:
        raise DetectionsLoadError(f"{name} looks like YOLO text lines: the image size is needed.")
    return _yolo_from_text(text, name, image_size)


# --------------------------------------------------------------------------------------------
# Built-in scenarios
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """A seeded set of detections over an image: ``boxes`` (xyxy px), ``scores``, ``classes``,
    ``class_names``, the true objects ``truth`` (xyxy) and ``truth_classes``, and a note."""

    name: str
    title: str
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    class_names: tuple[str, ...]
    truth: np.ndarray
    truth_classes: np.ndarray
    size: tuple[int, int]
    note: str = ""


SCENARIOS = {
    "duplicates": "Objects with jittered duplicate boxes",
    "overlapping-people": "Two overlapping people: greedy NMS loses one",
    "crowd": "Crowded small objects",
    "multi-class": "Several classes on top of each other",
}

# Two people standing one behind the other (unit coordinates), drawn by scenario_image().
_PEOPLE = ((0.40, 0.16, 0.58, 0.95), (0.445, 0.19, 0.625, 0.96))


def _jitter(rng, truth, k, spread, score_hi, size):
    W, H = size
    out_b, out_s, out_i = [], [], []
    for j, (x0, y0, x1, y1) in enumerate(truth):
        w, h = x1 - x0, y1 - y0
        for d in range(k):
            sc = spread if d else spread / 4
            dx0, dy0, dx1, dy1 = rng.normal(0, sc, 4) * (w, h, w, h)
            bx0 = min(max(x0 + dx0, 0.0), W - 2.0)   # inside the image, at least 2 px wide
            by0 = min(max(y0 + dy0, 0.0), H - 2.0)
            bx1 = min(max(x1 + dx1, bx0 + 2.0), float(W))
            by1 = min(max(y1 + dy1, by0 + 2.0), float(H))
            out_b.append((bx0, by0, bx1, by1))
            s = score_hi[j] * (1.0 if d == 0 else rng.uniform(0.55, 0.97))
            out_s.append(s)
            out_i.append(j)
    return np.asarray(out_b, float), np.asarray(out_s, float), np.asarray(out_i, int)


def scenario(name: str, *, seed: int = 0, size=(1280, 960)) -> Scenario:
    """A built-in, seeded NMS scenario on the still-life photo (see :data:`SCENARIOS`).

    >>> s = scenario("overlapping-people")
    >>> len(s.truth), len(s.boxes) > 2
    (2, True)
    """
    from .samples import still_life_objects

    if name not in SCENARIOS:
        raise ValueError(f"Unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}.")
    W, H = int(size[0]), int(size[1])
    rng = np.random.default_rng(seed)
    objs = still_life_objects((W, H))
    if name == "duplicates":
        pick = [o for o in objs if o.label in ("mug", "book", "apple", "poster")]
        truth = np.asarray([o.box for o in pick], float)
        b, s, owner = _jitter(rng, truth, 5, 0.06, rng.uniform(0.8, 0.97, len(truth)), (W, H))
        cls = np.zeros(len(b), int)
        return Scenario(name, SCENARIOS[name], b, s, cls, ("object",), truth, np.zeros(len(truth), int),
                        (W, H), "Each object has one good box and jittered duplicates.")
    if name == "overlapping-people":
        truth = np.asarray([(x0 * W, y0 * H, x1 * W, y1 * H) for x0, y0, x1, y1 in _PEOPLE], float)
        b, s, owner = _jitter(rng, truth, 3, 0.025, np.array([0.93, 0.86]), (W, H))
        iou = iou_matrix(truth[:1], truth[1:])[0, 0]
        return Scenario(name, SCENARIOS[name], b, s, np.zeros(len(b), int), ("person",), truth,
                        np.zeros(2, int), (W, H),
                        f"The two people overlap with IoU {iou:.2f}: at an NMS threshold below that, "
                        "the second person is suppressed.")
    if name == "crowd":
        # Small objects (coins / beads) on the desk in a tight grid.
        gx, gy = np.meshgrid(np.linspace(0.06, 0.52, 7), np.linspace(0.84, 0.95, 2))
        cw, ch = 0.055 * W, 0.05 * H
        cx, cy = gx.ravel() * W, gy.ravel() * H
        truth = np.c_[cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2]
        b, s, owner = _jitter(rng, truth, 3, 0.12, rng.uniform(0.6, 0.95, len(truth)), (W, H))
        return Scenario(name, SCENARIOS[name], b, s, np.zeros(len(b), int), ("coin",), truth,
                        np.zeros(len(truth), int), (W, H),
                        "Small neighbours: a jittered box of one can overlap the next one.")
    # multi-class: the mug also detected as "cup", the book as "laptop", phone as "remote"
    names = ("mug", "book", "phone", "apple")
    pick = {o.label: o.box for o in objs}
    truth = np.asarray([pick[n] for n in names], float)
    b, s, owner = _jitter(rng, truth, 3, 0.04, rng.uniform(0.8, 0.95, len(truth)), (W, H))
    cls = owner.copy()
    # confusions: the same object, a different class, slightly lower score
    b2, s2, o2 = _jitter(rng, truth[[0, 1, 2]], 2, 0.04, np.array([0.7, 0.6, 0.65]), (W, H))
    b = np.vstack([b, b2])
    s = np.concatenate([s, s2])
    cls = np.concatenate([cls, np.array([4, 5, 6])[o2]])
    return Scenario(name, SCENARIOS[name], b, s, cls,
                    ("mug", "book", "phone", "apple", "cup", "laptop", "remote"), truth,
                    np.arange(len(truth)), (W, H),
                    "Class-aware NMS keeps a 'cup' box on top of the 'mug': different classes never suppress.")


def scenario_image(sc: Scenario) -> np.ndarray:
    """The picture under a scenario: the still life, with two painted figures for the people."""
    import cv2

    from .samples import still_life

    img = still_life(sc.size).copy()
    if sc.name == "overlapping-people":
        for (x0, y0, x1, y1), col in zip(sc.truth, ((70, 90, 150), (150, 70, 60))):
            cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
            r = int(0.12 * h)
            cv2.circle(img, (int(cx), int(y0 + r + 4)), r, (225, 190, 160), -1, cv2.LINE_AA)
            body = np.array([[cx - w * 0.45, y1], [cx - w * 0.38, y0 + 2.3 * r], [cx + w * 0.38, y0 + 2.3 * r],
                             [cx + w * 0.45, y1]], np.int32)
            cv2.fillPoly(img, [body], col, cv2.LINE_AA)
    return img
