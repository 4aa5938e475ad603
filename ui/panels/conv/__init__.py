"""The convolution lab panel (package): ``panel`` wires the frame and the worker job, ``controls`` the
settings column, ``views`` the painted grids and colour bar, ``blocks`` what a step shows, ``image_page``
image mode's pictures, ``code`` the snippets to copy. The maths is in :mod:`cvexplorer.conv`."""

from .code import code_snippets
from .controls import PRESETS
from .panel import PanelWidget
from .views import Block, GridView

__all__ = ["PanelWidget", "GridView", "Block", "PRESETS", "code_snippets"]
