"""How good a mask is: IoU and the boundary F-score."""

from __future__ import annotations

import numpy as np

__all__ = ["iou", "boundary", "boundary_f_score"]


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union of two binary masks (1.0 when both are empty).

    >>> iou(np.array([1, 1, 0]), np.array([1, 0, 0]))
    0.5
    """
    p, g = np.asarray(pred) > 0, np.asarray(gt) > 0
    union = np.logical_or(p, g).sum()
    return 1.0 if union == 0 else float(np.logical_and(p, g).sum() / union)


def boundary(mask: np.ndarray) -> np.ndarray:
    """Boundary pixels of a binary mask: foreground pixels with a 4-neighbour in the background
    (the image border does not count as background)."""
    import cv2

    m = (np.asarray(mask) > 0).astype(np.uint8)
    er = cv2.erode(m, np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8),
                   borderType=cv2.BORDER_REPLICATE)
    return (m > 0) & (er == 0)


def _bf_counts(pred, gt, tol):
    import cv2

    bp, bg = boundary(pred), boundary(gt)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tol + 1, 2 * tol + 1))
    near_g = cv2.dilate(bg.astype(np.uint8), k) > 0
    near_p = cv2.dilate(bp.astype(np.uint8), k) > 0
    return int((bp & near_g).sum()), int(bp.sum()), int((bg & near_p).sum()), int(bg.sum())


def boundary_f_score(pred: np.ndarray, gt: np.ndarray, *, tolerance: int = 1) -> float:
    """Boundary F-score (Csurka et al., BMVC 2013): precision = share of predicted boundary pixels
    within ``tolerance`` px of a true boundary pixel, recall = the converse, F = 2PR / (P + R).

    ``pred``/``gt`` may be single masks ``(H, W)`` or stacks ``(N, H, W)``; for a stack the counts
    are pooled over all images (so an image without boundaries does not make it undefined).

    >>> m = np.zeros((20, 20), np.uint8); m[5:15, 5:15] = 1
    >>> boundary_f_score(m, m)
    1.0
    >>> round(boundary_f_score(np.roll(m, 3, axis=1), m), 2)
    0.6
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"Prediction {pred.shape} and ground truth {gt.shape} differ in shape.")
    if pred.ndim == 2:
        pred, gt = pred[None], gt[None]
    tp_p = n_p = tp_g = n_g = 0
    for p, g in zip(pred, gt):
        a, b, c, d = _bf_counts(p, g, int(tolerance))
        tp_p, n_p, tp_g, n_g = tp_p + a, n_p + b, tp_g + c, n_g + d
    if n_p == 0 and n_g == 0:
        return 1.0
    prec = tp_p / n_p if n_p else 0.0
    rec = tp_g / n_g if n_g else 0.0
    return 0.0 if prec + rec == 0 else float(2 * prec * rec / (prec + rec))
