"""Features and the match graph: OpenCV's "best of two nearest" matcher, written with vectorised NumPy.

For every pair (i, j) the nearest and second-nearest descriptor in j of each keypoint of i are
found (``cv2.batchDistance``, brute force; OpenCV also searches j → i, which doubles the work and
changed nothing on our sets, so it is an option, :data:`BOTH_WAYS`), a match is kept when its nearest neighbour is
clearly better than the second (distance < 0.7 × the second's: Lowe's ratio test), and a homography
is fitted by RANSAC to the matches in image-centred coordinates (as ``cv2.detail`` expects). The
pair's confidence is OpenCV's ``inliers / (8 + 0.3 · matches)``, set to 0 above 3 (images so alike
that they add nothing). The result is a list of ``cv2.detail.MatchesInfo`` (n × n, both directions)
that OpenCV's estimators and bundle adjusters take as they are.

Matching every pair costs n(n−1)/2 RANSAC runs; a shooting sequence only needs neighbours, so large
sets are matched within ``match_range`` places of each other (and the first with the last, which
closes a 360° loop).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .model import PanoramaError

__all__ = ["FEATURES", "PairData", "detect_features", "candidate_pairs", "match_pairs", "matches_info",
           "affine_fits"]

FEATURES = ("orb", "sift", "akaze")
BOTH_WAYS = False  # one direction: half the distance work, and every set here keeps all its images
RATIO = 0.7  # OpenCV's match_conf 0.3: the nearest must be closer than 0.7 × the second nearest


@dataclass(frozen=True)
class PairData:
    """The matches of one pair: keypoint indices ``idx`` (k, 2) into images i and j, the inlier mask,
    the homography in centred coordinates (None when none was found) and the confidence."""

    i: int
    j: int
    idx: np.ndarray
    inliers: np.ndarray
    H: np.ndarray | None
    confidence: float

    @property
    def n_inliers(self) -> int:
        return int(self.inliers.sum())


def _cv2():
    import cv2  # lazy: `import cvexplorer` stays free of OpenCV

    return cv2


def _pool(n: int) -> ThreadPoolExecutor:
    # OpenCV releases the GIL: images and pairs run side by side on spare cores
    return ThreadPoolExecutor(max_workers=max(1, min(n, os.cpu_count() or 1)))


def detect_features(images: Sequence[np.ndarray], feature: str = "orb", n_features: int = 1000):
    """``cv2.detail.ImageFeatures`` of each image (detected in parallel), plus plain arrays of the
    keypoints (k, 2) and descriptors for the matcher."""
    cv2 = _cv2()
    if feature not in FEATURES:
        raise ValueError(f"feature must be one of {', '.join(FEATURES)}, not {feature!r}.")

    def one(im):
        finder = (cv2.ORB.create(n_features) if feature == "orb" else cv2.SIFT_create(n_features) if feature == "sift"
                  else cv2.AKAZE_create())
        f = cv2.detail.computeImageFeatures2(finder, np.ascontiguousarray(im))
        d = f.descriptors.get() if isinstance(f.descriptors, cv2.UMat) else np.asarray(f.descriptors)
        pts = np.array([k.pt for k in f.keypoints], np.float32).reshape(-1, 2)
        return f, pts, d

    with _pool(len(images)) as pool:
        out = list(pool.map(one, images))
    for k, (f, _, _) in enumerate(out):
        f.img_idx = k
    return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]


def candidate_pairs(n: int, match_range: int | None) -> list[tuple[int, int]]:
    """The pairs worth matching: all of them for small sets, else each image with its next
    ``match_range`` neighbours in shooting order, and the last with the first (a closed loop).

    >>> candidate_pairs(5, 0)[:3], len(candidate_pairs(5, 0))
    ([(0, 1), (0, 2), (0, 3)], 10)
    >>> candidate_pairs(6, 1)
    [(0, 1), (0, 5), (1, 2), (2, 3), (3, 4), (4, 5)]
    """
    if not match_range or match_range >= n - 1:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    return [(i, j) for i in range(n) for j in range(i + 1, n) if j - i <= match_range or (i == 0 and j == n - 1)]


def _match_one(i, j, pts, desc, sizes, norm, affine) -> PairData:
    cv2 = _cv2()
    empty = PairData(i, j, np.zeros((0, 2), np.int64), np.zeros(0, bool), None, 0.0)
    d1, d2 = desc[i], desc[j]
    if d1 is None or d2 is None or len(d1) < 2 or len(d2) < 2:
        return empty
    if d1.dtype != np.uint8:
        d1, d2 = d1.astype(np.float32), d2.astype(np.float32)
    a, ia = cv2.batchDistance(d1, d2, -1, normType=norm, K=2)
    ok1 = a[:, 0] < RATIO * a[:, 1]
    idx = np.c_[np.flatnonzero(ok1), ia[ok1, 0]].astype(np.int64)
    if BOTH_WAYS:
        b, ib = cv2.batchDistance(d2, d1, -1, normType=norm, K=2)
        ok2 = b[:, 0] < RATIO * b[:, 1]
        idx = np.unique(np.r_[idx, np.c_[ib[ok2, 0], np.flatnonzero(ok2)]], axis=0).astype(np.int64)
    if len(idx) < 6:
        return PairData(i, j, idx, np.zeros(len(idx), bool), None, 0.0)
    src, dst = pts[i][idx[:, 0]], pts[j][idx[:, 1]]
    if affine:  # flat scans: a similarity in plain pixel coordinates (OpenCV's affine matcher)
        A, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
        H = None if A is None else np.vstack([A, [0, 0, 1]])
    else:  # centred coordinates, as OpenCV's focal-from-homography formulas expect
        c1 = np.float32(sizes[i]) / 2
        c2 = np.float32(sizes[j]) / 2
        H, mask = cv2.findHomography(src - c1, dst - c2, cv2.RANSAC, 3.0, maxIters=500, confidence=0.995)
    if H is None or abs(np.linalg.det(H)) < 1e-9:
        return PairData(i, j, idx, np.zeros(len(idx), bool), None, 0.0)
    inl = np.asarray(mask, bool).ravel()
    conf = inl.sum() / (8 + 0.3 * len(idx))
    return PairData(i, j, idx, inl, np.asarray(H, np.float64), 0.0 if conf > 3.0 else float(conf))


def match_pairs(pts, desc, sizes, pairs: Sequence[tuple[int, int]], *, affine: bool = False,
                cancel: Callable[[], bool] | None = None) -> dict[tuple[int, int], PairData]:
    """Match the given pairs (in parallel): ``{(i, j): PairData}``."""
    cv2 = _cv2()
    norm = cv2.NORM_HAMMING if desc and desc[0] is not None and desc[0].dtype == np.uint8 else cv2.NORM_L2

    def one(p):
        if cancel is not None and cancel():
            return None
        return _match_one(p[0], p[1], pts, desc, sizes, norm, affine)

    with _pool(len(pairs)) as pool:
        out = list(pool.map(one, pairs))
    if any(o is None for o in out):
        raise PanoramaError("The panorama was cancelled.")
    return {p: o for p, o in zip(pairs, out)}


def matches_info(n: int, data: dict[tuple[int, int], PairData], index: Sequence[int] | None = None) -> list:
    """OpenCV's n × n list of ``cv2.detail.MatchesInfo`` (both directions) for the images ``index``
    (default: all ``n``), renumbered 0..len(index)−1."""
    cv2 = _cv2()
    index = list(range(n)) if index is None else list(index)
    pos = {g: k for k, g in enumerate(index)}
    m = len(index)
    out = [cv2.detail.MatchesInfo() for _ in range(m * m)]
    for k in range(m):
        out[k * m + k].src_img_idx = out[k * m + k].dst_img_idx = k
    for (i, j), p in data.items():
        if i not in pos or j not in pos or p.H is None:
            continue
        a, b = pos[i], pos[j]
        fwd, bwd = out[a * m + b], out[b * m + a]
        fwd.src_img_idx, fwd.dst_img_idx, bwd.src_img_idx, bwd.dst_img_idx = a, b, b, a
        fwd.matches = [cv2.DMatch(int(q), int(t), 0.0) for q, t in p.idx]
        bwd.matches = [cv2.DMatch(int(t), int(q), 0.0) for q, t in p.idx]
        mask = p.inliers.astype(np.uint8)
        fwd.inliers_mask = bwd.inliers_mask = mask
        fwd.num_inliers = bwd.num_inliers = p.n_inliers
        fwd.H, bwd.H = p.H, np.linalg.inv(p.H)
        fwd.confidence = bwd.confidence = p.confidence
    return out


def affine_fits(pts, data: dict[tuple[int, int], PairData]) -> bool:
    """True when an affine map explains every trusted pair's matches nearly as well as a homography
    (95 % of the inliers): flat scans of a document or a map, OpenCV's SCANS mode."""
    cv2 = _cv2()
    strong = 0
    for (i, j), p in data.items():
        if p.confidence < 1.0 or len(p.idx) < 12:
            continue
        a, b = pts[i][p.idx[:, 0]], pts[j][p.idx[:, 1]]
        _, ain = cv2.estimateAffine2D(a, b, method=cv2.RANSAC, ransacReprojThreshold=3.0)
        if ain is None or ain.sum() < 0.95 * p.n_inliers:
            return False
        strong += 1
    return strong > 0
