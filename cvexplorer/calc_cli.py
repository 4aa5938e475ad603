"""``cvexplorer calc FAMILY [--option VALUE ...] [--json]``: a formula with its derivation.

Each family of :data:`cvexplorer.derivations.FAMILIES` is a subcommand whose options are the
family's parameters (``--size 224 --kernel 3 --stride 2 --padding 1``). The output is the
formula, the substitution and the result (or JSON with ``--json``). Bad input prints one sentence
on stderr and returns 2.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from typing import Sequence

import numpy as np

from .derivations import FAMILIES, Derivation, derive

__all__ = ["main", "build_parser"]


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one sentence, no usage dump
        msg = message[0].upper() + message[1:]
        raise _Usage(msg if msg.endswith(".") else msg + ".")


def _listing() -> str:
    lines = []
    group = None
    for key, fam in FAMILIES.items():
        if fam.group != group:
            group = fam.group
            lines.append(f"{group}:")
        lines.append(f"  {key:<16} {fam.title}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="cvexplorer calc", formatter_class=argparse.RawDescriptionHelpFormatter,
                 description="Compute a computer-vision formula and show its derivation.",
                 epilog="families:\n" + _listing() + "\n\nexample: cvexplorer calc conv-out --size 224 --kernel 3 "
                        "--stride 2 --padding 1\n`cvexplorer calc FAMILY --help` lists a family's options.")
    sub = ap.add_subparsers(dest="family", metavar="FAMILY", parser_class=_Parser)
    for key, fam in FAMILIES.items():
        sp = sub.add_parser(key, help=fam.title, description=fam.title)
        for p in fam.params:
            flag = "--" + p.name.replace("_", "-")
            help_ = f"{p.label} (default {p.plain_default})"
            if p.kind == "bool":
                sp.add_argument(flag, dest=p.name, action=argparse.BooleanOptionalAction, default=p.plain_default, help=help_)
            else:
                typ = {"int": int, "float": float, "text": str}[p.kind]
                sp.add_argument(flag, dest=p.name, type=typ, default=p.plain_default, metavar=p.kind.upper(), help=help_)
        sp.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return ap


_NOT_A_NUMBER = re.compile(r"∞|\binf\b|\bnan\b", re.IGNORECASE)


def _numbers_finite(x) -> bool:
    if isinstance(x, (bool, str)) or x is None:
        return True
    if isinstance(x, dict):
        return all(_numbers_finite(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return all(_numbers_finite(v) for v in x)
    if isinstance(x, (int, np.integer)):
        return True
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return True  # not a number


def _all_finite(d: Derivation) -> bool:
    """Every number in the answer, its plot data and its text is finite."""
    data = d.as_dict()
    return (_numbers_finite(data["value"]) and _numbers_finite(data["extra"])
            and not any(_NOT_A_NUMBER.search(t) for t in (d.substitution, d.result, d.meaning)))


def _not_finite(family: str, values: dict, d: Derivation | None) -> str:
    """One sentence for an answer that is not a finite number, naming the input to change."""
    if d is not None and d.not_finite:
        return d.not_finite
    for p in FAMILIES[family].params:
        v = values[p.name]
        if p.kind in ("int", "float") and not p.lo <= v <= p.hi:
            return (f"The answer is not a finite number: {p.label} = {v:g} is outside the range this calculator "
                    f"works in ({p.lo:g} to {p.hi:g}).")
    shown = ", ".join(f"{p.label} = {values[p.name]}" for p in FAMILIES[family].params)
    return f"The answer is not a finite number for {shown}; bring these inputs nearer to the defaults."


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = build_parser()
    try:
        if not argv:
            ap.print_help()
            return 0
        args = ap.parse_args(argv)
        if not args.family:
            ap.print_help()
            return 0
        values = {p.name: getattr(args, p.name) for p in FAMILIES[args.family].params}
        with np.errstate(all="ignore"):  # an overflow is caught below as a result that is not finite
            try:
                d = derive(args.family, **values)
            except ArithmeticError:  # Python's float overflow or division by zero
                raise ValueError(_not_finite(args.family, values, None)) from None
        if not _all_finite(d):
            raise ValueError(_not_finite(args.family, values, d))
    except (_Usage, ValueError) as exc:
        print(f"cvexplorer calc: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = d.as_dict()
        out["inputs"] = values
        print(json.dumps(out, ensure_ascii=False, default=float, allow_nan=False))
    else:
        print(f"{FAMILIES[args.family].title}")
        print(f"  formula:  {d.formula}")
        print(f"  values:   {d.substitution}")
        print(f"  result:   {d.result}")
        if d.meaning:
            print(f"  meaning:  {d.meaning}")
        if args.family == "rf":
            print("  layer  kernel  stride     RF  jump   start   out")
            for r in d.extra["rows"]:
                out_s = "" if r["out"] is None else str(r["out"])
                print(f"  {r['layer']:>5}  {r['kernel']:>6}  {r['stride']:>6}  {r['rf']:>5}  {r['jump']:>4}  {r['start']:>6g}  {out_s:>4}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
