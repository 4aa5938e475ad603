"""The U-Net's arithmetic: every block's tensor shape and parameter count (closed form)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..formulas import conv_output_size, conv_params, pool_output_size, transposed_conv_output_size

__all__ = ["Block", "shape_trace", "total_params", "feature_names", "TINY_CONFIG"]

#: The configuration of the shipped models (models/unet_tiny.onnx and its no-skip twin).
TINY_CONFIG: dict[str, Any] = dict(depth=3, base_channels=8, in_channels=3, num_classes=2,
                                   padding="same", upsample="transposed")

# ------------------------------------------------------------------------------------------------
# Arithmetic (closed-form; mirrors cvexplorer.formulas)
# ------------------------------------------------------------------------------------------------
def _conv_params(c_in: int, c_out: int, kernel: int, bias: bool = True) -> int:
    return int(conv_params(c_in, c_out, kernel, bias=bias))


def _conv_out(n: int, kernel: int, padding: int, stride: int = 1) -> int:
    if n + 2 * padding < kernel:
        return 0
    return int(conv_output_size(n, kernel, stride=stride, padding=padding))


def _pool_out(n: int) -> int:
    return int(pool_output_size(n, 2))


def _up_out(n: int, upsample: str) -> int:
    return int(transposed_conv_output_size(n, 2, stride=2)) if upsample == "transposed" else 2 * n


@dataclass(frozen=True)
class Block:
    """One box of the U diagram.

    ``kind`` is ``"input"``, ``"enc"``, ``"pool"``, ``"bottleneck"``, ``"up"``, ``"dec"`` or
    ``"head"``; ``level`` 0 is the full-resolution level. Shapes are ``(C, H, W)``. For a
    decoder block, ``skip_shape`` is the encoder tensor it concatenates (before cropping) and
    ``crop`` the pixels removed from each side of it (valid padding), ``in_shape`` is the shape
    after concatenation. ``layers`` lists ``(description, params)`` of the block's layers.
    """

    name: str
    kind: str
    level: int
    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    params: int
    layers: tuple[tuple[str, int], ...] = ()
    skip_from: str = ""
    skip_shape: tuple[int, int, int] | None = None
    crop: int = 0
    up_shape: tuple[int, int, int] | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict, compare=False)


def _size2(input_size) -> tuple[int, int]:
    if isinstance(input_size, (int, np.integer)):
        return int(input_size), int(input_size)
    h, w = input_size
    return int(h), int(w)


def shape_trace(input_size, *, depth: int = 4, base_channels: int = 64, in_channels: int = 3,
                num_classes: int = 2, padding: str = "same", upsample: str = "transposed",
                skips: bool = True) -> list[Block]:
    """Every block of a U-Net with its input/output shape and parameter count.

    Parameters
    ----------
    input_size : int or (H, W)
    depth : int
        Number of 2x2 max-pools (the paper: 4).
    base_channels : int
        Channels at the first level (the paper: 64); level ``i`` has ``base * 2**i``.
    padding : {'same', 'valid'}
    upsample : {'transposed', 'bilinear'}
    skips : bool
        False gives the no-skip (FCN-style) twin: the decoder sees only the up-sampled tensor.

    Raises
    ------
    ValueError
        A size that a pooling cannot halve exactly, or a map that shrinks to nothing.

    >>> [b.name for b in shape_trace(64, depth=1, base_channels=4)]
    ['input', 'enc0', 'pool0', 'bottleneck', 'up0', 'dec0', 'head']
    >>> shape_trace(64, depth=2, base_channels=4)[3].out_shape
    (8, 32, 32)
    """
    if padding not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', not {padding!r}.")
    if upsample not in ("transposed", "bilinear"):
        raise ValueError(f"upsample must be 'transposed' or 'bilinear', not {upsample!r}.")
    if depth < 1 or depth > 8:
        raise ValueError(f"depth must be between 1 and 8, not {depth}.")
    if base_channels < 1 or in_channels < 1 or num_classes < 1:
        raise ValueError("base_channels, in_channels and num_classes must be at least 1.")
    h, w = _size2(input_size)
    pad = 1 if padding == "same" else 0
    ch = [base_channels * 2 ** i for i in range(depth + 1)]
    blocks: list[Block] = [Block("input", "input", 0, (in_channels, h, w), (in_channels, h, w), 0)]

    def two_convs(c_in: int, c_out: int, hh: int, ww: int, where: str):
        layers = []
        for k_in in (c_in, c_out):
            nh, nw = _conv_out(hh, 3, pad), _conv_out(ww, 3, pad)
            if nh < 1 or nw < 1:
                raise ValueError(f"At {where} the map is {hh}x{ww}: a valid 3x3 convolution leaves "
                                 "nothing. Use a larger input or less depth.")
            hh, ww = nh, nw
            layers.append((f"conv3x3 {k_in}->{c_out} + ReLU", _conv_params(k_in, c_out, 3)))
        return hh, ww, tuple(layers)

    c = in_channels
    enc_out: list[tuple[int, int, int]] = []
    for i in range(depth):
        h2, w2, layers = two_convs(c, ch[i], h, w, f"encoder level {i}")
        blocks.append(Block(f"enc{i}", "enc", i, (c, h, w), (ch[i], h2, w2),
                            sum(p for _, p in layers), layers))
        enc_out.append((ch[i], h2, w2))
        if h2 % 2 or w2 % 2:
            raise ValueError(f"Encoder level {i} gives a {h2}x{w2} map: a 2x2 max-pool cannot halve an "
                             f"odd size exactly. Pick an input size divisible by 2**depth = {2 ** depth}"
                             + (" (valid padding also subtracts 4 per level)." if pad == 0 else "."))
        ph, pw = _pool_out(h2), _pool_out(w2)
        blocks.append(Block(f"pool{i}", "pool", i, (ch[i], h2, w2), (ch[i], ph, pw), 0,
                            (("maxpool 2x2", 0),)))
        c, h, w = ch[i], ph, pw
    h2, w2, layers = two_convs(c, ch[depth], h, w, "the bottleneck")
    blocks.append(Block("bottleneck", "bottleneck", depth, (c, h, w), (ch[depth], h2, w2),
                        sum(p for _, p in layers), layers))
    c, h, w = ch[depth], h2, w2
    for i in reversed(range(depth)):
        if upsample == "transposed":
            up_layers = ((f"up-conv 2x2 {c}->{ch[i]} (transposed, stride 2)",
                          _conv_params(c, ch[i], 2)),)
        else:
            up_layers = ((f"bilinear x2 + conv1x1 {c}->{ch[i]}", _conv_params(c, ch[i], 1)),)
        uh, uw = _up_out(h, upsample), _up_out(w, upsample)
        blocks.append(Block(f"up{i}", "up", i, (c, h, w), (ch[i], uh, uw),
                            up_layers[0][1], up_layers))
        sc, sh, sw = enc_out[i]
        crop = 0
        if skips:
            if (sh - uh) % 2 or (sw - uw) % 2 or sh < uh or sw < uw:
                raise ValueError(f"The skip at level {i} is {sh}x{sw} but the up-sampled map is "
                                 f"{uh}x{uw}: it cannot be centre-cropped to match.")
            crop = (sh - uh) // 2
            c_cat = ch[i] + sc
        else:
            c_cat = ch[i]
        h2, w2, layers = two_convs(c_cat, ch[i], uh, uw, f"decoder level {i}")
        blocks.append(Block(f"dec{i}", "dec", i, (c_cat, uh, uw), (ch[i], h2, w2),
                            sum(p for _, p in layers), layers,
                            skip_from=f"enc{i}" if skips else "",
                            skip_shape=enc_out[i] if skips else None, crop=crop,
                            up_shape=(ch[i], uh, uw)))
        c, h, w = ch[i], h2, w2
    head = ((f"conv1x1 {c}->{num_classes}", _conv_params(c, num_classes, 1)),)
    blocks.append(Block("head", "head", 0, (c, h, w), (num_classes, h, w), head[0][1], head))
    return blocks


def total_params(blocks: list[Block]) -> int:
    """Sum of the blocks' parameters."""
    return int(sum(b.params for b in blocks))


def feature_names(depth: int) -> list[str]:
    """The feature-map outputs the shipped models export (besides ``logits``).

    >>> feature_names(2)
    ['enc0', 'enc1', 'bottleneck', 'up1', 'dec1', 'up0', 'dec0']
    """
    names = [f"enc{i}" for i in range(depth)] + ["bottleneck"]
    for i in reversed(range(depth)):
        names += [f"up{i}", f"dec{i}"]
    return names
