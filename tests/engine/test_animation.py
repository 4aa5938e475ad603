"""Recordings: frames spooled to a temporary folder and streamed into GIF / MP4 one at a time."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest
from PIL import Image

from cvexplorer.animation import FrameSpool, RecordingCancelled, encode_animation
from cvexplorer.imageio import ImageSaveError


def _frames(n, h=30, w=40):
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, : (i + 1) * w // n] = (255, 128, 0)  # a bar that grows: every step looks different
        yield f


def _gif_frames(path):
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB")))
    return out


def test_gif_has_every_frame_exactly_even_identical_ones(tmp_path):
    frames = list(_frames(4)) + [np.zeros((30, 40, 3), np.uint8)] * 2  # two identical steps at the end
    p = encode_animation(iter(frames), tmp_path / "a.gif", fps=4)
    back = _gif_frames(p)
    assert len(back) == 6
    assert all(np.array_equal(a, b) for a, b in zip(back, frames))
    with Image.open(p) as im:
        assert im.info["loop"] == 0 and im.info["duration"] == 250


def test_the_encoder_holds_one_frame_at_a_time(tmp_path):
    alive = []

    def frames():
        for f in _frames(12, 60, 80):
            alive.append(weakref.ref(f))
            gc.collect()
            assert sum(r() is not None for r in alive) <= 2  # this frame and at most the previous one
            yield f

    for ext in (".gif", ".mp4"):
        alive.clear()
        encode_animation(frames(), tmp_path / f"a{ext}", fps=5)


def test_frames_of_another_size_are_scaled_to_the_first(tmp_path):
    frames = [np.zeros((30, 40, 3), np.uint8), np.full((60, 80, 3), 200, np.uint8)]
    back = _gif_frames(encode_animation(frames, tmp_path / "a.gif"))
    assert [b.shape for b in back] == [(30, 40, 3)] * 2 and back[1].min() == 200


def test_spool_round_trip_and_cleanup(tmp_path):
    spool = FrameSpool(dir=tmp_path)
    frames = list(_frames(5))
    for f in frames:
        spool.append(f)
    assert len(spool) == 5 and len(list(spool.folder.glob("*.png"))) == 5
    assert all(np.array_equal(a, b) for a, b in zip(spool.frames(), frames))
    spool.cleanup()
    spool.cleanup()  # twice is fine
    assert list(tmp_path.iterdir()) == [] and spool.closed
    with pytest.raises(ImageSaveError, match="already finished or cancelled"):
        spool.append(frames[0])


def test_a_dropped_spool_deletes_its_folder(tmp_path):
    spool = FrameSpool(dir=tmp_path)
    spool.append(np.zeros((8, 8, 3), np.uint8))
    del spool
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_cancel_leaves_no_file_and_no_part(tmp_path):
    spool = FrameSpool(dir=tmp_path)
    for f in _frames(6):
        spool.append(f)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 3

    out = tmp_path / "out"
    out.mkdir()
    for ext in (".gif", ".mp4"):
        calls.clear()
        with pytest.raises(RecordingCancelled):
            encode_animation(spool.frames(cancelled), out / f"c{ext}")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("make, words", [
    (lambda d: (d / "x.txt", []), "Record as .gif or .mp4, not .txt."),
    (lambda d: (d / "x.gif", []), "There are no frames to record: the panel has no steps."),
    (lambda d: (d / "nowhere" / "x.gif", None), "Could not save x.gif: No such file or directory."),
    (lambda d: ((d / "folder.gif").mkdir() or d / "folder.gif", None),
     "Not saving the recording: folder.gif exists and is not a regular file."),
    (lambda d: ((d / "link.gif").symlink_to(d / "target") or d / "link.gif", None),
     "Not saving the recording: link.gif is a link; choose a plain file name."),
])
def test_refusals_are_one_sentence_and_leave_nothing_behind(tmp_path, make, words):
    path, frames = make(tmp_path)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ImageSaveError) as info:
        encode_animation(_frames(3) if frames is None else frames, path)
    assert str(info.value) == words
    assert sorted(os.listdir(tmp_path)) == before  # no .part file, the link's target not created


_PEAK = textwrap.dedent("""
    import resource, sys, tempfile, pathlib
    import numpy as np
    from cvexplorer.animation import FrameSpool, encode_animation

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n, ext = int(sys.argv[1]), sys.argv[2]
    base = np.zeros((600, 800, 3), np.uint8)
    base[:, :, 0] = np.arange(800) * 255 // 800
    d = pathlib.Path(tempfile.mkdtemp())
    warm = FrameSpool(dir=d)  # one frame through the whole road first (imports, codec set-up)
    warm.append(base)
    encode_animation(warm.frames(), d / ("warm" + ext), 4)
    warm.cleanup()
    before = peak_mb()
    spool = FrameSpool(dir=d)
    for i in range(n):
        f = base.copy()
        f[100:200, (i * 11) % 700:(i * 11) % 700 + 100] = 255
        spool.append(f)
    encode_animation(spool.frames(), d / ("a" + ext), 4)
    spool.cleanup()
    print(peak_mb() - before)
""")


@pytest.mark.parametrize("n, ext", [(60, ".gif"), (100, ".mp4")])
def test_peak_memory_does_not_grow_with_the_number_of_frames(tmp_path, n, ext):
    # 800x600 RGB frames are 1.4 MB each: holding 60 (100) of them would add 86 (144) MB
    r = subprocess.run([sys.executable, "-c", _PEAK, str(n), ext], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "TMPDIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    growth = float(r.stdout.strip())
    assert growth < 24, f"peak RSS grew by {growth:.1f} MB over {n} frames"
    assert list(tmp_path.glob("*/*.png")) == []
