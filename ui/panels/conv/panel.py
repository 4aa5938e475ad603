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
              computed off the GUI thread by :func:`cvexplorer.conv.feature_map`; the kernel's
              footprint follows the cursor, "Zoom to window" shows the numbers under it.

The panel only renders ``trace[i]`` of a :mod:`cvexplorer.conv` trace; the TracePlayer drives ``i``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QStackedWidget

from cvexplorer import conv as C
from cvexplorer import formulas
from cvexplorer.samples import get_sample
from cvexplorer.text import parse_matrix

from ...widgets.formula import FormulaCard
from ...widgets.player import TracePlayer
from ..base import Panel
from .blocks import step_blocks
from .code import code_snippets, image_snippet, make_code_dialog
from .controls import DEFAULTS, MODES, PRESETS, ConvControls
from .image_mode import IMAGE_JOB, ImageMode
from .image_page import ImagePage
from .views import GridView

if TYPE_CHECKING:  # only named in an annotation
    from .image_mode import _Tour

__all__ = ["PanelWidget"]


class PanelWidget(ImageMode, Panel):
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
        self.output_shape: tuple[int, int] | None = None
        self.window_value: float | None = None
        self.step_ms: list[float] = []
        self._image: np.ndarray | None = None
        self._image_source = "sample"
        self._result: C.FeatureMap | None = None
        self._pending = False
        self._tour: _Tour | None = None
        self._code_dialog: QDialog | None = None
        self._t_request = 0.0
        self._building = True

        self.controls = c = ConvControls(th)
        # the controls the tests and lessons drive, exposed on the panel itself
        for name in ("mode_box", "preset_box", "gallery", "channels", "pool_mode", "kh", "kw", "stride", "padding",
                     "dilation", "bias", "same_btn", "relu", "code_btn", "apply_btn", "input_edit", "kernel_edit"):
            setattr(self, name, getattr(c, name))
        self.card = FormulaCard("Output size", "O = ⌊(N + 2P − D(K−1) − 1) / S⌋ + 1")
        self.grid = GridView(th)
        self.image_page = ip = ImagePage(th)
        self.in_canvas, self.out_canvas, self.readout, self.img_arith = ip.in_canvas, ip.out_canvas, ip.readout, ip.img_arith
        self.zoom_btn = ip.zoom_btn
        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.stack.addWidget(ip)
        self.player_w = TracePlayer(steps_per_second=2)

        frame = self.use_frame()
        frame.set_main(self.stack)
        frame.set_player(self.player_w)
        frame.add_controls(c)
        frame.set_card(self.card)

        g = ctx.guard
        c.mode_box.currentIndexChanged.connect(g(lambda _i: self.set_mode(c.mode_box.currentData()), "mode"))
        c.preset_box.activated.connect(g(lambda _i: self.load_preset(c.preset_box.currentText()), "preset"))
        for sb in (c.stride, c.padding, c.dilation, c.bias):
            sb.valueChanged.connect(g(lambda _v: self.recompute(keep_index=True), "settings"))
        c.kh.valueChanged.connect(g(lambda _v: self._resize_kernel(), "kernel size"))
        c.kw.valueChanged.connect(g(lambda _v: self._resize_kernel(), "kernel size"))
        c.same_btn.clicked.connect(g(self.set_same_padding, "same padding"))
        c.pool_mode.currentIndexChanged.connect(g(lambda _i: self.recompute(keep_index=True), "pool"))
        c.gallery.currentIndexChanged.connect(g(lambda _i: self._gallery_changed(), "kernel gallery"))
        c.channels.currentIndexChanged.connect(g(lambda _i: self.recompute(), "channels"))
        c.relu.toggled.connect(g(lambda _b: self.recompute(), "relu"))
        c.apply_btn.clicked.connect(g(self.apply_numbers, "numbers"))
        c.code_btn.clicked.connect(g(self.show_code, "code"))
        ip.zoom_btn.toggled.connect(g(self._zoom_toggled, "zoom"))
        self.player_w.stepChanged.connect(g(self.render_step, "step"))
        self.in_canvas.hovered.connect(g(self.hover, "hover"))
        self._building = False
        self.set_mode("matrix")

    # -- read-only views of the panel's state (for tests, lessons and scripts) ---------------------------
    @property
    def image(self) -> np.ndarray | None:
        """The photo image mode works on (RGB uint8), or None before one is needed."""
        return self._image

    @property
    def image_result(self) -> C.FeatureMap | None:
        """The last feature map image mode showed."""
        return self._result

    @property
    def image_pending(self) -> bool:
        """Whether a feature map is being computed."""
        return self._pending

    @property
    def code_dialog(self) -> QDialog | None:
        """The "Show code" window, once opened."""
        return self._code_dialog

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
            for key, w in (("pool", self.pool_mode), ("gallery", self.gallery), ("channels", self.channels)):
                if key in state:
                    w.setCurrentText(state[key])
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
        if self.mode == "image":
            if self._result is not None:
                h, w = self._result.in_shape
                self.hover(w * 0.45, h * 0.5)
            return
        p = self.player_w
        if p.length:
            p.seek(p.length // 2)

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.grid.theme = theme
        self.image_page.apply_theme(theme)
        self.grid.update()

    def shutdown(self) -> None:
        self.player_w.pause()
        self.ctx.workers.cancel(IMAGE_JOB)

    # -- modes and presets --------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"There is no mode {mode!r}; choose one of {', '.join(MODES)}.")
        self.player_w.pause()
        self.mode = mode
        self._building = True
        self.mode_box.setCurrentIndex(MODES.index(mode))
        d = DEFAULTS[mode]
        self.stride.setValue(d["stride"])
        self.padding.setValue(d["padding"])
        self.dilation.setValue(d["dilation"])
        self.bias.setValue(1 if mode == "rgb" else 0)
        image = mode == "image"
        self.controls.show_mode(mode)
        self.stack.setCurrentIndex(1 if image else 0)
        self._building = False
        if image:
            self._gallery_changed(recompute=False)
            if self._image is None:
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
        self.input_edit.setPlainText(C.matrix_text(self.x))
        self.kernel_edit.setPlainText(C.matrix_text(self.k))

    def _resize_kernel(self) -> None:
        if self._building:
            return
        shape = (self.kh.value(), self.kw.value())
        if self.mode == "image":
            self.k = C.sized_kernel(self.gallery.currentText(), shape, previous=self.k)
        else:
            self.k = C.fit_kernel(self.k, shape, fill=1.0 if self.mode == "pooling" else 0.0)
        self._sync_editors()
        self.recompute(keep_index=True)

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
            self.card.show_error(str(exc))
            return
        self.padding.setValue(p)

    def apply_numbers(self) -> None:
        chans = 3 if self.mode == "rgb" else 0
        try:
            k = parse_matrix(self.kernel_edit.toPlainText(), chans if self.mode != "image" else 0)
            x = None if self.mode == "image" else parse_matrix(self.input_edit.toPlainText(), chans)
        except ValueError as exc:
            self.card.show_error(str(exc))
            return
        if x is not None and x.shape[0] * x.shape[1] > 400:
            self.card.show_error("Keep the grid at most 20×20 numbers so every cell stays readable.")
            return
        self._building = True
        if self.mode == "image":
            self.gallery.setCurrentText("custom")
        else:
            self.x = x
        self.k = k
        self._sync_kernel_spins()
        self._building = False
        self.recompute()

    # -- computing ----------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        s, p, d = self.stride.value(), self.padding.value(), self.dilation.value()
        return {"stride": (s, s), "padding": (p, p), "dilation": (d, d)}

    def recompute(self, keep_index: bool = False) -> None:
        if self._building:
            return
        if self.mode == "image":
            self._update_card(self._image.shape[:2] if self._image is not None else (0, 0))
            self._submit_image()
            return
        self._update_card(self.x.shape[:2])
        if self.geometry_error:
            self._no_trace(self.geometry_error)
            return
        s, p, d = self.stride.value(), self.padding.value(), self.dilation.value()
        try:
            if self.mode in ("matrix", "rgb"):
                self.trace = C.conv2d_trace(self.x, self.k, bias=float(self.bias.value()), **self.settings())
            elif self.mode == "pooling":
                self.trace = C.pool2d_trace(self.x, self.k.shape[:2], stride=s, padding=p,
                                            mode=self.pool_mode.currentText())
            else:
                self.trace = C.conv_transpose2d_trace(self.x, self.k, stride=s, padding=p, dilation=d)
        except ValueError as exc:
            self.card.show_error(str(exc))
            self._no_trace(str(exc))
            return
        old = self.player_w.index
        self.player_w.set_trace(self.trace, keep_index=keep_index)
        if keep_index and self.player_w.index == old:
            self.render_step(old)

    def _no_trace(self, why: str) -> None:
        self.trace = None
        self.player_w.set_trace(None)
        self.grid.set_content([], [], why)

    def _update_card(self, shape) -> None:
        """The output-size derivation with live values, or the reason the setting is invalid."""
        kind = {"pooling": "pool", "transposed": "transposed"}.get(self.mode, "conv")
        self.geometry_error = ""
        try:
            o = C.output_size(kind, shape, self.k.shape, stride=self.stride.value(), padding=self.padding.value(),
                              dilation=self.dilation.value() if kind != "pool" else 1)
        except ValueError as exc:
            self.geometry_error = str(exc)
            self.output_shape = None
            self.card.show_error(str(exc))
            return
        self.card.show_result(o.substituted, o.result, o.meaning, formula=o.formula)
        self.output_shape = o.shape

    # -- rendering one step -------------------------------------------------------------------------
    def render_step(self, i: int) -> None:
        t0 = time.perf_counter()
        if self.trace is None or not len(self.trace):
            return
        if self.mode == "image":
            self.show_tour_stop(i)
            return
        rows, lines = step_blocks(self.ctx.theme, self.mode, self.x, self.k, self.trace, i)
        self.grid.set_content(rows, lines)
        self.player_w.set_caption(self.trace[i].caption)
        ms = (time.perf_counter() - t0) * 1e3
        self.step_ms.append(ms)
        if len(self.step_ms) > 500:
            del self.step_ms[:250]
        self.ctx.record(self.panel_id or "conv", {"build step": ms})

    # -- show code ----------------------------------------------------------------------------------
    def code(self) -> dict[str, str]:
        s = self.settings()
        if self.mode == "image":
            snippets = code_snippets("matrix", np.zeros((3, 3)), self.k, s["stride"], s["padding"], s["dilation"])
            snippets["NumPy"] = image_snippet(self.k, s["stride"], s["padding"], s["dilation"], self.relu.isChecked())
            return snippets
        return code_snippets(self.mode, self.x, self.k, s["stride"], s["padding"], s["dilation"],
                             float(self.bias.value()), self.pool_mode.currentText())

    def show_code(self) -> None:
        self._code_dialog = make_code_dialog(self, self.code())
        self._code_dialog.show()
