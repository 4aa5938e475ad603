"""pyqtgraph, configured once: row-major images, exactly as NumPy and OpenCV hold them."""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

__all__ = ["pg"]
