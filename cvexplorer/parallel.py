"""One small thread pool for the engine's work that runs outside the GIL (OpenCV calls, large NumPy ops).

Stereo's weighted median, image mode's bands and the GrabCut fallback's guesses hand pieces of one
job to it and wait for them. A task must not itself wait for another task of this pool (with every
worker waiting, nothing would run); none does.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["shared_pool"]

_POOL: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()


def shared_pool() -> ThreadPoolExecutor:
    """The engine's thread pool, made on first use: 2 to 4 workers, as many as there are cores.

    >>> shared_pool() is shared_pool()
    True
    """
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 1)),
                                       thread_name_prefix="cvexplorer")
        return _POOL
