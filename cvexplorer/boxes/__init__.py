"""Boxes: IoU, greedy / Soft / class-aware non-maximum suppression, their traces, loaders, scenarios.

Every public name lives here (``cvexplorer.boxes.nms``, ``cvexplorer.boxes.iou_matrix``, …);
the submodules are the seams: :mod:`.iou` (validation, areas, IoU), :mod:`.nms` (greedy NMS and its
trace), :mod:`.soft` (Soft-NMS), :mod:`.batched` (class-aware NMS, post-processing order),
:mod:`.overview` (everything the NMS panel shows for one input), :mod:`.loaders` (COCO / YOLO
files) and :mod:`.scenarios` (the built-in seeded scenes).

Conventions
-----------
* Boxes are ``xyxy`` floats in *continuous* pixel coordinates: ``(x0, y0, x1, y1)`` with
  ``x1 >= x0``, ``y1 >= y0``. The pixel ``(0, 0)`` covers ``[0, 1) × [0, 1)``, so a box over
  pixel columns 10..19 is ``x0 = 10, x1 = 20``.
* The width is ``x1 - x0`` and the height ``y1 - y0``: **no ``+1``** (the old Pascal VOC
  convention added one; torchvision, mmdet ≥ 2, detectron2 and ``cv2.dnn.NMSBoxes`` do not).
  A box with zero or negative extent has area 0.
* IoU of two boxes whose union is empty (both degenerate) is defined as 0.
* NMS suppresses when ``IoU > threshold`` (a box at exactly the threshold is kept); equal scores
  are taken in input order (lower index first), as OpenCV does.
* Loaders convert to this convention: COCO ``[x, y, w, h]`` becomes ``(x, y, x + w, y + h)``;
  YOLO ``cx cy w h`` (normalised) becomes pixels of the given image size.

>>> from cvexplorer import boxes as B
>>> B.areas([[10, 0, 20, 5]]).tolist()   # 10 wide, 5 high
[50.0]
"""

from __future__ import annotations

from .batched import batched_nms, postprocess
from .iou import areas, as_boxes, iou_matrix
from .loaders import Detections, DetectionsLoadError, load_coco_results, load_detections, load_yolo_txt
from .nms import BELOW_SCORE, CURRENT, KEPT, STATE_NAMES, SUPPRESSED, WAITING, nms, nms_trace
from .overview import SOFT_MIN_SCORE, NmsOverview, nms_overview
from .scenarios import SCENARIOS, Scenario, scenario, scenario_image
from .soft import soft_nms, soft_nms_trace

__all__ = ["as_boxes", "areas", "iou_matrix", "nms", "nms_trace", "soft_nms", "soft_nms_trace",
           "batched_nms", "postprocess", "nms_overview", "NmsOverview", "SOFT_MIN_SCORE", "STATE_NAMES", "WAITING", "CURRENT", "SUPPRESSED", "KEPT",
           "BELOW_SCORE", "Detections", "DetectionsLoadError", "load_coco_results", "load_yolo_txt",
           "load_detections", "Scenario", "SCENARIOS", "scenario", "scenario_image"]
