"""The sentences of the Anchors panel: the headline counts, the caption of the level shown, the
anchor-to-box card and the YOLO head's bookkeeping. Formatting only; the numbers come from the engine."""

from __future__ import annotations

from cvexplorer import anchors as A
from cvexplorer.text import fmt_count

__all__ = ["headline", "caption", "pair_card", "yolo_card", "PAIR_FORMULA"]

NBSP = "\u00a0"  # inside a term, so a narrow card wraps between terms only
PAIR_FORMULA = "  ".join(t.replace(" ", NBSP) for t in ("tx=Δx/wa", "ty=Δy/ha", "tw=ln(wg/wa)", "th=ln(hg/ha)"))


def _swatch(theme, role: str, text: str) -> str:
    return f'<span style="color:{theme.color(role)}">■</span>&nbsp;{text}'


def _counts(theme, c: A.LabelCounts, rule: str, *, named: bool = True) -> str:
    """The counts behind colour swatches; ``named=False`` leaves the words to the headline's swatches."""
    parts = ([("positive", c.positive, "candidate cells"), ("negative", c.negative, "background")] if rule == "centre"
             else [("positive", c.positive, "positive"), ("ignored", c.ignored, "ignored"),
                   ("negative", c.negative, "negative")])
    return " · ".join(_swatch(theme, role, fmt_count(n) + (f" {word}" if named else "")) for role, n, word in parts)


def headline(theme, p: A.Preset, res: A.AnchorLabels) -> str:
    """The counts over every level (the picture shows one level: the caption gives that level's)."""
    what = "predictions" if p.anchor_free else "anchors"
    head = f"<b>{fmt_count(len(res.boxes))} {what}</b> (all {len(p.strides)} levels)" if len(p.strides) > 1 else \
        f"<b>{fmt_count(len(res.boxes))} {what}</b>"
    if not len(res.gt):
        text = head + ": drag on the image to draw a box."
    else:
        text = head + ": " + _counts(theme, res.counts, p.rule)
        m = res.match
        if m is not None and m.low_quality.any():
            text += " · " + _swatch(theme, "padding", f"{int(m.low_quality.sum())} by the low-quality rule")
        elif m is not None and m.orphan.any():
            j = next(i for i, o in enumerate(m.orphan) if o)
            text += "<br>" + _swatch(theme, "padding", f"box {j + 1} has no positive anchor (best IoU "
                                                       f"{m.best_iou[j]:.2f}): lost without the low-quality rule")
    return text


def caption(theme, p: A.Preset, res: A.AnchorLabels, level: int, note: str, pinned: bool, fit: A.Letterbox) -> str:
    """The level shown (its grid, count and own labels), the rule, what the view means, and how the photo
    entered the input: three or four short lines."""
    s = p.strides[level]
    cols, rows = A.grid_shape(res.image_size, s)
    per = res.per_location[level]
    first = (f"<b>{p.names()[level]}</b> shown: {cols}×{rows} cells × {per} = "
             f"<b>{fmt_count(res.level_counts[level])}</b>")
    if len(res.gt):
        first += ", here " + _counts(theme, res.level_label_counts(level), p.rule, named=False)
    if p.rule == "yolov3":
        rule = "Centre cell × best-shape anchor: positive; other IoU &gt; 0.5: ignored."
    elif p.rule == "centre":
        rule = "Cells whose centre lies in a box: candidates (the assigner keeps the top 10)."
    else:
        rule = (f"IoU ≥ {res.pos_iou:.2f} positive, &lt; {res.neg_iou:.2f} negative"
                + (", + each box's best." if res.allow_low_quality else "."))
    if p.offset != 0.5:
        rule += f" Centres at (c + {p.offset:g})·s, as mmdetection lays them out."
    if note:
        legend = note
    elif pinned and len(res.gt):
        legend = _swatch(theme, "current", "pinned cell")
    else:
        legend = _swatch(theme, "current", f"one cell's {per} anchors: hover a cell, click to pin it")
    lines = [first, rule + " " + legend]
    if fit.stretched:
        (pw, ph), (w, h) = fit.photo_size, fit.input_size
        lines.append(f"Photo {pw}×{ph} letterboxed into {w}×{h}, not stretched.")
    return "<br>".join(lines)


def pair_card(pair: A.CellPair | None, n_anchors: int, has_boxes: bool) -> tuple[str, str, str]:
    """(substituted, result, meaning) of the card that pairs the shown cell's anchor with a box."""
    if pair is None:
        why = "Draw a box (drag on the image) to see the offsets." if not has_boxes else "Click a cell."
        return "", "—", f"This cell has {n_anchors} anchors. {why}"
    a, g, t, d = pair.anchor_box, pair.gt_box, pair.deltas, pair.decoded
    meaning = (f"Anchor #{pair.anchor} {a[2] - a[0]:.0f}×{a[3] - a[1]:.0f} at ({(a[0] + a[2]) / 2:.0f}, "
               f"{(a[1] + a[3]) / 2:.0f}) ↔ box {pair.box + 1} {g[2] - g[0]:.0f}×{g[3] - g[1]:.0f}, "
               f"IoU {pair.iou:.3f}. The anchor moved by these offsets (decoded) is ({d[0]:.1f}, {d[1]:.1f}, "
               f"{d[2]:.1f}, {d[3]:.1f}): box {pair.box + 1} exactly. Drawn thick and dashed.")
    substituted = "  ".join(f"{n}={v:+.3f}" for n, v in zip(("tx", "ty", "tw", "th"), t))
    result = f"→ box {pair.box + 1}"
    return substituted, result, meaning


def yolo_card(p: A.Preset, res: A.AnchorLabels) -> tuple[str, str, str, str]:
    """(formula, substituted, result, meaning) of a YOLO head at this input size: how many predictions,
    how many numbers each, and which cell learns each box."""
    per = 3 if p.rule == "yolov3" else 1
    d = A.yolo_bookkeeping(res.image_size, p.strides, per, 80, objectness=p.rule == "yolov3")
    terms = " + ".join(f"{c}²" if c == r else f"{c}×{r}" for c, r in d.grids)
    layout = "tx ty tw th | obj | p0 … p79" if d.vector == 85 else "l t r b | p0 … p79"
    formula = "N = A × Σ cols·rows"
    substituted = f"{d.per_location} × ({terms})"
    result = f"N = {fmt_count(d.predictions)}"
    resp = [f"box {r.box + 1} → {p.names()[r.level]} cell ({r.col}, {r.row})"
            + (f" anchor {r.anchor}" if per > 1 else "") for r in res.responsible[:6]]
    meaning = (f"{fmt_count(d.predictions)} predictions × {d.vector} numbers each = {fmt_count(d.outputs)} "
               f"outputs; vector [{layout}]."
               + ("<br>" + "<br>".join(resp) if resp else ""))
    return formula, substituted, result, meaning
