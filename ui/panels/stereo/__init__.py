"""The stereo depth panel (package: panel wiring, controls, views)."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
