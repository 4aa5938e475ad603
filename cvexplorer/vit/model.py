"""The shipped tiny ViT (models/vit_tiny.onnx): run it and read its attention.

Trained by ``models/train_vit.py`` to tell which of four shapes is in a 64×64 scene. The ONNX file
outputs, besides the logits, every layer's per-head attention weights, the patch embeddings, the
position embeddings, and the normalised tokens each layer computes Q and K from; its Q/K weights
are named initialisers (``m.blocks.{l}.wq`` …), so the attention can be recomputed outside the model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..locations import shipped_model
from ..runtime import create_session
from ..timing import Stages
from .attention import MaskDraw, random_mask, rollout, token_weights
from .patches import masked_image
from .scenes import SHAPE_CLASSES, object_patches

__all__ = ["vit_model_path", "vit_metrics_path", "TinyViT", "ViTRun", "load_tiny_vit", "run_tiny_vit",
           "qk_weights", "ObjectAttention", "cls_object_attention", "attention_map", "clear_vit_cache",
           "MaskedRun", "masked_prediction"]


def vit_model_path() -> Path:
    return shipped_model("vit_tiny.onnx")


def vit_metrics_path() -> Path:
    return shipped_model("vit_metrics.json")


@dataclass(frozen=True)
class ViTRun:
    """One run of the tiny ViT on one image.

    ``image`` the 64×64 RGB the model saw; ``probs`` (K,) class probabilities, ``label`` the winner;
    ``attn`` (L, H, T, T) attention weights (rows sum to 1; token 0 is CLS); ``attn_in`` (L, T, D) the
    normalised tokens each layer's Q and K come from; ``patch_embeddings`` (N, D); ``pos`` (T, D);
    ``keep`` (T,) the token_keep input; ``rows``/``cols``/``patch`` the token grid; ``ms`` timings.
    """

    image: np.ndarray
    probs: np.ndarray
    label: int
    classes: tuple[str, ...]
    attn: np.ndarray
    attn_in: np.ndarray
    patch_embeddings: np.ndarray
    pos: np.ndarray
    keep: np.ndarray
    rows: int
    cols: int
    patch: int
    ms: dict
    device: str

    @property
    def name(self) -> str:
        return self.classes[self.label]

    @property
    def layers(self) -> int:
        return self.attn.shape[0]

    @property
    def heads(self) -> int:
        return self.attn.shape[1]

    def rollout(self) -> np.ndarray:
        """(T, T) attention rollout of this run (hidden tokens get no residual share)."""
        return rollout(self.attn, keep=self.keep)


class TinyViT:
    """A loaded tiny ViT: ``model.run(rgb, keep=None)`` -> :class:`ViTRun`."""

    def __init__(self, path: str | os.PathLike, *, device: str | None = None, threads: int | None = None):
        self.path = Path(path)
        self.info = create_session(self.path, device=device, threads=threads)
        self.session = self.info.session
        meta = self.session.get_modelmeta().custom_metadata_map or {}
        if "config" not in meta:
            raise ValueError(f"{self.path.name} has no ViT configuration in its metadata: it was not made by "
                             "models/train_vit.py.")
        self.config = json.loads(meta["config"])
        self.classes = tuple(json.loads(meta.get("classes", json.dumps(list(SHAPE_CLASSES)))))
        self.mean = np.array(json.loads(meta.get("mean", "[0.5,0.5,0.5]")), np.float32)
        self.std = np.array(json.loads(meta.get("std", "[0.25,0.25,0.25]")), np.float32)
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.grid = self.config["image"] // self.config["patch"]

    @property
    def device(self) -> str:
        return self.info.device

    @property
    def tokens(self) -> int:
        return self.grid * self.grid + 1

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        """The user's image shrunk (area average) to the model's square input, RGB uint8."""
        import cv2  # lazy: resizing is the only OpenCV call here

        a = np.asarray(rgb)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ValueError(f"The tiny ViT takes an RGB uint8 image (H, W, 3), not {a.dtype} {a.shape}.")
        s = int(self.config["image"])
        if a.shape[:2] == (s, s):
            return a
        return cv2.resize(a, (s, s), interpolation=cv2.INTER_AREA)

    def run(self, rgb: np.ndarray, *, keep: np.ndarray | None = None) -> ViTRun:
        st = Stages()
        with st("preprocess"):
            img = self.prepare(rgb)
            x = ((img.astype(np.float32) / 255.0 - self.mean) / self.std).transpose(2, 0, 1)[None]
            k = np.ones(self.tokens, np.float32) if keep is None else np.asarray(keep, np.float32).copy()
            if k.shape != (self.tokens,):
                raise ValueError(f"token_keep must have {self.tokens} entries (CLS + patches), not {k.shape}.")
            k[0] = 1.0  # the CLS token always stays
        with st("onnx"):
            outs = dict(zip(self.output_names, self.session.run(
                None, {"image": np.ascontiguousarray(x), "token_keep": k[None]})))
        depth = int(self.config["depth"])
        logits = outs["logits"][0].astype(np.float64)
        e = np.exp(logits - logits.max())
        attn = np.stack([outs[f"attn_{i}"][0] for i in range(depth)])
        attn_in = np.stack([outs[f"attn_in_{i}"][0] for i in range(depth)])
        for arr in (attn, attn_in):
            arr.setflags(write=False)
        return ViTRun(img, e / e.sum(), int(np.argmax(logits)), self.classes, attn, attn_in,
                      outs["patch_embeddings"][0], outs["pos_embedding"][0], k, self.grid, self.grid,
                      int(self.config["patch"]), dict(st.ms), self.device)


_CACHE: dict[tuple[str, str | None], TinyViT] = {}


def load_tiny_vit(path: str | os.PathLike | None = None, *, device: str | None = None) -> TinyViT:
    """The shipped model (cached per path and device). Raises ModelLoadError when missing."""
    p = str(path or vit_model_path())
    if (p, device) not in _CACHE:
        _CACHE[(p, device)] = TinyViT(p, device=device)
    return _CACHE[(p, device)]


def clear_vit_cache() -> None:
    """Forget loaded sessions (after the user changes the device)."""
    _CACHE.clear()


def run_tiny_vit(rgb: np.ndarray, *, keep: np.ndarray | None = None, device: str | None = None) -> ViTRun:
    """Run the shipped tiny ViT on an RGB uint8 image (shrunk to 64×64): probabilities and attention."""
    return load_tiny_vit(device=device).run(rgb, keep=keep)


def qk_weights(path: str | os.PathLike, layer: int) -> dict[str, np.ndarray]:
    """The Q and K projections of ``layer`` read from the ONNX file: ``wq, bq, wk, bk``."""
    import onnx  # lazy: only this reader needs the onnx package
    from onnx import numpy_helper

    m = onnx.load(os.fspath(path))
    inits = {t.name: t for t in m.graph.initializer}
    out = {}
    for w in ("wq", "bq", "wk", "bk"):
        name = f"m.blocks.{layer}.{w}"
        if name not in inits:
            raise ValueError(f"The model has no initialiser {name!r} (layer {layer} does not exist?).")
        out[w] = numpy_helper.to_array(inits[name])
    return out


def attention_map(run: ViTRun, query: int | str, *, layer: int = -1, head: int | None = None
                  ) -> tuple[np.ndarray, float]:
    """Where one token looks: a (rows, cols) map over the patches and the share left on CLS.

    ``query`` is a patch index (row-major), ``"cls"`` or ``"rollout"`` (the CLS row of the rollout,
    all layers, heads averaged). ``head`` None averages the heads.
    """
    if query == "rollout":
        row = run.rollout()[0]
    else:
        t = 0 if query == "cls" else int(query) + 1
        if not 0 <= t < run.attn.shape[-1]:
            raise ValueError(f"Patch {query} is not on the {run.rows}×{run.cols} grid.")
        if not -run.layers <= layer < run.layers:
            raise ValueError(f"The model has {run.layers} layers; layer {layer} does not exist.")
        a = run.attn[layer]
        if head is not None and not 0 <= head < run.heads:
            raise ValueError(f"The model has {run.heads} heads; head {head} does not exist.")
        row = a.mean(axis=0)[t] if head is None else a[head, t]
    return token_weights(row, run.rows, run.cols)


@dataclass(frozen=True)
class ObjectAttention:
    """How much of the CLS token's attention lands on the object: ``share`` = object patches / all
    patches, ``last_layer_mass`` and ``rollout_mass`` = the CLS row's weight on the object patches
    (heads averaged, restricted to the patches and renormalised); ``ratio`` = last-layer mass / share."""

    share: float
    last_layer_mass: float
    rollout_mass: float

    @property
    def ratio(self) -> float:
        return self.last_layer_mass / self.share


def cls_object_attention(run: ViTRun, mask: np.ndarray) -> ObjectAttention:
    """Measure the CLS token's attention on the object's patches (any object pixel in the patch)."""
    obj = object_patches(mask, run.patch).ravel()
    if not obj.any():
        raise ValueError("The mask is empty: there is no object to measure attention on.")

    def mass(row: np.ndarray) -> float:
        p = row[1:]
        return float(p[obj].sum() / p.sum())

    return ObjectAttention(float(obj.mean()), mass(run.attn[-1].mean(axis=0)[0]), mass(run.rollout()[0]))


@dataclass(frozen=True)
class MaskedRun:
    """The tiny ViT with every patch (``full``) and with MAE-style random masking (``masked``):
    ``draw`` says which patches stayed visible, ``view`` is the picture with the hidden ones filled."""

    full: ViTRun
    masked: ViTRun
    draw: MaskDraw
    view: np.ndarray


def masked_prediction(rgb: np.ndarray, ratio: float, *, seed: int = 0, fill=(128, 128, 128),
                      device: str | None = None, model: TinyViT | None = None) -> MaskedRun:
    """Run the tiny ViT twice: on every patch, and with a random ``ratio`` of them hidden from attention."""
    m = model or load_tiny_vit(device=device)
    full = m.run(rgb)
    draw = random_mask(m.grid * m.grid, ratio, seed=seed)
    masked = m.run(rgb, keep=draw.token_keep)
    return MaskedRun(full, masked, draw, masked_image(full.image, draw.visible, int(m.config["patch"]), fill=fill))
