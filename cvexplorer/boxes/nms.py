"""Greedy non-maximum suppression: the fast function and its step-by-step trace."""

from __future__ import annotations

import numpy as np

from ..trace import Step, Trace
from .iou import _TINY, _iou_one, _pairwise, areas, as_boxes

__all__ = ["nms", "nms_trace", "STATE_NAMES", "WAITING", "CURRENT", "SUPPRESSED", "KEPT", "BELOW_SCORE"]

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
    keep = _greedy_sorted(b[order], t, kmax)
    out = order[keep]
    return out if kmax is None else out[:kmax]


#: Boxes resolved per pass of the fast path (see :func:`_greedy_sorted`).
_BLOCK = 32  # at most 64: a block's overlaps are one 64-bit mask per row


def _greedy_sorted(sb: np.ndarray, t: float, kmax: int | None) -> np.ndarray:
    """Greedy NMS over boxes already sorted by score; returns kept positions (into ``sb``).

    Blocked greedy, exactly the result of one pick at a time. Each pass takes the best ``_BLOCK``
    survivors, resolves greedy NMS among them on 64-bit overlap masks, then lets the block's kept
    boxes suppress the later survivors. That last step is where the time goes (kept × survivors), so
    it first keeps only the pairs whose rectangles overlap at all (four comparisons, one byte per
    pair) and computes the IoU for those pairs only. The survivors' coordinates stay compacted in one
    (5, R) array. The IoU is computed with the same operations in the same order as
    :func:`iou_matrix`, and IoU is symmetric, so every decision equals the one-at-a-time loop's.
    """
    m = len(sb)
    coords = np.empty((5, m))
    coords[:4] = sb.T
    np.multiply(np.maximum(coords[2] - coords[0], 0), np.maximum(coords[3] - coords[1], 0), out=coords[4])
    pos = np.arange(m)
    keep: list[np.ndarray] = []
    n_kept = 0
    while pos.size:
        k = min(_BLOCK, pos.size)
        blk = coords[:, :k]
        if k > 1:
            over = _iou_rows(blk[:, :, None], blk[:, None, :]) > t
            bits = np.zeros((k, 8), np.uint8)
            bits[:, :(k + 7) // 8] = np.packbits(over, axis=1, bitorder="little")
            sup, kb = 0, []
            for a, mask in enumerate(bits.view("<u8").ravel().tolist()):
                if not (sup >> a) & 1:  # row a's bits before a are harmless: those boxes are decided
                    kb.append(a)
                    sup |= mask
        else:
            kb = [0]
        keep.append(pos[kb])
        n_kept += len(kb)
        if kmax is not None and n_kept >= kmax:
            break
        rest = coords[:, k:]
        if not rest.shape[1]:
            break
        kc = blk[:, kb, None]  # (5, K, 1) against (5, R)
        touch = np.less(rest[0], kc[2])
        touch &= np.greater(rest[2], kc[0])
        touch &= np.less(rest[1], kc[3])
        touch &= np.greater(rest[3], kc[1])
        ki, ri = np.nonzero(touch)
        survive = np.ones(rest.shape[1], bool)
        if ki.size:
            iou = _iou_rows(kc[:, ki, 0], rest[:, ri])
            survive[ri[iou > t]] = False
        pos = pos[k:][survive]
        coords = rest[:, survive]
    return np.concatenate(keep) if keep else np.zeros(0, np.int64)


def _iou_rows(a, b):
    """IoU of (5, ...) coordinate stacks (x0, y0, x1, y1, area) broadcast against each other."""
    w = np.minimum(a[2], b[2])
    w -= np.maximum(a[0], b[0])
    np.maximum(w, 0, out=w)
    h = np.minimum(a[3], b[3])
    h -= np.maximum(a[1], b[1])
    np.maximum(h, 0, out=h)
    w *= h
    u = a[4] + b[4]
    u -= w
    np.maximum(u, _TINY, out=u)
    np.divide(w, u, out=u)
    return u


def nms_trace(boxes, scores, iou_threshold, *, score_threshold=0.0, max_detections=None):
    """Greedy NMS as a :class:`~cvexplorer.trace.Trace`; ``trace.final`` equals :func:`nms`.

    Step 0 shows the candidates sorted by score; each following step picks one box and shows:
    ``current`` (its index), ``states`` (one code per input box, see :data:`STATE_NAMES`),
    ``neighbours`` / ``ious`` (the boxes it overlapped, IoU > 0, and their IoUs),
    ``suppressed_now``, ``kept`` (so far), ``evaluations`` (running count of IoU evaluations;
    the bound is ``N(N-1)/2``) and ``compared_now``. ``suppressed_by`` (one index per input box,
    -1 while it is not suppressed) and ``suppressed_iou`` (its IoU with that box) say which kept
    box removed each suppressed box, so the last step, which shows the result, still tells why.
    Steps are built lazily, so a trace over 20 000 boxes is cheap to make.

    >>> t = nms_trace([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], [0.9, 0.8, 0.7], 0.5)
    >>> len(t), t[1].caption, t.final.tolist()
    (4, 'pick box 0 (score 0.90): 2 IoUs, suppress 1 box', [0, 2])
    >>> t[-1].suppressed_by.tolist(), round(float(t[-1].suppressed_iou[1]), 2)
    ([-1, 0, -1], 0.68)
    """
    b, s, t, order = _prepare(boxes, scores, iou_threshold, score_threshold)
    kmax = _max_det(max_detections)
    n = len(b)
    area = areas(b)
    picked_at = np.full(n, np.iinfo(np.int64).max, np.int64)   # step at which box was picked
    supp_at = np.full(n, np.iinfo(np.int64).max, np.int64)     # step at which box was suppressed
    by = np.full(n, -1, np.int64)                               # the pick that suppressed it
    by_iou = np.zeros(n)                                        # and their IoU
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
            hit = iou > t
            sup = r[hit]
            supp_at[sup] = stepno
            by[sup] = i
            by_iou[sup] = iou[hit]
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
        decided = supp_at <= k  # suppressed at this step or before
        data = {"states": states, "order": order, "n_candidates": n_cand,
                "max_evaluations": n_cand * (n_cand - 1) // 2, "threshold": t,
                "suppressed_by": np.where(decided, by, -1), "suppressed_iou": np.where(decided, by_iou, 0.0)}
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

