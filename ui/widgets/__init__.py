"""Reusable widgets: ImageCanvas, TracePlayer, FormulaCard, LatencyDock and small helpers."""
