"""Where each kernel window of a 1-D row sits: the picture behind the output-size formulas.

The calculator draws one row of input pixels (padding included) and, under it, the first and last
few windows with their taps. A long row is cut in the middle (both ends, where the padding and the
floor matter, stay readable), so every position here is a *display* x: input pixel ``i`` is drawn
over ``[x(i), x(i) + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WindowRow", "KernelWindows", "kernel_windows"]

_GAP = 3.0  # display width of the "…" where a long row is cut


@dataclass(frozen=True)
class WindowRow:
    """One output position ``output``: its window spans display x ``x0 … x1``; ``taps`` are its tap centres."""

    output: int
    x0: float
    x1: float
    taps: tuple[float, ...]


@dataclass(frozen=True)
class KernelWindows:
    """A row of ``size`` pixels with ``padding`` on each side, and the windows that produce ``out`` outputs.

    ``pixels`` are the input indices drawn (padding is negative or ``>= size``), ``pixel_x`` their
    display x and ``is_padding`` which are padding; ``cut_x`` is the display x of the cut (None when
    the row is whole); ``unreached`` the display span of the pixels no window reaches (the floor's
    loss), ``unreached_count`` how many; ``ticks`` are (display x, index) pairs that do not collide.
    """

    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    out: int
    pixels: np.ndarray
    pixel_x: np.ndarray
    is_padding: np.ndarray
    cut_x: float | None
    windows: tuple[WindowRow, ...]
    unreached: tuple[float, float] | None
    unreached_count: int
    ticks: tuple[tuple[float, str], ...]
    x_range: tuple[float, float]


def kernel_windows(size: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1,
                   out: int) -> KernelWindows:
    """Lay out the windows of a conv or pooling layer along one row (``out`` from the output-size formula).

    Window ``j`` starts at input index :math:`jS - P` and spans :math:`D(K-1)+1` pixels; at most
    six windows are listed (the first three and the last three). Pixels after the last window's end
    are the ones the floor drops.

    >>> w = kernel_windows(7, 3, stride=2, out=3)
    >>> [(r.output, r.x0, r.x1) for r in w.windows]
    [(0, 0.0, 3.0), (1, 2.0, 5.0), (2, 4.0, 7.0)]
    >>> w.unreached_count, w.cut_x is None
    (0, True)
    >>> kernel_windows(8, 3, stride=2, out=3).unreached_count  # ⌊(8 − 3)/2⌋ + 1 = 3 windows leave pixel 7
    1
    """
    n, k, s, p, d, o = (int(v) for v in (size, kernel, stride, padding, dilation, out))
    span = d * (k - 1) + 1
    shown = list(range(o)) if o <= 6 else [0, 1, 2, o - 3, o - 2, o - 1]
    seg = max(12, 2 * s + span + 2)
    lo_end, hi_start = -p + seg, n + p - seg
    cut = hi_start - lo_end > 4

    def x(i):
        i = np.asarray(i, dtype=float)
        return np.where(i < lo_end + 0.5, i, i - hi_start + lo_end + _GAP) if cut else i

    idx = np.arange(-p, n + p)
    if cut:
        idx = idx[(idx < lo_end) | (idx >= hi_start)]
    rows = []
    for j in shown:
        start = j * s - p
        rows.append(WindowRow(j, float(x(start)), float(x(start + span - 1)) + 1.0,
                              tuple(float(t) + 0.5 for t in x(start + np.arange(k) * d))))
    last_end = (o - 1) * s - p + span
    unreached = None
    if last_end < n + p:
        unreached = (float(x(last_end)), float(x(n + p - 1)) + 1.0)
    ticks, kept = [(float(x(i)) + 0.5, str(i)) for i in sorted({-p, 0, lo_end - 1, hi_start, n - 1, n + p - 1})
                   if -p <= i < n + p and (not cut or i < lo_end or i >= hi_start)], []
    for t in ticks:
        if not kept or t[0] - kept[-1][0] >= 2.5:
            kept.append(t)
    return KernelWindows(n, k, s, p, d, o, idx, x(idx), (idx < 0) | (idx >= n),
                         (lo_end + _GAP / 2) if cut else None, tuple(rows), unreached, max(0, n + p - last_end),
                         tuple(kept), (float(-p - 5), float(x(n + p - 1)) + 2.0))
