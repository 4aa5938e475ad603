"""A frozen-dataclass base whose fields also read like a dict (``r["bad"]``), for scripts written before
the stereo results became typed."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

__all__ = ["Record"]


class Record:
    """Mixin for frozen dataclasses: ``r.bad`` is the typed way, ``r["bad"]`` and ``r.get("bad")`` still work."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]  # type: ignore[arg-type]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.keys() and getattr(self, key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.keys()}
