"""Read COCO ground truth (a dataset JSON) and COCO results (a detections JSON) for :func:`evaluate`."""

from __future__ import annotations

import json

from .. import boxes as bx
from ..lessons import check_regular_file

__all__ = ["load_coco_ground_truth", "load_coco_results", "RESULTS_LIMITS", "GROUND_TRUTH_BYTES"]

#: A whole dataset's results may be larger than one image's detections (``boxes.LIMITS``): a
#: detector's 100 boxes per image on COCO val2017's 5,000 images is about 500,000 entries, 47 MB.
RESULTS_LIMITS = {"file_bytes": 128_000_000, "detections": 1_500_000}
#: The largest ground truth file read: COCO's train2017 annotations are 448 MB.
GROUND_TRUTH_BYTES = 512_000_000


def _text(source) -> tuple[str, str]:
    if isinstance(source, dict):
        return json.dumps(source), "<dict>"
    if isinstance(source, (bytes, bytearray)):
        return bytes(source).decode("utf-8-sig", errors="replace"), "<bytes>"
    if isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return source, "<text>"
    p = check_regular_file(source, "The ground truth file", GROUND_TRUTH_BYTES)  # a pipe would hang the read
    try:
        return p.read_text(encoding="utf-8-sig"), p.name
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Cannot read {p.name}: {getattr(exc, 'strerror', None) or exc}.") from None


def load_coco_ground_truth(source) -> dict:
    """A COCO dataset (``images``, ``annotations``, ``categories``) from a path, text, bytes or dict,
    checked: every annotation needs ``image_id``, ``category_id`` and a ``bbox`` of four numbers
    with positive width and height, on a listed image and a listed category. ``area`` defaults to
    w·h and ``iscrowd`` to 0.

    >>> gt = load_coco_ground_truth('{"images": [{"id": 1}], "categories": [{"id": 1, "name": "cat"}], '
    ...     '"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 5]}]}')
    >>> gt["annotations"][0]["area"], gt["annotations"][0]["iscrowd"]
    (20.0, 0)
    """
    text, name = _text(source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        raise ValueError(f"{name} is not COCO ground truth: it needs lists 'images', 'annotations' and 'categories' "
                         "(a list of detections is a results file).")
    try:
        images = [dict(im, id=int(im["id"])) for im in data["images"]]
        cats = [dict(c, id=int(c["id"]), name=str(c.get("name", c["id"]))) for c in data["categories"]]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{name}: every image and category needs an integer 'id'.") from None
    img_ids, cat_ids = {im["id"] for im in images}, {c["id"] for c in cats}
    anns = []
    for k, a in enumerate(data["annotations"], start=1):
        try:
            bb = [float(v) for v in a["bbox"]]
            row = dict(a, image_id=int(a["image_id"]), category_id=int(a["category_id"]), bbox=bb,
                       iscrowd=int(a.get("iscrowd", 0)), id=int(a.get("id", k)))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{name}: annotation {k} needs image_id, category_id and bbox [x, y, w, h].") from None
        if len(bb) != 4 or bb[2] <= 0 or bb[3] <= 0:
            raise ValueError(f"{name}: annotation {k}'s bbox must be x, y, w, h with positive w and h.")
        if row["image_id"] not in img_ids:
            raise ValueError(f"{name}: annotation {k} is on image {row['image_id']}, which 'images' does not list.")
        if row["category_id"] not in cat_ids:
            raise ValueError(f"{name}: annotation {k} has category {row['category_id']}, which 'categories' does not list.")
        row["area"] = float(a.get("area", bb[2] * bb[3]))
        anns.append(row)
    return {"images": images, "annotations": anns, "categories": cats}


def load_coco_results(source) -> tuple[list[dict], tuple[str, ...]]:
    """COCO results (a JSON list of ``image_id``, ``category_id``, ``bbox``, ``score``) as rows for
    :func:`evaluate`, plus one line per entry that was skipped (read by :func:`cvexplorer.boxes.load_detections`).

    >>> rows, problems = load_coco_results('[{"image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5}]')
    >>> rows, problems
    ([{'image_id': 1, 'category_id': 2, 'bbox': [1.0, 2.0, 3.0, 4.0], 'score': 0.5}], ())
    """
    if isinstance(source, list):
        source = json.dumps(source)
    d = bx.load_detections(source, limits=RESULTS_LIMITS)
    if d.image_ids is None:
        raise ValueError(f"{d.source} holds YOLO text lines; scoring needs COCO results with image ids.")
    rows = []
    for b, s, c, im in zip(d.boxes, d.scores, d.classes, d.image_ids):
        if im is None:
            continue
        x0, y0, x1, y1 = (float(v) for v in b)
        rows.append({"image_id": int(im), "category_id": int(c), "bbox": [x0, y0, x1 - x0, y1 - y0], "score": float(s)})
    return rows, tuple(d.problems)
