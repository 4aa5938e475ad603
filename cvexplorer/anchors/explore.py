"""What the Anchors panel shows, computed in one call: a preset's anchors for an input size, labelled
against the boxes a student drew, with the histogram of their IoUs, and a photo fitted to the input."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..boxes import as_boxes
from .grid import _size, anchor_shapes, generate, grid_shape
from .maps import IoUHistogram, iou_histogram
from .matching import Match, match
from .presets import Preset, get_preset
from .yolo import Responsible, yolo_assign

__all__ = ["LabelCounts", "AnchorLabels", "label_anchors", "Letterbox", "letterbox_fit", "letterbox"]


@dataclass(frozen=True)
class LabelCounts:
    """How many anchors are positive, negative and ignored (over every level)."""

    positive: int
    negative: int
    ignored: int

    @property
    def total(self) -> int:
        return self.positive + self.negative + self.ignored


@dataclass(frozen=True)
class AnchorLabels:
    """The result of :func:`label_anchors`.

    preset : the preset's name; image_size : (W, H) of the network input; boxes (N, 4) xyxy and
    level (N,) : every anchor of every level; per_location : anchors per cell, per level;
    level_counts : anchors per level; gt (G, 4) : the boxes; labels (N,) int8 : 1 positive,
    0 negative, -1 ignored; max_iou (N,) : each anchor's best IoU; match : the IoU rule's
    :class:`Match` (None for YOLO presets); responsible : YOLO's responsible slots (empty for the
    IoU rule); histogram : :func:`iou_histogram` of ``max_iou``; pos_iou, neg_iou, allow_low_quality :
    the IoU rule used; timings : milliseconds per stage.
    """

    preset: str
    image_size: tuple[int, int]
    boxes: np.ndarray
    level: np.ndarray
    per_location: tuple[int, ...]
    level_counts: tuple[int, ...]
    gt: np.ndarray
    labels: np.ndarray
    max_iou: np.ndarray
    match: Match | None
    responsible: tuple[Responsible, ...]
    histogram: IoUHistogram
    pos_iou: float
    neg_iou: float
    allow_low_quality: bool
    timings: dict

    @property
    def counts(self) -> LabelCounts:
        lab = self.labels
        return LabelCounts(int((lab == 1).sum()), int((lab == 0).sum()), int((lab == -1).sum()))

    @property
    def level_shares(self) -> tuple[float, ...]:
        """Each level's share of all the anchors (they add up to 1)."""
        total = sum(self.level_counts)
        return tuple(n / total for n in self.level_counts)

    def level_label_counts(self, level: int) -> LabelCounts:
        """:attr:`counts` of one level's anchors only."""
        lab = self.labels[self.level_slice(level)]
        return LabelCounts(int((lab == 1).sum()), int((lab == 0).sum()), int((lab == -1).sum()))

    def level_slice(self, level: int) -> slice:
        """Where level ``level``'s anchors sit in :attr:`boxes`."""
        start = sum(self.level_counts[:level])
        return slice(start, start + self.level_counts[level])


def label_anchors(preset: str | Preset, image_size, gt_boxes=(), *, sizes: Sequence[float] | None = None,
                  ratios: Sequence[float] | None = None, scales: Sequence[float] | None = None,
                  pos_iou: float | None = None, neg_iou: float | None = None,
                  allow_low_quality: bool = True) -> AnchorLabels:
    """Generate a preset's anchors (optionally with other sizes, ratios and scales) and label them.

    Presets with the IoU rule (Faster R-CNN, RetinaNet) label by :func:`match` with ``pos_iou`` and
    ``neg_iou`` (the preset's own by default); YOLO presets by :func:`yolo_assign`. The count is
    ``N = sum_l A_l ceil(W / s_l) ceil(H / s_l)``.

    >>> out = label_anchors("retinanet", (640, 640), [[420, 370, 500, 490]])
    >>> len(out.boxes), out.counts.positive > 0, out.histogram.total == len(out.boxes)
    (76725, True, True)
    """
    p = get_preset(preset) if isinstance(preset, str) else preset
    size = _size(image_size)
    gt = as_boxes(gt_boxes, "gt_boxes")
    pos = p.pos_iou if pos_iou is None else float(pos_iou)
    neg = p.neg_iou if neg_iou is None else float(neg_iou)
    t0 = time.perf_counter()
    custom = p.editable and (sizes is not None or ratios is not None or scales is not None)
    if custom:
        sz = tuple(sizes) if sizes is not None else p.sizes
        if len(sz) != len(p.strides):
            raise ValueError(f"Sizes: {p.title} has {len(p.strides)} levels, so give {len(p.strides)} sizes "
                             f"(got {len(sz)}).")
        r = tuple(ratios) if ratios is not None else p.ratios
        k = tuple(scales) if scales is not None else p.scales
        boxes, level = generate(size, p.strides, sz, r, k, offset=p.offset)
        per = tuple(len(anchor_shapes(sz[0], r, k)) for _ in p.strides)
    else:
        boxes, level = p.generate(size)
        per = p.per_location
    t1 = time.perf_counter()
    if p.rule == "iou":
        m = match(boxes, gt, pos, neg, allow_low_quality)
        labels, max_iou, responsible = m.labels, m.max_iou, ()
    else:
        y = yolo_assign(p, boxes, gt, size)
        m, labels, max_iou, responsible = None, y.labels, y.max_iou, y.responsible
    hist = iou_histogram(max_iou)
    t2 = time.perf_counter()
    counts = tuple(c * r * a for (c, r), a in zip((grid_shape(size, s) for s in p.strides), per))
    return AnchorLabels(p.name, size, boxes, level, per, counts, gt, labels, max_iou, m, responsible, hist,
                        pos, neg, bool(allow_low_quality), {"generate": (t1 - t0) * 1e3, "match": (t2 - t1) * 1e3})


@dataclass(frozen=True)
class Letterbox:
    """Where a photo lands when it is fitted into the network input without changing its shape.

    photo_size, input_size : (W, H); scale : input pixels per photo pixel; size : (w, h) of the
    scaled photo; pad : (left, top) of the grey border; :meth:`to_input` / :meth:`to_photo` map boxes.
    """

    photo_size: tuple[int, int]
    input_size: tuple[int, int]
    scale: float
    size: tuple[int, int]
    pad: tuple[int, int]

    @property
    def content(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the photo inside the input."""
        return self.pad[0], self.pad[1], self.pad[0] + self.size[0], self.pad[1] + self.size[1]

    @property
    def stretched(self) -> bool:
        """Whether a plain resize would have changed the photo's shape (its aspect differs from the input's)."""
        return self.size != self.input_size

    def to_input(self, boxes) -> np.ndarray:
        """Photo coordinates -> input coordinates: ``x' = s x + pad``."""
        b = as_boxes(boxes)
        px, py = self.pad
        return b * self.scale + np.array([px, py, px, py], float)

    def to_photo(self, boxes) -> np.ndarray:
        """Input coordinates -> photo coordinates (inverse of :meth:`to_input`)."""
        b = as_boxes(boxes)
        px, py = self.pad
        return (b - np.array([px, py, px, py], float)) / self.scale


def letterbox_fit(photo_size, input_size) -> Letterbox:
    """The letterbox geometry: ``s = min(W / w, H / h)``, the photo becomes ``round(s w) x round(s h)``,
    centred, the rest is a grey border (Ultralytics ``LetterBox``, the way YOLO feeds a photo to a
    square input). A stretched photo would change the shapes (a round cup becomes an oval) and so
    which anchors match it.

    >>> fit = letterbox_fit((640, 480), (320, 320))
    >>> fit.scale, fit.size, fit.pad, fit.to_input([[0, 0, 640, 480]]).tolist()
    (0.5, (320, 240), (0, 40), [[0.0, 40.0, 320.0, 280.0]])
    """
    pw, ph = _size(photo_size)
    w, h = _size(input_size)
    s = min(w / pw, h / ph)
    nw, nh = max(1, min(w, int(round(pw * s)))), max(1, min(h, int(round(ph * s))))
    return Letterbox((pw, ph), (w, h), s, (nw, nh), ((w - nw) // 2, (h - nh) // 2))


def letterbox(rgb: np.ndarray, input_size, *, fill: int = 114) -> np.ndarray:
    """The photo fitted into ``input_size = (W, H)`` as :func:`letterbox_fit` says, on a border of grey ``fill``.

    >>> letterbox(np.zeros((480, 640, 3), np.uint8), (320, 320))[[0, 40, 279, 280], 0, 0].tolist()
    [114, 0, 0, 114]
    """
    import cv2  # lazy: OpenCV costs ~0.1 s to import and the rest of this package never needs it

    img = np.asarray(rgb)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"letterbox takes an RGB uint8 photo (H, W, 3); got {img.dtype} {img.shape}.")
    fit = letterbox_fit((img.shape[1], img.shape[0]), input_size)
    w, h = fit.input_size
    (nw, nh), (left, top) = fit.size, fit.pad
    out = np.full((h, w, 3), int(fill), np.uint8)
    interp = cv2.INTER_AREA if fit.scale < 1 else cv2.INTER_LINEAR
    out[top:top + nh, left:left + nw] = cv2.resize(img, (nw, nh), interpolation=interp)
    return out
