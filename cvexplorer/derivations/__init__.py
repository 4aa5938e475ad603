"""Worked derivations of :mod:`cvexplorer.formulas`: formula, substitution, result and meaning.

One :class:`Family` per kind of problem (``conv-out``, ``ransac``, ...). Both ``cvexplorer calc``
and the Calculator panel are generated from :data:`FAMILIES`: the parameters (with defaults,
ranges and the values practice problems draw from) and a ``derive(**values) -> Derivation``.
``derive`` raises the engine's ValueError for invalid settings.

Modules: :mod:`.model` (Param, Family, Derivation), :mod:`.layers` (sizes, parameters, memory,
receptive fields), :mod:`.scenes` (detection, stereo, geometry, latency), :mod:`.windows` (where
each kernel window sits, for the pictures) and :mod:`.families` (the table, practice problems).
A convolution's output size with its derivation is :func:`conv_output_derivation`.

>>> d = derive("conv-out", size=224, kernel=3, stride=2, padding=1)
>>> d.substitution
'O = ⌊(224 − 3 + 2·1)/2⌋ + 1 = 112'
>>> d.value
112
"""

from __future__ import annotations

from ..text import parse_floats, parse_ints, parse_layers  # noqa: F401 - re-exported: older scripts import them here
from .families import FAMILIES, answer_text, check_answer, derive, practice_problem, problem_from
from .layers import conv_output_derivation, quantized_bytes
from .model import Derivation, Family, Param
from .scenes import FRAME_MS, Budget, depth_error_curve, pipeline_budget
from .windows import KernelWindows, WindowRow, kernel_windows

__all__ = ["Param", "Family", "Derivation", "FAMILIES", "derive", "practice_problem", "problem_from", "check_answer",
           "answer_text", "parse_ints", "parse_floats", "parse_layers", "quantized_bytes", "pipeline_budget", "Budget",
           "FRAME_MS", "conv_output_derivation", "depth_error_curve", "KernelWindows", "WindowRow", "kernel_windows"]
