"""Round 2 of the reliability table (issue 26): hostile files and giant inputs, each small on disk.

Each entry is a dict of :class:`test_reliability_table.Case` fields. Inputs are made in the test:
FIFOs with ``os.mkfifo``, sparse files with ``truncate``, headers that declare huge sizes, and
limits lowered for the duration of one call where the real limit would need a big file. The
heavy ones also run at their real limits in a memory-capped subprocess
(``test_reliability_table.py::test_heavy_attacks_in_a_memory_capped_child``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
from onnx import TensorProto, helper

from cvexplorer import boxes as B
from cvexplorer import receptive as R
from cvexplorer import stereo as S
from cvexplorer.boxes import loaders
from cvexplorer.calc_cli import main as calc_main


@contextlib.contextmanager
def lowered(limits: dict, **values):
    """Lower entries of a module's LIMITS for one call (the limits are settings tests lower)."""
    old = {k: limits[k] for k in values}
    limits.update(values)
    try:
        yield
    finally:
        limits.update(old)


def write(p: Path, data: bytes | str) -> Path:
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def fifo(p: Path) -> Path:
    os.mkfifo(p)
    return p


def sparse(p: Path, head: bytes, size: int) -> Path:
    """A file of ``size`` bytes that starts with ``head`` and takes a few KB on disk."""
    write(p, head)
    os.truncate(p, size)
    return p


def onnx_chain(n: int, kernel: int = 3, stride: int = 1, pad: int = 1, op: str = "MaxPool") -> bytes:
    """A straight chain of ``n`` pooling nodes (no weights, so thousands of layers stay a few KB)."""
    nodes, prev = [], "x"
    for i in range(n):
        nodes.append(helper.make_node(op, [prev], [f"t{i}"], kernel_shape=[kernel, kernel], strides=[stride, stride],
                                      pads=[pad] * 4, name=f"pool{i}"))
        prev = f"t{i}"
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 64, 64])],
                          [helper.make_tensor_value_info(prev, TensorProto.FLOAT, None)])
    return helper.make_model(g).SerializeToString()


# ------------------------------------------------------------------------------------------ detections
def det(make: Callable[[Path], Path | str], size=(100, 100), **limits) -> Callable[[Path], Any]:
    def run(tmp: Path):
        src = make(tmp)
        with lowered(loaders.LIMITS, **limits):
            return B.load_detections(src, image_size=size)
    return run


def _yolo_lines(n: int) -> str:
    return "".join("0 0.5 0.5 0.2 0.2 0.9\n" for _ in range(n))


def _loaded(n: int, *problems: str) -> Callable[[Any], None]:
    def check(d) -> None:
        assert len(d) == n and d.problems == problems, d.problems
    return check


def _equals(expected) -> Callable[[Any], None]:
    def check(value) -> None:
        assert value == expected, value
    return check


DETECTIONS = [
    dict(id="detections-fifo", where="Load detections → load_detections", run=det(lambda t: fifo(t / "pred.txt")),
         raises=B.DetectionsLoadError, words=("is not a regular file", "a pipe")),
    dict(id="detections-dev-zero", where="Load detections → load_detections", run=det(lambda t: "/dev/zero"),
         raises=B.DetectionsLoadError, words=("(/dev/zero) is not a regular file",)),
    dict(id="detections-200mb-sparse", where="Load detections → load_detections",
         run=det(lambda t: sparse(t / "big.json", b"[", 200_000_000)),
         raises=B.DetectionsLoadError, words=("The detections file (big.json) is 200,000,000 bytes; the limit is 16,000,000",)),
    dict(id="detections-1mb-single-line", where="Load detections → load_detections",
         run=det(lambda t: write(t / "line.txt", "0 " * 500_000 + "\n")),
         raises=B.DetectionsLoadError, words=("line 1: 999,999 characters long", "at most 1,000 characters")),
    dict(id="detections-class-id-1e9-coco", where="Load detections → load_detections",
         run=det(lambda t: write(t / "c.json", '[{"bbox": [1, 2, 3, 4], "score": 0.9, "category_id": 1000000000}]')),
         raises=B.DetectionsLoadError, words=("entry 1: category_id 1000000000 is outside 0…100,000",)),
    dict(id="detections-class-id-1e18-yolo", where="Load detections → load_detections",
         run=det(lambda t: write(t / "c.txt", "1e18 0.5 0.5 0.2 0.2 0.9\n0 0.5 0.5 0.2 0.2 0.8\n")),
         check=_loaded(1, "line 1: class 1e+18 is outside 0…100,000")),
    dict(id="detections-too-many-lowered-limit", where="Load detections → load_detections (limit lowered to 100)",
         run=det(lambda t: write(t / "many.txt", _yolo_lines(101)), detections=100),
         raises=B.DetectionsLoadError, words=("many.txt holds more than 100 lines", "at most 100 detections")),
    dict(id="detections-too-many-coco-lowered-limit", where="Load detections → load_detections (limit lowered to 100)",
         run=det(lambda t: write(t / "many.json", json.dumps([{"bbox": [1, 2, 3, 4], "score": 0.5}] * 101)),
                 detections=100),
         raises=B.DetectionsLoadError, words=("many.json holds more than 100 boxes",)),
    dict(id="detections-at-the-limit-loads", where="Load detections → load_detections (limit lowered to 100)",
         run=det(lambda t: write(t / "many.txt", _yolo_lines(100)), detections=100), check=_loaded(100)),
    dict(id="detections-deep-json", where="Load detections → load_detections",
         run=det(lambda t: write(t / "deep.json", "[" * 100_000 + "]" * 100_000)),
         raises=B.DetectionsLoadError, words=("deep.json nests JSON more than 8 levels deep",)),
    dict(id="detections-class-not-a-number", where="Load detections → load_detections",
         run=det(lambda t: write(t / "p.txt", "x 0.5 0.5 0.2 0.2 0.9\n")),
         raises=B.DetectionsLoadError, words=("line 1: class is 'x', not a number",)),
    dict(id="detections-category-nope", where="Load detections → load_detections",
         run=det(lambda t: write(t / "p.json", '[{"bbox": [1, 2, 3, 4], "score": 1, "category_id": "nope"}]')),
         raises=B.DetectionsLoadError, words=("entry 1: category_id 'nope' is not a whole number",)),
    dict(id="detections-huge-value-cut", where="Load detections → load_detections",
         run=det(lambda t: write(t / "p.json", json.dumps([{"bbox": [1, 2, 3, 4], "score": "s" * 100_000}]))),
         raises=B.DetectionsLoadError, words=("entry 1: score is 'sssss", "…, not a number")),
    dict(id="detections-utf16-yolo", where="Load detections → load_detections",
         run=det(lambda t: write(t / "p.txt", "0 0.5 0.5 0.2 0.2 0.9\n".encode("utf-16"))), check=_loaded(1)),
]


# ------------------------------------------------------------------------------------------ stereo files
_CAM = "cam0=[500 0 320; 0 500 240; 0 0 1]\n"


def calib(body: str | Callable[[Path], Path], bom: bool = False) -> Callable[[Path], Any]:
    def run(tmp: Path):
        p = body(tmp) if callable(body) else write(tmp / "calib.txt", (b"\xef\xbb\xbf" if bom else b"") + body.encode())
        return S.read_calibration(p)
    return run


def gt(make: Callable[[Path], Path | str], **limits) -> Callable[[Path], Any]:
    def run(tmp: Path):
        with lowered(S.files.LIMITS, **limits):
            return S.read_ground_truth(make(tmp))
    return run


_G = np.array([[1.5, 2.0], [3.0, 4.0]], np.float32)


def _pgm_header(tmp: Path) -> Path:
    return write(tmp / "disp.pgm", b"P5\n100000 100000\n255\n" + b"\0" * 16)


def _teaching_4000x3000(tmp: Path):
    left = np.zeros((3000, 4000, 3), np.uint8)  # untouched pages: no memory until written
    pair = S.PairCheck(rows=S.RowCheck(), auto_num_disparities=256)
    return S.match_pair(left, left, settings=S.MatchSettings(method="teaching", num_disparities=256), pair=pair)


STEREO = [
    dict(id="calib-fifo", where="Stereo ▸ Calibration file → read_calibration", run=calib(lambda t: fifo(t / "calib.txt")),
         raises=S.StereoFileError, words=("The calibration file", "is not a regular file")),
    dict(id="calib-dev-zero", where="Stereo ▸ Calibration file → read_calibration", run=calib(lambda t: Path("/dev/zero")),
         raises=S.StereoFileError, words=("(/dev/zero) is not a regular file",)),
    dict(id="calib-utf8-bom-accepted", where="Stereo ▸ Calibration file → read_calibration",
         run=calib(_CAM + "baseline=120\n", bom=True), check=lambda c: _equals((0.12, 500.0))((c.baseline, c.f_px))),
    dict(id="calib-ndisp-1e12", where="Stereo ▸ Calibration file → read_calibration",
         run=calib(_CAM + "baseline=120\nndisp=1e12\n"), raises=S.StereoFileError,
         words=("calib.txt line 3: ndisp must be a whole number from 1 to 10,000, not '1e12'",)),
    dict(id="calib-ndisp-negative", where="Stereo ▸ Calibration file → read_calibration",
         run=calib(_CAM + "baseline=120\nndisp=-64\n"), raises=S.StereoFileError, words=("line 3: ndisp", "'-64'")),
    dict(id="calib-negative-baseline", where="Stereo ▸ Calibration file → read_calibration",
         run=calib(_CAM + "baseline=-120\n"), raises=S.StereoFileError,
         words=("line 2: baseline = -120 mm is outside the range this app accepts (1…100000 mm)",)),
    dict(id="calib-zero-focal", where="Stereo ▸ Calibration file → read_calibration",
         run=calib("cam0=[0 0 320; 0 0 240; 0 0 1]\nbaseline=120\n"), raises=S.StereoFileError,
         words=("line 1: the focal length f (cam0's first number) = 0 px is outside",)),
    dict(id="calib-nan-focal", where="Stereo ▸ Calibration file → read_calibration",
         run=calib("cam0=[nan 0 320; 0 500 240; 0 0 1]\nbaseline=120\n"), raises=S.StereoFileError,
         words=("line 1: cam0 is 'nan', not a finite number",)),
    dict(id="calib-inf-baseline", where="Stereo ▸ Calibration file → read_calibration",
         run=calib(_CAM + "baseline=inf\n"), raises=S.StereoFileError, words=("line 2: baseline is 'inf'",)),
    dict(id="calib-doffs-1e30", where="Stereo ▸ Calibration file → read_calibration",
         run=calib(_CAM + "baseline=120\ndoffs=1e30\n"), raises=S.StereoFileError,
         words=("line 3: doffs = 1e+30 px is outside the range this app accepts (-10000…10000 px)",)),
    dict(id="pfm-fifo", where="Stereo ▸ Ground truth → read_ground_truth", run=gt(lambda t: fifo(t / "disp.pfm")),
         raises=S.StereoFileError, words=("The ground truth", "is not a regular file")),
    dict(id="pfm-dev-zero", where="Stereo ▸ Ground truth → read_ground_truth", run=gt(lambda t: "/dev/zero"),
         raises=S.StereoFileError, words=("(/dev/zero) is not a regular file",)),
    dict(id="pfm-no-newline-after-header", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: sparse(t / "disp.pfm", b"Pf\n", 200_000_000)), raises=S.StereoFileError,
         words=("disp.pfm: the PFM size line is longer than 64 bytes",)),
    dict(id="pfm-header-ends-at-eof", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: write(t / "disp.pfm", b"Pf")), raises=S.StereoFileError,
         words=("disp.pfm ends inside its PFM header (no newline after the first line)",)),
    dict(id="pfm-1mb-header-line", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: write(t / "disp.pfm", b"Pf\n" + b"7" * 1_000_000 + b"\n")), raises=S.StereoFileError,
         words=("the PFM size line is longer than 64 bytes",)),
    dict(id="pfm-declares-40-gigapixels", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: write(t / "disp.pfm", b"Pf\n200000 200000\n-1\n")), raises=S.StereoFileError,
         words=("disp.pfm declares 200000×200000 pixels; ground truth may have at most 64 MP",)),
    dict(id="pfm-truncated-data", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: write(t / "disp.pfm", b"Pf\n4000 3000\n-1\n" + b"\0" * 100)), raises=S.StereoFileError,
         words=("disp.pfm is truncated", "48,000,000 bytes", "only 100 bytes follow")),
    dict(id="pfm-wrong-endianness", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: write(t / "disp.pfm", b"Pf\n2 2\n1.0\n" + _G.astype("<f4").tobytes())),
         raises=S.StereoFileError, words=("not disparities when read big-endian", "the scale's sign (1.0) is wrong")),
    dict(id="pfm-nan-scale", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: write(t / "disp.pfm", b"Pf\n2 2\nnan\n" + _G.tobytes())), raises=S.StereoFileError,
         words=("the PFM scale line must be a non-zero number", "not 'nan'")),
    dict(id="pfm-scale-is-a-word", where="Stereo ▸ Ground truth → read_ground_truth",
         run=gt(lambda t: write(t / "disp.pfm", b"Pf\n2 2\nscale\n" + _G.tobytes())), raises=S.StereoFileError,
         words=("not 'scale'",)),
    dict(id="pgm-declares-10-gigapixels", where="Stereo ▸ Ground truth → read_ground_truth", run=gt(_pgm_header),
         raises=S.StereoFileError, words=("disp.pgm", "ground truth may have", "64 MP")),
    dict(id="pgm-sparse-over-size-limit", where="Stereo ▸ Ground truth → read_ground_truth (limit lowered to 1 MB)",
         run=gt(lambda t: sparse(t / "disp.pgm", b"P5\n10 10\n255\n", 2_000_000), ground_truth_bytes=1_000_000),
         raises=S.StereoFileError, words=("disp.pgm) is 2,000,000 bytes; the limit is 1,000,000",)),
    dict(id="stereo-teaching-4000x3000", where="Stereo, method 'teaching: plain SAD' → match_pair",
         run=_teaching_4000x3000, raises=ValueError,
         words=("4000×3000 pixels × 256 disparities need 22.89 GiB", "over its 1.40 GiB limit", "Use SGBM or BM")),
    dict(id="stereo-pick-outside-clamped", where="a lesson's stereo pick → pick_in_image",
         run=lambda t: S.pick_in_image((900.4, -3), (480, 640, 3)), check=_equals((639, 0))),
    dict(id="stereo-pick-not-numbers", where="a lesson's stereo pick → pick_in_image",
         run=lambda t: S.pick_in_image(("a", "b"), (480, 640, 3)), raises=ValueError,
         words=("A picked pixel is two numbers (x, y)",)),
]


# ------------------------------------------------------------------------------------------ receptive field
def onnx_file(make: Callable[[Path], Path]) -> Callable[[Path], Any]:
    return lambda tmp: R.stack_from_onnx(make(tmp))


def erf_on_image(data: bytes) -> Callable[[Path], Any]:
    """Import, then what the panel draws for the last layer's first cell on a 640×480 image."""
    def run(tmp: Path):
        st = R.stack_from_onnx(write(tmp / "m.onnx", data))
        return R.cell_view(st, len(st) - 1, 0, 0, height=480, width=640)
    return run


def _erf_bounded(v) -> None:
    assert v.erf.weights.shape == (480, 640) and 0 < v.erf.weights.sum() <= 1.0 + 1e-9
    assert len(v.taps) <= R.LIMITS["taps"] ** 2


RECEPTIVE = [
    dict(id="onnx-rf-fifo", where="Receptive fields ▸ Import ONNX → stack_from_onnx",
         run=onnx_file(lambda t: fifo(t / "m.onnx")), raises=ValueError,
         words=("The ONNX model", "is not a regular file")),
    dict(id="onnx-rf-3000-layer-chain", where="Receptive fields ▸ Import ONNX → stack_from_onnx",
         run=onnx_file(lambda t: write(t / "m.onnx", onnx_chain(3000))), raises=ValueError,
         words=("more than 500 conv and pooling layers along one path", "at most 500")),
    dict(id="onnx-rf-20000-wide-kernel", where="Receptive fields ▸ Import ONNX → cell_view",
         run=erf_on_image(onnx_chain(1, kernel=20001, pad=0)), check=_erf_bounded),
    dict(id="onnx-rf-thirty-stride-2", where="Receptive fields ▸ Import ONNX → cell_view",
         run=erf_on_image(onnx_chain(30, stride=2)), check=_erf_bounded),
    dict(id="rf-stack-600-layers", where="a lesson's receptive-field stack → make_stack",
         run=lambda t: R.make_stack([(3, 1, 1)] * 600), raises=ValueError, words=("more than 500 layers",)),
    dict(id="rf-layer-unknown-key", where="a lesson's receptive-field stack → make_stack",
         run=lambda t: R.make_stack([{"kernel": 3, "colour": "red"}]), raises=ValueError,
         words=("Layer 1 has unknown settings colour",)),
]


# ------------------------------------------------------------------------------------------ CLI numbers
def calc(*argv: str) -> Callable[[Path], Any]:
    def run(tmp: Path):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = calc_main(list(argv))
        return rc, out.getvalue(), err.getvalue()
    return run


def refused(*words: str) -> Callable[[Any], None]:
    def check(r) -> None:
        rc, out, err = r
        assert rc == 2 and out == "" and err.count("\n") == 1 and err.startswith("cvexplorer calc: "), r
        for w in words:
            assert w in err, err
    return check


CLI = [
    dict(id="calc-disparity-range-baseline-1e308", where="cvexplorer calc disparity-range --baseline 1e308",
         run=calc("disparity-range", "--baseline", "1e308"),
         check=refused("The nearest depth needs a disparity of f·B/Z = inf px", "check f, B and the depths")),
    dict(id="calc-nms-cost-negative-time", where="cvexplorer calc nms-cost --ns-per-iou -1",
         run=calc("nms-cost", "--ns-per-iou", "-1"), check=refused("The time per IoU (ns) must be a positive number")),
    dict(id="calc-quant-bits-1e12", where="cvexplorer calc quant --bits-to 1000000000000",
         run=calc("quant", "--bits-to", "1000000000000"), check=refused("The number of bits must be at most 64")),
    dict(id="calc-quant-more-bits", where="cvexplorer calc quant --bits-to 64",
         run=calc("quant", "--bits-to", "64"), check=refused("Quantisation stores weights in fewer bits")),
    dict(id="calc-conv-out-padding-1e12", where="cvexplorer calc conv-out --padding 1000000000000",
         run=calc("conv-out", "--padding", "1000000000000"),
         check=refused("The padding must be at most 1,000,000, got 1,000,000,000,000")),
]

HOSTILE = DETECTIONS + STEREO + RECEPTIVE + CLI
