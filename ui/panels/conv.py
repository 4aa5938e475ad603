"""Convolution lab: a kernel sliding over numbers (every multiply-and-sum written out) and over a photo.

Modes
-----
* matrix      an editable input and kernel; padding drawn as a border of zeros; the window on the
              input and the output cell it fills are highlighted; the step's arithmetic with numbers.
* rgb         a 3-channel input and kernel: three per-channel sums, then their total plus the bias.
* pooling     max / average pooling windows (the winner of a max window marked).
* transposed  each input cell spreads value×kernel into the output; the overlap counts show the
              checkerboard for K=3, S=2.
* image       the photo (or a sample) and its feature map (diverging colours, a colour bar, ReLU),
              computed off the GUI thread; the kernel window follows the cursor with its value.

The panel only renders ``trace[i]`` of a :mod:`cvexplorer.conv` trace; the TracePlayer drives ``i``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QLinearGradient, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPlainTextEdit, QPushButton, QScrollArea, QSizePolicy, QSpinBox,
                               QStackedWidget, QVBoxLayout, QWidget)

from cvexplorer import conv as C
from cvexplorer import formulas

from ..widgets.canvas import COLORMAPS, ImageCanvas
from ..widgets.formula import FormulaCard
from ..widgets.player import TracePlayer
from .base import Panel

__all__ = ["PanelWidget", "GridView", "PRESETS", "fmt", "arithmetic_text", "code_snippets"]

MODES = ("matrix", "rgb", "pooling", "transposed", "image")
MODE_TITLES = {"matrix": "Matrix", "rgb": "RGB (3 channels)", "pooling": "Pooling",
               "transposed": "Transposed conv", "image": "Image (photo)"}

_EDGE_KERNEL = [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]
PRESETS: dict[str, tuple[list, list]] = {
    # Rows 0 and 2 reproduce the vision chapter's worked example: output(0,0) = 5, output(0,1) = 10.
    "worked example: horizontal edge": (
        [[2, 0, 1, 5, 3], [4, 2, 3, 1, 0], [0, 1, 7, 8, 2], [3, 6, 2, 0, 1], [1, 4, 5, 2, 6]], _EDGE_KERNEL),
    "vertical edge": ([[0, 0, 0, 9, 9, 9]] * 6, [[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
    "diagonal": ([[9 if i == j else 0 for j in range(6)] for i in range(6)],
                 [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]]),
    "random integers": ([], []),
    "pooling 4×4 (workbook)": ([[1, 3, 2, 8], [6, 0, 1, 4], [3, 1, 0, 2], [2, 0, 3, 1]], [[1, 1], [1, 1]]),
}
_DEFAULTS = {
    "matrix": dict(preset="worked example: horizontal edge", stride=1, padding=1, dilation=1),
    "rgb": dict(preset="random integers", stride=1, padding=1, dilation=1),
    "pooling": dict(preset="pooling 4×4 (workbook)", stride=2, padding=0, dilation=1),
    "transposed": dict(preset="transposed 3×3", stride=2, padding=0, dilation=1),
    "image": dict(preset="", stride=1, padding=1, dilation=1),
}
GALLERY = ["identity", "box blur", "gaussian", "sharpen", "sobel x", "sobel y", "laplacian", "emboss",
           "diagonal edge", "custom"]


# -- text helpers (pure; tested) ----------------------------------------------------------------------
def fmt(v: float) -> str:
    """A number as a student writes it: 3, −1, 0.25, −∞ (unicode minus)."""
    v = float(v)
    if np.isinf(v):
        s = "∞"
    elif abs(v - round(v)) < 1e-9:
        s = str(abs(int(round(v))))
    else:
        s = f"{abs(v):.2f}".rstrip("0").rstrip(".")
    return ("−" + s) if v < 0 and s != "0" else s


def _paren(v: float) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith("−") else s


def arithmetic_text(values: np.ndarray, kernel: np.ndarray, total: float, bias: float = 0.0) -> str:
    """``0·1 + 1·0 + 5·(−1) + … = 10``: every product of the window, then the sum."""
    terms = [f"{fmt(v)}·{_paren(k)}" for v, k in zip(np.ravel(values), np.ravel(kernel))]
    s = " + ".join(terms)
    if bias:
        s += f" + {_paren(bias)}"
    return f"{s} = {fmt(total)}"


def _matrix_text(a: np.ndarray) -> str:
    a = np.asarray(a)
    if a.ndim == 3:
        return "\n\n".join(_matrix_text(a[..., c]) for c in range(a.shape[2]))
    return "\n".join("  ".join(fmt(v).replace("−", "-") for v in row) for row in a)


def parse_matrix(text: str, channels: int = 0) -> np.ndarray:
    """Rows of numbers (spaces/commas); channels separated by blank lines. ValueError with a reason."""
    blocks, cur = [], []
    for line in text.replace("−", "-").splitlines():
        line = line.replace(",", " ").replace(";", " ").strip()
        if not line:
            if cur:
                blocks.append(cur)
                cur = []
            continue
        try:
            cur.append([float(t) for t in line.split()])
        except ValueError:
            raise ValueError(f"This row is not a list of numbers: {line!r}.") from None
    if cur:
        blocks.append(cur)
    if not blocks:
        raise ValueError("Type at least one row of numbers.")
    mats = []
    for b in blocks:
        if len({len(r) for r in b}) != 1:
            raise ValueError("Every row must have the same number of values.")
        mats.append(np.array(b, dtype=float))
    if channels:
        if len(mats) != channels:
            raise ValueError(f"Give {channels} blocks of rows (one per channel) separated by a blank line.")
        if len({m.shape for m in mats}) != 1:
            raise ValueError("Every channel must have the same size.")
        return np.dstack(mats)
    if len(mats) != 1:
        raise ValueError("Give one block of rows (no blank lines).")
    return mats[0]


def code_snippets(mode: str, x: np.ndarray, k: np.ndarray, stride, padding, dilation, bias: float = 0.0,
                  pool_mode: str = "max") -> dict[str, str]:
    """The current configuration as NumPy (cvexplorer / plain) and PyTorch code to copy."""
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    xs = np.array2string(np.asarray(x), separator=", ", threshold=10 ** 6)
    ks = np.array2string(np.asarray(k), separator=", ", threshold=10 ** 6)
    if mode == "pooling":
        kh, kw = k.shape[:2]
        npy = (f"import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view\n\nx = np.array({xs})\n"
               f"xp = np.pad(x, (({ph}, {ph}), ({pw}, {pw})), constant_values={'-np.inf' if pool_mode == 'max' else 0})\n"
               f"win = sliding_window_view(xp, ({kh}, {kw}))[::{sh}, ::{sw}]\n"
               f"y = win.{'max' if pool_mode == 'max' else 'mean'}(axis=(-2, -1))\nprint(y)\n")
        fn = "max_pool2d" if pool_mode == "max" else "avg_pool2d"
        torch = (f"import torch\nimport torch.nn.functional as F\n\nx = torch.tensor({xs}, dtype=torch.float64)[None, None]\n"
                 f"y = F.{fn}(x, kernel_size=({kh}, {kw}), stride=({sh}, {sw}), padding=({ph}, {pw}))\nprint(y[0, 0])\n")
        return {"NumPy": npy, "PyTorch": torch}
    if mode == "transposed":
        kh, kw = k.shape[:2]
        npy = (f"import numpy as np\n\nx = np.array({xs}, dtype=float)\nk = np.array({ks}, dtype=float)\n"
               f"S, P = {sh}, {ph}\nH, W = x.shape\nfull = np.zeros(((H - 1) * S + {kh}, (W - 1) * S + {kw}))\n"
               f"for i in range(H):\n    for j in range(W):\n        full[i*S:i*S+{kh}, j*S:j*S+{kw}] += x[i, j] * k\n"
               f"y = full[P:full.shape[0]-P, P:full.shape[1]-P]\nprint(y)\n")
        torch = (f"import torch\nimport torch.nn.functional as F\n\nx = torch.tensor({xs}, dtype=torch.float64)[None, None]\n"
                 f"k = torch.tensor({ks}, dtype=torch.float64)[None, None]\n"
                 f"y = F.conv_transpose2d(x, k, stride={sh}, padding={ph})\nprint(y[0, 0])\n")
        return {"NumPy": npy, "PyTorch": torch}
    multi = np.asarray(x).ndim == 3
    npy = (f"import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view\n\n"
           f"x = np.array({xs}, dtype=float)   # (H, W{', C' if multi else ''})\n"
           f"k = np.array({ks}, dtype=float)   # (kh, kw{', C' if multi else ''})\n"
           f"S, P, D, bias = ({sh}, {sw}), ({ph}, {pw}), ({dh}, {dw}), {bias!r}\n"
           f"xp = np.pad(x, ((P[0], P[0]), (P[1], P[1]){', (0, 0)' if multi else ''}))\n"
           f"span = (D[0] * (k.shape[0] - 1) + 1, D[1] * (k.shape[1] - 1) + 1)\n"
           f"win = sliding_window_view(xp, span, axis=(0, 1))[::S[0], ::S[1], ..., ::D[0], ::D[1]]\n"
           f"y = np.einsum('{'ijcab,abc' if multi else 'ijab,ab'}->ij', win, k) + bias\nprint(y)\n"
           f"# or: from cvexplorer.conv import conv2d; conv2d(x, k, stride=S, padding=P, dilation=D, bias=bias)\n")
    if multi:
        tx = f"torch.tensor({xs}, dtype=torch.float64).permute(2, 0, 1)[None]   # (1, C, H, W)"
        tk = f"torch.tensor({ks}, dtype=torch.float64).permute(2, 0, 1)[None]   # (1, C, kh, kw)"
    else:
        tx = f"torch.tensor({xs}, dtype=torch.float64)[None, None]"
        tk = f"torch.tensor({ks}, dtype=torch.float64)[None, None]"
    torch = (f"import torch\nimport torch.nn.functional as F\n\nx = {tx}\nk = {tk}\n"
             f"y = F.conv2d(x, k, bias=torch.tensor([{float(bias)!r}], dtype=torch.float64),\n"
             f"             stride=({sh}, {sw}), padding=({ph}, {pw}), dilation=({dh}, {dw}))\nprint(y[0, 0])\n")
    return {"NumPy": npy, "PyTorch": torch}


# -- the painted grid view --------------------------------------------------------------------------
class Block:
    """One grid of numbers drawn by GridView: texts, per-cell background, marked cells."""

    def __init__(self, title: str, texts: list[list[str]], *, bg=None, fg=None, marks=(), sep: str = "") -> None:
        self.title = title
        self.texts = texts
        self.rows = len(texts)
        self.cols = len(texts[0]) if texts else 0
        self.bg = bg or {}      # (r, c) -> QColor
        self.fg = fg or {}      # (r, c) -> QColor
        self.marks = list(marks)  # (r, c, color, width_factor)
        self.sep = sep          # symbol drawn before the block ("⊛", "=")
        self.overlay = {}       # (r, c) -> QColor drawn over the cached grid (the step's highlights)

    def base_key(self, cs: float, theme_name: str) -> tuple:
        """What the cached picture of this grid depends on (not the per-step overlay and marks)."""
        return (round(cs, 2), theme_name, tuple(map(tuple, self.texts)),
                tuple((k, c.rgba()) for k, c in self.bg.items()), tuple((k, c.rgba()) for k, c in self.fg.items()))


def _runs(cells: dict) -> list:
    """Group {(r, c): colour} into horizontal runs ((r, c0, c1), colour) of equal colour."""
    out = []
    for (r, c), col in sorted(cells.items(), key=lambda kv: kv[0]):
        if out and out[-1][0][0] == r and out[-1][0][2] == c and out[-1][1] == col:
            out[-1] = ((r, out[-1][0][1], c + 1), col)
        else:
            out.append(((r, c, c + 1), col))
    return out


class GridView(QWidget):
    """Draws rows of :class:`Block` grids and lines of arithmetic with QPainter (fast, crisp, large)."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.rows: list[list[Block]] = []
        self.lines: list[str] = []
        self.message = ""
        self.cell_px = 0.0
        self.block_rects: dict[str, QRectF] = {}
        self._cache: dict[tuple, QPixmap] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(300, 200)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paintEvent fills everything itself
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)

    def set_content(self, rows: list[list[Block]], lines: list[str], message: str = "") -> None:
        self.rows, self.lines, self.message = rows, lines, message
        self.update()

    @staticmethod
    def _num_px(b: Block, cs: float) -> int:
        longest = max((len(t) for r in b.texts for t in r), default=1)
        return max(6, int(min(cs * 0.42, cs * 0.95 / max(1.0, 0.62 * longest))))

    def _render_base(self, b: Block, cs: float, num_font: QFont, thin: QPen, fg: QColor) -> QPixmap:
        """Draw one grid (fills, lines, numbers) into a pixmap; reused while its numbers do not change."""
        w, h = max(1, int(np.ceil(b.cols * cs)) + 1), max(1, int(np.ceil(b.rows * cs)) + 1)
        pix = QPixmap(w, h)
        pix.fill(QColor(self.theme.plot_bg))
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        num_font.setPixelSize(self._num_px(b, cs))
        p.setFont(num_font)
        for (r, c), bg in b.bg.items():
            p.fillRect(QRectF(c * cs, r * cs, cs, cs), bg)
        p.setPen(thin)
        lines = [QLineF(0, r * cs, b.cols * cs, r * cs) for r in range(b.rows + 1)]
        lines += [QLineF(c * cs, 0, c * cs, b.rows * cs) for c in range(b.cols + 1)]
        p.drawLines(lines)
        p.setPen(fg)
        for r in range(b.rows):
            row_t = b.texts[r]
            for c in range(b.cols):
                t = row_t[c]
                if t:
                    col = b.fg.get((r, c))
                    if col is not None:
                        p.setPen(col)
                    p.drawText(QRectF(c * cs, r * cs, cs, cs), Qt.AlignmentFlag.AlignCenter, t)
                    if col is not None:
                        p.setPen(fg)
        p.end()
        return pix

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)  # axis-aligned cells: no shape AA needed
        th = self.theme
        W, H = self.width(), self.height()
        p.fillRect(0, 0, W, H, QColor(th.plot_bg))
        fg = QColor(th.fg)
        base_pt = th.font_pt
        title_font = QFont()
        title_font.setPointSizeF(base_pt * 0.9)
        title_font.setBold(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setPointSizeF(th.mono_pt * 1.15)
        if self.message:
            p.setPen(QColor(th.error))
            p.setFont(title_font)
            p.drawText(QRectF(20, 20, W - 40, H - 40), Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter,
                       self.message)
            p.end()
            return
        m = 14.0
        fm_title = QFontMetricsF(title_font)
        title_h = fm_title.height() * 1.15
        # arithmetic block at the bottom: measure with word wrap
        fm_mono = QFontMetricsF(mono)
        text_rect_w = W - 2 * m
        flags = int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft)
        key = (tuple(self.lines), int(text_rect_w), mono.pointSizeF())
        if getattr(self, "_measure_key", None) != key:  # measuring wrapped text is the costly part
            self._line_h = [fm_mono.height() if fm_mono.horizontalAdvance(line) < text_rect_w - 4 else
                            fm_mono.boundingRect(QRectF(0, 0, text_rect_w, 10000), flags, line).height()
                            for line in self.lines]
            self._measure_key = key
        text_h = sum(h + 4 for h in self._line_h)
        grid_h = max(60.0, H - 2 * m - text_h - (12 if self.lines else 0))
        # cell size: fit every row of blocks in the width, all rows in the height
        sep_cells = 1.1
        cs = 110.0
        total_rows_cells = 0
        for row in self.rows:
            wc = sum(b.cols for b in row) + sep_cells * (len(row) - 1)
            cs = min(cs, (W - 2 * m) / max(1.0, wc))
            total_rows_cells += max(b.rows for b in row)
        avail = grid_h - len(self.rows) * title_h - 10 * (len(self.rows) - 1)
        cs = max(8.0, min(cs, avail / max(1, total_rows_cells)))
        self.cell_px = cs
        num_font = QFont()
        num_font.setBold(True)
        self.block_rects = {}
        y = m
        thin = QPen(QColor(th.muted))
        thin.setWidthF(1.0)
        for row in self.rows:
            rh = max(b.rows for b in row)
            wc = sum(b.cols for b in row) + sep_cells * (len(row) - 1)
            x = m + max(0.0, (W - 2 * m - wc * cs) / 2)
            for bi, b in enumerate(row):
                gy = y + title_h
                if bi > 0:
                    sep_font = QFont(title_font)
                    sep_font.setPixelSize(max(10, int(cs * 0.6)))
                    p.setFont(sep_font)
                    p.setPen(fg)
                    p.drawText(QRectF(x, gy, sep_cells * cs, rh * cs), Qt.AlignmentFlag.AlignCenter, b.sep or "")
                    x += sep_cells * cs
                p.setFont(title_font)
                p.setPen(fg)
                p.drawText(QRectF(x - cs, y, b.cols * cs + 2 * cs, title_h),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, b.title)
                self.block_rects[b.title] = QRectF(x, gy, b.cols * cs, b.rows * cs)
                key = b.base_key(cs, th.name)
                pix = self._cache.get(key)
                if pix is None:
                    pix = self._render_base(b, cs, num_font, thin, fg)
                    if len(self._cache) > 48:
                        self._cache.clear()
                    self._cache[key] = pix
                p.drawPixmap(QPointF(x, gy), pix)
                if b.overlay:
                    for (r, c0, c1), col in _runs(b.overlay):  # one fill per horizontal run of a colour
                        p.fillRect(QRectF(x + c0 * cs, gy + r * cs, (c1 - c0) * cs, cs), col)
                    p.setPen(thin)
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    for (r, c) in b.overlay:
                        p.drawRect(QRectF(x + c * cs, gy + r * cs, cs, cs))
                    # numbers under a translucent highlight are written again on top, at full contrast
                    num_font.setPixelSize(self._num_px(b, cs))
                    p.setFont(num_font)
                    for (r, c), col in b.overlay.items():
                        t = b.texts[r][c]
                        if t and col.alpha() < 255:
                            p.setPen(b.fg.get((r, c), fg))
                            p.drawText(QRectF(x + c * cs, gy + r * cs, cs, cs), Qt.AlignmentFlag.AlignCenter, t)
                for r, c, color, wf in b.marks:
                    pen = QPen(QColor(color))
                    pen.setWidthF(max(2.0, th.line_px * wf))
                    p.setPen(pen)
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    inset = pen.widthF() / 2
                    p.drawRect(QRectF(x + c * cs + inset, gy + r * cs + inset, cs - 2 * inset, cs - 2 * inset))
                x += b.cols * cs
            y += title_h + rh * cs + 10
        # the arithmetic
        y += 4
        p.setFont(mono)
        p.setPen(fg)
        for line, lh in zip(self.lines, self._line_h):
            p.drawText(QRectF(m, y, text_rect_w, lh + 2), flags, line)
            y += lh + 4
        p.end()


class ColorBar(QWidget):
    """A vertical colour bar for a colormap with labelled ends and zero."""

    def __init__(self, theme, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.levels = (-1.0, 1.0)
        self.cmap = "diverging"
        self.setFixedWidth(int(theme.font_pt * 6))

    def set_levels(self, lo: float, hi: float) -> None:
        self.levels = (float(lo), float(hi))
        self.update()

    def paintEvent(self, ev) -> None:  # noqa: N802
        import pyqtgraph as pg

        p = QPainter(self)
        th = self.theme
        p.fillRect(self.rect(), QColor(th.plot_bg))
        f = QFont()
        f.setPointSizeF(th.font_pt * 0.75)
        p.setFont(f)
        fh = QFontMetricsF(f).height()
        bar = QRectF(6, fh, max(10, self.width() * 0.3), self.height() - 2 * fh)
        lut = pg.colormap.get(COLORMAPS[self.cmap]).getLookupTable(nPts=32)
        g = QLinearGradient(bar.topLeft(), bar.bottomLeft())
        for i, c in enumerate(lut[::-1]):
            g.setColorAt(i / (len(lut) - 1), QColor(int(c[0]), int(c[1]), int(c[2])))
        p.fillRect(bar, g)
        p.setPen(QColor(th.fg))
        p.drawRect(bar)
        lo, hi = self.levels
        tx = bar.right() + 4
        p.drawText(QRectF(tx, bar.top() - fh / 2, self.width() - tx, fh), Qt.AlignmentFlag.AlignLeft, fmt(round(hi, 1)))
        p.drawText(QRectF(tx, bar.bottom() - fh / 2, self.width() - tx, fh), Qt.AlignmentFlag.AlignLeft,
                   fmt(round(lo, 1)))
        if lo < 0 < hi:
            yz = bar.top() + bar.height() * hi / (hi - lo)
            p.drawText(QRectF(tx, yz - fh / 2, self.width() - tx, fh), Qt.AlignmentFlag.AlignLeft, "0")
        p.end()


# -- image-mode worker (runs on a pool thread; pure) ------------------------------------------------
def _display_copy(a: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = a.shape[:2]
    if max(h, w) <= max_side:
        return np.ascontiguousarray(a)
    s = max_side / max(h, w)
    # INTER_LINEAR samples the map (thin edges keep their strength; INTER_AREA would average +/- lobes away)
    return cv2.resize(a, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_LINEAR)


def _signed_maxabs_pool(a: np.ndarray, f: int) -> np.ndarray:
    """Shrink a signed map by ``f`` keeping, per block, the value of largest magnitude (thin edges stay visible)."""
    if f <= 1:
        return np.ascontiguousarray(a)
    h, w = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    mx = mn = None
    for i in range(f):  # f² strided views of 1/f² of the pixels: no full-size temporaries
        for j in range(f):
            v = a[i:h:f, j:w:f]
            mx = v.copy() if mx is None else np.maximum(mx, v, out=mx)
            mn = v.copy() if mn is None else np.minimum(mn, v, out=mn)
    return np.ascontiguousarray(np.where(mx >= -mn, mx, mn))


def compute_feature_map(rgb: np.ndarray, kernel: np.ndarray, *, channels: str = "grey", stride=1, padding=1,
                        dilation=1, relu: bool = False, max_display: int = 1000) -> dict[str, Any]:
    """Image mode's work: the feature map (OpenCV path, float32), display copies and a lazy trace."""
    import cv2

    t0 = time.perf_counter()
    if channels == "rgb":
        src = rgb
        k = np.repeat(np.asarray(kernel, float)[..., None], 3, axis=2) / 3.0
    else:
        src = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        k = np.asarray(kernel, float)
    t1 = time.perf_counter()
    fmap = C.conv2d(src, k, stride=stride, padding=padding, dilation=dilation, method="opencv", dtype=np.float32)
    t2 = time.perf_counter()
    if relu:
        np.maximum(fmap, 0, out=fmap)
    m = float(np.percentile(np.abs(fmap[:: max(1, fmap.shape[0] // 300), :: max(1, fmap.shape[1] // 300)]), 99.0))
    m = m if m > 1e-6 else max(1e-6, float(np.abs(fmap).max()), 1.0)
    fmap.setflags(write=False)  # the trace keeps it as its final state without a copy
    trace = C.conv2d_trace(src, k, stride=stride, padding=padding, dilation=dilation, final=fmap)
    shown_in = _display_copy(rgb if channels == "rgb" else src, max_display)
    f = int(np.ceil(max(fmap.shape) / max_display))
    shown_out = _signed_maxabs_pool(fmap, f)  # on-screen the map is ~1000 px wide: keep each block's extreme
    t3 = time.perf_counter()
    return {"fmap": fmap, "levels": (-m, m), "trace": trace, "shown_in": shown_in, "shown_out": shown_out,
            "out_cover": (shown_out.shape[0] * f, shown_out.shape[1] * f) if f > 1 else fmap.shape,
            "in_shape": rgb.shape[:2], "ms": {"to grey": (t1 - t0) * 1e3, "feature map": (t2 - t1) * 1e3,
                                              "display copies": (t3 - t2) * 1e3}}


class _Tour:
    """Image mode's player: a coarse raster of window positions over the whole map (~32×24 stops),
    so playing visibly sweeps the window across the photo; each stop is a step of the full trace."""

    def __init__(self, trace, oh: int, ow: int, nx: int = 32, ny: int = 24) -> None:
        self.trace = trace
        self.ow = ow
        self.rows = np.unique(np.linspace(0, oh - 1, min(ny, oh)).astype(int))
        self.cols = np.unique(np.linspace(0, ow - 1, min(nx, ow)).astype(int))

    def __len__(self) -> int:
        return len(self.rows) * len(self.cols)

    def index_of(self, j: int) -> int:
        r, c = divmod(int(j), len(self.cols))
        return int(self.rows[r]) * self.ow + int(self.cols[c])

    def __getitem__(self, j: int):
        return self.trace[self.index_of(j)]


# -- the panel --------------------------------------------------------------------------------------
class PanelWidget(Panel):
    """The convolution lab."""

    contentChanged = Signal()

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        th = ctx.theme
        self._rng_seed = 3
        self.mode = "matrix"
        self.x = np.zeros((5, 5))
        self.k = np.zeros((3, 3))
        self.trace = None
        self.geometry_error = ""
        self._image = None
        self._image_source = "sample"
        self._img_result: dict | None = None
        self._pending_image = False
        self.step_ms: list[float] = []
        self._building = True

        # controls column
        self.mode_box = QComboBox()
        for m in MODES:
            self.mode_box.addItem(MODE_TITLES[m], m)
        self.preset_box = QComboBox()
        for name in PRESETS:
            self.preset_box.addItem(name)
        self.kh = QSpinBox(); self.kh.setRange(1, 9)
        self.kw = QSpinBox(); self.kw.setRange(1, 9)
        self.stride = QSpinBox(); self.stride.setRange(1, 6)
        self.padding = QSpinBox(); self.padding.setRange(0, 8)
        self.dilation = QSpinBox(); self.dilation.setRange(1, 5)
        self.bias = QSpinBox(); self.bias.setRange(-50, 50)
        self.same_btn = QPushButton("same")
        self.same_btn.setToolTip("Padding that keeps the output the size of the input at stride 1: P = D(K−1)/2")
        self.pool_mode = QComboBox(); self.pool_mode.addItems(["max", "avg"])
        self.gallery = QComboBox(); self.gallery.addItems(GALLERY)
        self.gallery.setCurrentText("sobel x")
        self.channels = QComboBox(); self.channels.addItems(["grey", "rgb"])
        self.relu = QCheckBox("ReLU (max(0, y))")
        self.code_btn = QPushButton("Show code")
        self.apply_btn = QPushButton("Apply numbers")
        self.input_edit = QPlainTextEdit(); self.input_edit.setObjectName("Mono")
        self.kernel_edit = QPlainTextEdit(); self.kernel_edit.setObjectName("Mono")
        for e in (self.input_edit, self.kernel_edit):
            e.setMinimumHeight(int(th.font_pt * 7))
        self.card = FormulaCard("Output size", "O = ⌊(N + 2P − D(K−1) − 1) / S⌋ + 1")
        for cb in (self.mode_box, self.preset_box, self.gallery, self.channels, self.pool_mode):
            cb.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            cb.setMinimumContentsLength(8)
        for sb in (self.kh, self.kw, self.stride, self.padding, self.dilation, self.bias):
            sb.setMinimumWidth(int(th.font_pt * 3.5))
            sb.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        form = QFormLayout()
        form.addRow("Mode", self.mode_box)
        self._preset_row = QLabel("Preset")
        form.addRow(self._preset_row, self.preset_box)
        self._gallery_row = QLabel("Kernel")
        form.addRow(self._gallery_row, self.gallery)
        self._channels_row = QLabel("Colour")
        form.addRow(self._channels_row, self.channels)
        ksz = QHBoxLayout(); ksz.addWidget(self.kh); ksz.addWidget(QLabel("×")); ksz.addWidget(self.kw)
        form.addRow("Kernel size", ksz)
        form.addRow("Stride", self.stride)
        prow = QHBoxLayout(); prow.addWidget(self.padding, 1); prow.addWidget(self.same_btn)
        form.addRow("Padding", prow)
        self._dil_label = QLabel("Dilation")
        form.addRow(self._dil_label, self.dilation)
        self._bias_label = QLabel("Bias")
        form.addRow(self._bias_label, self.bias)
        self._pool_label = QLabel("Pool")
        form.addRow(self._pool_label, self.pool_mode)
        form.addRow(self.relu)
        side = QWidget()
        sv = QVBoxLayout(side)
        sv.addLayout(form)
        sv.addWidget(self.card)
        self.edit_box = QGroupBox("Numbers (edit, then Apply)")
        ev = QVBoxLayout(self.edit_box)
        self._input_label = QLabel("Input")
        ev.addWidget(self._input_label)
        ev.addWidget(self.input_edit)
        ev.addWidget(QLabel("Kernel"))
        ev.addWidget(self.kernel_edit)
        ev.addWidget(self.apply_btn)
        sv.addWidget(self.edit_box)
        sv.addWidget(self.code_btn)
        sv.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("Controls")  # collapses in presentation mode (Panel.set_presentation)
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFixedWidth(int(th.font_pt * 29))
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # views
        self.grid = GridView(th)
        self.in_canvas = ImageCanvas(theme=th)
        self.out_canvas = ImageCanvas(theme=th)
        self.colorbar = ColorBar(th)
        self.readout = QLabel("Move the mouse over the photo.")
        self.readout.setObjectName("Big")
        self.readout.setWordWrap(True)
        self.readout.setMinimumWidth(50)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.kernel_view = GridView(th)
        self.kernel_view.setMinimumSize(120, 120)
        self.kernel_view.setFixedHeight(int(th.font_pt * 11))
        self.kernel_view.setFixedWidth(int(th.font_pt * 14))
        img_page = QWidget()
        iv = QVBoxLayout(img_page)
        iv.setContentsMargins(0, 0, 0, 0)
        ih = QHBoxLayout()
        self.in_title = QLabel("Input")
        self.out_title = QLabel("Feature map")
        lcol = QVBoxLayout(); lcol.addWidget(self.in_title); lcol.addWidget(self.in_canvas, 1)
        rcol = QVBoxLayout(); rcol.addWidget(self.out_title); rcol.addWidget(self.out_canvas, 1)
        ih.addLayout(lcol, 1)
        ih.addLayout(rcol, 1)
        ih.addWidget(self.colorbar)
        iv.addLayout(ih, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.kernel_view)
        rcol2 = QVBoxLayout()
        rcol2.addWidget(self.readout)
        self.img_arith = QLabel("")
        self.img_arith.setObjectName("Mono")
        self.img_arith.setWordWrap(True)
        self.img_arith.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        rcol2.addWidget(self.img_arith)
        bottom.addLayout(rcol2, 1)
        iv.addLayout(bottom)
        for t in (self.in_title, self.out_title):
            t.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.stack.addWidget(img_page)
        self.player_w = TracePlayer(steps_per_second=2)

        right = QVBoxLayout()
        right.addWidget(self.stack, 1)
        right.addWidget(self.player_w)
        root = QHBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        root.addWidget(scroll)
        root.addLayout(right, 1)

        g = ctx.guard
        self.mode_box.currentIndexChanged.connect(g(lambda _i: self.set_mode(self.mode_box.currentData()), "mode"))
        self.preset_box.activated.connect(g(lambda _i: self.load_preset(self.preset_box.currentText()), "preset"))
        for sb in (self.stride, self.padding, self.dilation, self.bias):
            sb.valueChanged.connect(g(lambda _v: self.recompute(keep_index=True), "settings"))
        self.kh.valueChanged.connect(g(lambda _v: self._resize_kernel(), "kernel size"))
        self.kw.valueChanged.connect(g(lambda _v: self._resize_kernel(), "kernel size"))
        self.same_btn.clicked.connect(g(self.set_same_padding, "same padding"))
        self.pool_mode.currentIndexChanged.connect(g(lambda _i: self.recompute(keep_index=True), "pool"))
        self.gallery.currentIndexChanged.connect(g(lambda _i: self._gallery_changed(), "kernel gallery"))
        self.channels.currentIndexChanged.connect(g(lambda _i: self.recompute(), "channels"))
        self.relu.toggled.connect(g(lambda _b: self.recompute(), "relu"))
        self.apply_btn.clicked.connect(g(self.apply_numbers, "numbers"))
        self.code_btn.clicked.connect(g(self.show_code, "code"))
        self.player_w.stepChanged.connect(g(self.render_step, "step"))
        self.in_canvas.hovered.connect(g(self.hover, "hover"))
        self._code_dialog = None
        self._building = False
        self.set_mode("matrix")

    # -- Panel hooks --------------------------------------------------------------------------------
    def player(self):
        return self.player_w

    def set_image(self, rgb: np.ndarray, source: str = "") -> None:
        self._image = rgb
        self._image_source = source or "image"
        if self.mode != "image":
            self.set_mode("image")  # computes
        else:
            self.recompute()

    def state(self) -> dict[str, Any]:
        st = super().state()
        st.update(mode=self.mode, input=self.x.tolist(), kernel=self.k.tolist(), stride=self.stride.value(),
                  padding=self.padding.value(), dilation=self.dilation.value(), bias=self.bias.value(),
                  pool=self.pool_mode.currentText(), gallery=self.gallery.currentText(),
                  channels=self.channels.currentText(), relu=self.relu.isChecked())
        return st

    def restore_state(self, state: dict[str, Any]) -> None:
        if "mode" in state:
            self.set_mode(state["mode"])
        self._building = True
        try:
            for key, w in (("stride", self.stride), ("padding", self.padding), ("dilation", self.dilation),
                           ("bias", self.bias)):
                if key in state:
                    w.setValue(int(state[key]))
            if "pool" in state:
                self.pool_mode.setCurrentText(state["pool"])
            if "gallery" in state:
                self.gallery.setCurrentText(state["gallery"])
            if "channels" in state:
                self.channels.setCurrentText(state["channels"])
            if "relu" in state:
                self.relu.setChecked(bool(state["relu"]))
            if "input" in state:
                self.x = np.array(state["input"], dtype=float)
            if "kernel" in state:
                self.k = np.array(state["kernel"], dtype=float)
                self._sync_kernel_spins()
        finally:
            self._building = False
        self.recompute()
        if self.mode == "image":
            self.wait_idle(60)
        if "step" in state:
            self.go_to_step(int(state["step"]))

    def demo(self) -> None:
        p = self.player_w
        if self.mode == "image":
            if self._img_result is not None:
                h, w = self._img_result["in_shape"]
                self.hover(w * 0.45, h * 0.5)
            return
        if p.length:
            p.seek(p.length // 2)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.grid.theme = theme
        self.colorbar.theme = theme
        self.grid.update()
        self.colorbar.update()

    def shutdown(self) -> None:
        self.player_w.pause()
        self.ctx.workers.cancel("conv-image")

    # -- modes and presets --------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"There is no mode {mode!r}; choose one of {', '.join(MODES)}.")
        self.player_w.pause()
        self.mode = mode
        self._building = True
        self.mode_box.setCurrentIndex(MODES.index(mode))
        d = _DEFAULTS[mode]
        self.stride.setValue(d["stride"])
        self.padding.setValue(d["padding"])
        self.dilation.setValue(d["dilation"])
        self.bias.setValue(1 if mode == "rgb" else 0)
        image = mode == "image"
        self._input_label.setVisible(not image)
        self.input_edit.setVisible(not image)
        self.edit_box.setTitle("Custom kernel (edit, then Apply)" if image else "Numbers (edit, then Apply)")
        for w in (self._preset_row, self.preset_box):
            w.setVisible(mode in ("matrix", "pooling"))
        for w in (self._gallery_row, self.gallery, self._channels_row, self.channels, self.relu):
            w.setVisible(image)
        for w in (self._pool_label, self.pool_mode):
            w.setVisible(mode == "pooling")
        for w in (self._dil_label, self.dilation):
            w.setVisible(mode in ("matrix", "rgb", "image"))
        for w in (self._bias_label, self.bias):
            w.setVisible(mode in ("matrix", "rgb"))
        self.stack.setCurrentIndex(1 if image else 0)
        self._building = False
        if image:
            self._gallery_changed(recompute=False)
            if self._image is None:
                from cvexplorer.samples import get_sample

                self._image = get_sample("still-life", size=(960, 720))
                self._image_source = "sample: still life"
            self.recompute()
        else:
            self.load_preset(d["preset"])

    def load_preset(self, name: str) -> None:
        rng = np.random.default_rng(self._rng_seed)
        if self.mode == "rgb":
            x = rng.integers(0, 4, size=(4, 4, 3)).astype(float)
            k = rng.integers(-1, 2, size=(3, 3, 3)).astype(float)
        elif self.mode == "transposed":
            x = np.array([[1, 2, 1], [0, 1, 3], [2, 1, 1]], dtype=float)
            k = np.ones((3, 3))
        elif name == "random integers" or name not in PRESETS:
            self._rng_seed += 1
            x = rng.integers(-3, 6, size=(6, 6)).astype(float)
            k = rng.integers(-1, 2, size=(3, 3)).astype(float)
        else:
            x, k = (np.array(a, dtype=float) for a in PRESETS[name])
            if self.mode == "pooling":
                k = np.ones((2, 2))
        if name in PRESETS:
            self.preset_box.setCurrentText(name)
        self.x, self.k = x, k
        self._sync_kernel_spins()
        self._sync_editors()
        self.recompute()

    def _sync_kernel_spins(self) -> None:
        b = self._building
        self._building = True
        self.kh.setValue(self.k.shape[0])
        self.kw.setValue(self.k.shape[1])
        self._building = b

    def _sync_editors(self) -> None:
        self.input_edit.setPlainText(_matrix_text(self.x))
        self.kernel_edit.setPlainText(_matrix_text(self.k))

    def _resize_kernel(self) -> None:
        if self._building:
            return
        kh, kw = self.kh.value(), self.kw.value()
        if self.mode == "image":
            name = self.gallery.currentText()
            if name == "box blur":
                self.k = np.full((kh, kw), 1.0 / (kh * kw))
            elif name == "gaussian":
                import cv2

                self.k = cv2.getGaussianKernel(kh, -1) @ cv2.getGaussianKernel(kw, -1).T
            else:
                self.k = self._fit(self.k, kh, kw)
        else:
            self.k = self._fit(self.k, kh, kw, fill=1.0 if self.mode == "pooling" else 0.0)
        self._sync_editors()
        self.recompute(keep_index=True)

    @staticmethod
    def _fit(k: np.ndarray, kh: int, kw: int, fill: float = 0.0) -> np.ndarray:
        out = np.full((kh, kw) + k.shape[2:], fill)
        h, w = min(kh, k.shape[0]), min(kw, k.shape[1])
        out[:h, :w] = k[:h, :w]
        return out

    def _gallery_changed(self, recompute: bool = True) -> None:
        name = self.gallery.currentText()
        if name != "custom":
            self.k = C.kernel_by_name(name)
            self._sync_kernel_spins()
            self._sync_editors()
        if recompute and not self._building:
            self.recompute()

    def set_same_padding(self) -> None:
        try:
            p = formulas.same_padding(self.k.shape[0], self.dilation.value())
            formulas.same_padding(self.k.shape[1], self.dilation.value())
        except ValueError as exc:
            self.ctx.status(str(exc))
            self.card.show_error(str(exc))
            return
        self.padding.setValue(p)

    def apply_numbers(self) -> None:
        chans = 3 if self.mode == "rgb" else 0
        if self.mode == "image":
            try:
                k = parse_matrix(self.kernel_edit.toPlainText())
            except ValueError as exc:
                self.card.show_error(str(exc))
                return
            self._building = True
            self.gallery.setCurrentText("custom")
            self.k = k
            self._sync_kernel_spins()
            self._building = False
            self.recompute()
            return
        try:
            x = parse_matrix(self.input_edit.toPlainText(), chans)
            k = parse_matrix(self.kernel_edit.toPlainText(), chans)
        except ValueError as exc:
            self.card.show_error(str(exc))
            return
        if x.shape[0] * x.shape[1] > 400:
            self.card.show_error("Keep the grid at most 20×20 numbers so every cell stays readable.")
            return
        self.x, self.k = x, k
        self._sync_kernel_spins()
        self.recompute()

    # -- computing ----------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        s, p, d = self.stride.value(), self.padding.value(), self.dilation.value()
        return {"stride": (s, s), "padding": (p, p), "dilation": (d, d)}

    def recompute(self, keep_index: bool = False) -> None:
        if self._building:
            return
        s = self.settings()
        (sh, _), (ph, _), (dh, _) = s["stride"], s["padding"], s["dilation"]
        if self.mode == "image":
            self._update_card(self._image.shape[:2] if self._image is not None else (0, 0))
            self._submit_image()
            return
        self._update_card(self.x.shape[:2])
        if self.geometry_error:
            self.trace = None
            self.player_w.set_trace(None)
            self.grid.set_content([], [], self.geometry_error)
            return
        try:
            if self.mode in ("matrix", "rgb"):
                self.trace = C.conv2d_trace(self.x, self.k, bias=float(self.bias.value()), **s)
            elif self.mode == "pooling":
                self.trace = C.pool2d_trace(self.x, self.k.shape[:2], stride=sh, padding=ph,
                                            mode=self.pool_mode.currentText())
            elif self.mode == "transposed":
                self.trace = C.conv_transpose2d_trace(self.x, self.k, stride=sh, padding=ph)
        except ValueError as exc:
            self.trace = None
            self.card.show_error(str(exc))
            self.player_w.set_trace(None)
            self.grid.set_content([], [], str(exc))
            return
        old = self.player_w.index
        self.player_w.set_trace(self.trace, keep_index=keep_index)
        if keep_index and self.player_w.index == old:
            self.render_step(old)

    def _update_card(self, shape) -> None:
        """The output-size formula with live values, or the reason the setting is invalid."""
        s, p, d = self.stride.value(), self.padding.value(), self.dilation.value()
        kh, kw = self.k.shape[:2]
        H, W = shape
        self.geometry_error = ""
        try:
            if self.mode == "pooling":
                f = "O = ⌊(N + 2P − K) / S⌋ + 1"
                oh = formulas.pool_output_size(H, kh, stride=s, padding=p)
                ow = formulas.pool_output_size(W, kw, stride=s, padding=p)
                sub = [f"⌊({n} + 2·{p} − {k}) / {s}⌋ + 1 = {o}" for n, k, o in ((H, kh, oh), (W, kw, ow))]
                meaning = "one output cell per window position; no weights to learn"
            elif self.mode == "transposed":
                f = "O = (N − 1)·S − 2P + K"
                oh = formulas.transposed_conv_output_size(H, kh, stride=s, padding=p)
                ow = formulas.transposed_conv_output_size(W, kw, stride=s, padding=p)
                sub = [f"({n} − 1)·{s} − 2·{p} + {k} = {o}" for n, k, o in ((H, kh, oh), (W, kw, ow))]
                meaning = "each input cell stamps a K×K copy of the kernel, S cells apart"
            else:
                f = "O = ⌊(N + 2P − D(K−1) − 1) / S⌋ + 1"
                oh = formulas.conv_output_size(H, kh, stride=s, padding=p, dilation=d)
                ow = formulas.conv_output_size(W, kw, stride=s, padding=p, dilation=d)
                sub = [f"⌊({n} + 2·{p} − {d}·({k}−1) − 1) / {s}⌋ + 1 = {o}" for n, k, o in ((H, kh, oh), (W, kw, ow))]
                meaning = (f"{oh * ow} kernel positions, {kh * kw} multiplications each"
                           + (f"; the kernel spans {d * (kh - 1) + 1}×{d * (kw - 1) + 1} pixels" if d > 1 else ""))
            self.card.show_result(f"rows: {sub[0]}\ncols: {sub[1]}", f"{oh} × {ow}", meaning, formula=f)
            self.output_shape = (oh, ow)
        except ValueError as exc:
            self.geometry_error = str(exc)
            self.output_shape = None
            self.card.show_error(str(exc))

    # -- image mode -------------------------------------------------------------------------------------
    def _submit_image(self) -> None:
        if self._image is None or self.geometry_error:
            if self.geometry_error:
                self.readout.setText(self.geometry_error)
            return
        s = self.settings()
        self._pending_image = True
        self.readout.setText("computing the feature map…")
        self._t_request = time.perf_counter()
        self.ctx.workers.submit("conv-image", compute_feature_map, self._image, self.k.copy(),
                                channels=self.channels.currentText(), relu=self.relu.isChecked(),
                                on_done=self._image_done, **s)

    def _image_done(self, res: dict) -> None:
        self._pending_image = False
        self._img_result = res
        H, W = res["in_shape"]
        fmap = res["fmap"]
        oh, ow = fmap.shape
        self._set_canvas(self.in_canvas, res["shown_in"], (H, W), None, None)
        self._set_canvas(self.out_canvas, res["shown_out"], res["out_cover"], res["levels"], "diverging")
        self.out_canvas.image_shape = (oh, ow)
        self.colorbar.set_levels(*res["levels"])
        # a file name, not its whole path: the title shares one row with the feature map's
        name = os.path.basename(self._image_source.rstrip("/\\")) or self._image_source
        self.in_title.setText(f"Input {W}×{H} ({name}, {self.channels.currentText()})")
        self.out_title.setText(f"Feature map {ow}×{oh}" + (" after ReLU" if self.relu.isChecked() else ""))
        self.trace = res["trace"]
        self._show_kernel()
        self._tour = _Tour(self.trace, oh, ow)
        self.player_w.set_trace(self._tour)
        wall = (time.perf_counter() - self._t_request) * 1e3
        self.ctx.record(self.panel_id or "conv", dict(res["ms"], **{"request → shown": wall}))
        self.readout.setText("Move the mouse over the photo: the window and its output value follow.")

    @staticmethod
    def _set_canvas(canvas: ImageCanvas, shown: np.ndarray, full_hw, levels, cmap) -> None:
        canvas.set_image(shown, levels=levels, colormap=cmap, autorange=False)
        h, w = full_hw
        canvas.image_item.setRect(QRectF(0, 0, w, h))  # display copy laid over full-size coordinates
        canvas.image_shape = (h, w) + tuple(shown.shape[2:])
        canvas.fit()

    def _show_kernel(self) -> None:
        k = self.k
        texts = [[fmt(round(v, 2)) for v in row] for row in k]
        self.kernel_view.set_content([[Block(f"kernel: {self.gallery.currentText()}", texts)]], [])

    def hover(self, x: float, y: float) -> None:
        if self.mode != "image" or self._img_result is None:
            return
        s, p, d = self.stride.value(), self.padding.value(), self.dilation.value()
        kh, kw = self.k.shape[:2]
        oh, ow = self._img_result["fmap"].shape
        # the output cell whose window is centred nearest the cursor
        r = int(round((y + p - d * (kh - 1) / 2) / s))
        c = int(round((x + p - d * (kw - 1) / 2) / s))
        r, c = min(max(r, 0), oh - 1), min(max(c, 0), ow - 1)
        self._show_window(r * ow + c)

    def _show_window(self, i: int) -> None:
        res = self._img_result
        if res is None:
            return
        fmap = res["fmap"]
        oh, ow = fmap.shape
        r, c = divmod(int(i), ow)
        s, p, d = self.stride.value(), self.padding.value(), self.dilation.value()
        kh, kw = self.k.shape[:2]
        H, W = res["in_shape"]
        y0, x0 = r * s - p, c * s - p
        y1, x1 = y0 + d * (kh - 1) + 1, x0 + d * (kw - 1) + 1
        grow = max(0.0, max(H, W) / 30 - (x1 - x0)) / 2  # keep a 3×3 window visible on a 12 MP photo
        self.in_canvas.set_rects("window", [[x0 - grow, y0 - grow, x1 + grow, y1 + grow]], color="current")
        self.out_canvas.set_rects("cell", [[c - 0.5 - grow / s, r - 0.5 - grow / s, c + 1.5 + grow / s,
                                            r + 1.5 + grow / s]], color="current")
        v = float(fmap[r, c])
        self.window_value = v
        self.readout.setText(f"window at input rows {y0}…{y1 - 1}, cols {x0}…{x1 - 1} → output ({r}, {c}) = {v:.1f}")
        st = self.trace[r * ow + c] if self.trace is not None else None
        if st is not None:
            self.player_w.set_caption(st.caption)
        if st is not None and np.ndim(st["values"]) == 2 and kh * kw <= 25:
            text = arithmetic_text(st["values"], self.k, round(st["sum"], 2))
            if self.relu.isChecked():
                text += f";  ReLU → {fmt(round(v, 2))}"
            self.img_arith.setText(text)
        elif st is not None:
            self.img_arith.setText(f"{kh}×{kw} window" + (" × 3 channels (kernel/3 on R, G, B)" if np.ndim(st["values"]) == 3
                                                            else "") + f": Σ products = {st['sum']:.1f}")

    # -- rendering one step -------------------------------------------------------------------------
    def render_step(self, i: int) -> None:
        t0 = time.perf_counter()
        if self.trace is None or not len(self.trace):
            return
        if self.mode == "image":
            tour = getattr(self, "_tour", None)
            self._show_window(tour.index_of(i) if tour is not None else i)
            return
        st = self.trace[i]
        th = self.ctx.theme
        if self.mode in ("matrix", "rgb"):
            rows, lines = self._conv_blocks(st, i, th)
        elif self.mode == "pooling":
            rows, lines = self._pool_blocks(st, i, th)
        else:
            rows, lines = self._transposed_blocks(st, i, th)
        self.grid.set_content(rows, lines)
        self.player_w.set_caption(st.caption)
        ms = (time.perf_counter() - t0) * 1e3
        self.step_ms.append(ms)
        if len(self.step_ms) > 500:
            del self.step_ms[:250]
        self.ctx.record(self.panel_id or "conv", {"build step": ms})

    @staticmethod
    def _tint(th, role: str, alpha: float) -> QColor:
        """The role's colour at ``alpha`` over the view background, as an opaque colour (no blending cost)."""
        c, b = QColor(th.color(role)), QColor(th.plot_bg)
        a = min(1.0, max(0.0, alpha))
        return QColor(int(b.red() + (c.red() - b.red()) * a), int(b.green() + (c.green() - b.green()) * a),
                      int(b.blue() + (c.blue() - b.blue()) * a))

    @staticmethod
    def _glass(th, role: str, alpha: float) -> QColor:
        """A translucent colour laid over a cached grid (the numbers stay readable through it)."""
        c = QColor(th.color(role))
        c.setAlphaF(alpha)
        return c

    def _input_block(self, title, x2d, pad, st, th, pad_text="0", win=True) -> Block:
        H, W = x2d.shape
        ph, pw = pad
        texts, bg, fg = [], {}, {}
        pad_bg = self._tint(th, "padding", 0.22)
        muted = QColor(th.muted)
        for r in range(H + 2 * ph):
            row = []
            for c in range(W + 2 * pw):
                rr, cc = r - ph, c - pw
                if 0 <= rr < H and 0 <= cc < W:
                    row.append(fmt(x2d[rr, cc]))
                else:
                    row.append(pad_text)
                    bg[(r, c)] = pad_bg
                    fg[(r, c)] = muted
            texts.append(row)
        marks, overlay = [], {}
        if win and st is not None:
            cur = self._glass(th, "current", 0.3)
            for a, rr in enumerate(st["rows"]):
                for b, cc in enumerate(st["cols"]):
                    overlay[(rr + ph, cc + pw)] = cur
                    marks.append((rr + ph, cc + pw, th.color("current"), 1.0))
        blk = Block(title, texts, bg=bg, fg=fg, marks=marks)
        blk.overlay = overlay
        return blk

    def _output_block(self, title, final, i, th, sep="=") -> Block:
        oh, ow = final.shape[:2]
        # every value is in the cached grid; cells not reached yet are covered by an opaque overlay
        texts = [[fmt(v) for v in row] for row in final]
        todo = self._tint(th, "waiting", 0.12)
        overlay = {divmod(j, ow): todo for j in range(i + 1, oh * ow)}
        r, c = divmod(i, ow)
        overlay[(r, c)] = self._glass(th, "current", 0.3)
        blk = Block(title, texts, marks=[(r, c, th.color("current"), 1.0)], sep=sep)
        blk.overlay = overlay
        return blk

    def _conv_blocks(self, st, i, th):
        meta = self.trace.meta
        ph, pw = meta["padding"]
        final = np.asarray(self.trace.final)
        oh, ow = final.shape
        k = self.k
        pad_note = f" + padding {ph}" if ph or pw else ""
        if self.x.ndim == 2:
            inp = self._input_block(f"input {self.x.shape[0]}×{self.x.shape[1]}{pad_note}", self.x, (ph, pw), st, th)
            kb = Block(f"kernel {k.shape[0]}×{k.shape[1]}", [[fmt(v) for v in row] for row in k], sep="⊛",
                       bg={(a, b): self._tint(th, "current", 0.18) for a in range(k.shape[0]) for b in range(k.shape[1])})
            out = self._output_block(f"output {oh}×{ow}", final, i, th)
            line = arithmetic_text(st["values"], k, st["sum"], float(meta["bias"]))
            npad = int(np.sum(st["in_padding"]))
            lines = [f"output ({st['out_pos'][0]}, {st['out_pos'][1]}):  {line}"]
            if npad:
                lines.append(f"{npad} of the {k.shape[0] * k.shape[1]} taps fall in the zero padding (purple).")
            return [[inp, kb, out]], lines
        names = "RGB"
        ins, ks, lines = [], [], []
        for c in range(3):
            b = self._input_block(f"input {names[c]}", self.x[..., c], (ph, pw), st, th)
            b.sep = "+" if c else ""
            ins.append(b)
            ks.append(Block(f"kernel {names[c]}", [[fmt(v) for v in row] for row in k[..., c]], sep="+" if c else ""))
            cs = st["channel_sums"][c]
            lines.append(f"{names[c]}: " + arithmetic_text(st["values"][..., c], k[..., c], cs))
        out = self._output_block(f"output {oh}×{ow}", final, i, th)
        sums = " + ".join(_paren(v) for v in st["channel_sums"])
        lines.append(f"R + G + B + bias = {sums} + {_paren(meta['bias'])} = {fmt(st['sum'])}")
        return [ins, ks + [out]], lines

    def _pool_blocks(self, st, i, th):
        meta = self.trace.meta
        mode = meta["mode"]
        ph, pw = meta["padding"]
        final = np.asarray(self.trace.final)
        inp = self._input_block(f"input {self.x.shape[0]}×{self.x.shape[1]}" + (f" + padding {ph}" if ph else ""),
                                self.x, (ph, pw), st, th, pad_text="−∞" if mode == "max" else "0")
        vals = np.asarray(st["values"]).ravel()
        if mode == "max":
            wr, wc = st["winner"]
            inp.marks.append((st["rows"][wr] + ph, st["cols"][wc] + pw, th.color("positive"), 1.6))
            line = f"max({', '.join(fmt(v) for v in vals)}) = {fmt(st['result'])}"
        else:
            line = f"({' + '.join(_paren(v) for v in vals)}) / {vals.size} = {fmt(st['result'])}"
        out = self._output_block(f"output {final.shape[0]}×{final.shape[1]}", final, i, th, sep="→")
        kh, kw = meta["kernel_shape"]
        return [[inp, out]], [f"output ({st['out_pos'][0]}, {st['out_pos'][1]}):  {line}",
                              f"{mode} pooling, window {kh}×{kw}, stride {meta['stride'][0]}: no weights, "
                              + ("the largest value wins (green)." if mode == "max" else "the mean of the window.")]

    def _transposed_blocks(self, st, i, th):
        meta = self.trace.meta
        H, W = self.x.shape
        r0, c0 = st["in_pos"]
        texts = [[fmt(v) for v in row] for row in self.x]
        ov_in = {(r, c): self._glass(th, "waiting", 0.2) for r in range(H) for c in range(W) if r * W + c < i}
        ov_in[(r0, c0)] = self._glass(th, "current", 0.3)
        inp = Block(f"input {H}×{W}", texts, marks=[(r0, c0, th.color("current"), 1.0)])
        inp.overlay = ov_in
        k = self.k
        kb = Block(f"kernel {k.shape[0]}×{k.shape[1]}", [[fmt(v) for v in row] for row in k], sep="⊛ᵀ")
        partial = np.asarray(st["partial"])
        ov = np.asarray(meta["overlap"])
        oh, ow = partial.shape
        obg, marks, o_ov = {}, [], {}
        for r in range(oh):
            for c in range(ow):
                obg[(r, c)] = self._tint(th, "accent", 0.08 + 0.12 * (ov[r, c] - 1))
        for rr in st["rows"]:
            for cc in st["cols"]:
                if 0 <= rr < oh and 0 <= cc < ow:
                    o_ov[(rr, cc)] = self._glass(th, "current", 0.35)
                    marks.append((rr, cc, th.color("current"), 1.0))
        out = Block(f"output {oh}×{ow} (running sum)", [[fmt(v) for v in row] for row in partial], bg=obg,
                    marks=marks, sep="=")
        out.overlay = o_ov
        ovb = Block("overlap count", [[str(int(v)) for v in row] for row in ov],
                    bg={(r, c): self._tint(th, "accent", 0.08 + 0.12 * (ov[r, c] - 1))
                        for r in range(oh) for c in range(ow)}, sep=" ")
        s = meta["stride"][0]
        rows = st["rows"]
        lines = [f"input ({r0}, {c0}) = {fmt(st['value'])}: adds {fmt(st['value'])}·kernel to output rows "
                 f"{rows[0]}…{rows[-1]}, cols {st['cols'][0]}…{st['cols'][-1]} (orange); overlaps are summed.",
                 f"K = {k.shape[0]}, S = {s}: cells where {int(ov.max())} stamps overlap get more weight than "
                 f"cells reached by {int(ov.min())}: the checkerboard (dark blue = more overlap)."]
        return [[inp, kb, out, ovb]], lines

    # -- show code ----------------------------------------------------------------------------------
    def code(self) -> dict[str, str]:
        s = self.settings()
        if self.mode == "image":
            x = np.zeros((3, 3))
            snippets = code_snippets("matrix", x, self.k, s["stride"], s["padding"], s["dilation"])
            snippets["NumPy"] = ("# image mode: the fast path on a photo\nimport cv2, numpy as np\n"
                                 "from cvexplorer.conv import conv2d\n"
                                 "grey = cv2.cvtColor(cv2.imread('photo.jpg'), cv2.COLOR_BGR2GRAY)\n"
                                 f"k = np.array({np.array2string(self.k, separator=', ')})\n"
                                 f"y = conv2d(grey, k, stride={s['stride']}, padding={s['padding']}, "
                                 f"dilation={s['dilation']}, method='opencv', dtype=np.float32)\n"
                                 + ("y = np.maximum(y, 0)  # ReLU\n" if self.relu.isChecked() else ""))
            return snippets
        return code_snippets(self.mode, self.x, self.k, s["stride"], s["padding"], s["dilation"],
                             float(self.bias.value()), self.pool_mode.currentText())

    def show_code(self) -> None:
        snippets = self.code()
        dlg = QDialog(self)
        dlg.setWindowTitle("Code for the current configuration")
        lay = QVBoxLayout(dlg)
        for name, text in snippets.items():
            lay.addWidget(QLabel(name))
            ed = QPlainTextEdit(text)
            ed.setObjectName("Mono")
            ed.setReadOnly(True)
            lay.addWidget(ed)
        dlg.resize(900, 700)
        dlg.setModal(False)
        dlg.show()
        self._code_dialog = dlg
