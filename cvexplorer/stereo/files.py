"""Stereo files: Middlebury ``calib.txt``, PFM ground truth, and scaled PNG/PGM ground truth.

Every reader checks the file's kind (a regular file, never a pipe or a device) and size before it
opens it, reads headers with a bound, and validates every value against ``LIMITS`` before it
allocates anything or returns: a file is used whole or refused with one sentence that names the
file and the field (:class:`StereoFileError`, a ``ValueError``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..lessons import check_regular_file
from ._record import Record
from .matching import MAX_NUM_DISPARITIES

__all__ = ["Calibration", "StereoFileError", "read_calibration", "read_pfm", "read_ground_truth", "ground_truth_scale",
           "LIMITS"]


@dataclass(frozen=True)
class Calibration(Record):
    """A stereo rig's numbers: ``f_px``, ``cx``, ``cy``, ``doffs`` (px), ``baseline`` (metres), ``cam0``/``cam1``
    (3×3), and ``width``, ``height``, ``ndisp``, ``vmin``, ``vmax`` where the file gives them."""

    f_px: float
    baseline: float
    doffs: float = 0.0
    cx: float | None = None
    cy: float | None = None
    cam0: np.ndarray | None = None
    cam1: np.ndarray | None = None
    width: int | None = None
    height: int | None = None
    ndisp: int | None = None
    vmin: float | None = None
    vmax: float | None = None


#: Bounds on stereo files (tests lower them). The camera ranges and ndisp are the stereo panel's spin
#: boxes' (a value outside them would be clamped there without a word); the pixel bound is imageio's
#: reduced-decoding threshold, so a larger ground truth could never match a pair anyway.
LIMITS = {"calib_bytes": 100_000, "ground_truth_bytes": 1_000_000_000, "ground_truth_pixels": 64_000_000,
          "header_bytes": 64, "f_px": (1.0, 100_000.0), "baseline_mm": (1.0, 100_000.0),
          "doffs": (-10_000.0, 10_000.0), "ndisp": (1, MAX_NUM_DISPARITIES), "side": (1, 100_000), "v": (-1e6, 1e6)}
_INT_KEYS = ("width", "height", "ndisp")


class StereoFileError(ValueError):
    """A calibration or ground-truth file that cannot be used; the message names the file and the field."""

    __module__ = "cvexplorer.stereo"


def _regular(path, what: str, max_bytes: int) -> Path:
    try:
        return check_regular_file(path, what, max_bytes)
    except ValueError as exc:
        raise StereoFileError(str(exc)) from None


def _calib_number(name: str, key: str, ln: int, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise StereoFileError(f"{name} line {ln}: {key} must be a number, not {text[:30]!r}.") from None
    if not math.isfinite(v):
        raise StereoFileError(f"{name} line {ln}: {key} is {text[:30]!r}, not a finite number.")
    return v


def _in_range(name: str, key: str, ln: int, v: float, lo: float, hi: float, unit: str = "") -> float:
    if not lo <= v <= hi:
        raise StereoFileError(f"{name} line {ln}: {key} = {v:g}{unit} is outside the range this app "
                              f"accepts ({lo:g}…{hi:g}{unit}).")
    return v


def read_calibration(path) -> Calibration:
    """Read a Middlebury ``calib.txt`` (``cam0=[f 0 cx; 0 f cy; 0 0 1]``, ``doffs``, ``baseline``...).

    Returns a :class:`Calibration`: ``f_px``, ``cx``, ``cy``, ``doffs`` (px), ``baseline`` (in metres;
    Middlebury gives millimetres), ``width``, ``height``, ``ndisp`` where present, plus ``cam0``/``cam1`` (3×3).

    The whole file is checked before anything is returned (a regular text file of at most
    ``LIMITS["calib_bytes"]``, UTF-8 with or without a BOM; every value finite and inside
    ``LIMITS``: f > 0, baseline > 0, ndisp a whole number ≥ 1): :class:`StereoFileError` names the
    line and the field otherwise.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "calib.txt")
    >>> _ = open(p, "w").write("cam0=[500 0 320; 0 500 240; 0 0 1]\\nbaseline=120\\nndisp=1e12\\n")
    >>> read_calibration(p)
    Traceback (most recent call last):
    cvexplorer.stereo.StereoFileError: calib.txt line 3: ndisp must be a whole number from 1 to 10,000, not '1e12'.
    """
    p = _regular(path, "The calibration file", LIMITS["calib_bytes"])
    name = p.name
    try:
        raw = p.read_bytes()[: LIMITS["calib_bytes"] + 1]
    except OSError as exc:
        raise StereoFileError(f"{name} cannot be read: {exc.strerror or 'unreadable'}.") from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM (Windows editors write one) is fine
    except UnicodeDecodeError:
        raise StereoFileError(f"{name} is not a text file (a calib.txt holds lines like baseline=193.001).") from None
    vals: dict = {}
    for ln, line in enumerate(text.splitlines(), start=1):
        if "=" not in line:
            continue
        k, v = (s.strip() for s in line.split("=", 1))
        if v.startswith("["):
            nums = [_calib_number(name, k, ln, x) for x in re.split(r"[\s;\[\]]+", v) if x]
            if len(nums) != 9:
                raise StereoFileError(f"{name} line {ln}: {k} should be a 3×3 matrix [a b c; d e f; g h i], "
                                      f"got {len(nums)} numbers.")
            vals[k] = (np.array(nums).reshape(3, 3), ln)
        elif k in _INT_KEYS:
            lo, hi = LIMITS["ndisp"] if k == "ndisp" else LIMITS["side"]
            if not re.fullmatch(r"\+?\d{1,9}", v) or not lo <= int(v) <= hi:
                raise StereoFileError(f"{name} line {ln}: {k} must be a whole number from {lo:,} to {hi:,}, "
                                      f"not {v[:30]!r}.")
            vals[k] = (int(v), ln)
        elif k in ("doffs", "baseline", "vmin", "vmax"):
            vals[k] = (_calib_number(name, k, ln, v), ln)
    if "cam0" not in vals or "baseline" not in vals:
        raise StereoFileError(f"{name} is not a Middlebury calib.txt (it needs cam0=[...] and baseline=...).")
    K, ln = vals["cam0"]
    f = _in_range(name, "the focal length f (cam0's first number)", ln, float(K[0, 0]), *LIMITS["f_px"], " px")
    b_mm = _in_range(name, "baseline", vals["baseline"][1], vals["baseline"][0], *LIMITS["baseline_mm"], " mm")
    doffs = 0.0
    if "doffs" in vals:
        doffs = _in_range(name, "doffs", vals["doffs"][1], vals["doffs"][0], *LIMITS["doffs"], " px")
    for k in ("vmin", "vmax"):
        if k in vals:
            _in_range(name, k, vals[k][1], vals[k][0], *LIMITS["v"])
    extra = {k: vals[k][0] for k in ("width", "height", "ndisp", "vmin", "vmax") if k in vals}
    return Calibration(f_px=f, baseline=b_mm / 1000.0, doffs=doffs, cx=float(K[0, 2]), cy=float(K[1, 2]), cam0=K,
                       cam1=vals["cam1"][0] if "cam1" in vals else None, **extra)


def _header_line(fh, name: str, what: str) -> str:
    line = fh.readline(LIMITS["header_bytes"] + 1)  # bounded: a header with no newline is not read whole
    if not line.endswith(b"\n"):
        if len(line) > LIMITS["header_bytes"]:
            raise StereoFileError(f"{name}: the PFM {what} line is longer than {LIMITS['header_bytes']} bytes; "
                                  "a PFM header is three short lines (Pf, width height, scale).")
        raise StereoFileError(f"{name} ends inside its PFM header (no newline after the {what} line).")
    return line.decode("latin-1").strip()


def _plausible_share(data: np.ndarray) -> float:
    """Share of the finite values that look like disparities (|v| ≤ 1e6 px and not a denormal speck)."""
    a = data[:: max(1, data.size // 200_000)].astype(np.float64)
    fin = a[np.isfinite(a)]
    if not fin.size:
        return 1.0
    mag = np.abs(fin)
    return float(np.mean((mag <= 1e6) & ((mag == 0) | (mag >= 1e-6))))


def read_pfm(path) -> np.ndarray:
    """Read a PFM (portable float map) as float32, top row first; inf → NaN.

    Refused with a sentence (:class:`StereoFileError`): a pipe or device, a header line without a
    newline or over ``LIMITS["header_bytes"]``, dimensions that are not two whole numbers or declare
    more than ``LIMITS["ground_truth_pixels"]`` pixels or more bytes than the file holds, a scale that
    is not a finite non-zero number, and values that are not disparities in the byte order the
    scale's sign gives (a file written with the wrong endianness).
    """
    p = _regular(path, "The ground truth", LIMITS["ground_truth_bytes"])
    name = p.name
    size = p.stat().st_size
    with open(p, "rb") as fh:
        header = _header_line(fh, name, "first")
        if header not in ("Pf", "PF"):
            raise StereoFileError(f"{name} is not a PFM file (it should start with Pf or PF, not {header[:10]!r}).")
        dims = _header_line(fh, name, "size").split()
        while not dims and fh.tell() < 4 * LIMITS["header_bytes"]:
            dims = _header_line(fh, name, "size").split()
        if len(dims) != 2 or not all(re.fullmatch(r"\d{1,9}", t) for t in dims) or 0 in (int(dims[0]), int(dims[1])):
            raise StereoFileError(f"{name}: the PFM size line must be two positive whole numbers "
                                  f"(width height), not {' '.join(dims)[:30]!r}.")
        w, h = int(dims[0]), int(dims[1])
        scale_txt = _header_line(fh, name, "scale")
        try:
            scale = float(scale_txt)
        except ValueError:
            scale = float("nan")
        if not math.isfinite(scale) or scale == 0:
            raise StereoFileError(f"{name}: the PFM scale line must be a non-zero number (negative: little-endian, "
                                  f"positive: big-endian), not {scale_txt[:30]!r}.")
        ch = 3 if header == "PF" else 1
        if w * h > LIMITS["ground_truth_pixels"]:
            raise StereoFileError(f"{name} declares {w}×{h} pixels; ground truth may have at most "
                                  f"{LIMITS['ground_truth_pixels'] / 1e6:g} MP.")
        need = w * h * ch * 4
        if need > size - fh.tell():
            raise StereoFileError(f"{name} is truncated: its header declares {w}×{h}×{ch} floats ({need:,} bytes) "
                                  f"but only {max(0, size - fh.tell()):,} bytes follow.")
        dt = "<f4" if scale < 0 else ">f4"
        data = np.frombuffer(fh.read(need), dtype=dt)
    if data.size != w * h * ch:
        raise StereoFileError(f"{name} is truncated: expected {w}×{h}×{ch} floats.")
    if _plausible_share(data) < 0.9:
        order, other = ("little", "big") if scale < 0 else ("big", "little")
        hint = (f"; read {other}-endian they would be, so the scale's sign ({scale_txt[:12]}) is wrong"
                if _plausible_share(data.view(data.dtype.newbyteorder())) >= 0.9 else "")
        raise StereoFileError(f"{name}: its values are not disparities when read {order}-endian, as its scale "
                              f"says{hint}.")
    img = data.reshape(h, w, ch)[::-1, :, 0].astype(np.float32)
    img[~np.isfinite(img)] = np.nan
    return np.ascontiguousarray(img)


def read_ground_truth(path, scale: float | None = None) -> np.ndarray:
    """Ground-truth disparity (float32 px, NaN where unknown) from a PFM or a scaled PNG/PGM.

    For 8/16-bit images d = value / ``scale`` and 0 means unknown; ``scale`` defaults to 1
    (Middlebury 2001: tsukuba is stored ×16 and venus ×8, so pass ``scale=16`` / ``scale=8``).
    The file's kind, size and declared pixel count are checked before it is decoded.
    """
    p = Path(path)
    if p.suffix.lower() == ".pfm":
        return read_pfm(p)
    p = _regular(p, "The ground truth", LIMITS["ground_truth_bytes"])
    s = 1.0 if scale is None or scale == 0 else float(scale)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"The ground-truth scale must be a positive number, got {scale!r}.")
    from PIL import Image  # lazy, as cv2 elsewhere: only a ground-truth image needs it

    try:
        with Image.open(p) as im:  # reads the header only
            w, h = im.size
    except Image.DecompressionBombError:  # Pillow's own bound, where imageio has not lifted it
        raise StereoFileError(f"{p.name} declares more pixels than ground truth may have "
                              f"({LIMITS['ground_truth_pixels'] / 1e6:g} MP).") from None
    except Exception:
        raise StereoFileError(f"{p.name} is not an image this app can read as ground truth (PFM, PNG or PGM).") from None
    if w * h > LIMITS["ground_truth_pixels"]:
        raise StereoFileError(f"{p.name} is {w}×{h} pixels; ground truth may have at most "
                              f"{LIMITS['ground_truth_pixels'] / 1e6:g} MP.")
    raw = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise StereoFileError(f"{p.name} is damaged: it could not be decoded as ground truth.")
    if raw.ndim == 3:
        raw = raw[..., 0]
    d = raw.astype(np.float32) / s
    d[raw == 0] = np.nan
    return d


def ground_truth_scale(path) -> float:
    """The factor a Middlebury 8/16-bit ground-truth image is stored with, from its name (PFM: 1).

    Middlebury 2001/2003 store tsukuba ×16 and the others ×8.

    >>> ground_truth_scale("tsukuba/disp3.pgm"), ground_truth_scale("venus/disp2.pgm"), ground_truth_scale("x.pfm")
    (16.0, 8.0, 1.0)
    """
    low = str(path).lower()
    if low.endswith(".pfm"):
        return 1.0
    return 16.0 if "tsukuba" in low else 8.0
