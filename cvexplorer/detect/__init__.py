"""A YOLOv1-style detector taken apart: the output tensor, decoding, the responsible cell and
predictor, the five loss terms, the post-processing pipeline, and COCO scoring (mAP).

Submodules: :mod:`.layout` (tensor layout, decode, responsible, loss, pipeline), :mod:`.evaluate`
(COCO AP@[.5:.95] with per-detection TP/FP and a step-through), :mod:`.coco` (loaders),
:mod:`.results` (decoded boxes as COCO results), :mod:`.scenes` (generated scenes with exact
boxes), :mod:`.model` (the shipped tiny ONNX detector). Every public name is re-exported here.
"""

from .coco import RESULTS_LIMITS, load_coco_ground_truth, load_coco_results
from .evaluate import (IOU_THRESHOLDS, MAX_DETECTIONS, RECALL_THRESHOLDS, Evaluation, Outcome, evaluate,
                       evaluate_trace, xywh_iou)
from .layout import (LAMBDA_COORD, LAMBDA_NOOBJ, Decoded, LossTerms, Pipeline, Responsibility, cell_of, decode,
                     encode, pipeline, responsible, yolo_loss_terms)
from .model import Detection, DetectorModel, clear_model_cache, load_detector, metrics_path, model_path
from .results import to_coco_results
from .explore import (CellNumbers, SceneRun, ScoredSet, boxes_of, cell_numbers, image_of, object_at, pipeline_trace, point_cell,
                      run_scene, score_coco_files, score_files, score_scenes)
from .scenes import CLASS_NAMES, DetectionScene, detection_dataset, detection_scene

__all__ = [
    "LAMBDA_COORD", "LAMBDA_NOOBJ", "Decoded", "decode", "encode", "cell_of", "Responsibility", "responsible",
    "LossTerms", "yolo_loss_terms", "Pipeline", "pipeline",
    "IOU_THRESHOLDS", "RECALL_THRESHOLDS", "MAX_DETECTIONS", "Outcome", "Evaluation", "evaluate", "evaluate_trace",
    "xywh_iou", "load_coco_ground_truth", "load_coco_results", "RESULTS_LIMITS", "to_coco_results",
    "CLASS_NAMES", "DetectionScene", "detection_scene", "detection_dataset",
    "Detection", "DetectorModel", "load_detector", "clear_model_cache", "model_path", "metrics_path",
    "SceneRun", "run_scene", "CellNumbers", "cell_numbers", "object_at", "point_cell", "ScoredSet", "score_scenes",
    "score_coco_files", "score_files", "image_of", "boxes_of", "pipeline_trace",
]
