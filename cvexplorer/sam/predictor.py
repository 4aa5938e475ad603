"""A SAM encoder/decoder pair, its results, and the predictor that caches embeddings by image content."""

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

from .. import runtime
from ..runtime import ModelLoadError, create_session, refused_allocation
from ..text import fmt_bytes
from .contract import (CACHE_ENTRIES, EMBEDDING_SHAPE, IMG_SIZE, Signature, UnsupportedModelError, check_masks,
                       detect_decoder, detect_encoder, guess_size)
from .preprocessing import frame_scale, masks_from_low_res, preprocess

__all__ = ["SamModel", "SamResult", "SamPredictor"]


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
    encoder_fixed: tuple[int, int] | None = None  # a rank-3 encoder's declared (H, W), if fixed

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
        enc_p, dec_p = Path(encoder_path), Path(decoder_path)
        try:
            dec = create_session(dec_p, device=device, capped_memory=True)  # see SamPredictor.predict
        except ModelLoadError as exc:
            raise ModelLoadError(f"SAM decoder: {exc}") from None
        dinfo = detect_decoder(Signature.of(dec.session))
        try:
            enc = create_session(enc_p, device=device)
        except ModelLoadError as exc:
            raise ModelLoadError(f"SAM encoder: {exc}") from None
        einfo = detect_encoder(Signature.of(enc.session))
        fixed = einfo.get("fixed")
        style = ("fixed [{},{},3] input".format(*fixed) if fixed else "samexporter [h,w,3] input") \
            if einfo["style"] == "raw" else "[1,3,1024,1024] input"
        masks = f"{dinfo['masks']}-mask decoder" if dinfo["masks"] else "decoder"
        variant = f"{guess_size(enc_p)} ({style}, {masks})"
        return cls(enc, dec, str(enc_p), str(dec_p), einfo["style"], einfo["input"], einfo["output"],
                   dinfo["masks"], variant, fixed)

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

    def area_of(self, index: int) -> tuple[int, float]:
        """Candidate ``index``'s area: (pixels inside, share of the image)."""
        m = self.mask_of(index)
        n = int(np.count_nonzero(m))
        return n, n / m.size

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
        blob, small = preprocess(a, self.model.encoder_style, self.model.encoder_fixed)
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
        s = np.float32(frame_scale(h, w, self.model.encoder_fixed)[0])
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
        try:
            masks, iou, low = self.model.decoder.session.run(["masks", "iou_predictions", "low_res_masks"], feed)
        except Exception as exc:  # onnxruntime's own exception types
            asked = refused_allocation(exc)
            if asked is None:
                raise
            h, w = self.image_hw
            cap = runtime.CAPPED_ARENA_BYTES
            why = (f"more than a SAM decoder may use here ({fmt_bytes(cap)})" if asked > cap
                   else "and the computer could not provide it")
            raise UnsupportedModelError(
                f"The decoder asked for {fmt_bytes(asked)} of memory for one click, {why}: it does not follow the "
                f"SAM contract (four masks at the photo's size, {w}×{h}, take {fmt_bytes(16 * h * w)}).") from None
        t2 = time.perf_counter()
        scores = np.asarray(iou, np.float32).reshape(-1)
        k = len(scores)
        best = 1 + int(np.argmax(scores[1:])) if (k == 4 and n_prompts == 1) else 0
        if self.model.encoder_fixed is not None:  # the graph's own crop assumes a 1024 long side: redo it
            logits = masks_from_low_res(low[0], self.image_hw, self.model.encoder_fixed)
        else:
            logits = np.asarray(masks)
            if logits.ndim != 4:
                check_masks(logits, self.image_hw)  # raises: not [1, C, H, W]
            logits = logits[0]
        check_masks(logits, self.image_hw)
        logits.setflags(write=False)
        low_res = np.asarray(low[0], np.float32)
        res = SamResult(logits, scores, best, low_res, {}, self.encoder_run, self.model.device, "SAM")
        res.mask_of(best)  # binarise the mask that will be shown (the others on demand)
        t3 = time.perf_counter()
        res.timings.update(self.image_timings)  # preprocess + encoder of this image (see encoder_run)
        res.timings.update(prompt=(t1 - t0) * 1e3, decoder=(t2 - t1) * 1e3, postprocess=(t3 - t2) * 1e3)
        return res
