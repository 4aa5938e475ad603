"""Vision Transformer benchmarks (engine only).

1. The shipped tiny ViT (models/vit_tiny.onnx) on one 64×64 scene with every attention map, the patch
   and position embeddings as outputs (``TinyViT.run``), against the same session asked for the
   logits only: what exporting the attention costs.
2. ``masked_prediction`` (two runs: every patch, then 75 % hidden), against one run.
3. ``patchify`` of a 1280×960 photo in 16-pixel patches, against a bare ``reshape``/``transpose`` of
   an image that needs no padding (the cost of the zero padding copy).
4. Attention rollout over the tiny model's layers, against the head average it starts from.

Run: ``.venv/bin/python benchmarks/vit.py [--quick]``.
"""

from __future__ import annotations

import sys

import numpy as np

from cvexplorer import vit as V
from cvexplorer.bench import median_ms


def run(quick: bool = False) -> list[dict]:
    reps = 10 if quick else 50
    rows: list[dict] = []
    m = V.load_tiny_vit()
    scene = V.shape_scene(7)
    x = ((scene.image.astype(np.float32) / 255 - m.mean) / m.std).transpose(2, 0, 1)[None].copy()
    keep = np.ones((1, m.tokens), np.float32)
    full = median_ms(lambda: m.run(scene.image), reps, warmup=2)
    logits = median_ms(lambda: m.session.run(["logits"], {"image": x, "token_keep": keep}), reps, warmup=2)
    rows.append({"what": f"tiny ViT run, 64×64, logits + {m.config['depth']} attention maps + embeddings "
                         f"({m.device})", "ours_ms": full, "ref": "same session, logits only", "ref_ms": logits,
                 "ratio": full / logits, "accuracy": f"predicts {m.run(scene.image).name} for a {scene.name}"})
    masked = median_ms(lambda: V.masked_prediction(scene.image, 0.75, model=m), reps, warmup=2)
    rows.append({"what": "masked_prediction (full + 75 % hidden)", "ours_ms": masked, "ref": "one run",
                 "ref_ms": full, "ratio": masked / full, "accuracy": "n/a"})
    photo = np.random.default_rng(0).integers(0, 256, (960, 1270, 3), dtype=np.uint8)
    even = photo[:, :1264]
    ours = median_ms(lambda: V.patchify(photo, 16), reps, warmup=1)
    bare = median_ms(lambda: np.ascontiguousarray(even.reshape(60, 16, 79, 16, 3).transpose(0, 2, 1, 3, 4)),
                     reps, warmup=1)
    ok = bool((V.unpatchify(V.patchify(photo, 16), 960, 1270) == photo).all())
    rows.append({"what": "patchify 960×1270 in 16-px patches (pads to 960×1280)", "ours_ms": ours,
                 "ref": "bare reshape of 960×1264", "ref_ms": bare, "ratio": ours / bare,
                 "accuracy": f"round trip exact: {ok}"})
    run_ = m.run(scene.image)
    roll = median_ms(lambda: V.rollout(run_.attn), reps, warmup=1)
    mean = median_ms(lambda: run_.attn.mean(axis=1), reps, warmup=1)
    rows.append({"what": f"rollout over {run_.layers} layers of {run_.attn.shape[-1]} tokens", "ours_ms": roll,
                 "ref": "head average only", "ref_ms": mean, "ratio": roll / mean, "accuracy": "n/a"})
    return rows


if __name__ == "__main__":
    from cvexplorer.bench import print_rows

    print_rows(run(quick="--quick" in sys.argv))
