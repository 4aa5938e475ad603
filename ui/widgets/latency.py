"""LatencyDock: last / p50 / p95 / cold per stage of the current panel, with the device that ran it.

It reads :data:`cvexplorer.timing.RECORDER` on a 10 Hz timer and redraws only when the recorder
changed. Budget lines at 16.7 ms (60 fps) and 33 ms (30 fps) show at a glance what is real-time.
A GPU that was asked for but not used is shown as a warning with the reason, not hidden.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cvexplorer.timing import RECORDER, LatencyRecorder

from ..themes import THEMES, Theme
from .text import ElidedLabel

__all__ = ["LatencyDock", "BUDGETS_MS"]

BUDGETS_MS = (16.7, 33.3)
_COLUMNS = ("stage", "device", "last ms", "p50 ms", "p95 ms", "cold ms", "runs")


class LatencyDock(QDockWidget):
    deviceChanged = Signal(str)

    def __init__(self, parent=None, recorder: LatencyRecorder = RECORDER, theme: Theme | None = None) -> None:
        super().__init__("Latency", parent)
        self.setObjectName("LatencyDock")
        self.recorder = recorder
        self.theme = theme or THEMES["light"]
        self.panel_id = ""
        self._seen_version = -1
        self.last_redraw_ms = 0.0
        body = QWidget()
        # Compact by default: one line with the latest time of each stage and its device; the table
        # and sparkline open on demand, so the meters never take the picture's room.
        self.header = ElidedLabel("No timings yet: run something in this panel.")
        self.warning = ElidedLabel("", "Warning")
        self.warning.hide()
        self.details_btn = QPushButton("Details")
        self.details_btn.setCheckable(True)
        self.details_btn.setToolTip("Show the per-stage table (last, p50, p95, cold) and the sparkline.")
        self.details = QWidget()
        self.details.hide()
        self.details_btn.toggled.connect(self.details.setVisible)
        self.device_box = QComboBox()
        for d, t in (("auto", "Device: Auto"), ("gpu", "Device: GPU"), ("cpu", "Device: CPU")):
            self.device_box.addItem(t, d)
        self.device_box.setToolTip("Where onnxruntime models run; sessions are rebuilt when this changes.")
        self.device_box.currentIndexChanged.connect(self._on_device)
        self.opencl = QCheckBox("OpenCL")
        self.opencl.setToolTip("Let OpenCV use its OpenCL path where a device exists.")
        self.opencl.toggled.connect(self._on_opencl)
        self.export_btn = QPushButton("Export CSV…")
        self.export_btn.clicked.connect(self.export_csv)
        self.env = QLabel("")
        self.env.setObjectName("Muted")
        # the table and the sparkline are built with the first timings: pyqtgraph's import, a PlotWidget
        # and a first QTableWidget are a good part of the app's start-up, and an empty dock shows one line
        self.table = None
        self.plot = None
        self._y_top = 40.0
        self._curves: dict = {}
        self._curve_versions: dict[str, int] = {}

        top = QHBoxLayout()
        top.addWidget(self.header, 3)
        top.addWidget(self.warning, 2)
        top.addWidget(self.device_box)
        top.addWidget(self.details_btn)
        tools = QHBoxLayout()
        tools.addWidget(self.env, 1)
        tools.addWidget(self.opencl)
        tools.addWidget(self.export_btn)
        self._row = QHBoxLayout()
        dl = QVBoxLayout(self.details)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addLayout(tools)
        dl.addLayout(self._row, 1)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addLayout(top)
        lay.addWidget(self.details, 1)
        self.setWidget(body)
        self._timer = QTimer(self)
        self._timer.setInterval(100)  # ~10 Hz
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._env_known = False  # asked of OpenCV (an import) when the details first open
        self.details_btn.toggled.connect(self._init_env)

    def _ensure_table(self) -> QTableWidget:
        """The per-stage table (built once, before the sparkline so it keeps the left place)."""
        if self.table is None:
            self.table = QTableWidget(0, len(_COLUMNS))
            self.table.setHorizontalHeaderLabels(list(_COLUMNS))
            self.table.verticalHeader().hide()
            self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            header = self.table.horizontalHeader()
            header.setSectionResizeMode(header.ResizeMode.ResizeToContents)
            header.setStretchLastSection(True)
            self._row.insertWidget(0, self.table, 3)
        return self.table

    def _ensure_plot(self):
        """The sparkline of the last 60 runs per stage, with the 60 and 30 fps budget lines (built once)."""
        if self.plot is not None:
            return self.plot
        from .pg import pg  # lazy: pyqtgraph is imported when the first timings arrive, not at start-up

        self.plot = pg.PlotWidget()
        self.plot.setLabel("left", "ms")
        self.plot.setLabel("bottom", "run")
        self.plot.setMinimumWidth(260)
        self.plot.setYRange(0, self._y_top)
        self.plot.setXRange(-1, 60, padding=0)  # the last 60 runs (see refresh)
        self.plot.addLegend(offset=(5, 5))
        self._budget_lines = []
        for ms, label in zip(BUDGETS_MS, ("60 fps", "30 fps")):
            line = pg.InfiniteLine(pos=ms, angle=0, pen=self.theme.pen("muted", 1, "dash"),
                                   label=label, labelOpts={"position": 0.95, "color": self.theme.color("muted")})
            self.plot.addItem(line)
            self._budget_lines.append(line)
        self.theme.style_plot(self.plot)
        self._row.addWidget(self.plot, 2)
        return self.plot

    def _init_env(self, *_args) -> None:
        if self._env_known:
            return
        self._env_known = True
        from cvexplorer import runtime  # with the details: not needed to paint the first frame

        cv = runtime.opencv_info()
        self.opencl.setEnabled(cv["has_opencl"])
        self.opencl.setChecked(cv["use_opencl"])
        bits = [f"OpenCV {cv['version']}, {cv['threads']} threads"]
        gpu = runtime.gpu_info()
        if gpu:
            bits.append(f"{gpu['name']} ({gpu['memory_used_mb']:.0f}/{gpu['memory_total_mb']:.0f} MB)")
        self.env.setText(" · ".join(bits))

    def set_panel(self, panel_id: str) -> None:
        self.panel_id = panel_id
        self._seen_version = -1
        self.refresh()

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        if self.plot is not None:
            theme.style_plot(self.plot)
        self._seen_version = -1
        for c in self._curves.values():
            self.plot.removeItem(c)
        self._curves.clear()
        self._curve_versions.clear()
        self.refresh()

    def _on_device(self) -> None:
        dev = self.device_box.currentData()
        from cvexplorer import runtime

        runtime.set_preferred_device(dev)
        self.deviceChanged.emit(dev)

    def _on_opencl(self, on: bool) -> None:
        from cvexplorer import runtime

        runtime.set_opencl(on)

    def export_csv(self, path: str | None = None) -> str | None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export timings", "timings.csv", "CSV (*.csv)")
        if not path:
            return None
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(self.recorder.to_csv())
        except OSError as exc:
            self.warning.setText(f"Could not save {path}: {exc.strerror or exc}.")
            self.warning.show()
            return None
        return path

    def refresh(self, force: bool = False) -> None:
        if not force and self.recorder.version == self._seen_version:
            return
        t0 = time.perf_counter()
        self._seen_version = self.recorder.version
        stats = self.recorder.stats(self.panel_id) if self.panel_id else []
        if stats or self.table is not None:
            self._ensure_table().setRowCount(len(stats))
        warnings = []
        for r, s in enumerate(stats):
            cells = (s.stage, s.device, f"{s.last_ms:.2f}", f"{s.p50_ms:.2f}", f"{s.p95_ms:.2f}",
                     "—" if s.cold_ms is None else f"{s.cold_ms:.2f}", str(s.count))
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                if item.text() != text:  # unchanged cells cost nothing
                    item.setText(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if s.note:
                warnings.append(f"{s.stage}: {s.note}")
        if stats:
            self._ensure_plot()
            import numpy as np  # here, like pyqtgraph: the window paints its first frame before NumPy loads

        names = {s.stage for s in stats}
        for stage in list(self._curves):
            if stage not in names:
                self.plot.removeItem(self._curves.pop(stage))
                self._curve_versions.pop(stage, None)
        changed = False
        for i, s in enumerate(stats):
            curve = self._curves.get(s.stage)
            if curve is None:
                color = self.theme.series[i % len(self.theme.series)]
                curve = self.plot.plot([], [], pen=self.theme.pen(color, max(2, self.theme.line_px / 2)), name=s.stage,
                                       symbolSize=7, symbolBrush=color, symbolPen=None)
                self._curves[s.stage] = curve
            if self._curve_versions.get(s.stage) != s.version:
                hist = np.asarray(s.history[-60:], float)
                # a stage that ran once is one point, which a line alone does not draw: give it a dot
                # (dots on every point would triple the cost of a refresh)
                curve.setData(np.arange(len(hist)), hist)
                symbol = "o" if len(hist) == 1 else None
                if curve.opts["symbol"] != symbol:
                    curve.setSymbol(symbol)
                self._curve_versions[s.stage] = s.version
                changed = True
        if changed:
            # the last 60 runs from 0, and every stage on the chart: a 190 ms encoder is not clipped
            # at the 40 ms that keeps the 16.7 / 33 ms budget lines readable for fast stages
            top = max([40.0] + [float(np.nanmax(s.history[-60:])) * 1.1 for s in stats if len(s.history)])
            top = 40.0 * 2 ** np.ceil(np.log2(top / 40.0))  # steps of 2×: no re-layout on every new run
            if top != self._y_top:
                self.plot.setYRange(0, top, padding=0)
                self._y_top = top
        if stats:
            self.header.setText(f"Latency · {self.panel_id} · " + " · ".join(
                f"{s.stage} {s.last_ms:.1f} ms ({s.device})" for s in stats[:4]))
        else:
            self.header.setText(f"Latency · {self.panel_id or '—'} · no timings yet")
        self.warning.setText("  ".join(f"⚠ {w}" for w in warnings))
        self.warning.setVisible(bool(warnings))
        self.last_redraw_ms = (time.perf_counter() - t0) * 1000.0

    def stage_rows(self) -> list[tuple[str, ...]]:
        """The table's text, row by row (tests read what the user reads)."""
        table = self._ensure_table()
        return [tuple(table.item(r, c).text() for c in range(table.columnCount()))
                for r in range(table.rowCount())]
