"""What the NMS panel draws: the boxes of one step on the picture, and the answer strip under it.

Everything drawn comes from one :class:`~cvexplorer.boxes.NmsOverview`: its boxes, scores and trace
belong together, so a step is always drawn over the boxes it was computed for.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFrame, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

_FREE = QSizePolicy.Policy.Ignored  # views take the share their stretch gives, not their size hint

from cvexplorer import boxes as B
from cvexplorer.boxes import NmsOverview

from ...widgets.canvas import ImageCanvas, rects_path
from ...widgets.text import ElidedLabel, WrapLabel

__all__ = ["ROLE", "DRAW_MAX", "StepPainter", "AnswerStrip", "MainView", "NmsCard"]

#: State code -> colour role (shared with the table).
ROLE = {B.WAITING: "waiting", B.CURRENT: "current", B.SUPPRESSED: "suppressed", B.KEPT: "kept",
        B.BELOW_SCORE: "ignored"}
# Stroke width (share of the theme's line width) and stacking order per state: the pick on top,
# suppressed and below-threshold boxes thin and dashed so the survivors read at a glance.
_WIDTH = {B.CURRENT: 1.8, B.KEPT: 1.0, B.WAITING: 1.0, B.SUPPRESSED: 0.5, B.BELOW_SCORE: 0.5}
_Z = {B.CURRENT: 16, B.KEPT: 14, B.WAITING: 13, B.SUPPRESSED: 12, B.BELOW_SCORE: 11}
_DASHED = (B.SUPPRESSED, B.BELOW_SCORE)
#: More boxes than this in one state are drawn with hairlines: a thick outline costs Qt ~10 µs a box
#: (186 waiting boxes at 2 px: 1.8 ms), a wide dash about 1 µs a dash, and hundreds of thick strokes
#: are clutter. The kept boxes, the answer, stay thick the longest.
_CROWD = {B.KEPT: 200, B.WAITING: 60, B.SUPPRESSED: 40, B.BELOW_SCORE: 40}
#: Outlines drawn per state: beyond this, the best-scoring ones, and the caption says so. Painting
#: is bound by pixels (about 1.4 µs per hairline box at 1600×1000): 6,000 waiting boxes of a
#: detector's raw output took a step from 8 to 21 ms, and drawn over each other they read as a blur.
DRAW_MAX = 1000
#: Labels written per step (the largest IoUs first; more is clutter on a projector).
MAX_LABELS = 12
#: Label layers: name -> (text colour, background colour role).
LABELS = {"iou_hot": ("white", "suppressed"), "iou_cold": ("black", "white"),
          "pick": ("black", "current"), "kept": ("black", "kept")}


#: How the caption names the boxes of a state.
STATE_WORDS = {B.WAITING: "waiting", B.CURRENT: "current", B.SUPPRESSED: "suppressed", B.KEPT: "kept",
               B.BELOW_SCORE: "below threshold"}


def _best(sel: np.ndarray, by_score: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` highest-scoring of the boxes in mask ``sel``, as a mask; ``by_score`` lists every box,
    best first."""
    out = np.zeros_like(sel)
    out[by_score.compress(sel.take(by_score))[:k]] = True
    return out


def label_positions(canvas: ImageCanvas, rects: np.ndarray, *, image_height: float, scale: float = 1.0,
                    chars: float = 6.5, occupied=()) -> list[tuple[float, float]]:
    """Bottom-left corners for labels, moved up or down so that labels never sit on each other
    (layout only: label sizes are converted from screen pixels to image pixels)."""
    try:
        px, py = canvas.vb.viewPixelSize()
    except Exception:  # noqa: BLE001 - view not laid out yet
        px = py = 1.0
    lh = canvas.theme.font_pt * 1.9 * py * scale     # label height in image pixels
    lw = canvas.theme.font_pt * chars * px * scale   # label width in image pixels
    fixed = [(float(x), float(y)) for x, y in occupied]
    placed: list[tuple[float, float]] = []
    for x0, _y0, _x1, y1 in rects:
        x = float(x0) + 2 * px
        base = min(float(y1), image_height)
        y = base
        near = [qy for qx, qy in placed + fixed if abs(x - qx) < lw]  # only these can overlap it
        # the box's bottom edge first, then alternately above and below it, inside the image
        for cand in [base] + [base + d * lh for k in range(1, 30) for d in (-k, k)]:
            if not (lh <= cand <= image_height):
                continue
            y = cand
            if all(abs(y - qy) >= lh for qy in near):
                break
        placed.append((x, y))
    return placed


class StepPainter:
    """Draws one trace step on the main canvas: one path per state, the boxes suppressed by this
    pick, and batched labels (IoU with the pick, the pick's score, the final scores)."""

    def __init__(self, canvas: ImageCanvas) -> None:
        self.canvas = canvas
        self._drawn: dict[str, tuple] = {}  # layer -> (boxes, (theme, width, selection)) it shows
        self._by_score: tuple = (None, None)  # (scores, their order, best first): once per input

    def reset_labels(self) -> None:
        """Forget the label batches (their font belongs to the theme they were made in)."""
        for name in LABELS:
            self.canvas.clear_layer(name)

    def _order(self, scores: np.ndarray) -> np.ndarray:
        if self._by_score[0] is not scores:  # holding the array: a new one never passes for it
            self._by_score = (scores, np.argsort(-scores, kind="stable"))
        return self._by_score[1]

    def draw(self, ov: NmsOverview, step, *, final: bool, image_height: float) -> str:
        """Draw ``step``; returns what was left undrawn, in words ('' when every box is drawn)."""
        cv, b = self.canvas, ov.boxes
        line = cv.theme.line_px
        states = np.asarray(step["states"])
        undrawn = []
        for code, role in ROLE.items():
            sel = states == code
            name = f"state{code}"
            if not sel.any():
                cv.clear_layer(name)
                continue
            cur = code == B.CURRENT
            n_sel = int(np.count_nonzero(sel))
            if n_sel > DRAW_MAX:
                sel = _best(sel, self._order(ov.scores), DRAW_MAX)
                undrawn.append(f"best {DRAW_MAX:,} of {n_sel:,} {STATE_WORDS[code]}")
            width = line * _WIDTH[code] if cur or n_sel <= _CROWD[code] else 1.0
            shows = (cv.theme.name, width, sel.tobytes())
            prev = self._drawn.get(name)
            if prev is not None and prev[0] is b and prev[1] == shows and cv.layer_items(name):
                continue  # most states change by a few boxes a step, some not at all: keep that path
            cv.set_path(name, rects_path(b[sel]), color=role, width=width, dash=code in _DASHED,
                        fill="current" if cur else None, alpha=0.18 if cur else None, z=_Z[code], crisp=True)
            self._drawn[name] = (b, shows)  # holding b: a new array never passes for it
        soft = ov.stepping == "soft"
        now = np.asarray(step["dropped"] if soft else step["suppressed_now"])
        if len(now):  # suppressed by this pick: full-width dashes (earlier ones stay thin)
            if len(now) > DRAW_MAX:
                mask = np.zeros(len(b), bool)
                mask[now] = True
                now = np.flatnonzero(_best(mask, self._order(ov.scores), DRAW_MAX))
            cv.set_path("supp_now", rects_path(b[now]), color="suppressed", width=line * 1.2, dash=True, z=15,
                        crisp=True)
        else:
            cv.clear_layer("supp_now")
        labels = {name: [] for name in LABELS}
        cur = int(step["current"])
        if cur >= 0:
            nb, ious = np.asarray(step["neighbours"]), np.asarray(step["ious"])
            order = np.argsort(-ious, kind="stable")[:MAX_LABELS]
            occupied = [(b[cur, 0], b[cur, 1])]
            if soft:  # every overlap decays the score: show before -> after
                sb, sa = np.asarray(step["scores_before"]), np.asarray(step["scores_after"])
                texts = [f"IoU {ious[o]:.2f}: {sb[nb[o]]:.2f}→{sa[nb[o]]:.2f}" for o in order]
                gone = [sa[nb[o]] < ov.soft_min for o in order]
                pick_score, chars = sb[cur], 13
            else:
                texts = [f"IoU {ious[o]:.2f}" for o in order]
                gone = [ious[o] > ov.iou_threshold for o in order]
                pick_score, chars = ov.scores[cur], 6.5
            pos = label_positions(cv, b[nb[order]], image_height=image_height, chars=chars, occupied=occupied)
            for (x, y), text, hot in zip(pos, texts, gone):
                labels["iou_hot" if hot else "iou_cold"].append((x, y, text))
            labels["pick"] = [(b[cur, 0], b[cur, 1], f"pick {pick_score:.2f}")]
        elif final:
            kept = np.asarray(step["kept"])[:MAX_LABELS]
            final_scores = np.asarray(step["scores_after"]) if soft else ov.scores
            labels["kept"] = [(b[j, 0], b[j, 1], f"{final_scores[j]:.2f}") for j in kept]
        for name, (color, background) in LABELS.items():
            cv.set_texts(name, labels[name], color=color, background=background, anchor=(0, 1))
        return "drawn: " + ", ".join(undrawn) if undrawn else ""


class AnswerStrip(QWidget):
    """The answer, under the picture: the detector's post-processing order with the count after each
    stage, and greedy, Soft-NMS and class-aware NMS side by side on the same boxes."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.pipeline = WrapLabel("", rich=True)
        self.compare: list[tuple[ElidedLabel, ImageCanvas]] = []
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for _ in range(3):
            col = QVBoxLayout()
            col.setSpacing(0)
            title = ElidedLabel("")
            cv = ImageCanvas(theme=theme, max_display=800)  # a thumbnail: a smaller copy paints faster
            cv.setSizePolicy(_FREE, _FREE)
            col.addWidget(title)
            col.addWidget(cv, 1)
            row.addLayout(col, 1)
            self.compare.append((title, cv))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.pipeline)
        lay.addLayout(row, 1)

    def set_image(self, rgb: np.ndarray) -> None:
        for _, cv in self.compare:
            cv.set_image(rgb, autorange=True)

    def show_answer(self, ov: NmsOverview, class_name, multi: bool, muted: str) -> None:
        """Fill the strip from ``ov``; ``class_name(id)`` names a class (written when ``multi``)."""
        parts = [f"{name}: <b>{len(idx)}</b>" for name, idx in ov.stages]
        self.pipeline.setText(f"<span style='color:{muted}'>Detector order:</span> " + " → ".join(parts))
        results = (
            (f"Greedy: {len(ov.greedy)} kept", ov.greedy, ov.scores[ov.greedy]),
            (f"Soft-NMS: {len(ov.soft_kept)} above {ov.soft_min:.2f}", ov.soft_kept, ov.soft_scores),
            (f"Class-aware: {len(ov.class_aware)} kept", ov.class_aware, ov.scores[ov.class_aware]),
        )
        tips = ("Greedy NMS: the best box deletes every box that overlaps it more than the threshold.",
                f"Soft-NMS ({ov.soft_method}): overlapping boxes lose score instead of being deleted.",
                "Class-aware NMS: boxes of different classes never suppress each other.")
        for (title, cv), (text, idx, sc), tip in zip(self.compare, results, tips):
            title.setText(text)
            title.setToolTip(f"{text}. {tip}")
            cv.set_rects("boxes", ov.boxes[idx], color="kept")
            pos = label_positions(cv, ov.boxes[idx[:MAX_LABELS]], image_height=_height(cv), scale=0.7,
                                  chars=9 if multi else 3.5)
            cv.set_texts("scores", [(x, y, f"{v:.2f}" + (f" {class_name(ov.classes[i])}" if multi else ""))
                                    for (x, y), i, v in zip(pos, idx[:MAX_LABELS], sc[:MAX_LABELS])],
                         color="black", scale=0.7, anchor=(0, 1))

    def reset_labels(self) -> None:
        for _, cv in self.compare:
            cv.clear_layer("scores")


def _height(cv: ImageCanvas) -> float:
    return float(cv.image_shape[0]) if cv.image_shape is not None else 1e9


class MainView(QWidget):
    """The frame's main view: the picture, and under it the answer strip once it is revealed."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.canvas = ImageCanvas(theme=theme)
        self.canvas.setSizePolicy(_FREE, _FREE)
        self.answer = AnswerStrip(theme)
        self.answer.setSizePolicy(_FREE, _FREE)
        self.answer.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.canvas, 3)
        lay.addWidget(self.answer, 2)

    def set_image(self, rgb: np.ndarray) -> None:
        self.canvas.set_image(rgb, autorange=True)
        self.answer.set_image(rgb)


class NmsCard(QFrame):
    """The result card: the count that matters, the rule, and the numbers of this step.

    Like a FormulaCard, but every line wraps in the body font: the side column is narrow, and the
    monospaced formula lines of a FormulaCard wrap after ~18 characters in the projector theme."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("Card")
        self.title = WrapLabel("", name="Muted")
        self.formula = WrapLabel("")
        self.substituted = WrapLabel("")
        self.result = WrapLabel("", name="Big")
        lay = QVBoxLayout(self)
        lay.setSpacing(2)
        for w in (self.title, self.result, self.formula, self.substituted):  # the count first: it must show
            lay.addWidget(w)
        lay.addStretch(1)  # lines together at the top of a taller card

    def show_result(self, title: str, formula: str, substituted: str, result: str) -> bool:
        """Set the texts; True when the card now needs another height (its holder must re-ask)."""
        before = self.heightForWidth(self.width())
        self.title.setText(title)
        self.formula.setText(formula)
        self.substituted.setText(substituted)
        self.substituted.setVisible(bool(substituted))
        self.result.setText(result)
        return self.heightForWidth(self.width()) != before
