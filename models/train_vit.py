"""Train the shipped tiny Vision Transformer on generated shape scenes; export it to ONNX.

Needs PyTorch (the optional ``train`` extra); a CPU is enough (a few minutes on 2 cores).

    python models/train_vit.py                     # the shipped model
    python models/train_vit.py --steps 5 --out /tmp/x   # a smoke run

The task: which of four shapes (circle, square, triangle, cross) is in a 64×64 picture
(:func:`cvexplorer.vit.shape_scene`). The model is a plain pre-norm ViT: 8×8 patches -> 64 tokens
plus a CLS token, learned position embeddings, ``depth`` blocks of multi-head self-attention and an
MLP, the CLS token's final state -> a linear head. Attention is written out as
``softmax(Q Kᵀ / √d + key_bias)`` (no fused kernel), so every layer's per-head weights are ONNX
outputs. Q and K projections are separate parameters ``blocks.{l}.wq``/``bq``/``wk``/``bk``
(shape (D, D), used as ``x @ W + b``), kept under those names in the ONNX file.

ONNX inputs: ``image`` (1, 3, 64, 64) float, normalised with the metadata's mean/std, and
``token_keep`` (1, 65) float, 1 for a token the model may attend to and 0 for a hidden one (MAE-style
masking: a hidden token is removed from every softmax). Outputs: ``logits`` (1, 4),
``patch_embeddings`` (1, 64, D) (the linear projection of each patch), ``pos_embedding`` (1, 65, D),
and per layer ``attn_{l}`` (1, H, 65, 65) and ``attn_in_{l}`` (1, 65, D) (the normalised tokens the
layer's Q and K are computed from). Metrics on held-out scenes go to ``models/vit_metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cvexplorer.vit.scenes import SHAPE_CLASSES, shape_batch  # noqa: E402
from models._torch import require_torch  # noqa: E402

MEAN = [0.5, 0.5, 0.5]
STD = [0.25, 0.25, 0.25]
CONFIG = dict(image=64, patch=8, width=64, depth=3, heads=4, mlp_ratio=2, classes=len(SHAPE_CLASSES),
              channels=3)
HELD_OUT_SEED = 777


def build(torch, cfg: dict):
    nn = torch.nn
    d, heads = cfg["width"], cfg["heads"]
    p, c = cfg["patch"], cfg["channels"]
    g = cfg["image"] // p
    n = g * g

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            for name in ("wq", "wk", "wv", "wo"):
                setattr(self, name, nn.Parameter(torch.randn(d, d) * d ** -0.5))
            for name in ("bq", "bk", "bv", "bo"):
                setattr(self, name, nn.Parameter(torch.zeros(d)))
            self.ln2 = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, d * cfg["mlp_ratio"])
            self.fc2 = nn.Linear(d * cfg["mlp_ratio"], d)

        def forward(self, x, key_bias):
            b, t, _ = x.shape
            h = self.ln1(x)
            dh = d // heads

            def split(z):
                return z.reshape(b, t, heads, dh).transpose(1, 2)

            q, k, v = split(h @ self.wq + self.bq), split(h @ self.wk + self.bk), split(h @ self.wv + self.bv)
            scores = q @ k.transpose(-1, -2) / (dh ** 0.5) + key_bias
            attn = torch.softmax(scores, dim=-1)
            out = (attn @ v).transpose(1, 2).reshape(b, t, d)
            x = x + out @ self.wo + self.bo
            x = x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x))))
            return x, attn, h

    class TinyViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_w = nn.Parameter(torch.randn(p * p * c, d) * (p * p * c) ** -0.5)
            self.patch_b = nn.Parameter(torch.zeros(d))
            self.cls = nn.Parameter(torch.zeros(1, 1, d))
            self.pos = nn.Parameter(torch.randn(1, n + 1, d) * 0.02)
            self.blocks = nn.ModuleList([Block() for _ in range(cfg["depth"])])
            self.ln = nn.LayerNorm(d)
            self.head = nn.Linear(d, cfg["classes"])

        def forward(self, img, keep):
            b = img.shape[0]
            # (B, C, H, W) -> (B, N, p·p·C), each patch flattened row by row, channels last
            z = img.reshape(b, c, g, p, g, p).permute(0, 2, 4, 3, 5, 1).reshape(b, n, p * p * c)
            emb = z @ self.patch_w + self.patch_b
            x = torch.cat([self.cls.expand(b, 1, d), emb], dim=1) + self.pos
            key_bias = ((keep - 1.0) * 1e4)[:, None, None, :]
            attns, ins = [], []
            for blk in self.blocks:
                x, a, h = blk(x, key_bias)
                attns.append(a)
                ins.append(h)
            logits = self.head(self.ln(x[:, 0]))
            return logits, emb, self.pos.expand(b, n + 1, d), attns, ins

    return TinyViT()


def to_tensor(torch, x):
    return torch.from_numpy(((x.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2).copy()).float()


def random_keep(rng, b, n, ratio_max=0.5, share=0.1):
    """Token-keep masks: a ``share`` of the rows hide a random fraction (up to ``ratio_max``) of
    the patches, so the model still answers from what MAE-style masking leaves; CLS is always kept."""
    keep = np.ones((b, n + 1), np.float32)
    for i in range(b):
        if rng.random() < share:
            hide = rng.permutation(n)[: int(rng.uniform(0, ratio_max) * n)]
            keep[i, 1 + hide] = 0
    return keep


def train(torch, cfg, *, steps, batch, lr, seed, log, pool=12000):
    torch.manual_seed(seed)
    # a fixed pool of scenes, seen in random 90° rotations and flips (every shape class survives both)
    x_all, y_all, _m = shape_batch(pool, seed=1 + seed, size=cfg["image"])
    net = build(torch, cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.15)
    rng = np.random.default_rng(seed)
    n = (cfg["image"] // cfg["patch"]) ** 2
    net.train()
    t0 = time.perf_counter()
    for step in range(steps):
        idx = rng.integers(0, len(x_all), batch)
        x, y = x_all[idx], y_all[idx]
        xt = torch.rot90(to_tensor(torch, x), int(rng.integers(0, 4)), dims=(2, 3))
        if rng.random() < 0.5:
            xt = xt.flip(-1)
        keep = torch.from_numpy(random_keep(rng, batch, n))
        logits = net(xt, keep)[0]
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if log and (step % 100 == 0 or step == steps - 1):
            acc = (logits.argmax(1).numpy() == y).mean()
            print(f"  step {step:5d}/{steps}  loss {loss.item():.4f}  batch acc {acc:.2f}  "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    net.eval()
    return net


def export(torch, net, cfg, path: Path):
    import onnx

    depth = cfg["depth"]
    n = (cfg["image"] // cfg["patch"]) ** 2
    names = (["logits", "patch_embeddings", "pos_embedding"] + [f"attn_{i}" for i in range(depth)]
             + [f"attn_in_{i}" for i in range(depth)])

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, img, keep):
            logits, emb, pos, attns, ins = self.m(img, keep)
            return (logits, emb, pos, *attns, *ins)

    dummy = (torch.zeros(1, cfg["channels"], cfg["image"], cfg["image"]), torch.ones(1, n + 1))
    kwargs = dict(input_names=["image", "token_keep"], output_names=names, opset_version=17,
                  do_constant_folding=False)
    try:
        torch.onnx.export(Wrap(net), dummy, str(path), dynamo=False, **kwargs)
    except TypeError:  # older torch without the dynamo switch
        torch.onnx.export(Wrap(net), dummy, str(path), **kwargs)
    m = onnx.load(str(path))
    inits = {t.name for t in m.graph.initializer}
    for i in range(depth):
        for w in ("wq", "wk", "bq", "bk"):
            if f"m.blocks.{i}.{w}" not in inits and f"blocks.{i}.{w}" not in inits:
                raise RuntimeError(f"blocks.{i}.{w} was not kept as a named initialiser: {sorted(inits)[:8]}…")
    for k, v in {"config": json.dumps(cfg), "classes": json.dumps(list(SHAPE_CLASSES)), "mean": json.dumps(MEAN),
                 "std": json.dumps(STD), "trained_by": "models/train_vit.py"}.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, str(path), save_as_external_data=False)
    for f in path.parent.glob(path.name + ".data"):
        f.unlink()


def evaluate_onnx(path: Path, scenes: int) -> dict:
    """Accuracy and CLS attention on the object, scored with onnxruntime (no PyTorch needed)."""
    from cvexplorer.vit import load_tiny_vit, cls_object_attention

    model = load_tiny_vit(path, device="cpu")
    x, y, masks = shape_batch(scenes, seed=HELD_OUT_SEED, size=model.config["image"])
    hits = 0
    rows = []
    for img, lab, mask in zip(x, y, masks):
        run = model.run(img)
        hits += int(run.label == lab)
        rows.append(cls_object_attention(run, mask))
    last = np.array([r.last_layer_mass for r in rows])
    roll = np.array([r.rollout_mass for r in rows])
    share = np.array([r.share for r in rows])
    return {"accuracy": round(hits / scenes, 4), "scenes": scenes, "seed": HELD_OUT_SEED,
            "cls_attention": {
                "object_patch_share_mean": round(float(share.mean()), 4),
                "last_layer_mass_mean": round(float(last.mean()), 4),
                "rollout_mass_mean": round(float(roll.mean()), 4),
                "last_layer_ratio_mean": round(float((last / share).mean()), 3),
                "last_layer_ratio_median": round(float(np.median(last / share)), 3),
                "rollout_ratio_mean": round(float((roll / share).mean()), 3),
                "scenes_with_ratio_at_least_2": round(float(np.mean(last / share >= 2)), 4),
                "definition": "CLS row of the last layer's attention averaged over heads, restricted to "
                              "patch tokens and renormalised; object patches = patches with any object pixel"}}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-scenes", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "models")
    ap.add_argument("--evaluate", action="store_true", help="no training: re-score the ONNX in --out")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    path = a.out / "vit_tiny.onnx"
    metrics_file = a.out / "vit_metrics.json"
    if a.evaluate:
        metrics = json.loads(metrics_file.read_text())
        metrics["held_out"] = evaluate_onnx(path, a.test_scenes)
        metrics_file.write_text(json.dumps(metrics, indent=2) + "\n")
        if not a.quiet:
            print(json.dumps(metrics["held_out"], indent=2))
        return metrics
    torch = require_torch(a.threads)
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    net = train(torch, CONFIG, steps=a.steps, batch=a.batch, lr=a.lr, seed=a.seed, log=not a.quiet)
    seconds = round(time.perf_counter() - t0, 1)
    export(torch, net, CONFIG, path)
    metrics = {"config": CONFIG, "classes": list(SHAPE_CLASSES),
               "training": {"steps": a.steps, "batch": a.batch, "lr": a.lr, "seed": a.seed, "device": "cpu",
                            "torch": torch.__version__, "seconds": seconds,
                            "params": int(sum(p.numel() for p in net.parameters()))},
               "file": path.name, "bytes": path.stat().st_size}
    try:
        metrics["held_out"] = evaluate_onnx(path, a.test_scenes)
    except ImportError:  # a training environment without onnxruntime: score it from the project's venv
        print("onnxruntime is missing here: run `python models/train_vit.py --evaluate` with the project's "
              "environment to score the exported model.", flush=True)
    metrics_file.write_text(json.dumps(metrics, indent=2) + "\n")
    if not a.quiet:
        print(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    main()
