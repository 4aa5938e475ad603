"""What a Vision Transformer costs: tokens, parameters, attention arithmetic and memory.

A pre-norm ViT (Dosovitskiy et al., ICLR 2021, arXiv:2010.11929) of width ``D``, ``L`` blocks,
``h`` heads and MLP width ``M = r·D`` on ``P×P`` patches of a ``C``-channel image has

- patch embedding: ``P²·C·D + D`` (a linear map of each flattened patch, i.e. a P×P stride-P conv);
- CLS token ``D``; position embeddings ``T·D`` (``T = N + 1`` tokens);
- per block: two LayerNorms ``4D``, Q/K/V ``3(D² + D)``, output projection ``D² + D``,
  MLP ``D·M + M + M·D + D``  ->  ``4D² + 2DM + 9D + M``;
- final LayerNorm ``2D`` and a classification head ``D·K + K``.

Attention in one block compares every token with every other: ``QKᵀ`` and ``A·V`` each take
``T²·D`` multiply-adds (summed over the heads), so the attention matrix costs grow as ``T²``
while the projections and the MLP grow as ``T``. Windowed attention (Swin; the windowed blocks of
SAM's image encoder, Kirillov et al. 2023) only compares tokens inside the same ``w×w`` window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .patches import TokenGrid, token_grid

__all__ = ["ViTSpec", "ViTCost", "vit_cost", "PRESETS", "preset", "WindowCost", "window_cost",
           "window_visibility", "attention_ratio",
           "PatchCost", "patch_cost"]


@dataclass(frozen=True)
class ViTSpec:
    """A ViT's shape. ``image`` is a side or (height, width); ``window`` > 0 makes the blocks windowed except those in ``global_blocks``;
    ``rel_pos`` adds SAM's decomposed relative-position tables (``2(2S−1)·D/h`` per block, S the
    window side, or the grid side in a global block); ``neck`` > 0 adds SAM's neck (1×1 conv D→neck,
    LayerNorm, 3×3 conv, LayerNorm, no biases); ``classes`` 0 means no head and no final LayerNorm."""

    name: str = "custom"
    image: int | tuple[int, int] = 224
    patch: int = 16
    width: int = 768
    depth: int = 12
    heads: int = 12
    mlp_ratio: float = 4.0
    classes: int = 1000
    channels: int = 3
    cls: bool = True
    window: int = 0
    global_blocks: tuple[int, ...] = ()
    rel_pos: bool = False
    neck: int = 0


#: Standard configurations (1000-class heads) and SAM's ViT-H image encoder.
PRESETS: dict[str, ViTSpec] = {s.name: s for s in (
    ViTSpec("ViT-B/16", 224, 16, 768, 12, 12),
    ViTSpec("ViT-L/16", 224, 16, 1024, 24, 16),
    ViTSpec("ViT-L/32", 224, 32, 1024, 24, 16),
    ViTSpec("ViT-H/14", 224, 14, 1280, 32, 16),
    ViTSpec("SAM ViT-H encoder", 1024, 16, 1280, 32, 16, classes=0, cls=False, window=14,
            global_blocks=(7, 15, 23, 31), rel_pos=True, neck=256),
    ViTSpec("tiny (this app)", 64, 8, 64, 3, 4, mlp_ratio=2.0, classes=4),  # models/train_vit.py CONFIG
)}


def preset(name: str) -> ViTSpec:
    """A configuration from :data:`PRESETS` by name.

    >>> preset("ViT-B/16").width
    768
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"There is no preset {name!r}; the presets are: {', '.join(PRESETS)}.") from None


@dataclass(frozen=True)
class ViTCost:
    """Counts for one image through a :class:`ViTSpec`.

    ``params`` is the total and ``parts`` its breakdown ``(name, count)``. Per block (global
    attention): ``attn_macs`` = 2·T²·D (QKᵀ and A·V), ``linear_macs`` = T·(4D² + 2DM) (Q, K, V, output
    and MLP), ``attn_bytes`` = h·T²·4 (float32 weights of one block). ``total_attn_macs`` sums every
    block (windowed blocks at their reduced cost).
    """

    spec: ViTSpec
    rows: int
    cols: int
    patches: int
    tokens: int
    params: int
    parts: tuple[tuple[str, int], ...]
    attn_macs: int
    linear_macs: int
    attn_bytes: int
    total_attn_macs: int
    total_macs: int

    @property
    def head_dim(self) -> int:
        return self.spec.width // self.spec.heads


def _block_params(d: int, m: int) -> int:
    return 4 * d * d + 2 * d * m + 9 * d + m


def vit_cost(spec: ViTSpec | None = None, **changes) -> ViTCost:
    """Tokens, parameters and attention cost of a ViT; keyword arguments change fields of ``spec``.

    >>> c = vit_cost(preset("ViT-B/16"))
    >>> c.tokens, c.params
    (197, 86567656)
    >>> vit_cost(preset("ViT-B/16"), patch=8).tokens
    785
    """
    s = replace(spec or ViTSpec(), **changes) if changes else (spec or ViTSpec())
    d, h = int(s.width), int(s.heads)
    if d < 1 or s.depth < 1 or h < 1:
        raise ValueError("Width, depth and heads must all be at least 1.")
    if d % h:
        raise ValueError(f"The width {d} must split evenly over {h} heads (each head gets D/h dimensions).")
    if s.mlp_ratio <= 0:
        raise ValueError(f"The MLP ratio must be positive, not {s.mlp_ratio}.")
    m = int(round(s.mlp_ratio * d))
    ih, iw = (s.image, s.image) if isinstance(s.image, (int, np.integer)) else s.image
    g = token_grid(ih, iw, s.patch, channels=s.channels, cls=s.cls)
    t = g.tokens
    parts = [("patch embedding", g.values_per_patch * d + d)]
    if s.cls:
        parts.append(("CLS token", d))
    parts.append(("position embeddings", t * d))
    parts.append((f"{s.depth} blocks", s.depth * _block_params(d, m)))
    if s.rel_pos:
        sides = [g.rows if (not s.window or i in s.global_blocks) else s.window for i in range(s.depth)]
        parts.append(("relative positions", sum(2 * (2 * side - 1) * (d // h) for side in sides)))
    if s.neck:
        parts.append(("neck", d * s.neck + 2 * s.neck + 9 * s.neck * s.neck + 2 * s.neck))
    if s.classes:
        parts.append(("final LayerNorm + head", 2 * d + d * s.classes + s.classes))
    attn = 2 * t * t * d
    total_attn = 0
    for i in range(s.depth):
        if s.window and i not in s.global_blocks:
            total_attn += 2 * window_cost(g.rows, g.cols, s.window).windowed_pairs * d
        else:
            total_attn += attn
    linear = t * (4 * d * d + 2 * d * m)
    return ViTCost(s, g.rows, g.cols, g.patches, t, int(sum(p for _, p in parts)), tuple(parts), attn, linear,
                   h * t * t * 4, total_attn, total_attn + s.depth * linear)


def attention_ratio(image: int, patch_a: int, patch_b: int, *, cls: bool = False) -> float:
    """How many times more attention (T² pairs) patch size ``patch_b`` costs than ``patch_a``.

    >>> attention_ratio(224, 16, 8)           # the 16× of halving the patch
    16.0
    >>> round(attention_ratio(224, 16, 8, cls=True), 2)
    15.88
    """
    ta = token_grid(image, image, patch_a, cls=cls).tokens
    tb = token_grid(image, image, patch_b, cls=cls).tokens
    return tb * tb / (ta * ta)


@dataclass(frozen=True)
class WindowCost:
    """Global against windowed attention on a ``rows × cols`` token grid with ``window × window``
    windows (the grid is padded up to whole windows, as SAM does): ``windows`` of ``window²``
    tokens, ``global_pairs`` = N², ``windowed_pairs`` = windows · window⁴, ``saving`` their ratio."""

    rows: int
    cols: int
    window: int
    windows: int
    global_pairs: int
    windowed_pairs: int

    @property
    def saving(self) -> float:
        return self.global_pairs / self.windowed_pairs


def window_cost(rows: int, cols: int, window: int) -> WindowCost:
    """Query-key pairs of global and windowed attention.

    >>> c = window_cost(64, 64, 14)            # SAM's encoder: 64×64 tokens, 14×14 windows
    >>> c.windows, c.global_pairs, c.windowed_pairs, round(c.saving, 1)
    (25, 16777216, 960400, 17.5)
    """
    if window < 1:
        raise ValueError(f"A window must be at least 1 token wide, not {window}.")
    if rows < 1 or cols < 1:
        raise ValueError(f"A {rows}×{cols} token grid has no tokens.")
    n = rows * cols
    nw = math.ceil(rows / window) * math.ceil(cols / window)
    return WindowCost(rows, cols, window, nw, n * n, nw * window ** 4)


def window_visibility(rows: int, cols: int, token: int, *, window: int = 0) -> np.ndarray:
    """(rows, cols) bool: which patch tokens ``token`` (row-major patch index) can attend to.
    ``window`` 0 is global attention (all of them); otherwise only those in its window.

    >>> window_visibility(4, 4, 5, window=2).astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    """
    if not 0 <= token < rows * cols:
        raise ValueError(f"Token {token} is not on the {rows}×{cols} grid (0 to {rows * cols - 1}).")
    if not window:
        return np.ones((rows, cols), bool)
    r, c = divmod(int(token), cols)
    rr, cc = np.mgrid[0:rows, 0:cols]
    return (rr // window == r // window) & (cc // window == c // window)


@dataclass(frozen=True)
class PatchCost:
    """An ``height × width`` picture in ``patch``-pixel patches through a model of ``spec``'s width,
    depth and heads: its ``grid``, its ``cost``, and how its attention compares with the same picture
    in ``reference_patch``-pixel patches (``reference_tokens``; ``ratio`` = T² / T_ref²)."""

    grid: TokenGrid
    cost: ViTCost
    reference_patch: int
    reference_tokens: int
    ratio: float


def patch_cost(height: int, width: int, patch: int, *, spec: ViTSpec | None = None,
               reference_patch: int = 16) -> PatchCost:
    """Tokens and attention cost of a picture at one patch size, against a reference patch size.

    >>> c = patch_cost(224, 224, 8, spec=preset("ViT-B/16"))
    >>> c.grid.tokens, c.reference_tokens, round(c.ratio, 2)
    (785, 197, 15.88)
    """
    base = spec or preset("ViT-B/16")
    cost = vit_cost(base, image=(int(height), int(width)), patch=int(patch))
    grid = token_grid(height, width, patch, channels=base.channels, cls=base.cls)
    ref = token_grid(height, width, reference_patch, channels=base.channels, cls=base.cls).tokens
    return PatchCost(grid, cost, int(reference_patch), ref, grid.tokens ** 2 / ref ** 2)
