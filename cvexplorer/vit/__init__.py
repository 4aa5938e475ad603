"""Vision Transformers: patches and tokens, what attention costs, and a tiny ViT to look inside.

Submodules: :mod:`.patches` (patchify and its inverse, the token grid), :mod:`.cost` (parameters,
attention arithmetic and memory for any configuration, windowed against global attention),
:mod:`.attention` (rollout, position-embedding similarity, MAE masking), :mod:`.scenes` (the
generated shape scenes) and :mod:`.model` (the shipped tiny ViT). Every public name is importable
from ``cvexplorer.vit``.

>>> from cvexplorer.vit import token_grid, vit_cost, preset
>>> token_grid(224, 224, 16).tokens, round(vit_cost(preset("ViT-B/16")).params / 1e6, 1)
(197, 86.6)
"""

from .attention import (MaskDraw, attention_from_qk, neighbour_similarity, object_mass, pos_similarity, random_mask,
                        rollout, similarity_mosaic, token_weights)
from .cost import (PRESETS, PatchCost, ViTCost, ViTSpec, WindowCost, attention_ratio, patch_cost, preset, vit_cost,
                   window_cost, window_visibility)
from .model import (MaskedRun, ObjectAttention, TinyViT, ViTRun, attention_map, clear_vit_cache, cls_object_attention,
                    load_tiny_vit, masked_prediction, qk_weights, run_tiny_vit, vit_metrics_path, vit_model_path)
from .patches import (TokenGrid, fit_square, grid_segments, masked_image, padding_rects, patch_at, patch_rects, patchify,
                      token_grid, unpatchify)
from .scenes import SHAPE_CLASSES, ShapeScene, object_patches, shape_batch, shape_scene

__all__ = [
    "TokenGrid", "token_grid", "patchify", "unpatchify", "patch_rects", "patch_at", "grid_segments",
    "masked_image", "padding_rects", "fit_square",
    "ViTSpec", "ViTCost", "vit_cost", "PRESETS", "preset", "attention_ratio", "WindowCost", "window_cost",
    "window_visibility", "PatchCost", "patch_cost",
    "attention_from_qk", "rollout", "token_weights", "pos_similarity", "similarity_mosaic", "MaskDraw",
    "random_mask", "object_mass", "neighbour_similarity",
    "SHAPE_CLASSES", "ShapeScene", "shape_scene", "shape_batch", "object_patches",
    "vit_model_path", "vit_metrics_path", "TinyViT", "ViTRun", "load_tiny_vit", "run_tiny_vit", "qk_weights",
    "ObjectAttention", "cls_object_attention", "attention_map", "clear_vit_cache",
    "MaskedRun", "masked_prediction",
]
