"""Segment Anything over ONNX Runtime: the heavy encoder once per image, the light decoder per click.

SAM splits into an image encoder (a ViT; seconds on a CPU) that turns the picture into an
embedding of 256 x 64 x 64 numbers, and a prompt encoder + mask decoder (milliseconds) that turns
that embedding plus your clicks into masks. :class:`SamPredictor` caches the embedding by image
content, so ten clicks on one photo run the encoder once.

The contract is the SAM1 family's ONNX export (official decoder export, MobileSAM, samexporter):

- encoder input either ``[1, 3, 1024, 1024]`` (we resize the long side to 1024, normalise with
  mean (123.675, 116.28, 103.53) / std (58.395, 57.12, 57.375), pad bottom/right with zeros), or
  rank-3 ``input_image [h, w, 3]`` (raw RGB 0-255, long side 1024; the graph does the rest);
- decoder inputs ``image_embeddings, point_coords, point_labels, mask_input, has_mask_input,
  orig_im_size``; point coordinates are scaled by ``s = 1024 / max(H, W)``; ``orig_im_size`` is
  (H, W); outputs ``masks`` (logits at the original size, > 0 is inside), ``iou_predictions``,
  ``low_res_masks``.

Other families (SAM 2, SAM-HQ, EfficientSAM, transformers.js exports, SAM 3) are recognised from
their input/output names and refused with :class:`UnsupportedModelError` naming what was found.

When no model is installed, :class:`ClassicalSegmenter` (OpenCV GrabCut seeded by the same clicks)
offers the same ``set_image`` / ``predict`` interface, clearly labelled as a classical fallback.

Example
-------
>>> scale, (h, w) = resize_longest(3000, 4000)
>>> round(scale, 3), (h, w)
(0.256, (768, 1024))
>>> transform_points([[4000, 3000]], (3000, 4000)).tolist()
[[1024.0, 768.0]]
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = [
    "UnsupportedModelError", "Signature", "SamModel", "SamPredictor", "SamResult", "ClassicalSegmenter",
    "ModelPair", "find_models", "model_dirs", "models_cli", "resize_longest", "transform_points",
    "preprocess", "embedding_rgb", "mask_outline", "overlay_rgb", "detect_encoder", "detect_decoder", "IMG_SIZE", "PIXEL_MEAN", "PIXEL_STD",
    "EMBEDDING_SHAPE", "DECODER_INPUTS",
]

IMG_SIZE = 1024
PIXEL_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
PIXEL_STD = np.array([58.395, 57.12, 57.375], np.float32)
EMBEDDING_SHAPE = (1, 256, 64, 64)
DECODER_INPUTS = ("image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input",
                  "orig_im_size")
#: Embeddings kept per predictor (4 MiB each: 256 * 64 * 64 float32).
CACHE_ENTRIES = 8


class UnsupportedModelError(ValueError):
    """The ONNX files are valid but are not a SAM1-family encoder/decoder pair."""


# -- geometry -----------------------------------------------------------------------------------------
def resize_longest(h: int, w: int, long_side: int = IMG_SIZE) -> tuple[float, tuple[int, int]]:
    """Scale and (h', w') that put the long side at ``long_side`` (SAM's ResizeLongestSide).

    ``h' = int(h * s + 0.5)`` with ``s = long_side / max(h, w)``.

    >>> resize_longest(4000, 3000)[1]
    (1024, 768)
    """
    if h <= 0 or w <= 0:
        raise ValueError(f"The image is {w}x{h} pixels; SAM needs at least 1x1.")
    s = long_side / max(h, w)
    return s, (int(h * s + 0.5), int(w * s + 0.5))


def transform_points(points, image_hw: tuple[int, int]) -> np.ndarray:
    """Original-image (x, y) pixel coordinates -> the 1024 frame the decoder expects: (x·s, y·s)."""
    p = np.asarray(points, np.float32).reshape(-1, 2)
    s, _ = resize_longest(*image_hw)
    return p * np.float32(s)


def preprocess(rgb: np.ndarray, style: str = "normalized") -> tuple[np.ndarray, np.ndarray]:
    """The encoder's input for ``rgb`` and the resized uint8 image (whose bytes key the cache).

    ``style='normalized'``: ``[1, 3, 1024, 1024]`` float32, (x - mean) / std, zero-padded
    bottom/right after normalising. ``style='raw'``: ``[h', w', 3]`` float32 RGB 0-255.
    """
    import cv2

    h, w = rgb.shape[:2]
    _, (nh, nw) = resize_longest(h, w)
    if (nh, nw) == (h, w):
        small = np.ascontiguousarray(rgb)
    elif nh * 2 < h:
        # Anti-aliased shrink without INTER_AREA's slow non-integer path: bilinear to twice the
        # target, then the exact 2x2 box average (mean difference from INTER_AREA ~0.5 grey level).
        mid = cv2.resize(rgb, (2 * nw, 2 * nh), interpolation=cv2.INTER_LINEAR)
        small = cv2.resize(mid, (nw, nh), interpolation=cv2.INTER_AREA)
    else:
        small = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if nh < h else cv2.INTER_LINEAR)
    if style == "raw":
        return small.astype(np.float32), small
    blob = np.zeros((1, 3, IMG_SIZE, IMG_SIZE), np.float32)
    for c in range(3):  # normalise straight into the padded planes (pad after normalising)
        np.multiply(np.subtract(small[:, :, c], PIXEL_MEAN[c], dtype=np.float32), 1.0 / PIXEL_STD[c],
                    out=blob[0, c, :nh, :nw])
    return blob, small


def embedding_rgb(embedding: np.ndarray) -> np.ndarray:
    """Project a (1, 256, 64, 64) embedding onto its 3 principal components -> (64, 64, 3) uint8.

    Each pixel's 256 numbers become a colour: similar colours mean the decoder sees similar features.
    """
    e = np.asarray(embedding, np.float32).reshape(256, -1)  # (C, P)
    side = int(round(np.sqrt(e.shape[1])))
    x = e - e.mean(axis=1, keepdims=True)
    cov = x @ x.T
    vals, vecs = np.linalg.eigh(cov.astype(np.float64))
    comps = vecs[:, ::-1][:, :3].astype(np.float32)  # top 3
    proj = comps.T @ x  # (3, P)
    lo = np.percentile(proj, 1, axis=1, keepdims=True)
    hi = np.percentile(proj, 99, axis=1, keepdims=True)
    out = np.clip((proj - lo) / np.maximum(hi - lo, 1e-6), 0, 1) * 255
    return np.ascontiguousarray(out.T.reshape(side, side, 3).astype(np.uint8))


def mask_outline(mask: np.ndarray, max_side: int = 1024) -> list[np.ndarray]:
    """Outer contours of a bool mask as (K, 2) float (x, y) polygons in full-image pixels.

    Traced on a copy whose long side is at most ``max_side`` (a 12 MP mask costs ~2 ms then).

    >>> m = np.zeros((40, 60), bool); m[10:20, 5:25] = True
    >>> [p.shape[1] for p in mask_outline(m)]
    [2]
    """
    import cv2

    m = np.asarray(mask, bool)
    h, w = m.shape
    s = min(1.0, max_side / max(h, w))
    small = m.view(np.uint8) if s == 1.0 else cv2.resize(m.view(np.uint8), (max(1, round(w * s)), max(1, round(h * s))),
                                                          interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(np.ascontiguousarray(small), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    sx, sy = w / small.shape[1], h / small.shape[0]
    return [c.reshape(-1, 2).astype(np.float32) * np.float32([sx, sy]) for c in contours if len(c) >= 3]


def overlay_rgb(rgb: np.ndarray, mask: np.ndarray, color=(0, 158, 115), alpha: float = 0.45,
                outline_px: int = 0) -> np.ndarray:
    """The image with the mask tinted in ``color`` (and an outline): what the panel exports as PNG.

    >>> img = np.zeros((8, 8, 3), np.uint8); m = np.zeros((8, 8), bool); m[2:6, 2:6] = True
    >>> out = overlay_rgb(img, m, color=(200, 0, 0), alpha=0.5)
    >>> out[3, 3].tolist(), out[0, 0].tolist()
    ([100, 0, 0], [0, 0, 0])
    """
    import cv2

    a = np.asarray(rgb, np.uint8)
    m = np.asarray(mask, bool)
    if m.shape != a.shape[:2]:
        raise ValueError(f"The mask is {m.shape[::-1]} but the image is {a.shape[1::-1]} (width, height).")
    tint = np.empty_like(a)
    tint[:] = np.asarray(color, np.uint8)
    blended = cv2.addWeighted(a, 1.0 - alpha, tint, alpha, 0.0)
    out = a.copy()
    out[m] = blended[m]
    if outline_px > 0:
        polys = [p.round().astype(np.int32) for p in mask_outline(m, max_side=max(m.shape))]
        cv2.polylines(out, polys, True, tuple(int(v) for v in color), int(outline_px), cv2.LINE_AA)
    return out


# -- signatures ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signature:
    """Names, shapes and dtypes of a model's inputs and outputs (read from the session)."""

    inputs: tuple[tuple[str, tuple, str], ...]
    outputs: tuple[tuple[str, tuple, str], ...]

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(n for n, _, _ in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(n for n, _, _ in self.outputs)

    @classmethod
    def of(cls, session) -> "Signature":
        def conv(args):
            return tuple((a.name, tuple(a.shape), str(a.type)) for a in args)

        return cls(conv(session.get_inputs()), conv(session.get_outputs()))

    def describe(self) -> str:
        def fmt(items):
            return ", ".join(f"{n}{list(s)}" for n, s, _ in items)

        return f"inputs {fmt(self.inputs)}; outputs {fmt(self.outputs)}"


_FOREIGN = (  # (name found in inputs/outputs, what it is)
    ("high_res_feats_0", "SAM 2"), ("image_embed", "SAM 2"), ("backbone_fpn_0", "SAM 3"),
    ("language_mask", "SAM 3"), ("interm_embeddings", "SAM-HQ"), ("hq_token_only", "SAM-HQ"),
    ("batched_point_coords", "EfficientSAM"), ("batched_images", "EfficientSAM"),
    ("input_points", "a transformers.js / Hugging Face SAM export"),
    ("image_positional_embeddings", "a transformers.js / Hugging Face SAM export"),
    ("pixel_values", "a transformers.js / Hugging Face SAM export"),
)


def _foreign(sig: Signature) -> str:
    names = set(sig.input_names) | set(sig.output_names)
    for key, what in _FOREIGN:
        if key in names:
            return f"{what} (it has '{key}')"
    return ""


def detect_decoder(sig: Signature) -> dict[str, Any]:
    """Classify a decoder signature: ``{'family': 'sam1', 'masks': 4|1|None}`` or raise."""
    foreign = _foreign(sig)
    if foreign:
        raise UnsupportedModelError(f"The decoder is {foreign}; only SAM1-family exports (SAM ViT-B/L/H, MobileSAM, "
                                    f"samexporter) are supported. Found {sig.describe()}.")
    names = set(sig.input_names)
    if names == set(DECODER_INPUTS):
        outs = set(sig.output_names)
        missing = {"masks", "iou_predictions", "low_res_masks"} - outs
        if missing:
            raise UnsupportedModelError(f"The decoder has SAM's inputs but lacks outputs {sorted(missing)}; found "
                                        f"{sig.describe()}.")
        shape = dict((n, s) for n, s, _ in sig.outputs)["iou_predictions"]
        c = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        return {"family": "sam1", "masks": c}
    if names == {"image_embeddings", "point_coords", "point_labels"}:
        raise UnsupportedModelError("The decoder takes only image_embeddings, point_coords and point_labels: an "
                                    "EdgeSAM / EfficientViT-SAM style export, which is not supported yet. Found "
                                    f"{sig.describe()}.")
    if len(sig.inputs) == 1 and len(sig.inputs[0][1]) in (3, 4):
        raise UnsupportedModelError(f"This looks like an encoder, not a decoder (one image input). Found {sig.describe()}.")
    raise UnsupportedModelError(f"Not a SAM decoder: expected inputs {', '.join(DECODER_INPUTS)}; found {sig.describe()}.")


def detect_encoder(sig: Signature) -> dict[str, Any]:
    """Classify an encoder signature: ``{'style': 'normalized'|'raw', 'input': name}`` or raise."""
    foreign = _foreign(sig)
    if foreign:
        raise UnsupportedModelError(f"The encoder is {foreign}; only SAM1-family exports are supported. Found "
                                    f"{sig.describe()}.")
    if set(DECODER_INPUTS) <= set(sig.input_names):
        raise UnsupportedModelError("This is a decoder, not an encoder (it takes point_coords); swap the two files.")
    if len(sig.inputs) != 1:
        raise UnsupportedModelError(f"A SAM encoder has one image input; found {sig.describe()}.")
    name, shape, dtype = sig.inputs[0]
    if "float" not in dtype:
        raise UnsupportedModelError(f"The encoder input {name} is {dtype}; SAM encoders take float32. Found "
                                    f"{sig.describe()}.")
    outs = {n: s for n, s, _ in sig.outputs}
    emb = outs.get("image_embeddings")
    if emb is None and len(outs) == 1:
        emb = next(iter(outs.values()))
    if emb is None:
        raise UnsupportedModelError(f"The encoder has no image_embeddings output; found {sig.describe()}.")
    if len(emb) == 4 and all(isinstance(v, int) for v in emb[1:]) and tuple(emb[1:]) != EMBEDDING_SHAPE[1:]:
        raise UnsupportedModelError(f"The encoder's embedding is {list(emb)}, not [1, 256, 64, 64]; found "
                                    f"{sig.describe()}.")
    if len(shape) == 3:
        return {"style": "raw", "input": name, "output": "image_embeddings" if "image_embeddings" in outs
                else next(iter(outs))}
    if len(shape) == 4:
        fixed = [v for v in shape[2:] if isinstance(v, int)]
        if fixed and any(v != IMG_SIZE for v in fixed):
            raise UnsupportedModelError(f"The encoder wants {list(shape)} images, not 1024x1024; found {sig.describe()}.")
        return {"style": "normalized", "input": name, "output": "image_embeddings" if "image_embeddings" in outs
                else next(iter(outs))}
    raise UnsupportedModelError(f"The encoder input {name} has rank {len(shape)}; SAM encoders take [h, w, 3] or "
                                f"[1, 3, 1024, 1024]. Found {sig.describe()}.")


def _guess_size(path: Path) -> str:
    """ViT-B / ViT-L / ViT-H / MobileSAM guessed from the encoder's name, else its file size."""
    n = path.name.lower()
    for key, label in (("mobile", "MobileSAM"), ("vit_h", "SAM ViT-H"), ("vit_l", "SAM ViT-L"),
                       ("vit_b", "SAM ViT-B"), ("vit-h", "SAM ViT-H"), ("vit-l", "SAM ViT-L"), ("vit-b", "SAM ViT-B")):
        if key in n:
            return label
    try:
        mb = sum(p.stat().st_size for p in path.parent.glob(path.stem + "*")) / 2**20
    except OSError:
        return "SAM1 family"
    if mb < 5:
        return "SAM1-contract test model"
    if mb < 80:
        return "MobileSAM-sized (guessed from size)"
    if mb < 600:
        return "SAM ViT-B-sized (guessed from size)"
    if mb < 1800:
        return "SAM ViT-L-sized (guessed from size)"
    return "SAM ViT-H-sized (guessed from size)"


# -- the model ----------------------------------------------------------------------------------------
@dataclass
class SamModel:
    """An encoder session and a decoder session that follow the SAM1 ONNX contract."""

    encoder: Any  # runtime.SessionInfo
    decoder: Any
    encoder_path: str
    decoder_path: str
    encoder_style: str  # 'normalized' ([1,3,1024,1024]) or 'raw' ([h,w,3])
    encoder_input: str
    encoder_output: str
    num_masks: int | None
    variant: str

    @classmethod
    def load(cls, encoder_path: str | os.PathLike, decoder_path: str | os.PathLike, *,
             device: str | None = None) -> "SamModel":
        """Open both files, check their signatures, and report the variant.

        Raises
        ------
        runtime.ModelLoadError
            A file is missing, empty, truncated or not ONNX (the message names which one).
        UnsupportedModelError
            Valid ONNX, but not a SAM1-family encoder/decoder (the message names what was found).
        """
        from .runtime import ModelLoadError, create_session

        enc_p, dec_p = Path(encoder_path), Path(decoder_path)
        try:
            dec = create_session(dec_p, device=device)
        except ModelLoadError as exc:
            raise ModelLoadError(f"SAM decoder: {exc}") from None
        dinfo = detect_decoder(Signature.of(dec.session))
        try:
            enc = create_session(enc_p, device=device)
        except ModelLoadError as exc:
            raise ModelLoadError(f"SAM encoder: {exc}") from None
        einfo = detect_encoder(Signature.of(enc.session))
        style = "samexporter [h,w,3] input" if einfo["style"] == "raw" else "[1,3,1024,1024] input"
        masks = f"{dinfo['masks']}-mask decoder" if dinfo["masks"] else "decoder"
        variant = f"{_guess_size(enc_p)} ({style}, {masks})"
        return cls(enc, dec, str(enc_p), str(dec_p), einfo["style"], einfo["input"], einfo["output"],
                   dinfo["masks"], variant)

    def reload(self, device: str | None = None) -> "SamModel":
        """The same files with sessions rebuilt (after the user changed the device)."""
        return SamModel.load(self.encoder_path, self.decoder_path, device=device)

    @property
    def device(self) -> str:
        return self.decoder.device

    @property
    def fallback(self) -> str:
        return self.encoder.fallback or self.decoder.fallback


@dataclass(frozen=True)
class SamResult:
    """Masks for one prompt set.

    logits : (K, H, W) float32 decoder logits at the original size (or bool masks from the fallback);
    scores : (K,) predicted IoU; best : the index to show (rule of SAM_ONNX.md); low_res_logits :
    (K, 256, 256) float32 to feed back as ``mask_input``; timings : ms per stage (``preprocess`` and
    ``encoder`` of the image, then ``prompt``, ``decoder``, ``postprocess`` of this click); encoder_run :
    'cold' (first run of the session), 'warm', or 'cached' (embedding reused: the encoder figure is
    the cache look-up).

    ``masks`` ((K, H, W) bool, ``logits > 0``) and ``mask`` (the best one) are computed on first
    use: binarising four 12 MP masks costs ~25 ms of memory traffic, one costs ~5 ms.
    """

    logits: np.ndarray
    scores: np.ndarray
    best: int
    low_res_logits: np.ndarray | None
    timings: dict[str, float]
    encoder_run: str = "cached"
    device: str = "CPU"
    source: str = "SAM"

    @cached_property
    def masks(self) -> np.ndarray:
        if self.logits.dtype == np.bool_:
            return self.logits
        return np.greater(self.logits, 0.0)

    def mask_of(self, index: int) -> np.ndarray:
        """Candidate ``index`` as an (H, W) bool mask (cached)."""
        if "masks" in self.__dict__ or self.logits.dtype == np.bool_:
            return self.masks[index]
        cache = self.__dict__.setdefault("_mask_cache", {})
        if index not in cache:
            cache[index] = np.greater(self.logits[index], 0.0)
        return cache[index]

    @property
    def mask(self) -> np.ndarray:
        return self.mask_of(self.best)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.logits.shape[1:])  # type: ignore[return-value]


class SamPredictor:
    """Runs the encoder once per image (cached by content) and the decoder per prompt set."""

    def __init__(self, model: SamModel, *, cache_entries: int = CACHE_ENTRIES) -> None:
        self.model = model
        self.cache_entries = int(cache_entries)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._encoder_runs = 0
        self.image_hw: tuple[int, int] | None = None
        self.embedding: np.ndarray | None = None
        self.image_timings: dict[str, float] = {}
        self.encoder_run = "cached"
        self._empty_mask = np.zeros((1, 1, 256, 256), np.float32)

    @property
    def encoder_runs(self) -> int:
        """How many times the encoder actually ran (cache hits do not count)."""
        return self._encoder_runs

    @property
    def cache_mb(self) -> float:
        with self._lock:
            return sum(e.nbytes for e in self._cache.values()) / 2**20

    @property
    def cache_limit_mb(self) -> float:
        return self.cache_entries * int(np.prod(EMBEDDING_SHAPE)) * 4 / 2**20

    def set_image(self, rgb: np.ndarray) -> dict[str, float]:
        """Encode ``rgb`` (H, W, 3 uint8) unless its embedding is cached; returns stage timings in ms."""
        a = np.asarray(rgb)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ValueError(f"SAM needs an (H, W, 3) uint8 RGB image, not {a.dtype} with shape {a.shape}.")
        t0 = time.perf_counter()
        blob, small = preprocess(a, self.model.encoder_style)
        key = hashlib.blake2b(small.data, digest_size=16, person=self.model.encoder_style[:16].encode()).hexdigest()
        key += f"{small.shape}"
        t1 = time.perf_counter()
        with self._lock:
            emb = self._cache.get(key)
            if emb is not None:
                self._cache.move_to_end(key)
        if emb is None:
            sess = self.model.encoder.session
            emb = sess.run([self.model.encoder_output], {self.model.encoder_input: blob})[0]
            emb = np.ascontiguousarray(emb, np.float32).reshape(EMBEDDING_SHAPE)
            emb.setflags(write=False)
            self.encoder_run = "cold" if self._encoder_runs == 0 else "warm"
            self._encoder_runs += 1
            with self._lock:
                self._cache[key] = emb
                while len(self._cache) > self.cache_entries:
                    self._cache.popitem(last=False)
        else:
            self.encoder_run = "cached"
        t2 = time.perf_counter()
        self.image_hw = a.shape[:2]
        self.embedding = emb
        self.image_timings = {"preprocess": (t1 - t0) * 1e3, "encoder": (t2 - t1) * 1e3}
        return dict(self.image_timings)

    def decoder_feed(self, points=(), labels=(), box=None, mask_input=None) -> tuple[dict[str, np.ndarray], int]:
        """The decoder's six inputs for these prompts, and the number of prompts (points + box)."""
        if self.embedding is None or self.image_hw is None:
            raise ValueError("Call set_image(rgb) before predict(): the decoder needs the image's embedding.")
        h, w = self.image_hw
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        lab = np.asarray(labels, np.float32).reshape(-1)
        if len(pts) != len(lab):
            raise ValueError(f"{len(pts)} points but {len(lab)} labels; give one label (1 or 0) per point.")
        if len(lab) and not np.isin(lab, (0.0, 1.0)).all():
            raise ValueError("Point labels must be 1 (foreground) or 0 (background).")
        n_prompts = len(pts)
        s = np.float32(IMG_SIZE / max(h, w))
        if box is not None:
            b = np.asarray(box, np.float32).reshape(4)
            x0, x1 = sorted((b[0], b[2]))
            y0, y1 = sorted((b[1], b[3]))
            pts = np.concatenate([pts, np.array([[x0, y0], [x1, y1]], np.float32)])
            lab = np.concatenate([lab, np.array([2, 3], np.float32)])
            n_prompts += 1
        else:
            # no box: one padding point (0, 0) labelled -1, as the official export expects
            pts = np.concatenate([pts, np.zeros((1, 2), np.float32)])
            lab = np.concatenate([lab, np.array([-1], np.float32)])
        if n_prompts == 0:
            raise ValueError("Give SAM at least one point or a box.")
        coords = pts * s  # original pixels -> the 1024 frame (the graph adds the half pixel)
        if mask_input is None:
            mi, has = self._empty_mask, np.zeros(1, np.float32)
        else:
            mi = np.asarray(mask_input, np.float32)
            if mi.size != 256 * 256:
                raise ValueError(f"mask_input must be 256x256 low-resolution logits, not shape {mi.shape}.")
            mi, has = mi.reshape(1, 1, 256, 256), np.ones(1, np.float32)
        feed = {"image_embeddings": self.embedding, "point_coords": coords[None], "point_labels": lab[None],
                "mask_input": mi, "has_mask_input": has, "orig_im_size": np.array([h, w], np.float32)}
        return feed, n_prompts

    def predict(self, points: Sequence = (), labels: Sequence = (), box=None, mask_input=None) -> SamResult:
        """Masks for positive (1) / negative (0) points in original pixel (x, y) and/or a box (x0, y0, x1, y1)."""
        t0 = time.perf_counter()
        feed, n_prompts = self.decoder_feed(points, labels, box, mask_input)
        t1 = time.perf_counter()
        masks, iou, low = self.model.decoder.session.run(["masks", "iou_predictions", "low_res_masks"], feed)
        t2 = time.perf_counter()
        scores = np.asarray(iou, np.float32).reshape(-1)
        k = len(scores)
        best = 1 + int(np.argmax(scores[1:])) if (k == 4 and n_prompts == 1) else 0
        logits = masks[0]
        logits.setflags(write=False)
        low_res = np.asarray(low[0], np.float32)
        res = SamResult(logits, scores, best, low_res, {}, self.encoder_run, self.model.device, "SAM")
        res.mask_of(best)  # binarise the mask that will be shown (the others on demand)
        t3 = time.perf_counter()
        res.timings.update(self.image_timings)  # preprocess + encoder of this image (see encoder_run)
        res.timings.update(prompt=(t1 - t0) * 1e3, decoder=(t2 - t1) * 1e3, postprocess=(t3 - t2) * 1e3)
        return res


# -- the classical fallback ---------------------------------------------------------------------------
class ClassicalSegmenter:
    """OpenCV GrabCut seeded by the clicks: the panel's fallback when no SAM model is installed.

    Not SAM: no embedding, no learned prior, no predicted IoU (``scores`` is NaN). It works on a
    copy whose long side is ``work_side`` pixels and scales the mask back up.

    >>> import numpy as np
    >>> img = np.full((120, 160, 3), 40, np.uint8); img[30:90, 50:110] = (220, 60, 30)
    >>> seg = ClassicalSegmenter(); _ = seg.set_image(img)
    >>> r = seg.predict([(80, 60)], [1])
    >>> bool(r.mask[60, 80]), bool(r.mask[5, 5])
    (True, False)
    """

    source = "GrabCut (classical fallback, not SAM)"

    def __init__(self, work_side: int = 512, iterations: int = 4) -> None:
        self.work_side, self.iterations = work_side, iterations
        self.image_hw: tuple[int, int] | None = None
        self._small: np.ndarray | None = None
        self._scale = 1.0
        self.image_timings: dict[str, float] = {}
        self.encoder_runs = 0

    def set_image(self, rgb: np.ndarray) -> dict[str, float]:
        import cv2

        a = np.asarray(rgb)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ValueError(f"GrabCut needs an (H, W, 3) uint8 RGB image, not {a.dtype} with shape {a.shape}.")
        t0 = time.perf_counter()
        h, w = a.shape[:2]
        s = min(1.0, self.work_side / max(h, w))
        self._scale = s
        self._small = np.ascontiguousarray(cv2.cvtColor(
            cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
            if s < 1 else a, cv2.COLOR_RGB2BGR))
        self.image_hw = (h, w)
        self.image_timings = {"preprocess": (time.perf_counter() - t0) * 1e3}
        return dict(self.image_timings)

    def predict(self, points: Sequence = (), labels: Sequence = (), box=None, mask_input=None) -> SamResult:
        import cv2

        if self._small is None or self.image_hw is None:
            raise ValueError("Call set_image(rgb) before predict().")
        t0 = time.perf_counter()
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        lab = np.asarray(labels, np.int32).reshape(-1)
        if len(pts) != len(lab):
            raise ValueError(f"{len(pts)} points but {len(lab)} labels; give one label (1 or 0) per point.")
        pos = pts[lab == 1] * self._scale
        neg = pts[lab == 0] * self._scale
        if not len(pos) and box is None:
            raise ValueError("GrabCut needs a positive click or a box to start from.")
        sh, sw = self._small.shape[:2]
        gc = np.full((sh, sw), cv2.GC_BGD, np.uint8)
        if box is not None:
            b = np.asarray(box, np.float32).reshape(4) * self._scale
            x0, x1 = sorted((b[0], b[2]))
            y0, y1 = sorted((b[1], b[3]))
        else:
            # a region around the positive clicks; everything outside is background
            r = 0.22 * max(sh, sw)
            x0, y0 = pos.min(axis=0) - r
            x1, y1 = pos.max(axis=0) + r
        x0, y0 = int(max(0, np.floor(x0))), int(max(0, np.floor(y0)))
        x1, y1 = int(min(sw, np.ceil(x1))), int(min(sh, np.ceil(y1)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise ValueError("The box is too small for GrabCut (under 2 pixels on the working copy).")
        gc[y0:y1, x0:x1] = cv2.GC_PR_BGD if box is None else cv2.GC_PR_FGD
        rad = max(2, int(round(0.015 * max(sh, sw))))
        for x, y in pos:
            cv2.circle(gc, (int(round(x)), int(round(y))), rad * 2, int(cv2.GC_PR_FGD), -1)
            cv2.circle(gc, (int(round(x)), int(round(y))), rad, int(cv2.GC_FGD), -1)
        for x, y in neg:
            cv2.circle(gc, (int(round(x)), int(round(y))), rad * 2, int(cv2.GC_BGD), -1)
        t1 = time.perf_counter()
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.grabCut(self._small, gc, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            pass  # e.g. only one class seeded: keep the seeds as they are
        small_mask = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.uint8)
        if len(pos):
            # keep the connected regions that contain a positive click
            n, comp = cv2.connectedComponents(small_mask, connectivity=8)
            keep = np.zeros(n, bool)
            for x, y in pos:
                xi, yi = min(sw - 1, max(0, int(x))), min(sh - 1, max(0, int(y)))
                keep[comp[yi, xi]] = comp[yi, xi] != 0
            if keep.any():
                small_mask = keep[comp].astype(np.uint8)
        t2 = time.perf_counter()
        h, w = self.image_hw
        full = cv2.resize(small_mask, (w, h), interpolation=cv2.INTER_NEAREST) > 0 if (sh, sw) != (h, w) \
            else small_mask > 0
        t3 = time.perf_counter()
        timings = {"prompt": (t1 - t0) * 1e3, "grabcut": (t2 - t1) * 1e3, "postprocess": (t3 - t2) * 1e3}
        return SamResult(full[None], np.array([np.nan], np.float32), 0, None, timings, "cached", "CPU",
                         self.source)


# -- finding models -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelPair:
    encoder: Path
    decoder: Path
    name: str


def user_data_dir() -> Path:
    base = os.environ.get("CVEXPLORER_DATA")
    return Path(base) if base else Path.home() / ".local" / "share" / "cvexplorer"


def model_dirs() -> list[Path]:
    """Where models are looked for: the repo's models/, the user's data dir, then $CVEXPLORER_MODELS."""
    dirs = [Path(__file__).resolve().parent.parent / "models", user_data_dir() / "models"]
    try:  # the installed package's models/ (the same folder in an editable install)
        import importlib.util

        spec = importlib.util.find_spec("cvexplorer.models")
        if spec and spec.submodule_search_locations:
            dirs.extend(Path(p) for p in spec.submodule_search_locations)
    except Exception:  # noqa: BLE001 - discovery must never fail
        pass
    extra = os.environ.get("CVEXPLORER_MODELS", "")
    dirs.extend(Path(p) for p in extra.split(os.pathsep) if p)
    out: list[Path] = []
    for d in dirs:
        r = d.resolve() if d.exists() else d
        if r not in out:
            out.append(r)
    return out


def _role(name: str) -> str:
    n = name.lower()
    if "encoder" in n or "image_encoder" in n or "vit_image" in n:
        return "encoder"
    if "decoder" in n or "prompt" in n:
        return "decoder"
    return ""


def find_models(dirs: Sequence[str | os.PathLike] | None = None) -> list[ModelPair]:
    """Encoder/decoder pairs by file name (``*encoder*.onnx`` with the matching ``*decoder*.onnx``).

    A folder with exactly one encoder and one decoder pairs them whatever their names. Signatures
    are not read here (that is :meth:`SamModel.load`'s job), so this is instant.
    """
    pairs: list[ModelPair] = []
    seen: set[tuple[Path, Path]] = set()
    for d in (model_dirs() if dirs is None else [Path(x) for x in dirs]):
        d = Path(d)
        if not d.is_dir():
            continue
        files = sorted(p for p in d.rglob("*.onnx") if p.is_file())
        encs = [p for p in files if _role(p.name) == "encoder"]
        decs = [p for p in files if _role(p.name) == "decoder"]
        used: set[Path] = set()
        for e in encs:
            for a, b in (("encoder", "decoder"), ("Encoder", "Decoder"), ("ENCODER", "DECODER")):
                cand = e.with_name(e.name.replace(a, b))
                if cand != e and cand in decs and cand not in used:
                    key = (e.resolve(), cand.resolve())
                    if key not in seen:
                        seen.add(key)
                        pairs.append(ModelPair(e, cand, _pair_name(e)))
                    used.add(cand)
                    used.add(e)
                    break
        by_dir: dict[Path, tuple[list[Path], list[Path]]] = {}
        for p in encs:
            if p not in used:
                by_dir.setdefault(p.parent, ([], []))[0].append(p)
        for p in decs:
            if p not in used:
                by_dir.setdefault(p.parent, ([], []))[1].append(p)
        for _, (es, ds) in by_dir.items():
            if len(es) == 1 and len(ds) == 1:
                key = (es[0].resolve(), ds[0].resolve())
                if key not in seen:
                    seen.add(key)
                    pairs.append(ModelPair(es[0], ds[0], _pair_name(es[0])))
    return pairs


def _pair_name(enc: Path) -> str:
    stem = enc.name[:-5] if enc.name.endswith(".onnx") else enc.stem
    for token in (".encoder", "_encoder", "-encoder", "encoder"):
        stem = stem.replace(token, "")
    return stem.strip("._-") or enc.parent.name


def models_cli(argv: Sequence[str]) -> int:
    """``cvexplorer models [DIR ...]``: the pairs found and each one's detected variant."""
    import argparse

    ap = argparse.ArgumentParser(prog="cvexplorer models", description="List SAM encoder/decoder pairs found in "
                                 "models/, the user data folder and $CVEXPLORER_MODELS (or the folders given).")
    ap.add_argument("dirs", nargs="*", help="folders to search instead of the default ones")
    args = ap.parse_args(list(argv))
    dirs = [Path(d) for d in args.dirs] if args.dirs else model_dirs()
    for d in dirs:
        if args.dirs and not d.is_dir():
            raise ValueError(f"{d} is not a folder.")
    pairs = find_models(dirs)
    print("Searched: " + ", ".join(str(d) for d in dirs))
    if not pairs:
        print("No SAM model pairs found (need *encoder*.onnx + *decoder*.onnx). See models/README.md; "
              "the panel uses its GrabCut fallback meanwhile.")
        return 0
    for p in pairs:
        try:
            m = SamModel.load(p.encoder, p.decoder, device="cpu")
            status = m.variant
        except ValueError as exc:
            status = f"NOT USABLE: {exc}"
        print(f"{p.name}\n  encoder: {p.encoder}\n  decoder: {p.decoder}\n  variant: {status}")
    return 0
