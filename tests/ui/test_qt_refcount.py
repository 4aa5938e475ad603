"""Regression: the installed PySide6 must not leak references through QObject.property().

PySide6 6.12.0 does, and pyqtgraph calls property() on every plot update: a lecture-length run
then aborts with "deallocating None". pyproject pins PySide6 < 6.12 for this reason.
"""

import sys

import numpy as np


def test_property_keeps_refcounts(qtbot):
    from PySide6.QtCore import QObject

    o = QObject()
    o.setProperty("flag", True)
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(500):
        o.property("never_set")
        o.property("flag")
    assert sys.getrefcount(None) - before_none > -50
    assert sys.getrefcount(True) - before_true > -50


def test_plot_updates_keep_none_alive(qtbot):
    from cvexplorer.ui.widgets.pg import pg

    w = pg.PlotWidget()
    qtbot.addWidget(w)
    curve = w.plot([0, 1], [0, 1])
    w.show()
    before = sys.getrefcount(None)
    for i in range(500):
        curve.setData(np.arange(10), np.arange(10) * i)
    assert sys.getrefcount(None) - before > -50
