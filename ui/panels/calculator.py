"""Calculator panel: every closed-form CV formula with its live derivation, and practice problems.

Left: the formula families (grouped). Middle: the family's inputs (spin boxes, check boxes, text
fields) and a FormulaCard that shows the formula, the substituted values, the result and one line
of meaning; an invalid setting is explained in place (never clamped). Right: a picture where one
helps (RANSAC's N against the inlier ratio, the two IoU boxes, each FPN level's share of anchors,
the latency budget against 16.7 / 33 ms, the receptive field layer by layer). Below: practice
mode — a fresh random problem of the chosen family, the student's answer marked right or wrong,
then the derivation.

All arithmetic comes from :mod:`cvexplorer.derivations` (which calls :mod:`cvexplorer.formulas`).
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFormLayout, QGraphicsRectItem, QGroupBox, QHBoxLayout,
                               QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSpinBox, QSplitter,
                               QVBoxLayout, QWidget)

from cvexplorer import derivations as D

from ..widgets.formula import FormulaCard
from ..widgets.util import label
from .base import Panel

__all__ = ["PanelWidget"]

_FRACTIONS = {"inlier_ratio", "confidence", "utilization"}


class PanelWidget(Panel):
    accepts_images = False

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        self.family = "conv-out"
        self.inputs: dict[str, QWidget] = {}
        self.derivation: D.Derivation | None = None
        self.error = ""
        self.problem: tuple[dict, str, D.Derivation] | None = None
        self.practice_result: bool | None = None
        self._rng = random.Random()
        self._building = False

        # -- family list ------------------------------------------------------------------------
        self.families = QListWidget()
        self.families.setObjectName("Sidebar")
        group = None
        for key, fam in D.FAMILIES.items():
            if fam.group != group:
                group = fam.group
                head = QListWidgetItem(group.upper())
                head.setFlags(Qt.ItemFlag.NoItemFlags)
                f = QFont()
                f.setBold(True)
                head.setFont(f)
                self.families.addItem(head)
            it = QListWidgetItem("  " + fam.title)
            it.setData(Qt.ItemDataRole.UserRole, key)
            self.families.addItem(it)
        self.families.currentItemChanged.connect(ctx.guard(self._on_family_item, "choosing a formula"))

        # -- inputs + card ------------------------------------------------------------------------
        self.inputs_box = QGroupBox("Inputs")
        self.form = QFormLayout(self.inputs_box)
        self.card = FormulaCard("", "")
        from PySide6.QtWidgets import QSizePolicy

        self.card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.card.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.card.substituted.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reset_btn = QPushButton("Reset to the example")
        self.reset_btn.clicked.connect(ctx.guard(lambda: self.select_family(self.family, reset=True), "resetting"))

        # -- plot ---------------------------------------------------------------------------------
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(200)
        self.plot_caption = label("", "Muted", wrap=True)

        # -- practice -----------------------------------------------------------------------------
        self.practice_box = QGroupBox("Practice")
        self.question = label("Press “New problem” for a fresh question of this family.", wrap=True)
        self.answer = QLineEdit()
        self.answer.setPlaceholderText("your answer (a number)")
        self.answer.returnPressed.connect(ctx.guard(self.check, "checking the answer"))
        self.new_btn = QPushButton("New problem")
        self.new_btn.clicked.connect(ctx.guard(self.new_problem, "making a problem"))
        self.check_btn = QPushButton("Check")
        self.check_btn.clicked.connect(ctx.guard(self.check, "checking the answer"))
        self.show_btn = QPushButton("Show solution")
        self.show_btn.clicked.connect(ctx.guard(self.reveal, "showing the solution"))
        self.verdict = label("", "Big", wrap=True)
        self.solution = label("", "Mono", wrap=True)
        pl = QVBoxLayout(self.practice_box)
        pl.addWidget(self.question)
        row = QHBoxLayout()
        row.addWidget(self.answer, 1)
        for b in (self.check_btn, self.show_btn, self.new_btn):
            row.addWidget(b)
        pl.addLayout(row)
        pl.addWidget(self.verdict)
        pl.addWidget(self.solution)

        # -- layout -------------------------------------------------------------------------------
        left = QWidget()
        left.setObjectName("Controls")
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.families)
        mid = QWidget()
        ml = QVBoxLayout(mid)
        ml.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        inputs_col = QVBoxLayout()
        inputs_col.addWidget(self.inputs_box)
        inputs_col.addWidget(self.reset_btn)
        inputs_col.addStretch(1)
        top.addLayout(inputs_col, 3)
        right_col = QVBoxLayout()
        right_col.addWidget(self.card)
        right_col.addWidget(self.plot, 1)
        right_col.addWidget(self.plot_caption)
        right_col.addStretch(0)
        top.addLayout(right_col, 5)
        ml.addLayout(top, 1)
        ml.addWidget(self.practice_box)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(mid)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 5)
        split.setSizes([400, 1500])
        self.families.setMinimumWidth(int(ctx.theme.font_pt * 19))
        QVBoxLayout(self).addWidget(split)

        self.apply_theme(ctx.theme)
        self.select_family(self.family)

    # -- families & inputs ------------------------------------------------------------------------
    def _on_family_item(self, item, _prev=None) -> None:
        if item is None or self._building:
            return
        key = item.data(Qt.ItemDataRole.UserRole)
        if key and key != self.family:
            self.select_family(key)

    def select_family(self, key: str, reset: bool = False, values: dict | None = None) -> None:
        if key not in D.FAMILIES:
            raise ValueError(f"There is no formula family {key!r}.")
        fam = D.FAMILIES[key]
        self.family = key
        self._building = True
        try:
            for i in range(self.families.count()):
                if self.families.item(i).data(Qt.ItemDataRole.UserRole) == key:
                    self.families.setCurrentRow(i)
            while self.form.rowCount():
                self.form.removeRow(0)
            self.inputs = {}
            vals = fam.defaults()
            if values:
                vals.update({k: v for k, v in values.items() if k in vals})
            for p in fam.params:
                w = self._make_input(p, vals[p.name])
                self.inputs[p.name] = w
                self.form.addRow(p.label, w)
            self.inputs_box.setTitle(f"Inputs — {fam.title}")
        finally:
            self._building = False
        self.problem = None
        self.practice_result = None
        self.question.setText("Press “New problem” for a fresh question of this family." if fam.practice
                              else "This family has no practice problems.")
        for w in (self.answer, self.check_btn, self.show_btn, self.new_btn):
            w.setEnabled(fam.practice)
        self.answer.clear()
        self.verdict.setText("")
        self.solution.setText("")
        self.recompute()

    def _make_input(self, p: D.Param, value) -> QWidget:
        if p.kind == "int":
            w = QSpinBox()
            w.setRange(0, int(min(p.hi, 2**31 - 1)))  # 0 allowed: an invalid 0 is explained, not clamped away
            w.setSingleStep(int(p.step))
            w.setValue(int(value))
            if p.hi >= 10**5:
                w.setGroupSeparatorShown(True)
            w.valueChanged.connect(self._on_input)
        elif p.kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(3 if p.name in _FRACTIONS or p.name == "baseline" else 2)
            w.setRange(0.0, max(float(p.hi), 2.0) if p.name in _FRACTIONS else float(p.hi))
            w.setSingleStep(float(p.step) if p.step != 1 or p.name not in _FRACTIONS else 0.05)
            w.setValue(float(value))
            w.valueChanged.connect(self._on_input)
        elif p.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(self._on_input)
        else:
            w = QLineEdit(str(value))
            w.textChanged.connect(self._on_input)
        w.setObjectName(f"input_{p.name}")
        return w

    def values(self) -> dict[str, Any]:
        out = {}
        for name, w in self.inputs.items():
            if isinstance(w, QSpinBox):
                out[name] = w.value()
            elif isinstance(w, QDoubleSpinBox):
                out[name] = w.value()
            elif isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            else:
                out[name] = w.text()
        return out

    def set_value(self, name: str, value) -> None:
        """Set one input (tests and lessons); the card updates at once."""
        w = self.inputs[name]
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.setValue(value)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setText(str(value))

    def _on_input(self, *_a) -> None:
        if not self._building:
            self.ctx.guard(self.recompute, "computing the formula")()

    # -- compute & render -------------------------------------------------------------------------
    def recompute(self) -> None:
        fam = D.FAMILIES[self.family]
        try:
            d = D.derive(self.family, **self.values())
        except ValueError as exc:
            self.derivation = None
            self.error = str(exc)
            self.card.set_formula(self.card.formula.text() or "", fam.title)
            self.card.show_error(f"⚠ {exc}")
            self._draw_plot(None)
            return
        self.derivation = d
        self.error = ""
        self.card.set_formula(d.formula, fam.title)
        self.card.show_result(d.substitution, d.result, d.meaning)
        self._draw_plot(d)

    def _style_axis(self, left: str = "", bottom: str = "") -> None:
        th = self.ctx.theme
        pi = self.plot.getPlotItem()
        f = QFont()
        f.setPointSizeF(th.font_pt * 0.8)
        for ax, text in (("left", left), ("bottom", bottom)):
            a = pi.getAxis(ax)
            a.setPen(pg.mkPen(th.fg))
            a.setTextPen(pg.mkPen(th.fg))
            a.setTickFont(f)
            a.setLabel(text, **{"font-size": f"{int(th.font_pt * 0.85)}pt", "color": th.fg})
            a.setStyle(tickTextOffset=int(th.font_pt * 0.4))

    def _draw_plot(self, d: D.Derivation | None) -> None:
        th = self.ctx.theme
        pi = self.plot.getPlotItem()
        pi.clear()
        for ax in ("left", "bottom"):
            pi.getAxis(ax).setTicks(None)
        pi.enableAutoRange()
        pi.setLogMode(False, False)
        pi.getViewBox().invertY(False)
        pi.getViewBox().setAspectLocked(False)
        pi.showGrid(False, False)
        self.plot_caption.setText("")
        kind = self.family
        drawable = d is not None and kind in ("ransac", "iou", "anchors", "budget", "rf", "depth-error",
                                              "conv-out", "pool-out", "same-padding")
        self.plot.setVisible(drawable)
        self.plot_caption.setVisible(drawable)
        if not drawable:
            return
        self.plot.setBackground(th.plot_bg)
        lw = th.line_px
        if kind in ("conv-out", "pool-out", "same-padding"):
            self._draw_windows(d)
        elif kind == "ransac":
            x = np.asarray(d.extra["ratios"])
            y = np.asarray(d.extra["iterations"], dtype=float)
            pi.setLogMode(False, True)
            pi.plot(x, y, pen=th.pen("accent", lw))
            w = self.values()["inlier_ratio"]
            pi.plot([w], [max(1, d.value)], pen=None, symbol="o", symbolSize=8 + 3 * lw,
                    symbolBrush=th.color("current"), symbolPen=th.pen("black", 1.5))
            pi.showGrid(True, True, 0.3)
            self._style_axis("iterations N (log)", "inlier ratio w")
            self.plot_caption.setText(f"N explodes as w falls: w = {w:g} needs {d.value:,} samples of "
                                      f"{self.values()['sample_size']}")
        elif kind == "iou":
            a, b = d.extra["box_a"], d.extra["box_b"]
            vb = pi.getViewBox()
            vb.invertY(True)
            vb.setAspectLocked(True)
            for box, role in ((a, "accent"), (b, "current")):
                r = QGraphicsRectItem(QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]))
                r.setPen(th.pen(role, lw))
                col = QColor(th.color(role))
                col.setAlphaF(0.15)
                r.setBrush(QBrush(col))
                pi.addItem(r)
            ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
            ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
            if ix1 > ix0 and iy1 > iy0:
                r = QGraphicsRectItem(QRectF(ix0, iy0, ix1 - ix0, iy1 - iy0))
                r.setPen(th.pen("black", 1))
                col = QColor(th.color("positive"))
                col.setAlphaF(0.6)
                r.setBrush(QBrush(col))
                pi.addItem(r)
            for box, name, role in ((a, "A", "accent"), (b, "B", "current")):
                t = pg.TextItem(name, color=th.color(role), anchor=(0, 0))
                f = QFont()
                f.setPointSizeF(th.font_pt)
                f.setBold(True)
                t.setFont(f)
                t.setPos(box[0], box[1])
                pi.addItem(t)
            xs = [a[0], a[2], b[0], b[2]]
            ys = [a[1], a[3], b[1], b[3]]
            pi.setRange(xRange=(min(xs) - 1, max(xs) + 1), yRange=(min(ys) - 1, max(ys) + 1))
            self._style_axis("y", "x")
            self.plot_caption.setText("green: the intersection A∩B; IoU divides it by the whole covered area")
        elif kind == "anchors":
            shares = np.asarray(d.extra["shares"]) * 100
            n = len(shares)
            bars = pg.BarGraphItem(x=np.arange(n), height=shares, width=0.7, brush=th.color("accent"),
                                   pen=th.pen("black", 1))
            pi.addItem(bars)
            for i, (s, c) in enumerate(zip(shares, d.extra["counts"])):
                t = pg.TextItem(f"{s:.0f}%", color=th.fg, anchor=(0.5, 1))
                f = QFont()
                f.setPointSizeF(th.font_pt * 0.8)
                t.setFont(f)
                t.setPos(i, s)
                pi.addItem(t)
            pi.getAxis("bottom").setTicks([[(i, name) for i, name in enumerate(d.extra["levels"])]])
            pi.setRange(xRange=(-0.6, n - 0.4), yRange=(0, max(shares) * 1.2))
            self._style_axis("share of anchors (%)", "feature-map level")
            self.plot_caption.setText("finer levels (more cells) hold most of the anchors")
        elif kind == "budget":
            stages = d.extra["stages"]
            left = 0.0
            for i, t in enumerate(stages):
                col = th.series[i % len(th.series)]
                pi.addItem(pg.BarGraphItem(x0=[left], y=[0], width=[t], height=0.6, brush=col, pen=th.pen("black", 1)))
                left += t
            for ms, name, role in ((1000 / 60, "60 fps", "current"), (1000 / 30, "30 fps", "negative")):
                line = pg.InfiniteLine(ms, angle=90, pen=th.pen(role, lw, style="dash"),
                                       label=f"{name}: {ms:.1f} ms", labelOpts={"position": 0.9, "color": th.color(role),
                                                                              "anchors": [(1, 0), (1, 0)]})
                f = QFont()
                f.setPointSizeF(th.font_pt * 0.8)
                f.setBold(True)
                line.label.setFont(f)
                pi.addItem(line)
            pi.setRange(xRange=(0, max(left, 1000 / 30) * 1.1), yRange=(-0.6, 0.8))
            pi.getAxis("left").setTicks([[(0, "total")]])
            self._style_axis("", "milliseconds")
            self.plot_caption.setText("one coloured block per stage, against the 60 and 30 fps frame times")
        elif kind == "rf":
            rows = d.extra["rows"]
            x = np.arange(1, len(rows) + 1)
            rf = np.array([r["rf"] for r in rows], dtype=float)
            pi.addItem(pg.BarGraphItem(x=x, height=rf, width=0.7, brush=th.color("accent"), pen=th.pen("black", 1)))
            for r in rows:
                if r["stride"] > 1:
                    pi.addItem(pg.InfiniteLine(r["layer"] + 0.5, angle=90, pen=th.pen("current", lw / 2, style="dash")))
            pi.setRange(xRange=(0.4, len(rows) + 0.6), yRange=(0, rf.max() * 1.1))
            self._style_axis("receptive field (px)", "layer")
            self.plot_caption.setText("dashed: after a stride, every later kernel adds (K−1)·jump — the growth speeds up")
        elif kind == "depth-error":
            v = self.values()
            fb = v["f_px"] * v["baseline"]
            e = v["disparity_error"]
            z_hi = v["depth"] * 2 if e <= 0 else min(v["depth"] * 2, 0.95 * fb / e)
            z = np.linspace(max(0.05, v["depth"] / 10), max(z_hi, v["depth"]), 120)
            disp = fb / z
            dz = np.where(disp > e, fb / np.maximum(disp - e, 1e-12) - fb / (disp + e), np.nan)
            pi.plot(z, dz, pen=th.pen("accent", lw), connect="finite")
            if math.isfinite(d.value):
                pi.plot([v["depth"]], [d.value], pen=None, symbol="o", symbolSize=8 + 3 * lw,
                        symbolBrush=th.color("current"), symbolPen=th.pen("black", 1.5))
            pi.showGrid(True, True, 0.3)
            self._style_axis("depth range (m)", "depth Z (m)")
            self.plot_caption.setText("the error grows with the square of the depth")

    def _draw_windows(self, d: D.Derivation) -> None:
        """One row of input pixels (padding hatched in purple) and the first/last kernel windows under it."""
        th = self.ctx.theme
        pi = self.plot.getPlotItem()
        v = self.values()
        if self.family == "same-padding":
            n, k, s, dil = 9, v["kernel"], 1, v["dilation"]
            p = d.value
            o = n
        else:
            n, k = v["size"], v["kernel"]
            s = v["stride"] or k
            p = v["padding"]
            dil = v.get("dilation", 1)
            o = d.value
        span = dil * (k - 1) + 1
        shown = list(range(o)) if o <= 6 else [0, 1, 2, o - 3, o - 2, o - 1]
        # a long row is cut in the middle: both ends, where padding and the floor matter, stay readable
        seg = max(12, 2 * s + span + 2)
        lo_end, hi_start = -p + seg, n + p - seg
        cut = hi_start - lo_end > 4
        gap = 3.0

        def X(i):
            i = np.asarray(i, dtype=float)
            return np.where(i < lo_end + 0.5, i, i - hi_start + lo_end + gap) if cut else i

        idx = np.arange(-p, n + p)
        if cut:
            idx = idx[(idx < lo_end) | (idx >= hi_start)]
        pad = (idx < 0) | (idx >= n)
        pad_col = QColor(th.color("padding"))
        pad_col.setAlphaF(0.45)
        brushes = [QBrush(pad_col) if q else QBrush(QColor("#d9d9d9")) for q in pad]
        pi.addItem(pg.BarGraphItem(x0=X(idx), y0=np.zeros(len(idx)), width=1.0, height=1.0, brushes=brushes,
                                   pen=th.pen("black", 1)))
        f = QFont()
        f.setPointSizeF(th.font_pt * 0.75)
        if cut:
            t = pg.TextItem("…", color=th.fg, anchor=(0.5, 0.5))
            t.setFont(f)
            t.setPos(lo_end + gap / 2, 0.5)
            pi.addItem(t)
        for row, j in enumerate(shown):
            y = -1.4 - row * 1.15
            x0 = j * s - p
            xa, xb = float(X(x0)), float(X(x0 + span - 1)) + 1
            pi.addItem(pg.BarGraphItem(x0=[xa], y0=[y], width=[xb - xa], height=[0.8], brush=QColor(0, 0, 0, 0),
                                       pen=th.pen("current", th.line_px * 0.75)))
            taps = X(x0 + np.arange(k) * dil) + 0.5
            pi.plot(taps, np.full(k, y + 0.4), pen=None, symbol="s", symbolSize=5 + 2 * th.line_px,
                    symbolBrush=th.color("current"), symbolPen=None)
            t = pg.TextItem(f"out {j}", color=th.fg, anchor=(1, 0.5))
            t.setFont(f)
            t.setPos(xa - 0.3, y + 0.4)
            pi.addItem(t)
        last_end = (o - 1) * s - p + span
        if last_end < n + p:  # the floor leaves pixels no window reaches
            xa = float(X(last_end))
            pi.addItem(pg.BarGraphItem(x0=[xa], y0=[0], width=[float(X(n + p - 1)) + 1 - xa], height=[1.0],
                                       brush=QColor(0, 0, 0, 0), pen=th.pen("negative", th.line_px)))
        y_min = -1.4 - (len(shown) - 1) * 1.15 - 0.3
        right = float(X(n + p - 1)) + 1
        pi.setRange(xRange=(-p - 5, right + 1), yRange=(y_min, 1.3), padding=0.02)
        pi.getAxis("left").setTicks([[]])
        ticks = [(float(X(i)) + 0.5, str(i)) for i in sorted({-p, 0, lo_end - 1, hi_start, n - 1, n + p - 1})
                 if -p <= i < n + p and (not cut or i < lo_end or i >= hi_start)]
        kept = []
        for t in ticks:
            if not kept or t[0] - kept[-1][0] >= 2.5:
                kept.append(t)
        pi.getAxis("bottom").setTicks([kept])
        self._style_axis("", "pixel index (purple: padding)")
        unused = n + p - last_end
        extra = f"; red: {unused} pixel{'s' if unused != 1 else ''} no window reaches" if unused > 0 else ""
        self.plot_caption.setText(f"orange: the first and last {k}-tap windows, {s} px apart" + extra)

    # -- practice ---------------------------------------------------------------------------------
    def new_problem(self, seed: int | None = None) -> str:
        rng = random.Random(seed) if seed is not None else self._rng
        self.problem = D.practice_problem(self.family, rng)
        self.practice_result = None
        fam = D.FAMILIES[self.family]
        unit = f" (in {fam.unit})" if fam.unit else ""
        self.question.setText(self.problem[1] + unit)
        self.answer.clear()
        self.answer.setFocus()
        self.verdict.setText("")
        self.solution.setText("")
        return self.problem[1]

    def check(self, answer: str | None = None) -> bool | None:
        if self.problem is None:
            self.new_problem()
            return None
        if answer is not None:
            self.answer.setText(str(answer))
        text = self.answer.text().strip()
        if not text:
            self.verdict.setText("Type a number first.")
            return None
        d = self.problem[2]
        try:
            ok = D.check_answer(d, text)
        except ValueError as exc:
            self.verdict.setStyleSheet(f"color: {self.ctx.theme.error};")
            self.verdict.setText(str(exc))
            return None
        self.practice_result = ok
        th = self.ctx.theme
        self.verdict.setStyleSheet(f"color: {th.color('positive') if ok else th.error};")
        self.verdict.setText("✔ Right!" if ok else f"✘ Not quite: the answer is {self._answer_text(d)}.")
        self.solution.setText(f"{d.formula}\n{d.substitution}\n→ {d.result}" + (f"   ({d.meaning})" if d.meaning else ""))
        return ok

    def reveal(self) -> None:
        if self.problem is None:
            return
        d = self.problem[2]
        self.verdict.setStyleSheet("")
        self.verdict.setText(f"Answer: {self._answer_text(d)}")
        self.solution.setText(f"{d.formula}\n{d.substitution}\n→ {d.result}")

    @staticmethod
    def _answer_text(d: D.Derivation) -> str:
        v = d.value
        if isinstance(v, (int, np.integer)):
            return f"{int(v):,}"
        return f"{float(v):.4g}" if math.isfinite(float(v)) else "∞"

    # -- hooks ------------------------------------------------------------------------------------
    def state(self) -> dict:
        st = {"family": self.family, "values": self.values()}
        if self.problem is not None:
            st["problem"] = {"values": self.problem[0], "answer": self.answer.text()}
        return st

    def restore_state(self, state: dict) -> None:
        self.select_family(state.get("family", self.family), values=state.get("values"))
        prob = state.get("problem")
        if prob:
            fam = D.FAMILIES[self.family]
            d = D.derive(self.family, **prob["values"])
            self.problem = (prob["values"], fam.question.format(**prob["values"]), d)
            self.question.setText(self.problem[1])
            self.answer.setText(prob.get("answer", ""))

    def demo(self) -> None:
        self.select_family("ransac")
        self.new_problem(seed=3)
        self.check(str(self.problem[2].value))

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.card.result.setStyleSheet(f"font-size: {int(theme.font_pt * 1.6)}pt; font-weight: bold;")
        self.card.substituted.setStyleSheet(f"font-size: {int(theme.mono_pt * 1.15)}pt;")
        self.plot.setBackground(theme.plot_bg)
        if hasattr(self, "inputs") and self.inputs:
            self._draw_plot(self.derivation)
