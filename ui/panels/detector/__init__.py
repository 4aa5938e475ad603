"""The detector-anatomy panel (package): ``panel`` wires the frame and the worker jobs, ``controls``
the settings column, ``views`` the drawing on the canvas, the cell table and the PR plot. The
maths is in :mod:`cvexplorer.detect`."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
