"""What the detector panel shows, computed in one place: a scene through the model, the numbers of
one cell, and a scored set of scenes. Every function here is pure and runs in a worker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..trace import Step, Trace
from .coco import load_coco_ground_truth, load_coco_results
from .evaluate import Evaluation, evaluate
from .layout import Decoded, LossTerms, Pipeline, _boxes, cell_of, pipeline, yolo_loss_terms
from .model import DetectorModel
from .results import to_coco_results
from .scenes import DetectionScene, detection_dataset

__all__ = ["SceneRun", "run_scene", "CellNumbers", "cell_numbers", "object_at", "ScoredSet", "score_scenes",
           "score_coco_files", "score_files", "image_of", "boxes_of", "point_cell", "pipeline_trace"]


@dataclass(frozen=True)
class SceneRun:
    """A picture through the detector: ``raw`` (S, S, B·5+C), ``decoded`` (boxes in the picture's
    pixels), ``pipeline`` (stage survivors), ``loss`` (None without ground truth), the truth."""

    rgb: np.ndarray
    raw: np.ndarray
    decoded: Decoded
    pipeline: Pipeline
    loss: LossTerms | None
    gt_boxes: np.ndarray
    gt_classes: np.ndarray
    S: int
    B: int
    C: int
    class_names: tuple
    device: str
    ms: dict


def run_scene(model: DetectorModel, rgb: np.ndarray, gt_boxes=None, gt_classes=None, *, conf_threshold: float = 0.2,
              iou_threshold: float = 0.5, top_k: int = 10) -> SceneRun:
    """Run the model, the post-processing pipeline and (with ground truth) the five loss terms."""
    det = model.run(rgb)
    g = _boxes(gt_boxes if gt_boxes is not None else [])
    gc = np.asarray(gt_classes if gt_classes is not None else [], np.int64).reshape(-1)
    p = pipeline(det.decoded, conf_threshold=conf_threshold, iou_threshold=iou_threshold, top_k=top_k)
    loss = yolo_loss_terms(det.raw, g, gc, model.S, model.B, model.C, image_size=det.image_size) if len(g) else None
    return SceneRun(rgb, det.raw, det.decoded, p, loss, g, gc, model.S, model.B, model.C, model.class_names,
                    det.device, det.ms)


@dataclass(frozen=True)
class CellNumbers:
    """The slice ``raw[row, col]``: ``predictors`` (B, 5) x, y, √w, √h, confidence; ``class_probs``
    (C,); ``boxes`` (B, 4) decoded; ``owner`` the responsible predictor (-1: no object here);
    ``object`` the index of the object this cell answers for (-1: none); ``loss`` the five terms."""

    row: int
    col: int
    predictors: np.ndarray
    class_probs: np.ndarray
    boxes: np.ndarray
    owner: int
    object: int
    loss: dict
    cell_box: tuple


def cell_numbers(run: SceneRun, row: int, col: int) -> CellNumbers:
    """The numbers of one cell, its decoded boxes, its cell rectangle and, with ground truth, the
    responsible predictor and the cell's loss terms.

    The cell rectangle is ``(col·W/S, row·H/S, (col+1)·W/S, (row+1)·H/S)``."""
    S, B = run.S, run.B
    if not (0 <= row < S and 0 <= col < S):
        raise ValueError(f"Cell ({row}, {col}) is outside the {S}×{S} grid.")
    a = run.raw[row, col]
    first = (row * S + col) * B
    owner, obj, loss = -1, -1, {}
    if run.loss is not None:
        r = run.loss.responsibility
        hit = [i for i in range(len(r.cell)) if r.owner[i] and tuple(r.cell[i]) == (row, col)]
        if hit:
            obj, owner = hit[0], int(r.predictor[hit[0]])
        loss = run.loss.cell(row, col)
    h, w = run.rgb.shape[:2]
    cb = (col * w / S, row * h / S, (col + 1) * w / S, (row + 1) * h / S)
    return CellNumbers(row, col, a[:5 * B].reshape(B, 5).copy(), a[5 * B:].copy(), run.decoded.boxes[first:first + B],
                       owner, obj, loss, cb)


def object_at(boxes, x: float, y: float) -> int:
    """The index of the smallest box containing (x, y), or -1.

    >>> object_at([[0, 0, 10, 10], [2, 2, 5, 5]], 3, 3), object_at([[0, 0, 10, 10]], 20, 3)
    (1, -1)
    """
    b = _boxes(boxes)
    inside = (b[:, 0] <= x) & (x < b[:, 2]) & (b[:, 1] <= y) & (y < b[:, 3])
    if not inside.any():
        return -1
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return int(np.flatnonzero(inside)[np.argmin(area[inside])])


def point_cell(x: float, y: float, S: int, image_size) -> tuple[int, int]:
    r, c = cell_of([[x, y, x, y]], S, image_size)[0]
    return int(r), int(c)


@dataclass(frozen=True)
class ScoredSet:
    """Scenes (or loaded files) and their scoring: ``gt`` COCO dataset, ``dets`` COCO results,
    ``evaluation``, ``scenes`` (None for loaded files), ``problems`` lines from the loader."""

    gt: dict
    dets: list
    evaluation: Evaluation
    scenes: tuple | None
    problems: tuple = ()
    source: str = "generated scenes"


def score_scenes(model: DetectorModel, n: int = 16, *, seed: int = 9001, min_side: int = 8, max_objects: int = 6,
                 conf_threshold: float = 0.05, iou_threshold: float = 0.5, top_k: int = 100) -> ScoredSet:
    """Generate ``n`` held-out scenes, detect with the model, score them the COCO way.

    The defaults make the scenes a little harder than the training ones (objects from 8 px instead
    of 12, up to six of them), so the curve shows YOLO's weakness with small objects."""
    scenes, gt = detection_dataset(n, seed=seed, size=(model.size, model.size), min_side=min_side,
                                   max_objects=max_objects)
    dets = []
    for k, sc in enumerate(scenes, start=1):
        d = model.run(sc.rgb).decoded
        p = pipeline(d, conf_threshold=conf_threshold, iou_threshold=iou_threshold, top_k=top_k)
        dets += to_coco_results(d, p.kept, image_id=k)
    return ScoredSet(gt, dets, evaluate(gt, dets), tuple(scenes), (),
                     f"{n} held-out scenes (objects from {min_side} px)")


def score_files(gt: dict, dets: list, problems=(), source: str = "your files") -> ScoredSet:
    return ScoredSet(gt, dets, evaluate(gt, dets), None, tuple(problems), source)


def score_coco_files(gt_source, results_source, source: str = "your COCO files") -> ScoredSet:
    """Read COCO ground truth and results (paths, text or bytes) and score them: the whole job, for a
    worker (COCO val2017's ground truth and 500,000 results take about 5 s to read and 15 s to score)."""
    gt = load_coco_ground_truth(gt_source)
    rows, problems = load_coco_results(results_source)
    return score_files(gt, rows, problems, source)


def image_of(scored: ScoredSet, image_id: int) -> np.ndarray:
    """The picture of one image: the generated scene, or a plain grey canvas of the image's size
    (``width``/``height`` from the ground truth, else large enough for every box on it)."""
    if scored.scenes is not None:
        return scored.scenes[image_id - 1].rgb
    im = next((i for i in scored.gt["images"] if int(i["id"]) == image_id), {})
    w, h = im.get("width"), im.get("height")
    if not (w and h):
        b = boxes_of(scored, image_id)
        ext = np.concatenate([b[0].reshape(-1, 4), b[2].reshape(-1, 4)])
        w, h = (ext[:, 2].max() + 10, ext[:, 3].max() + 10) if len(ext) else (640, 480)
    return np.full((int(min(h, 4096)), int(min(w, 4096)), 3), 200, np.uint8)


def boxes_of(scored: ScoredSet, image_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ground-truth boxes (xyxy), their annotation indices, detection boxes (xyxy), their indices."""
    def xyxy(rows):
        a = np.array([r["bbox"] for r in rows], np.float64).reshape(-1, 4)
        return np.column_stack([a[:, 0], a[:, 1], a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]])

    gi = [k for k, a in enumerate(scored.gt["annotations"]) if int(a["image_id"]) == image_id]
    di = [k for k, d in enumerate(scored.evaluation.detections) if d["image_id"] == image_id]
    return (xyxy([scored.gt["annotations"][k] for k in gi]), np.array(gi, np.int64),
            xyxy([scored.evaluation.detections[k] for k in di]), np.array(di, np.int64))


def pipeline_trace(p: Pipeline) -> Trace:
    """The post-processing as a step-through: one step per stage, with the boxes it keeps
    (``kept``), the ones it drops (``dropped``) and the count.

    >>> raw = np.zeros((7, 7, 13)); raw[3, 4, :5] = [.5, .5, .5, .5, .9]; raw[3, 4, 10] = 1
    >>> from cvexplorer.detect.layout import decode
    >>> [s.count for s in pipeline_trace(pipeline(decode(raw, 7, 2, 3, image_size=(112, 112))))]
    [98, 1, 1, 1]
    """
    steps, before = [], None
    notes = ("every predictor of every cell: S·S·B boxes", "drop boxes whose class score (confidence × class "
             "probability) is too low", "within each class, drop boxes overlapping a better one",
             "keep at most K of the best")
    for k, (name, idx) in enumerate(p.stages):
        dropped = np.setdiff1d(before, idx) if before is not None else np.zeros(0, np.int64)
        steps.append(Step(k, f"{name}: {len(idx)} box{'' if len(idx) == 1 else 'es'} — {notes[min(k, 3)]}",
                          {"stage": name, "kept": idx, "dropped": dropped, "count": len(idx)}))
        before = idx
    return Trace(steps, final=p.kept, meta={"counts": p.counts})
