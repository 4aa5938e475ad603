"""The main window: panels, themes, drag-and-drop, errors, settings, shortcuts."""

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel

from cvexplorer.imageio import save_png
from cvexplorer.ui.app import MainWindow, make_settings
from cvexplorer.ui.registry import PANELS, panel_ids
from cvexplorer.ui.widgets.util import grab_array

from .helpers import banner_text


@pytest.fixture
def win(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    yield w
    w.ctx.workers.shutdown(2000)


def test_window_has_sidebar_menus_dock_and_welcome(win):
    assert win.current_id == "welcome"
    assert win.sidebar.count() == len(PANELS)
    menus = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert menus == ["File", "View", "Help"]
    assert win.dock.isVisible()
    assert set(win.panel("welcome").cards) == set(panel_ids()) - {"welcome"}


def test_welcome_cards_get_their_pictures_from_a_worker(win):
    """The card PNGs are decoded off the GUI thread; once it is done every card shows its picture."""
    from cvexplorer.ui.panels.welcome import thumbnail_path

    welcome = win.panel("welcome")
    assert welcome.wait_idle(30)
    shown = [pid for pid, card in welcome.cards.items()
             if any(lab.pixmap() is not None and not lab.pixmap().isNull() for lab in card.findChildren(QLabel))]
    assert sorted(shown) == sorted(pid for pid in welcome.cards if thumbnail_path(pid).is_file())
    assert len(shown) >= 10  # the PNGs are committed


def test_the_window_paints_before_numpy_and_opencv_load(tmp_path):
    """Start-up shows the window first; NumPy, OpenCV and the engine then load in a background thread."""
    import os
    import subprocess
    import sys

    code = ("import sys\n"
            "from cvexplorer.ui.app import MainWindow, ensure_app\n"
            "app = ensure_app(); w = MainWindow(); w.show(); app.processEvents(); w.grab()\n"
            "print(sorted(m for m in ('numpy', 'cv2', 'pyqtgraph', 'onnxruntime') if m in sys.modules))\n"
            "import time\n"
            "from cvexplorer.ui.warmup import warm_up_imports\n"
            "done = []\n"
            "warm_up_imports(lambda: done.append(1))\n"
            "t0 = time.time()\n"
            "while not done and time.time() - t0 < 60: app.processEvents(); time.sleep(0.01)\n"
            "print(sorted(m for m in ('numpy', 'cv2', 'cvexplorer.boxes', 'pyqtgraph') if m in sys.modules))\n"
            "w.ctx.workers.shutdown(2000)\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CVEXPLORER_SETTINGS": str(tmp_path / "s.ini")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    before, after = out.stdout.strip().splitlines()[-2:]
    assert before == "[]"
    assert after == "['cv2', 'cvexplorer.boxes', 'numpy', 'pyqtgraph']"  # then the warm-up loads them


def test_the_warm_up_waits_for_the_first_paint(qtbot):
    """The warm-up is queued by the window's first Paint event, not before it (it would slow that paint)."""
    from PySide6.QtWidgets import QLabel

    from cvexplorer.ui.warmup import after_first_paint

    calls = []
    w = QLabel("first frame")
    qtbot.addWidget(w)
    after_first_paint(w, lambda: calls.append(w.isVisible()))
    qtbot.wait(50)
    assert calls == []  # not shown, not painted: nothing yet
    w.show()
    qtbot.waitUntil(lambda: calls == [True], timeout=2000)
    w.update()
    qtbot.wait(50)
    assert calls == [True]  # once only

    hidden = []  # a window that never paints still gets it, after the fallback
    after_first_paint(QLabel("never shown"), lambda: hidden.append(1), fallback_ms=100)
    qtbot.waitUntil(lambda: hidden == [1], timeout=2000)


def test_every_registered_panel_opens(win, qtbot):
    for pid in panel_ids():
        win.show_panel(pid)
        assert win.stack.currentWidget() is win.panels[pid]
        assert win.dock.panel_id == pid
    assert win.ctx.errors == []


def test_welcome_card_opens_its_panel(win, qtbot):
    qtbot.mouseClick(win.panel("welcome").cards["nms"], Qt.MouseButton.LeftButton)
    assert win.current_id == "nms"


def test_theme_switch_changes_rendering_and_persists(win):
    win.apply_theme("light")
    light = grab_array(win.sidebar)
    win.apply_theme("dark")
    dark = grab_array(win.sidebar)
    assert light.mean() - dark.mean() > 60  # the sidebar really went dark
    assert win.ctx.theme.name == "dark"
    assert make_settings().value("theme") == "dark"
    win.apply_theme("projector")
    assert win.ctx.theme.font_pt >= 20 and win.ctx.theme.line_px >= 3


def test_drag_and_drop_of_an_image_reaches_the_current_panel(win, qtbot, tmp_path):
    img = np.zeros((30, 50, 3), np.uint8)
    img[:, :25] = 200
    path = save_png(tmp_path / "dropped.png", img)
    win.show_panel("conv")
    panel = win.current_panel()
    got = []
    panel.set_image = lambda rgb, source="": got.append((rgb, source))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    win.dropEvent(ev)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert np.array_equal(got[0][0], img) and got[0][1].endswith("dropped.png")
    assert str(path.resolve()) in win.recent_files()


def test_bad_image_shows_a_sentence_and_keeps_state(win, qtbot, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    win.show_panel("conv")
    win.open_image(str(bad))
    qtbot.waitUntil(lambda: bool(banner_text(win)), timeout=5000)
    assert "not an image" in banner_text(win)
    assert win.current_id == "conv"


def test_exception_in_a_panel_is_shown_and_window_stays_usable(win, qtbot):
    win.show_panel("conv")
    panel = win.current_panel()

    def boom(*_a, **_k):
        raise RuntimeError("kaboom inside a panel")

    panel.set_image = boom
    win.ctx.guard(panel.set_image, "Convolution lab")(np.zeros((2, 2, 3), np.uint8))
    assert "kaboom" in banner_text(win)
    # A worker failure takes the same road, in a sentence without Python's words.
    win.ctx.workers.submit("x", lambda: 1 / 0)
    qtbot.waitUntil(lambda: "too large or too small" in banner_text(win), timeout=5000)
    assert "ZeroDivisionError" not in banner_text(win)
    win.show_panel("nms")  # still usable
    assert win.current_id == "nms"


def test_space_and_arrows_drive_the_current_player(win, qtbot):
    from cvexplorer.trace import Step, Trace
    from cvexplorer.ui.widgets.player import TracePlayer

    player = TracePlayer()
    player.set_trace(Trace([Step(i) for i in range(5)]))
    panel = win.panel("nms")
    panel.player = lambda: player
    win.show_panel("nms")
    win.activateWindow()
    key = Qt.Key
    qtbot.keyClick(win, key.Key_Right)
    qtbot.keyClick(win, key.Key_Right)
    assert player.index == 2
    qtbot.keyClick(win, key.Key_End)
    assert player.index == 4
    qtbot.keyClick(win, key.Key_Left)
    qtbot.keyClick(win, key.Key_Home)
    assert player.index == 0
    qtbot.keyClick(win, key.Key_Space)
    assert player.playing
    qtbot.waitUntil(lambda: player.index == 4, timeout=5000)


def test_settings_restore_last_panel(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show_panel("stereo")
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert w2.current_id == "stereo"
    w2.close()


def test_sam_and_the_vit_lab_link_to_each_other(win):
    win.show_panel("sam")
    win.current_panel().controls.vit_btn.click()
    assert win.current_id == "vit"
    win.current_panel().controls.open_sam_btn.click()
    assert win.current_id == "sam"
