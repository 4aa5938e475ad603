"""Trace and Step: the immutable, random-access record that every step-through returns.

A teaching algorithm (a sliding kernel, greedy NMS, RANSAC, ...) has a fast function and a
``*_trace()`` twin returning a :class:`Trace`. The UI never animates the algorithm itself: it
renders ``trace[i]`` for whichever ``i`` a timer, a slider or the keyboard asks for, so play,
pause, step back, scrub and "screenshot at step N" all come for free.

Large traces (every kernel position on a photo) are *lazy*: they hold a length and a function
that builds step ``i`` on demand, with a small cache.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

__all__ = ["Step", "Trace", "freeze"]


def freeze(value: Any) -> Any:
    """Return ``value`` with every NumPy array made read-only (copied if it was writeable).

    >>> a = freeze(np.arange(3))
    >>> a.flags.writeable
    False
    """
    if isinstance(value, np.ndarray):
        if value.flags.writeable:
            value = value.copy()
            value.setflags(write=False)
        return value
    if isinstance(value, tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    return value


@dataclass(frozen=True)
class Step:
    """One step of an algorithm: its index, a short caption and named read-only data.

    Parameters
    ----------
    index : int
        Position of the step in its trace.
    caption : str
        One line a student can read ("pick box 3 (score 0.92)").
    data : mapping
        Named values: indices, scores, read-only arrays. Access as ``step["name"]`` or ``step.name``.

    >>> s = Step(0, "start", {"total": 3})
    >>> s.total, s["total"]
    (3, 3)
    """

    index: int
    caption: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", freeze(dict(self.data)))

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __getattr__(self, key: str) -> Any:
        # Only called when normal lookup fails: expose data entries as attributes.
        data = object.__getattribute__(self, "data")
        try:
            return data[key]
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


class Trace(Sequence[Step]):
    """An immutable, random-access sequence of :class:`Step`, eager or lazy.

    Parameters
    ----------
    steps : sequence of Step, optional
        The steps, for an eager trace.
    length, make_step : int, callable, optional
        For a lazy trace: how many steps there are and a function ``i -> Step``.
    final : any
        The algorithm's result, which must equal what the fast function returns.
    meta : mapping
        Facts about the whole run (input shape, parameters) that every step shares.

    >>> t = Trace(length=4, make_step=lambda i: Step(i, f"step {i}"), final=42)
    >>> len(t), t[-1].caption, t.final
    (4, 'step 3', 42)
    """

    def __init__(
        self,
        steps: Sequence[Step] | None = None,
        *,
        length: int | None = None,
        make_step: Callable[[int], Step] | None = None,
        final: Any = None,
        meta: Mapping[str, Any] | None = None,
        cache_size: int = 64,
    ) -> None:
        if steps is not None and make_step is not None:
            raise ValueError("give either a list of steps or a step function, not both")
        if steps is None and make_step is None:
            steps = ()
        if steps is not None:
            self._steps: tuple[Step, ...] | None = tuple(steps)
            self._length = len(self._steps)
            self._make = None
        else:
            if length is None or length < 0:
                raise ValueError("a lazy trace needs a non-negative length")
            self._steps = None
            self._length = int(length)
            self._make = make_step
        self._cache: OrderedDict[int, Step] = OrderedDict()
        self._cache_size = cache_size
        self.final = freeze(final)
        self.meta = freeze(dict(meta or {}))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._length))]
        i = int(i)
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError(f"step {i} is outside this trace of {self._length} steps")
        if self._steps is not None:
            return self._steps[i]
        step = self._cache.get(i)
        if step is None:
            step = self._make(i)  # type: ignore[misc]
            self._cache[i] = step
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(i)
        return step

    def __iter__(self) -> Iterator[Step]:
        for i in range(self._length):
            yield self[i]

    @property
    def lazy(self) -> bool:
        return self._steps is None

    def __repr__(self) -> str:
        kind = "lazy " if self.lazy else ""
        return f"<{kind}Trace of {self._length} steps>"
