"""Anchors: tiling an image with the anchor boxes of real detectors, matching them to ground truth,
box-offset encoding, and the anchor-free / YOLO grid bookkeeping.

Conventions
-----------
* ``image_size`` is ``(width, height)`` in pixels; boxes are ``xyxy`` floats on a continuous plane
  (see :mod:`cvexplorer.boxes`): width ``= x1 - x0``, no ``+ 1``.
* A level with stride ``s`` has a grid of ``ceil(W / s) x ceil(H / s)`` cells; the anchors of cell
  ``(col, row)`` are centred at ``((col + offset) s, (row + offset) s)``. Each :class:`Preset` names
  its ``offset``: 0.5 (the cell centre: the papers, Ultralytics) for every preset but
  ``retinanet-mmdet``, which uses 0 like mmdetection, torchvision and Detectron2.
* An anchor of base size ``S``, scale ``k`` and aspect ratio ``r = h / w`` has area ``(k S)^2``:
  ``w = k S / sqrt(r)``, ``h = k S sqrt(r)`` -- exact, no rounding.
* Anchors are ordered level by level, then row, column, and within a cell ratio-major
  (``for r in ratios: for k in scales``). So the anchors of one level reshape to
  ``(rows, cols, A)`` with ``A = len(ratios) * len(scales)``.

The package's modules: :mod:`~cvexplorer.anchors.grid` (shapes and tiling),
:mod:`~cvexplorer.anchors.presets`, :mod:`~cvexplorer.anchors.matching` (IoU rule, encode/decode),
:mod:`~cvexplorer.anchors.yolo`, :mod:`~cvexplorer.anchors.maps` (density, heat, histogram) and
:mod:`~cvexplorer.anchors.explore` (all of it in one call, and the letterboxed input). Every public
name is importable from ``cvexplorer.anchors``.

References: Ren et al., *Faster R-CNN* (2015); Lin et al., *Focal Loss for Dense Object Detection*
(RetinaNet, 2017); Redmon & Farhadi, *YOLOv3* (2018); Ultralytics YOLOv8 (2023, anchor-free heads);
Chen et al., *MMDetection* (2019).

>>> boxes, level = generate((64, 64), strides=(32,), sizes=(32,), ratios=(1.0,), scales=(1.0,))
>>> boxes.tolist()
[[0.0, 0.0, 32.0, 32.0], [32.0, 0.0, 64.0, 32.0], [0.0, 32.0, 32.0, 64.0], [32.0, 32.0, 64.0, 64.0]]
"""

from __future__ import annotations

from .explore import AnchorLabels, LabelCounts, Letterbox, label_anchors, letterbox, letterbox_fit
from .grid import anchor_shapes, cell_anchors, cell_at, generate, generate_wh, grid_segments, grid_shape, level_slices
from .maps import Density, Heat, IoUHistogram, coverage_map, iou_histogram, level_density, level_heat, per_cell_max
from .matching import CellPair, Match, decode, encode, match, pair_cell
from .presets import PRESETS, RULES, THRESHOLDS, Preset, get_preset
from .yolo import (Responsible, YoloHead, YoloLabels, best_anchor_by_shape, responsible_cells, yolo_assign,
                   yolo_bookkeeping)

__all__ = [
    "generate", "generate_wh", "grid_shape", "anchor_shapes", "Preset", "PRESETS", "get_preset",
    "Match", "match", "encode", "decode", "responsible_cells", "best_anchor_by_shape",
    "yolo_bookkeeping", "coverage_map", "level_slices", "per_cell_max",
    # added when the module became a package
    "THRESHOLDS", "RULES", "cell_at", "cell_anchors", "grid_segments", "CellPair", "pair_cell", "YoloHead",
    "Responsible", "YoloLabels", "yolo_assign", "Density", "level_density", "Heat", "level_heat", "IoUHistogram",
    "iou_histogram", "LabelCounts", "AnchorLabels", "label_anchors", "Letterbox", "letterbox_fit", "letterbox",
]
