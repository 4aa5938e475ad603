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

The package splits along seams: :mod:`.shapes` (the arithmetic), :mod:`.metrics` (IoU, boundary F),
:mod:`.model` (the shipped ONNX models) and :mod:`.compare` (the model against its no-skip twin, feature
mosaics, mask pictures). Every public name is importable from ``cvexplorer.unet``.

>>> blocks = shape_trace(572, depth=4, base_channels=64, in_channels=1, padding="valid")
>>> blocks[-1].out_shape
(2, 388, 388)
>>> total_params(blocks)
31030658
"""

from __future__ import annotations

from .compare import (FeatureMosaic, MaskScores, Mosaic, SkipComparison, best_cols, block_mosaic, compare_skips,
                      difference_picture, disagreement_window, feature_mosaic, mask_picture, training_note)
from .metrics import boundary, boundary_f_score, iou
from .model import (UNetModel, UNetResult, clear_model_cache, count_onnx_params, load_model, metrics_path,
                    model_path, run_unet)
from .shapes import TINY_CONFIG, Block, feature_names, shape_trace, total_params

__all__ = [
    "Block", "shape_trace", "total_params", "TINY_CONFIG", "model_path", "metrics_path",
    "UNetResult", "UNetModel", "load_model", "run_unet", "iou", "boundary_f_score", "boundary",
    "count_onnx_params", "feature_names", "clear_model_cache",
    "MaskScores", "SkipComparison", "compare_skips", "disagreement_window", "best_cols", "Mosaic",
    "feature_mosaic", "FeatureMosaic", "block_mosaic", "mask_picture", "difference_picture", "training_note",
]
