"""Themes: light, dark and projector (large fonts, thick lines, high contrast, Okabe-Ito colours).

A :class:`Theme` carries everything a view needs to draw consistently: the Qt style sheet, the
pyqtgraph background/foreground, the base font size, the overlay line width and named overlay
colours taken from the colour-blind-safe Okabe-Ito palette.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

__all__ = ["Theme", "THEMES", "OKABE_ITO", "FONT_ROLES", "get_theme"]

#: Type roles -> (scale of the theme's base size, bold, monospace). Views ask for a role, never a size.
FONT_ROLES = {
    "body": (1.0, False, False),
    "small": (0.85, False, False),
    "title": (1.15, True, False),
    "big": (1.5, True, False),
    "mono": (1.0, False, True),
    "axis": (0.85, False, False),     # plot tick labels and axis titles
    "label": (0.9, True, False),      # text drawn over an image (canvas labels)
    "cell": (0.8, False, True),       # numbers inside grid cells (conv lab, tensors)
}

#: Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}

# Meaning -> colour. Views ask for roles ("positive", "suppressed"), never for raw colours.
_ROLES = {
    "positive": OKABE_ITO["green"], "kept": OKABE_ITO["green"], "inlier": OKABE_ITO["green"],
    "negative": OKABE_ITO["vermillion"], "suppressed": OKABE_ITO["vermillion"], "outlier": OKABE_ITO["vermillion"],
    "current": OKABE_ITO["orange"], "window": OKABE_ITO["orange"],
    "waiting": OKABE_ITO["sky"], "neutral": OKABE_ITO["sky"], "grid": OKABE_ITO["sky"],
    "ignored": OKABE_ITO["yellow"], "highlight": OKABE_ITO["yellow"],
    "accent": OKABE_ITO["blue"], "padding": OKABE_ITO["purple"], "other": OKABE_ITO["purple"],
}


@functools.lru_cache(maxsize=1)
def assets_folder() -> str:
    """The folder of the shipped pictures (``cvexplorer.assets``), looked up once.

    The import system's spec gives it without loading ``importlib.resources`` (milliseconds of
    start-up); the resources API is the fallback for a loader that does not expose a folder.
    """
    import importlib.util
    import os

    spec = importlib.util.find_spec("cvexplorer.assets")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if os.path.isdir(folder):
            return str(folder)
    from importlib import resources

    return str(resources.files("cvexplorer.assets"))


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    font_pt: int
    mono_pt: int
    line_px: float
    bg: str
    fg: str
    panel_bg: str
    muted: str
    accent: str
    error: str
    plot_bg: str
    roles: dict = field(default_factory=lambda: dict(_ROLES))
    series: tuple = tuple(OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow"))

    def color(self, role: str) -> str:
        """The colour for a meaning ("positive", "current", ...) or a palette name."""
        named = {"fg": self.fg, "bg": self.bg, "muted": self.muted, "error": self.error, "panel": self.panel_bg,
                 "plot_bg": self.plot_bg}
        return self.roles.get(role) or OKABE_ITO.get(role) or named.get(role) or role

    def font(self, role: str = "body"):
        """The QFont for a type role ("body", "small", "title", "big", "mono", "axis", "label", "cell")."""
        from PySide6.QtGui import QFont

        try:
            scale, bold, mono = FONT_ROLES[role]
        except KeyError:
            raise ValueError(f"There is no font role {role!r}; the roles are: {', '.join(FONT_ROLES)}.") from None
        f = QFont("DejaVu Sans Mono") if mono else QFont()
        if mono:
            f.setStyleHint(QFont.StyleHint.Monospace)
        f.setPointSizeF((self.mono_pt if mono else self.font_pt) * scale)
        f.setBold(bold)
        return f

    def style_plot(self, plot, *, left: str | None = None, bottom: str | None = None) -> None:
        """Give a pyqtgraph PlotWidget / PlotItem this theme's background, axis pens, fonts and labels."""
        item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
        if hasattr(plot, "setBackground"):
            plot.setBackground(self.plot_bg)
        font = self.font("axis")
        size = f"{font.pointSizeF():.0f}pt"
        for name, text in (("left", left), ("bottom", bottom)):
            axis = item.getAxis(name)
            axis.setPen(self.pen("fg", 1))
            axis.setTextPen(self.pen("fg", 1))
            axis.setStyle(tickFont=font, tickTextOffset=max(3, int(self.font_pt * 0.3)))
            axis.label.setFont(font)
            if text is not None:
                axis.setLabel(text, **{"font-size": size, "color": self.fg})
            elif axis.labelText:
                axis.setLabel(axis.labelText, units=axis.labelUnits or None, **{"font-size": size, "color": self.fg})

    def pen(self, role: str, width: float | None = None, style=None):
        import pyqtgraph as pg
        from PySide6.QtCore import Qt

        w = width if width is not None else self.line_px
        p = pg.mkPen(self.color(role), width=w)
        p.setCosmetic(True)
        if style == "dash":  # dashes of about 10 screen pixels (Qt's 4:2 pen widths is 4 px on a hairline):
            # as easy to read as dashed, and a third of the segments to rasterise
            w = max(float(w), 1.0)
            p.setDashPattern([max(4.0, 10.0 / w), max(2.0, 6.0 / w)])
        return p

    def apply(self, app) -> None:
        """Style the whole application: palette and font for every widget, the style sheet for the rest.

        Backgrounds, text colour and size go through the palette and the application font rather
        than a ``QWidget {...}`` style-sheet rule: such a catch-all makes Qt paint every widget through
        its style-sheet engine, which cost a 1920×1080 panel several milliseconds per repaint.
        """
        from PySide6.QtGui import QColor, QPalette

        pal = QPalette()
        bg, fg, base = QColor(self.bg), QColor(self.fg), QColor(self.plot_bg)
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            pal.setColor(group, QPalette.ColorRole.Window, bg)
            pal.setColor(group, QPalette.ColorRole.Button, QColor(self.panel_bg))
            pal.setColor(group, QPalette.ColorRole.Base, base)
            pal.setColor(group, QPalette.ColorRole.AlternateBase, QColor(self.panel_bg))
            for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                         QPalette.ColorRole.ToolTipText):
                pal.setColor(group, role, fg)
            pal.setColor(group, QPalette.ColorRole.ToolTipBase, QColor(self.panel_bg))
            pal.setColor(group, QPalette.ColorRole.Highlight, QColor(self.accent))
            pal.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
            pal.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(self.muted))
        pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(self.muted))
        pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(self.muted))
        pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(self.muted))
        app.setPalette(pal)
        app.setFont(self.font("body"))
        app.setStyleSheet(self.qss)
        app.setProperty("cvexplorer_theme", self.name)  # which theme styles the application now

    def _arrow(self, direction: str) -> str:
        """The spin-box arrow picture in this theme's text colour (QSS needs a file; they ship in assets/)."""
        shade = "white" if _luminance(self.fg) > 0.5 else "black"
        return (assets_folder() + f"/arrow-{direction}-{shade}.svg").replace("\\", "/")

    @property
    def qss(self) -> str:
        f = self.font_pt
        # flat scroll bars: the platform style's took about 0.8 ms to paint each, a style-sheet one 0.01 ms
        sb = 14
        return f"""
        QMainWindow, QDialog {{ background: {self.bg}; }}
        QFrame#Card, QGroupBox {{ background: {self.panel_bg}; border: 1px solid {self.muted};
                                  border-radius: 6px; }}
        QGroupBox {{ margin-top: {f + 6}px; padding-top: 4px; }}
        QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; font-weight: bold; }}
        QLabel#Muted {{ color: {self.muted}; }}
        QLabel#Error, QLabel#Warning {{ color: {self.error}; font-weight: bold; }}
        QLabel#Title {{ font-weight: bold; }}
        QLabel#Big {{ font-size: {int(f * 1.5)}pt; font-weight: bold; }}
        QLabel#Mono, QTextEdit#Mono, QPlainTextEdit#Mono {{ font-family: "DejaVu Sans Mono", monospace;
                                                           font-size: {self.mono_pt}pt; }}
        QListWidget#Sidebar {{ background: {self.panel_bg}; border: none; font-size: {f}pt; }}
        QListWidget#Sidebar::item {{ padding: {max(4, f // 2)}px; }}
        QListWidget#Sidebar::item:selected {{ background: {self.accent}; color: white; }}
        QPushButton, QToolButton {{ background: {self.panel_bg}; border: 1px solid {self.muted};
                                    border-radius: 4px; padding: 4px 10px; }}
        QPushButton:checked, QToolButton:checked {{ background: {self.accent}; color: white; }}
        QPushButton:hover, QToolButton:hover {{ border-color: {self.accent}; }}
        QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox, QTableWidget, QTableView, QPlainTextEdit, QTextEdit {{
            background: {self.plot_bg}; border: 1px solid {self.muted}; }}
        QSpinBox, QDoubleSpinBox {{ padding-right: {f + 10}px; min-height: {int(f * 1.8)}px; }}
        QSpinBox::up-button, QDoubleSpinBox::up-button {{ subcontrol-origin: border; subcontrol-position: top right;
            width: {f + 8}px; border-left: 1px solid {self.muted}; border-bottom: 1px solid {self.muted}; }}
        QSpinBox::down-button, QDoubleSpinBox::down-button {{ subcontrol-origin: border;
            subcontrol-position: bottom right; width: {f + 8}px; border-left: 1px solid {self.muted}; }}
        QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{ image: url({self._arrow("up")});
            width: {max(8, f // 2)}px; height: {max(6, f // 3)}px; }}
        QSpinBox::down-arrow, QDoubleSpinBox::down-arrow {{ image: url({self._arrow("down")});
            width: {max(8, f // 2)}px; height: {max(6, f // 3)}px; }}
        QFrame#Banner {{ background: {self.panel_bg}; border: 1px solid {self.muted}; border-radius: 4px; }}
        QFrame#Banner[kind="error"] {{ background: {self.error}; border-color: {self.error}; }}
        QFrame#Banner[kind="error"] QLabel, QFrame#Banner[kind="error"] QPushButton {{ color: white;
            background: {self.error}; font-weight: bold; }}
        QHeaderView::section {{ background: {self.panel_bg}; color: {self.fg}; border: none; padding: 3px; }}
        QFrame#ErrorBanner {{ background: {self.error}; }}
        QFrame#ErrorBanner QLabel {{ color: white; background: {self.error}; font-weight: bold; }}
        QStatusBar {{ color: {self.fg}; }}
        QTabBar::tab {{ padding: 6px 10px; }}
        QTabBar::tab:selected {{ background: {self.accent}; color: white; }}
        QTabBar QToolButton {{ padding: 0px; }}
        QScrollBar:vertical {{ background: {self.panel_bg}; width: {sb}px; }}
        QScrollBar:horizontal {{ background: {self.panel_bg}; height: {sb}px; }}
        QScrollBar::handle {{ background: {self.muted}; border-radius: 3px; margin: 2px; }}
        QScrollBar::handle:hover, QScrollBar::handle:pressed {{ background: {self.accent}; }}
        QScrollBar::handle:vertical {{ min-height: {2 * sb}px; }}
        QScrollBar::handle:horizontal {{ min-width: {2 * sb}px; }}
        QScrollBar::add-line, QScrollBar::sub-line {{ width: 0px; height: 0px; }}
        QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
        """


def _luminance(color: str) -> float:
    c = color.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


THEMES: dict[str, Theme] = {
    "light": Theme("light", "Light", font_pt=10, mono_pt=10, line_px=2.0, bg="#f6f6f4", fg="#1a1a1a",
                   panel_bg="#ffffff", muted="#8a8a8a", accent=OKABE_ITO["blue"], error="#b03a00",
                   plot_bg="#ffffff"),
    "dark": Theme("dark", "Dark", font_pt=10, mono_pt=10, line_px=2.0, bg="#1e1f22", fg="#e8e8e8",
                  panel_bg="#2a2c30", muted="#8d9096", accent=OKABE_ITO["sky"], error=OKABE_ITO["vermillion"],
                  plot_bg="#141517"),
    # Projector: read from the back of a classroom. Base font >= 20 pt, strokes >= 3 px, black on white.
    "projector": Theme("projector", "Projector", font_pt=20, mono_pt=20, line_px=4.0, bg="#ffffff", fg="#000000",
                       panel_bg="#ffffff", muted="#404040", accent=OKABE_ITO["blue"], error="#a03000",
                       plot_bg="#ffffff"),
}


def get_theme(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"There is no theme {name!r}; choose light, dark or projector.") from None
