"""Decoded boxes as COCO results (the format :func:`~cvexplorer.detect.evaluate.evaluate` scores)."""

from __future__ import annotations

import numpy as np

from .layout import Decoded

__all__ = ["to_coco_results"]


def to_coco_results(decoded: Decoded, indices, *, image_id: int, category_ids=None) -> list[dict]:
    """COCO result rows (``image_id``, ``category_id``, ``bbox`` x, y, w, h, ``score``) for the
    decoded boxes at ``indices``; category id = class index + 1 unless ``category_ids`` maps them.

    >>> from cvexplorer.detect.layout import decode
    >>> raw = np.zeros((7, 7, 13)); raw[0, 0, :5] = [.5, .5, .5, .5, .8]; raw[0, 0, 11] = 1
    >>> to_coco_results(decode(raw, 7, 2, 3, image_size=(112, 112)), [0], image_id=4)
    [{'image_id': 4, 'category_id': 2, 'bbox': [-6.0, -6.0, 28.0, 28.0], 'score': 0.8}]
    """
    out = []
    for i in np.asarray(indices, np.int64).reshape(-1):
        x0, y0, x1, y1 = (float(v) for v in decoded.boxes[i])
        c = int(decoded.cls[i])
        out.append({"image_id": int(image_id), "category_id": int(category_ids[c]) if category_ids is not None else c + 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0], "score": float(decoded.score[i])})
    return out
