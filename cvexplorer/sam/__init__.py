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

The package splits along the seams of that story: :mod:`.contract` (constants, signatures,
variant detection), :mod:`.preprocessing` (the 1024 frame, encoder input, mask pictures),
:mod:`.prompts`, :mod:`.predictor` (model, results, embedding cache), :mod:`.fallback` (GrabCut)
and :mod:`.discovery` (finding model files). Every public name is importable from ``cvexplorer.sam``.

Example
-------
>>> scale, (h, w) = resize_longest(3000, 4000)
>>> round(scale, 3), (h, w)
(0.256, (768, 1024))
>>> transform_points([[4000, 3000]], (3000, 4000)).tolist()
[[1024.0, 768.0]]
"""

from __future__ import annotations

from .contract import (CACHE_ENTRIES, DECODER_INPUTS, EMBEDDING_SHAPE, IMG_SIZE, PIXEL_MEAN, PIXEL_STD, Signature,
                       UnsupportedModelError, detect_decoder, detect_encoder, guess_size)
from .discovery import ModelPair, find_models, model_dirs, models_cli, user_data_dir
from .fallback import ClassicalSegmenter
from .predictor import SamModel, SamPredictor, SamResult
from .preprocessing import (candidate_thumbnails, embedding_rgb, mask_outline, overlay_rgb, preprocess, resize_longest,
                            shrink_mask, transform_points)
from .prompts import Prompt, needs_box, prompt_args

__all__ = [
    "UnsupportedModelError", "Signature", "SamModel", "SamPredictor", "SamResult", "ClassicalSegmenter",
    "ModelPair", "find_models", "model_dirs", "models_cli", "user_data_dir", "resize_longest", "transform_points",
    "preprocess", "embedding_rgb", "mask_outline", "overlay_rgb", "shrink_mask", "candidate_thumbnails",
    "detect_encoder", "detect_decoder", "guess_size", "Prompt", "prompt_args", "needs_box",
    "IMG_SIZE", "PIXEL_MEAN", "PIXEL_STD", "EMBEDDING_SHAPE", "DECODER_INPUTS", "CACHE_ENTRIES",
]
