"""The panel registry: id, title, one-line description and where the panel's class lives.

Panels are imported and created lazily (the first time they are opened), so start-up only pays
for the welcome page.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["PanelSpec", "PANELS", "panel_ids", "get_spec", "create_panel"]


@dataclass(frozen=True)
class PanelSpec:
    id: str
    title: str
    description: str
    module: str  # module inside cvexplorer.ui.panels
    short: str = ""  # the sidebar's name (fits a narrow column at projector size); defaults to the title
    cls: str = "PanelWidget"

    @property
    def short_title(self) -> str:
        return self.short or self.title


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("welcome", "Welcome", "Every panel at a glance; click one to open it.", "welcome"),
    PanelSpec("calculator", "Calculator", "Output sizes, parameters, MACs, receptive fields, IoU, depth, RANSAC — "
              "each with its derivation, and practice problems.", "calculator", "Calculator"),
    PanelSpec("conv", "Convolution lab", "A kernel sliding over numbers and over your photo, every "
              "multiply-and-sum visible.", "conv", "Convolution"),
    PanelSpec("receptive-field", "Receptive fields", "The exact input region behind any feature-map cell of "
              "AlexNet, VGG, ResNet… drawn on your photo.", "receptive", "Receptive fields"),
    PanelSpec("anchors", "Anchors", "How detectors tile an image with anchors, and which become positives "
              "for the boxes you draw.", "anchors", "Anchors"),
    PanelSpec("nms", "Non-maximum suppression", "Greedy NMS, Soft-NMS and class-aware NMS, one pick at a "
              "time.", "nms", "NMS"),
    PanelSpec("detector", "Detector anatomy", "A tiny YOLO taken apart: the grid, the responsible cell, the output "
              "tensor and its loss, then how detections are scored (mAP).", "detector", "Detector"),
    PanelSpec("unet", "U-Net", "Tensor shapes through the U, real feature maps, and what skip connections "
              "buy.", "unet", "U-Net"),
    PanelSpec("sam", "Segment Anything", "Click an object, get its mask: heavy encoder once, light decoder per "
              "click.", "sam", "Segment Anything"),
    PanelSpec("vit", "Vision Transformer lab", "Your photo cut into patch tokens, what attention costs, and where a "
              "tiny ViT looks.", "vit", "ViT lab"),
    PanelSpec("stereo", "Stereo depth", "Disparity from your image pair, depth = f·B/d, and the 1-D search "
              "along a scanline.", "stereo", "Stereo depth"),
    PanelSpec("stitching", "Homography & stitching", "Features, matches, RANSAC in the open, warping and "
              "blending into a panorama.", "stitching", "Stitching"),
)


def panel_ids() -> list[str]:
    return [p.id for p in PANELS]


def get_spec(panel_id: str) -> PanelSpec:
    for p in PANELS:
        if p.id == panel_id:
            return p
    raise ValueError(f"There is no panel called {panel_id!r}; the panels are: {', '.join(panel_ids())}.")


def create_panel(panel_id: str, ctx, parent=None):
    """Import the panel's module and build it (with its id, title and description set)."""
    spec = get_spec(panel_id)
    module = importlib.import_module(f"cvexplorer.ui.panels.{spec.module}")
    cls = getattr(module, spec.cls)
    panel = cls(ctx, parent)
    panel.panel_id, panel.title, panel.description = spec.id, spec.title, spec.description
    return panel
