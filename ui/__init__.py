"""cvexplorer.ui: the Qt layer (PySide6 + pyqtgraph). Renders what the engine computes; holds no maths.

pyqtgraph is imported by the widgets that draw with it (not here), so the welcome page and the
CLI's fast paths start without paying for it.
"""
