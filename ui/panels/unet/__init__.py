"""U-Net panel (see :mod:`.panel`)."""

from .panel import PanelWidget
from .views import UDiagram

__all__ = ["PanelWidget", "UDiagram"]
