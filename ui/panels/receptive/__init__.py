"""Receptive-field panel: the exact input region behind any feature-map cell, on a photo."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
