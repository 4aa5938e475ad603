"""U-Net engine: shapes and parameters against the formulas and the shipped ONNX, real skip benefit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cvexplorer import formulas as F
from cvexplorer import unet as U
from cvexplorer.samples.segmentation import segmentation_batch, segmentation_scene


def test_paper_configuration_572_to_388():
    blocks = U.shape_trace(572, depth=4, base_channels=64, in_channels=1, num_classes=2,
                           padding="valid", upsample="transposed")
    by = {b.name: b for b in blocks}
    assert by["enc0"].out_shape == (64, 568, 568)
    assert by["enc3"].out_shape == (512, 64, 64)
    assert by["bottleneck"].out_shape == (1024, 28, 28)
    assert by["up3"].out_shape == (512, 56, 56)
    assert by["dec3"].in_shape == (1024, 56, 56) and by["dec3"].crop == (64 - 56) // 2
    assert by["dec0"].skip_shape == (64, 568, 568) and by["dec0"].crop == (568 - 392) // 2
    assert by["dec0"].out_shape == (64, 388, 388)
    assert blocks[-1].out_shape == (2, 388, 388)


@pytest.mark.parametrize("size,depth,base,up", [(256, 3, 8, "transposed"), (128, 4, 16, "bilinear"),
                                                (96, 2, 5, "transposed"), (64, 1, 3, "bilinear")])
def test_same_padding_shapes_and_params_equal_formulas(size, depth, base, up):
    blocks = U.shape_trace(size, depth=depth, base_channels=base, in_channels=3, num_classes=2,
                           padding="same", upsample=up)
    h = size
    c_in = 3
    by = {b.name: b for b in blocks}
    for i in range(depth):
        c = base * 2 ** i
        h1 = F.conv_output_size(F.conv_output_size(h, 3, padding=1), 3, padding=1)
        assert by[f"enc{i}"].out_shape == (c, h1, h1)
        assert by[f"enc{i}"].params == F.conv_params(c_in, c, 3) + F.conv_params(c, c, 3)
        h, c_in = F.pool_output_size(h1, 2), c
        assert by[f"pool{i}"].out_shape == (c, h, h)
    cb = base * 2 ** depth
    assert by["bottleneck"].out_shape == (cb, h, h)
    for i in reversed(range(depth)):
        c = base * 2 ** i
        prev = base * 2 ** (i + 1)
        if up == "transposed":
            h = F.transposed_conv_output_size(h, 2, stride=2)
            assert by[f"up{i}"].params == F.conv_params(prev, c, 2)
        else:
            h = 2 * h
            assert by[f"up{i}"].params == F.conv_params(prev, c, 1)
        assert by[f"up{i}"].out_shape == (c, h, h)
        assert by[f"dec{i}"].in_shape == (2 * c, h, h)
        assert by[f"dec{i}"].params == F.conv_params(2 * c, c, 3) + F.conv_params(c, c, 3)
    assert blocks[-1].out_shape == (2, size, size)
    assert by["head"].params == F.conv_params(base, 2, 1)


def test_bad_configurations_explain_themselves():
    with pytest.raises(ValueError, match="max-pool"):
        U.shape_trace(100, depth=3, base_channels=8)  # 100 -> 50 -> 25: odd
    with pytest.raises(ValueError, match="padding"):
        U.shape_trace(64, padding="full")
    with pytest.raises(ValueError, match="nothing|max-pool"):
        U.shape_trace(16, depth=4, padding="valid")


@pytest.mark.parametrize("skips", [True, False])
def test_param_count_equals_shipped_onnx_initialisers(skips):
    path = U.model_path(skips)
    blocks = U.shape_trace(128, skips=skips, **U.TINY_CONFIG)
    assert U.count_onnx_params(path) == U.total_params(blocks)
    assert path.stat().st_size < 5 * 2**20


def test_shipped_model_outputs_match_shape_trace():
    img, _ = segmentation_scene((128, 128), seed=5)
    r = U.run_unet(img, skips=True)
    blocks = {b.name: b for b in U.shape_trace(128, **U.TINY_CONFIG)}
    assert set(r.features) == set(U.feature_names(U.TINY_CONFIG["depth"]))
    for name, fmap in r.features.items():
        assert fmap.shape == blocks[name].out_shape, name
    assert r.mask.shape == (128, 128) and r.mask.dtype == np.uint8
    assert r.device and "onnx" in r.ms
    # a size that is not a multiple of 2**depth is padded and cropped back
    r2 = U.run_unet(img[:100, :90], skips=False)
    assert r2.mask.shape == (100, 90) and r2.padded_shape == (104, 96)


def test_skips_beat_the_twin_on_boundary_f_score():
    x, y = segmentation_batch(12, (128, 128), seed=4242)  # seeds never used in training or the README set
    pred_s = np.stack([U.run_unet(im, skips=True, features=False).mask for im in x])
    pred_n = np.stack([U.run_unet(im, skips=False, features=False).mask for im in x])
    # measured when the models were trained: BF(1 px) 0.998 vs 0.912, BF(0 px) 0.989 vs 0.582,
    # IoU 0.996 vs 0.856 on exactly these 12 scenes
    bf_s, bf_n = U.boundary_f_score(pred_s, y), U.boundary_f_score(pred_n, y)
    assert bf_s > 0.95
    assert bf_s - bf_n > 0.05, (bf_s, bf_n)
    exact_s, exact_n = U.boundary_f_score(pred_s, y, tolerance=0), U.boundary_f_score(pred_n, y, tolerance=0)
    assert exact_s - exact_n > 0.2, (exact_s, exact_n)
    assert U.iou(pred_s, y) - U.iou(pred_n, y) > 0.08


def test_metrics_file_describes_the_shipped_models():
    m = json.loads(U.metrics_path().read_text())
    assert m["config"] == U.TINY_CONFIG
    assert m["models"]["skip"]["boundary_f1"] > m["models"]["noskip"]["boundary_f1"]
    assert m["models"]["skip"]["boundary_f0"] - m["models"]["noskip"]["boundary_f0"] > 0.2
    assert m["models"]["skip"]["params"] == U.count_onnx_params(U.model_path(True))


def test_boundary_f_score_properties():
    m = np.zeros((30, 30), np.uint8)
    m[10:20, 10:20] = 1
    assert U.boundary_f_score(m, m) == 1.0
    assert U.boundary_f_score(np.zeros_like(m), m) == 0.0
    assert U.boundary_f_score(np.zeros_like(m), np.zeros_like(m)) == 1.0
    shifted = np.roll(m, 1, axis=0)
    assert U.boundary_f_score(shifted, m, tolerance=1) == 1.0
    assert U.boundary_f_score(shifted, m, tolerance=0) < 1.0
    assert U.iou(m, m) == 1.0


def test_segmentation_scene_is_deterministic_and_exact():
    a, ma = segmentation_scene((96, 64), seed=11)
    b, mb = segmentation_scene((96, 64), seed=11)
    assert a.shape == (64, 96, 3) and ma.shape == (64, 96)
    assert np.array_equal(a, b) and np.array_equal(ma, mb)
    assert 0 < ma.mean() < 0.6
    # foreground pixels are warm (red channel dominates blue) well beyond the noise
    fg = a[ma > 0].astype(int)
    assert np.median(fg[:, 0] - fg[:, 2]) > 40


@pytest.mark.slow
def test_training_script_runs_one_short_epoch(tmp_path):
    pytest.importorskip("torch")
    import importlib.util
    from pathlib import Path

    script = Path(U.__file__).resolve().parents[2] / "models" / "train_unet.py"
    spec = importlib.util.spec_from_file_location("train_unet", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    metrics = mod.main(["--steps", "3", "--batch", "4", "--size", "64", "--train-scenes", "12",
                        "--test-scenes", "3", "--test-size", "64", "--out", str(tmp_path), "--quiet"])
    for name in ("unet_tiny.onnx", "unet_noskip.onnx", "unet_metrics.json"):
        assert (tmp_path / name).is_file()
    assert metrics["models"]["skip"]["params"] == U.count_onnx_params(tmp_path / "unet_tiny.onnx")
    r = U.UNetModel(tmp_path / "unet_noskip.onnx").run(segmentation_scene((64, 64), seed=1)[0])
    assert not r.features["dec0"].shape[0] == 0 and r.mask.shape == (64, 64)
