"""The built-in, seeded NMS scenarios on the still-life photo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..samples import still_life, still_life_objects
from .iou import iou_matrix

__all__ = ["Scenario", "SCENARIOS", "scenario", "scenario_image"]


@dataclass(frozen=True)
class Scenario:
    """A seeded set of detections over an image: ``boxes`` (xyxy px), ``scores``, ``classes``,
    ``class_names``, the true objects ``truth`` (xyxy) and ``truth_classes``, and a note."""

    name: str
    title: str
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    class_names: tuple[str, ...]
    truth: np.ndarray
    truth_classes: np.ndarray
    size: tuple[int, int]
    note: str = ""


SCENARIOS = {
    "duplicates": "Objects with jittered duplicate boxes",
    "overlapping-people": "Two overlapping people: greedy NMS loses one",
    "crowd": "Crowded small objects",
    "multi-class": "Several classes on top of each other",
}

# Two people standing one behind the other (unit coordinates), drawn by scenario_image().
_PEOPLE = ((0.40, 0.16, 0.58, 0.95), (0.445, 0.19, 0.625, 0.96))


def _jitter(rng, truth, k, spread, score_hi, size):
    W, H = size
    out_b, out_s, out_i = [], [], []
    for j, (x0, y0, x1, y1) in enumerate(truth):
        w, h = x1 - x0, y1 - y0
        for d in range(k):
            sc = spread if d else spread / 4
            dx0, dy0, dx1, dy1 = rng.normal(0, sc, 4) * (w, h, w, h)
            bx0 = min(max(x0 + dx0, 0.0), W - 2.0)   # inside the image, at least 2 px wide
            by0 = min(max(y0 + dy0, 0.0), H - 2.0)
            bx1 = min(max(x1 + dx1, bx0 + 2.0), float(W))
            by1 = min(max(y1 + dy1, by0 + 2.0), float(H))
            out_b.append((bx0, by0, bx1, by1))
            s = score_hi[j] * (1.0 if d == 0 else rng.uniform(0.55, 0.97))
            out_s.append(s)
            out_i.append(j)
    return np.asarray(out_b, float), np.asarray(out_s, float), np.asarray(out_i, int)


def scenario(name: str, *, seed: int = 0, size=(1280, 960)) -> Scenario:
    """A built-in, seeded NMS scenario on the still-life photo (see :data:`SCENARIOS`).

    >>> s = scenario("overlapping-people")
    >>> len(s.truth), len(s.boxes) > 2
    (2, True)
    """
    if name not in SCENARIOS:
        raise ValueError(f"Unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}.")
    W, H = int(size[0]), int(size[1])
    rng = np.random.default_rng(seed)
    objs = still_life_objects((W, H))
    if name == "duplicates":
        pick = [o for o in objs if o.label in ("mug", "book", "apple", "poster")]
        truth = np.asarray([o.box for o in pick], float)
        b, s, owner = _jitter(rng, truth, 5, 0.06, rng.uniform(0.8, 0.97, len(truth)), (W, H))
        cls = np.zeros(len(b), int)
        return Scenario(name, SCENARIOS[name], b, s, cls, ("object",), truth, np.zeros(len(truth), int),
                        (W, H), "Each object has one good box and jittered duplicates.")
    if name == "overlapping-people":
        truth = np.asarray([(x0 * W, y0 * H, x1 * W, y1 * H) for x0, y0, x1, y1 in _PEOPLE], float)
        b, s, owner = _jitter(rng, truth, 3, 0.025, np.array([0.93, 0.86]), (W, H))
        iou = iou_matrix(truth[:1], truth[1:])[0, 0]
        return Scenario(name, SCENARIOS[name], b, s, np.zeros(len(b), int), ("person",), truth,
                        np.zeros(2, int), (W, H),
                        f"The two people overlap with IoU {iou:.2f}: at an NMS threshold below that, "
                        "the second person is suppressed.")
    if name == "crowd":
        # Small objects (coins / beads) on the desk in a tight grid.
        gx, gy = np.meshgrid(np.linspace(0.06, 0.52, 7), np.linspace(0.84, 0.95, 2))
        cw, ch = 0.055 * W, 0.05 * H
        cx, cy = gx.ravel() * W, gy.ravel() * H
        truth = np.c_[cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2]
        b, s, owner = _jitter(rng, truth, 3, 0.12, rng.uniform(0.6, 0.95, len(truth)), (W, H))
        return Scenario(name, SCENARIOS[name], b, s, np.zeros(len(b), int), ("coin",), truth,
                        np.zeros(len(truth), int), (W, H),
                        "Small neighbours: a jittered box of one can overlap the next one.")
    # multi-class: the mug also detected as "cup", the book as "laptop", phone as "remote"
    names = ("mug", "book", "phone", "apple")
    pick = {o.label: o.box for o in objs}
    truth = np.asarray([pick[n] for n in names], float)
    b, s, owner = _jitter(rng, truth, 3, 0.04, rng.uniform(0.8, 0.95, len(truth)), (W, H))
    cls = owner.copy()
    # confusions: the same object, a different class, slightly lower score
    b2, s2, o2 = _jitter(rng, truth[[0, 1, 2]], 2, 0.04, np.array([0.7, 0.6, 0.65]), (W, H))
    b = np.vstack([b, b2])
    s = np.concatenate([s, s2])
    cls = np.concatenate([cls, np.array([4, 5, 6])[o2]])
    return Scenario(name, SCENARIOS[name], b, s, cls,
                    ("mug", "book", "phone", "apple", "cup", "laptop", "remote"), truth,
                    np.arange(len(truth)), (W, H),
                    "Class-aware NMS keeps a 'cup' box on top of the 'mug': different classes never suppress.")


def scenario_image(sc: Scenario) -> np.ndarray:
    """The picture under a scenario: the still life, with two painted figures for the people."""
    import cv2  # lazy: only the picture needs OpenCV; importing boxes stays light

    img = still_life(sc.size)  # a fresh copy
    if sc.name == "overlapping-people":
        for (x0, y0, x1, y1), col in zip(sc.truth, ((70, 90, 150), (150, 70, 60))):
            cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
            r = int(0.12 * h)
            cv2.circle(img, (int(cx), int(y0 + r + 4)), r, (225, 190, 160), -1, cv2.LINE_AA)
            body = np.array([[cx - w * 0.45, y1], [cx - w * 0.38, y0 + 2.3 * r], [cx + w * 0.38, y0 + 2.3 * r],
                             [cx + w * 0.45, y1]], np.int32)
            cv2.fillPoly(img, [body], col, cv2.LINE_AA)
    return img
