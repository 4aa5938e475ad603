"""The NMS panel: greedy NMS one pick at a time, Soft-NMS and class-aware NMS (see :mod:`.panel`)."""

from .panel import PanelWidget

__all__ = ["PanelWidget"]
