"""Every image enters the explorer here: validated RGB uint8, or a clear :class:`ImageLoadError`.

Pillow reads the header first, so a decompression bomb is refused before any pixels are
allocated; it also applies EXIF rotation and converts 16-bit, float, CMYK, palette, grey and
alpha images. OpenCV's decoder is the fallback for formats Pillow does not know.
"""

from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "ImageLoadError", "ImageSaveError", "LoadedImage", "load_image", "load_image_info",
    "as_rgb", "working_copy", "save_png", "encode_png", "MAX_PIXELS", "WORKING_PIXELS",
]

#: Images above this many pixels are refused outright (a 16k x 16k photo is 268 MP).
MAX_PIXELS = 300_000_000
#: Above this, panels compute on a downscaled working copy (12 MP phones stay full size).
WORKING_PIXELS = 16_000_000
#: Above this, an image is decoded at a reduced scale (an integer factor), so a 289 MP file does not
#: need gigabytes of copies; the notice says so.
FULL_DECODE_PIXELS = 64_000_000
#: Files larger than this are not read at all.
MAX_FILE_BYTES = 2_000_000_000


class ImageLoadError(ValueError):
    """An image could not be loaded; the message is one sentence for the user."""


class ImageSaveError(ValueError):
    """An image could not be saved; the message is one sentence for the user."""


@dataclass(frozen=True)
class LoadedImage:
    """An image as loaded, with what was done to it on the way (for a status-bar notice)."""

    rgb: np.ndarray
    path: str
    original_size: tuple[int, int]  # (width, height) as stored, before EXIF rotation
    notes: tuple[str, ...] = field(default_factory=tuple)


def _name(path: Path) -> str:
    return path.name or str(path)


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Load an image file as an (H, W, 3) RGB uint8 array.

    Parameters
    ----------
    path : str or path-like
        Any file Pillow or OpenCV can decode (PNG, JPEG, TIFF, BMP, GIF, WebP, ...).

    Returns
    -------
    ndarray
        C-contiguous (H, W, 3) uint8, EXIF orientation applied, alpha composited over white,
        16-bit and float images scaled to 0-255, the first frame of an animation.

    Raises
    ------
    ImageLoadError
        Missing file, a folder, an empty or truncated file, something that is not an image,
        or an image too large to load safely.

    Examples
    --------
    >>> load_image("/no/such/file.png")
    Traceback (most recent call last):
    ...
    cvexplorer.imageio.ImageLoadError: file.png does not exist.
    """
    return load_image_info(path).rgb


def load_image_info(path: str | os.PathLike) -> LoadedImage:
    """Like :func:`load_image` but also says what was converted (for a notice in the UI)."""
    p = Path(path)
    name = " ".join(_name(p).split())  # a newline in a file name must not break the sentence
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ImageLoadError(f"{name} does not exist.") from None
    except OSError as exc:  # too-long names, permission problems, a symlink loop
        raise ImageLoadError(f"{name} cannot be opened ({exc.strerror or exc}).") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageLoadError(f"{name} is a folder, not an image file.")
    if not stat.S_ISREG(st.st_mode):
        raise ImageLoadError(f"{name} is not a regular file (a device or a pipe cannot be read as an image).")
    size = st.st_size
    if size == 0:
        raise ImageLoadError(f"{name} is empty (0 bytes).")
    if size > MAX_FILE_BYTES:
        raise ImageLoadError(f"{name} is {size / 1e9:.1f} GB; this app reads image files up to "
                             f"{MAX_FILE_BYTES / 1e9:.0f} GB.")
    try:
        return _load_with_pillow(p, name)
    except ImageLoadError:
        raise
    except _NotPillow:
        return _load_with_opencv(p, name)


class _NotPillow(Exception):
    pass


def _load_with_pillow(p: Path, name: str) -> LoadedImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    notes: list[str] = []
    Image.MAX_IMAGE_PIXELS = None  # we apply our own, clearer limit below
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(p)
    except UnidentifiedImageError:
        raise _NotPillow() from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # a header that ends early, or garbage in it
        raise ImageLoadError(f"{name} cannot be read ({exc}).") from None
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise ImageLoadError(f"{name} has no pixels ({w}×{h}).")
        if w * h > MAX_PIXELS:
            raise ImageLoadError(
                f"{name} claims {w}×{h} pixels ({w * h / 1e6:.0f} MP), more than the "
                f"{MAX_PIXELS / 1e6:.0f} MP this app loads; it was refused before decoding.")
        if getattr(im, "n_frames", 1) > 1:
            notes.append(f"{name} has {im.n_frames} frames; the first is shown.")
            im.seek(0)
        factor = _reduction(w, h)
        try:
            if factor > 1 and im.format == "JPEG":
                im.draft(im.mode, (w // factor, h // factor))  # the decoder itself skips detail: cheap
            im.load()
            if factor > 1:
                if im.size[0] > w // factor * 1.5:  # draft did not (fully) apply
                    im = im.reduce(max(1, round(im.size[0] / (w / factor))))
                notes.append(f"{name} ({w}×{h}) was decoded at 1/{factor} scale ({im.size[0]}×{im.size[1]}) to "
                             "keep memory bounded.")
            im = ImageOps.exif_transpose(im)
        except (OSError, SyntaxError, ValueError) as exc:
            msg = str(exc)
            if "truncated" in msg.lower():
                raise ImageLoadError(f"{name} is truncated or damaged: it ends before the image does.") from None
            raise ImageLoadError(f"{name} is damaged and cannot be decoded ({msg}).") from None
        rgb = _pillow_to_rgb(im, notes)
    return LoadedImage(np.ascontiguousarray(rgb), str(p), (w, h), tuple(notes))


def _reduction(w: int, h: int) -> int:
    """The integer factor that brings w×h under FULL_DECODE_PIXELS (1 when it already is).

    >>> _reduction(17000, 17000), _reduction(4000, 3000)
    (3, 1)
    """
    k = 1
    while (w // k) * (h // k) > FULL_DECODE_PIXELS:
        k += 1
    return k


def _header_size(data: np.ndarray) -> tuple[int, int] | None:
    """(width, height) from a Radiance HDR or PFM header, read before OpenCV decodes anything."""
    head = bytes(data[:4096])
    try:
        if head.startswith((b"#?RADIANCE", b"#?RGBE")):
            for line in head.split(b"\n"):
                parts = line.split()
                if len(parts) == 4 and parts[0] in (b"-Y", b"+Y") and parts[2] in (b"+X", b"-X"):
                    return int(parts[3]), int(parts[1])
        if head[:2] in (b"PF", b"Pf"):
            w, h = head[2:].split()[:2]
            return int(w), int(h)
    except ValueError:
        return None
    return None


def _pillow_to_rgb(im, notes: list[str]) -> np.ndarray:
    from PIL import Image

    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im).astype(np.float64)
        if mode.startswith("I;16"):
            arr = arr / 257.0
            notes.append("16-bit image scaled to 8 bits for display.")
        else:
            finite = arr[np.isfinite(arr)]
            if not finite.size:
                raise ImageLoadError("The image has no finite pixel values (every pixel is NaN or infinite).")
            lo, hi = float(finite.min()), float(finite.max())
            if mode == "I" and lo >= 0 and hi <= 255:
                pass
            elif mode == "I" and lo >= 0 and hi <= 65535:
                arr = arr / 257.0
                notes.append("16-bit image scaled to 8 bits for display.")
            else:
                arr = (arr - lo) / (hi - lo if hi > lo else 1.0) * 255.0
                notes.append(f"{'Float' if mode == 'F' else '32-bit'} image stretched from "
                             f"[{lo:g}, {hi:g}] to 0-255.")
            arr = np.nan_to_num(arr, nan=0.0, posinf=255.0, neginf=0.0)
        grey = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        notes.append("Transparent areas shown over white.")
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if mode == "CMYK":
        notes.append("CMYK image converted to RGB.")
    if mode == "RGB":
        return np.asarray(im)
    return np.asarray(im.convert("RGB"))


def _load_with_opencv(p: Path, name: str) -> LoadedImage:
    import cv2

    data = np.fromfile(str(p), dtype=np.uint8)  # fromfile handles non-ASCII paths; imread does not
    size = _header_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise ImageLoadError(f"{name} claims {size[0]}×{size[1]} pixels ({size[0] * size[1] / 1e6:.0f} MP), more "
                             f"than the {MAX_PIXELS / 1e6:.0f} MP this app loads; it was refused before decoding.")
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise ImageLoadError(f"{name} is not an image this app can read.")
    return LoadedImage(as_rgb(img, bgr=True), str(p), (img.shape[1], img.shape[0]), ())


def as_rgb(image: np.ndarray, *, bgr: bool = False) -> np.ndarray:
    """Validate an in-memory image and return it as C-contiguous (H, W, 3) RGB uint8.

    Accepts (H, W), (H, W, 1), (H, W, 3) and (H, W, 4) arrays of uint8, uint16 or float
    (floats in [0, 1] are scaled by 255). ``bgr=True`` swaps OpenCV's channel order.

    >>> as_rgb(np.zeros((2, 3), np.uint8)).shape
    (2, 3, 3)
    >>> as_rgb(np.zeros((0, 3)))
    Traceback (most recent call last):
    ...
    cvexplorer.imageio.ImageLoadError: The image is empty (0×3 pixels).
    """
    a = np.asarray(image)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise ImageLoadError(f"An image must be H×W or H×W×3, not an array of shape {a.shape}.")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ImageLoadError(f"The image is empty ({a.shape[0]}×{a.shape[1]} pixels).")
    if a.dtype == np.uint16:
        a = (a.astype(np.float64) / 257.0)
    elif a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
        a = a * 255.0 if a.size and a.max() <= 1.0 else a
    elif a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    if a.dtype != np.uint8:
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    elif a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 4:
        alpha = a[..., 3:4].astype(np.float32) / 255.0
        a = np.rint(a[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    if bgr:
        a = a[..., ::-1]
    return np.ascontiguousarray(a)


def working_copy(rgb: np.ndarray, max_pixels: int = WORKING_PIXELS) -> tuple[np.ndarray, float]:
    """Downscale an image above ``max_pixels`` for computation; returns (image, scale).

    ``scale`` maps working coordinates back to the original: x_original = x_working / scale.

    >>> img, s = working_copy(np.zeros((4000, 8000, 3), np.uint8), max_pixels=8_000_000)
    >>> img.shape, round(s, 3)
    ((2000, 4000, 3), 0.5)
    """
    h, w = rgb.shape[:2]
    if h * w <= max_pixels:
        return rgb, 1.0
    import cv2

    s = (max_pixels / float(h * w)) ** 0.5
    nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
    return np.ascontiguousarray(cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)), nw / w


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``size`` = (width, height): area averaging to shrink, cubic to enlarge.

    Booleans come back as uint8 0/1 (OpenCV does not resize booleans).

    >>> resize(np.ones((4, 6), np.uint8), (3, 2)).shape
    (2, 3)
    """
    import cv2  # lazy: `import cvexplorer.imageio` stays light for the CLI

    a = np.asarray(image)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    w, h = max(1, int(size[0])), max(1, int(size[1]))
    interp = cv2.INTER_AREA if w <= a.shape[1] else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(np.ascontiguousarray(a), (w, h), interpolation=interp))


def display_copy(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` shrunk so its longer side is at most ``max_side`` (unchanged when already small).

    >>> display_copy(np.zeros((3000, 4000, 3), np.uint8), 2560).shape
    (1920, 2560, 3)
    """
    a = np.asarray(image)
    h, w = a.shape[:2]
    if max(h, w) <= max_side:
        return a
    s = max_side / max(h, w)
    return resize(a, (max(1, int(w * s)), max(1, int(h * s))))


def encode_png(rgb: np.ndarray) -> bytes:
    """Encode an RGB (or grey) uint8 array as PNG bytes (Pillow: lighter to import than OpenCV)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(as_rgb(rgb)).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def check_save_target(path: str | os.PathLike, what: str = "file") -> None:
    """Refuse to save over anything but a new name or an existing regular file (a link, a device,
    a pipe or a folder at ``path``) with :class:`ImageSaveError`."""
    p = Path(path)
    if os.path.lexists(p):
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            raise ImageSaveError(f"Not saving the {what}: {p.name} is a link; choose a plain file name.")
        if not stat.S_ISREG(st.st_mode):
            raise ImageSaveError(f"Not saving the {what}: {p.name} exists and is not a regular file.")


def write_file(path: str | os.PathLike, data: bytes, what: str = "file") -> Path:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it, then a rename.

    Only a new name or an existing regular file is replaced; a symlink, a device, a pipe or a folder
    at ``path`` is refused with :class:`ImageSaveError` (saving must never clobber something else).
    """
    p = Path(path)
    check_save_target(p, what)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.part")  # written whole, then renamed
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, p)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the folder itself is missing or unwritable: no .part was written
        raise ImageSaveError(f"Could not save {p.name}: {exc.strerror or exc}.") from None
    return p


def save_png(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write ``rgb`` to ``path`` as PNG (see :func:`write_file`); failures raise :class:`ImageSaveError`."""
    return write_file(path, encode_png(rgb), "PNG")
