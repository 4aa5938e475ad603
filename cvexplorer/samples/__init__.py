"""Built-in sample images, all generated procedurally (no third-party pictures ship with the app).

``SAMPLES`` maps an id to a :class:`Sample` (title + generator). Generators are deterministic
(seeded) and take the output size, so the same sample is the same picture on every machine.
Scenes that carry exact ground truth (object boxes, disparity, masks) live in submodules:
:mod:`.scenes` (photo-like still life with object boxes), :mod:`.stereo` (a rendered stereo pair
with exact disparity) and :mod:`.segmentation` (scenes with exact masks for the U-Net).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .scenes import SceneObject, checkerboard, document, gradient, still_life, still_life_objects, shapes
from .segmentation import segmentation_scene
from .stereo import stereo_scene

__all__ = ["Sample", "SAMPLES", "get_sample", "sample_ids", "still_life", "still_life_objects",
           "SceneObject", "stereo_scene", "segmentation_scene"]


@dataclass(frozen=True)
class Sample:
    id: str
    title: str
    make: Callable[..., np.ndarray]


SAMPLES: dict[str, Sample] = {s.id: s for s in (
    Sample("still-life", "Still life on a desk (photo-like)", still_life),
    Sample("shapes", "Geometric shapes", shapes),
    Sample("checkerboard", "Checkerboard", checkerboard),
    Sample("document", "A poster seen at an angle", document),
    Sample("gradient", "Smooth gradient", gradient),
)}


def sample_ids() -> list[str]:
    return list(SAMPLES)


def get_sample(sample_id: str, size: tuple[int, int] = (1280, 960)) -> np.ndarray:
    """Render a built-in sample at ``size = (width, height)`` as RGB uint8.

    >>> get_sample("checkerboard", (64, 48)).shape
    (48, 64, 3)
    """
    try:
        sample = SAMPLES[sample_id]
    except KeyError:
        raise ValueError(f"There is no sample called {sample_id!r}; choose one of "
                         f"{', '.join(SAMPLES)}.") from None
    return sample.make(size=size)
