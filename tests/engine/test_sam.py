"""cvexplorer.sam against real onnxruntime sessions of tiny models with the official SAM1 I/O contract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from cvexplorer import sam
from cvexplorer.runtime import ModelLoadError

_spec = importlib.util.spec_from_file_location("sam_models", Path(__file__).with_name("sam_models.py"))
sam_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sam_models)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sam_models")
    paths = {}
    for style in ("normalized", "raw"):
        for c in (4, 1):
            paths[(style, c)] = sam_models.write_pair(d / f"{style}{c}", style=style, num_masks=c)
    return paths


@pytest.fixture(scope="module")
def models(model_dir):
    return {k: sam.SamModel.load(*v, device="cpu") for k, v in model_dir.items()}


def _img(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _centroid(mask):
    ys, xs = np.nonzero(mask)
    return xs.mean(), ys.mean()


def test_variants_detected(models):
    m = models[("normalized", 4)]
    assert m.encoder_style == "normalized" and m.num_masks == 4 and m.device == "CPU"
    assert "[1,3,1024,1024]" in m.variant and "4-mask" in m.variant
    r = models[("raw", 1)]
    assert r.encoder_style == "raw" and r.num_masks == 1 and "samexporter" in r.variant


def test_geometry_helpers():
    assert sam.resize_longest(3000, 4000)[1] == (768, 1024)
    assert sam.resize_longest(4000, 3000)[1] == (1024, 768)
    assert sam.resize_longest(1500, 1500)[1] == (1024, 1024)
    np.testing.assert_allclose(sam.transform_points([(2000, 1500)], (3000, 4000)), [[512, 384]])
    with pytest.raises(ValueError):
        sam.resize_longest(0, 10)


def test_feed_follows_the_contract(models):
    p = sam.SamPredictor(models[("normalized", 4)])
    p.set_image(_img(300, 400))
    feed, n = p.decoder_feed([(100, 50)], [1])
    assert n == 1
    np.testing.assert_allclose(feed["point_coords"], [[[256, 128], [0, 0]]])  # padding point appended
    np.testing.assert_array_equal(feed["point_labels"], [[1, -1]])
    np.testing.assert_array_equal(feed["orig_im_size"], [300, 400])  # (H, W), not (W, H)
    assert feed["has_mask_input"][0] == 0 and feed["mask_input"].shape == (1, 1, 256, 256)
    feed, n = p.decoder_feed(box=(200, 150, 40, 20))  # corners in any order
    np.testing.assert_allclose(feed["point_coords"], [[[102.4, 51.2], [512, 384]]], rtol=1e-5)
    np.testing.assert_array_equal(feed["point_labels"], [[2, 3]])  # no padding point with a box
    assert all(v.dtype == np.float32 for v in feed.values())
    with pytest.raises(ValueError, match="at least one point"):
        p.predict()
    with pytest.raises(ValueError, match="labels"):
        p.predict([(1, 2)], [1, 0])


@pytest.mark.parametrize("style", ["normalized", "raw"])
@pytest.mark.parametrize("hw", [(3000, 4000), (4000, 3000)])
def test_large_photos_put_the_mask_under_the_click(models, style, hw):
    h, w = hw
    p = sam.SamPredictor(models[(style, 1)])
    p.set_image(_img(h, w))
    x, y = int(w * 0.3), int(h * 0.7)
    r = p.predict([(x, y)], [1])
    assert r.masks.shape == (1, h, w) and r.masks.dtype == bool
    assert r.mask[y, x]
    cx, cy = _centroid(r.mask)
    assert abs(cx - x) < 4 and abs(cy - y) < 4  # disc of radius 48/1024 of the long side, centred
    radius = 48 / 1024 * max(h, w)
    assert r.mask.sum() == pytest.approx(np.pi * radius**2, rel=0.05)


def test_non_square_small_image_and_multimask_selection(models):
    p = sam.SamPredictor(models[("normalized", 4)])
    h, w = 200, 520
    p.set_image(_img(h, w))
    r = p.predict([(60, 150)], [1])
    assert r.masks.shape == (4, h, w) and r.scores.shape == (4,)
    assert r.best == 2  # one click: best of 1..3 by predicted IoU (0.7, 0.9, 0.8)
    assert r.mask[150, 60] and not r.mask[50, 400]
    areas = r.masks.sum(axis=(1, 2))
    assert areas[1] < areas[0] == areas[2] < areas[3]
    r2 = p.predict([(60, 150), (90, 150)], [1, 1])
    assert r2.best == 0  # two prompts: the single-mask answer
    assert r.low_res_logits.shape == (4, 256, 256)


def test_box_prompt(models):
    p = sam.SamPredictor(models[("normalized", 4)])
    p.set_image(_img(600, 800))
    r = p.predict(box=(100, 200, 500, 400))
    m = r.masks[0]
    assert m[300, 300] and m[210, 110] and m[390, 490]
    assert not m[190, 300] and not m[300, 520] and not m[450, 300]
    assert r.best == 2


def test_negative_point_removes_area(models):
    p = sam.SamPredictor(models[("normalized", 1)])
    p.set_image(_img(512, 512))
    pos = p.predict([(256, 256)], [1]).mask
    both = p.predict([(256, 256), (256 + 16, 256)], [1, 0]).mask
    assert pos[256, 272] and not both[256, 272]
    assert both.sum() < pos.sum() and not (both & ~pos).any()


def test_refinement_feeds_low_res_logits_back(models):
    p = sam.SamPredictor(models[("normalized", 4)])
    p.set_image(_img(1024, 1024))
    first = p.predict([(300, 500)], [1])
    prev = first.low_res_logits[0]
    far = (300 + 72, 500)  # 1.5 radii away: the previous region is outside the new disc...
    plain = p.predict([far], [1])
    assert not plain.masks[0][500, 300]
    refined = p.predict([far], [1], mask_input=prev)  # ...but the refinement keeps it
    assert refined.masks[0][500, 300]
    with pytest.raises(ValueError, match="256x256"):
        p.predict([far], [1], mask_input=np.zeros((64, 64)))


def test_encoder_runs_once_for_ten_clicks(models):
    p = sam.SamPredictor(models[("raw", 4)], cache_entries=2)
    img = _img(480, 640)
    p.set_image(img)
    rng = np.random.default_rng(1)
    for _ in range(10):
        p.set_image(img.copy())  # same content, new array: a cache hit
        r = p.predict([tuple(rng.integers(0, 480, 2))], [1])
        assert r.encoder_run == "cached"
        assert set(r.timings) == {"preprocess", "encoder", "prompt", "decoder", "postprocess"}
    assert p.encoder_runs == 1
    p.set_image(_img(480, 640, seed=5))
    assert p.encoder_runs == 2 and p.encoder_run == "warm"
    p.set_image(_img(480, 640, seed=6))
    p.set_image(img)  # evicted by the LRU (2 entries), so it is encoded again
    assert p.encoder_runs == 4
    assert p.cache_mb == pytest.approx(8.0) and p.cache_limit_mb == pytest.approx(8.0)


def test_set_image_validates():
    p = sam.SamPredictor.__new__(sam.SamPredictor)
    with pytest.raises(ValueError, match="uint8"):
        sam.SamPredictor.set_image(p, np.zeros((4, 4), np.float32))


@pytest.mark.parametrize("variant", sorted(sam_models.FOREIGN))
def test_unsupported_signatures_are_refused_with_the_variant_named(tmp_path, variant):
    enc, dec = sam_models.write_foreign(tmp_path, variant)
    with pytest.raises(sam.UnsupportedModelError) as info:
        sam.SamModel.load(enc, dec, device="cpu")
    assert variant in str(info.value)
    assert isinstance(info.value, ValueError)


def test_other_unsupported_shapes(tmp_path, model_dir):
    enc, dec = model_dir[("normalized", 4)]
    with pytest.raises(sam.UnsupportedModelError, match="encoder, not a decoder"):
        sam.SamModel.load(dec, enc, device="cpu")
    edge = tmp_path / "edge.decoder.onnx"
    edge.write_bytes(sam_models.dummy_model([("image_embeddings", [1, 256, 64, 64]), ("point_coords", [1, "N", 2]),
                                             ("point_labels", [1, "N"])], ["scores", "masks"]).SerializeToString())
    with pytest.raises(sam.UnsupportedModelError, match="EdgeSAM"):
        sam.SamModel.load(enc, edge, device="cpu")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "missing"])
def test_corrupt_files_give_a_clear_error(tmp_path, model_dir, damage):
    enc, dec = model_dir[("normalized", 1)]
    bad = tmp_path / "bad.encoder.onnx"
    if damage == "truncated":
        bad.write_bytes(enc.read_bytes()[: enc.stat().st_size // 2])
    elif damage == "garbage":
        bad.write_bytes(b"this is not an onnx file" * 20)
    elif damage == "empty":
        bad.write_bytes(b"")
    with pytest.raises(ModelLoadError) as info:
        sam.SamModel.load(bad, dec, device="cpu")
    msg = str(info.value)
    assert msg.startswith("SAM encoder:") and "bad.encoder.onnx" in msg and "Traceback" not in msg


def test_find_models_and_cli(tmp_path, monkeypatch, capsys, model_dir):
    a = tmp_path / "a"
    sam_models.write_pair(a, prefix="mobile_sam")
    b = tmp_path / "b"
    b.mkdir()
    (b / "my_image_encoder.onnx").write_bytes(model_dir[("raw", 4)][0].read_bytes())
    (b / "sam_decoder_quant.onnx").write_bytes(model_dir[("raw", 4)][1].read_bytes())
    (b / "notes.onnx").write_bytes(b"")  # neither role: ignored
    pairs = sam.find_models([a, b, tmp_path / "nope"])
    assert [(p.encoder.name, p.decoder.name) for p in pairs] == [
        ("mobile_sam.encoder.onnx", "mobile_sam.decoder.onnx"), ("my_image_encoder.onnx", "sam_decoder_quant.onnx")]
    monkeypatch.setenv("CVEXPLORER_MODELS", str(a))
    assert a.resolve() in sam.model_dirs()
    assert any(p.encoder.parent == a for p in sam.find_models())
    assert sam.models_cli([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "MobileSAM ([1,3,1024,1024] input, 4-mask decoder)" in out and "samexporter" in out
    with pytest.raises(ValueError, match="not a folder"):
        sam.models_cli([str(tmp_path / "nope")])


def test_classical_fallback_segments_the_clicked_object():
    from cvexplorer.samples import get_sample, still_life_objects

    size = (640, 480)
    img = get_sample("still-life", size=size)
    mug = next(o for o in still_life_objects(size) if o.label == "mug")
    x0, y0, x1, y1 = mug.box
    seg = sam.ClassicalSegmenter()
    seg.set_image(img)
    r = seg.predict([((x0 + x1) / 2, (y0 + y1) / 2)], [1])
    assert r.masks.shape == (1, 480, 640) and np.isnan(r.scores[0]) and "fallback" in r.source
    inside = r.mask[int(y0):int(y1), int(x0):int(x1)].mean()
    assert inside > 0.4 and r.mask.mean() < 0.3
    rb = seg.predict(box=mug.box)
    assert rb.mask[int(y0):int(y1), int(x0):int(x1)].mean() > 0.4 and not rb.mask[: int(y0) - 2].any()


def test_embedding_rgb(models):
    p = sam.SamPredictor(models[("normalized", 1)])
    p.set_image(_img(64, 64))
    rgb = sam.embedding_rgb(p.embedding)
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.uint8 and rgb.std() > 10


def test_fallback_one_click_gets_most_of_each_still_life_object():
    """One click at each object's deepest point (distance-transform maximum) of the built-in still life."""
    from cvexplorer.samples import get_sample
    from cvexplorer.unet import iou

    seg = sam.ClassicalSegmenter()
    seg.set_image(get_sample("still-life", size=(1280, 960)))
    got = {}
    for name, truth in sam_models.still_life_masks((1280, 960)).items():
        x, y = sam_models.inner_point(truth)
        r = seg.predict([(x, y)], [1])
        assert r.mask[y, x] and r.mask.shape == truth.shape
        got[name] = iou(r.mask, truth)
    # a click on the poster's blue panel or on a window pane gets that part: one click is ambiguous
    assert all(got[k] >= 0.9 for k in ("mug", "book", "apple", "phone", "pencil")), got
    assert got["poster"] >= 0.5 and got["window"] >= 0.3, got
    # the same click gives the same mask (GrabCut's k-means is seeded)
    x, y = sam_models.inner_point(sam_models.still_life_masks((1280, 960))["mug"])
    assert np.array_equal(seg.predict([(x, y)], [1]).mask, seg.predict([(x, y)], [1]).mask)


def test_fallback_one_click_on_a_noisy_real_photo_gets_the_object(shared_data):
    """Issue 19: on a real, noisy photo the colour flood fill stops after a few pixels (a click on
    Tsukuba's lamp shade gave 50 px); boxes around the click, refined by GrabCut, take over.
    The boxes here are drawn by hand around each object in im3.png (384×288)."""
    from cvexplorer.imageio import load_image

    img = load_image(shared_data / "stereo" / "tsukuba" / "im3.png")
    seg = sam.ClassicalSegmenter()
    seg.set_image(img)
    for click, (x0, y0, x1, y1) in (((232, 140), (185, 90, 275, 190)),   # the orange lamp shade
                                    ((160, 195), (110, 135, 200, 255))):  # the white head
        m = seg.predict([click], [1]).mask
        inside = m[y0:y1, x0:x1].sum()
        assert inside >= 0.4 * (x1 - x0) * (y1 - y0), (click, int(inside), seg.guess)  # most of the object
        assert inside >= 0.6 * m.sum(), (click, int(m.sum()), seg.guess)  # and mostly the object


def test_fallback_one_click_on_the_filled_shapes_of_segmentation_scenes():
    from cvexplorer.samples import segmentation_scene
    from cvexplorer.unet import iou

    seg = sam.ClassicalSegmenter()
    scores = []
    for seed in range(8):
        rgb, mask = segmentation_scene((512, 512), seed=seed)
        seg.set_image(rgb)
        for shape in sam_models.filled_shapes(mask):
            x, y = sam_models.inner_point(shape)
            scores.append(iou(seg.predict([(x, y)], [1]).mask, shape))
    assert len(scores) >= 10
    assert np.mean(np.array(scores) >= 0.8) >= 0.9 and np.median(scores) >= 0.95, np.round(scores, 2)


def test_a_small_click_result_suggests_a_box():
    m = np.zeros((100, 100), bool)
    m[10:12, 10:12] = True
    assert sam.needs_box([sam.Prompt.point(10, 10)], m)
    assert not sam.needs_box([sam.Prompt.point(10, 10), sam.Prompt.box(0, 0, 50, 50)], m)
    assert not sam.needs_box([sam.Prompt.point(10, 10)], np.ones((100, 100), bool))


def test_a_fixed_size_rank3_encoder_scales_clicks_and_masks_correctly(tmp_path):
    """AnyLabeling's exports declare one input size ([684, 1024, 3]): one scale s = min(1024/w, 684/h),
    the click lands at (x·s, y·s), and the mask comes back at full size from low_res_masks."""
    from cvexplorer.sam import SamModel, SamPredictor
    from cvexplorer.sam.preprocessing import frame_scale

    from .sam_models import IOUS, RADII, write_pair

    enc, dec = write_pair(tmp_path, style="fixed")
    model = SamModel.load(enc, dec, device="cpu")
    assert model.encoder_fixed == (684, 1024) and "fixed [684,1024,3]" in model.variant
    rgb = np.random.default_rng(3).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    pred = SamPredictor(model)
    pred.set_image(rgb)
    s, (nh, nw) = frame_scale(3000, 4000, (684, 1024))
    assert (nh, nw) == (684, 912) and abs(s - 0.228) < 1e-9
    x, y = 1500.0, 1200.0
    res = pred.predict([(x, y)], [1])
    mask = res.mask
    assert mask.shape == (3000, 4000)
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - x) < 2 / s and abs(ys.mean() - y) < 2 / s  # centred on the click
    best = 1 + int(np.argmax(IOUS[4][1:]))
    radius = np.sqrt(mask.sum() / np.pi)
    assert abs(radius - RADII[4][best] / s) / (RADII[4][best] / s) < 0.03  # the disc's radius divided by s


def test_a_decoder_that_breaks_the_mask_contract_is_refused_in_a_sentence(tmp_path):
    """Masks of the wrong size (here the 256×256 low-res ones) never reach the picture; a declared
    20000×20000 mask output is refused when the model is opened, before it could allocate gigabytes."""
    import onnx
    from onnx import helper

    from cvexplorer.sam import SamModel, SamPredictor
    from cvexplorer.sam.contract import UnsupportedModelError

    from .sam_models import decoder_model, write_pair

    enc, dec = write_pair(tmp_path)
    m = decoder_model(4)
    for node in m.graph.node:
        if "masks" in node.output:
            node.output[list(node.output).index("masks")] = "masks_full"
    m.graph.node.append(helper.make_node("Identity", ["low_res_masks"], ["masks"]))
    dec.write_bytes(m.SerializeToString())
    pred = SamPredictor(SamModel.load(enc, dec, device="cpu"))
    pred.set_image(np.zeros((300, 400, 3), np.uint8))
    with pytest.raises(UnsupportedModelError, match=r"masks of shape \[4, 256, 256\], not \[C, 300, 400\]"):
        pred.predict([(100, 100)], [1])
    huge = onnx.load_from_string(decoder_model(4).SerializeToString())
    out = next(o for o in huge.graph.output if o.name == "masks")
    for dim, v in zip(out.type.tensor_type.shape.dim[2:], (20000, 20000)):
        dim.ClearField("dim_param")
        dim.dim_value = v
    dec.write_bytes(huge.SerializeToString())
    with pytest.raises(UnsupportedModelError, match="declares 20000×20000 masks"):
        SamModel.load(enc, dec, device="cpu")


_GIANT_CLICK = """
import json, os, resource, sys
import numpy as np
from cvexplorer import runtime
enc, dec, cap, headroom = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if cap:
    runtime.CAPPED_ARENA_BYTES = cap  # before the first decoder session is made
from cvexplorer.sam import SamModel, SamPredictor, UnsupportedModelError
pred = SamPredictor(SamModel.load(enc, dec, device="cpu"))
pred.set_image(np.zeros((300, 400, 3), np.uint8))
vm = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
resource.setrlimit(resource.RLIMIT_AS, (vm + headroom, vm + headroom))  # this child only
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    pred.predict([(100, 100)], [1])
    out = {"message": None}
except UnsupportedModelError as exc:
    out = {"message": str(exc)}
out["growth_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(out))
"""


@pytest.mark.parametrize("side, cap, headroom, asked", [
    # 4×8000×8000 float32 (977 MiB) over a cap lowered to 256 MiB, in a child that could hold it:
    # refused before it is allocated (without the cap it ran, took ~1 GB, and only then was refused)
    (8000, 256 * 2**20, 3 * 2**29, "976.56 MiB"),
    # 4×20000×20000 (6.4 GB, 7 GB with SAM's own masks) at the real cap, in a child capped at 1 GiB more
    (20000, 0, 2**30, "5.96 GiB"),
])
def test_a_decoder_that_computes_giant_masks_inside_run_is_refused_in_a_sentence(tmp_path, side, cap, headroom,
                                                                                  asked):
    """A decoder whose declared mask dims are dynamic passes the open-time check; what it allocates inside
    ``session.run`` comes from an arena capped at ``runtime.CAPPED_ARENA_BYTES``."""
    import json
    import os
    import subprocess
    import sys

    from cvexplorer import runtime

    enc, dec = sam_models.write_pair(tmp_path)
    dec.write_bytes(sam_models.giant_decoder_model(side).SerializeToString())
    r = subprocess.run([sys.executable, "-c", _GIANT_CLICK, str(enc), str(dec), str(cap), str(headroom)],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]  # not killed, no traceback
    out = json.loads(r.stdout.strip().splitlines()[-1])
    cap_text = "256.00 MiB" if cap else f"{runtime.CAPPED_ARENA_BYTES / 2**30:.2f} GiB"
    assert out["message"] == (f"The decoder asked for {asked} of memory for one click, more than a SAM decoder may "
                              f"use here ({cap_text}): it does not follow the SAM contract (four masks at the "
                              "photo's size, 400×300, take 1.83 MiB).")
    assert out["growth_mib"] < 200, out  # the giant tensor was never allocated
