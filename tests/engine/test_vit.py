"""cvexplorer.vit: patchify round trips, the ViT size table, attention cost, and the shipped tiny ViT."""

import json

import numpy as np
import pytest

from cvexplorer import vit as V


# -- patches ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,patch", [((37, 50, 3), 16), ((64, 64, 3), 8), ((5, 7), 3), ((1, 1, 4), 5),
                                         ((224, 224, 3), 16)])
def test_patchify_round_trips_exactly(shape, patch):
    img = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    before = img.copy()
    p = V.patchify(img, patch)
    g = V.token_grid(shape[0], shape[1], patch)
    assert p.shape == (g.patches, patch, patch, 1 if len(shape) == 2 else shape[2]) and p.dtype == img.dtype
    back = V.unpatchify(p, shape[0], shape[1])
    np.testing.assert_array_equal(back.reshape(shape), img)
    np.testing.assert_array_equal(img, before)  # input untouched


def test_patchify_order_and_zero_padding():
    img = np.arange(10 * 13, dtype=np.float32).reshape(10, 13, 1) + 1
    p = V.patchify(img, 4)  # 3 rows × 4 cols of patches; 2 zero rows at the bottom, 3 zero columns at the right
    assert p.shape == (12, 4, 4, 1)
    np.testing.assert_array_equal(p[5, :, :, 0], img[4:8, 4:8, 0])  # patch 5 = row 1, column 1
    assert (p[11, 2:, :, 0] == 0).all() and (p[11, :, 1:, 0] == 0).all()  # the corner patch is mostly padding
    assert (p[3, :, :1, 0] > 0).all() and (p[3, :, 1:, 0] == 0).all()
    rects = V.patch_rects(V.token_grid(10, 13, 4))
    assert rects[5].tolist() == [4, 4, 8, 8] and V.patch_at(V.token_grid(10, 13, 4), 5, 5) == 5
    assert V.patch_at(V.token_grid(10, 13, 4), 17, 0) is None


def test_patchify_rejects_nonsense():
    with pytest.raises(ValueError, match="patch size"):
        V.patchify(np.zeros((8, 8, 3)), 0)
    with pytest.raises(ValueError, match="patches"):
        V.unpatchify(np.zeros((3, 4, 4, 3)), 8, 8)


# -- cost --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,expected_m", [("ViT-B/16", 86.6), ("ViT-L/16", 304.3), ("ViT-H/14", 632.0)])
def test_standard_vit_parameter_counts(name, expected_m):
    c = V.vit_cost(V.preset(name))
    assert abs(c.params / 1e6 - expected_m) / expected_m < 0.01
    assert c.params == sum(n for _, n in c.parts)


def test_exact_counts_and_the_chapters_307m():
    assert V.vit_cost(V.preset("ViT-B/16")).params == 86_567_656
    assert V.vit_cost(V.preset("ViT-L/16")).params == 304_326_632
    assert V.vit_cost(V.preset("ViT-H/14")).params == 632_045_800
    # the chapter's (and the paper's) 307 M for ViT-L is what 32-pixel patches give
    assert round(V.vit_cost(V.preset("ViT-L/32")).params / 1e6) == 307


def test_sam_encoder_and_window_cost():
    sam = V.vit_cost(V.preset("SAM ViT-H encoder"))
    assert (sam.rows, sam.cols, sam.tokens) == (64, 64, 4096)
    assert round(sam.params / 1e6) == 637  # 632 M of blocks + embeddings, relative positions and neck
    w = V.window_cost(64, 64, 14)
    assert w.windows == 25 and w.windowed_pairs == 25 * 196 ** 2 and w.global_pairs == 4096 ** 2
    assert 17 < w.saving < 18
    # 28 windowed blocks and 4 global ones
    assert sam.total_attn_macs == 28 * 2 * w.windowed_pairs * 1280 + 4 * sam.attn_macs
    vis = V.window_visibility(64, 64, 64 * 20 + 30, window=14)
    assert vis.sum() == 196 and vis[20, 30] and vis[14, 28] and not vis[13, 28]
    assert V.window_visibility(8, 8, 0).all()


def test_sixteen_times_claim():
    b16, b8 = V.vit_cost(V.preset("ViT-B/16")), V.vit_cost(V.preset("ViT-B/16"), patch=8)
    assert (b16.patches, b8.patches) == (196, 784)
    assert V.attention_ratio(224, 16, 8) == 16.0 and V.attention_ratio(224, 16, 4) == 256.0
    assert b8.attn_macs / b16.attn_macs == pytest.approx((785 / 197) ** 2)
    assert b16.attn_macs == 2 * 197 ** 2 * 768 and b16.attn_bytes == 12 * 197 ** 2 * 4
    with pytest.raises(ValueError, match="split evenly"):
        V.vit_cost(width=100, heads=12)


# -- attention maths -----------------------------------------------------------------------------------
def test_rollout_mask_and_similarity():
    rng = np.random.default_rng(0)
    a = rng.random((3, 2, 5, 5))
    a /= a.sum(-1, keepdims=True)
    r = V.rollout(a)
    np.testing.assert_allclose(r.sum(1), 1)
    one = V.rollout(a[:1], residual=0.0)
    np.testing.assert_allclose(one, a[0].mean(0))
    m = V.random_mask(64, 0.75, seed=3)
    assert m.hidden == 48 and m.visible.sum() == 16 and m.token_keep[0] == 1 and m.token_keep.shape == (65,)
    np.testing.assert_array_equal(V.random_mask(64, 0.75, seed=3).visible, m.visible)
    with pytest.raises(ValueError, match="below 1"):
        V.random_mask(64, 1.0)
    pos = rng.normal(size=(10, 6))
    s = V.pos_similarity(pos, 3, 3)
    np.testing.assert_allclose(np.einsum("ijij->ij", s), 1)
    mosaic = V.similarity_mosaic(s)
    assert mosaic.shape == (9, 9) and mosaic[3 * 1 + 2, 3 * 2 + 0] == s[1, 2, 2, 0]


# -- the shipped model -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    path = V.vit_model_path()
    if not path.is_file():
        pytest.skip("models/vit_tiny.onnx is not present")
    return V.load_tiny_vit(path, device="cpu")


def test_tiny_preset_matches_the_shipped_model(model):
    import onnx

    spec = V.preset("tiny (this app)")
    cfg = model.config
    assert (spec.image, spec.patch, spec.width, spec.depth, spec.heads) == \
        (cfg["image"], cfg["patch"], cfg["width"], cfg["depth"], cfg["heads"])
    weights = onnx.load(str(model.path)).graph.initializer
    assert sum(int(np.prod(t.dims)) for t in weights) == V.vit_cost(spec).params  # every weight counted
    assert model.path.stat().st_size < 3 * 2 ** 20


def test_onnx_attention_is_row_stochastic_and_matches_numpy(model):
    scene = V.shape_scene(5)
    run = model.run(scene.image)
    assert run.attn.shape == (model.config["depth"], model.config["heads"], 65, 65)
    np.testing.assert_allclose(run.attn.sum(-1), 1, atol=1e-5)
    assert (run.attn >= 0).all()
    layer = 1
    w = V.qk_weights(model.path, layer)
    again = V.attention_from_qk(run.attn_in[layer], w["wq"], w["bq"], w["wk"], w["bk"],
                                heads=model.config["heads"])
    np.testing.assert_allclose(again, run.attn[layer], atol=2e-5)
    # hidden tokens get no attention at all, and the recomputation agrees
    m = V.random_mask(64, 0.75, seed=2)
    masked = model.run(scene.image, keep=m.token_keep)
    assert np.abs(masked.attn[:, :, :, 1:][..., ~m.visible]).max() < 1e-6
    w0 = V.qk_weights(model.path, 0)
    again0 = V.attention_from_qk(masked.attn_in[0], w0["wq"], w0["bq"], w0["wk"], w0["bk"],
                                 heads=model.config["heads"], keep=m.token_keep)
    np.testing.assert_allclose(again0, masked.attn[0], atol=2e-5)
    assert run.patch_embeddings.shape == (64, model.config["width"]) and run.pos.shape == (65, model.config["width"])
    cls_map, cls_share = V.attention_map(run, "cls")
    assert cls_map.shape == (8, 8) and cls_map.sum() + cls_share == pytest.approx(1, abs=1e-5)


def test_model_classifies_and_cls_attends_to_the_object(model):
    x, y, masks = V.shape_batch(40, seed=V.model.__dict__.get("_TEST_SEED", 4242))
    runs = [model.run(img) for img in x]
    acc = np.mean([r.label == t for r, t in zip(runs, y)])
    metrics = json.loads(V.vit_metrics_path().read_text())
    assert acc >= metrics["held_out"]["accuracy"] - 0.2  # the same model as the metrics describe
    ratios = [V.cls_object_attention(r, m).ratio for r, m in zip(runs, masks)]
    assert np.mean(ratios) >= 1.5  # the metrics file holds the measured figure on 1000 scenes


def test_a_few_training_steps_give_row_stochastic_attention():
    torch = pytest.importorskip("torch")
    from models import train_vit as T

    net = T.train(torch, T.CONFIG, steps=2, batch=4, lr=1e-3, seed=0, log=False, pool=8)
    x, _y, _m = V.shape_batch(2, seed=3)
    with torch.no_grad():
        logits, emb, pos, attns, ins = net(T.to_tensor(torch, x), torch.ones(2, 65))
    assert logits.shape == (2, len(V.SHAPE_CLASSES)) and emb.shape == (2, 64, T.CONFIG["width"])
    assert len(attns) == T.CONFIG["depth"] and attns[0].shape == (2, T.CONFIG["heads"], 65, 65)
    np.testing.assert_allclose(attns[-1].sum(-1).numpy(), 1, atol=1e-5)
    assert sum(p.numel() for p in net.parameters()) == V.vit_cost(V.preset("tiny (this app)")).params
