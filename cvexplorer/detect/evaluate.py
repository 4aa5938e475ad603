"""COCO-style detection scoring: per-detection TP/FP, 101-point precision–recall curves, AP@[.5:.95].

The rules are COCO's (``pycocotools`` ``COCOeval`` for ``bbox``, area range "all", at most 100
detections per image and class), re-written here so the matching can be shown step by step:

1. Per image and class, detections are taken in score order (ties keep file order; only the 100
   best count) and each is matched greedily to the *unmatched* ground truth of the same class with
   the highest IoU, provided that IoU ≥ t. Crowd regions (``iscrowd``) are matched after real
   objects, may absorb any number of detections, use IoU = overlap / detection area, and the
   detections they absorb count neither as TP nor as FP.
2. Per class, all detections of all images are sorted by score (ties: image order, then score
   order within the image); running sums give precision = TP/(TP+FP) and recall = TP/#GT.
3. Precision is made monotone (each point takes the best precision at any higher recall) and read
   at the 101 recalls 0, 0.01, …, 1 (the first point whose recall reaches r; 0 past the curve's end).
   AP at t is the mean of those 101 values; AP@[.5:.95] averages t = 0.50, 0.55, …, 0.95 and the
   classes that have ground truth.

Reference: Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014, and the COCO
detection evaluation page (cocodataset.org/#detection-eval).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..trace import Step, Trace

__all__ = ["IOU_THRESHOLDS", "RECALL_THRESHOLDS", "MAX_DETECTIONS", "Outcome", "Evaluation", "evaluate",
           "evaluate_trace", "xywh_iou"]

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)  #: COCO's ten IoU thresholds
RECALL_THRESHOLDS = np.linspace(0.0, 1.0, 101)  #: the 101 recall points of the interpolation
MAX_DETECTIONS = 100  #: detections per image and class that count
_EPS = np.spacing(1)


def xywh_iou(dt: np.ndarray, gt: np.ndarray, crowd: np.ndarray | None = None) -> np.ndarray:
    """IoU of boxes given as x, y, w, h; for a crowd ground truth the union is the detection's area.

    >>> xywh_iou(np.array([[0., 0, 10, 10]]), np.array([[5., 0, 10, 10]])).round(4).tolist()
    [[0.3333]]
    """
    dt = np.asarray(dt, np.float64).reshape(-1, 4)
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    iw = np.minimum(dt[:, None, 0] + dt[:, None, 2], gt[None, :, 0] + gt[None, :, 2]) - np.maximum(dt[:, None, 0], gt[None, :, 0])
    ih = np.minimum(dt[:, None, 1] + dt[:, None, 3], gt[None, :, 1] + gt[None, :, 3]) - np.maximum(dt[:, None, 1], gt[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    da = (dt[:, 2] * dt[:, 3])[:, None]
    union = da + (gt[:, 2] * gt[:, 3])[None, :] - inter
    if crowd is not None and len(gt):
        union = np.where(np.asarray(crowd, bool)[None, :], da, union)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return out


@dataclass(frozen=True)
class Outcome:
    """What one detection became at one IoU threshold.

    ``status`` is "TP", "FP" or "ignored"; ``gt`` the index (into ``ground_truth["annotations"]``)
    of the object it matched, else -1; ``iou`` its best IoU with an object of its class in its
    image; ``reason`` why it is not a TP: "low IoU", "duplicate" (its object was already taken by a
    higher-scored detection), "wrong class" (it overlaps an object of another class enough),
    "no object" (nothing of its class there), "crowd", "beyond the top 100" or "unknown class"."""

    index: int
    image_id: int
    category_id: int
    score: float
    bbox: tuple
    status: str
    gt: int
    iou: float
    reason: str


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    ``ap`` (AP@[.5:.95]), ``ap50``, ``ap75``; ``category_ids`` (K,); ``precision`` (10, 101, K)
    interpolated precision at each IoU threshold and recall point (-1 for a class without ground
    truth); ``recall`` (10, K) the final recall; ``class_ap`` (10, K) AP per threshold and class
    (nan without ground truth); ``matched`` (10, N) for every detection the index of its object
    (-1: FP or not counted); ``counted`` (N,) whether a detection takes part (its class is known
    and it is within its image's top 100); ``ignored`` (10, N) matched to a crowd region;
    ``best_iou``, ``best_other_iou`` (N,) IoU with the nearest object of its class / of another class."""

    ap: float
    ap50: float
    ap75: float
    category_ids: np.ndarray
    category_names: tuple
    iou_thresholds: np.ndarray
    recall_thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    class_ap: np.ndarray
    matched: np.ndarray
    ignored: np.ndarray
    counted: np.ndarray
    best_iou: np.ndarray
    best_other_iou: np.ndarray
    detections: tuple
    num_gt: np.ndarray

    def threshold_index(self, iou_threshold: float) -> int:
        k = int(np.argmin(np.abs(self.iou_thresholds - iou_threshold)))
        if abs(self.iou_thresholds[k] - iou_threshold) > 1e-9:
            raise ValueError(f"COCO scores at IoU 0.50, 0.55, …, 0.95 only; {iou_threshold:g} is not one of them.")
        return k

    def outcome(self, i: int, iou_threshold: float = 0.5) -> Outcome:
        """Detection ``i`` at one of the ten thresholds: TP with its object, or FP and why."""
        t = self.threshold_index(iou_threshold)
        d = self.detections[i]
        m = int(self.matched[t, i])
        best, other = float(self.best_iou[i]), float(self.best_other_iou[i])
        if not self.counted[i]:
            status, reason = "ignored", ("unknown class" if d["category_id"] not in set(self.category_ids.tolist())
                                         else "beyond the top 100")
        elif self.ignored[t, i]:
            status, reason = "ignored", "crowd"
        elif m >= 0:
            status, reason = "TP", ""
        elif best >= iou_threshold:
            status, reason = "FP", "duplicate"
        elif other >= iou_threshold:
            status, reason = "FP", "wrong class"
        elif best > 0:
            status, reason = "FP", "low IoU"
        else:
            status, reason = "FP", "no object"
        return Outcome(i, int(d["image_id"]), int(d["category_id"]), float(d["score"]), tuple(map(float, d["bbox"])),
                       status, m, best, reason)

    def outcomes(self, iou_threshold: float = 0.5) -> list[Outcome]:
        return [self.outcome(i, iou_threshold) for i in range(len(self.detections))]

    def table(self) -> list[tuple[str, tuple[float, float, float] | None]]:
        """Per class (AP@[.5:.95], AP50, AP75), None for a class without ground truth."""
        rows = []
        for k, name in enumerate(self.category_names):
            col = self.class_ap[:, k]
            rows.append((name, None if np.isnan(col).all() else (float(col.mean()), float(col[0]), float(col[5]))))
        return rows

    def order(self, category_id: int) -> np.ndarray:
        """The counted detections of one class in the order the PR curve walks them."""
        return _class_order(self.detections, self.counted, category_id)


def _class_order(dets, counted, category_id) -> np.ndarray:
    idx = [i for i, d in enumerate(dets) if counted[i] and d["category_id"] == category_id]
    if not idx:
        return np.zeros(0, np.int64)
    img = np.array([dets[i]["_img_rank"] for i in idx])
    score = np.array([dets[i]["score"] for i in idx], np.float64)
    within = np.array([dets[i]["_rank"] for i in idx])
    # image order, then score order inside the image; then a stable sort by score (COCO's mergesort)
    first = np.lexsort((within, img))
    ordered = np.asarray(idx)[first]
    return ordered[np.argsort(-score[first], kind="mergesort")]


def _check_inputs(ground_truth, detections):
    if not isinstance(ground_truth, dict) or not {"images", "annotations", "categories"} <= set(ground_truth):
        raise ValueError("The ground truth must be a COCO dataset: a dict with 'images', 'annotations' and 'categories'.")
    img_ids = [int(im["id"]) for im in ground_truth["images"]]
    known = set(img_ids)
    dets = []
    for k, d in enumerate(detections):
        try:
            bbox = [float(v) for v in d["bbox"]]
            row = {"image_id": int(d["image_id"]), "category_id": int(d["category_id"]), "bbox": bbox,
                   "score": float(d["score"])}
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"Detection {k} needs image_id, category_id, bbox [x, y, w, h] and score.") from None
        if len(bbox) != 4:
            raise ValueError(f"Detection {k}'s bbox must have four numbers x, y, w, h, not {len(bbox)}.")
        if row["image_id"] not in known:
            raise ValueError(f"Detection {k} is for image {row['image_id']}, which the ground truth does not list.")
        dets.append(row)
    return sorted(known), dets


def evaluate(ground_truth: dict, detections) -> Evaluation:
    """Score COCO results against a COCO ground truth exactly as ``COCOeval`` (bbox) does.

    Parameters
    ----------
    ground_truth : dict
        ``images`` (``id``), ``annotations`` (``image_id``, ``category_id``, ``bbox`` x, y, w, h,
        optional ``iscrowd``) and ``categories`` (``id``, ``name``).
    detections : list of dict
        ``image_id``, ``category_id``, ``bbox`` x, y, w, h, ``score``.

    Returns
    -------
    Evaluation
        AP@[.5:.95], AP50, AP75, per-class 101-point precision, per-detection matches.

    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]}]}
    >>> r = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 9], "score": 0.9}])
    >>> round(r.ap50, 3), round(r.ap75, 3), round(r.ap, 3)
    (1.0, 1.0, 0.9)
    """
    img_ids, dets = _check_inputs(ground_truth, detections)
    img_rank = {im: k for k, im in enumerate(img_ids)}
    cats = sorted(ground_truth["categories"], key=lambda c: int(c["id"]))
    cat_ids = np.array([int(c["id"]) for c in cats], np.int64)
    cat_set = set(cat_ids.tolist())
    anns = ground_truth["annotations"]
    T, R, K, N = len(IOU_THRESHOLDS), len(RECALL_THRESHOLDS), len(cat_ids), len(dets)
    matched = -np.ones((T, N), np.int64)
    ignored = np.zeros((T, N), bool)
    counted = np.zeros(N, bool)
    best_iou, best_other = np.zeros(N), np.zeros(N)
    for d in dets:
        d["_img_rank"] = img_rank[d["image_id"]]
    by_img_gt: dict[int, list[int]] = {}
    for g, a in enumerate(anns):
        by_img_gt.setdefault(int(a["image_id"]), []).append(g)
    by_img_dt: dict[int, list[int]] = {}
    for i, d in enumerate(dets):
        by_img_dt.setdefault(d["image_id"], []).append(i)
    num_gt = np.zeros(K, np.int64)
    for a in anns:
        if int(a["category_id"]) in cat_set and not a.get("iscrowd", 0):
            num_gt[int(np.searchsorted(cat_ids, int(a["category_id"])))] += 1

    for im in img_ids:
        gts, dts = by_img_gt.get(im, []), by_img_dt.get(im, [])
        if dts and gts:
            # IoU with every object of the image, for the "wrong class" explanation
            allg = np.array([anns[g]["bbox"] for g in gts], np.float64)
            alld = np.array([dets[i]["bbox"] for i in dts], np.float64)
            io = xywh_iou(alld, allg, np.array([bool(anns[g].get("iscrowd", 0)) for g in gts]))
            same = np.array([[dets[i]["category_id"] == int(anns[g]["category_id"]) for g in gts] for i in dts])
            best_iou[dts] = np.where(same, io, 0).max(1)
            best_other[dts] = np.where(~same, io, 0).max(1)
        for cid in cat_ids.tolist():
            g_idx = [g for g in gts if int(anns[g]["category_id"]) == cid]
            d_idx = [i for i in dts if dets[i]["category_id"] == cid]
            if not d_idx:
                continue
            sc = np.array([dets[i]["score"] for i in d_idx])
            d_idx = [d_idx[k] for k in np.argsort(-sc, kind="mergesort")][:MAX_DETECTIONS]
            for r, i in enumerate(d_idx):
                dets[i]["_rank"] = r
                counted[i] = True
            if not g_idx:
                continue
            crowd = np.array([bool(anns[g].get("iscrowd", 0)) for g in g_idx])
            order = np.argsort(crowd, kind="mergesort")  # real objects first, crowds last
            g_idx = [g_idx[k] for k in order]
            crowd = crowd[order]
            ious = xywh_iou(np.array([dets[i]["bbox"] for i in d_idx]), np.array([anns[g]["bbox"] for g in g_idx]), crowd)
            for t, thr in enumerate(IOU_THRESHOLDS):
                taken = np.zeros(len(g_idx), bool)
                for r, i in enumerate(d_idx):
                    best, m = min(thr, 1 - 1e-10), -1
                    for k in range(len(g_idx)):
                        if taken[k] and not crowd[k]:
                            continue
                        if m > -1 and not crowd[m] and crowd[k]:
                            break
                        if ious[r, k] < best:
                            continue
                        best, m = ious[r, k], k
                    if m == -1:
                        continue
                    taken[m] = True
                    if crowd[m]:
                        ignored[t, i] = True
                    else:
                        matched[t, i] = g_idx[m]

    precision = -np.ones((T, R, K))
    recall = -np.ones((T, K))
    for k, cid in enumerate(cat_ids.tolist()):
        if num_gt[k] == 0:
            continue
        order = _class_order(dets, counted, cid)
        for t in range(T):
            keep = order[~ignored[t, order]]
            tp = np.cumsum(matched[t, keep] >= 0).astype(np.float64)
            fp = np.cumsum(matched[t, keep] < 0).astype(np.float64)
            precision[t, :, k], recall[t, k] = _interpolate(tp, fp, int(num_gt[k]))
    valid = precision > -1
    with np.errstate(invalid="ignore"):
        class_ap = np.where(valid.any(1), np.where(valid, precision, 0).sum(1) / R, np.nan)

    def mean(p):
        v = p[p > -1]
        return float(v.mean()) if v.size else -1.0

    names = tuple(str(c.get("name", c["id"])) for c in cats)
    for d in dets:
        d.setdefault("_rank", -1)
    return Evaluation(mean(precision), mean(precision[0]), mean(precision[5]), cat_ids, names, IOU_THRESHOLDS.copy(),
                      RECALL_THRESHOLDS.copy(), precision, recall, class_ap, matched, ignored, counted, best_iou,
                      best_other, tuple(dets), num_gt)


def _interpolate(tp: np.ndarray, fp: np.ndarray, npos: int) -> tuple[np.ndarray, float]:
    """101-point interpolated precision from running TP and FP counts (COCO's accumulate)."""
    q = np.zeros(len(RECALL_THRESHOLDS))
    if len(tp) == 0:
        return q, 0.0
    rc = tp / npos
    pr = tp / (fp + tp + _EPS)
    pr = np.maximum.accumulate(pr[::-1])[::-1]
    inds = np.searchsorted(rc, RECALL_THRESHOLDS, side="left")
    ok = inds < len(pr)
    q[ok] = pr[inds[ok]]
    return q, float(rc[-1])


def evaluate_trace(ground_truth: dict, detections, *, category_id: int | None = None, iou_threshold: float = 0.5,
                   result: Evaluation | None = None) -> Trace:
    """The matching of one class at one IoU threshold, one detection per step, in score order.

    Step 0 states the number of objects; each further step holds ``det`` (index into
    ``detections``), its :class:`Outcome` (``outcome``), the running ``tp``, ``fp``,
    ``precision``, ``recall`` and the curve so far (``curve_recall``, ``curve_precision``). The
    last step adds ``interpolated`` (the 101 interpolated precisions) and ``ap``. ``final`` is the
    class's AP at this threshold, equal to ``evaluate(...).class_ap``.

    >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]}]}
    >>> dt = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": s} for s in (0.9, 0.8)]
    >>> t = evaluate_trace(gt, dt)
    >>> [s.caption.split(":")[0] for s in t], t.final
    (['Class a', '#1 (score 0.90)', '#2 (score 0.80)'], 1.0)
    """
    r = result if result is not None else evaluate(ground_truth, detections)
    ti = r.threshold_index(iou_threshold)
    if category_id is None:
        has = np.flatnonzero(r.num_gt > 0)
        if not len(has):
            raise ValueError("The ground truth holds no objects to match detections with.")
        category_id = int(r.category_ids[has[0]])
    if category_id not in set(r.category_ids.tolist()):
        raise ValueError(f"Category {category_id} is not one of the ground truth's categories.")
    k = int(np.searchsorted(r.category_ids, category_id))
    npos = int(r.num_gt[k])
    name = r.category_names[k]
    order = [i for i in r.order(category_id).tolist() if not r.ignored[ti, i]]
    outs = [r.outcome(i, iou_threshold) for i in order]
    tp = np.cumsum([o.status == "TP" for o in outs]).astype(float)
    fp = np.cumsum([o.status == "FP" for o in outs]).astype(float)
    rec = tp / max(npos, 1)
    prec = tp / np.maximum(tp + fp, _EPS)
    interp, _ = _interpolate(tp, fp, npos) if npos else (np.zeros(len(RECALL_THRESHOLDS)), 0.0)
    ap = float(interp.mean()) if npos else float("nan")
    steps = [Step(0, f"Class {name}: {npos} objects, {len(order)} detections to walk in score order, "
                     f"IoU ≥ {iou_threshold:.2f}", {"tp": 0, "fp": 0, "npos": npos, "det": -1})]
    for n, o in enumerate(outs):
        what = f"TP, matches object {o.gt} (IoU {o.iou:.2f})" if o.status == "TP" else f"FP: {o.reason}" + (
            f" (IoU {o.iou:.2f})" if o.reason in ("low IoU", "duplicate") else "")
        data = {"det": o.index, "outcome": o, "tp": int(tp[n]), "fp": int(fp[n]), "npos": npos,
                "precision": float(prec[n]), "recall": float(rec[n]),
                "curve_recall": rec[:n + 1], "curve_precision": prec[:n + 1]}
        if n == len(outs) - 1:
            data.update(interpolated=interp, ap=ap)
        steps.append(Step(n + 1, f"#{n + 1} (score {o.score:.2f}): {what}", data))
    if not outs:
        steps[0] = Step(0, steps[0].caption, dict(steps[0].data, interpolated=interp, ap=ap))
    return Trace(steps, final=ap, meta={"category_id": category_id, "category": name, "iou_threshold": iou_threshold,
                                        "npos": npos})
