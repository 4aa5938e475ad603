"""Detection arithmetic: anchor counts, IoU of two boxes, the worst case of greedy NMS."""

from __future__ import annotations

import math

import numpy as np

from ._check import _int, _pair

__all__ = ["anchor_count", "iou", "nms_max_comparisons"]


# ----------------------------------------------------------------------------- detection
def anchor_count(grid_sizes, anchors_per_location) -> int:
    r"""Total anchors over feature-map levels: :math:`\sum_l H_l W_l A`.

    ``grid_sizes`` is one level or a list of levels; a level is an int (square) or an (h, w) pair.
    ``anchors_per_location`` is one int for all levels or one per level.

    Examples
    --------
    >>> anchor_count([80, 40, 20], 3)
    25200
    >>> anchor_count([(38, 50)], 9)
    17100
    """
    if isinstance(grid_sizes, (int, np.integer)):
        grid_sizes = [grid_sizes]
    levels = [_pair(g, "Every grid size") for g in grid_sizes]
    if not levels:
        raise ValueError("Give at least one feature-map level.")
    if isinstance(anchors_per_location, (int, np.integer)):
        per = [_int(anchors_per_location, "The number of anchors per location")] * len(levels)
    else:
        per = [_int(a, "The number of anchors per location") for a in anchors_per_location]
        if len(per) != len(levels):
            raise ValueError(f"Give one anchor count per level: {len(levels)} levels but {len(per)} counts.")
    return sum(h * w * a for (h, w), a in zip(levels, per))


def _box(b, name: str) -> tuple[float, float, float, float]:
    try:
        x1, y1, x2, y2 = (float(v) for v in b)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be four numbers [x1, y1, x2, y2], got {b!r}.") from None
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise ValueError(f"{name} has a coordinate that is not a finite number: {b!r}.")
    if x2 < x1 or y2 < y1:
        raise ValueError(f"{name} must have x2 ≥ x1 and y2 ≥ y1, got {b!r}.")
    return x1, y1, x2, y2


def iou(box_a, box_b) -> float:
    r"""Intersection over union of two ``[x1, y1, x2, y2]`` boxes (continuous coordinates).

    .. math:: \text{IoU} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|}

    Two empty boxes give 0.

    Examples
    --------
    >>> iou([0, 0, 10, 10], [5, 5, 15, 15])
    0.14285714285714285
    >>> iou([0, 0, 2, 2], [0, 0, 2, 2])
    1.0
    """
    ax1, ay1, ax2, ay2 = _box(box_a, "The first box")
    bx1, by1, bx2, by2 = _box(box_b, "The second box")
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    if union <= 0:
        return 0.0
    return min(1.0, max(0.0, inter / union))


def nms_max_comparisons(n) -> int:
    r"""Worst-case IoU evaluations of greedy NMS on ``n`` boxes (nothing is ever suppressed).

    .. math:: C = \sum_{i=1}^{n-1} (n - i) = \frac{n(n-1)}{2}

    Examples
    --------
    >>> nms_max_comparisons(1000)
    499500
    """
    m = _int(n, "The number of boxes", 0)
    return m * (m - 1) // 2
