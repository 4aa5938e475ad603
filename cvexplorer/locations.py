"""Where the models that ship with cvexplorer live, in a checkout and in an installed copy.

The models are the package ``cvexplorer.models`` (``models/`` in the source tree, mapped by
``pyproject.toml``). An installed copy must not look in ``site-packages/models`` (another
project's folder, or nothing); a source checkout run without installing (``PYTHONPATH=.``) has
no ``cvexplorer.models`` to import, so its ``models/`` folder is found beside ``pyproject.toml``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["shipped_model_dirs", "shipped_model", "checkout_root"]


def checkout_root() -> Path | None:
    """The source checkout this ``cvexplorer`` runs from, or None for an installed copy."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "cvexplorer" / "__init__.py").is_file():
        return root
    return None


def shipped_model_dirs() -> list[Path]:
    """The folders holding the models that ship with cvexplorer (usually one)."""
    dirs: list[Path] = []
    try:
        spec = importlib.util.find_spec("cvexplorer.models")
        if spec and spec.submodule_search_locations:
            dirs += [Path(p).resolve() for p in spec.submodule_search_locations]
    except (ImportError, ValueError):  # discovery never fails
        pass
    root = checkout_root()
    if root is not None and (root / "models").is_dir() and (root / "models").resolve() not in dirs:
        dirs.append((root / "models").resolve())
    return dirs


def shipped_model(filename: str) -> Path:
    """The path of a model file that ships with cvexplorer (``unet_tiny.onnx``, ``vit_tiny.onnx``, …):
    the first shipped-models folder that holds it, else where the first one would hold it."""
    dirs = shipped_model_dirs()
    for d in dirs:
        if (d / filename).is_file():
            return d / filename
    return (dirs[0] if dirs else Path(__file__).resolve().parents[1] / "models") / filename
