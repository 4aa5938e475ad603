"""The anchor configurations of real detectors (numbers from the papers and reference code)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .grid import generate, generate_wh, grid_shape

__all__ = ["Preset", "PRESETS", "THRESHOLDS", "get_preset", "RULES"]

#: How a preset labels its anchors: the IoU thresholds (Faster R-CNN, RetinaNet), YOLOv3's centre cell x
#: best-shape anchor, or the anchor-free candidates whose point lies inside a box (YOLOv8).
RULES = ("iou", "yolov3", "centre")


@dataclass(frozen=True)
class Preset:
    """The anchor configuration of a real detector (numbers from the papers / reference code).

    ``offset`` is where the anchors of cell ``(col, row)`` are centred, as a fraction of the stride:
    ``((col + offset) s, (row + offset) s)``. The papers' and Ultralytics' grids use 0.5 (the cell
    centre); mmdetection's ``AnchorGenerator`` (``center_offset=0``), torchvision's and Detectron2's
    generators use 0 (the cell's top-left corner).

    >>> PRESETS["retinanet"].offset, PRESETS["retinanet-mmdet"].offset
    (0.5, 0.0)
    """

    name: str
    title: str
    strides: tuple[float, ...]
    sizes: tuple[float, ...] = ()
    ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    scales: tuple[float, ...] = (1.0,)
    anchors_wh: tuple = ()  # explicit (w, h) per level (YOLOv3); overrides sizes/ratios/scales
    anchor_free: bool = False
    default_size: tuple[int, int] = (640, 640)
    note: str = ""
    level_names: tuple[str, ...] = field(default=())
    offset: float = 0.5
    rule: str = "iou"
    pos_iou: float = 0.5
    neg_iou: float = 0.4

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"A preset's rule is one of {', '.join(RULES)}; got {self.rule!r}.")
        if not 0.0 <= self.offset <= 1.0:
            raise ValueError(f"offset is a fraction of a cell (0 to 1); got {self.offset}.")

    @property
    def per_location(self) -> tuple[int, ...]:
        """Anchors (predictions) per grid location, per level."""
        if self.anchor_free:
            return tuple(1 for _ in self.strides)
        if self.anchors_wh:
            return tuple(len(w) for w in self.anchors_wh)
        return tuple(len(self.ratios) * len(self.scales) for _ in self.strides)

    @property
    def editable(self) -> bool:
        """Whether sizes, ratios and scales describe the anchors (not explicit (w, h), not anchor-free)."""
        return not (self.anchor_free or self.anchors_wh)

    def grid_sizes(self, image_size) -> list[tuple[int, int]]:
        return [grid_shape(image_size, s) for s in self.strides]

    def counts(self, image_size) -> list[int]:
        return [c * r * a for (c, r), a in zip(self.grid_sizes(image_size), self.per_location)]

    def count(self, image_size) -> int:
        return sum(self.counts(image_size))

    def names(self) -> tuple[str, ...]:
        return self.level_names or tuple(f"stride {s:g}" for s in self.strides)

    def generate(self, image_size, *, sizes=None, ratios=None, scales=None) -> tuple[np.ndarray, np.ndarray]:
        """This preset's anchors for an image (anchor-free: one stride-sized box per cell), centred at
        ``(c + offset) s``. Sizes, ratios or scales given here replace the preset's own."""
        if self.anchor_free:
            return generate(image_size, self.strides, self.strides, ratios=(1.0,), scales=(1.0,), offset=self.offset)
        if self.anchors_wh and sizes is None and ratios is None and scales is None:
            return generate_wh(image_size, self.strides, self.anchors_wh, offset=self.offset)
        return generate(image_size, self.strides, sizes if sizes is not None else self.sizes,
                        ratios if ratios is not None else self.ratios, scales if scales is not None else self.scales,
                        offset=self.offset)


_THIRDS = (1.0, 2 ** (1 / 3), 2 ** (2 / 3))
_RETINA = dict(strides=(8, 16, 32, 64, 128), sizes=(32, 64, 128, 256, 512), ratios=(0.5, 1.0, 2.0), scales=_THIRDS,
               default_size=(640, 640), level_names=("P3", "P4", "P5", "P6", "P7"), pos_iou=0.5, neg_iou=0.4)

PRESETS: dict[str, Preset] = {
    "faster-rcnn": Preset(
        "faster-rcnn", "Faster R-CNN RPN (VGG-16, stride 16)", strides=(16,), sizes=(128,), ratios=(0.5, 1.0, 2.0),
        scales=(1.0, 2.0, 4.0), default_size=(1000, 600), level_names=("conv5_3",), pos_iou=0.7, neg_iou=0.3,
        note="One level, 3 sizes (128, 256, 512) x 3 ratios (1:2, 1:1, 2:1) = 9 anchors per location; "
             "IoU >= 0.7 positive, < 0.3 negative."),
    "retinanet": Preset(
        "retinanet", "RetinaNet (FPN P3-P7)", **_RETINA,
        note="Five levels, sizes 32-512, scales 2^0, 2^(1/3), 2^(2/3) x ratios 1:2, 1:1, 2:1 = 9 per location; "
             "IoU >= 0.5 positive, < 0.4 negative; anchors centred on the cell centres (offset 0.5)."),
    "retinanet-mmdet": Preset(
        "retinanet-mmdet", "RetinaNet, mmdetection grid (offset 0)", **_RETINA, offset=0.0,
        note="The same anchors as RetinaNet, laid out as mmdetection's AnchorGenerator (center_offset=0), "
             "torchvision and Detectron2 do: centred on the cells' top-left corners (c x s), half a stride "
             "up and left of the paper's cell centres."),
    "yolov3": Preset(
        "yolov3", "YOLOv3 (3 levels, 9 anchors)", strides=(8, 16, 32),
        anchors_wh=(((10, 13), (16, 30), (33, 23)), ((30, 61), (62, 45), (59, 119)),
                    ((116, 90), (156, 198), (373, 326))),
        default_size=(416, 416), level_names=("P3 /8", "P4 /16", "P5 /32"), rule="yolov3", pos_iou=0.5, neg_iou=0.5,
        note="9 k-means anchors on COCO (w, h in pixels at 416), 3 per level; each box is assigned to the cell "
             "holding its centre and the anchor of best shape IoU."),
    "yolov8": Preset(
        "yolov8", "YOLOv8 (anchor-free)", strides=(8, 16, 32), anchor_free=True, default_size=(640, 640),
        level_names=("P3 /8", "P4 /16", "P5 /32"), rule="centre", pos_iou=0.5, neg_iou=0.5,
        note="Anchor-free: one prediction per cell (a point at the cell centre, grid_cell_offset 0.5), "
             "80^2 + 40^2 + 20^2 = 8400 at 640 x 640; the box is predicted as distances to its 4 sides."),
}

#: The thresholds each detector uses (positive IoU, negative IoU).
THRESHOLDS = {name: (p.pos_iou, p.neg_iou) for name, p in PRESETS.items()}


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (a key of :data:`PRESETS`).

    >>> get_preset("yolov8").count((640, 640))
    8400
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.") from None
