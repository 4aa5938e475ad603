"""Recordings of step-throughs: frames spooled to disk as they are grabbed, then streamed into a GIF or MP4.

A step-through can have thousands of steps and a grabbed frame of a panel is a few megabytes, so
neither the recorder nor the encoder may hold every frame. :class:`FrameSpool` writes each frame as a
PNG to its own temporary folder (deleted by :meth:`FrameSpool.cleanup`, or at the latest when the
spool is garbage-collected or the program exits); :func:`encode_animation` takes any iterable of
frames and keeps one decoded frame at a time: a GIF is written frame by frame with Pillow's GIF
encoder (its ``save_all`` would keep every quantised frame until the end), an MP4 through OpenCV's
``VideoWriter``. The output is written under a temporary name beside the target and renamed when
complete, so a failed or cancelled recording leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .imageio import ImageSaveError, as_rgb, check_save_target, resize

__all__ = ["FrameSpool", "RecordingCancelled", "encode_animation"]


class RecordingCancelled(Exception):
    """Raised inside the encoder when the user cancelled; the partial output has been removed."""


class FrameSpool:
    """The frames of one recording, each written as PNG to a private temporary folder when appended.

    Memory stays at one frame whatever the number of steps. ``frames()`` reads them back in order,
    one at a time. ``cleanup()`` deletes the folder (idempotent); it also happens when the spool is
    garbage-collected or the interpreter exits, so a dropped recording leaves nothing in ``/tmp``.

    >>> spool = FrameSpool()
    >>> spool.append(np.zeros((4, 6, 3), np.uint8)); len(spool)
    1
    >>> [f.shape for f in spool.frames()]
    [(4, 6, 3)]
    >>> spool.cleanup(); spool.folder.exists()
    False
    """

    def __init__(self, dir: str | os.PathLike | None = None) -> None:
        try:
            self.folder = Path(tempfile.mkdtemp(prefix="cvexplorer-recording-", dir=dir))
        except OSError as exc:
            raise ImageSaveError(f"Could not create a temporary folder for the recording: "
                                 f"{exc.strerror or exc}.") from None
        self._count = 0
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.folder), ignore_errors=True)

    def __len__(self) -> int:
        return self._count

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def _frame_path(self, i: int) -> Path:
        return self.folder / f"frame_{i:06d}.png"

    def append(self, rgb: np.ndarray) -> None:
        """Write one frame (fast PNG compression: this runs on the GUI thread between steps)."""
        import cv2

        if self.closed:
            raise ImageSaveError("This recording was already finished or cancelled; start a new one.")
        ok, buf = cv2.imencode(".png", np.ascontiguousarray(as_rgb(rgb)[:, :, ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise ImageSaveError("Could not compress a frame of the recording.")
        try:
            buf.tofile(str(self._frame_path(self._count)))
        except OSError as exc:
            raise ImageSaveError(f"Could not write a frame of the recording to the temporary folder: "
                                 f"{exc.strerror or exc}.") from None
        self._count += 1

    def frames(self, cancelled: Callable[[], bool] | None = None) -> Iterator[np.ndarray]:
        """The frames in order, decoded one at a time; raises :class:`RecordingCancelled` once
        ``cancelled()`` is true."""
        import cv2

        for i in range(self._count):
            if cancelled is not None and cancelled():
                raise RecordingCancelled()
            try:
                data = np.fromfile(str(self._frame_path(i)), np.uint8)
            except OSError as exc:
                raise ImageSaveError(f"Frame {i + 1} of the recording could not be read back from the temporary "
                                     f"folder: {exc.strerror or exc}.") from None
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
            if bgr is None:
                raise ImageSaveError(f"Frame {i + 1} of the recording in the temporary folder is damaged.")
            yield np.ascontiguousarray(bgr[:, :, ::-1])

    def cleanup(self) -> None:
        """Delete the folder and every frame in it (safe to call twice)."""
        self._finalizer()


def encode_animation(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float = 2.0) -> Path:
    """Write RGB frames as an animated GIF (one GIF frame per step, looping) or an MP4/AVI (OpenCV's writer).

    ``frames`` may be any iterable (a list, a generator, :meth:`FrameSpool.frames`); it is consumed
    once and at most one frame is held decoded. Every frame is scaled to the first frame's size.
    Consecutive identical frames stay separate frames (one per step). Raises :class:`ImageSaveError`
    with a sentence for no frames, an unknown extension, a link or folder at ``path`` or an
    unwritable place; :class:`RecordingCancelled` from the iterable is passed on. Nothing is left at
    ``path`` or beside it unless the whole animation was written.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.gif"
    >>> encode_animation((np.full((8, 8, 3), v, np.uint8) for v in (0, 0, 255)), out).name
    'a.gif'
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".gif", ".mp4", ".avi"):
        raise ImageSaveError(f"Record as .gif or .mp4, not {ext or 'a file without extension'}.")
    if not (np.isfinite(fps) and 0 < fps <= 100):
        raise ImageSaveError(f"The frame rate must be between 0 and 100 frames per second, not {fps}.")
    check_save_target(p, "recording")
    tmp = p.with_name(f".{p.stem}.{os.getpid()}.part{ext}")
    try:
        n = _write_gif(frames, tmp, fps) if ext == ".gif" else _write_video(frames, tmp, fps, ext)
        if n == 0:
            raise ImageSaveError("There are no frames to record: the panel has no steps.")
        os.replace(tmp, p)
    except OSError as exc:
        raise ImageSaveError(f"Could not save {p.name}: {exc.strerror or exc}.") from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the folder itself is missing or unwritable: nothing was written
    return p


def _same_size(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    f = as_rgb(frame)
    if size is not None and (f.shape[1], f.shape[0]) != size:
        f = resize(f, size)  # the panel was resized while recording: keep one picture size
    return f


def _write_gif(frames: Iterable[np.ndarray], tmp: Path, fps: float) -> int:
    from PIL import GifImagePlugin, Image

    duration = max(10, int(round(1000 / fps)))  # GIF delays are in 1/100 s
    size, n = None, 0
    with open(tmp, "xb") as fh:
        for frame in frames:
            f = _same_size(frame, size)
            im = Image.fromarray(f).quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            if size is None:
                size = (f.shape[1], f.shape[0])
                header, _ = GifImagePlugin.getheader(im, None, {"loop": 0, "duration": duration})
                fh.write(b"".join(header))
            # each frame carries its own palette; disposal 1 keeps the previous picture under it
            chunks = GifImagePlugin.getdata(im, duration=duration, disposal=1, include_color_table=True)
            fh.write(b"".join(chunks))
            # Pillow returns a list held by a class made per call, which only the cyclic garbage
            # collector frees: empty it, or every encoded frame stays in memory until a collection.
            chunks.clear()
            n += 1
        fh.write(b";")
    return n


def _write_video(frames: Iterable[np.ndarray], tmp: Path, fps: float, ext: str) -> int:
    import cv2

    vw, size, even, n = None, None, None, 0
    try:
        for frame in frames:
            f = _same_size(frame, size)
            if vw is None:
                h, w = f.shape[:2]
                size, even = (w, h), (w - w % 2, h - h % 2)  # codecs want even sizes
                if min(even) < 2:
                    raise ImageSaveError(f"A video frame must be at least 2×2 pixels, not {w}×{h}.")
                fourcc = cv2.VideoWriter.fourcc(*("mp4v" if ext == ".mp4" else "MJPG"))
                vw = cv2.VideoWriter(str(tmp), fourcc, fps, even)
                if not vw.isOpened():
                    raise ImageSaveError(f"Could not open a video writer for a {ext} file.")
            vw.write(np.ascontiguousarray(f[: even[1], : even[0], ::-1]))
            n += 1
    finally:
        if vw is not None:
            vw.release()
    return n
