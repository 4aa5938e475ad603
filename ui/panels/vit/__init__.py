"""The Vision Transformer lab (package): ``panel`` wires the frame and the model job, ``controls`` the
settings column, ``views`` the side views, ``cards`` the result card's text. The maths is in
:mod:`cvexplorer.vit`."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
