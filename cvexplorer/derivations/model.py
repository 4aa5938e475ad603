"""The data model of a worked derivation: a Param of a Family, and the Derivation it returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Param", "Derivation", "Family"]


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str  # "int" | "float" | "bool" | "text"
    default: Any
    lo: float = 0
    hi: float = 10**9
    step: float = 1
    choices: tuple = ()  # values practice problems draw from (empty: not randomised)
    help: str = ""
    cli_default: Any = "same"  # default for `cvexplorer calc` when it differs from the panel's

    @property
    def plain_default(self):
        return self.default if self.cli_default == "same" else self.cli_default


@dataclass(frozen=True)
class Derivation:
    family: str
    formula: str
    substitution: str
    result: str
    value: Any  # the number the question asks for (what practice mode checks)
    meaning: str = ""
    extra: dict = field(default_factory=dict)
    #: When the answer is truly infinite (the far end of a depth range), one sentence saying why and
    #: naming the input to change: the panel shows ∞, ``cvexplorer calc`` prints this and exits 2.
    not_finite: str = ""

    def as_dict(self) -> dict:
        v = self.value
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, tuple):
            v = list(v)
        extra = {k: _plain(x) for k, x in self.extra.items()}
        return {"family": self.family, "formula": self.formula, "substitution": self.substitution,
                "result": self.result, "value": v, "meaning": self.meaning, "extra": extra}


def _plain(x):
    """``x`` with arrays, tuples and dataclasses (plot layouts) turned into lists and dicts, for JSON."""
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    group: str
    params: tuple[Param, ...]
    fn: Callable[..., Derivation]
    question: str = ""  # practice question template (str.format with the values)
    unit: str = ""
    practice: bool = True

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}
