r"""Stereo matching: disparity from a rectified pair, depth from disparity, and evaluation.

For a rectified pair, a scene point seen at column :math:`x_L` in the left image appears at
:math:`x_R = x_L - d` on the *same row* of the right image. The disparity :math:`d` (pixels)
gives depth through :math:`Z = fB / (d + d_{offs})` (Middlebury convention; ``doffs`` is the
difference of the principal points, 0 for most rigs).

Every matcher does the same 1-D search: for each pixel, the cost of every candidate disparity along
the scanline (:func:`cost_volume_row` shows it), then the cheapest (with smoothness, for
semi-global matching). :func:`compute_disparity` returns float32 disparities **in pixels** with
NaN where no match was trusted — never OpenCV's raw int16 "×16 fixed point" output.

The default (``method="sgbm"``) is OpenCV's semi-global matcher (3-way, P1 = 8·3·b², P2 = 32·3·b²,
uniqueness 10 %, OpenCV's internal left-right consistency check, 1/16-pixel sub-pixel), followed by
filling of rejected pixels from the background side of each scanline and a colour-guided weighted
median (a constant-time weighted median built from guided filters, Ma et al., ICCV 2013) that snaps
disparity edges to image edges. Reference: H. Hirschmüller, "Stereo processing by semiglobal
matching and mutual information", PAMI 30(2), 2008.

The package splits along its seams; every name is importable from ``cvexplorer.stereo``:
``pairs`` (loading, side-by-side, the row check), ``matching`` (the matchers, the cost row),
``refine`` (fill, weighted median), ``depth`` (Z = fB/(d + doffs), its one home), ``evaluation``
(bad-N, error classes), ``files`` (calib.txt, PFM, PGM) and ``explore`` (the panel's calls).

>>> from cvexplorer.samples.stereo import stereo_scene
>>> left, right, gt = stereo_scene(size=(160, 120), seed=1)
>>> d = compute_disparity(left, right, num_disparities=32)
>>> d.dtype, d.shape
(dtype('float32'), (120, 160))
>>> evaluate(d, gt).bad < 10
True
"""

from __future__ import annotations

from .depth import DEFAULT_BASELINE, DEFAULT_F_PX, DepthAt, DepthCurve, depth_at, depth_curve, depth_from_disparity
from .evaluation import ErrorClasses, Metrics, error_classes, evaluate
from .explore import MatchSettings, PairCheck, StereoResult, check_pair, match_pair, pick_in_image, teaching_bytes
from .files import Calibration, StereoFileError, ground_truth_scale, read_calibration, read_ground_truth, read_pfm
from .matching import (MAX_NUM_DISPARITIES, METHODS, PixelCosts, compute_disparity, cost_volume_row, pixel_costs,
                       searched_disparities, sgbm_params)
from .pairs import (RowCheck, StereoPairError, check_rows, estimate_num_disparities, load_pair, split_halves,
                    split_side_by_side, vertical_offset)
from .refine import fill_invalid, weighted_median

__all__ = [
    "StereoPairError", "StereoFileError", "load_pair", "split_side_by_side", "split_halves", "estimate_num_disparities",
    "compute_disparity", "cost_volume_row", "depth_from_disparity", "read_calibration",
    "evaluate", "read_pfm", "read_ground_truth", "fill_invalid", "weighted_median",
    "vertical_offset", "sgbm_params", "METHODS", "MAX_NUM_DISPARITIES", "searched_disparities",
    "RowCheck", "check_rows", "Calibration", "ground_truth_scale", "Metrics", "ErrorClasses", "error_classes",
    "DepthAt", "depth_at", "DepthCurve", "depth_curve", "DEFAULT_F_PX", "DEFAULT_BASELINE",
    "PixelCosts", "pixel_costs", "MatchSettings", "PairCheck", "StereoResult", "check_pair", "match_pair",
    "pick_in_image", "teaching_bytes",
]
