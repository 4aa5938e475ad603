"""Recording a step-through: frames go to a temporary folder as they are grabbed (memory stays at about
one frame), the GIF/MP4 has one frame per step showing that step, long recordings are refused up
front, and the temporary frames are deleted whether the recording is saved, fails or is cancelled."""

from __future__ import annotations

import tempfile
import threading
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import cvexplorer.ui.capture as capture
from cvexplorer.ui.capture import TraceRecorder, panel_array


@pytest.fixture
def recordings_tmp(tmp_path, monkeypatch):
    """The system temporary folder for this test, so leftovers are visible."""
    d = tmp_path / "systemp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def _nms_with_boxes(make_panel, n: int):
    panel = make_panel("nms", size=(640, 480))
    for i in range(n):  # boxes apart: every box is a pick, so n + 2 steps
        x, y = 20 + 50 * (i % 10), 20 + 50 * (i // 10)
        panel.add_box(x, y, x + 30, y + 30, score=0.9 - 0.01 * i)
    panel.wait_idle(30)
    assert panel.player().length == n + 2
    return panel


def _record(qtbot, rec):
    done, failed = [], []
    rec.finished, rec.failed = done.append, failed.append
    rec.start()
    qtbot.waitUntil(lambda: rec.done, timeout=60000)
    return done, failed


def _grab_steps(panel, steps):
    out = []
    for i in steps:
        panel.player().seek(i)
        out.append(panel_array(panel).astype(np.int16))
    return out


def _closest(frame, grabs, k) -> int:
    """Which of the grabs of steps k-1, k, k+1 ``frame`` looks most like."""
    near = range(max(0, k - 1), min(len(grabs), k + 2))
    return near[int(np.argmin([np.abs(frame.astype(np.int16) - grabs[i]).mean() for i in near]))]


def test_gif_streams_frames_through_a_temporary_folder_and_shows_each_step(make_panel, ctx, qtbot, tmp_path,
                                                                          recordings_tmp):
    panel = _nms_with_boxes(make_panel, 40)
    player = panel.player()
    player.seek(3)
    frame_bytes = panel_array(panel).nbytes
    seen = []

    def progress(done, total):  # while grabbing: the frames are on disk, not in the recorder
        files = sorted(rec.spool.folder.glob("*.png"))
        arrays = [v for v in vars(rec).values() if isinstance(v, np.ndarray)
                  or (isinstance(v, list) and any(isinstance(x, np.ndarray) for x in v))]
        seen.append((done, total, len(files), arrays))

    rec = TraceRecorder(panel, ctx, tmp_path / "nms.gif", fps=4, progress=progress)
    tracemalloc.start()
    try:
        done, failed = _record(qtbot, rec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert done == [tmp_path / "nms.gif"] and failed == [] and ctx.errors == []
    n = player.length
    assert [s[:3] for s in seen] == [(k, n, k) for k in range(1, n + 1)]
    assert all(s[3] == [] for s in seen)
    # grabbing and encoding together never held more than a few frames at once (42 were recorded;
    # holding them all took 42 frames, and a 10,479-step trace 7.5 GB before it was stopped)
    assert peak < 8 * frame_bytes, (peak, frame_bytes)
    assert list(recordings_tmp.iterdir()) == []  # the temporary frames are gone
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []
    assert player.index == 3  # the player is back where it was

    grabs = _grab_steps(panel, range(n))
    with Image.open(tmp_path / "nms.gif") as im:
        assert im.n_frames == n
        for k in range(n):
            im.seek(k)
            frame = np.asarray(im.convert("RGB"))
            assert frame.shape == grabs[k].shape
            assert np.abs(frame - grabs[k]).mean() < 2.0  # 255-colour quantisation of the very grab
            assert _closest(frame, grabs, k) == k


def test_mp4_of_a_range_of_steps_has_one_frame_per_step(make_panel, ctx, qtbot, tmp_path, recordings_tmp):
    import cv2

    panel = _nms_with_boxes(make_panel, 4)
    rec = TraceRecorder(panel, ctx, tmp_path / "part.mp4", fps=5, steps=range(1, 5))
    assert rec.total == 4
    done, failed = _record(qtbot, rec)
    assert done and failed == [] and ctx.errors == []
    grabs = _grab_steps(panel, range(panel.player().length))
    cap = cv2.VideoCapture(str(tmp_path / "part.mp4"))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr[:, :, ::-1])
    cap.release()
    assert len(frames) == 4
    for k, frame in enumerate(frames):
        assert _closest(frame, [g[: frame.shape[0], : frame.shape[1]] for g in grabs], k + 1) == k + 1
    assert list(recordings_tmp.iterdir()) == []


def test_a_recording_over_the_limit_is_refused_up_front_with_one_sentence(make_panel, ctx, tmp_path, recordings_tmp,
                                                                          monkeypatch):
    monkeypatch.setattr(capture, "MAX_RECORD_STEPS", 5)
    panel = _nms_with_boxes(make_panel, 6)  # 8 steps
    with pytest.raises(ValueError) as info:
        TraceRecorder(panel, ctx, tmp_path / "long.gif")
    msg = str(info.value)
    assert "\n" not in msg and msg.count(". ") == 0 and msg.endswith(".")
    assert "at most 5 steps" in msg and "8" in msg and "shorter range" in msg
    with pytest.raises(ValueError, match="comes after the last"):
        TraceRecorder(panel, ctx, tmp_path / "r.gif", steps=range(4, 2))
    with pytest.raises(ValueError, match="steps 1 to 8"):
        TraceRecorder(panel, ctx, tmp_path / "r.gif", steps=range(2, 9))
    assert TraceRecorder(panel, ctx, tmp_path / "ok.gif", steps=range(3, 8)).total == 5  # a range within the limit
    assert list(recordings_tmp.iterdir()) == [] and not (tmp_path / "long.gif").exists()


def test_cancel_while_grabbing_deletes_the_frames_and_saves_nothing(make_panel, ctx, qtbot, tmp_path, recordings_tmp):
    panel = _nms_with_boxes(make_panel, 6)
    rec = TraceRecorder(panel, ctx, tmp_path / "c.gif")
    rec.progress = lambda done, total: rec.cancel() if done == 3 else None
    rec.start()
    qtbot.waitUntil(lambda: rec.cancelled, timeout=30000)
    qtbot.wait(50)
    ctx.workers.wait_idle(10)
    assert list(recordings_tmp.iterdir()) == [] and not (tmp_path / "c.gif").exists()
    assert not rec.done and ctx.errors == []


def test_cancel_while_encoding_deletes_the_frames_and_the_partial_file(make_panel, ctx, qtbot, tmp_path,
                                                                      recordings_tmp, monkeypatch):
    started, release = threading.Event(), threading.Event()
    real = capture.encode_animation

    def held(frames, path, fps):  # stands for a long encode: waits until the test has pressed Cancel
        started.set()
        release.wait(20)
        return real(frames, path, fps)

    monkeypatch.setattr(capture, "encode_animation", held)
    panel = _nms_with_boxes(make_panel, 3)
    rec = TraceRecorder(panel, ctx, tmp_path / "e.gif")
    finished = []
    rec.finished = finished.append
    rec.start()
    qtbot.waitUntil(started.is_set, timeout=30000)
    rec.cancel()
    release.set()
    assert ctx.workers.wait_idle(20)
    assert list(recordings_tmp.iterdir()) == [] and not (tmp_path / "e.gif").exists()
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []
    assert finished == [] and ctx.errors == []


def test_a_failed_save_deletes_the_frames_and_says_so_in_one_sentence(make_panel, ctx, qtbot, tmp_path,
                                                                      recordings_tmp):
    panel = _nms_with_boxes(make_panel, 2)
    rec = TraceRecorder(panel, ctx, tmp_path / "missing" / "f.gif")
    done, failed = _record(qtbot, rec)
    assert done == [] and len(failed) == 1
    assert failed[0] == "Could not save f.gif: No such file or directory."
    assert len(ctx.errors) == 1 and "Traceback" not in ctx.errors[0]
    assert list(recordings_tmp.iterdir()) == []
