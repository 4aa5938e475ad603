"""Convolution, pooling and transposed convolution: a fast path, a teaching path and step traces.

Everything here follows the deep-learning definition (what PyTorch calls ``conv2d``): a
*cross-correlation* (the kernel is not flipped) over a zero-padded input,

.. math:: y[i, j] = b + \\sum_{a, b', c} k[a, b', c]\\, x_p[iS + aD,\\; jS + b'D,\\; c]

where :math:`x_p` is the input with ``P`` zeros on every side, ``S`` the stride and ``D`` the
dilation. The output side is ``formulas.conv_output_size`` (:math:`\\lfloor(N+2P-D(K-1)-1)/S\\rfloor+1`).

Two implementations compute it and are tested equal:

* ``method="opencv"``: :func:`cv2.filter2D` with ``BORDER_CONSTANT`` and an anchor chosen so that
  the filter's output starts at the first padded window, then subsampled for the stride (a
  dilated kernel is the kernel with ``D-1`` zeros between its taps). Used for photos.
* ``method="numpy"``: a vectorised window view (``sliding_window_view`` + ``einsum``), the
  definition written as array code. Used for the small grids students step through.

The ``*_trace`` twins return a lazy :class:`~cvexplorer.trace.Trace` whose step ``i`` names one
output position, its input window (and which taps fall in the padding), the products and the sum.

The package splits along its seams: :mod:`.geometry` (sizes, windows), :mod:`.convolution`,
:mod:`.pooling`, :mod:`.transposed`, :mod:`.kernels` (the gallery), :mod:`.feature_map` (image mode's
job on a photo) and :mod:`.explain` (output-size derivations and a window's arithmetic, as text).
Every public name is importable from ``cvexplorer.conv``.

References: Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016).

>>> x = np.arange(16.0).reshape(4, 4)
>>> conv2d(x, np.ones((2, 2)), stride=2)
array([[10., 18.],
       [42., 50.]])
"""

from __future__ import annotations

import numpy as np  # noqa: F401 - the doctest above uses np

from .convolution import conv2d, conv2d_trace
from .explain import (AxisSize, OutputSize, arithmetic_text, conv_size_derivation, matrix_text, output_size,
                      pool_size_derivation, tconv_size_derivation)
from .feature_map import FeatureMap, display_copy, feature_map, signed_maxabs_pool, tour_positions
from .geometry import ConvGeometry, Window, conv_geometry, window_at, window_under
from .kernels import KERNELS, fit_kernel, kernel_by_name, sized_kernel
from .pooling import pool2d, pool2d_trace
from .transposed import conv_transpose2d, conv_transpose2d_trace

__all__ = [
    "conv2d", "pool2d", "conv_transpose2d",
    "conv2d_trace", "pool2d_trace", "conv_transpose2d_trace",
    "conv_geometry", "ConvGeometry", "Window", "window_at", "window_under",
    "KERNELS", "kernel_by_name", "sized_kernel", "fit_kernel",
    "feature_map", "FeatureMap", "signed_maxabs_pool", "display_copy", "tour_positions",
    "output_size", "OutputSize", "AxisSize", "conv_size_derivation", "pool_size_derivation",
    "tconv_size_derivation", "arithmetic_text", "matrix_text",
]
