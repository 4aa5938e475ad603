"""Closed-form arithmetic of computer vision: shapes, parameters, receptive fields, stereo, RANSAC.

Every function is pure Python/NumPy, returns exact integers where the answer is an integer and
raises :class:`ValueError` with one student-readable sentence when an argument makes no sense.

Conventions
-----------
* Sizes are one spatial side (height or width) in pixels.
* Receptive fields: pixel *centres* sit at integer coordinates, so input pixel ``i`` covers
  ``[i - 0.5, i + 0.5]`` and the first input pixel's centre is 0. ``start`` is the centre of the
  first output cell's receptive field in those coordinates (it is negative when padding pulls the
  field off the image). The receptive field of output cell ``j`` covers the input pixel indices
  ``start + j*jump - (rf-1)/2 ... start + j*jump + (rf-1)/2`` (inclusive).

The modules, one per kind of question: :mod:`.shapes` (sizes, padding, parameters, MACs, memory,
latency bound), :mod:`.rf` (receptive fields), :mod:`.detection` (anchors, IoU, NMS cost),
:mod:`.depth` (stereo; depth itself is :func:`cvexplorer.stereo.depth_from_disparity`),
:mod:`.geometry` (RANSAC, homographies). Every public name is importable from here.
"""

from __future__ import annotations

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "transposed_conv_output_size",
    "same_padding",
    "conv_params",
    "depthwise_separable_params",
    "linear_params",
    "conv_macs",
    "activation_bytes",
    "RFResult",
    "receptive_field",
    "anchor_count",
    "iou",
    "nms_max_comparisons",
    "disparity_from_depth",
    "depth_from_disparity",
    "depth_uncertainty",
    "disparity_search_range",
    "ransac_iterations",
    "apply_homography",
    "min_inference_ms",
]

from ._check import MAX_SIDE, _finite, _int, _pair, _pos, _side  # noqa: F401 - the derivations check their own inputs with these
from .detection import anchor_count, iou, nms_max_comparisons
from .geometry import apply_homography, ransac_iterations
from .rf import RFResult, receptive_field
from .shapes import (activation_bytes, conv_macs, conv_output_size, conv_params, depthwise_separable_params,
                     linear_params, min_inference_ms, pool_output_size, same_padding, transposed_conv_output_size)

# last: depth calls cvexplorer.stereo, which may itself import names from this package (bound above by now)
from .depth import depth_from_disparity, depth_uncertainty, disparity_from_depth, disparity_search_range  # noqa: E402
