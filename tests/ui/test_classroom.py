"""Presentation mode, recordings of step-throughs, lessons."""

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from cvexplorer.imageio import save_png
from cvexplorer.ui.app import MainWindow
from cvexplorer.ui.capture import TraceRecorder, encode_animation, save_panel_png
from cvexplorer.ui.lessons import LessonError, read_lesson, save_lesson


@pytest.fixture
def win(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    yield w
    w.ctx.workers.shutdown(2000)


def test_f5_enters_and_escape_leaves_presentation(win, qtbot):
    win.apply_theme("light")
    win.show_panel("nms")
    qtbot.keyClick(win, Qt.Key.Key_F5)
    assert win.presenting
    assert not win.dock.isVisible() and not win.sidebar.isVisible()
    assert win.ctx.theme.font_pt >= 16 and win.ctx.theme.line_px >= 3
    assert win.pointer.isVisible()
    assert "←/→ step" in win.pres_bar.full_text()  # nms has a step-through
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert not win.presenting
    # at 1280 px the panel chooser in the menu bar stands in for the sidebar
    assert win.dock.isVisible() and win.chooser.isVisible() and not win.sidebar.isVisible()
    assert win.ctx.theme.name == "light"
    qtbot.keyClick(win, Qt.Key.Key_F5)
    assert win.presenting
    win.show_panel("calculator")  # no step-through: the hint does not offer the step keys
    assert "step" not in win.pres_bar.full_text() and "leaves" in win.pres_bar.full_text()
    qtbot.keyClick(win, Qt.Key.Key_F5)  # F5 toggles back out
    assert not win.presenting and win.menuBar().isVisible()


def test_file_shortcuts_work_while_the_menu_bar_is_hidden(win, qtbot):
    shortcuts = {a.shortcut().toString() for a in win.actions()}
    assert {"Ctrl+O", "Ctrl+Shift+S", "F5"} <= shortcuts


@pytest.mark.parametrize("pid", ["conv", "anchors", "nms", "stereo", "stitching"])
def test_presentation_collapses_the_controls_and_escape_brings_them_back(win, qtbot, pid):
    from PySide6.QtWidgets import QWidget

    win.show_panel(pid)
    panel = win.current_panel()
    controls = panel.findChildren(QWidget, "Controls")
    assert controls and all(c.isVisible() for c in controls)
    qtbot.keyClick(win, Qt.Key.Key_F5)
    assert not any(c.isVisible() for c in controls)
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert all(c.isVisible() for c in controls)


def test_gif_of_nms_trace_has_one_frame_per_step(win, qtbot, tmp_path):
    win.show_panel("nms")
    panel = win.current_panel()
    panel.wait_idle(30)
    player = panel.player()
    assert player is not None and player.length > 1
    done = []
    rec = TraceRecorder(panel, win.ctx, tmp_path / "nms.gif", fps=4, finished=done.append)
    rec.start()
    qtbot.waitUntil(lambda: bool(done), timeout=60000)
    with Image.open(tmp_path / "nms.gif") as im:
        assert im.n_frames == player.length


def test_mp4_and_bad_extension(tmp_path):
    frames = [np.full((40, 60, 3), v, np.uint8) for v in (0, 120, 240)]
    p = encode_animation(frames, tmp_path / "a.mp4", fps=5)
    assert p.stat().st_size > 0
    import cv2

    cap = cv2.VideoCapture(str(p))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    with pytest.raises(ValueError, match=".gif or .mp4"):
        encode_animation(frames, tmp_path / "a.txt")


def test_save_png_of_panel_any_size_and_unwritable_place(win, tmp_path):
    panel = win.panel("welcome")
    p = save_panel_png(panel, tmp_path / "w.png", size=(1920, 1080))
    assert Image.open(p).size == (1920, 1080)
    with pytest.raises(ValueError, match="Could not save"):
        save_panel_png(panel, tmp_path / "missing" / "w.png")


def test_lesson_round_trip_restores_panel_state(win, qtbot, tmp_path):
    img = np.zeros((60, 80, 3), np.uint8)
    img[10:50, 20:60] = 255
    ip = save_png(tmp_path / "class.png", img)
    win.show_panel("nms")
    panel = win.current_panel()
    panel.wait_idle(30)
    panel.go_to_step(2)
    state = panel.state()
    lp = save_lesson(tmp_path / "l.json", "nms", state, theme="projector", image=str(ip))
    win.show_panel("welcome")
    win.open_lesson(str(lp))
    assert win.current_id == "nms" and win.ctx.theme.name == "projector"
    win.current_panel().wait_idle(30)
    assert win.current_panel().state() == json.loads(lp.read_text())["state"]


def test_lesson_with_missing_image_opens_the_rest(win, tmp_path):
    lp = save_lesson(tmp_path / "l.json", "nms", {}, image=str(tmp_path / "gone.png"))
    win.open_lesson(str(lp))
    assert win.current_id == "nms"
    assert any("gone.png" in e and "rest of the lesson" in e for e in win.ctx.errors)


def test_a_lesson_the_panel_refuses_changes_nothing(win, tmp_path):
    win.apply_theme("dark")
    win.show_panel("calculator")
    before = win.current_panel().state()
    lp = save_lesson(tmp_path / "l.json", "nms", {"iou": "not a number", "step": 2}, theme="projector")
    with pytest.raises(LessonError, match="nothing was changed"):
        win.open_lesson(str(lp))
    assert win.current_id == "calculator" and win.ctx.theme.name == "dark"
    assert win.current_panel().state() == before


def test_bad_lesson_files(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(LessonError, match="not valid JSON"):
        read_lesson(p)
    p.write_text(json.dumps({"hello": 1}))
    with pytest.raises(LessonError, match="not a cvexplorer lesson"):
        read_lesson(p)
