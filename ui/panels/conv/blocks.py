"""What the grid view shows for step ``i`` of a trace: the grids (input, kernel, output) and the arithmetic.

Pure layout of the engine's step data into :class:`~.views.Block` texts and theme colours; every
number and sentence of arithmetic comes from the trace or from :mod:`cvexplorer.conv` / :mod:`cvexplorer.text`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from cvexplorer.conv import arithmetic_text
from cvexplorer.text import fmt_number, fmt_paren

from .views import Block

__all__ = ["step_blocks"]


def _tint(th, role: str, alpha: float) -> QColor:
    """The role's colour at ``alpha`` over the view background, as an opaque colour (no blending cost)."""
    c, b = QColor(th.color(role)), QColor(th.plot_bg)
    a = min(1.0, max(0.0, alpha))
    return QColor(int(b.red() + (c.red() - b.red()) * a), int(b.green() + (c.green() - b.green()) * a),
                  int(b.blue() + (c.blue() - b.blue()) * a))


def _glass(th, role: str, alpha: float) -> QColor:
    """A translucent colour laid over a cached grid (the numbers stay readable through it)."""
    c = QColor(th.color(role))
    c.setAlphaF(alpha)
    return c


def _texts(a) -> list[list[str]]:
    return [[fmt_number(v) for v in row] for row in np.asarray(a)]


def _input_block(th, title, x2d, pad, st, pad_text="0") -> Block:
    H, W = x2d.shape
    ph, pw = pad
    texts, bg, fg = [], {}, {}
    pad_bg = _tint(th, "padding", 0.22)
    muted = QColor(th.muted)
    for r in range(H + 2 * ph):
        row = []
        for c in range(W + 2 * pw):
            rr, cc = r - ph, c - pw
            if 0 <= rr < H and 0 <= cc < W:
                row.append(fmt_number(x2d[rr, cc]))
            else:
                row.append(pad_text)
                bg[(r, c)] = pad_bg
                fg[(r, c)] = muted
        texts.append(row)
    marks, overlay = [], {}
    cur = _glass(th, "current", 0.3)
    for rr in st["rows"]:
        for cc in st["cols"]:
            if 0 <= rr + ph < H + 2 * ph and 0 <= cc + pw < W + 2 * pw:
                overlay[(rr + ph, cc + pw)] = cur
                marks.append((rr + ph, cc + pw, th.color("current"), 1.0))
    blk = Block(title, texts, bg=bg, fg=fg, marks=marks)
    blk.overlay = overlay
    return blk


def _output_block(th, title, final, i, sep="=") -> Block:
    oh, ow = final.shape[:2]
    # every value is in the cached grid; cells not reached yet are covered by an opaque overlay
    todo = _tint(th, "waiting", 0.12)
    overlay = {divmod(j, ow): todo for j in range(i + 1, oh * ow)}
    r, c = divmod(i, ow)
    overlay[(r, c)] = _glass(th, "current", 0.3)
    blk = Block(title, _texts(final), marks=[(r, c, th.color("current"), 1.0)], sep=sep)
    blk.overlay = overlay
    return blk


def _conv_blocks(th, x, k, trace, st, i):
    meta = trace.meta
    ph, pw = meta["padding"]
    final = np.asarray(trace.final)
    oh, ow = final.shape
    pad_note = f" + padding {ph}" if ph or pw else ""
    if x.ndim == 2:
        inp = _input_block(th, f"input {x.shape[0]}×{x.shape[1]}{pad_note}", x, (ph, pw), st)
        kb = Block(f"kernel {k.shape[0]}×{k.shape[1]}", _texts(k), sep="⊛",
                   bg={(a, b): _tint(th, "current", 0.18) for a in range(k.shape[0]) for b in range(k.shape[1])})
        out = _output_block(th, f"output {oh}×{ow}", final, i)
        line = arithmetic_text(st["values"], k, st["sum"], float(meta["bias"]))
        npad = int(np.sum(st["in_padding"]))
        lines = [f"output ({st['out_pos'][0]}, {st['out_pos'][1]}):  {line}"]
        if npad:
            lines.append(f"{npad} of the {k.shape[0] * k.shape[1]} taps fall in the zero padding (purple).")
        return [[inp, kb, out]], lines
    names = "RGB"
    ins, ks, lines = [], [], []
    for c in range(3):
        b = _input_block(th, f"input {names[c]}", x[..., c], (ph, pw), st)
        b.sep = "+" if c else ""
        ins.append(b)
        ks.append(Block(f"kernel {names[c]}", _texts(k[..., c]), sep="+" if c else ""))
        lines.append(f"{names[c]}: " + arithmetic_text(st["values"][..., c], k[..., c], st["channel_sums"][c]))
    out = _output_block(th, f"output {oh}×{ow}", final, i)
    sums = " + ".join(fmt_paren(v) for v in st["channel_sums"])
    lines.append(f"R + G + B + bias = {sums} + {fmt_paren(meta['bias'])} = {fmt_number(st['sum'])}")
    return [ins, ks + [out]], lines


def _pool_blocks(th, x, trace, st, i):
    meta = trace.meta
    mode = meta["mode"]
    ph, pw = meta["padding"]
    final = np.asarray(trace.final)
    inp = _input_block(th, f"input {x.shape[0]}×{x.shape[1]}" + (f" + padding {ph}" if ph else ""),
                       x, (ph, pw), st, pad_text="−∞" if mode == "max" else "0")
    vals = np.asarray(st["values"]).ravel()
    if mode == "max":
        wr, wc = st["winner"]
        inp.marks.append((st["rows"][wr] + ph, st["cols"][wc] + pw, th.color("positive"), 1.6))
        line = f"max({', '.join(fmt_number(v) for v in vals)}) = {fmt_number(st['result'])}"
    else:
        line = f"({' + '.join(fmt_paren(v) for v in vals)}) / {st['divisor']} = {fmt_number(st['result'])}"
    out = _output_block(th, f"output {final.shape[0]}×{final.shape[1]}", final, i, sep="→")
    kh, kw = meta["kernel_shape"]
    return [[inp, out]], [f"output ({st['out_pos'][0]}, {st['out_pos'][1]}):  {line}",
                          f"{mode} pooling, window {kh}×{kw}, stride {meta['stride'][0]}: no weights, "
                          + ("the largest value wins (green)." if mode == "max" else "the mean of the window.")]


def _transposed_blocks(th, x, k, trace, st, i):
    meta = trace.meta
    H, W = x.shape
    r0, c0 = st["in_pos"]
    ov_in = {(r, c): _glass(th, "waiting", 0.2) for r in range(H) for c in range(W) if r * W + c < i}
    ov_in[(r0, c0)] = _glass(th, "current", 0.3)
    inp = Block(f"input {H}×{W}", _texts(x), marks=[(r0, c0, th.color("current"), 1.0)])
    inp.overlay = ov_in
    kb = Block(f"kernel {k.shape[0]}×{k.shape[1]}", _texts(k), sep="⊛ᵀ")
    partial = np.asarray(st["partial"])
    ov = np.asarray(meta["overlap"])
    oh, ow = partial.shape
    shade = {(r, c): _tint(th, "accent", 0.08 + 0.12 * (ov[r, c] - 1)) for r in range(oh) for c in range(ow)}
    marks, o_ov = [], {}
    for rr in st["rows"]:
        for cc in st["cols"]:
            if 0 <= rr < oh and 0 <= cc < ow:
                o_ov[(rr, cc)] = _glass(th, "current", 0.35)
                marks.append((rr, cc, th.color("current"), 1.0))
    out = Block(f"output {oh}×{ow}", _texts(partial), bg=dict(shade), marks=marks, sep="=")
    out.overlay = o_ov
    ovb = Block("overlaps", [[str(int(v)) for v in row] for row in ov], bg=dict(shade), sep=" ")
    rows = st["rows"]
    v = fmt_number(st["value"])
    lines = [f"input ({r0}, {c0}) = {v}: adds {v}·kernel to output rows {rows[0]}…{rows[-1]}, "
             f"cols {st['cols'][0]}…{st['cols'][-1]} (orange); overlaps are summed (running sum shown).",
             f"K = {k.shape[0]}, S = {meta['stride'][0]}: cells where {int(ov.max())} stamps overlap get more "
             f"weight than cells reached by {int(ov.min())}: the checkerboard (dark blue = more overlap)."]
    return [[inp, kb, out, ovb]], lines


def step_blocks(th, mode: str, x, k, trace, i: int):
    """The grids and the arithmetic lines for step ``i`` of ``trace`` in ``mode``."""
    st = trace[i]
    if mode in ("matrix", "rgb"):
        return _conv_blocks(th, x, k, trace, st, i)
    if mode == "pooling":
        return _pool_blocks(th, x, trace, st, i)
    return _transposed_blocks(th, x, k, trace, st, i)
