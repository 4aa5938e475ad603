"""What the user gave SAM: points (object / not object) and at most one box, as small frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["Prompt", "prompt_args", "needs_box"]


@dataclass(frozen=True)
class Prompt:
    """One prompt in original-image pixels: a point ``(x, y)`` with ``label`` 1 (object) or 0 (not object),
    or a box ``(x0, y0, x1, y1)`` (``kind == "box"``, ``label`` unused).

    >>> Prompt.point(10, 20, 1).to_list(), Prompt.box(1, 2, 30, 40).to_list()
    (['point', 10.0, 20.0, 1], ['box', 1.0, 2.0, 30.0, 40.0])
    >>> Prompt.from_list(['point', 10, 20, 0]).label
    0
    """

    kind: str
    coords: tuple[float, ...]
    label: int = 1

    def __post_init__(self) -> None:
        if self.kind == "point":
            if len(self.coords) != 2 or self.label not in (0, 1):
                raise ValueError("A point prompt is (x, y) with label 1 (object) or 0 (not object).")
        elif self.kind == "box":
            if len(self.coords) != 4:
                raise ValueError("A box prompt is (x0, y0, x1, y1).")
        else:
            raise ValueError(f"A prompt is a 'point' or a 'box', not {self.kind!r}.")

    @classmethod
    def point(cls, x: float, y: float, label: int = 1) -> "Prompt":
        return cls("point", (float(x), float(y)), int(label))

    @classmethod
    def box(cls, x0: float, y0: float, x1: float, y1: float) -> "Prompt":
        return cls("box", (float(x0), float(y0), float(x1), float(y1)))

    @property
    def positive(self) -> bool:
        return self.kind == "point" and self.label == 1

    @property
    def negative(self) -> bool:
        return self.kind == "point" and self.label == 0

    def to_list(self) -> list:
        """JSON form (lessons): ``["point", x, y, label]`` or ``["box", x0, y0, x1, y1]``."""
        return [self.kind, *self.coords] + ([self.label] if self.kind == "point" else [])

    @classmethod
    def from_list(cls, item: Sequence) -> "Prompt":
        if not item or item[0] not in ("point", "box"):
            raise ValueError(f"A saved prompt starts with 'point' or 'box', not {item!r}.")
        return cls.point(*item[1:4]) if item[0] == "point" else cls.box(*item[1:5])


def prompt_args(prompts: Sequence[Prompt]) -> tuple[list[tuple[float, float]], list[int], tuple | None]:
    """Prompts -> the predictor's ``(points, labels, box)``; the last box wins (SAM takes one).

    >>> prompt_args([Prompt.point(1, 2, 1), Prompt.box(0, 0, 5, 5), Prompt.point(3, 4, 0)])
    ([(1.0, 2.0), (3.0, 4.0)], [1, 0], (0.0, 0.0, 5.0, 5.0))
    """
    pts = [p.coords for p in prompts if p.kind == "point"]
    labels = [p.label for p in prompts if p.kind == "point"]
    boxes = [p.coords for p in prompts if p.kind == "box"]
    return pts, labels, (boxes[-1] if boxes else None)


def needs_box(prompts: Sequence[Prompt], mask, *, min_fraction: float = 0.01) -> bool:
    """Should the user be offered a box? True when only clicks were given and the mask covers less than
    ``min_fraction`` of the image: one click is ambiguous (a part or the whole?), a box says how big.

    >>> import numpy as np
    >>> m = np.zeros((100, 100), bool); m[:5, :5] = True
    >>> needs_box([Prompt.point(2, 2)], m), needs_box([Prompt.box(0, 0, 5, 5)], m)
    (True, False)
    """
    if mask is None or any(p.kind == "box" for p in prompts) or not any(p.positive for p in prompts):
        return False
    m = np.asarray(mask, bool)
    return bool(m.mean() < min_fraction)
