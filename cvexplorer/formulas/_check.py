"""Argument checks shared by the formulas: whole numbers, positive numbers, (h, w) pairs."""

from __future__ import annotations

import math

import numpy as np


def _int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise ValueError naming ``name`` when it is not a whole number >= minimum."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, not {value!r}.")
    try:
        iv = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}.") from None
    if iv != value:
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if iv < minimum:
        if minimum == 1:
            raise ValueError(f"{name} must be at least 1, got {iv}.")
        if minimum == 0:
            raise ValueError(f"{name} cannot be negative, got {iv}.")
        raise ValueError(f"{name} must be at least {minimum}, got {iv}.")
    return iv


def _pos(value, name: str) -> float:
    """Return ``value`` as a positive finite float, or raise ValueError."""
    try:
        fv = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(fv) or fv <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return fv


def _pair(value, name: str) -> tuple[int, int]:
    """An int (square) or an (h, w) pair of positive ints."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be one number or an (height, width) pair, got {value!r}.")
        return _int(value[0], name), _int(value[1], name)
    v = _int(value, name)
    return v, v
