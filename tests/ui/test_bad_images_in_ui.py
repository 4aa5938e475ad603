"""Every bad image a user might open: one sentence in the banner, the panel keeps its state,
and the app goes on (the table in tests/RELIABILITY.md lists what the user sees)."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cvexplorer.ui.app import MainWindow

from .helpers import banner_text


def _bomb(path):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 90000, 90000, 8, 2, 0, 0, 0))
                     + chunk(b"IEND", b""))


def _truncated(path):
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((300, 300, 3)) * 255).astype(np.uint8)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue()[:3000])


BAD = {
    "empty.png": (lambda p: p.write_bytes(b""), "empty"),
    "truncated.jpg": (_truncated, "truncated"),
    "notes.png": (lambda p: p.write_text("hello " * 100), "not an image"),
    "bomb.png": (_bomb, "refused before decoding"),
    "missing.png": (None, "does not exist"),
    "a_folder": (lambda p: p.mkdir(), "folder"),
}


@pytest.fixture
def win(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.show_panel("conv")
    w.current_panel().wait_idle(30)
    yield w
    w.ctx.workers.shutdown(2000)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_file_gives_one_sentence_and_app_continues(win, qtbot, tmp_path, name):
    make, words = BAD[name]
    p = tmp_path / ("ünïcødé_" * 6 + name)  # non-ASCII, long path
    if make:
        make(p)
    before = win.current_panel().state()
    win.open_image(str(p))
    qtbot.waitUntil(lambda: bool(banner_text(win)), timeout=10000)
    msg = banner_text(win)
    assert words in msg and "Traceback" not in msg and "\n" not in msg
    assert win.current_panel().state() == before  # nothing lost
    win.show_panel("welcome")  # still usable
    assert win.current_id == "welcome"


@pytest.mark.parametrize("shape", [(1, 1), (200, 30000)])
def test_odd_but_valid_images_open(win, qtbot, tmp_path, shape):
    from cvexplorer.imageio import save_png

    img = np.full((*shape, 3), 90, np.uint8)
    p = save_png(tmp_path / "odd.png", img)
    win.open_image(str(p))
    qtbot.waitUntil(lambda: any("odd.png" in m for m in win.ctx.messages) or bool(banner_text(win)), timeout=20000)
    win.current_panel().wait_idle(60)
    # Either the panel took it, or it explained in one sentence why it cannot (e.g. smaller than its kernel).
    assert all("Traceback" not in e and "Unexpected" not in e for e in win.ctx.errors)
