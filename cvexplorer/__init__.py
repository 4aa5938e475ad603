"""cvexplorer: computer-vision arithmetic and algorithms made visible and checkable.

The engine (this package, minus ``cvexplorer.ui``) is pure NumPy / OpenCV / onnxruntime and never
imports Qt. Heavy libraries are imported inside the submodules that need them, so
``import cvexplorer`` stays cheap.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
