"""Homography & stitching panel (package): ``panel`` wires the frame and the jobs, ``controls`` the
settings column, ``views`` the drawing, ``cards`` the words of the result card."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
