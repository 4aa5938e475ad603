"""Train the shipped tiny YOLOv1-style detector on generated scenes and export it to ONNX.

Needs PyTorch (the optional ``train`` extra); a CPU is enough (a few minutes on 2 cores).

    python models/train_detector.py                     # the shipped model and its metrics
    python models/train_detector.py --steps 5 --out /tmp/x   # a smoke run

The network: a stride-2 3×3 convolution and three 3×3 convolutions with 2×2 max-pools (batch-norm,
leaky ReLU 0.1) bring a 112×112 image down to 7×7, then a 3×3 and a 1×1 convolution give B·5 + C = 13 numbers per cell (S = 7,
B = 2, C = 3: square, disc, triangle). The paper's network ends in fully-connected layers; this
one stays convolutional to stay small, but the output tensor and the loss are the paper's.
The export applies the output activations (sigmoid on x, y, √w, √h, confidence; softmax on the
class numbers), so the ONNX output ``raw`` is (1, 7, 7, 13) in the layout of
:mod:`cvexplorer.detect.layout`; a second output ``boxes`` (1, 98, 4) holds the boxes the graph
itself decodes, which the tests compare with :func:`cvexplorer.detect.decode`.

Training minimises :func:`cvexplorer.detect.yolo_loss_terms`'s five sum-squared terms
(λcoord = 5, λnoobj = 0.5, the responsible predictor chosen by IoU). Held-out scenes (seeds from
9001) are scored with :func:`cvexplorer.detect.evaluate` (COCO AP@[.5:.95], AP50, AP75) after
the decode → score > 0.05 → per-class NMS 0.5 → top-100 pipeline; the figures go to
``models/detector_metrics.json``.
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

from cvexplorer.detect.evaluate import evaluate  # noqa: E402
from cvexplorer.detect.layout import LAMBDA_COORD, LAMBDA_NOOBJ, cell_of, decode, encode, pipeline  # noqa: E402
from cvexplorer.detect.scenes import CLASS_NAMES, detection_dataset  # noqa: E402
from cvexplorer.detect.results import to_coco_results  # noqa: E402
from models._torch import require_torch  # noqa: E402

S, B, C, SIZE = 7, 2, len(CLASS_NAMES), 112
MEAN, STD = 0.5, 0.25
HELD_OUT_SEED = 9001


def build(torch, width: int = 16):
    nn = torch.nn

    def block(ci, co, stride=1):
        return [nn.Conv2d(ci, co, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(co), nn.LeakyReLU(0.1)]

    layers, c = block(3, width, 2), width  # 112 → 56 in the first layer: the cheapest place to shrink
    for co in (2 * width, 4 * width, 4 * width):
        layers += block(c, co) + [nn.MaxPool2d(2)]
        c = co
    layers += block(c, 8 * width) + [nn.Conv2d(8 * width, B * 5 + C, 1)]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*layers)

        def forward(self, x):
            y = self.body(x).permute(0, 2, 3, 1)  # (N, S, S, B·5 + C)
            box = torch.sigmoid(y[..., :5 * B])
            cls = torch.softmax(y[..., 5 * B:], dim=-1)
            return torch.cat([box, cls], -1)

    return Net()


def targets(scenes):
    """Per scene: object mask (S, S), target (S, S, 4) x, y, √w, √h, target box (S, S, 4) xyxy in
    0..1 units, class (S, S)."""
    n = len(scenes)
    obj = np.zeros((n, S, S), np.float32)
    tgt = np.zeros((n, S, S, 4), np.float32)
    box = np.zeros((n, S, S, 4), np.float32)
    cls = np.zeros((n, S, S), np.int64)
    for k, sc in enumerate(scenes):
        if not len(sc.boxes):
            continue
        cells = cell_of(sc.boxes, S, (SIZE, SIZE))
        enc = encode(sc.boxes, sc.classes, S, C, (SIZE, SIZE))
        for (r, c), e, b, cl in zip(cells, enc, sc.boxes, sc.classes):
            obj[k, r, c], tgt[k, r, c], box[k, r, c], cls[k, r, c] = 1, e, b / SIZE, cl
    return obj, tgt, box, cls


def decode_torch(torch, out):
    """The graph's own decode (the tests compare it with cvexplorer.detect.decode): xyxy in pixels."""
    p = out[..., :5 * B].reshape(out.shape[0], S, S, B, 5)
    rows = torch.arange(S, dtype=out.dtype).view(1, S, 1, 1)
    cols = torch.arange(S, dtype=out.dtype).view(1, 1, S, 1)
    cx = (cols + p[..., 0]) / S
    cy = (rows + p[..., 1]) / S
    w, h = p[..., 2] ** 2, p[..., 3] ** 2
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)  # (N, S, S, B, 4) in 0..1


def yolo_loss(torch, out, obj, tgt, box, cls):
    """The paper's five sum-squared terms, summed over the grid, averaged over the batch."""
    p = out[..., :5 * B].reshape(out.shape[0], S, S, B, 5)
    pb = decode_torch(torch, out)
    tb = box.unsqueeze(3)
    iw = (torch.minimum(pb[..., 2], tb[..., 2]) - torch.maximum(pb[..., 0], tb[..., 0])).clamp(min=0)
    ih = (torch.minimum(pb[..., 3], tb[..., 3]) - torch.maximum(pb[..., 1], tb[..., 1])).clamp(min=0)
    inter = iw * ih
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    iou = (inter / (area(pb) + area(tb) - inter + 1e-9)).detach()
    resp = torch.nn.functional.one_hot(iou.argmax(-1), B).float() * obj.unsqueeze(-1)
    t = tgt.unsqueeze(3)
    coord = (resp * ((p[..., 0] - t[..., 0]) ** 2 + (p[..., 1] - t[..., 1]) ** 2)).sum()
    size = (resp * ((p[..., 2] - t[..., 2]) ** 2 + (p[..., 3] - t[..., 3]) ** 2)).sum()
    conf_obj = (resp * (p[..., 4] - iou) ** 2).sum()
    conf_noobj = ((1 - resp) * p[..., 4] ** 2).sum()
    onehot = torch.nn.functional.one_hot(cls, C).float()
    klass = (obj.unsqueeze(-1) * (out[..., 5 * B:] - onehot) ** 2).sum()
    total = LAMBDA_COORD * (coord + size) + conf_obj + LAMBDA_NOOBJ * conf_noobj + klass
    return total / out.shape[0]


def to_input(rgb: np.ndarray) -> np.ndarray:
    return ((rgb.astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2) if rgb.ndim == 4 else \
        ((rgb.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1)


def held_out_metrics(raws: np.ndarray, gt: dict) -> dict:
    dets = []
    for k, raw in enumerate(raws, start=1):
        d = decode(raw, S, B, C, image_size=(SIZE, SIZE))
        p = pipeline(d, conf_threshold=0.05, iou_threshold=0.5, top_k=100)
        dets += to_coco_results(d, p.kept, image_id=k)
    r = evaluate(gt, dets)
    return {"ap": round(r.ap, 4), "ap50": round(r.ap50, 4), "ap75": round(r.ap75, 4),
            "class_ap": {n: round(float(np.nanmean(r.class_ap[:, k])), 4) for k, n in enumerate(r.category_names)},
            "detections": len(dets), "objects": len(gt["annotations"])}


def export(torch, net, path: Path):
    import onnx

    class Wrap(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, x):
            raw = self.n(x)
            return raw, decode_torch(torch, raw).reshape(x.shape[0], S * S * B, 4) * SIZE

    dummy = torch.zeros(1, 3, SIZE, SIZE)
    kwargs = dict(input_names=["image"], output_names=["raw", "boxes"], opset_version=17, do_constant_folding=True)
    try:
        torch.onnx.export(Wrap(net), (dummy,), str(path), dynamo=False, **kwargs)
    except TypeError:  # older torch without the dynamo switch
        torch.onnx.export(Wrap(net), (dummy,), str(path), **kwargs)
    m = onnx.load(str(path))
    meta = {"S": str(S), "B": str(B), "C": str(C), "size": str(SIZE), "classes": json.dumps(list(CLASS_NAMES)),
            "mean": str(MEAN), "std": str(STD), "activations": "sigmoid(x, y, sqrt_w, sqrt_h, conf), softmax(classes)",
            "trained_by": "models/train_detector.py"}
    for k, v in meta.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, str(path), save_as_external_data=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--train-scenes", type=int, default=4000)
    ap.add_argument("--test-scenes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)  # 2 threads lose to contention on a shared 2-core machine
    ap.add_argument("--out", type=Path, default=ROOT / "models")
    a = ap.parse_args(argv)
    torch = require_torch(a.threads)
    torch.manual_seed(a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train, _ = detection_dataset(a.train_scenes, seed=1 + a.seed * 100_000, size=(SIZE, SIZE))
    test, test_gt = detection_dataset(a.test_scenes, seed=HELD_OUT_SEED, size=(SIZE, SIZE))
    x_all = torch.from_numpy(to_input(np.stack([s.rgb for s in train])))
    obj, tgt, box, cls = (torch.from_numpy(v) for v in targets(train))
    print(f"{len(train)} training scenes in {time.time() - t0:.1f} s", flush=True)
    net = build(torch)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=max(a.steps, 1), pct_start=0.1)
    rng = np.random.default_rng(a.seed)
    net.train()
    for step in range(a.steps):
        idx = torch.from_numpy(rng.integers(0, len(train), a.batch))
        xb = x_all[idx]
        ob, tg, bx, cl = obj[idx], tgt[idx], box[idx], cls[idx]
        if rng.random() < 0.5:  # mirror left-right: x → 1 − x, boxes mirrored, cells mirrored
            xb, ob, tg, cl = xb.flip(3), ob.flip(2), tg.flip(2).clone(), cl.flip(2)
            tg[..., 0] = torch.where(ob > 0, 1 - tg[..., 0], tg[..., 0])
            bx = bx.flip(2).clone()
            bx[..., [0, 2]] = torch.where(ob.unsqueeze(-1) > 0, 1 - bx[..., [2, 0]], bx[..., [0, 2]])
        loss = yolo_loss(torch, net(xb), ob, tg, bx, cl)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == a.steps - 1:
            print(f"step {step:5d}  loss {loss.item():.3f}  {time.time() - t0:.0f} s", flush=True)
    net.eval()
    with torch.no_grad():
        raws = net(torch.from_numpy(to_input(np.stack([s.rgb for s in test])))).numpy()
    metrics = {"config": {"S": S, "B": B, "C": C, "size": SIZE, "classes": list(CLASS_NAMES)},
               "training": {"steps": a.steps, "batch": a.batch, "lr": a.lr, "scenes": a.train_scenes, "seed": a.seed,
                            "device": "cpu", "torch": torch.__version__, "seconds": round(time.time() - t0)},
               "held_out": {"scenes": a.test_scenes, "seed": HELD_OUT_SEED, "size": SIZE,
                            "pipeline": "score > 0.05, per-class NMS IoU 0.5, top-100"},
               "metrics": held_out_metrics(raws, test_gt)}
    export(torch, net, a.out / "detector_tiny.onnx")
    (a.out / "detector_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics["metrics"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
