"""Detections from files: COCO results JSON and YOLO prediction text, with one line per skipped entry.

A detections file is untrusted input: it must be a regular file (not a pipe or a device) of at
most ``LIMITS["file_bytes"]``, it may hold at most ``LIMITS["detections"]`` entries, class ids
run from 0 to ``LIMITS["class_id"]``, JSON may nest at most ``LIMITS["depth"]`` levels and a YOLO
line may be at most ``LIMITS["line_chars"]`` characters long. Nothing is allocated by a class id
or a count before these checks. Tests lower the limits; a whole dataset's results are read with
higher byte and entry limits (``load_detections(..., limits=...)``, see ``detect.RESULTS_LIMITS``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..lessons import check_regular_file, json_depth

__all__ = ["Detections", "DetectionsLoadError", "load_coco_results", "load_yolo_txt", "load_detections", "LIMITS"]

#: Bounds on a detections file (tests lower them). 50,000 boxes is well past what one image's
#: detector output holds, and a 16 MB file parses in a fraction of a second.
LIMITS = {"file_bytes": 16_000_000, "detections": 50_000, "class_id": 100_000, "depth": 8, "line_chars": 1000}


class DetectionsLoadError(ValueError):
    """A detections file that cannot be read at all (not text, not JSON, nothing valid in it)."""


@dataclass(frozen=True)
class Detections:
    """Loaded detections: xyxy pixel ``boxes``, ``scores``, integer ``classes``, optional
    ``image_ids`` (COCO), and ``problems``: one readable line per skipped entry."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    problems: tuple[str, ...] = ()
    image_ids: np.ndarray | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.boxes)


def _short(v, n: int = 40) -> str:
    """``repr(v)`` cut to ``n`` characters: a message never carries a whole hostile value."""
    r = repr(v) if not isinstance(v, (list, dict)) else type(v).__name__
    return r if len(r) <= n else r[: n - 1] + "…"


def _too_big(name: str, size: int, limit: int) -> DetectionsLoadError:
    return DetectionsLoadError(f"{name} is {size:,} bytes; a detections file may be at most {limit:,} bytes.")


def _read_text(source, limit: int) -> tuple[str, str]:
    if isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), "<bytes>"
        if len(raw) > limit:
            raise _too_big(name, len(raw), limit)
    elif isinstance(source, str) and ("\n" in source or source.lstrip().startswith(("[", "{"))):
        if len(source) > limit:
            raise _too_big("<text>", len(source), limit)
        return source, "<text>"
    else:
        p = Path(source)
        name = p.name
        try:
            check_regular_file(p, "The detections file", limit)  # a pipe or /dev/zero is refused unread
            with open(p, "rb") as fh:
                raw = fh.read(limit + 1)  # bounded, should the file grow after the check
        except ValueError as exc:
            raise DetectionsLoadError(str(exc)) from None
        except OSError as exc:
            raise DetectionsLoadError(f"Cannot read {name}: {exc.strerror or 'unreadable'}.") from None
        if len(raw) > limit:
            raise _too_big(name, len(raw), limit)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), name
        except UnicodeDecodeError as exc:
            raise DetectionsLoadError(f"{name} starts like UTF-16 text but is damaged at byte {exc.start}.") from None
    if b"\x00" in raw[:4096]:
        raise DetectionsLoadError(f"{name} is a binary file, not detections (JSON or YOLO text).")
    try:
        return raw.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        raise DetectionsLoadError(f"{name} is not UTF-8 text (byte {exc.start}).") from None


def _check_count(n: int, name: str, what: str, limit: int) -> None:
    if n > limit:
        raise DetectionsLoadError(f"{name} holds more than {limit:,} {what}; this app loads at most "
                                  f"{limit:,} detections from one file.")


def _class_id(v, what: str) -> int:
    if v > LIMITS["class_id"] or v < 0:
        raise ValueError(f"{what} {_short(v)} is outside 0…{LIMITS['class_id']:,}")
    return int(v)


def _finish(rows, problems, name, image_ids=None) -> Detections:
    if not rows:
        detail = ("; ".join(problems[:3]) + (" …" if len(problems) > 3 else "")) if problems else "it is empty"
        raise DetectionsLoadError(f"No valid detections in {name}: {detail}.")
    arr = np.asarray(rows, dtype=np.float64)
    return Detections(arr[:, :4], arr[:, 4], arr[:, 5].astype(np.int64), tuple(problems),
                      None if image_ids is None else np.asarray(image_ids, dtype=object), name)


def _num(v, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{what} is {_short(v)}, not a number")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{what} is not finite")
    return f


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def load_coco_results(source) -> Detections:
    """Read a COCO *results* JSON: a list of ``{"image_id", "category_id", "bbox": [x, y, w, h],
    "score"}``. Malformed entries are skipped and reported (``entry 3: ...``).

    >>> d = load_coco_results('[{"image_id": 1, "category_id": 3, "bbox": [10, 20, 30, 40], '
    ...                       '"score": 0.9}, {"bbox": [1, 2]}]')
    >>> d.boxes.tolist(), d.classes.tolist(), d.problems
    ([[10.0, 20.0, 40.0, 60.0]], [3], ('entry 2: bbox must be 4 numbers [x, y, w, h]',))
    """
    return _coco_from_text(*_read_text(source, LIMITS["file_bytes"]), LIMITS["detections"])


def _coco_from_text(text: str, name: str, most: int) -> Detections:
    _check_count(text.count('"bbox"'), name, "boxes", most)  # refused before parsing what would be refused after
    depth = json_depth(text)
    if depth > LIMITS["depth"]:
        raise DetectionsLoadError(f"{name} nests JSON more than {LIMITS['depth']} levels deep; COCO results are "
                                  "a list of flat objects ([{\"bbox\": [x, y, w, h], …}]).")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise DetectionsLoadError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                  f"column {exc.colno}.") from None
    except ValueError as exc:  # NaN / Infinity, which JSON does not have
        raise DetectionsLoadError(f"{name} is not valid JSON: {exc}.") from None
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        data = data["annotations"]  # a ground-truth style file: accept its annotations
    if not isinstance(data, list):
        raise DetectionsLoadError(f"{name}: a COCO results file is a JSON list of detections, "
                                  f"not a {type(data).__name__}.")
    _check_count(len(data), name, "entries", most)
    rows, problems, ids = [], [], []
    for k, e in enumerate(data, start=1):
        try:
            if not isinstance(e, dict):
                raise ValueError("not an object")
            bb = e.get("bbox")
            if not isinstance(bb, (list, tuple)) or len(bb) != 4:
                raise ValueError("bbox must be 4 numbers [x, y, w, h]")
            x, y, w, h = _num(bb[0], "x"), _num(bb[1], "y"), _num(bb[2], "w"), _num(bb[3], "h")
            if w <= 0 or h <= 0:
                raise ValueError(f"bbox width and height must be positive (w={w:g}, h={h:g})")
            if not (math.isfinite(x + w) and math.isfinite(y + h)):
                raise ValueError("bbox reaches beyond the largest number a computer can hold (x + w or y + h)")
            score = _num(e.get("score", None), "score") if "score" in e else None
            if score is None:
                raise ValueError("no score")
            cat = e.get("category_id", 0)
            if isinstance(cat, bool) or not isinstance(cat, int):
                raise ValueError(f"category_id {_short(cat)} is not a whole number")
            rows.append((x, y, x + w, y + h, score, _class_id(cat, "category_id")))
            ids.append(e.get("image_id"))
        except ValueError as exc:
            problems.append(f"entry {k}: {exc}")
    return _finish(rows, problems, name, ids)


def load_yolo_txt(source, image_size) -> Detections:
    """Read YOLO prediction lines ``class cx cy w h conf`` (normalised to 0..1) for an image of
    ``image_size = (width, height)`` pixels. Blank lines and ``#`` comments are ignored;
    malformed lines are skipped and reported with their line number.

    >>> d = load_yolo_txt("0 0.5 0.5 0.2 0.4 0.9\\n1 0.5 oops\\n", (100, 50))
    >>> d.boxes.tolist(), d.problems
    ([[40.0, 15.0, 60.0, 35.0]], ('line 2: expected 6 values (class cx cy w h conf), found 3',))
    """
    text, name = _read_text(source, LIMITS["file_bytes"])
    return _yolo_from_text(text, name, image_size, LIMITS["detections"])


def _yolo_from_text(text: str, name: str, image_size, most: int) -> Detections:
    try:
        W, H = (float(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (width, height), not {image_size!r}.") from None
    if not (W > 0 and H > 0):
        raise ValueError(f"image_size must be positive, not {image_size!r}.")
    rows, problems = [], []
    for ln, line in enumerate(text.splitlines(), start=1):
        t = line.strip()
        if not t or t.startswith("#"):
            continue
        _check_count(len(rows) + len(problems) + 1, name, "lines of detections", most)
        if len(t) > LIMITS["line_chars"]:
            problems.append(f"line {ln}: {len(t):,} characters long; a YOLO line is 6 numbers "
                            f"(at most {LIMITS['line_chars']:,} characters)")
            continue
        parts = t.split()
        try:
            if len(parts) != 6:
                raise ValueError(f"expected 6 values (class cx cy w h conf), found {len(parts)}")
            vals = []
            for v, field in zip(parts, ("class", "cx", "cy", "w", "h", "conf")):
                try:
                    vals.append(float(v))
                except ValueError:
                    raise ValueError(f"{field} is {_short(v)}, not a number") from None
            if not all(map(math.isfinite, vals)):
                raise ValueError("a value is not finite")
            c, cx, cy, w, h, conf = vals
            if c < 0 or c != int(c):
                raise ValueError(f"class {_short(parts[0])} is not a whole number ≥ 0")
            c = _class_id(c, "class")
            if w <= 0 or h <= 0:
                raise ValueError("width and height must be positive")
            if w > 1.5 or h > 1.5 or not (-0.5 <= cx <= 1.5 and -0.5 <= cy <= 1.5):
                raise ValueError("coordinates are not normalised to 0..1")
            rows.append(((cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H, conf, int(c)))
        except ValueError as exc:
            problems.append(f"line {ln}: {exc}")
    return _finish(rows, problems, name)


def load_detections(source, image_size=None, *, limits=None) -> Detections:
    """Load a detections file, choosing the format from its content: JSON (COCO results) when
    it starts with ``[`` or ``{``, YOLO text lines otherwise (which need ``image_size``).

    ``source`` is a path, ``bytes``, or the text itself (a ``str`` holding a newline or starting
    with ``[`` / ``{``). ``limits`` may raise ``file_bytes`` and ``detections`` above
    :data:`LIMITS` (one image's detections) for a whole dataset's results. Raises
    :class:`DetectionsLoadError` (a ``ValueError``) for a file that cannot be used at all; skipped
    entries are listed in ``Detections.problems``."""
    lim = {**LIMITS, **(limits or {})}
    # The text goes on already read, with the file's name: handing the text itself to the public
    # loaders would re-read a one-line file (or an empty one) as a path.
    text, name = _read_text(source, lim["file_bytes"])
    if not text.strip():
        raise DetectionsLoadError(f"{name} is empty: no detections to load.")
    if text.lstrip()[:1] in ("[", "{"):
        return _coco_from_text(text, name, lim["detections"])
    if image_size is None:
        raise DetectionsLoadError(f"{name} looks like YOLO text lines: the image size is needed.")
    return _yolo_from_text(text, name, image_size, lim["detections"])

