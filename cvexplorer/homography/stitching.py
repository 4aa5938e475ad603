"""Panoramas: N overlapping images chained to a central reference, warped and blended."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .. import panorama as camera  # the turning-camera pipeline (imported as a module: it imports our blending)
from ..timing import Stages
from .blending import BlendResult
from .consensus import ransac
from .features import MatchResult, detect, match
from .pair import MIN_INLIER_RATIO, Cancelled, HomographyResult, Progress, check_homography, checkpoint
from .warping import warp_and_blend

__all__ = ["StitchResult", "stitch"]


@dataclass(frozen=True)
class StitchResult:
    """A panorama with its evidence.

    ``homographies[i]`` maps image i into the reference image's frame (None for images left out);
    ``used`` lists the images in the panorama (empty when no panorama could be drawn: then
    ``connected`` still lists the images the matches chained together); ``reference`` is the central image; ``pairs`` maps
    (i, j) to the pair's :class:`HomographyResult`; ``timings`` has features, matching, ransac,
    warp and blend in ms; ``warnings`` explains what was left out and why.
    """

    panorama: np.ndarray | None
    homographies: list
    used: list
    reference: int
    pairs: dict
    timings: dict
    warnings: list
    blend: BlendResult | None = None
    scale: float = 1.0
    connected: tuple = ()
    surface: str = "plane"
    camera: object | None = None  # the cvexplorer.panorama.Panorama when a turning camera was stitched
    centres: tuple = ()            # each used image's centre in the picture (turning-camera results)


def _resize(im, s):
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    if s >= 1.0:
        return np.ascontiguousarray(im)
    h, w = im.shape[:2]
    return cv2.resize(np.ascontiguousarray(im), (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_AREA)


def stitch(images: Sequence[np.ndarray], *, detector: str = "sift", ratio: float = 0.75, threshold: float = 3.0,
           confidence: float = 0.995, max_iters: int = 1000, seed: int | None = 0, blend: str = "multiband",
           work_pixels: int | None = 100_000, max_features: int = 1000, output_pixels: int | None = None,
           min_inliers: int = 20, surface: str | None = None, fallback: bool = True,
           progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> StitchResult:
    """Stitch N overlapping images into one panorama (planar homographies, chained to a centre).

    1. features on working copies of at most ``work_pixels`` pixels; 2. match every pair;
    3. RANSAC per pair, keeping only reliable pairs with ``min_inliers``; 4. a maximum spanning
    tree of the match graph (weight = inliers), rooted at its most central image, chains each
    image's homography to the reference; 5. warp and blend at the output resolution
    (``output_pixels`` per image, default: the originals). Images that connect to nothing are left
    out and named in ``warnings``. ``used`` is empty when the chained images cannot be drawn
    together (a homography sends a corner behind the camera, or the canvas would be huge).

    A wide sweep cannot be one flat picture. With ``surface`` (auto, plane, cylindrical, spherical)
    the images are stitched as a turning camera instead (:func:`cvexplorer.panorama.stitch_panorama`:
    focal length, rotations, bundle adjustment, a curved surface); with ``fallback`` (default) that
    happens also when the planar chain cannot be drawn, and ``warnings`` says why.

    ``progress(stage, fraction)`` is called as each stage starts; ``should_stop()`` is asked between
    stages, and :class:`~cvexplorer.homography.Cancelled` is raised when it returns True.

    >>> from cvexplorer.homography import sample_panorama
    >>> views, _ = sample_panorama(n=3)
    >>> r = stitch(views, blend="feather")
    >>> r.used, r.reference, r.panorama is not None
    ([0, 1, 2], 1, True)
    """
    imgs = [np.asarray(im) for im in images]
    if len(imgs) == 0:
        raise ValueError("give at least one image to stitch")
    for i, im in enumerate(imgs):
        if im.ndim not in (2, 3) or im.dtype != np.uint8:
            raise ValueError(f"image {i} must be an RGB or grey uint8 array, got {im.dtype} {im.shape}")
    if surface is not None:
        return _turning_camera(imgs, surface, [], progress, should_stop)
    st = Stages()
    n = len(imgs)
    npx = max(im.shape[0] * im.shape[1] for im in imgs)
    s = 1.0 if not work_pixels else min(1.0, math.sqrt(work_pixels / npx))
    so = 1.0 if not output_pixels else min(1.0, math.sqrt(output_pixels / npx))
    # OpenCV and NumPy release the GIL, so images (and pairs) run side by side on spare cores
    with ThreadPoolExecutor(max_workers=max(1, min(n, os.cpu_count() or 1))) as pool:
        with st("features"):
            checkpoint("features", 0.0, progress, should_stop)
            feats = list(pool.map(lambda im: detect(_resize(im, s), detector, max_features=max_features), imgs))
        pairs: dict = {}
        with st("matching"):
            checkpoint("matching", 0.3, progress, should_stop)
            keys = [(i, j) for i in range(n) for j in range(i + 1, n)]
            matched = dict(zip(keys, pool.map(lambda k: match(feats[k[0]], feats[k[1]], ratio), keys)))
    warnings: list[str] = []
    checkpoint("RANSAC", 0.5, progress, should_stop)
    with st("ransac"):
        for (i, j), (m, d) in matched.items():
            mr = MatchResult(feats[i].points / s, feats[j].points / s, m, d, detector, ratio)
            k = len(m)
            if k < max(min_inliers, 4):
                pairs[(i, j)] = HomographyResult(None, np.zeros(k, bool), 0.0, k, 0, False,
                                                 f"too few matches ({k})", matches=mr)
                continue
            H, mask = ransac(mr.src * s, mr.dst * s, threshold=threshold, confidence=confidence,
                             max_iters=max_iters, seed=seed)
            if H is not None:
                S = np.diag([s, s, 1.0])
                H = np.linalg.inv(S) @ H @ S
                H /= H[2, 2]
            c = int(mask.sum())
            reason = ""
            if H is None:
                reason = "no model"
            elif c < min_inliers:
                reason = f"too few inliers ({c} of {k})"
            elif c / k < MIN_INLIER_RATIO:
                reason = f"low inlier ratio ({c}/{k})"
            else:
                reason = check_homography(H, imgs[i].shape)
            pairs[(i, j)] = HomographyResult(H, mask, c / k, k, c, not reason, reason, matches=mr)
    # maximum spanning tree over reliable pairs (Kruskal)
    edges = sorted(((r.n_inliers, i, j) for (i, j), r in pairs.items() if r.reliable), reverse=True)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adj: dict[int, list[tuple[int, np.ndarray]]] = {i: [] for i in range(n)}
    for _, i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
            H = pairs[(i, j)].H
            adj[i].append((j, H))                  # i -> j
            adj[j].append((i, np.linalg.inv(H)))   # j -> i
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(find(i), []).append(i)
    comp = max(comps.values(), key=lambda c: (len(c), -min(c)))

    def bfs(root):
        dist = {root: 0}
        order = [root]
        for u in order:
            for v, _ in adj[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    order.append(v)
        return dist

    # the centre: smallest eccentricity, ties to the middle of the input order
    ref = min(comp, key=lambda r: (max(bfs(r).values()), abs(r - (n - 1) / 2), r))
    Hs: list = [None] * n
    Hs[ref] = np.eye(3)
    order = [ref]
    for u in order:
        for v, Huv in adj[u]:
            if Hs[v] is None:
                # Huv maps u -> v; we need v -> ref = (u -> ref) @ (v -> u)
                Hs[v] = Hs[u] @ np.linalg.inv(Huv)
                Hs[v] /= Hs[v][2, 2]
                order.append(v)
    used = sorted(i for i in range(n) if Hs[i] is not None)
    for i in range(n):
        if Hs[i] is None:
            best = max(((r, k) for k, r in pairs.items() if i in k), key=lambda t: t[0].n_inliers, default=None)
            why = best[0].reason if best else "nothing to match against"
            warnings.append(f"image {i + 1} left out: it does not overlap reliably with the others ({why})")
    if len(comp) >= 2:
        for (i, j), r in pairs.items():
            if r.reliable and r.inlier_ratio < 0.5:
                warnings.append(f"images {i + 1}–{j + 1}: only {r.inlier_ratio:.0%} of matches are inliers "
                                f"(parallax or repeated texture?)")
    checkpoint("warp and blend", 0.7, progress, should_stop)
    out_imgs = [_resize(imgs[i], so) for i in used]
    S = np.diag([so, so, 1.0])
    out_H = [S @ Hs[i] @ np.linalg.inv(S) for i in used]
    try:
        br = warp_and_blend(out_imgs, out_H, blend=blend)
    except ValueError as exc:
        warnings.append(str(exc))
        br = None
    if br is None and fallback and len(used) >= 2:
        why = warnings[-1]
        return _turning_camera(imgs, "auto", [f"The planar chain cannot be drawn ({why}); "
                                               "stitched as a turning camera instead."], progress, should_stop)
    timings = dict(st.ms)
    if br is not None:
        timings["warp"] = br.timings.get("warp", 0.0)
        timings["blend"] = br.timings.get("blend", 0.0)
    # an image is "used" only when it is in the picture: a failed warp leaves none in it
    return StitchResult(br.image if br is not None else None, Hs, used if br is not None else [], ref, pairs,
                        timings, warnings, br, so, tuple(used))


def _rgb(im: np.ndarray) -> np.ndarray:
    return np.repeat(im[..., None], 3, axis=2) if im.ndim == 2 else im[..., :3]


def _turning_camera(imgs, surface: str, warnings: list, progress, should_stop) -> StitchResult:
    """The images as one camera turning about its centre, in :class:`StitchResult`'s terms."""
    import cv2  # lazy: OpenCV is imported on first use, not at start-up

    try:
        p = camera.stitch_panorama([_rgb(im) for im in imgs], surface=surface, progress=progress, cancel=should_stop)
    except camera.PanoramaError as exc:
        if should_stop is not None and should_stop():
            raise Cancelled("stopped while stitching a turning camera") from exc
        n = len(imgs)
        return StitchResult(None, [None] * n, [], 0, {}, {}, warnings + [str(exc)], None, 1.0, (), surface)
    n = len(imgs)
    used = list(p.used)
    ref = used[len(used) // 2]
    k_ref = p.cameras[len(used) // 2]
    Hs: list = [None] * n
    s = p.work_scale
    S, Sinv = np.diag([s, s, 1.0]), np.diag([1 / s, 1 / s, 1.0])
    for k, i in enumerate(used):  # the rotation's homography into the reference image (original pixels)
        c = p.cameras[k]
        H = Sinv @ k_ref.K() @ k_ref.R.T @ c.R @ np.linalg.inv(c.K()) @ S
        Hs[i] = H / H[2, 2]
    mask = p.mask > 0
    h, w = mask.shape
    labels = cv2.resize(p.labels, (w, h), interpolation=cv2.INTER_NEAREST)
    labels = np.where(mask & (labels >= 0), np.asarray(used, np.int16)[np.clip(labels, 0, None)], -1).astype(np.int16)
    seams = np.zeros_like(mask)
    seams[:, 1:] |= (labels[:, 1:] != labels[:, :-1]) & (labels[:, 1:] >= 0) & (labels[:, :-1] >= 0)
    seams[1:, :] |= (labels[1:, :] != labels[:-1, :]) & (labels[1:, :] >= 0) & (labels[:-1, :] >= 0)
    x0 = min(c[0] for c in p.corners)
    y0 = min(c[1] for c in p.corners)
    centres = tuple((c[0] - x0 + sz[0] / 2, c[1] - y0 + sz[1] / 2) for c, sz in zip(p.corners, p.sizes))
    br = BlendResult(p.image, mask.astype(np.uint8), labels, (0, 0), seams, {"blend": p.timings.get("blending", 0.0)})
    warnings = warnings + [f"image {i + 1} left out: {why}" for i, why in p.graph.dropped]
    return StitchResult(p.image, Hs, used, ref, {}, dict(p.timings), warnings, br, 1.0, tuple(used), p.surface, p,
                        centres)
