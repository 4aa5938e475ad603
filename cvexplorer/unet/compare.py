"""The tiny U-Net against its no-skip twin on one image: masks, scores, where they disagree, feature mosaics.

Everything the U-Net panel shows beside the diagram is computed here (the panel only draws it).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import numpy as np

from .. import overlay
from .metrics import boundary, boundary_f_score, iou
from .model import UNetResult, metrics_path, run_unet

__all__ = ["MaskScores", "SkipComparison", "compare_skips", "disagreement_window", "best_cols", "Mosaic",
           "feature_mosaic", "FeatureMosaic", "block_mosaic", "mask_picture", "difference_picture",
           "training_note"]


@dataclass(frozen=True)
class MaskScores:
    """A mask against the ground truth: boundary F exactly on the line (``boundary_f_exact``), within
    1 px (``boundary_f``), and IoU."""

    boundary_f: float
    boundary_f_exact: float
    iou: float


@dataclass(frozen=True)
class SkipComparison:
    """Both shipped models on one image.

    ``skip`` / ``noskip`` are the runs; ``skip_scores`` / ``noskip_scores`` their scores (None without a
    ground truth); ``won`` = pixels the skips got right and the twin wrong, ``lost`` the converse (0 without
    a ground truth), ``differ`` = pixels where the two masks differ; ``zoom`` = the window (x0, y0, x1, y1)
    where they differ most (None when they agree everywhere); ``zoom_share`` = the share of the differing
    pixels inside it; ``ms`` = wall time of both runs.
    """

    rgb: np.ndarray
    gt: np.ndarray | None
    skip: UNetResult
    noskip: UNetResult
    skip_scores: MaskScores | None
    noskip_scores: MaskScores | None
    won: int
    lost: int
    differ: int
    zoom: tuple[int, int, int, int] | None
    zoom_share: float
    ms: float

    def run(self, skips: bool) -> UNetResult:
        return self.skip if skips else self.noskip

    def scores(self, skips: bool) -> MaskScores | None:
        return self.skip_scores if skips else self.noskip_scores


def _scores(mask: np.ndarray, gt: np.ndarray) -> MaskScores:
    return MaskScores(boundary_f_score(mask, gt), boundary_f_score(mask, gt, tolerance=0), iou(mask, gt))


def disagreement_window(differ: np.ndarray, *, window: int | None = None) -> tuple[tuple[int, int, int, int] | None,
                                                                                   float]:
    """The square window (x0, y0, x1, y1) that holds the most ``True`` pixels of ``differ``, and its share of them.

    The window side defaults to a quarter of the short side (at least 48 px). Counts come from a box
    filter (the sum over every window position); ties go to the position nearest the centre of mass of
    the differing pixels, so a map that differs everywhere zooms on its middle, not its corner.

    >>> d = np.zeros((200, 300), bool); d[150:170, 20:40] = True
    >>> disagreement_window(d, window=50)
    ((4, 134, 54, 184), 1.0)
    >>> disagreement_window(np.zeros((10, 10), bool))
    (None, 0.0)
    """
    import cv2  # lazy: importing cvexplorer stays fast

    d = np.asarray(differ, bool)
    total = int(d.sum())
    if total == 0:
        return None, 0.0
    h, w = d.shape
    win = int(window) if window else max(48, min(h, w) // 4)
    win = int(min(h, w, win))
    dens = cv2.boxFilter(d.astype(np.float32), -1, (win, win), normalize=False, borderType=cv2.BORDER_CONSTANT)
    top = dens.max()
    ys, xs = np.nonzero(dens >= top - 0.5)
    my, mx = np.nonzero(d)
    cy0, cx0 = my.mean(), mx.mean()
    k = int(np.argmin((ys - cy0) ** 2 + (xs - cx0) ** 2))
    cy, cx = int(ys[k]), int(xs[k])
    x0 = int(np.clip(cx - win // 2, 0, w - win))
    y0 = int(np.clip(cy - win // 2, 0, h - win))
    inside = int(d[y0:y0 + win, x0:x0 + win].sum())
    return (x0, y0, x0 + win, y0 + win), inside / total


def compare_skips(rgb: np.ndarray, gt: np.ndarray | None = None, *, device: str | None = None) -> SkipComparison:
    """Run the tiny U-Net and its no-skip twin on ``rgb`` and compare them (with ``gt``, against the truth).

    The same input, the same weights' recipe, only the skip connections differ (Ronneberger et al. 2015):
    where the twin blurs a boundary the skips keep it, which ``won`` / ``lost`` count.
    """
    t0 = time.perf_counter()
    a = run_unet(rgb, skips=True, device=device)
    b = run_unet(rgb, skips=False, device=device)
    ms, mn = a.mask > 0, b.mask > 0
    if gt is not None:
        g = np.asarray(gt) > 0
        sa, sb = _scores(a.mask, gt), _scores(b.mask, gt)
        won, lost = int(((ms == g) & (mn != g)).sum()), int(((ms != g) & (mn == g)).sum())
    else:
        sa = sb = None
        won = lost = 0
    d = ms != mn
    zoom, share = disagreement_window(d)
    return SkipComparison(np.asarray(rgb), gt, a, b, sa, sb, won, lost, int(d.sum()), zoom, share,
                          (time.perf_counter() - t0) * 1000)


# -- feature maps as one picture ----------------------------------------------------------------------
def best_cols(c: int, h: int, w: int, area_w: float, area_h: float) -> int:
    """Columns that make ``c`` tiles of ``h``x``w`` largest inside an ``area_w``x``area_h`` box.

    >>> best_cols(8, 10, 10, 400, 100), best_cols(8, 10, 10, 100, 400)
    (4, 1)
    """
    best, best_s = 1, -1.0
    for cols in range(1, c + 1):
        rows = math.ceil(c / cols)
        s = min(area_w / (cols * w), area_h / (rows * h))
        if s > best_s + 1e-9:
            best, best_s = cols, s
    return best


@dataclass(frozen=True)
class Mosaic:
    """Tiles in one float32 image; ``rects`` = (x0, y0, x1, y1) of each tile, row-major."""

    image: np.ndarray
    rects: tuple[tuple[int, int, int, int], ...]
    cols: int


def feature_mosaic(maps: np.ndarray, *, cols: int | None = None, gap: int = 2) -> Mosaic:
    """Tile ``(C, h, w)`` maps into one image, ``cols`` per row (default: about square), ``gap`` px apart.

    Gaps take the smallest value (0 on a diverging scale), so they read as background.

    >>> m = feature_mosaic(np.ones((3, 2, 2), np.float32), cols=2, gap=1)
    >>> m.image.shape, m.rects
    ((5, 5), ((0, 0, 2, 2), (3, 0, 5, 2), (0, 3, 2, 5)))
    """
    c, h, w = maps.shape
    cols = cols or max(1, int(math.ceil(math.sqrt(c * h / max(w, 1)))))
    rows = int(math.ceil(c / cols))
    lo = float(maps.min()) if maps.size else 0.0
    hi = float(maps.max()) if maps.size else 0.0
    if lo < 0 < hi:
        lo = 0.0  # the neutral middle of a diverging scale
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap), lo, np.float32)
    rects = []
    for k in range(c):
        r, q = divmod(k, cols)
        y0, x0 = r * (h + gap), q * (w + gap)
        out[y0:y0 + h, x0:x0 + w] = maps[k]
        rects.append((x0, y0, x0 + w, y0 + h))
    return Mosaic(out, tuple(rects), cols)


@dataclass(frozen=True)
class FeatureMosaic:
    """The feature maps of one block as a picture on one colour scale.

    ``levels`` and ``colormap`` ("diverging" for signed maps, "viridis" otherwise) say how to colour
    ``image``; at a skip (``cat<i>``) the up-sampled and copied halves sit side by side, each divided by
    its own largest |value| (``scales``), and ``halves`` outlines them. ``dead`` = channels that are zero
    everywhere (ReLU).
    """

    name: str
    image: np.ndarray
    rects: tuple[tuple[int, int, int, int], ...]
    levels: tuple[float, float]
    colormap: str
    signed: bool
    channels: int
    height: int
    width: int
    dead: int
    halves: tuple[tuple[int, int, int, int], ...] | None = None
    scales: tuple[float, float] | None = None
    half_channels: tuple[int, int] | None = None


def block_mosaic(features: dict[str, np.ndarray], name: str, *, area: tuple[float, float]) -> FeatureMosaic:
    """The maps of block ``name`` (``enc<i>``, ``bottleneck``, ``up<i>``, ``dec<i>`` or the skip ``cat<i>``)
    tiled to fill an ``area`` = (width, height) box.

    >>> f = {"enc0": np.ones((4, 8, 8), np.float32), "up0": -np.ones((4, 8, 8), np.float32)}
    >>> m = block_mosaic(f, "cat0", area=(400, 100))
    >>> (m.channels, m.levels, m.scales, len(m.rects))
    (8, (-1.0, 1.0), (1.0, 1.0), 8)
    """
    aw, ah = max(float(area[0]), 200.0), max(float(area[1]), 120.0)
    if name.startswith("cat"):
        i = name[3:]
        up, enc = features[f"up{i}"], features[f"enc{i}"]
        c, h, w = up.shape[0] + enc.shape[0], up.shape[1], up.shape[2]
        gap = max(2, h // 24)
        scales = (float(np.abs(up).max()) or 1.0, float(np.abs(enc).max()) or 1.0)
        cols = best_cols(up.shape[0], h + gap, w + gap, aw / 2 * 0.95, ah)
        ma, mb = feature_mosaic(up / scales[0], cols=cols, gap=gap), feature_mosaic(enc / scales[1], cols=cols, gap=gap)
        hh, sep = max(ma.image.shape[0], mb.image.shape[0]), 4 * gap
        xb = ma.image.shape[1] + sep
        img = np.zeros((hh, xb + mb.image.shape[1]), np.float32)
        img[:ma.image.shape[0], :ma.image.shape[1]] = ma.image
        img[:mb.image.shape[0], xb:] = mb.image
        rects = ma.rects + tuple((x0 + xb, y0, x1 + xb, y1) for x0, y0, x1, y1 in mb.rects)
        halves = ((0, 0, ma.image.shape[1], ma.image.shape[0]), (xb, 0, img.shape[1], mb.image.shape[0]))
        dead = int((np.abs(np.concatenate([up, enc])).reshape(c, -1).max(axis=1) == 0).sum())
        return FeatureMosaic(name, img, rects, (-1.0, 1.0), "diverging", True, c, h, w, dead, halves, scales,
                             (up.shape[0], enc.shape[0]))
    if name not in features:
        raise ValueError(f"The model has no block {name!r}; its blocks are {', '.join(features)}.")
    maps = features[name]
    c, h, w = maps.shape
    lo, hi = float(maps.min()), float(maps.max())
    signed = lo < 0
    if signed:
        m = max(abs(lo), abs(hi)) or 1.0
        levels, cmap = (-m, m), "diverging"
    else:
        levels, cmap = (0.0, hi if hi > 0 else 1.0), "viridis"
    gap = max(2, h // 24)
    mos = feature_mosaic(maps, cols=best_cols(c, h + gap, w + gap, aw, ah), gap=gap)
    dead = int((np.abs(maps).reshape(c, -1).max(axis=1) == 0).sum())
    return FeatureMosaic(name, mos.image, mos.rects, levels, cmap, signed, c, h, w, dead)


# -- pictures of the masks ----------------------------------------------------------------------------
def _dimmed(rgb: np.ndarray) -> np.ndarray:
    """A grey, low-contrast copy of the photo, so coloured masks stand out on it."""
    g = (np.asarray(rgb, np.float32).mean(axis=2) * 0.55 + 60).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def mask_picture(rgb: np.ndarray, mask: np.ndarray, *, fill, edge) -> np.ndarray:
    """The photo dimmed to grey, the mask tinted in ``fill`` and its boundary drawn in ``edge`` (colours
    as "#rrggbb" or (r, g, b)).

    >>> img = np.zeros((6, 6, 3), np.uint8); m = np.zeros((6, 6), np.uint8); m[1:5, 1:5] = 1
    >>> p = mask_picture(img, m, fill=(255, 0, 0), edge=(0, 0, 255)); p[1, 1].tolist(), p[2, 2].tolist()
    ([0, 0, 255], [187, 21, 21])
    """
    m = np.asarray(mask) > 0
    out = overlay.tint(_dimmed(rgb), m, fill, 0.65)
    out[boundary(m)] = overlay.hex_to_rgb(edge)
    return out


def difference_picture(cmp: SkipComparison, *, won, lost, differ, truth) -> np.ndarray:
    """Where the two models disagree. With a ground truth: ``won`` where only the skips are right, ``lost``
    where only the twin is, the true boundary in ``truth``; without: every differing pixel in ``differ``."""
    img = _dimmed(cmp.rgb)
    ms, mn = cmp.skip.mask > 0, cmp.noskip.mask > 0
    if cmp.gt is not None:
        g = np.asarray(cmp.gt) > 0
        img[boundary(g)] = overlay.hex_to_rgb(truth)
        img[(ms == g) & (mn != g)] = overlay.hex_to_rgb(won)
        img[(ms != g) & (mn == g)] = overlay.hex_to_rgb(lost)
    else:
        img[ms != mn] = overlay.hex_to_rgb(differ)
    return img


def training_note() -> str:
    """One sentence: what the shipped models learnt from, and why a photo is outside it (from the metrics file)."""
    try:
        t = json.loads(metrics_path().read_text())["training"]
        what = f"{t['scenes']:,} generated {t['size']}×{t['size']} scenes"
    except (OSError, ValueError, KeyError):
        what = "small generated scenes"
    return (f"The tiny model learnt from {what} of flat-coloured shapes on plain backgrounds (models/train_unet.py). "
            "A photo, with texture, shading and clutter, is outside what it has seen: its mask there is a guess, "
            "not a segmentation. Compare the two models on the built-in scenes.")
