"""`cvexplorer screenshot`: a PNG of the requested size that is not blank; bad input exits non-zero."""

import subprocess
import sys

import numpy as np
import pytest

from cvexplorer.imageio import load_image


def run_cli(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "cvexplorer", *args], capture_output=True, text=True, timeout=timeout,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})


def test_screenshot_writes_png_of_requested_size(tmp_path):
    out = tmp_path / "welcome.png"
    r = run_cli("screenshot", "welcome", str(out), "--size", "800x600", "--theme", "projector")
    assert r.returncode == 0, r.stderr
    img = load_image(out)
    assert img.shape == (600, 800, 3)
    assert img.std() > 10  # not blank: text and cards drawn
    assert (img < 80).mean() > 0.005  # dark text on the projector's white


def test_screenshot_list():
    r = run_cli("screenshot", "--list")
    assert r.returncode == 0
    assert r.stdout.split() == ["welcome", "calculator", "conv", "receptive-field", "anchors", "nms", "detector",
                                "unet", "sam", "vit", "stereo", "stitching"]


@pytest.mark.parametrize("args, words", [
    (("screenshot", "nosuchpanel", "x.png"), "no panel called"),
    (("screenshot", "welcome", "x.png", "--size", "big"), "--size must look like"),
    (("screenshot", "welcome", "x.png", "--image", "/no/such.png"), "does not exist"),
    (("/no/such/image.png",), "does not exist"),
    (("screenshot", "nms", "x.png", "--step", "-1"), "counts from 1"),
    (("screenshot", "nms", "x.png", "--step", "0"), "counts from 1"),
    (("screenshot", "--size"), "expected one argument"),
    (("screenshot", "nms", "x.png", "--demo", "--image", "__IMAGE__"), "give one of the two"),
    (("screenshot", "stitching", "x.png", "--demo", "--image", "__IMAGE__"), "give one of the two"),
    (("--bogus",), "Unrecognized arguments: --bogus"),
])
def test_bad_input_exits_nonzero_with_one_sentence(tmp_path, args, words):
    if "__IMAGE__" in args:
        from cvexplorer.imageio import save_png

        photo = save_png(tmp_path / "photo.png", np.full((40, 60, 3), 128, np.uint8))
        args = tuple(str(photo) if a == "__IMAGE__" else a for a in args)
    r = run_cli(*args)
    assert r.returncode != 0
    assert words in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_window_screenshot_is_exactly_the_requested_size(tmp_path):
    out = tmp_path / "sam.png"
    r = run_cli("screenshot", "sam", str(out), "--size", "1280x720", "--theme", "projector", "--window")
    assert r.returncode == 0, r.stderr
    assert load_image(out).shape == (720, 1280, 3)  # it was 2084×735 before the panel frame
    assert r.stderr == ""  # no onnxruntime or Qt noise on a machine without CUDA
