"""Receptive fields of layer stacks: presets, boxes on the input, effective RF, ONNX import.

A stack is a tuple of :class:`Layer` (conv or pooling, square kernels) along one path of a
network. Per-layer receptive field ``rf``, ``jump`` and ``start`` come from
:func:`cvexplorer.formulas.receptive_field` (pixel centres at integer coordinates).

Boxes (:func:`rf_box`) are in input pixel *indices*, half-open: ``(x0, y0, x1, y1)`` covers pixels
``x0 … x1-1``, which is also their extent in image coordinates where pixel ``i`` spans
``[i, i+1)``. Parts with negative coordinates or beyond the image are padding.

>>> [r.rf for r in analyze(PRESETS["vgg16"])][-1], [r.jump for r in analyze(PRESETS["vgg16"])][-1]
(212, 32)
>>> rf_box([Layer("conv", 3, 1, 1)], 0, 0, 0)
(-1, -1, 2, 2)
"""

from __future__ import annotations

from .core import (ERF, KINDS, LIMITS, Layer, analyze, effective_rf, effective_rf_1d, feature_size, first_covering_layer,
                   make_stack, rf_box)
from .onnx_import import stack_from_onnx
from .presets import PRESET_TITLES, PRESETS
from .views import CellView, LayerGrid, cell_near, cell_view, layer_grid, network_input

__all__ = ["LIMITS", "Layer", "make_stack", "analyze", "rf_box", "first_covering_layer", "ERF", "effective_rf",
           "effective_rf_1d", "PRESETS", "PRESET_TITLES", "stack_from_onnx", "feature_size", "network_input",
           "cell_near", "LayerGrid", "layer_grid", "CellView", "cell_view"]
