"""Inference with the project's shipped tiny U-Net and its no-skip twin (ONNX Runtime)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..locations import shipped_model
from ..runtime import create_session
from ..timing import Stages
from .shapes import TINY_CONFIG

__all__ = ["model_path", "metrics_path", "count_onnx_params", "UNetResult", "UNetModel", "load_model",
           "clear_model_cache", "run_unet"]


def model_path(skips: bool = True) -> Path:
    """models/unet_tiny.onnx (with skips) or models/unet_noskip.onnx (the twin)."""
    return shipped_model("unet_tiny.onnx" if skips else "unet_noskip.onnx")


def metrics_path() -> Path:
    return shipped_model("unet_metrics.json")


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
