"""Lesson files are untrusted: every attack ends in one sentence naming the field, before anything is applied."""

from __future__ import annotations

import json
import os

import pytest

from cvexplorer import lessons as L

PANELS = ["conv", "nms", "sam", "stereo"]


def _lesson(tmp_path, doc, name="l.json"):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return p


def _read(p):
    return L.read_lesson(p, panels=PANELS, themes=["light", "dark", "projector"])


def test_a_good_lesson_resolves_its_image_against_its_own_folder(tmp_path):
    (tmp_path / "img.png").write_bytes(b"\x89PNG fake")
    p = _lesson(tmp_path, {"cvexplorer_lesson": 1, "panel": "conv", "theme": "projector", "image": "img.png",
                           "state": {"step": 3}})
    lesson = _read(p)
    assert lesson.panel == "conv" and lesson.theme == "projector" and lesson.state == {"step": 3}
    assert lesson.image == tmp_path.resolve() / "img.png"


@pytest.mark.parametrize("doc, words", [
    (b"\x00\x01\xff\xfe binary", "not a text file"),
    ('{"cvexplorer_lesson": 1, "panel": "conv", "image": 5}', "'image' must be a file name"),
    ('{"cvexplorer_lesson": 1, "panel": "conv", "state": {"step": Infinity}}', "not a finite number"),
    ('{"cvexplorer_lesson": 1, "panel": "conv", "state": {"step": 1e400}}', "'step' must be a whole number"),
    ('{"cvexplorer_lesson": 1, "panel": "conv", "state": {"step": -1}}', "'step' must be a whole number"),
    ('{"cvexplorer_lesson": 1, "panel": "nope"}', "'panel' must be one of"),
    ('{"cvexplorer_lesson": 1, "panel": "conv", "theme": 3}', "'theme' must be one of"),
    ('{"cvexplorer_lesson": 1, "panel": "conv", "state": []}', "'state' must be an object"),
    ("[" * 100000 + "]" * 100000, "nests more than"),
    ('{"cvexplorer_lesson": 1, "panel": "sam", "state": {"model": "/etc/shadow-does-not-exist"}}', "does not exist"),
    ('{"cvexplorer_lesson": 1, "panel": "sam", "state": {"model": "/dev/zero"}}', "not a regular file"),
    ('{"cvexplorer_lesson": 1, "panel": "conv", "image": "/dev/zero"}', "not a regular file"),
    ("{nope", "not valid JSON"),
])
def test_hostile_lessons_are_refused_in_one_sentence(tmp_path, doc, words):
    p = tmp_path / "l.json"
    p.write_bytes(doc if isinstance(doc, bytes) else doc.encode("utf-8"))
    with pytest.raises(L.LessonError) as info:
        _read(p)
    msg = str(info.value)
    assert words in msg and "\n" not in msg and "Traceback" not in msg


def test_a_utf16_lesson_with_a_bom_is_read(tmp_path):
    p = tmp_path / "l.json"
    p.write_bytes(json.dumps({"cvexplorer_lesson": 1, "panel": "nms"}).encode("utf-16"))
    assert _read(p).panel == "nms"


def test_size_and_kind_of_the_lesson_itself_are_checked_before_reading(tmp_path, monkeypatch):
    monkeypatch.setitem(L.LIMITS, "lesson_bytes", 100)
    big = _lesson(tmp_path, {"cvexplorer_lesson": 1, "panel": "conv", "state": {"x": "y" * 200}})
    with pytest.raises(L.LessonError, match="the limit is 100"):
        _read(big)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(L.LessonError, match="not a regular file"):  # and it does not hang
        _read(fifo)


def test_a_model_path_does_not_echo_the_file_it_points_at(tmp_path):
    secret = tmp_path / "secret.onnx"
    secret.write_text("password=hunter2")
    p = _lesson(tmp_path, {"cvexplorer_lesson": 1, "panel": "sam", "state": {"model": "secret.onnx"}})
    lesson = _read(p)
    assert lesson.state["model"] == str(secret.resolve())  # resolved, not opened: the panel's loader checks it
