"""Greedy non-maximum suppression: the fast function and its step-by-step trace."""

from __future__ import annotations

import math

import numpy as np

from ..trace import Step, Trace
from .iou import _TINY, _iou_one, areas, as_boxes

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
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinite values.")
    t = float(iou_threshold)
    if not math.isfinite(t) or not 0.0 <= t <= 1.0:
        raise ValueError(f"The IoU threshold must be between 0 and 1, not {iou_threshold}.")
    st = float(score_threshold)
    if math.isnan(st):
        raise ValueError("The score threshold is NaN.")
    above = s > st
    if above.all():  # the usual case: no candidate to drop, so no gathers
        return b, s, t, np.argsort(-s, kind="stable")
    cand = np.flatnonzero(above)
    return b, s, t, cand[np.argsort(-s[cand], kind="stable")]


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
    keep = _greedy_sorted(b, order, t, kmax)
    return keep if kmax is None else keep[:kmax]


#: Fast-path pass sizes (see :func:`_greedy_sorted`): the first pass takes ``_BLOCK`` rows, each
#: next one twice as many as the last one kept (at least ``_BLOCK``: dense clusters keep few, so
#: their blocks stay small), capped where rows × survivors passes ``_BUDGET`` (but never below
#: ``_BLOCK``); within 1.5× of that size, the rest goes at once. Up to ``_SMALL`` boxes skip the
#: prefilter: one pass over every pair.
_BLOCK, _BUDGET, _SMALL, _DENSE = 40, 30000, 32, 2000
_SIDE = int((1.5 * _BUDGET) ** 0.5) + 1  # the largest block
_UPPER = np.less.outer(np.arange(_SIDE), np.arange(_SIDE))  # pair (i, j) of a block with i < j
_A_MIN = 1e-290  # smaller positive areas are not shrunk (their IoUs may lose precision to underflow)


def _greedy_sorted(b: np.ndarray, order: np.ndarray, t: float, kmax: int | None) -> np.ndarray:
    """Greedy NMS of boxes ``b[order]`` (best first); returns the kept indices into ``b``.

    Blocked and exact: every decision equals the one-pick-at-a-time loop's. Each pass takes the
    best ``k`` survivors (the rows) and pairs them with every survivor (the columns), itself
    included. Only pairs (row i, column j > i) that pass a cheap prefilter get an IoU, computed with
    the same float operations in the same order as :func:`iou_matrix` (IoU is symmetric, so which
    box comes first does not matter). The pairs above the threshold are resolved in order: a pair
    within the block suppresses its column when its row is not itself suppressed (pairs come out
    sorted by row, and a row can only be suppressed by an earlier row, so that is known in time);
    then every kept row suppresses its columns beyond the block. That is the greedy loop's result:
    a column beyond the block is only compared with kept rows, the same boxes the loop would
    compare it with while it waits its turn. (A dense first block is settled before the pairs with
    the rest get their IoUs, so only kept rows pay for those; the decisions are the same.)

    The prefilter must never drop a pair whose computed IoU is above ``t``. Real numbers first:
    IoU = I/(A + B − I) > τ means I > κ·(A + B) with κ = τ/(1 + τ); as I ≤ ox·min(ha, hb) and
    A + B ≥ min(ha, hb)·(wa + wb), the x overlap ox exceeds κ·(wa + wb), and likewise in y; so
    boxes each shrunk by κ of their width and height on every side still overlap. Floats next: a
    computed IoU is within ~1e-15 (relative) of the real one unless areas underflow, so the code
    shrinks by 0.9998·κ (κ of a slightly smaller τ), not at all for t < 1e-9 or for boxes with a
    positive area below ``_A_MIN``, and gives up 2⁻⁵⁰·max|coordinate| of every shrink, which
    bounds the rounding of the shrunk coordinates. The shrunk boxes are then mapped onto a 0..255
    grid by truncation, a monotone map (two edges keep their order or become equal), and a pair
    passes when the grid rectangles overlap or touch: so whenever the shrunk boxes overlap, the pair
    passes. Four uint8 comparisons per pair: this test, over rows × survivors, is most of the cost
    at large N.
    """
    n = len(order)
    bo = b.take(order, axis=0)  # the candidates, best first
    cs = np.empty((6, n))  # x1, y1, -x0, -y0, area, index into b: the survivors, compressed each pass
    np.negative(bo[:, :2].T, out=cs[2:4])
    cs[:2] = bo[:, 2:].T
    cs[5] = order  # exact: indices stay far below 2**53
    wh = np.add(cs[:2], cs[2:4])  # x1 + (-x0) is x1 - x0, bit for bit
    np.maximum(wh, 0, out=wh)
    np.multiply(wh[0], wh[1], out=cs[4])
    tiny = cs[4].min() < _A_MIN  # some area may be subnormal: keep iou_matrix's floor on the union
    q = _grid(bo, cs, wh, t, tiny) if n > _SMALL else None
    keep: list[np.ndarray] = []
    n_kept = 0
    want = _BLOCK
    if q is not None:  # the rows × survivors masks, reused by every pass (fresh ones can page-fault)
        buf = np.empty(max(_BLOCK * n, _BUDGET) * 6, bool)
    abuf = np.empty(n, bool)
    while True:
        r = cs.shape[1]
        k = min(want, max(_BLOCK, _BUDGET // r))
        if r <= 1.5 * k or q is None:
            k = r
        if q is None:
            touch = _UPPER[:k, :k]
        else:  # q is x0, y0, ~y1, ~x1 (~v = 255 - v): the four edge tests are one "<=" broadcast
            rows = np.invert(q[::-1, :k])[:, :, None]  # x1, y1, ~y0, ~x0 of the rows
            t4 = np.less_equal(q[:, None, :], rows, out=buf[:4 * k * r].reshape(4, k, r))
            np.logical_and(t4[:2], t4[2:], out=t4[:2])
            touch = np.logical_and(t4[0], t4[1], out=t4[0])
            touch[:, :k] &= _UPPER[:k, :k]
        i, j = np.divmod(touch.ravel().nonzero()[0], r)  # (flatnonzero adds a Python layer)
        alive = abuf[:r]
        alive.fill(True)
        if not keep and k < r and min(k, np.count_nonzero(touch[:, :k])) * i.size > _DENSE * k:
            # first block of dense clusters: rows falling to earlier rows of the block (at most those
            # touching one, say half) would bring many pairs with the rest, so settle the block
            # first, then pair only its kept rows with the rest (two IoU rounds instead of one)
            inb = j < k
            _settle(*_over(cs, i.compress(inb), j.compress(inb), t, tiny), alive)
            inb ^= True
            inb &= alive.take(i)
            alive[_over(cs, i.compress(inb), j.compress(inb), t, tiny)[1]] = False
        else:
            i, j = _over(cs, i, j, t, tiny)
            if j.size:
                inb = j < k
                if inb.any():
                    _settle(i.compress(inb), j.compress(inb), alive)
                    j = j.compress(alive.take(i))  # pairs whose row is kept
                alive[j] = False
        kept = cs[5, :k].compress(alive[:k])
        keep.append(kept)
        n_kept += kept.size
        if k == r or (kmax is not None and n_kept >= kmax):
            break
        alive[:k] = False
        cs = cs.compress(alive, axis=1)
        if not cs.shape[1]:
            break
        q = q.compress(alive, axis=1)
        want = max(_BLOCK, 2 * kept.size)
    return (np.concatenate(keep) if len(keep) > 1 else keep[0]).astype(np.int64)


def _over(cs, i, j, t, tiny=True):
    """The pairs (``i``, ``j``) of survivors whose IoU is above ``t``, in the same order.

    The same float operations as :func:`iou_matrix`: min(-x0a, -x0b) is -max(x0a, x0b) and adding
    it is subtracting max(x0a, x0b), both exactly.
    """
    if not i.size:
        return i, j
    a = cs.take(i, axis=1)
    c = cs.take(j, axis=1)
    m = np.minimum(a[:4], c[:4], out=a[:4])
    ov = np.add(m[:2], m[2:], out=c[:2])  # min(x1) - max(x0), min(y1) - max(y0)
    np.maximum(ov, 0, out=ov)
    inter = np.multiply(ov[0], ov[1], out=c[2])
    u = np.add(a[4], c[4], out=c[3])
    u -= inter
    if tiny:  # else areas are >= _A_MIN, inter <= min(areas), so u >~ max(areas) > 0: a no-op
        np.maximum(u, _TINY, out=u)
    np.divide(inter, u, out=u)
    hit = u > t
    return i.compress(hit), j.compress(hit)


def _settle(i, j, alive):
    """Greedy order within a block: pair (i, j), i < j, sorted by i, suppresses j unless i fell."""
    sup = set()
    for x, y in zip(i.tolist(), j.tolist()):
        if x not in sup:
            sup.add(y)
    if sup:
        alive[list(sup)] = False


def _grid(bo, cs, wh, t, tiny):
    """The prefilter's boxes: shrunk (see :func:`_greedy_sorted`), truncated onto a 0..255 grid.

    Rows x0, y0, ~y1, ~x1 (~v = 255 - v, the same monotone map reversed), so that one ``<=``
    broadcast of the columns against ``~q[::-1]`` of the rows makes all four edge tests.
    """
    lo, hi = float(bo.min()), float(bo.max())
    span = hi - lo
    s = 255.0 / span if span > 0 else 0.0
    if not 0 < s < np.inf:  # all coordinates equal, or a span beyond float range: every pair passes
        return np.array([[0], [0], [255], [255]], np.uint8).repeat(len(bo), 1)
    z = np.empty((4, len(bo)))
    if t >= 1e-9:
        d = wh * (t / (1 + t) * 0.9998)  # below 1/2: shrunk edges do not cross
        d -= max(-lo, hi) * 2.0 ** -50  # max |coordinate|
        np.maximum(d, 0, out=d)
        if tiny:  # some area is below _A_MIN: those boxes are not shrunk
            d *= cs[4] >= _A_MIN
        np.subtract(d, cs[2:4], out=z[:2])  # x0 + d as -(-x0) + d, exactly
        np.subtract(cs[1::-1], d[::-1], out=z[2:])  # y1 - d, x1 - d
    else:
        np.negative(cs[2:4], out=z[:2])
        z[2:] = cs[1::-1]
    z -= lo
    z *= s  # in [0, 255] up to rounding: truncated, within uint8
    q = z.astype(np.uint8)
    np.invert(q[2:], out=q[2:])
    return q


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
            idx = r[~hit]  # (an IoU that overflowed to NaN suppresses nothing, as in nms)
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

