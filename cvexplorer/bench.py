"""``cvexplorer bench``: run the benchmark suite in ``benchmarks/`` and print one table.

Each ``benchmarks/<name>.py`` defines ``run(quick=False) -> list[dict]`` whose rows carry
``what, ours_ms, ref, ref_ms, ratio, accuracy``; both sides are measured in the same process and
run, after a warm-up, as medians over repeats. ``--json`` prints the rows as JSON instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

__all__ = ["main", "median_ms", "benchmarks_dir", "machine", "print_rows", "settle_allocator"]


def benchmarks_dir() -> Path:
    here = Path(__file__).resolve().parents[1] / "benchmarks"
    if not here.is_dir():
        raise ValueError("The benchmarks/ folder ships with the source checkout, not with the wheel; "
                         "run `cvexplorer bench` from a clone of the project.")
    return here


def median_ms(fn: Callable[[], object], repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds, after ``warmup`` untimed calls.

    >>> median_ms(lambda: sum(range(100)), repeats=3) >= 0
    True
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def settle_allocator() -> None:
    """Put the process's memory allocator in the state a running app is in, before anything is timed.

    glibc starts a process with a 128 KiB mmap threshold: every larger temporary array gets fresh
    pages from the kernel (and page-faults on first touch) until a large block is freed, which raises
    the threshold for the rest of the process's life. A running app passes that point with the first
    picture it shows; a fresh benchmark process had not, which charged the first suite (stereo on
    Tsukuba: 11.5 against 8.0 ms) for page faults the app never pays. Both sides of every row are
    measured after this. Elsewhere than glibc it costs one allocation and changes nothing.
    """
    import numpy as np

    block = np.ones(16 << 20, np.uint8)  # 16 MiB: above the default threshold, below glibc's 32 MiB cap
    del block


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"cvx_bench_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _fmt(v, digits=2) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def format_table(rows: list[dict]) -> str:
    cols = ("suite", "what", "ours_ms", "ref", "ref_ms", "ratio", "accuracy")
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(cols)]
    line = " | ".join(c.ljust(w) for c, w in zip(cols, widths))
    out = [line, "-|-".join("-" * w for w in widths)]
    out += [" | ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(out)


def format_markdown(rows: list[dict]) -> str:
    """The same rows as a Markdown table (for the README); a '|' inside a cell is escaped.

    >>> print(format_markdown([{"suite": "nms", "what": "a|b", "ours_ms": 1.0}]))
    | suite | what | ours_ms | ref | ref_ms | ratio | accuracy |
    |---|---|---|---|---|---|---|
    | nms | a\\|b | 1.00 | — | — | — | — |
    """
    cols = ("suite", "what", "ours_ms", "ref", "ref_ms", "ratio", "accuracy")
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in cols) + " |" for r in rows]
    return "\n".join(out)


def print_rows(rows: list[dict]) -> None:
    """Print one benchmark's rows as the suite table (what ``python benchmarks/<name>.py`` shows)."""
    print(f"Machine: {machine()}")
    print(format_table(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cvexplorer bench", description="Run the benchmark suite (benchmarks/*.py).")
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. nms stereo startup")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table (as in the README)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes")
    ap.add_argument("--list", action="store_true", help="list the benchmarks")
    args = ap.parse_args(argv)
    d = benchmarks_dir()
    available = sorted(p.stem for p in d.glob("*.py") if not p.stem.startswith("_"))
    if args.list:
        print("\n".join(available))
        return 0
    names = args.names or available
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"No benchmark called {unknown[0]!r}; the benchmarks are: {', '.join(available)}.")
    rows: list[dict] = []
    failed = 0
    settle_allocator()
    for name in names:
        t0 = time.perf_counter()
        try:
            mod = _load(d / f"{name}.py")
            for r in mod.run(quick=args.quick):
                rows.append({"suite": name, **r})
        except Exception as exc:  # one failing benchmark must not hide the others
            failed += 1
            rows.append({"suite": name, "what": f"FAILED: {type(exc).__name__}: {exc}"})
            traceback.print_exc(file=sys.stderr)
        print(f"[bench] {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.json:
        print(json.dumps({"machine": machine(), "rows": rows}, indent=2, default=float))
    elif args.markdown:
        print(f"Machine: {machine()}\n")
        print(format_markdown(rows))
    else:
        print(f"Machine: {machine()}")
        print(format_table(rows))
    return 1 if failed else 0
