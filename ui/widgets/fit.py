"""Fit the controls column: nothing in it may be wider than the column (and a panel's tab bar: its
titles shorten rather than hide behind scroll arrows, see :func:`short_tab_titles`).

The column scrolls only vertically, so a control wider than it pushes every control past the right
edge (a 1024×768 projector gives the column about 260 px at 20 pt). Panels build their controls
without knowing the width; the frame calls :func:`prepare` when controls are added and
:func:`fit_texts` whenever the column's width or the font changes.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QFormLayout, QLabel, QTabWidget,
                               QToolButton, QWidget)

__all__ = ["prepare", "fit_texts", "short_tab_titles"]

_FULL, _SHOWN = "cvx_full_text", "cvx_shown_text"  # a button's own text, and the one we gave it
_SPIN = "cvx_narrow"  # a number box whose minimum width is ours
_POLICY = "cvx_wrap_policy"  # a form's own row-wrap policy
_SPIN_CHARS = 5  # a number box may shrink to this many characters' width (its longest value wins otherwise)


def prepare(root: QWidget) -> None:
    """Make the controls under ``root`` able to be narrow: drop-downs show their entry elided, plain
    labels wrap, and number boxes may be narrower than their longest possible value (see
    :func:`fit_texts` for the rest)."""
    for combo in root.findChildren(QComboBox):
        if combo.sizeAdjustPolicy() == QComboBox.SizeAdjustPolicy.AdjustToContentsOnFirstShow:
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
    for label in root.findChildren(QLabel):
        if type(label) is QLabel and not label.wordWrap() and " " in label.text():
            label.setWordWrap(True)
    for spin in root.findChildren(QAbstractSpinBox):
        if spin.minimumWidth() == 0 and spin.property(_SPIN) is None:  # a width a panel set stays
            spin.setProperty(_SPIN, True)


def fit_texts(root: QWidget, width: int) -> None:
    """Fit the controls under ``root`` (a column's body) into ``width`` pixels: side-by-side forms put
    fields under their labels when a label and its field do not fit abreast, and push buttons and
    check boxes break their text onto two lines, the one reaching furthest right first, until the
    column's content fits (or nothing is left to break). With room again, texts are whole again."""
    for spin in root.findChildren(QAbstractSpinBox):
        if spin.property(_SPIN):  # in the current theme's font
            spin.setMinimumWidth(QFontMetrics(spin.font()).averageCharWidth() * _SPIN_CHARS)
    for form in root.findChildren(QFormLayout):
        _fit_form(form, root, width)
    buttons = []
    for b in root.findChildren(QAbstractButton):
        if isinstance(b, QToolButton):
            continue
        full = b.property(_FULL)
        if full is None or b.text() not in (full, b.property(_SHOWN)):  # new, or the panel renamed it
            full = b.text()
            b.setProperty(_FULL, full)
        if b.text() != full:
            b.setText(full)
        buttons.append(b)
    lay = root.layout()
    while lay is not None and _min_width(lay) > width:
        short = {b: b.minimumSizeHint().width() - _room(b, root, width) for b in buttons
                 if b.isVisibleTo(root) and " " in b.text() and "\n" not in b.text()}
        b = max(short, key=short.get, default=None)
        if b is None or short[b] <= 0:
            break  # what is too wide is not a button's text
        b.setText(_two_lines(b, b.text()))
    for b in buttons:
        b.setProperty(_SHOWN, b.text())


def _two_lines(b: QAbstractButton, text: str) -> str:
    """``text`` broken at the space that makes the longer of the two lines shortest."""
    fm = QFontMetrics(b.font())
    words = text.split(" ")
    best = min(range(1, len(words)), key=lambda k: max(fm.horizontalAdvance(" ".join(words[:k])),
                                                        fm.horizontalAdvance(" ".join(words[k:]))))
    return " ".join(words[:best]) + "\n" + " ".join(words[best:])


def _fit_form(form: QFormLayout, root: QWidget, width: int) -> None:
    """Forms a panel built side by side go label-above-field while a label and its field, at the
    field's preferred width, do not fit abreast (Qt's WrapLongRows looks at the field's minimum, so a
    number box that may shrink would be squeezed beside its label instead)."""
    wrap_all = QFormLayout.RowWrapPolicy.WrapAllRows
    if form.property(_POLICY) is None:
        form.setProperty(_POLICY, form.rowWrapPolicy().value)
    own = QFormLayout.RowWrapPolicy(form.property(_POLICY))
    owner = form.parentWidget()
    if own == wrap_all or owner is None:
        return
    labels, fields = [], []
    for row in range(form.rowCount()):
        for role, into in ((QFormLayout.ItemRole.LabelRole, labels), (QFormLayout.ItemRole.FieldRole, fields)):
            item = form.itemAt(row, role)
            if item is not None and item.widget() is not None and item.widget().isVisibleTo(root):
                into.append(item.widget().sizeHint().width())
    if not labels or not fields:
        return
    abreast = max(labels) + max(form.horizontalSpacing(), 6) + max(fields)
    form.setRowWrapPolicy(wrap_all if abreast > _room(owner, root, width) - 2 * form.contentsMargins().left() else own)


def _room(w: QWidget, root: QWidget, width: int) -> int:
    """The width left to ``w`` in a column of ``width``: the margins around it, as many on the right as
    on its left (its x in ``root``), and the column body's own 2 + 6 px."""
    return width - 2 * w.mapTo(root, w.rect().topLeft()).x() - 4


def _min_width(lay) -> int:
    """The layout's minimum width now: a text set a moment ago reaches the layouts above it only when
    their posted layout requests run."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    return lay.minimumSize().width()


def short_tab_titles(tabs: QTabWidget, short: dict[str, str]) -> None:
    """Let ``tabs`` shorten titles while its bar is too narrow for them all: ``short`` maps a full title
    to its short one, in the order they give way. Each tab's tooltip holds its full title; titles
    are whole again when there is room. Re-fits on every resize and font change of ``tabs``."""
    fitter = _TabTitles(tabs, dict(short))
    tabs.installEventFilter(fitter)
    fitter.fit()


class _TabTitles(QObject):
    def __init__(self, tabs: QTabWidget, short: dict[str, str]) -> None:
        super().__init__(tabs)
        self.tabs, self.short = tabs, short

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() in (QEvent.Type.Resize, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit()
        return False

    def fit(self) -> None:
        tabs, bar = self.tabs, self.tabs.tabBar()
        fm = QFontMetrics(bar.font())
        full = []
        for i in range(tabs.count()):  # a tab added later gets its full title as tooltip here
            if not tabs.tabToolTip(i):
                tabs.setTabToolTip(i, tabs.tabText(i).replace("&&", "&"))
            full.append(tabs.tabToolTip(i))
        pad = [bar.tabSizeHint(i).width() - fm.horizontalAdvance(tabs.tabText(i).replace("&&", "&"))
               for i in range(tabs.count())]
        shown = list(full)
        for title in [None, *self.short]:  # shorten one more title until the bar fits
            if title is not None:
                shown = [self.short[t] if t == title else t for t in shown]
            if sum(p + fm.horizontalAdvance(t) for p, t in zip(pad, shown)) <= tabs.width():
                break
        for i, t in enumerate(shown):
            if tabs.tabText(i) != t.replace("&", "&&"):
                tabs.setTabText(i, t.replace("&", "&&"))
