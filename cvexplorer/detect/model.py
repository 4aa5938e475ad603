"""Inference with the shipped tiny detector, ``models/detector_tiny.onnx`` (trained by
``models/train_detector.py``): a 112×112 RGB image in, the raw (1, 7, 7, 13) tensor out."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..locations import shipped_model
from ..runtime import create_session
from ..timing import Stages
from .layout import Decoded, decode
from .scenes import CLASS_NAMES

__all__ = ["model_path", "metrics_path", "DetectorModel", "Detection", "load_detector", "clear_model_cache"]


def model_path() -> Path:
    return shipped_model("detector_tiny.onnx")


def metrics_path() -> Path:
    return shipped_model("detector_metrics.json")


@dataclass(frozen=True)
class Detection:
    """One run: ``raw`` (S, S, B·5+C) as the model wrote it, ``decoded`` its S·S·B boxes in the
    coordinates of the image that was passed in, ``graph_boxes`` the boxes the ONNX graph decoded
    itself (at the model's input size), ``ms`` stage timings, ``device`` what ran it."""

    raw: np.ndarray
    decoded: Decoded
    graph_boxes: np.ndarray
    image_size: tuple[int, int]
    ms: dict
    device: str


class DetectorModel:
    """A loaded detector: ``model.run(rgb)`` → :class:`Detection`."""

    def __init__(self, path: str | os.PathLike | None = None, *, device: str | None = None):
        self.path = Path(path) if path is not None else model_path()
        self.info = create_session(self.path, device=device)
        self.session = self.info.session
        meta = self.session.get_modelmeta().custom_metadata_map or {}
        self.S, self.B, self.C = int(meta.get("S", 7)), int(meta.get("B", 2)), int(meta.get("C", 3))
        self.size = int(meta.get("size", 112))
        self.class_names = tuple(json.loads(meta["classes"])) if "classes" in meta else CLASS_NAMES
        self.mean, self.std = float(meta.get("mean", 0.5)), float(meta.get("std", 0.25))

    @property
    def device(self) -> str:
        return self.info.device

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """Resize to the model's square input (the whole image, aspect not kept: YOLOv1 does the same)."""
        import cv2  # lazy: start-up must not pay for OpenCV

        img = rgb if rgb.shape[:2] == (self.size, self.size) else cv2.resize(rgb, (self.size, self.size),
                                                                            interpolation=cv2.INTER_AREA)
        x = (img.astype(np.float32) / 255.0 - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def run(self, rgb: np.ndarray) -> Detection:
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"The detector takes an RGB uint8 image (H, W, 3), not {rgb.dtype} {rgb.shape}.")
        st = Stages()
        with st("preprocess"):
            x = self.preprocess(rgb)
        with st("onnx"):
            raw, graph_boxes = self.session.run(["raw", "boxes"], {"image": x})
        h, w = rgb.shape[:2]
        with st("decode"):
            d = decode(raw[0], self.S, self.B, self.C, image_size=(w, h))
        return Detection(raw[0], d, graph_boxes[0], (w, h), dict(st.ms), self.device)


_CACHE: dict[tuple[str, str | None], DetectorModel] = {}


def load_detector(*, device: str | None = None) -> DetectorModel:
    """The shipped detector (cached per device). Raises ModelLoadError when the file is missing."""
    key = (str(model_path()), device)
    if key not in _CACHE:
        _CACHE[key] = DetectorModel(model_path(), device=device)
    return _CACHE[key]


def clear_model_cache() -> None:
    _CACHE.clear()
