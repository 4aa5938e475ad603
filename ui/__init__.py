"""cvexplorer.ui: the Qt layer (PySide6 + pyqtgraph). Renders what the engine computes; holds no maths."""

import pyqtgraph as pg

# Row-major images everywhere: arrays are (H, W[, C]) exactly as NumPy and OpenCV hold them.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
