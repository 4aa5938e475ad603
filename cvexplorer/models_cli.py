"""``cvexplorer models …``: what is installed, and getting or installing catalogue models.

``cvexplorer models``                 the catalogue models installed (re-verified) and every SAM pair found
``cvexplorer models DIR …``           the SAM pairs in those folders (a folder named get is given as ./get)
``cvexplorer models get ID``          download, verify and install a catalogue model (progress on stderr)
``cvexplorer models install FILE…``   the same checks for a zip or ONNX files downloaded elsewhere
``cvexplorer models remove ID``       delete an installed catalogue model
"""

from __future__ import annotations

import sys
from typing import Sequence

from . import modelstore as M

__all__ = ["main"]


def _progress(done: int, total: int, bps: float) -> None:
    left = (total - done) / bps if bps > 0 else float("inf")
    eta = f"{left:.0f} s left" if left != float("inf") else "…"
    print(f"\r{done / 1e6:6.1f} / {total / 1e6:.1f} MB  {bps / 1e6:5.1f} MB/s  {eta}   ", end="", file=sys.stderr,
          flush=True)


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if argv and argv[0] == "get":
        if len(argv) != 2:
            raise ValueError(f"Say which model to get: cvexplorer models get {' | '.join(M.CATALOGUE)}.")
        entry = M.CATALOGUE.get(argv[1])
        if entry is None:
            M.download(argv[1])  # raises the catalogue sentence
        print(f"Getting {entry.label} ({entry.size_text}, {entry.licence}) from {entry.urls[0]}", file=sys.stderr)
        got = M.download(argv[1], progress=_progress)
        print(file=sys.stderr)
        print(f"Installed and verified in {got.folder}")
        return 0
    if argv and argv[0] == "install":
        if len(argv) < 2:
            raise ValueError("Give the zip (or the ONNX files) to install: cvexplorer models install FILE.")
        got = M.install_from_file(argv[1:] if len(argv) > 2 else argv[1])
        print(f"Installed and verified {got.entry.label} in {got.folder}")
        return 0
    if argv and argv[0] == "remove":
        if len(argv) != 2:
            raise ValueError("Say which model to remove: cvexplorer models remove ID.")
        print(f"Removed {M.remove(argv[1])}")
        return 0
    if not argv:
        found = M.installed()
        for m in found:
            state = "verified" if m.verified else "FILES CHANGED: reinstall with `cvexplorer models get " + m.entry.id + "`"
            print(f"{m.entry.id}: {m.entry.label} in {m.folder} ({state})")
        if not found:
            print(f"No catalogue model installed; `cvexplorer models get mobile-sam` fetches MobileSAM "
                  f"({M.CATALOGUE['mobile-sam'].size_text}) into {M.install_dir()}.")
    from .sam import models_cli  # lazy: SAM discovery loads onnxruntime to read each pair's variant

    return models_cli(argv)
