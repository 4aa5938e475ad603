"""Stereo files: Middlebury ``calib.txt``, PFM ground truth, and scaled PNG/PGM ground truth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ._record import Record

__all__ = ["Calibration", "read_calibration", "read_pfm", "read_ground_truth", "ground_truth_scale"]


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


def read_calibration(path) -> Calibration:
    """Read a Middlebury ``calib.txt`` (``cam0=[f 0 cx; 0 f cy; 0 0 1]``, ``doffs``, ``baseline``...).

    Returns a :class:`Calibration`: ``f_px``, ``cx``, ``cy``, ``doffs`` (px), ``baseline`` (in metres;
    Middlebury gives millimetres), ``width``, ``height``, ``ndisp`` where present, plus ``cam0``/``cam1`` (3×3).
    """
    text = Path(path).read_text()
    vals: dict = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        k, v = (s.strip() for s in line.split("=", 1))
        if v.startswith("["):
            nums = [float(x) for x in re.split(r"[\s;\[\]]+", v) if x]
            if len(nums) != 9:
                raise ValueError(f"{k} in {path} should be a 3×3 matrix, got {len(nums)} numbers.")
            vals[k] = np.array(nums).reshape(3, 3)
        else:
            try:
                vals[k] = float(v)
            except ValueError:
                vals[k] = v
    if "cam0" not in vals or "baseline" not in vals:
        raise ValueError(f"{path} is not a Middlebury calib.txt (it needs cam0=[...] and baseline=...).")
    K = vals["cam0"]
    extra = {k: (int(vals[k]) if k in ("width", "height", "ndisp") else float(vals[k]))
             for k in ("width", "height", "ndisp", "vmin", "vmax") if k in vals}
    return Calibration(f_px=float(K[0, 0]), baseline=float(vals["baseline"]) / 1000.0,
                       doffs=float(vals.get("doffs", 0.0)), cx=float(K[0, 2]), cy=float(K[1, 2]), cam0=K,
                       cam1=vals.get("cam1"), **extra)


def read_pfm(path) -> np.ndarray:
    """Read a PFM (portable float map) as float32, top row first; inf → NaN."""
    with open(path, "rb") as fh:
        header = fh.readline().decode("latin-1").strip()
        if header not in ("Pf", "PF"):
            raise ValueError(f"{path} is not a PFM file (header {header!r}).")
        dims = fh.readline().decode("latin-1").split()
        while not dims:
            dims = fh.readline().decode("latin-1").split()
        w, h = int(dims[0]), int(dims[1])
        scale = float(fh.readline().decode("latin-1").strip())
        dt = "<f4" if scale < 0 else ">f4"
        ch = 3 if header == "PF" else 1
        data = np.frombuffer(fh.read(w * h * ch * 4), dtype=dt)
    if data.size != w * h * ch:
        raise ValueError(f"{path} is truncated: expected {w}×{h}×{ch} floats.")
    img = data.reshape(h, w, ch)[::-1, :, 0].astype(np.float32)
    img[~np.isfinite(img)] = np.nan
    return np.ascontiguousarray(img)


def read_ground_truth(path, scale: float | None = None) -> np.ndarray:
    """Ground-truth disparity (float32 px, NaN where unknown) from a PFM or a scaled PNG/PGM.

    For 8/16-bit images d = value / ``scale`` and 0 means unknown; ``scale`` defaults to 1
    (Middlebury 2001: tsukuba is stored ×16 and venus ×8, so pass ``scale=16`` / ``scale=8``).
    """
    p = Path(path)
    if p.suffix.lower() == ".pfm":
        return read_pfm(p)
    raw = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ValueError(f"Could not read {p} as an image.")
    if raw.ndim == 3:
        raw = raw[..., 0]
    s = float(scale) if scale else 1.0
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
