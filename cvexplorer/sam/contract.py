"""The SAM1 ONNX contract: constants, model signatures, and telling variants apart (SAM_ONNX.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["UnsupportedModelError", "Signature", "detect_encoder", "detect_decoder", "guess_size", "IMG_SIZE",
           "PIXEL_MEAN", "PIXEL_STD", "EMBEDDING_SHAPE", "DECODER_INPUTS", "CACHE_ENTRIES"]


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


#: The most mask candidates and the largest fixed mask a decoder may declare (the contract says 1 or 4
#: candidates, masks at the photo's size and 256×256 low-resolution logits).
MAX_CANDIDATES = 16
MAX_DECLARED_MASK_PIXELS = 64_000_000


def _check_declared(shapes: dict, c: int | None, sig: Signature) -> None:
    """Refuse a decoder whose declared outputs break the contract before it is ever run."""
    if c is not None and not 1 <= c <= MAX_CANDIDATES:
        raise UnsupportedModelError(f"The decoder declares {c} mask candidates; SAM decoders give 1 or 4. Found "
                                    f"{sig.describe()}.")
    low = shapes.get("low_res_masks", ())
    if len(low) == 4 and all(isinstance(v, int) for v in low[2:]) and tuple(low[2:]) != (256, 256):
        raise UnsupportedModelError(f"The decoder's low_res_masks are {list(low)}, not [1, C, 256, 256]; found "
                                    f"{sig.describe()}.")
    masks = shapes.get("masks", ())
    if len(masks) != 4:
        raise UnsupportedModelError(f"The decoder's masks have rank {len(masks)}, not [1, C, H, W]; found "
                                    f"{sig.describe()}.")
    h, w = masks[2:]
    if isinstance(h, int) and isinstance(w, int) and h * w > MAX_DECLARED_MASK_PIXELS:
        raise UnsupportedModelError(f"The decoder declares {h}×{w} masks, more than this app takes "
                                    f"({MAX_DECLARED_MASK_PIXELS / 1e6:.0f} MP); found {sig.describe()}.")


def check_masks(masks: np.ndarray, image_hw: tuple[int, int]) -> None:
    """The decoder's masks must be at the photo's size and finite; else a sentence (never a wrong picture)."""
    h, w = image_hw
    if masks.ndim != 3 or masks.shape[1:] != (h, w):
        raise UnsupportedModelError(f"The decoder returned masks of shape {list(masks.shape)}, not [C, {h}, {w}] "
                                    "(the photo's size): it does not follow the SAM contract.")
    if not np.isfinite(masks).all():
        raise UnsupportedModelError("The decoder returned masks with NaN or infinite values: it does not follow "
                                    "the SAM contract.")


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
        shapes = dict((n, s) for n, s, _ in sig.outputs)
        shape = shapes["iou_predictions"]
        c = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        _check_declared(shapes, c, sig)
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
        # AnyLabeling-style exports may declare a fixed [H, W, 3] (e.g. [684, 1024, 3]): the declared
        # shape is the truth (a config file's sizes are not)
        fixed = tuple(shape[:2]) if all(isinstance(v, int) and v > 0 for v in shape[:2]) else None
        if fixed and max(fixed) > IMG_SIZE:
            raise UnsupportedModelError(f"The encoder wants {list(shape)} images, larger than SAM's 1024 frame; "
                                        f"found {sig.describe()}.")
        return {"style": "raw", "input": name, "fixed": fixed,
                "output": "image_embeddings" if "image_embeddings" in outs else next(iter(outs))}
    if len(shape) == 4:
        fixed = [v for v in shape[2:] if isinstance(v, int)]
        if fixed and any(v != IMG_SIZE for v in fixed):
            raise UnsupportedModelError(f"The encoder wants {list(shape)} images, not 1024x1024; found {sig.describe()}.")
        return {"style": "normalized", "input": name, "output": "image_embeddings" if "image_embeddings" in outs
                else next(iter(outs))}
    raise UnsupportedModelError(f"The encoder input {name} has rank {len(shape)}; SAM encoders take [h, w, 3] or "
                                f"[1, 3, 1024, 1024]. Found {sig.describe()}.")


def guess_size(path: Path) -> str:
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
