"""Finding SAM encoder/decoder pairs on disk, and ``cvexplorer models``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..modelstore import search_dirs, user_data_dir  # noqa: F401 - user_data_dir re-exported
from .predictor import SamModel

__all__ = ["ModelPair", "find_models", "model_dirs", "models_cli", "user_data_dir"]


@dataclass(frozen=True)
class ModelPair:
    encoder: Path
    decoder: Path
    name: str


def model_dirs() -> list[Path]:
    """Where model pairs are looked for: ``$CVEXPLORER_MODELS``, the user's models folder, then the models
    that ship with cvexplorer (the one search order, :func:`cvexplorer.modelstore.search_dirs`)."""
    return search_dirs()


def _role(name: str) -> str:
    n = name.lower()
    if "encoder" in n or "image_encoder" in n or "vit_image" in n:
        return "encoder"
    if "decoder" in n or "prompt" in n:
        return "decoder"
    return ""


def find_models(dirs: Sequence[str | os.PathLike] | None = None) -> list[ModelPair]:
    """Encoder/decoder pairs by file name (``*encoder*.onnx`` with the matching ``*decoder*.onnx``).

    A folder with exactly one encoder and one decoder pairs them whatever their names. Signatures
    are not read here (that is :meth:`SamModel.load`'s job), so this is instant.
    """
    pairs: list[ModelPair] = []
    seen: set[tuple[Path, Path]] = set()
    for d in (model_dirs() if dirs is None else [Path(x) for x in dirs]):
        d = Path(d)
        if not d.is_dir():
            continue
        files = sorted(p for p in d.rglob("*.onnx") if p.is_file())
        encs = [p for p in files if _role(p.name) == "encoder"]
        decs = [p for p in files if _role(p.name) == "decoder"]
        used: set[Path] = set()
        for e in encs:
            for a, b in (("encoder", "decoder"), ("Encoder", "Decoder"), ("ENCODER", "DECODER")):
                cand = e.with_name(e.name.replace(a, b))
                if cand != e and cand in decs and cand not in used:
                    key = (e.resolve(), cand.resolve())
                    if key not in seen:
                        seen.add(key)
                        pairs.append(ModelPair(e, cand, _pair_name(e)))
                    used.add(cand)
                    used.add(e)
                    break
        by_dir: dict[Path, tuple[list[Path], list[Path]]] = {}
        for p in encs:
            if p not in used:
                by_dir.setdefault(p.parent, ([], []))[0].append(p)
        for p in decs:
            if p not in used:
                by_dir.setdefault(p.parent, ([], []))[1].append(p)
        for _, (es, ds) in by_dir.items():
            if len(es) == 1 and len(ds) == 1:
                key = (es[0].resolve(), ds[0].resolve())
                if key not in seen:
                    seen.add(key)
                    pairs.append(ModelPair(es[0], ds[0], _pair_name(es[0])))
    return pairs


def _pair_name(enc: Path) -> str:
    stem = enc.name[:-5] if enc.name.endswith(".onnx") else enc.stem
    for token in (".encoder", "_encoder", "-encoder", "encoder"):
        stem = stem.replace(token, "")
    return stem.strip("._-") or enc.parent.name


def models_cli(argv: Sequence[str]) -> int:
    """``cvexplorer models [DIR ...]``: the pairs found and each one's detected variant."""
    import argparse

    ap = argparse.ArgumentParser(prog="cvexplorer models", description="List SAM encoder/decoder pairs found in "
                                 "models/, the user data folder and $CVEXPLORER_MODELS (or the folders given).")
    ap.add_argument("dirs", nargs="*", help="folders to search instead of the default ones")
    args = ap.parse_args(list(argv))
    dirs = [Path(d) for d in args.dirs] if args.dirs else model_dirs()
    for d in dirs:
        if args.dirs and not d.is_dir():
            raise ValueError(f"{d} is not a folder.")
    pairs = find_models(dirs)
    print("Searched: " + ", ".join(str(d) for d in dirs))
    if not pairs:
        print("No SAM model pairs found (need *encoder*.onnx + *decoder*.onnx). See models/README.md; "
              "the panel uses its GrabCut fallback meanwhile.")
        return 0
    for p in pairs:
        try:
            m = SamModel.load(p.encoder, p.decoder, device="cpu")
            status = m.variant
        except ValueError as exc:
            status = f"NOT USABLE: {exc}"
        print(f"{p.name}\n  encoder: {p.encoder}\n  decoder: {p.decoder}\n  variant: {status}")
    return 0
