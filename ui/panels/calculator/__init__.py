"""Calculator panel: every closed-form CV formula with its live derivation and picture, and practice."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
