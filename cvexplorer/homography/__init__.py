"""Homographies and stitching: features, matches, RANSAC in the open, warping and blending.

The pipeline, one function per stage so a panel can show each of them, one module per seam:

* :mod:`.features` — :func:`detect_and_match`: SIFT / ORB / AKAZE keypoints and Lowe's ratio test.
* :mod:`.geometry` — :func:`dlt`: the normalised direct linear transform (Hartley), 4 or more
  correspondences → H; :func:`project`, :func:`reprojection_error`.
* :mod:`.consensus` — :func:`ransac`: vectorised RANSAC (hypotheses solved and scored in batches,
  the stopping rule applied hypothesis by hypothesis, so the result is exactly the textbook loop's),
  the winner refined on its inliers; :func:`ransac_trace`, the same run as a
  :class:`~cvexplorer.trace.Trace`; :func:`ransac_bound`, ``N = log(1 − p) / log(1 − wˢ)``.
* :mod:`.pair` — :func:`estimate`: image pair → :class:`HomographyResult` with a ``reliable`` flag
  and a reason; :func:`analyse_pair` adds the traced RANSAC for the step-through.
* :mod:`.warping` and :mod:`.blending` — :func:`warp_and_blend` (the one home for blending),
  :func:`rectify`.
* :mod:`.stitching` — :func:`stitch`: panoramas chained to a central reference image.
* :mod:`.views` — what a picture of these needs: side-by-side pairs, outlines, label positions.

Conventions: points are (N, 2) float arrays of pixel coordinates (x right, y down); H maps image-1
points to image-2 points, ``x2 ~ H @ [x1, y1, 1]``. Every public name is importable from
``cvexplorer.homography`` itself.

>>> import numpy as np
>>> H = np.array([[1.1, 0.05, 10], [-0.02, 0.95, 5], [1e-4, 2e-4, 1.0]])
>>> src = np.array([[0, 0], [100, 0], [100, 80], [0, 80], [50, 40]], float)
>>> np.allclose(dlt(src, project(H, src)), H)
True
"""

from __future__ import annotations

from .blending import BLENDS, BlendResult, blend_warped, thick_seams
from .builtin import document_corners, sample_panorama, sample_pair, synthetic_view
from .consensus import ransac, ransac_bound, ransac_trace
from .features import DETECTORS, Features, MatchResult, available_detectors, detect, detect_and_match, match
from .geometry import DegenerateSampleError, dlt, grid_points, project, reprojection_error
from .pair import MIN_INLIER_RATIO, MIN_INLIERS, MIN_MATCHES, Cancelled, HomographyResult, check_homography, estimate
from .stitching import StitchResult, stitch
from .views import (PairAnalysis, SideBySide, analyse_pair, draw_subset, grid_error, model_outline, panorama_centres,
                    side_by_side)
from .warping import MAX_CANVAS_PIXELS, rectify, warp_and_blend

__all__ = [
    "DegenerateSampleError", "Features", "MatchResult", "HomographyResult", "BlendResult", "StitchResult",
    "detect", "match", "detect_and_match", "dlt", "project", "ransac", "ransac_trace", "estimate",
    "reprojection_error", "warp_and_blend", "stitch", "rectify", "ransac_bound", "check_homography",
    "grid_points", "sample_pair", "sample_panorama", "available_detectors", "DETECTORS", "BLENDS",
    "MIN_MATCHES", "MIN_INLIERS", "MIN_INLIER_RATIO", "MAX_CANVAS_PIXELS",
    "Cancelled", "PairAnalysis", "SideBySide", "analyse_pair", "grid_error", "side_by_side", "model_outline",
    "draw_subset", "panorama_centres", "blend_warped", "thick_seams", "synthetic_view", "document_corners",
]

# Public classes say they live here (tracebacks, reprs and pickles name the path users import from).
for _cls in (DegenerateSampleError, Cancelled, Features, MatchResult, HomographyResult, BlendResult, StitchResult,
             PairAnalysis, SideBySide):
    _cls.__module__ = __name__
del _cls
