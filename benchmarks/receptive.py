"""Receptive fields: ``cvexplorer.receptive.effective_rf`` against a 2-D OpenCV back-projection,
and ``formulas.receptive_field`` against a brute-force impulse propagation.

The effective RF of one cell (all-ones kernels) is computed by us as the outer product of two exact
1-D path counts. The reference pushes the cell's delta backwards through the stack in 2-D with
OpenCV: insert zeros for the stride, ``cv2.filter2D`` with the (dilated) all-ones kernel, crop the
padding. Both must give the same weights (accuracy column: max abs difference of the normalised
maps). The RF row times the closed form for a whole preset against probing every input pixel of
one axis with an impulse through real 1-D NumPy convolutions.
"""

from __future__ import annotations

import time

import numpy as np

from cvexplorer import receptive as R
from cvexplorer.bench import median_ms, print_rows
from cvexplorer.formulas import receptive_field


def erf_opencv(stack, layer_index: int, row: int, col: int) -> tuple[int, int, np.ndarray]:
    """2-D back-projection of a delta with cv2.filter2D (the reference)."""
    import cv2

    g = np.ones((1, 1), np.float64)
    oy, ox = row, col
    for layer in reversed(stack[: layer_index + 1]):
        k, s, p, d = layer.as_tuple()
        h, w = g.shape
        up = np.zeros(((h - 1) * s + 1, (w - 1) * s + 1), np.float64)
        up[::s, ::s] = g
        span = d * (k - 1) + 1
        ker = np.zeros((span, span), np.float64)
        ker[::d, ::d] = 1.0
        padded = np.pad(up, span - 1)
        full = cv2.filter2D(padded, -1, ker, anchor=(span - 1, span - 1), borderType=cv2.BORDER_CONSTANT)
        # filter2D correlates: with the anchor at the kernel's end, full[x] sums padded[x-span+1 .. x],
        # so the full convolution out[i] = sum up[i-span+1 .. i] sits at full[i + span - 1]
        g = full[span - 1: span - 1 + up.shape[0] + span - 1, span - 1: span - 1 + up.shape[1] + span - 1]
        oy, ox = oy * s - p, ox * s - p
    return ox, oy, g / g.sum()


def run(quick: bool = False) -> list[dict]:
    repeats = 3 if quick else 10
    rows = []
    for name, li, cell in (("resnet18", -1, (3, 3)), ("resnet50", -1, (3, 3)), ("vgg16", -1, (3, 3))):
        st = R.PRESETS[name]
        li = li % len(st)
        ours = median_ms(lambda: R.effective_rf(st, li, *cell), repeats)
        ref = median_ms(lambda: erf_opencv(st, li, *cell), repeats)
        e = R.effective_rf(st, li, *cell)
        x0, y0, g = erf_opencv(st, li, *cell)
        same_box = (x0, y0, g.shape) == (e.x0, e.y0, e.weights.shape)
        diff = float(np.abs(g - e.weights).max()) if same_box else float("nan")
        rows.append({"what": f"effective RF, {name} last layer ({e.weights.shape[0]}² px)", "ours_ms": ours,
                     "ref": "cv2.filter2D back-projection", "ref_ms": ref, "ratio": ours / ref,
                     "accuracy": f"max |Δ| {diff:.1e}" if same_box else "BOX DIFFERS"})

    layers = [l.as_tuple() for l in R.PRESETS["resnet18"]]

    res = receptive_field(layers)[-1]
    c0 = int(np.ceil((res.rf - res.start) / res.jump)) + 1  # a cell whose field lies on real pixels

    def brute():
        n = res.rf + (c0 + 2) * res.jump + 64
        seen = []
        for i in range(0, n):
            x = np.zeros(n)
            x[i] = 1.0
            for k, s, p, d in layers:
                xp = np.pad(x, p)
                x = np.lib.stride_tricks.sliding_window_view(xp, d * (k - 1) + 1)[::s, ::d].sum(axis=1)
            if len(x) > c0 and x[c0] > 0:
                seen.append(i)
        return seen

    ours = median_ms(lambda: receptive_field(R.PRESETS["resnet18"]), repeats)  # the engine's own layers go in as they are
    t0 = time.perf_counter()
    seen = brute()  # one run: it takes seconds (and needs no warm-up: pure NumPy)
    ref = (time.perf_counter() - t0) * 1e3
    centre = res.start + c0 * res.jump
    ok = (min(seen), max(seen)) == (centre - (res.rf - 1) / 2, centre + (res.rf - 1) / 2)
    rows.append({"what": "receptive_field, resnet18 (18 layers)", "ours_ms": ours, "ref": "impulse per input pixel",
                 "ref_ms": ref, "ratio": ours / ref, "accuracy": "same extent" if ok else "DIFFERS"})
    return rows


if __name__ == "__main__":
    print_rows(run())
