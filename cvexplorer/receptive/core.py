"""Layers and stacks, per-layer receptive fields, the box a cell sees, and the effective RF."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

import numpy as np

from .. import formulas as F

__all__ = ["KINDS", "Layer", "make_stack", "analyze", "feature_size", "rf_box", "first_covering_layer", "ERF",
           "effective_rf", "effective_rf_1d"]

KINDS = ("conv", "maxpool", "avgpool")


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
    """Validate a stack given as Layers, ``(kernel, stride[, padding[, dilation]])`` tuples or dicts."""
    out = []
    for i, l in enumerate(layers):
        if isinstance(l, Layer):
            layer = l
        elif isinstance(l, dict):
            layer = Layer(**l)
        else:
            try:
                parts = tuple(l)
            except TypeError:
                raise ValueError(f"Layer {i + 1} must be a Layer, a dict or a (kernel, stride, …) tuple, got {l!r}.") from None
            if parts and isinstance(parts[0], str):
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
def effective_rf_1d(stack, layer_index: int, index: int = 0) -> tuple[int, np.ndarray]:
    """Weights of each input pixel on output cell ``index`` when every kernel is all ones (1-D).

    Returns ``(first_pixel, weights)``: ``weights[i]`` is the number of paths from input pixel
    ``first_pixel + i`` to the cell (max and average pooling are treated as all-ones windows).
    Their sum is the product of the kernel sizes.
    """
    st = make_stack(stack)
    li = _index(st, layer_index)
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


def effective_rf(stack, layer_index: int, row: int = 0, col: int = 0) -> ERF:
    """2-D effective RF of cell (row, col): the outer product of the 1-D all-ones path counts.

    Exact for the linear stack with all-ones kernels; it is a discrete bell (a product of box
    convolutions), which is why the centre of the receptive field dominates.
    """
    y0, wy = effective_rf_1d(stack, layer_index, row)
    x0, wx = effective_rf_1d(stack, layer_index, col)
    w = np.outer(wy / wy.sum(), wx / wx.sum())
    w.setflags(write=False)
    return ERF(x0, y0, w)
