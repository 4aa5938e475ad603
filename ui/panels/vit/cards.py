"""The sentences and numbers of the ViT lab's result card, one builder per mode (formatting only:
every number comes from :mod:`cvexplorer.vit`)."""

from __future__ import annotations

from cvexplorer import vit as V
from cvexplorer.text import fmt_bytes, fmt_count, fmt_params

__all__ = ["patches_card", "attention_card", "positions_card", "windows_card", "masking_card"]


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def patches_card(pc: V.PatchCost, model: str):
    g, c = pc.grid, pc.cost
    d = c.spec.width
    formula = "T = ⌈H/P⌉ · ⌈W/P⌉ + 1 (CLS)"
    sub = f"⌈{g.height}/{g.patch}⌉ · ⌈{g.width}/{g.patch}⌉ + 1 = {g.rows} · {g.cols} + 1"
    result = f"{fmt_count(g.tokens)} tokens"
    ratio = f"{pc.ratio:.3g}×" if pc.ratio >= 1 else f"1/{1 / pc.ratio:.3g}"
    meaning = (f"Each patch is {g.patch}×{g.patch}×{g.channels} = {fmt_count(g.values_per_patch)} numbers. "
               f"One attention layer compares T² = {fmt_count(g.tokens ** 2)} pairs per head. "
               f"With {model}'s width {d}: QKᵀ and A·V take 2·T²·D = {fmt_count(c.attn_macs)} multiply-adds per "
               f"layer, and the weights of its {c.spec.heads} heads fill {fmt_bytes(c.attn_bytes)} (float32). "
               f"That is {ratio} the attention of {pc.reference_patch}-pixel patches "
               f"({fmt_count(pc.reference_tokens)} tokens).")
    caption = (f"filled: {fmt_count(g.tokens)}² now · outline: {fmt_count(pc.reference_tokens)}² "
               f"at {pc.reference_patch} px · {ratio}")
    return "Tokens and attention cost", formula, sub, result, meaning, caption


def attention_card(run: V.ViTRun, query: str, selected, layer: int, head: int, on_cls: float, on_object):
    who = {"cls": "the CLS token", "rollout": "the CLS token, through every layer"}.get(query)
    if who is None:
        r, c = divmod(int(selected), run.cols)
        who = f"patch (row {r + 1}, column {c + 1})"
    d = run.attn_in.shape[-1] // run.heads
    if query == "rollout":
        formula = "R = Â_L ⋯ Â_1,  Â = ½·mean_h(A) + ½·I"
        sub = f"{run.layers} layers, {run.heads} heads averaged"
    else:
        formula = "A = softmax(Q Kᵀ / √d)"
        which = "mean of the heads" if head < 0 else f"head {head + 1}"
        sub = f"d = {d}; layer {layer + 1} of {run.layers}, {which}"
    result = f"{run.name} ({_pct(run.probs[run.label])})"
    meaning = f"Where {who} looks. {_pct(on_cls)} stays on the CLS token."
    if on_object is not None:
        mass, share = on_object
        meaning += (f" {_pct(mass)} of the rest lands on the shape's patches (dashed), which are "
                    f"{_pct(share)} of the picture.")
    return "Attention of the tiny ViT", formula, sub, result, meaning


def positions_card(run: V.ViTRun, near_far: tuple[float, float]):
    near, far = near_far
    formula = "cos(pᵢ, pⱼ) = pᵢ·pⱼ / (|pᵢ| |pⱼ|)"
    sub = f"{run.rows}×{run.cols} maps of {run.rows}×{run.cols}; D = {run.pos.shape[1]}"
    result = f"neighbours {near:.2f}, far {far:.2f}"
    meaning = ("Tile (r, c) shows how alike patch (r, c)'s position vector is to every other one (red: alike, "
               "blue: opposite). The model was only given a list of 64 slots; a higher similarity between "
               "neighbours than between far patches means it learned where each slot sits in 2-D.")
    return "Learned position embeddings", formula, sub, result, meaning


def windows_card(wc: V.WindowCost, windowed: bool, sam: bool):
    formula = "global N²   vs   windows · w⁴"
    sub = (f"({wc.rows}·{wc.cols})² = {fmt_count(wc.global_pairs)}   vs   "
           f"{wc.windows} · {wc.window}⁴ = {fmt_count(wc.windowed_pairs)}")
    result = f"{wc.saving:.1f}× fewer pairs" if wc.saving >= 1 else f"{1 / wc.saving:.1f}× more pairs"
    where = ("This is SAM's image encoder: 1024×1024 pixels, 16-pixel patches, 64×64 tokens, 14×14 windows. "
             "It uses windows in 28 of its 32 blocks and global attention in the other 4. "
             if sam else "")
    seen = "every token" if not windowed else f"only the {wc.window}×{wc.window} tokens of its window"
    meaning = (where + f"Click a token: it sees {seen}. The grid is padded up to whole windows "
               f"({wc.windows} of them).")
    return "Global against windowed attention", formula, sub, result, meaning


def masking_card(m: V.MaskedRun):
    n = m.draw.visible.size
    formula = "hidden tokens: removed from every softmax"
    sub = f"{n - m.draw.hidden} of {n} patches visible ({_pct(m.draw.hidden / n)} hidden)"
    result = f"{m.masked.name} ({_pct(m.masked.probs[m.masked.label])})"
    meaning = (f"With every patch the model says {m.full.name} ({_pct(m.full.probs[m.full.label])}). "
               "MAE pre-trains an encoder on only the visible quarter; here the classifier simply answers from "
               "what is left, so it fails when the hidden patches covered the shape. "
               f"The model has {fmt_params(int(V.vit_cost(V.preset('tiny (this app)')).params))} parameters.")
    return "MAE-style random masking", formula, sub, result, meaning
