"""Layers and stacks, per-layer receptive fields, the box a cell sees, and the effective RF."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Iterable

import numpy as np

from .. import formulas as F

__all__ = ["LIMITS", "KINDS", "Layer", "make_stack", "analyze", "feature_size", "rf_box", "first_covering_layer", "ERF",
           "effective_rf", "effective_rf_1d"]

KINDS = ("conv", "maxpool", "avgpool")
#: Bounds (tests lower them): the most layers in a stack; the widest field whose effective RF is
#: computed whole (a wider one is computed over a window of at most this side, so memory follows
#: the window, not the field: thirty stride-2 layers see 2³¹ pixels); the most kernel taps drawn per axis.
LIMITS = {"layers": 500, "erf_side": 2048, "taps": 33}


@dataclass(frozen=True)
class Layer:
    """One conv or pooling layer (square kernel). ``name`` is for display only."""

    kind: str = "conv"
    kernel: int = 3
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    name: str = ""

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.kernel, self.stride, self.padding, self.dilation)

    @property
    def span(self) -> int:
        """Effective kernel extent D(K-1)+1."""
        return self.dilation * (self.kernel - 1) + 1

    def label(self) -> str:
        txt = f"{self.kind} {self.kernel}×{self.kernel}/{self.stride}"
        if self.dilation > 1:
            txt += f" d{self.dilation}"
        return txt


def _validate(layer: Layer, i: int) -> Layer:
    where = f"Layer {i + 1}" + (f" ({layer.name})" if layer.name else "")
    if layer.kind not in KINDS:
        raise ValueError(f"{where}: the type must be one of {', '.join(KINDS)}, got {layer.kind!r}.")
    for attr, lo in (("kernel", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
        v = getattr(layer, attr)
        if isinstance(v, bool) or int(v) != v or v < lo:
            raise ValueError(f"{where}: the {attr} must be a whole number ≥ {lo}, got {v!r}.")
    if layer.kind != "conv" and layer.dilation != 1:
        raise ValueError(f"{where}: pooling layers here have no dilation (got {layer.dilation}).")
    if 2 * layer.padding > layer.span and layer.kind != "conv":
        raise ValueError(f"{where}: pooling padding must be at most half the window ({layer.padding} > {layer.kernel}/2).")
    return replace(layer, kernel=int(layer.kernel), stride=int(layer.stride), padding=int(layer.padding),
                   dilation=int(layer.dilation))


def make_stack(layers: Iterable) -> tuple[Layer, ...]:
    """Validate a stack given as Layers, ``(kernel, stride[, padding[, dilation]])`` tuples or dicts.

    At most ``LIMITS["layers"]`` layers (a longer stack is refused with the limit named)."""
    out = []
    for i, l in enumerate(layers):
        if i >= LIMITS["layers"]:
            raise ValueError(f"The stack has more than {LIMITS['layers']} layers; this app follows at most "
                             f"{LIMITS['layers']} conv and pooling layers along one path.")
        if isinstance(l, Layer):
            layer = l
        elif isinstance(l, dict):
            unknown = sorted(set(l) - {f.name for f in fields(Layer)})
            if unknown:
                raise ValueError(f"Layer {i + 1} has unknown settings {', '.join(map(str, unknown))[:60]}; a layer has "
                                 "kind, kernel, stride, padding, dilation and name.")
            layer = Layer(**l)
        else:
            try:
                parts = tuple(l)
            except TypeError:
                raise ValueError(f"Layer {i + 1} must be a Layer, a dict or a (kernel, stride, …) tuple, got {l!r}.") from None
            if parts and isinstance(parts[0], str):
                if len(parts) > 5:
                    raise ValueError(f"Layer {i + 1} must be (type, kernel, stride[, padding[, dilation]]).")
                layer = Layer(parts[0], *parts[1:])
            else:
                if not 1 <= len(parts) <= 4:
                    raise ValueError(f"Layer {i + 1} must be (kernel, stride[, padding[, dilation]]), got {l!r}.")
                layer = Layer("conv", *parts)
        out.append(_validate(layer, i))
    if not out:
        raise ValueError("The stack is empty: add at least one layer.")
    return tuple(out)


def analyze(stack, input_size: int | None = None) -> list[F.RFResult]:
    """Per-layer ``rf``, ``jump``, ``start`` (and ``out_size`` given ``input_size``)."""
    return F.receptive_field(make_stack(stack), input_size=input_size)


def feature_size(stack, layer_index: int, input_size: int) -> int:
    """Side of the feature map after ``layer_index`` for an input of ``input_size``."""
    return analyze(stack, input_size)[_index(stack, layer_index)].out_size


def _index(stack, layer_index: int) -> int:
    n = len(stack)
    if not -n <= layer_index < n:
        raise ValueError(f"Layer index {layer_index} is out of range: the stack has {n} layers.")
    return layer_index % n


def rf_box(stack, layer_index: int, row: int, col: int) -> tuple[int, int, int, int]:
    """Input pixels (half-open ``x0, y0, x1, y1``) that feature cell (row, col) of layer ``layer_index`` sees.

    ``layer_index`` counts from 0 (the output of the first layer). The box may extend beyond the
    image: that part is padding.
    """
    res = analyze(stack)[_index(stack, layer_index)]
    if row < 0 or col < 0:
        raise ValueError(f"Feature-map cells are counted from 0, got ({row}, {col}).")
    half = (res.rf - 1) / 2
    x0 = int(round(res.start + col * res.jump - half))
    y0 = int(round(res.start + row * res.jump - half))
    return (x0, y0, x0 + res.rf, y0 + res.rf)


def first_covering_layer(stack, box) -> int | None:
    """Index of the first layer whose receptive field is at least as large as ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    need = max(abs(x1 - x0), abs(y1 - y0))
    for i, r in enumerate(analyze(stack)):
        if r.rf >= need:
            return i
    return None


# ----------------------------------------------------------------------------- effective RF
def _spread(g: np.ndarray, k: int, s: int, d: int) -> np.ndarray:
    """Back-project weights ``g`` through one layer: place them ``s`` apart and sum ``k`` copies ``d`` apart.

    A box sum per residue class mod ``d``, from cumulative sums (no loop over the taps, so a
    20,000-wide kernel costs what a 3-wide one does)."""
    n = len(g)
    up = np.zeros((n - 1) * s + 1)
    up[::s] = g
    rows = -(-len(up) // d)
    u = np.zeros(rows * d)
    u[: len(up)] = up
    c = np.vstack([np.zeros((1, d)), np.cumsum(u.reshape(rows, d), axis=0)])
    m = np.arange(rows + k - 1)
    out = c[np.minimum(m + 1, rows)] - c[np.maximum(0, m - k + 1)]
    return np.clip(out.ravel()[: len(up) + (k - 1) * d], 0.0, None)


def effective_rf_1d(stack, layer_index: int, index: int = 0, *, window: tuple[int, int] | None = None
                    ) -> tuple[int, np.ndarray]:
    """Weights of each input pixel on output cell ``index`` when every kernel is all ones (1-D).

    Returns ``(first_pixel, weights)``: ``weights[i]`` is the number of paths from input pixel
    ``first_pixel + i`` to the cell (max and average pooling are treated as all-ones windows).
    Their sum is the product of the kernel sizes.

    A field wider than ``LIMITS["erf_side"]`` pixels, or any field with a ``window`` (first, end)
    of input pixels, is computed over that window only (default: ``erf_side`` pixels around the
    field's centre): the weights are then normalised to sum 1 over the whole field and cut to the
    window, so memory follows the window, never the field.

    >>> off, w = effective_rf_1d([(3, 2)] * 30, 29, window=(0, 8))
    >>> off, len(w), bool(w.sum() < 1e-6)
    (0, 8, True)
    """
    st = make_stack(stack)
    li = _index(st, layer_index)
    res = analyze(st)
    if window is None and res[li].rf <= LIMITS["erf_side"]:
        g = np.ones(1, dtype=np.float64)
        offset = int(index)
        for layer in reversed(st[: li + 1]):
            k, s, p, d = layer.as_tuple()
            n = len(g)
            new = np.zeros((n - 1) * s + (k - 1) * d + 1, dtype=np.float64)
            for t in range(k):
                new[t * d: t * d + (n - 1) * s + 1: s] += g
            g = new
            offset = offset * s - p
        return offset, g
    if window is None:
        centre = res[li].start + int(index) * res[li].jump
        half = LIMITS["erf_side"] // 2
        window = (int(math.floor(centre)) - half, int(math.floor(centre)) - half + LIMITS["erf_side"])
    lo, hi = int(window[0]), int(window[1])
    if hi - lo > LIMITS["erf_side"]:
        raise ValueError(f"The window is {hi - lo:,} px wide; the effective RF is computed over at most "
                         f"{LIMITS['erf_side']:,} px.")
    g = np.ones(1, dtype=np.float64)
    offset = int(index)
    for j in range(li, -1, -1):
        k, s, p, d = st[j].as_tuple()
        g = _spread(g, k, s, d) / k
        offset = offset * s - p
        # keep the positions (at layer j's input) whose own field can reach the window
        rf, jump, start = (res[j - 1].rf, res[j - 1].jump, res[j - 1].start) if j else (1, 1, 0.0)
        reach = (rf - 1) / 2 + 1 if j else 0  # a margin above the input; exact at the input
        q_lo = math.ceil((lo - reach - start) / jump)
        q_hi = math.floor((hi - 1 + reach - start) / jump)
        a, b = max(0, q_lo - offset), min(len(g), q_hi - offset + 1)
        if b <= a:
            return lo, np.zeros(0)
        g, offset = g[a:b], offset + a
    return offset, g


@dataclass(frozen=True)
class ERF:
    """Effective receptive field: ``weights[r, c]`` of input pixel ``(y0 + r, x0 + c)``, normalised to sum 1."""

    x0: int
    y0: int
    weights: np.ndarray

    def on_image(self, height: int, width: int) -> np.ndarray:
        """The weights pasted onto an (height, width) canvas; the padding part is dropped."""
        out = np.zeros((height, width), dtype=np.float64)
        h, w = self.weights.shape
        ys, xs = max(0, self.y0), max(0, self.x0)
        ye, xe = min(height, self.y0 + h), min(width, self.x0 + w)
        if ye > ys and xe > xs:
            out[ys:ye, xs:xe] = self.weights[ys - self.y0: ye - self.y0, xs - self.x0: xe - self.x0]
        return out


def _near(lo: int, hi: int, centre: int, side: int) -> tuple[int, int]:
    """The part of [lo, hi) at most ``side`` wide that is nearest ``centre`` (at least one pixel)."""
    if hi <= lo:
        return centre, centre + 1
    if hi - lo <= side:
        return lo, hi
    a = min(max(centre - side // 2, lo), hi - side)
    return a, a + side


def effective_rf(stack, layer_index: int, row: int = 0, col: int = 0, *,
                 window: tuple[int, int, int, int] | None = None) -> ERF:
    """2-D effective RF of cell (row, col): the outer product of the 1-D all-ones path counts.

    Exact for the linear stack with all-ones kernels; it is a discrete bell (a product of box
    convolutions), which is why the centre of the receptive field dominates. A field wider than
    ``LIMITS["erf_side"]`` is computed over ``window`` (x0, y0, x1, y1) in input pixels (cut to
    ``erf_side`` around the field's centre; default: that square), so its weights sum to at most 1.
    """
    st = make_stack(stack)
    li = _index(st, layer_index)
    r = analyze(st)[li]
    wy = wx = None
    if r.rf > LIMITS["erf_side"]:
        side = LIMITS["erf_side"]
        cy, cx = (int(math.floor(r.start + v * r.jump)) for v in (row, col))
        bx0, by0, bx1, by1 = window if window is not None else (cx - side // 2, cy - side // 2, cx + side, cy + side)
        wx, wy = _near(int(bx0), int(bx1), cx, side), _near(int(by0), int(by1), cy, side)
    y0, gy = effective_rf_1d(st, li, row, window=wy)
    x0, gx = effective_rf_1d(st, li, col, window=wx)
    if wy is None:
        gy, gx = gy / gy.sum(), gx / gx.sum()
    w = np.outer(gy, gx)
    w.setflags(write=False)
    return ERF(x0, y0, w)
