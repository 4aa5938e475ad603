"""Preset stacks of well-known networks (torchvision layouts), one path each."""

from __future__ import annotations

from .core import Layer

__all__ = ["PRESETS", "PRESET_TITLES"]


def _c(k, s=1, p=None, d=1, name=""):
    return Layer("conv", k, s, (d * (k - 1)) // 2 if p is None else p, d, name)


def _mp(k, s, p=0, name=""):
    return Layer("maxpool", k, s, p, 1, name)


def _alexnet():
    return (_c(11, 4, 2, name="conv1"), _mp(3, 2, name="pool1"), _c(5, 1, 2, name="conv2"), _mp(3, 2, name="pool2"),
            _c(3, name="conv3"), _c(3, name="conv4"), _c(3, name="conv5"), _mp(3, 2, name="pool5"))


def _vgg16():
    out = []
    for b, n in enumerate((2, 2, 3, 3, 3), start=1):
        out += [_c(3, name=f"conv{b}_{i + 1}") for i in range(n)]
        out.append(_mp(2, 2, name=f"pool{b}"))
    return tuple(out)


def _resnet_stem():
    return [_c(7, 2, 3, name="conv1"), _mp(3, 2, 1, name="maxpool")]


def _resnet18():
    out = _resnet_stem()
    for li, s in enumerate((1, 2, 2, 2), start=1):
        for b in range(2):
            out.append(_c(3, s if b == 0 else 1, name=f"layer{li}.{b}.conv1"))
            out.append(_c(3, name=f"layer{li}.{b}.conv2"))
    return tuple(out)


def _resnet50():
    out = _resnet_stem()
    for li, (n, s) in enumerate(((3, 1), (4, 2), (6, 2), (3, 2)), start=1):
        for b in range(n):
            out.append(_c(1, name=f"layer{li}.{b}.conv1"))
            out.append(_c(3, s if b == 0 else 1, name=f"layer{li}.{b}.conv2"))  # torchvision: stride in the 3×3
            out.append(_c(1, name=f"layer{li}.{b}.conv3"))
    return tuple(out)


def _unet_encoder():
    out = []
    for lvl in range(1, 5):
        out += [_c(3, name=f"enc{lvl}.conv1"), _c(3, name=f"enc{lvl}.conv2"), _mp(2, 2, name=f"pool{lvl}")]
    out += [_c(3, name="bottleneck.conv1"), _c(3, name="bottleneck.conv2")]
    return tuple(out)


def _mobilenet_v2():
    out = [_c(3, 2, 1, name="features.0")]
    idx = 1
    for t, _c_out, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                            (6, 160, 3, 2), (6, 320, 1, 1)):
        for b in range(n):
            if t != 1:
                out.append(_c(1, name=f"features.{idx}.expand"))
            out.append(_c(3, s if b == 0 else 1, name=f"features.{idx}.dw"))
            out.append(_c(1, name=f"features.{idx}.project"))
            idx += 1
    out.append(_c(1, name=f"features.{idx}"))
    return tuple(out)


PRESETS: dict[str, tuple[Layer, ...]] = {
    "alexnet": _alexnet(),
    "vgg16": _vgg16(),
    "resnet18": _resnet18(),
    "resnet50": _resnet50(),
    "unet_encoder": _unet_encoder(),
    "mobilenet_v2": _mobilenet_v2(),
}
PRESET_TITLES = {
    "alexnet": "AlexNet (torchvision)",
    "vgg16": "VGG-16",
    "resnet18": "ResNet-18 (torchvision)",
    "resnet50": "ResNet-50 (torchvision)",
    "unet_encoder": "U-Net encoder (padded)",
    "mobilenet_v2": "MobileNetV2 (torchvision)",
}
