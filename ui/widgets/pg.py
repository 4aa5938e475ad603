"""pyqtgraph, configured once: row-major images, exactly as NumPy and OpenCV hold them.

PySide6 6.12.0's ``QObject.property()`` drops a reference to the value it returns (None for an
unset name, True/False otherwise). pyqtgraph's PlotDataItem reads such properties on every
update, so after enough redraws the interpreter aborts ("deallocating None"). pyproject pins
PySide6 below 6.12; tests/ui/test_qt_refcount.py fails loudly on a build with that bug.
"""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

__all__ = ["pg"]
