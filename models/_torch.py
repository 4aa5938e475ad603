"""PyTorch for the training scripts: an optional extra, so its absence is one sentence, not a traceback."""

from __future__ import annotations


def require_torch(threads: int):
    """Import torch (CPU threads set to ``threads``), or exit with the line that installs it."""
    try:
        import torch
    except ImportError:
        raise SystemExit("PyTorch is not installed: pip install -e .[train]  (CPU wheels are enough)") from None
    torch.set_num_threads(threads)
    return torch
