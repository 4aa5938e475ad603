"""What a picture of a panorama's stages needs: the match graph as a sheet of thumbnails, and the
panorama's largest valid rectangle."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .model import MatchGraph

__all__ = ["GraphSheet", "graph_sheet", "valid_rectangle", "label_edges", "label_centres"]


@dataclass(frozen=True)
class GraphSheet:
    """Thumbnails of the images on a ring (shooting order clockwise from the top) on a white sheet:
    ``centres[k]`` is image k's centre on ``image``; ``edges`` are (i, j, inliers, confidence) of the
    graph's trusted pairs; ``boxes[k]`` is (x0, y0, x1, y1) of thumbnail k."""

    image: np.ndarray
    centres: tuple[tuple[float, float], ...]
    boxes: tuple[tuple[int, int, int, int], ...]
    edges: tuple[tuple[int, int, int, float], ...]

    def segments(self) -> np.ndarray:
        """(len(edges), 4): each edge as a line x0, y0, x1, y1 between its thumbnails' centres."""
        return np.array([(*self.centres[i], *self.centres[j]) for i, j, _, _ in self.edges], float).reshape(-1, 4)

    def edge_labels(self) -> list[tuple[float, float, str]]:
        """Each edge's inlier count at the middle of its line."""
        return [((self.centres[i][0] + self.centres[j][0]) / 2, (self.centres[i][1] + self.centres[j][1]) / 2,
                 f"{n}") for i, j, n, _ in self.edges]


def graph_sheet(images: Sequence[np.ndarray], graph: MatchGraph, *, width: int = 1200,
                height: int = 800) -> GraphSheet:
    """Lay the images out as the match graph's nodes (a ring, or a row for two or three images).

    >>> g = MatchGraph(3, (0, 1, 2), ())
    >>> s = graph_sheet([np.zeros((40, 60, 3), np.uint8)] * 3, g)
    >>> s.image.shape, len(s.centres)
    ((800, 1200, 3), 3)
    """
    import cv2  # lazy: `import cvexplorer` stays free of OpenCV

    n = len(images)
    sheet = np.full((height, width, 3), 255, np.uint8)
    # thumbnail size: the ring's circumference shared by n thumbnails, with gaps
    rx, ry = width * 0.36, height * 0.33
    tw = int(min(width * 0.3, 2 * math.pi * min(rx, ry * 1.4) / max(n, 1) * 0.8))
    centres, boxes = [], []
    for k, im in enumerate(images):
        h, w = im.shape[:2]
        th = max(8, int(tw * h / w))
        if n <= 3:
            cx, cy = width * (k + 0.5) / n, height / 2
        else:
            a = 2 * math.pi * k / n - math.pi / 2
            cx, cy = width / 2 + rx * math.cos(a), height / 2 + ry * math.sin(a)
        x0 = int(np.clip(cx - tw / 2, 0, width - tw))
        y0 = int(np.clip(cy - th / 2, 0, height - th))
        thumb = cv2.resize(np.ascontiguousarray(im[..., :3]), (tw, th), interpolation=cv2.INTER_AREA)
        sheet[y0:y0 + th, x0:x0 + tw] = thumb
        centres.append((x0 + tw / 2, y0 + th / 2))
        boxes.append((x0, y0, x0 + tw, y0 + th))
    edges = tuple((p.i, p.j, p.inliers, p.confidence) for p in graph.pairs)
    return GraphSheet(sheet, tuple(centres), tuple(boxes), edges)


def valid_rectangle(mask: np.ndarray) -> tuple[int, int, int, int]:
    """A large axis-aligned rectangle (x0, y0, x1, y1) inside the non-zero part of ``mask``.

    Greedy: while the rectangle's border still holds an empty pixel, the side with the most empty
    pixels moves in by one. Not the largest possible rectangle, but never holds an empty pixel.

    >>> m = np.zeros((10, 10), np.uint8); m[2:8, 1:9] = 255
    >>> valid_rectangle(m)
    (1, 2, 9, 8)
    """
    ok = np.asarray(mask) > 0
    if not ok.any():
        return (0, 0, 0, 0)
    ys, xs = np.nonzero(ok)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    while y1 - y0 > 1 and x1 - x0 > 1:
        sub = ok[y0:y1, x0:x1]
        bad = {"top": (~sub[0]).sum() / sub.shape[1], "bottom": (~sub[-1]).sum() / sub.shape[1],
               "left": (~sub[:, 0]).sum() / sub.shape[0], "right": (~sub[:, -1]).sum() / sub.shape[0]}
        side = max(bad, key=bad.get)
        if bad[side] == 0:
            break
        if side == "top":
            y0 += 1
        elif side == "bottom":
            y1 -= 1
        elif side == "left":
            x0 += 1
        else:
            x1 -= 1
    return (x0, y0, x1, y1)


def label_edges(labels: np.ndarray) -> np.ndarray:
    """Where the image a pixel is taken from changes (the seams), as a boolean map.

    >>> label_edges(np.array([[0, 0, 1], [0, 0, 1]])).astype(int).tolist()
    [[0, 1, 0], [0, 1, 0]]
    """
    lab = np.asarray(labels)
    out = np.zeros(lab.shape, bool)
    d = (lab[:, 1:] != lab[:, :-1]) & (lab[:, 1:] >= 0) & (lab[:, :-1] >= 0)
    out[:, :-1] |= d
    d = (lab[1:, :] != lab[:-1, :]) & (lab[1:, :] >= 0) & (lab[:-1, :] >= 0)
    out[:-1, :] |= d
    return out


def label_centres(labels: np.ndarray, n: int) -> list[tuple[float, float] | None]:
    """The centroid (x, y) of each image's region in ``labels`` (None when it has none).

    >>> label_centres(np.array([[0, 0, 1]]), 3)
    [(0.5, 0.0), (2.0, 0.0), None]
    """
    lab = np.asarray(labels)
    out: list[tuple[float, float] | None] = []
    for k in range(n):
        ys, xs = np.nonzero(lab == k)
        out.append((float(xs.mean()), float(ys.mean())) if len(xs) else None)
    return out
