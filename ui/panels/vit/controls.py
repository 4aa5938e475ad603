"""The ViT lab's settings column: what to look at, the patch size, the model's layer/head, the
window and the masking ratio. Laid out top to bottom for the frame's narrow column."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QPushButton, QSizePolicy, QSlider,
                               QSpinBox, QVBoxLayout, QWidget)

from cvexplorer.vit import PRESETS

from ...widgets.text import WrapLabel

__all__ = ["MODES", "MODE_TITLES", "QUERIES", "ViTControls"]

MODES = ("patches", "attention", "positions", "windows", "masking")
MODE_TITLES = {"patches": "Patches and cost", "attention": "Attention (tiny ViT)",
               "positions": "Position embeddings", "windows": "Global vs windowed",
               "masking": "MAE masking"}
#: What the attention heat map shows.
QUERIES = {"patch": "the clicked patch", "cls": "the CLS token", "rollout": "rollout (CLS, all layers)"}
_HINTS = {
    "patches": "Drag the patch size: every patch becomes one token, and every token is compared with every "
               "other one in each attention layer.",
    "attention": "Click a patch to see where it looks. The tiny ViT was trained to name the shape in a "
                 "64×64 scene; your own photo is shrunk to 64×64 first.",
    "positions": "Each small map is one patch's learned position vector compared with all the others "
                 "(cosine similarity). Neighbours come out alike: the model learned the 2-D layout.",
    "windows": "Click a token: with global attention it sees every token; in a window it sees only its "
               "own window, which is far cheaper.",
    "masking": "MAE hides most patches at random; the model answers from what is left. Grey patches are "
               "hidden from every attention layer.",
}


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return s


def _combo(items: dict | list) -> QComboBox:
    cb = QComboBox()
    if isinstance(items, dict):
        for key, text in items.items():
            cb.addItem(text, key)
    else:
        cb.addItems(list(items))
    cb.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return cb


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    sb = QSpinBox()
    sb.setRange(lo, hi)
    sb.setValue(value)
    sb.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return sb


class ViTControls(QWidget):
    """The widgets of the settings column (public: the panel and its tests drive them)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.mode_box = _combo(MODE_TITLES)
        self.hint = WrapLabel("", "Muted")
        self.patch_slider = _slider(4, 64, 16)
        self.patch_label = QLabel("Patch size: 16 px")
        self.preset_box = _combo([n for n in PRESETS if not n.startswith("tiny")])
        self.source_box = _combo({"scene": "generated scene", "image": "your image"})
        self.scene_seed = _spin(0, 99999, 7)
        self.new_scene_btn = QPushButton("New scene")
        self.query_box = _combo(QUERIES)
        self.layer_spin = _spin(1, 1, 1)
        self.head_box = _combo(["mean of heads"])
        self.window_check = QCheckBox("Windowed attention")
        self.window_check.setChecked(True)
        self.window_spin = _spin(1, 64, 14)
        self.sam_btn = QPushButton("SAM's encoder grid")
        self.sam_btn.setToolTip("1024×1024 pixels in 16-pixel patches: 64×64 tokens, 14×14 windows")
        self.mask_slider = _slider(0, 95, 75)
        self.mask_label = QLabel("Hidden: 75 %")
        self.mask_seed = _spin(0, 9999, 0)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # label above field: the column is narrow
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._rows: dict[str, tuple[QLabel, QWidget]] = {}

        def row(key: str, label: QLabel | str, field: QWidget) -> None:
            lab = label if isinstance(label, QLabel) else QLabel(label)
            form.addRow(lab, field)
            self._rows[key] = (lab, field)

        row("mode", "Show", self.mode_box)
        row("patch", self.patch_label, self.patch_slider)
        row("preset", "Model size (for the cost)", self.preset_box)
        row("source", "Picture", self.source_box)
        row("seed", "Scene number", self.scene_seed)
        row("new", "", self.new_scene_btn)
        row("query", "Heat map of", self.query_box)
        row("layer", "Layer", self.layer_spin)
        row("head", "Head", self.head_box)
        row("wcheck", "", self.window_check)
        row("window", "Window (tokens per side)", self.window_spin)
        row("sam", "", self.sam_btn)
        row("mask", self.mask_label, self.mask_slider)
        row("mseed", "Random draw", self.mask_seed)

        self.open_sam_btn = QPushButton("Open Segment Anything")
        self.open_sam_btn.setToolTip("SAM's image encoder is a ViT-H on a 64×64 token grid with 14×14 windows.")
        self.open_sam_btn.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.hint)
        lay.addWidget(self.open_sam_btn)

    def set_heads(self, heads: int, layers: int) -> None:
        """Fill the head list and the layer range once the model is known."""
        self.layer_spin.setRange(1, layers)
        self.layer_spin.setValue(layers)
        if self.head_box.count() != heads + 1:
            self.head_box.clear()
            self.head_box.addItem("mean of heads")
            self.head_box.addItems([f"head {i + 1}" for i in range(heads)])

    def show_mode(self, mode: str) -> None:
        """Show the settings that mean something in ``mode``; hide the rest."""
        model = mode in ("attention", "masking")
        shown = {"mode": True, "patch": mode in ("patches", "windows"), "preset": mode == "patches",
                 "source": model, "seed": model, "new": model, "query": mode == "attention",
                 "layer": mode == "attention", "head": mode == "attention", "wcheck": mode == "windows",
                 "window": mode == "windows", "sam": mode == "windows", "mask": mode == "masking",
                 "mseed": mode == "masking"}
        for key, (label, field) in self._rows.items():
            label.setVisible(shown[key] and bool(label.text()))
            field.setVisible(shown[key])
        self.hint.setText(_HINTS[mode])
