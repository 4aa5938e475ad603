"""Segment Anything panel (see :mod:`.panel`)."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
