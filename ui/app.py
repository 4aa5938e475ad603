"""The main window: sidebar of panels, the current panel, latency dock, status bar, menus, shortcuts.

Everything the user does goes through a guarded slot: an exception becomes a non-modal message in
the error banner (and the log file), and the window stays usable.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QApplication, QComboBox, QFrame, QHBoxLayout, QListWidget,
                               QListWidgetItem, QMainWindow, QMessageBox, QProgressBar, QPushButton, QSplitter,
                               QStackedWidget, QVBoxLayout, QWidget)

from cvexplorer import __version__

from .context import AppContext, ensure_app
from .registry import PANELS, create_panel, get_spec
from .themes import THEMES, get_theme
from .widgets.latency import LatencyDock
from .widgets.text import ElidedLabel
from .window_files import FileActions

__all__ = ["MainWindow", "make_settings", "ensure_app", "run_app", "SHORTCUTS"]

SHORTCUTS = (
    ("Space", "Play / pause the current step-through"),
    ("← / →", "Step back / forward"),
    ("Home / End", "First / last step"),
    ("Ctrl+O", "Open an image"),
    ("Ctrl+Shift+O", "Open a stereo pair"),
    ("Ctrl+Shift+S", "Save a PNG of the current panel"),
    ("F11", "Full screen"),
    ("F5", "Enter / leave presentation mode (Esc also leaves)"),
    ("Ctrl+Q", "Quit"),
)


def make_settings() -> QSettings:
    """Persistent settings; ``$CVEXPLORER_SETTINGS`` points at an INI file (tests use a temp one)."""
    path = os.environ.get("CVEXPLORER_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("cvexplorer", "cvexplorer")


#: Below this window width the sidebar gives way to a panel chooser in the menu bar's corner.
SIDEBAR_MIN_WINDOW_WIDTH = 1400


class _PanelStack(QStackedWidget):
    """A stack whose size hints are those of the page on show: hidden pages never set the window's minimum."""

    def sizeHint(self) -> QSize:  # noqa: N802
        w = self.currentWidget()
        return w.sizeHint() if w is not None else QSize(800, 600)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        w = self.currentWidget()
        return w.minimumSizeHint() if w is not None else QSize(0, 0)


class ErrorBanner(QFrame):
    """A one-line strip above a page that has no panel frame (the frame has its own banner)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorBanner")
        self.text = ElidedLabel("")
        close = QPushButton("✕")
        close.setFlat(True)
        close.setFixedWidth(40)
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.text, 1)
        lay.addWidget(close)
        self.hide()

    def show_message(self, msg: str) -> None:
        self.text.setText(msg)
        self.show()


class MainWindow(FileActions, QMainWindow):
    def __init__(self, ctx: AppContext | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or make_settings()
        theme = str(self.settings.value("theme", "light"))
        self.ctx = ctx or AppContext(THEMES.get(theme, THEMES["light"]))
        self.setWindowTitle("cvexplorer")
        self.setAcceptDrops(True)
        self.panels: dict[str, QWidget] = {}
        self.current_id = ""
        self.presenting = False

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("Sidebar")
        for spec in PANELS:
            item = QListWidgetItem(spec.short_title)
            item.setData(Qt.ItemDataRole.UserRole, spec.id)
            item.setToolTip(spec.description)
            self.sidebar.addItem(item)
        self.sidebar.currentItemChanged.connect(
            self.ctx.guard(lambda cur, _prev: cur and self.show_panel(cur.data(Qt.ItemDataRole.UserRole)), "Open panel"))
        self.chooser = QComboBox()
        self.chooser.setToolTip("Choose a panel")
        for spec in PANELS:
            self.chooser.addItem(spec.title, spec.id)
        self.chooser.activated.connect(
            self.ctx.guard(lambda i: self.show_panel(self.chooser.itemData(i)), "Open panel"))
        self.stack = _PanelStack()
        self.banner = ErrorBanner()
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.banner)
        cl.addWidget(self.stack, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(centre)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 1200])
        self.setCentralWidget(self.splitter)

        self.dock = LatencyDock(self, self.ctx.recorder, self.ctx.theme)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.deviceChanged.connect(self._on_device)
        self.dock.visibilityChanged.connect(self._remember_dock)

        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(140)
        self.busy.hide()
        self.statusBar().addPermanentWidget(self.busy)
        self.ctx.workers.busyChanged.connect(self.busy.setVisible)
        self.ctx.statusMessage.connect(lambda m, t: self.statusBar().showMessage(m, t))
        self.ctx.errorRaised.connect(self._on_error)
        self.ctx.openPanelRequested.connect(self.ctx.guard(self.show_panel, "Open panel"))

        self._build_menus()
        self.menuBar().setCornerWidget(self.chooser, Qt.Corner.TopRightCorner)
        self._build_shortcuts()
        self.apply_theme(self.ctx.theme.name)
        geom = self.settings.value("geometry")
        if isinstance(geom, (QByteArray, bytes)):
            self.restoreGeometry(geom)
        else:
            self.resize(1440, 900)
        last = str(self.settings.value("last_panel", "welcome"))
        try:
            get_spec(last)
        except ValueError:
            last = "welcome"
        self.show_panel(last)

    # -- menus and shortcuts ------------------------------------------------------------------------
    def _action(self, menu, text, slot, shortcut=None, checkable=False) -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setCheckable(checkable)
        act.triggered.connect(self.ctx.guard(lambda *_: slot(), text.replace("…", "").replace("&", "")))
        menu.addAction(act)
        self.addAction(act)  # its shortcut still works while the menu bar is hidden (presentation mode)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "Open image…", self.open_image_dialog, "Ctrl+O")
        self._action(f, "Open stereo pair…", self.open_stereo_dialog, "Ctrl+Shift+O")
        self.recent_menu = f.addMenu("Recent")
        f.addSeparator()
        self._action(f, "Open lesson…", self.open_lesson_dialog)
        self._action(f, "Save lesson…", self.save_lesson_dialog)
        f.addSeparator()
        self._action(f, "Save PNG of panel…", self.save_png_dialog, "Ctrl+Shift+S")
        self._action(f, "Record step-through…", self.record_dialog)
        f.addSeparator()
        self._action(f, "Quit", self.close, "Ctrl+Q")
        v = mb.addMenu("&View")
        group = QActionGroup(self)
        self.theme_actions = {}
        for name, theme in THEMES.items():
            act = self._action(v, f"{theme.title} theme", lambda n=name: self.apply_theme(n), checkable=True)
            group.addAction(act)
            self.theme_actions[name] = act
        v.addSeparator()
        self.fullscreen_action = self._action(v, "Full screen", self.toggle_fullscreen, "F11", checkable=True)
        self._action(v, "Presentation mode", self.toggle_presentation, "F5")
        self.dock_action = self.dock.toggleViewAction()
        self.dock_action.setText("Latency meters")
        v.addAction(self.dock_action)
        h = mb.addMenu("&Help")
        self._action(h, "Keyboard shortcuts", self.show_shortcuts)
        self._action(h, "About", self.show_about)
        self._refresh_recent()

    def _build_shortcuts(self) -> None:
        def bind(key, fn):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(self.ctx.guard(fn, "Shortcut"))
            return sc

        self._shortcuts = [
            bind(Qt.Key.Key_Space, lambda: self._player_do("toggle")),
            bind(Qt.Key.Key_Left, lambda: self._player_do("step_back")),
            bind(Qt.Key.Key_Right, lambda: self._player_do("step_forward")),
            bind(Qt.Key.Key_Home, lambda: self._player_do("first")),
            bind(Qt.Key.Key_End, lambda: self._player_do("last")),
            bind(Qt.Key.Key_Escape, self.leave_presentation),
        ]

    def _player_do(self, what: str) -> None:
        panel = self.current_panel()
        p = panel.player() if panel is not None else None
        if p is not None:
            getattr(p, what)()

    # -- panels -------------------------------------------------------------------------------------
    def current_panel(self):
        return self.panels.get(self.current_id)

    def panel(self, panel_id: str):
        """The panel with this id, created on first use."""
        if panel_id not in self.panels:
            panel = create_panel(panel_id, self.ctx)
            self.panels[panel_id] = panel
            self.stack.addWidget(panel)
        return self.panels[panel_id]

    def show_panel(self, panel_id: str) -> None:
        get_spec(panel_id)  # a clear error for an unknown id
        old = self.current_panel()
        panel = self.panel(panel_id)
        if old is not None and old is not panel:
            old.on_hidden()
        self.current_id = panel_id
        if old is not None and old is not panel and hasattr(old, "set_presentation"):
            old.set_presentation(False)  # a page left in presentation mode would keep its settings hidden
        self.stack.setCurrentWidget(panel)
        self.stack.updateGeometry()
        i = self.chooser.findData(panel_id)
        if i >= 0 and i != self.chooser.currentIndex():
            self.chooser.setCurrentIndex(i)
        for i in range(self.sidebar.count()):
            if self.sidebar.item(i).data(Qt.ItemDataRole.UserRole) == panel_id:
                self.sidebar.blockSignals(True)
                self.sidebar.setCurrentRow(i)
                self.sidebar.blockSignals(False)
        self.dock.set_panel(panel_id)
        self.settings.setValue("last_panel", panel_id)
        if self.presenting:
            from .presentation import refresh_presentation

            refresh_presentation(self)
        panel.on_shown()

    # -- view ---------------------------------------------------------------------------------------
    def apply_theme(self, name: str) -> None:
        theme = get_theme(name)
        app = QApplication.instance()
        theme.apply(app)
        self.ctx.set_theme(theme)
        self.dock.apply_theme(theme)
        # The sidebar fits its longest short name at this theme's font size, and no more.
        longest = max(QFontMetrics(theme.font("body")).horizontalAdvance(p.short_title) for p in PANELS)
        self.sidebar.setFixedWidth(longest + 3 * theme.font_pt)
        if not self.presenting:
            # The meters are on demand in the projector theme: the class looks at the picture.
            self.dock.setVisible(name != "projector" and self.settings.value("latency_dock", "true") == "true")
        self._fit_navigation()
        if name in getattr(self, "theme_actions", {}):
            self.theme_actions[name].setChecked(True)
        self.settings.setValue("theme", name)

    def _remember_dock(self, visible: bool) -> None:
        if not self.presenting and self.ctx.theme.name != "projector" and self.isVisible():
            self.settings.setValue("latency_dock", "true" if visible else "false")

    def _fit_navigation(self) -> None:
        """The sidebar on wide windows; on narrow ones (and in presentation) the menu-bar chooser."""
        wide = self.width() >= SIDEBAR_MIN_WINDOW_WIDTH and not self.presenting
        self.sidebar.setVisible(wide)
        self.chooser.setVisible(not wide)

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        self._fit_navigation()

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.fullscreen_action.setChecked(self.isFullScreen())

    def toggle_presentation(self) -> None:
        from .presentation import enter_presentation, leave_presentation

        (leave_presentation if self.presenting else enter_presentation)(self)

    def leave_presentation(self) -> None:
        if self.presenting:
            from .presentation import leave_presentation

            leave_presentation(self)

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<table>{rows}</table>")
        box.setModal(False)
        box.show()

    def show_about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About cvexplorer")
        box.setText(f"cvexplorer {__version__}<br>Computer-vision arithmetic and algorithms, visible and checkable."
                    "<br>PySide6 + pyqtgraph over NumPy, OpenCV and onnxruntime.")
        box.setModal(False)
        box.show()

    def _on_error(self, msg: str) -> None:
        frame = getattr(self.current_panel(), "frame", None)
        if frame is not None:
            frame.banner.show_error(msg)
        else:
            self.banner.show_message(msg)
        self.statusBar().showMessage(msg, 10000)

    def _on_device(self, device: str) -> None:
        for p in self.panels.values():
            self.ctx.guard(p.on_device_changed, "Device change")(device)

    # -- closing ------------------------------------------------------------------------------------
    def closeEvent(self, ev) -> None:  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("last_panel", self.current_id)
        self.settings.sync()
        for p in self.panels.values():
            try:
                p.shutdown()
            except Exception:
                pass
        self.all_finished = self.ctx.workers.shutdown(800)
        super().closeEvent(ev)


def run_app(image: str | None = None, panel: str | None = None, theme: str | None = None,
            lesson: str | None = None) -> int:
    app = ensure_app()
    win = MainWindow()
    _install_excepthook(win.ctx)
    if theme:
        win.apply_theme(theme)
    if panel:
        win.show_panel(panel)
    from .warmup import after_first_paint, warm_up_imports

    after_first_paint(win, warm_up_imports)
    win.show()
    if lesson:
        win.ctx.guard(win.open_lesson, "Open lesson")(lesson)
    elif image:
        win.open_image(image)
    return exit_after(win, app.exec())


def exit_after(win: MainWindow, code: int) -> int:
    """Return the exit code, or leave at once if a job is still running after the window closed.

    A job inside C code (an SGBM run, a SAM encode) cannot be interrupted, and interpreter
    shutdown would wait for its thread: the settings are already saved, so exit without waiting.
    """
    if not getattr(win, "all_finished", True):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _install_excepthook(ctx: AppContext) -> None:
    """Exceptions that escape a slot become a message and a log entry; the app keeps running."""
    import traceback

    def hook(etype, value, tb):
        if issubclass(etype, KeyboardInterrupt):
            sys.__excepthook__(etype, value, tb)
            return
        ctx.report_error(value, tb="".join(traceback.format_exception(etype, value, tb)))

    sys.excepthook = hook
