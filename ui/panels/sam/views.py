"""The SAM panel's secondary views: the pipeline (which stage runs now) with the embedding, and the
candidate masks to choose from."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from ...widgets.canvas import ImageCanvas
from ...widgets.text import WrapLabel
from ...widgets.util import array_to_qimage

__all__ = ["PipelineView", "PipelinePage", "CandidateGrid"]


class PipelineView(QWidget):
    """encoder → embedding 256×64×64 → prompt encoder + mask decoder, top to bottom, the running stage
    highlighted. Without a model only the classical stage is drawn: no empty boxes."""

    STAGES = ("encoder", "embedding", "decoder")

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.running = ""
        self.fallback = False
        self.texts = {s: "" for s in self.STAGES}
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_theme(self, theme) -> None:
        self.theme = theme
        self.update()

    def set_state(self, running: str | None = None, **texts: str) -> None:
        if running is not None:
            self.running = running
        self.texts.update(texts)
        self.update()

    def titles(self) -> dict[str, str]:
        if self.fallback:
            return {"decoder": "GrabCut from your clicks (classical, colours only)"}
        return {"encoder": "Image encoder (ViT) · once per image", "embedding": "Embedding 256×64×64",
                "decoder": "Prompt encoder + mask decoder · per click"}

    def paintEvent(self, _ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        th = self.theme
        titles = self.titles()
        n = len(titles)
        gap = th.font_pt * 1.2
        w, h = float(self.width()), float(self.height())
        bh = (h - (n - 1) * gap - 4) / n
        f_title, f_text = th.font("label"), th.font("small")
        y = 2.0
        for i, (stage, title) in enumerate(titles.items()):
            rect = QRectF(2, y, w - 4, bh)
            active = self.running == stage
            fill = QColor(th.color("current") if active else th.panel_bg)
            if active:
                fill.setAlphaF(0.25)
            p.setPen(QPen(QColor(th.color("current" if active else "accent")), th.line_px * (1.6 if active else 1.0)))
            p.setBrush(fill)
            p.drawRoundedRect(rect, 8, 8)
            p.setPen(QColor(th.fg))
            inner = rect.adjusted(8, 4, -8, -4)
            p.setFont(f_title)
            p.drawText(inner, int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap),
                       title)
            p.setFont(f_text)
            p.drawText(inner, int(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap),
                       ("running…  " if active else "") + self.texts.get(stage, ""))
            y += bh
            if i < n - 1:  # a down arrow to the next stage
                p.setPen(QPen(QColor(th.fg), th.line_px))
                x = w / 2
                p.drawLine(QPointF(x, y + 2), QPointF(x, y + gap - 2))
                p.drawLine(QPointF(x, y + gap - 2), QPointF(x - gap * 0.3, y + gap * 0.55))
                p.drawLine(QPointF(x, y + gap - 2), QPointF(x + gap * 0.3, y + gap * 0.55))
                y += gap
        p.end()


class PipelinePage(QWidget):
    """The pipeline and, with a model, what the decoder sees: the embedding's 256 channels as 3 colours (PCA)."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.pipeline = PipelineView(theme)
        self.emb_title = WrapLabel("What the decoder sees: 256 channels → 3 colours (PCA)", "Muted")
        self.emb_canvas = ImageCanvas(theme=theme)
        self.emb_canvas.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.pipeline, 3)
        lay.addWidget(self.emb_title)
        lay.addWidget(self.emb_canvas, 2)

    def set_fallback(self, on: bool) -> None:
        self.pipeline.fallback = on
        self.pipeline.update()
        self.emb_title.setVisible(not on)
        self.emb_canvas.setVisible(not on)

    def set_embedding(self, rgb: np.ndarray | None) -> None:
        if rgb is None:
            self.emb_canvas.clear_overlays()
            return
        self.emb_canvas.set_image(rgb, autorange=True)


class CandidateGrid(QWidget):
    """Up to four candidate masks as thumbnails with their predicted IoU; clicking one chooses it."""

    chosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.title = WrapLabel("Candidates (predicted IoU): click to choose", "Muted")
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.buttons: list[QToolButton] = []
        for i in range(4):
            b = QToolButton()
            b.setCheckable(True)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            b.clicked.connect(lambda _c=False, i=i: self.chosen.emit(i))
            b.hide()
            grid.addWidget(b, i // 2, i % 2)
            self.buttons.append(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addLayout(grid, 1)

    def thumb_side(self, count: int) -> int:
        """The long side a thumbnail gets: a cell of the 2×2 grid (the whole grid for one), less its caption."""
        cells = 1 if count <= 1 else 2
        return max(48, min(self.width() // cells - 12, (self.height() - self.title.height()) // cells - 40))

    def show_candidates(self, thumbs: list[np.ndarray], texts: list[str], checked: int | None) -> None:
        for i, b in enumerate(self.buttons):
            if i >= len(thumbs):
                b.hide()
                continue
            img = thumbs[i]
            b.setIcon(QIcon(QPixmap.fromImage(array_to_qimage(img))))
            b.setIconSize(QSize(*img.shape[1::-1]))
            b.setText(texts[i])
            b.setChecked(checked == i)
            b.show()
