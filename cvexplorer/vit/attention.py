"""Reading attention: single maps, rollout, position-embedding similarity and MAE-style masking.

Scaled dot-product attention (Vaswani et al. 2017) for one head with ``d``-dimensional queries::

    A = softmax(Q Kᵀ / √d),   Q = X W_q + b_q,   K = X W_k + b_k

Row ``i`` of ``A`` is how token ``i`` shares its attention over all tokens (it sums to 1).
Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020)
follows attention through the layers: each layer's head-averaged matrix gets the residual path
added, ``Â = ½A + ½I`` (rows renormalised), and the layers are multiplied, ``R = Â_L ⋯ Â_1``.
MAE (He et al., "Masked Autoencoders Are Scalable Vision Learners", CVPR 2022) hides a random 75 %
of the patches and lets the encoder see only the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["attention_from_qk", "rollout", "pos_similarity", "similarity_mosaic", "MaskDraw", "random_mask",
           "token_weights", "object_mass", "neighbour_similarity"]


def attention_from_qk(x: np.ndarray, wq: np.ndarray, bq: np.ndarray, wk: np.ndarray, bk: np.ndarray, *,
                      heads: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Per-head attention weights ``softmax(Q Kᵀ / √d + bias)`` recomputed with NumPy.

    ``x`` is (T, D) (the layer's normalised tokens), the weights (D, D) used as ``x @ W + b``;
    ``keep`` (T,) hides tokens whose entry is 0 from every row (MAE-style). Returns (heads, T, T).

    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.normal(size=(5, 4)), rng.normal(size=(4, 4))
    >>> a = attention_from_qk(x, w, np.zeros(4), w.T, np.zeros(4), heads=2)
    >>> a.shape, bool(np.allclose(a.sum(-1), 1))
    ((2, 5, 5), True)
    """
    x = np.asarray(x, np.float64)
    t, d = x.shape
    if d % heads:
        raise ValueError(f"The width {d} does not split over {heads} heads.")
    dh = d // heads
    q = (x @ wq + bq).reshape(t, heads, dh).transpose(1, 0, 2)
    k = (x @ wk + bk).reshape(t, heads, dh).transpose(1, 0, 2)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
    if keep is not None:
        s = s + (np.asarray(keep, np.float64) - 1.0)[None, None, :] * 1e4
    s -= s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def rollout(attn: np.ndarray, *, residual: float = 0.5, keep: np.ndarray | None = None) -> np.ndarray:
    """Attention rollout over layers: ``attn`` (L, H, T, T) -> (T, T), row ``i`` = how much each
    input token flows into token ``i`` at the top. Heads are averaged; ``residual`` is the weight
    of the identity (the skip connection). Hidden tokens (``keep`` 0) get no identity share.

    >>> a = np.full((2, 1, 3, 3), 1 / 3)
    >>> r = rollout(a)
    >>> bool(np.allclose(r.sum(1), 1)), round(float(r[0, 0]), 4)
    (True, 0.5)
    """
    a = np.asarray(attn, np.float64)
    if a.ndim != 4 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"Rollout takes (layers, heads, T, T) attention, not shape {a.shape}.")
    if not 0 <= residual < 1:
        raise ValueError(f"The residual weight must be in [0, 1), not {residual}.")
    t = a.shape[-1]
    eye = np.eye(t) if keep is None else np.diag((np.asarray(keep) > 0).astype(float))
    r = np.eye(t)
    for layer in a.mean(axis=1):
        m = (1 - residual) * layer + residual * eye
        m /= m.sum(axis=1, keepdims=True)
        r = m @ r
    return r


def token_weights(row: np.ndarray, rows: int, cols: int, *, cls: bool = True) -> tuple[np.ndarray, float]:
    """Split an attention row over ``[CLS] + patches`` into a (rows, cols) patch map and the CLS share.

    >>> m, c = token_weights(np.array([0.2, 0.1, 0.3, 0.4, 0.0]), 2, 2)
    >>> m.tolist(), c
    ([[0.1, 0.3], [0.4, 0.0]], 0.2)
    """
    r = np.asarray(row, np.float64)
    off = 1 if cls else 0
    if r.shape != (rows * cols + off,):
        raise ValueError(f"An attention row over {rows}×{cols} patches{' + CLS' if cls else ''} has "
                         f"{rows * cols + off} entries, not {r.shape}.")
    return r[off:].reshape(rows, cols), float(r[0]) if cls else 0.0


def pos_similarity(pos: np.ndarray, rows: int, cols: int, *, cls: bool = True) -> np.ndarray:
    """Cosine similarity of every patch's position embedding with every other:
    ``pos`` (T, D) -> (rows, cols, rows, cols); ``[r, c]`` is the map for the patch at row r, col c.

    >>> p = np.array([[0, 0], [1, 0], [1, 0.1], [0, 1], [-1, 0]], float)
    >>> s = pos_similarity(p, 2, 2)
    >>> s.shape, round(float(s[0, 0, 0, 0]), 3), round(float(s[0, 0, 1, 1]), 3)
    ((2, 2, 2, 2), 1.0, -1.0)
    """
    p = np.asarray(pos, np.float64)[1 if cls else 0:]
    if p.shape[0] != rows * cols:
        raise ValueError(f"{p.shape[0]} position embeddings do not fill a {rows}×{cols} patch grid.")
    n = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    return (n @ n.T).reshape(rows, cols, rows, cols)


def similarity_mosaic(sim: np.ndarray) -> np.ndarray:
    """Lay the (rows, cols, rows, cols) maps out as one (rows·rows, cols·cols) picture: the small
    map of patch (r, c) sits in tile (r, c), so the grid of maps reads like the image.

    >>> similarity_mosaic(np.arange(16.0).reshape(2, 2, 2, 2))[:, :2].tolist()
    [[0.0, 1.0], [2.0, 3.0], [8.0, 9.0], [10.0, 11.0]]
    """
    s = np.asarray(sim)
    r, c = s.shape[:2]
    return np.ascontiguousarray(s.transpose(0, 2, 1, 3).reshape(r * s.shape[2], c * s.shape[3]))


@dataclass(frozen=True)
class MaskDraw:
    """MAE-style random masking of ``patches`` tokens: ``visible`` (N,) bool, ``ratio`` asked for,
    ``hidden`` = round(ratio · N) patches hidden (never all of them)."""

    visible: np.ndarray
    ratio: float
    hidden: int

    @property
    def token_keep(self) -> np.ndarray:
        """(N + 1,) float32 with the CLS token first, as the tiny model's ``token_keep`` input."""
        return np.concatenate([[1.0], self.visible.astype(np.float32)]).astype(np.float32)


def random_mask(patches: int, ratio: float, *, seed: int = 0) -> MaskDraw:
    """Hide ``round(ratio · N)`` patches picked uniformly at random (a seeded permutation, as in MAE).

    >>> m = random_mask(196, 0.75, seed=1)
    >>> m.hidden, int(m.visible.sum())
    (147, 49)
    """
    if not 0 <= ratio < 1:
        raise ValueError(f"The masking ratio must be at least 0 and below 1 (something must stay visible), "
                         f"not {ratio}.")
    if patches < 1:
        raise ValueError("There are no patches to mask.")
    hidden = min(int(round(ratio * patches)), patches - 1)
    order = np.random.default_rng(seed).permutation(patches)
    visible = np.ones(patches, bool)
    visible[order[:hidden]] = False
    visible.setflags(write=False)
    return MaskDraw(visible, float(ratio), hidden)


def object_mass(weights: np.ndarray, on_object: np.ndarray) -> float:
    """The share of a (rows, cols) attention map that lands on the ``on_object`` patches
    (renormalised over the patches, so the CLS token's own share does not count).

    >>> object_mass(np.array([[0.1, 0.3], [0.0, 0.1]]), np.array([[False, True], [False, False]]))
    0.6
    """
    w = np.asarray(weights, np.float64)
    total = w.sum()
    return round(float(w[np.asarray(on_object, bool)].sum() / total), 12) if total > 0 else 0.0


def neighbour_similarity(sim: np.ndarray) -> tuple[float, float]:
    """Mean similarity of each patch's position embedding with its 4-neighbours, and with all the
    patches further away: (neighbours, far). Learned 2-D layout shows as neighbours > far.

    >>> s = pos_similarity(np.array([[0, 0], [1, 0], [.7, .7], [.7, -.7], [-1, 0]], float), 2, 2)
    >>> [round(v, 3) for v in neighbour_similarity(s)]
    [0.0, -0.5]
    """
    s = np.asarray(sim, np.float64)
    rows, cols = s.shape[:2]
    r, c = np.mgrid[0:rows, 0:cols]
    dist = np.abs(r[:, :, None, None] - r[None, None]) + np.abs(c[:, :, None, None] - c[None, None])
    near, far = s[dist == 1], s[dist > 1]
    return float(near.mean()) if near.size else 0.0, float(far.mean()) if far.size else 0.0
