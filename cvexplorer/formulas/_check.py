"""Argument checks shared by the formulas: whole numbers, positive numbers, (h, w) pairs."""

from __future__ import annotations

import math

import numpy as np

#: The largest side, kernel, stride, padding or dilation the shape formulas accept (pixels): far past
#: any real layer, small enough that the pictures they draw stay small. Tests may lower it.
MAX_SIDE = 1_000_000


def _int(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise ValueError naming ``name`` when it is not a whole number >= minimum
    (and <= ``maximum`` when given)."""
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
    if maximum is not None and iv > maximum:
        raise ValueError(f"{name} must be at most {maximum:,}, got {iv:,}.")
    return iv


def _side(value, name: str, minimum: int = 1) -> int:
    """A size, kernel, stride, padding or dilation: a whole number from ``minimum`` to :data:`MAX_SIDE`."""
    return _int(value, name, minimum, MAX_SIDE)


def _finite(value: float, what: str, hint: str) -> float:
    """``value`` if it is a finite number, else a ValueError that says which result overflowed and why."""
    if not math.isfinite(value):
        raise ValueError(f"{what} is too large to compute ({hint}).")
    return value


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
