"""The conv lab's sentences: output-size derivations with the numbers substituted, and a window's arithmetic.

One home for the conv output-size derivation: :func:`conv_size_derivation` (one axis, as the
calculator shows it) and :func:`output_size` (both axes, as the conv lab's card shows it) are the
only places that write it out. Numbers are written by :mod:`cvexplorer.text`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import formulas
from ..text import fmt_count, fmt_number, fmt_paren

__all__ = ["AxisSize", "OutputSize", "conv_size_derivation", "pool_size_derivation", "tconv_size_derivation",
           "output_size", "arithmetic_text", "matrix_text"]


@dataclass(frozen=True)
class AxisSize:
    """One axis' output size: the formula, the formula with the numbers, the value, what it means."""

    formula: str
    substituted: str
    value: int
    meaning: str


def conv_size_derivation(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> AxisSize:
    """The convolution output size of one axis, derived: :math:`O = \\lfloor(N + 2P - D(K-1) - 1)/S\\rfloor + 1`.

    The value is ``formulas.conv_output_size`` (which raises ValueError with the reason when the
    kernel does not fit). With dilation 1 the formula is written in its familiar form.

    >>> d = conv_size_derivation(224, 3, stride=2, padding=1)
    >>> d.substituted
    'O = ⌊(224 − 3 + 2·1)/2⌋ + 1 = 112'
    >>> d.meaning
    'stride 2 with padding 1 halves the input; the floor drops 1 pixel at the edge'
    """
    o = formulas.conv_output_size(size, kernel, stride, padding, dilation)
    if dilation == 1:
        formula = "O = ⌊(N − K + 2P)/S⌋ + 1"
        sub = f"O = ⌊({size} − {kernel} + 2·{padding})/{stride}⌋ + 1 = {o}"
    else:
        formula = "O = ⌊(N + 2P − D(K−1) − 1)/S⌋ + 1"
        sub = f"O = ⌊({size} + 2·{padding} − {dilation}·({kernel}−1) − 1)/{stride}⌋ + 1 = {o}"
    if o == size:
        meaning = f"padding {padding} exactly makes up for the kernel: the size is kept ('same')"
    elif stride > 1 and o == -(-size // stride):
        word = {2: "halves", 3: "divides by three", 4: "quarters"}.get(stride, f"divides by {stride}")
        meaning = f"stride {stride} with padding {padding} {word} the input"
    elif stride == 1 and o > size:
        meaning = f"more padding than the kernel takes away: the output grows, {size} → {o} (+{o - size})"
    elif stride == 1:
        meaning = f"without enough padding each side loses pixels: {size} → {o} (−{size - o})"
    else:
        meaning = f"stride {stride} keeps one position in {stride}: {size} → {o}"
    rem = (size + 2 * padding - dilation * (kernel - 1) - 1) % stride
    if rem:
        meaning += f"; the floor drops {rem} pixel{'s' if rem > 1 else ''} at the edge"
    return AxisSize(formula, sub, o, meaning)


def pool_size_derivation(size: int, kernel: int, stride: int | None = None, padding: int = 0,
                         ceil_mode: bool = False) -> AxisSize:
    """The pooling output size of one axis: :math:`O = \\lfloor(N - K + 2P)/S\\rfloor + 1` (⌈⌉ in ceil mode).

    >>> pool_size_derivation(7, 2, ceil_mode=True).substituted
    'O = ⌈(7 − 2 + 2·0)/2⌉ + 1 = 4'
    """
    s = kernel if not stride else stride
    o = formulas.pool_output_size(size, kernel, s, padding, bool(ceil_mode))
    br = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    formula = f"O = {br[0]}(N − K + 2P)/S{br[1]} + 1"
    sub = f"O = {br[0]}({size} − {kernel} + 2·{padding})/{s}{br[1]} + 1 = {o}"
    meaning = f"{kernel}×{kernel} windows every {s} pixels: {size} → {o}, no learnable parameters"
    if s < kernel:
        meaning += " (overlapping windows)"
    if ceil_mode and o < -(-(size + 2 * padding - kernel) // s) + 1:
        sub += "  (the last window would start in the right padding: dropped)"
    return AxisSize(formula, sub, o, meaning)


def tconv_size_derivation(size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                          dilation: int = 1) -> AxisSize:
    """The transposed-convolution output size of one axis: :math:`O = (N-1)S - 2P + D(K-1) + P_{out} + 1`.

    >>> tconv_size_derivation(3, 3, stride=2).substituted
    'O = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7'
    """
    o = formulas.transposed_conv_output_size(size, kernel, stride, padding, output_padding, dilation)
    formula = "O = (N − 1)·S − 2P + D(K − 1) + P_out + 1"
    sub = f"O = ({size} − 1)·{stride} − 2·{padding} + {dilation}·({kernel} − 1) + {output_padding} + 1 = {o}"
    ratio = o / size
    meaning = f"{size} → {o}" + (f": exactly ×{int(ratio)}" if ratio == int(ratio) and ratio > 1 else "")
    if kernel % stride:
        meaning += f"; K={kernel} is not a multiple of S={stride}, which invites checkerboard artefacts"
    return AxisSize(formula, sub, o, meaning)


@dataclass(frozen=True)
class OutputSize:
    """Both axes of a layer's output size, as the conv lab's card shows them."""

    formula: str
    substituted: str
    shape: tuple[int, int]
    result: str
    meaning: str


def output_size(kind: str, in_shape, kernel_shape, *, stride: int = 1, padding: int = 0, dilation: int = 1,
                ceil_mode: bool = False) -> OutputSize:
    """Rows and columns of a ``"conv"``, ``"pool"`` or ``"transposed"`` layer's output, derived.

    Raises ValueError (the formulas' sentence) when the setting has no valid output.

    >>> o = output_size("conv", (5, 6), (3, 2), padding=1)
    >>> o.result, o.substituted.splitlines()[1]
    ('5 × 7', 'cols: O = ⌊(6 − 2 + 2·1)/1⌋ + 1 = 7')
    """
    (H, W), (kh, kw) = (int(v) for v in in_shape[:2]), (int(v) for v in kernel_shape[:2])
    if kind == "conv":
        rows = conv_size_derivation(H, kh, stride, padding, dilation)
        cols = conv_size_derivation(W, kw, stride, padding, dilation)
        meaning = f"{fmt_count(rows.value * cols.value)} kernel positions, {kh * kw} multiplications each"
        if dilation > 1:
            meaning += f"; the kernel spans {dilation * (kh - 1) + 1}×{dilation * (kw - 1) + 1} pixels"
    elif kind == "pool":
        rows = pool_size_derivation(H, kh, stride, padding, ceil_mode)
        cols = pool_size_derivation(W, kw, stride, padding, ceil_mode)
        meaning = "one output cell per window position; no weights to learn"
    elif kind == "transposed":
        rows = tconv_size_derivation(H, kh, stride, padding, 0, dilation)
        cols = tconv_size_derivation(W, kw, stride, padding, 0, dilation)
        meaning = "each input cell stamps a copy of the kernel, S cells apart"
    else:
        raise ValueError(f"kind must be 'conv', 'pool' or 'transposed', not {kind!r}.")
    # a square layer on a square input: one line says it for both axes (the card stays short on a projector)
    sub = rows.substituted if rows.substituted == cols.substituted else \
        f"rows: {rows.substituted}\ncols: {cols.substituted}"
    return OutputSize(rows.formula, sub, (rows.value, cols.value), f"{rows.value} × {cols.value}", meaning)


def arithmetic_text(values, kernel, total: float, bias: float = 0.0) -> str:
    """``0·1 + 1·0 + 5·(−1) + … = 10``: every product of the window, then the sum.

    >>> arithmetic_text(np.array([0, 1, 5]), np.array([1, 0, -1]), -5)
    '0·1 + 1·0 + 5·(−1) = −5'
    """
    terms = [f"{fmt_number(v)}·{fmt_paren(k)}" for v, k in zip(np.ravel(values), np.ravel(kernel))]
    s = " + ".join(terms)
    if bias:
        s += f" + {fmt_paren(bias)}"
    return f"{s} = {fmt_number(total)}"


def matrix_text(a) -> str:
    """A matrix as rows of numbers an editor can show (and :func:`cvexplorer.text.parse_matrix` reads back);
    channels of an (H, W, C) array as blocks separated by a blank line.

    >>> print(matrix_text(np.array([[1, -0.5], [2, 0]])))
    1  -0.5
    2  0
    """
    a = np.asarray(a)
    if a.ndim == 3:
        return "\n\n".join(matrix_text(a[..., c]) for c in range(a.shape[2]))
    return "\n".join("  ".join(fmt_number(v).replace("−", "-") for v in row) for row in a)
