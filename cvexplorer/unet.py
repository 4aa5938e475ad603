"""U-Net: every tensor shape and parameter count, plus inference with the project's tiny models.

Architecture (Ronneberger, Fischer & Brox, "U-Net", MICCAI 2015, arXiv:1505.04597), ``depth``
poolings deep, ``c_i = base_channels * 2**i``:

- encoder level ``i``: two 3x3 convolutions (+ReLU) to ``c_i`` channels, then a 2x2 max-pool;
- bottleneck: two 3x3 convolutions to ``c_depth``;
- decoder level ``i`` (from ``depth-1`` down to 0): up-sample x2 to ``c_i`` channels (a 2x2
  transposed convolution, stride 2, ``4 c_{i+1} c_i + c_i`` parameters; or bilinear x2 then a 1x1
  convolution, ``c_{i+1} c_i + c_i``), concatenate the encoder's level-``i`` output (the *skip*;
  with valid padding it is centre-cropped to the up-sampled size first), two 3x3 convolutions
  ``2 c_i -> c_i -> c_i``;
- head: a 1x1 convolution to ``num_classes``.

A 3x3 convolution with ``k`` input and ``m`` output channels has ``9 k m + m`` parameters; with
``padding="valid"`` each shrinks the map by 2, with ``"same"`` it keeps the size. The paper's
configuration (572x572, one channel, valid, transposed, depth 4, 64 base channels) ends at 388x388.

>>> blocks = shape_trace(572, depth=4, base_channels=64, in_channels=1, padding="valid")
>>> blocks[-1].out_shape
(2, 388, 388)
>>> total_params(blocks)
31030658
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Block", "shape_trace", "total_params", "TINY_CONFIG", "model_path", "metrics_path",
    "UNetResult", "UNetModel", "load_model", "run_unet", "iou", "boundary_f_score", "boundary",
    "count_onnx_params", "feature_names", "clear_model_cache",
]

#: The configuration of the shipped models (models/unet_tiny.onnx and its no-skip twin).
TINY_CONFIG: dict[str, Any] = dict(depth=3, base_channels=8, in_channels=3, num_classes=2,
                                   padding="same", upsample="transposed")

def _models_dir() -> Path:
    """models/ in a source checkout, or the installed ``cvexplorer.models`` package."""
    here = Path(__file__).resolve().parents[1] / "models"
    if (here / "unet_tiny.onnx").is_file():
        return here
    try:
        import importlib.util

        spec = importlib.util.find_spec("cvexplorer.models")
        if spec is not None and spec.submodule_search_locations:
            return Path(list(spec.submodule_search_locations)[0])
    except (ImportError, ValueError):
        pass
    return here


_MODELS_DIR = _models_dir()


# ------------------------------------------------------------------------------------------------
# Arithmetic (closed-form; mirrors cvexplorer.formulas)
# ------------------------------------------------------------------------------------------------
def _conv_params(c_in: int, c_out: int, kernel: int, bias: bool = True) -> int:
    from .formulas import conv_params

    return int(conv_params(c_in, c_out, kernel, bias=bias))


def _conv_out(n: int, kernel: int, padding: int, stride: int = 1) -> int:
    from .formulas import conv_output_size

    if n + 2 * padding < kernel:
        return 0
    return int(conv_output_size(n, kernel, stride=stride, padding=padding))


def _pool_out(n: int) -> int:
    from .formulas import pool_output_size

    return int(pool_output_size(n, 2))


def _up_out(n: int, upsample: str) -> int:
    from .formulas import transposed_conv_output_size

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


# ------------------------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------------------------
def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union of two binary masks (1.0 when both are empty).

    >>> iou(np.array([1, 1, 0]), np.array([1, 0, 0]))
    0.5
    """
    p, g = np.asarray(pred) > 0, np.asarray(gt) > 0
    union = np.logical_or(p, g).sum()
    return 1.0 if union == 0 else float(np.logical_and(p, g).sum() / union)


def boundary(mask: np.ndarray) -> np.ndarray:
    """Boundary pixels of a binary mask: foreground pixels with a 4-neighbour in the background
    (the image border does not count as background)."""
    import cv2

    m = (np.asarray(mask) > 0).astype(np.uint8)
    er = cv2.erode(m, np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8),
                   borderType=cv2.BORDER_REPLICATE)
    return (m > 0) & (er == 0)


def _bf_counts(pred, gt, tol):
    import cv2

    bp, bg = boundary(pred), boundary(gt)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tol + 1, 2 * tol + 1))
    near_g = cv2.dilate(bg.astype(np.uint8), k) > 0
    near_p = cv2.dilate(bp.astype(np.uint8), k) > 0
    return int((bp & near_g).sum()), int(bp.sum()), int((bg & near_p).sum()), int(bg.sum())


def boundary_f_score(pred: np.ndarray, gt: np.ndarray, *, tolerance: int = 1) -> float:
    """Boundary F-score (Csurka et al., BMVC 2013): precision = share of predicted boundary pixels
    within ``tolerance`` px of a true boundary pixel, recall = the converse, F = 2PR / (P + R).

    ``pred``/``gt`` may be single masks ``(H, W)`` or stacks ``(N, H, W)``; for a stack the counts
    are pooled over all images (so an image without boundaries does not make it undefined).

    >>> m = np.zeros((20, 20), np.uint8); m[5:15, 5:15] = 1
    >>> boundary_f_score(m, m)
    1.0
    >>> round(boundary_f_score(np.roll(m, 3, axis=1), m), 2)
    0.6
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"Prediction {pred.shape} and ground truth {gt.shape} differ in shape.")
    if pred.ndim == 2:
        pred, gt = pred[None], gt[None]
    tp_p = n_p = tp_g = n_g = 0
    for p, g in zip(pred, gt):
        a, b, c, d = _bf_counts(p, g, int(tolerance))
        tp_p, n_p, tp_g, n_g = tp_p + a, n_p + b, tp_g + c, n_g + d
    if n_p == 0 and n_g == 0:
        return 1.0
    prec = tp_p / n_p if n_p else 0.0
    rec = tp_g / n_g if n_g else 0.0
    return 0.0 if prec + rec == 0 else float(2 * prec * rec / (prec + rec))


# ------------------------------------------------------------------------------------------------
# Inference with the shipped ONNX models
# ------------------------------------------------------------------------------------------------
def model_path(skips: bool = True) -> Path:
    """models/unet_tiny.onnx (with skips) or models/unet_noskip.onnx (the twin)."""
    return _MODELS_DIR / ("unet_tiny.onnx" if skips else "unet_noskip.onnx")


def metrics_path() -> Path:
    return _MODELS_DIR / "unet_metrics.json"


def count_onnx_params(path: str | os.PathLike) -> int:
    """Number of scalars in an ONNX model's initialisers (its weights and biases)."""
    import onnx

    m = onnx.load(os.fspath(path))
    return int(sum(int(np.prod(t.dims)) if len(t.dims) else 1 for t in m.graph.initializer))


@dataclass(frozen=True)
class UNetResult:
    """A run: ``mask`` (H, W) uint8 class ids at the input size, ``prob`` foreground probability,
    ``features`` name -> (C, h, w) float32 (the padded input's maps), ``ms`` stage timings,
    ``device`` what ran it."""

    mask: np.ndarray
    prob: np.ndarray
    features: dict[str, np.ndarray]
    ms: dict[str, float]
    device: str
    input_shape: tuple[int, int]
    padded_shape: tuple[int, int]


class UNetModel:
    """A loaded tiny U-Net (or no-skip twin): ``model.run(rgb)`` -> :class:`UNetResult`."""

    def __init__(self, path: str | os.PathLike, *, device: str | None = None, threads: int | None = None):
        from .runtime import create_session

        self.path = Path(path)
        self.info = create_session(self.path, device=device, threads=threads)
        self.session = self.info.session
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map or {}
        self.config = json.loads(meta["config"]) if "config" in meta else dict(TINY_CONFIG)
        self.skips = meta.get("skips", "1") == "1"
        self.mean = np.array(json.loads(meta.get("mean", "[0.5,0.5,0.5]")), np.float32)
        self.std = np.array(json.loads(meta.get("std", "[0.25,0.25,0.25]")), np.float32)

    @property
    def device(self) -> str:
        return self.info.device

    def preprocess(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        m = 2 ** int(self.config["depth"])
        h, w = rgb.shape[:2]
        ph, pw = (-h) % m, (-w) % m
        img = rgb
        if ph or pw:
            img = np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > max(ph, pw) else "edge")
        x = (img.astype(np.float32) / 255.0 - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), img.shape[:2]

    def run(self, rgb: np.ndarray, *, features: bool = True) -> UNetResult:
        from .timing import Stages

        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"The U-Net takes an RGB uint8 image (H, W, 3), not {rgb.dtype} {rgb.shape}.")
        st = Stages()
        with st("preprocess"):
            x, padded = self.preprocess(rgb)
        names = self.output_names if features else ["logits"]
        with st("onnx"):
            outs = self.session.run(names, {self.input_name: x})
        with st("postprocess"):
            got = dict(zip(names, outs))
            logits = got["logits"][0]
            h, w = rgb.shape[:2]
            e = np.exp(logits - logits.max(axis=0, keepdims=True))
            prob = (e[1] / e.sum(axis=0))[:h, :w].astype(np.float32)
            mask = logits.argmax(axis=0)[:h, :w].astype(np.uint8)
            feats = {k: v[0] for k, v in got.items() if k != "logits"}
        return UNetResult(mask, prob, feats, dict(st.ms), self.device, (h, w), tuple(padded))


_CACHE: dict[tuple[str, str | None], UNetModel] = {}


def load_model(skips: bool = True, *, device: str | None = None) -> UNetModel:
    """The shipped model (cached per path and device). Raises ModelLoadError when missing."""
    key = (str(model_path(skips)), device)
    if key not in _CACHE:
        _CACHE[key] = UNetModel(model_path(skips), device=device)
    return _CACHE[key]


def clear_model_cache() -> None:
    """Forget loaded sessions (after the user changes the device, or the files on disk)."""
    _CACHE.clear()


def run_unet(rgb: np.ndarray, *, skips: bool = True, device: str | None = None,
             features: bool = True) -> UNetResult:
    """Run a shipped model on an RGB uint8 image: mask, foreground probability, feature maps, timings."""
    return load_model(skips, device=device).run(rgb, features=features)
