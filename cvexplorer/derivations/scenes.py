"""Derivations about what a model sees: anchors, IoU, NMS cost, stereo depth, RANSAC, homographies, latency."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import formulas as F
from .. import stereo
from ..text import fmt_count, fmt_duration, parse_floats
from .model import Derivation

__all__ = ["Budget", "FRAME_MS", "pipeline_budget", "depth_error_curve"]

_fmt = fmt_count


def _grid(text) -> list:
    out = []
    for chunk in [t for t in str(text).replace(";", ",").replace(" ", ",").split(",") if t]:
        try:
            if "x" in chunk.lower():
                h, w = chunk.lower().split("x")
                out.append((int(h), int(w)))
            else:
                out.append(int(chunk))
        except ValueError:
            raise ValueError(f"A grid size must be a number like 80 or a pair like 38x50, got {chunk!r}.") from None
    if not out:
        raise ValueError("Give at least one feature-map size, e.g. 80, 40, 20.")
    return out


def _anchors(grids="80, 40, 20, 10, 5", per_location=9):
    levels = _grid(grids)
    n = F.anchor_count(levels, per_location)
    pairs = [(g, g) if isinstance(g, int) else g for g in levels]
    formula = "N = A · Σ H_l·W_l"
    sub = f"N = {per_location}·(" + " + ".join(f"{h}·{w}" for h, w in pairs) + f") = {_fmt(n)}"
    shares = [h * w * per_location / n for h, w in pairs]
    names = [f"{h}×{w}" for h, w in pairs]
    meaning = f"the finest level ({names[int(np.argmax(shares))]}) holds {max(shares):.0%} of all anchors"
    return Derivation("anchors", formula, sub, f"{_fmt(n)} anchors", n, meaning,
                      {"levels": names, "shares": shares, "percent": [100.0 * x for x in shares],
                       "counts": [h * w * per_location for h, w in pairs]})


def _iou(box_a="0, 0, 10, 10", box_b="5, 5, 15, 15"):
    a = parse_floats(box_a, "Box A")
    b = parse_floats(box_b, "Box B")
    v = F.iou(a, b)
    if len(a) != 4 or len(b) != 4:
        raise ValueError("A box needs four numbers x1, y1, x2, y2.")
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    aa = (a[2] - a[0]) * (a[3] - a[1])
    ab = (b[2] - b[0]) * (b[3] - b[1])
    formula = "IoU = |A∩B| / (|A| + |B| − |A∩B|)"
    sub = f"IoU = {_fmt(inter)} / ({_fmt(aa)} + {_fmt(ab)} − {_fmt(inter)}) = {v:.4f}"
    verdict = "a match at the usual 0.5 threshold" if v >= 0.5 else "not a match at the usual 0.5 threshold"
    both = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return Derivation("iou", formula, sub, f"IoU = {v:.3f}", v, verdict,
                      {"box_a": a, "box_b": b, "intersection": both if inter > 0 else None})


def _nms(n=200, ns_per_iou=10.0):
    c = F.nms_max_comparisons(n)
    ns_per_iou = F._pos(ns_per_iou, "The time per IoU (ns)")
    formula = "C = N(N − 1)/2"
    sub = f"C = {n}·{n - 1}/2 = {_fmt(c)}"
    t = F._finite(c * ns_per_iou / 1e6, "The time N(N − 1)/2 × ns per IoU", "lower N or the time per IoU")
    return Derivation("nms-cost", formula, sub, f"{_fmt(c)} IoUs", c,
                      f"at {ns_per_iou:g} ns per IoU: {fmt_duration(t)}; a score threshold first keeps N small",
                      {"ms": t})


def _disparity(f_px=500.0, baseline=0.12, depth=5.0):
    d = F.disparity_from_depth(f_px, baseline, depth)
    return Derivation("disparity", "d = f·B / Z", f"d = {f_px:g}·{baseline:g} / {depth:g} = {d:.4g} px",
                      f"d = {d:.3g} px", d, "closer objects shift more between the two views")


def _depth(f_px=500.0, baseline=0.12, disparity=8.0):
    z = F.depth_from_disparity(f_px, baseline, disparity)
    return Derivation("depth", "Z = f·B / d", f"Z = {f_px:g}·{baseline:g} / {disparity:g} = {z:.4g}",
                      f"Z = {z:.3g} m", z, "depth is inversely proportional to disparity")


def depth_error_curve(f_px, baseline, depth, disparity_error, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Width of the depth interval, Z_far − Z_near, over depths up to about twice ``depth`` (for a plot).

    Both ends come from :func:`cvexplorer.stereo.depth_from_disparity`; where the error swallows
    the disparity the far end is at infinity and the width is NaN (the curve stops there).

    >>> z, width = depth_error_curve(500, 0.12, 10, 1.0, n=3)
    >>> print(z.round(2).tolist(), width.round(2).tolist())
    [1.0, 10.5, 20.0] [0.03, 3.79, 15.0]
    """
    fb = F.disparity_from_depth(f_px, baseline, 1.0)  # f·B: the disparity at one unit of depth
    e = float(disparity_error)
    far = depth * 2 if e <= 0 else min(depth * 2, 0.95 * fb / e)
    z = np.linspace(max(0.05, depth / 10), max(far, depth), n)
    disp = fb / z
    width = stereo.depth_from_disparity(disp - e, f_px, baseline) - stereo.depth_from_disparity(disp + e, f_px, baseline)
    return z, np.asarray(width, np.float64)


def _depth_error(f_px=500.0, baseline=0.12, depth=10.0, disparity_error=1.0):
    zn, zf = F.depth_uncertainty(f_px, baseline, depth, disparity_error)
    d = F.disparity_from_depth(f_px, baseline, depth)
    fb = f_px * baseline
    zf_s = "∞" if math.isinf(zf) else f"{zf:.4g}"
    sub = (f"d = {fb:g}/{depth:g} = {d:.4g};  Z_near = {fb:g}/({d:.4g} + {disparity_error:g}) = {zn:.4g},  "
           f"Z_far = {fb:g}/({d:.4g} − {disparity_error:g}) = {zf_s}")
    rng = zf - zn
    rng_s = "∞" if math.isinf(rng) else f"{rng:.3g}"
    why = ""
    if math.isinf(zf):
        sub += "  (d ≤ Δd: the far end is at infinity)"
        why = (f"The disparity error ±{disparity_error:g} px is at least the disparity of the depth Z = {depth:g} m "
               f"(f·B/Z = {d:.3g} px), so the far end of the depth range is at infinity: choose a nearer depth, "
               f"a longer baseline or a smaller disparity error.")
    # finite whenever Z_far is (then Z·Δd/(fB) < 1); Δd = 0 gives 0, never ∞·0
    approx = depth * depth * disparity_error / fb if disparity_error else 0.0
    z, width = depth_error_curve(f_px, baseline, depth, disparity_error)
    return Derivation("depth-error", "Z_near = fB/(d + Δd),   Z_far = fB/(d − Δd)", sub,
                      f"{zn:.3g} m … {zf_s} m (range {rng_s} m)", rng,
                      f"ΔZ ≈ Z²·Δd/(fB) = {approx:.3g} m: error grows with the square of depth",
                      {"z_near": zn, "z_far": zf, "depths": z, "widths": width}, not_finite=why)


def _disp_range(f_px=500.0, baseline=0.12, z_min=1.0, z_max=30.0):
    n = F.disparity_search_range(f_px, baseline, z_min, z_max)
    fb = f_px * baseline
    sub = f"⌈{fb:g}/{z_min:g}⌉ − ⌊{fb:g}/{z_max:g}⌋ = ⌈{fb / z_min:.4g}⌉ − ⌊{fb / z_max:.4g}⌋ = {n}"
    return Derivation("disparity-range", "n = ⌈fB/Z_min⌉ − ⌊fB/Z_max⌋", sub, f"{n} disparities", n,
                      "each pixel compares this many candidates along its scanline: the cost volume depth")


def _ransac(inlier_ratio=0.6, sample_size=4, confidence=0.99):
    n = F.ransac_iterations(inlier_ratio, sample_size, confidence)
    ws = inlier_ratio**sample_size
    sub = f"N = ⌈ln(1 − {confidence:g}) / ln(1 − {inlier_ratio:g}^{sample_size})⌉ = ⌈{math.log(1 - confidence):.4g} / {math.log1p(-ws):.4g}⌉ = {n}" \
        if ws < 1 else f"N = 1 (every match is an inlier)"
    ratios = np.linspace(0.1, 1.0, 91)
    curve = [F.ransac_iterations(float(r), sample_size, confidence) for r in ratios]
    return Derivation("ransac", "N = ⌈ln(1 − p) / ln(1 − w^s)⌉", sub, f"N = {_fmt(n)} iterations", n,
                      f"one sample of {sample_size} is all-inlier with probability {ws:.4g}",
                      {"ratios": ratios.tolist(), "iterations": curve})


def _homography(H="2,0,1, 0,1,0, 0,0,1", point="1, 0"):
    h = np.asarray(parse_floats(H, "H"))
    if h.size != 9:
        raise ValueError(f"H needs 9 numbers (row by row), got {h.size}.")
    h = h.reshape(3, 3)
    p = parse_floats(point, "The point")
    if len(p) != 2:
        raise ValueError("The point needs two numbers x, y.")
    out = F.apply_homography(h, [p])[0]
    hv = h @ np.array([p[0], p[1], 1.0])  # finite: apply_homography checked it
    sub = (f"H·[{_fmt(p[0])}, {_fmt(p[1])}, 1]ᵀ = [{_fmt(hv[0])}, {_fmt(hv[1])}, {_fmt(hv[2])}]ᵀ → "
           f"({_fmt(out[0])}, {_fmt(out[1])})")
    return Derivation("homography", "[x', y', w'] = H·[x, y, 1],   (x'/w', y'/w')", sub,
                      f"({_fmt(out[0])}, {_fmt(out[1])})", tuple(float(v) for v in out),
                      "w' ≠ 1 only when the last row has perspective terms: that is foreshortening")


def _latency(gmacs=20.0, peak_tflops=83.0, utilization=0.5):
    t = F.min_inference_ms(gmacs, peak_tflops, utilization)
    sub = f"t = 2·{gmacs:g}e9 / ({peak_tflops:g}e12·{utilization:g}) s = {t:.4g} ms"
    fits = "fits" if t <= 16.7 else ("fits 30 fps but not 60 fps" if t <= 33.3 else "misses")
    return Derivation("latency", "t = 2·MACs / (peak FLOP/s · utilization)", sub, f"t ≥ {t:.3g} ms", t,
                      f"a lower bound from compute alone; {fits} the 16.7 ms (60 fps) budget" if fits != "fits 30 fps but not 60 fps"
                      else f"a lower bound from compute alone; it {fits}")


#: Frame times of the usual video rates, in milliseconds.
FRAME_MS = {60: 1000 / 60, 30: 1000 / 30}


@dataclass(frozen=True)
class Budget:
    """A pipeline's total latency (ms), the frame rate it sustains, and whether it fits 60 / 30 fps."""

    total: float
    fps: float
    fits_60: bool
    fits_30: bool


def pipeline_budget(stages_ms) -> Budget:
    """Total latency of a pipeline and the frame rates it sustains. ValueError for a negative stage.

    >>> pipeline_budget([1, 3, 0.5, 0.5, 1])
    Budget(total=6.0, fps=166.66..., fits_60=True, fits_30=True)
    """
    if not stages_ms:
        raise ValueError("Give at least one stage time in milliseconds.")
    for t in stages_ms:
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"A stage time must be zero or positive milliseconds, got {t}.")
    total = float(sum(stages_ms))
    if not math.isfinite(total):
        raise ValueError(f"The stage times add up to more than this calculator can compute ({len(stages_ms)} "
                         f"stages, the largest {max(stages_ms):g} ms).")
    return Budget(total, 1000.0 / total if total > 0 else math.inf, total <= FRAME_MS[60], total <= FRAME_MS[30])


def _budget(stages="1, 3, 0.5, 0.5, 1"):
    ms = parse_floats(stages, "The stage times")
    b = pipeline_budget(ms)
    sub = "total = " + " + ".join(_fmt(t) for t in ms) + f" = {b.total:.4g} ms"
    if b.fits_60:
        possible = f"{b.fps:.0f} fps possible" if b.fps < 1e6 else "over a million fps possible"
        m = f"fits the 16.7 ms frame of 60 fps ({possible})"
    elif b.fits_30:
        m = "misses 60 fps (16.7 ms) but fits 30 fps (33.3 ms)"
    else:
        m = f"misses even 30 fps (33.3 ms): at most {b.fps:.1f} fps without pipelining"
    share = max(ms) / b.total if b.total else 0
    m += f"; the slowest stage is {share:.0%} of the total"
    starts = np.concatenate([[0.0], np.cumsum(ms)[:-1]]).tolist()
    return Derivation("budget", "total = Σ stage times  vs  16.7 ms (60 fps), 33.3 ms (30 fps)", sub,
                      f"{b.total:.3g} ms", b.total, m, {"stages": ms, "starts": starts, "frame_ms": dict(FRAME_MS)})
