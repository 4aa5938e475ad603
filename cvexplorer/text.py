"""Numbers as people type them and as a student writes them: the one home for parsing and formatting.

Every text field of the app (kernel matrices, anchor ratios, layer lists, calculator inputs) is read
by a function here, and every number the app writes goes through :func:`fmt_number` or a sibling, so
"−1", "2^(1/3)" and "1:2" mean the same thing everywhere and an error names the field.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Sequence

import numpy as np

__all__ = ["parse_number", "parse_numbers", "parse_ints", "parse_floats", "parse_matrix", "parse_layers",
           "fmt_number", "fmt_paren", "fmt_count", "fmt_params", "fmt_shape", "fmt_bytes", "fmt_values",
           "fmt_duration"]

_MINUS = str.maketrans({"−": "-", "×": "*", "·": "*", "÷": "/"})
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_MAX_TEXT = 200  # one number is never longer; longer text is refused before it is parsed


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise ValueError("power too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    raise ValueError("not arithmetic")


def parse_number(text: str | float, name: str = "This value") -> float:
    """One number: ``0.5``, ``−1``, ``2^(1/3)``, ``1/3``, or a ratio ``w:h`` read as h / w.

    Arithmetic is parsed (``+ − × / ^`` and brackets), never evaluated as code.

    >>> parse_number("2^(1/3)")
    1.2599210498948732
    >>> parse_number("1:2"), parse_number("−0.5")
    (2.0, -0.5)
    >>> parse_number("x", "ratios")
    Traceback (most recent call last):
    ValueError: ratios: 'x' is not a number (write e.g. 0.5, 2, 1:2 or 2^(1/3)).
    """
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip()
        expr = raw.translate(_MINUS).replace("^", "**")
        try:
            if len(raw) > _MAX_TEXT:
                raise ValueError("too long")
            if ":" in expr:
                w, h = expr.split(":")
                value = parse_number(h, name) / parse_number(w, name)
            else:
                value = _eval(ast.parse(expr, mode="eval").body)
        except (ValueError, SyntaxError, ZeroDivisionError, OverflowError, RecursionError, MemoryError):
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            raise ValueError(f"{name}: {shown!r} is not a number (write e.g. 0.5, 2, 1:2 or 2^(1/3)).") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: {text!r} is not a finite number.")
    return value


def _split(text: str) -> list[str]:
    return [t for t in str(text).replace(";", ",").replace(" ", ",").split(",") if t.strip()]


def parse_numbers(text: str | Sequence[float], name: str = "These values") -> tuple[float, ...]:
    """Numbers separated by commas, semicolons or spaces (each as :func:`parse_number`).

    >>> parse_numbers("0.5, 1; 2")
    (0.5, 1.0, 2.0)
    """
    if isinstance(text, (list, tuple, np.ndarray)):
        values = tuple(parse_number(v, name) for v in np.ravel(text))
    else:
        values = tuple(parse_number(t, name) for t in _split(text))
    if not values:
        raise ValueError(f"{name} needs at least one value.")
    return values


def parse_floats(text, name: str) -> list[float]:
    """Plain decimal numbers separated by commas or spaces.

    >>> parse_floats("1.5 2", "sizes")
    [1.5, 2.0]
    """
    if isinstance(text, (list, tuple, np.ndarray)):
        return [float(v) for v in np.ravel(text)]
    try:
        return [float(t.translate(_MINUS)) for t in _split(text)]
    except ValueError:
        raise ValueError(f"{name} must be numbers separated by commas, got {str(text)[:60]!r}.") from None


def parse_ints(text, name: str) -> list[int]:
    """Whole numbers separated by commas or spaces.

    >>> parse_ints("80, 40, 20", "sizes")
    [80, 40, 20]
    """
    if isinstance(text, (list, tuple)):
        return [int(v) for v in text]
    try:
        return [int(t.translate(_MINUS)) for t in _split(text)]
    except ValueError:
        raise ValueError(f"{name} must be whole numbers separated by commas, got {str(text)[:60]!r}.") from None


def parse_layers(text) -> list[tuple[int, ...]]:
    """``"3/2/1, 3/1/1"`` (kernel/stride[/padding[/dilation]] per layer) -> ``[(3, 2, 1), (3, 1, 1)]``.

    >>> parse_layers("7/2/3, 3x2")
    [(7, 2, 3), (3, 2)]
    """
    if isinstance(text, (list, tuple)):
        return [tuple(int(v) for v in layer) for layer in text]
    layers = []
    for i, chunk in enumerate(t.strip() for t in str(text).replace(";", ",").split(",")):
        if not chunk:
            continue
        try:
            layers.append(tuple(int(v) for v in chunk.replace("x", "/").split("/")))
        except ValueError:
            raise ValueError(f"Layer {i + 1} must be kernel/stride[/padding[/dilation]] like 3/2/1, "
                             f"got {chunk[:40]!r}.") from None
    if not layers:
        raise ValueError("Give at least one layer, e.g. 7/2/3, 3/2/1.")
    return layers


def parse_matrix(text: str, channels: int = 0) -> np.ndarray:
    """Rows of numbers (spaces or commas); channels separated by blank lines.

    >>> parse_matrix("1 0 −1\\n2 0 -2").tolist()
    [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]]
    """
    blocks, cur = [], []
    for line in str(text).translate(_MINUS).splitlines():
        line = line.replace(",", " ").replace(";", " ").strip()
        if not line:
            if cur:
                blocks.append(cur)
                cur = []
            continue
        try:
            cur.append([float(t) for t in line.split()])
        except ValueError:
            raise ValueError(f"This row is not a list of numbers: {line[:60]!r}.") from None
    if cur:
        blocks.append(cur)
    if not blocks:
        raise ValueError("Type at least one row of numbers.")
    mats = []
    for b in blocks:
        if len({len(r) for r in b}) != 1:
            raise ValueError("Every row must have the same number of values.")
        mats.append(np.array(b, dtype=float))
    if channels:
        if len(mats) != channels:
            raise ValueError(f"Give {channels} blocks of rows (one per channel) separated by a blank line.")
        if len({m.shape for m in mats}) != 1:
            raise ValueError("Every channel must have the same size.")
        return np.dstack(mats)
    if len(mats) != 1:
        raise ValueError("Give one block of rows (no blank lines).")
    return mats[0]


def fmt_number(v: float, digits: int = 2) -> str:
    """A number as a student writes it: 3, −1, 0.25, ∞ (a real minus sign, no trailing zeros).

    >>> fmt_number(-1.0), fmt_number(0.250), fmt_number(float("-inf")), fmt_number(1 / 3, 3)
    ('−1', '0.25', '−∞', '0.333')
    """
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        s = "∞"
    elif abs(v - round(v)) < 1e-9 and abs(v) < 1e15:
        s = str(abs(int(round(v))))
    else:
        s = f"{abs(v):.{digits}f}".rstrip("0").rstrip(".")
    return ("−" + s) if v < 0 and s != "0" else s


def fmt_paren(v: float) -> str:
    """:func:`fmt_number`, bracketed when negative (for products: ``2·(−1)``)."""
    s = fmt_number(v)
    return f"({s})" if s.startswith("−") else s


def fmt_count(n: int | float, digits: int = 4) -> str:
    """Integers with thin thousands separators from 100 000 up; other values to ``digits`` significant.

    >>> fmt_count(196416), fmt_count(42), fmt_count(0.123456)
    ('196 416', '42', '0.1235')
    """
    if isinstance(n, (int, np.integer)):
        return f"{int(n):,}".replace(",", " ") if abs(int(n)) >= 100000 else str(int(n))
    x = float(n)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == int(x) and abs(x) < 1e12:
        return fmt_count(int(x))
    return f"{x:.{digits}g}"


def fmt_params(n: int) -> str:
    """A parameter count: ``1,234``, ``12.3 k``, ``4.56 M``.

    >>> fmt_params(1234), fmt_params(12345), fmt_params(4_560_000)
    ('1,234', '12.3 k', '4.56 M')
    """
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f} k"
    return f"{n / 1e6:.2f} M"


def fmt_shape(shape: Sequence[int]) -> str:
    """``(8, 256, 256)`` -> ``8×256×256``."""
    return "×".join(str(int(v)) for v in shape)


def fmt_bytes(n: float) -> str:
    """``fmt_bytes(3 * 2**20)`` -> ``3.00 MiB``."""
    for unit, div in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return f"{int(n)} B"


def fmt_duration(ms: float) -> str:
    """A time in the largest unit that keeps it readable, to 3 significant digits.

    >>> fmt_duration(0.199), fmt_duration(5000), fmt_duration(7.2e6), fmt_duration(5e18)
    ('0.199 ms', '5 s', '2 h', '1.58e+08 years')
    """
    for unit, size in (("years", 3.15576e10), ("days", 8.64e7), ("h", 3.6e6), ("min", 6e4), ("s", 1e3)):
        if ms >= size:
            return f"{ms / size:.3g} {unit}"
    return f"{ms:.3g} ms"


def fmt_values(values: Sequence[float]) -> str:
    """A list of settings as the user typed them: ``0.5, 1, 2``."""
    return ", ".join(f"{float(v):.4g}" for v in values)
