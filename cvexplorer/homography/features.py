"""Features and matches: SIFT / ORB / AKAZE keypoints and Lowe's ratio test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DETECTORS", "Features", "MatchResult", "available_detectors", "detect", "match", "detect_and_match"]

DETECTORS = ("sift", "orb", "akaze")


def available_detectors() -> tuple[str, ...]:
    """The detectors this OpenCV build provides (AKAZE is missing from some OpenCV 5 builds)."""
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    return tuple(d for d in DETECTORS if d != "akaze" or hasattr(cv2, "AKAZE_create"))


@dataclass(frozen=True)
class Features:
    """Keypoints (N, 2) x, y plus their descriptors, from one image."""

    points: np.ndarray
    descriptors: np.ndarray | None
    detector: str
    sizes: np.ndarray | None = None


@dataclass(frozen=True)
class MatchResult:
    """Keypoints of both images and the matches that passed the ratio test.

    ``matches`` is (M, 2): index into ``kp1``, index into ``kp2``; ``src``/``dst`` are the matched
    coordinates, ``distances`` the descriptor distances.
    """

    kp1: np.ndarray
    kp2: np.ndarray
    matches: np.ndarray
    distances: np.ndarray
    detector: str
    ratio: float

    @property
    def src(self) -> np.ndarray:
        return self.kp1[self.matches[:, 0]] if len(self.matches) else np.zeros((0, 2))

    @property
    def dst(self) -> np.ndarray:
        return self.kp2[self.matches[:, 1]] if len(self.matches) else np.zeros((0, 2))

    def __iter__(self):  # kp1, kp2, matches = detect_and_match(...)
        return iter((self.kp1, self.kp2, self.matches))


def _gray(img: np.ndarray) -> np.ndarray:
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    a = np.asarray(img)
    if a.ndim == 2:
        g = a
    elif a.shape[2] == 4:
        g = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGBA2GRAY)
    else:
        g = cv2.cvtColor(np.ascontiguousarray(a[..., :3]), cv2.COLOR_RGB2GRAY)
    if g.dtype != np.uint8:
        g = np.clip(g, 0, 255).astype(np.uint8)
    return g


def detect(img: np.ndarray, detector: str = "sift", *, max_features: int = 0) -> Features:
    """Keypoints and descriptors of one image (RGB or grey uint8)."""
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    det = detector.lower()
    if det == "sift":
        d = cv2.SIFT_create(nfeatures=max_features)
    elif det == "orb":
        d = cv2.ORB_create(nfeatures=max_features or 3000)
    elif det == "akaze":
        make = getattr(cv2, "AKAZE_create", None)
        if make is None:
            raise ValueError("AKAZE is not available in this OpenCV build (OpenCV 5 moved it out of the main "
                             "module); choose SIFT or ORB")
        d = make()
    else:
        raise ValueError(f"unknown detector {detector!r}; choose one of {', '.join(DETECTORS)}")
    kps, desc = d.detectAndCompute(_gray(img), None)
    pts = np.array([k.pt for k in kps], dtype=np.float64).reshape(-1, 2)
    sizes = np.array([k.size for k in kps], dtype=np.float64)
    return Features(pts, desc, det, sizes)


def match(f1: Features, f2: Features, ratio: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Lowe's ratio test on the two nearest neighbours: (M, 2) index pairs and their distances."""
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    empty = (np.zeros((0, 2), np.int64), np.zeros(0))
    if f1.descriptors is None or f2.descriptors is None or len(f1.points) < 2 or len(f2.points) < 2:
        return empty
    binary = f1.descriptors.dtype == np.uint8 and f1.detector in ("orb", "akaze")
    if binary:
        bf = cv2.BFMatcher(cv2.NORM_HAMMING)
        knn = bf.knnMatch(f1.descriptors, f2.descriptors, k=2)
        pairs, dists = [], []
        for m in knn:
            if len(m) == 2 and m[0].distance < ratio * m[1].distance:
                pairs.append((m[0].queryIdx, m[0].trainIdx))
                dists.append(m[0].distance)
        if not pairs:
            return empty
        pairs = np.array(pairs, np.int64)
        dists = np.array(dists, float)
    else:
        # exact L2 nearest two neighbours with one matrix product (what a brute-force matcher does)
        a = f1.descriptors.astype(np.float32)
        b = f2.descriptors.astype(np.float32)
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
        np.maximum(d2, 0, out=d2)
        two = np.argpartition(d2, 1, axis=1)[:, :2]
        rows = np.arange(len(a))[:, None]
        dd = d2[rows, two]
        o = np.argsort(dd, axis=1)
        two = np.take_along_axis(two, o, 1)
        dd = np.sqrt(np.take_along_axis(dd, o, 1))
        ok = dd[:, 0] < ratio * dd[:, 1]
        if not ok.any():
            return empty
        pairs = np.stack([np.flatnonzero(ok), two[ok, 0]], axis=1).astype(np.int64)
        dists = dd[ok, 0].astype(float)
    # one match per keypoint of image 2 (keep the closest)
    order = np.argsort(dists, kind="stable")
    _, first = np.unique(pairs[order, 1], return_index=True)
    keep = np.sort(order[first])
    pairs, dists = pairs[keep], dists[keep]
    # SIFT repeats a keypoint with a second orientation: one correspondence, not two votes
    coords = np.round(np.concatenate([f1.points[pairs[:, 0]], f2.points[pairs[:, 1]]], axis=1) * 2)
    order = np.argsort(dists, kind="stable")
    _, first = np.unique(coords[order], axis=0, return_index=True)
    keep = np.sort(order[first])
    return pairs[keep], dists[keep]


def detect_and_match(img1: np.ndarray, img2: np.ndarray, *, detector: str = "sift",
                     ratio: float = 0.75) -> MatchResult:
    """Detect keypoints in both images and match them with the ratio test → :class:`MatchResult`.

    Unpacks as ``kp1, kp2, matches``; ``result.src`` / ``result.dst`` are the matched coordinates.
    """
    f1 = detect(img1, detector)
    f2 = detect(img2, detector)
    m, d = match(f1, f2, ratio)
    return MatchResult(f1.points, f2.points, m, d, f1.detector, ratio)
