"""Train the shipped tiny U-Net and its no-skip twin on generated scenes; export both to ONNX.

Needs PyTorch (the optional ``train`` extra: ``pip install -e .[train]``); a CPU is enough.

    python models/train_unet.py                 # the shipped models (a few minutes on 2 cores)
    python models/train_unet.py --steps 5 --out /tmp/x   # a smoke run

Both networks have the configuration ``cvexplorer.unet.TINY_CONFIG`` (same padding, transposed
up-convolutions, no batch-norm so the ONNX initialisers are exactly the convolution weights and
biases that :func:`cvexplorer.unet.shape_trace` counts). The twin is the same network with the
skip concatenations removed. Each ONNX file outputs ``logits`` plus every block's feature map
(``enc0``, ..., ``bottleneck``, ``up2``, ``dec2``, ...), with dynamic height and width (multiples
of ``2**depth``). Metrics on a generated held-out set (different seeds) go to
``models/unet_metrics.json``: IoU and boundary F-score (1 px tolerance) of both models.
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

from cvexplorer.samples.segmentation import segmentation_batch  # noqa: E402
from cvexplorer.unet import TINY_CONFIG, boundary_f_score, feature_names, iou  # noqa: E402
from models._torch import require_torch  # noqa: E402

MEAN = [0.5, 0.5, 0.5]
STD = [0.25, 0.25, 0.25]


def build(torch, cfg: dict, skips: bool):
    nn = torch.nn

    def two(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True),
                             nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            d, b = cfg["depth"], cfg["base_channels"]
            ch = [b * 2 ** i for i in range(d + 1)]
            self.depth, self.skips = d, skips
            self.enc = nn.ModuleList()
            c = cfg["in_channels"]
            for i in range(d):
                self.enc.append(two(c, ch[i]))
                c = ch[i]
            self.pool = nn.MaxPool2d(2)
            self.bottleneck = two(ch[d - 1], ch[d])
            self.up = nn.ModuleList()
            self.dec = nn.ModuleList()
            for i in reversed(range(d)):
                self.up.append(nn.ConvTranspose2d(ch[i + 1], ch[i], 2, stride=2))
                self.dec.append(two(2 * ch[i] if skips else ch[i], ch[i]))
            self.head = nn.Conv2d(ch[0], cfg["num_classes"], 1)

        def forward(self, x, features: bool = False):
            feats = []
            skips_ = []
            for i in range(self.depth):
                x = self.enc[i](x)
                feats.append(x)
                skips_.append(x)
                x = self.pool(x)
            x = self.bottleneck(x)
            feats.append(x)
            for j, i in enumerate(reversed(range(self.depth))):
                x = self.up[j](x)
                feats.append(x)
                if self.skips:
                    x = torch.cat([x, skips_[i]], dim=1)
                x = self.dec[j](x)
                feats.append(x)
            logits = self.head(x)
            return (logits, *feats) if features else logits

    return UNet()


def to_tensor(torch, x, y=None):
    xt = torch.from_numpy(((x.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2).copy()).float()
    if y is None:
        return xt
    return xt, torch.from_numpy(y.astype(np.int64))


def train_one(torch, cfg, skips, data, *, steps, batch, lr, seed, log):
    torch.manual_seed(seed)
    net = build(torch, cfg, skips)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.15)
    x_all, y_all = data
    rng = np.random.default_rng(seed)
    # Foreground is ~7% of pixels: weight it up so thin structures are not ignored.
    weight = torch.tensor([1.0, 3.0])
    net.train()
    t0 = time.perf_counter()
    for step in range(steps):
        idx = rng.integers(0, len(x_all), batch)
        xb, yb = to_tensor(torch, x_all[idx], y_all[idx])
        if rng.random() < 0.5:
            xb, yb = xb.flip(-1), yb.flip(-1)
        loss = torch.nn.functional.cross_entropy(net(xb), yb, weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if log and (step % 50 == 0 or step == steps - 1):
            print(f"  [{'skip' if skips else 'noskip'}] step {step:4d}/{steps}  loss {loss.item():.4f}  "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    net.eval()
    return net


def predict(torch, net, x, batch=16):
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(net(to_tensor(torch, x[i:i + batch])).argmax(1).numpy().astype(np.uint8))
    return np.concatenate(out)


def export(torch, net, cfg, skips, path: Path, size: int):
    import onnx

    names = ["logits", *feature_names(cfg["depth"])]

    class Wrap(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            return self.n(x, features=True)

    dummy = torch.zeros(1, cfg["in_channels"], size, size)
    dyn = {"image": {2: "height", 3: "width"}}
    dyn.update({n: {2: f"h_{n}", 3: f"w_{n}"} for n in names})
    kwargs = dict(input_names=["image"], output_names=names, dynamic_axes=dyn, opset_version=17,
                  do_constant_folding=True)
    try:
        torch.onnx.export(Wrap(net), (dummy,), str(path), dynamo=False, **kwargs)
    except TypeError:  # older torch without the dynamo switch
        torch.onnx.export(Wrap(net), (dummy,), str(path), **kwargs)
    m = onnx.load(str(path))
    # Keep weights inside the single file (no external-data sidecar) and record what it is.
    for k, v in {"config": json.dumps(cfg), "skips": "1" if skips else "0", "mean": json.dumps(MEAN),
                 "std": json.dumps(STD), "trained_by": "models/train_unet.py"}.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, str(path), save_as_external_data=False)
    for f in path.parent.glob(path.name + ".data"):
        f.unlink()


def score(pred: np.ndarray, gt: np.ndarray) -> dict:
    """IoU (mean over scenes and pooled) and boundary F at 0, 1 and 2 px tolerance."""
    return {"iou": round(float(np.mean([iou(p, g) for p, g in zip(pred, gt)])), 4),
            "iou_pooled": round(iou(pred, gt), 4),
            "boundary_f0": round(boundary_f_score(pred, gt, tolerance=0), 4),
            "boundary_f1": round(boundary_f_score(pred, gt, tolerance=1), 4),
            "boundary_f2": round(boundary_f_score(pred, gt, tolerance=2), 4)}


def evaluate_onnx(out: Path, test) -> dict:
    """Score the ONNX files in ``out`` with onnxruntime (no PyTorch needed) on the held-out set."""
    from cvexplorer.unet import UNetModel

    rows = {}
    for key, fname in (("skip", "unet_tiny.onnx"), ("noskip", "unet_noskip.onnx")):
        m = UNetModel(out / fname, device="cpu")
        pred = np.stack([m.run(x, features=False).mask for x in test[0]])
        rows[key] = score(pred, test[1])
    return rows


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=96, help="training crop size (multiple of 8)")
    ap.add_argument("--train-scenes", type=int, default=1500)
    ap.add_argument("--test-scenes", type=int, default=100)
    ap.add_argument("--test-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "models")
    ap.add_argument("--only", choices=["skip", "noskip"], default=None,
                    help="train one of the two (its row is merged into an existing unet_metrics.json)")
    ap.add_argument("--evaluate", action="store_true",
                    help="no training: re-score the ONNX files in --out with onnxruntime, update the metrics")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.evaluate:
        test = segmentation_batch(a.test_scenes, (a.test_size, a.test_size), seed=9001)
        path = a.out / "unet_metrics.json"
        metrics = json.loads(path.read_text())
        for key, row in evaluate_onnx(a.out, test).items():
            metrics["models"][key].update(row)
        metrics["scored_with"] = "onnxruntime (models/train_unet.py --evaluate)"
        path.write_text(json.dumps(metrics, indent=2) + "\n")
        if not a.quiet:
            print(json.dumps(metrics["models"], indent=2))
        return metrics
    torch = require_torch(a.threads)
    cfg = dict(TINY_CONFIG)
    log = not a.quiet
    t0 = time.perf_counter()
    train = segmentation_batch(a.train_scenes, (a.size, a.size), seed=1 + a.seed)
    test = segmentation_batch(a.test_scenes, (a.test_size, a.test_size), seed=9001)
    if log:
        print(f"generated {a.train_scenes} training and {a.test_scenes} held-out scenes "
              f"in {time.perf_counter() - t0:.1f} s", flush=True)
    a.out.mkdir(parents=True, exist_ok=True)
    metrics: dict = {"config": cfg, "held_out": {"scenes": a.test_scenes, "size": a.test_size, "seed": 9001},
                     "training": {"steps": a.steps, "batch": a.batch, "size": a.size,
                                  "scenes": a.train_scenes, "lr": a.lr, "device": "cpu",
                                  "torch": torch.__version__}, "models": {}}
    old = a.out / "unet_metrics.json"
    if a.only and old.is_file():
        prev = json.loads(old.read_text())
        if prev.get("config") == cfg and prev.get("training") == metrics["training"]:
            metrics["models"].update(prev.get("models", {}))
    for skips, fname in ((True, "unet_tiny.onnx"), (False, "unet_noskip.onnx")):
        if a.only and a.only != ("skip" if skips else "noskip"):
            continue
        t1 = time.perf_counter()
        net = train_one(torch, cfg, skips, train, steps=a.steps, batch=a.batch, lr=a.lr, seed=a.seed, log=log)
        pred = predict(torch, net, test[0])
        row = {"file": fname, "skips": skips, **score(pred, test[1]),
               "params": int(sum(p.numel() for p in net.parameters())),
               "train_seconds": round(time.perf_counter() - t1, 1)}
        export(torch, net, cfg, skips, a.out / fname, a.size)
        row["bytes"] = (a.out / fname).stat().st_size
        metrics["models"]["skip" if skips else "noskip"] = row
        if log:
            print(json.dumps(row), flush=True)
        (a.out / "unet_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


if __name__ == "__main__":
    main()
