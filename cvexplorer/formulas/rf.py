"""Receptive field, jump and start of a layer stack (one spatial axis)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ._check import _int

__all__ = ["RFResult", "receptive_field"]


# ----------------------------------------------------------------------------- receptive field
@dataclass(frozen=True)
class RFResult:
    """One layer's receptive field: size ``rf``, ``jump`` (input pixels between neighbouring cells),
    ``start`` (centre of cell 0's field, pixel centres at integer coordinates) and ``out_size``
    (the feature map side when an input size was given, else None)."""

    rf: int
    jump: int
    start: float
    out_size: int | None = None


def _layer_tuple(layer, i: int) -> tuple[int, int, int, int]:
    if callable(getattr(layer, "as_tuple", None)):  # the engine's own layers (cvexplorer.receptive.Layer)
        layer = layer.as_tuple()
    try:
        parts = tuple(layer)
    except TypeError:
        raise ValueError(f"Layer {i + 1} must be a Layer or a tuple (kernel, stride[, padding[, dilation]]), "
                         f"got {layer!r}.") from None
    if not 2 <= len(parts) <= 4:
        raise ValueError(f"Layer {i + 1} must be a Layer or a tuple (kernel, stride[, padding[, dilation]]), "
                         f"got {layer!r}.")
    k = _int(parts[0], f"The kernel of layer {i + 1}")
    s = _int(parts[1], f"The stride of layer {i + 1}")
    p = _int(parts[2], f"The padding of layer {i + 1}", 0) if len(parts) > 2 else 0
    d = _int(parts[3], f"The dilation of layer {i + 1}") if len(parts) > 3 else 1
    return k, s, p, d


def receptive_field(layers: Iterable[Sequence[int]], input_size=None) -> list[RFResult]:
    r"""Receptive field, jump and start of every layer of a stack (one spatial axis).

    Each layer is ``(kernel, stride[, padding[, dilation]])`` or anything with an ``as_tuple()`` giving
    that, such as :class:`cvexplorer.receptive.Layer` (so the presets go in as they are).
    With :math:`K' = D(K-1)+1`:

    .. math::
        r_l = r_{l-1} + (K'_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1} S_l, \qquad
        s_l = s_{l-1} + \left(\tfrac{K'_l - 1}{2} - P_l\right) j_{l-1}

    starting from :math:`r_0 = 1, j_0 = 1, s_0 = 0` (pixel centres at integer coordinates).
    Given ``input_size`` each result also carries the output side ``out_size``.

    Examples
    --------
    >>> [r.rf for r in receptive_field([(3, 1), (3, 1), (2, 2)])]
    [3, 5, 6]
    >>> r = receptive_field([(7, 2, 3), (3, 2, 1)], input_size=224)[-1]
    >>> (r.rf, r.jump, r.start, r.out_size)
    (11, 4, 0.0, 56)
    >>> from cvexplorer.receptive import PRESETS
    >>> receptive_field(PRESETS["vgg16"])[-1].rf
    212
    """
    rf, jump, start = 1, 1, 0.0
    n = None if input_size is None else _int(input_size, "The input size")
    out: list[RFResult] = []
    for i, layer in enumerate(layers):
        k, s, p, d = _layer_tuple(layer, i)
        k_eff = d * (k - 1) + 1
        if n is not None:
            if k_eff > n + 2 * p:
                raise ValueError(
                    f"Layer {i + 1}: the kernel ({k_eff} pixels wide) is larger than its padded input "
                    f"({n} + 2·{p} = {n + 2 * p})."
                )
            n = (n + 2 * p - k_eff) // s + 1
        start = start + ((k_eff - 1) / 2 - p) * jump
        rf = rf + (k_eff - 1) * jump
        jump = jump * s
        out.append(RFResult(rf=rf, jump=jump, start=float(start), out_size=n))
    return out
