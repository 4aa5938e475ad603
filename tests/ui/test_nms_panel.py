"""The NMS panel: stepping a hand-made scenario suppresses the expected box."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import Qt

from cvexplorer import boxes as B

from .helpers import layer_rect

# A (0.9) and B (0.8) overlap with IoU 0.81; C (0.7) stands apart.
HAND = [(100, 100, 300, 300, 0.9), (110, 110, 310, 310, 0.8), (500, 400, 650, 560, 0.7)]


def _state_column(panel):
    return panel.table.state_texts()


def test_stepping_suppresses_the_expected_box(make_panel, qtbot):
    panel = make_panel("nms")
    assert len(panel.player().trace) > 2  # a built-in scenario shows without any input
    for x0, y0, x1, y1, s in HAND:
        panel.add_box(x0, y0, x1, y1, score=s)
    player = panel.player()
    assert player.length == 2 + 2  # start, two picks (A, C), done

    player.seek(0)
    assert set(_state_column(panel).values()) == {"waiting"}
    player.step_forward()
    assert _state_column(panel) == {"#0": "current", "#1": "suppressed", "#2": "waiting"}
    assert layer_rect(panel.canvas, "state1", single=True) == (100, 100, 300, 300)   # the current pick
    assert layer_rect(panel.canvas, "supp_now", single=True) == (110, 110, 310, 310)  # B suppressed now
    iou_texts = panel.canvas.label_texts("iou_hot")
    assert iou_texts == [f"IoU {B.iou_matrix([HAND[0][:4]], [HAND[1][:4]])[0, 0]:.2f}"]
    assert panel.counter.text() == "2 of 3 IoUs" and "N(N−1)/2 = 3" in panel.card.substituted.text()
    assert panel.table.item(1, 3).text() == iou_texts[0].split()[1] and panel.table.item(2, 3).text() == ""
    player.step_forward()
    assert _state_column(panel) == {"#0": "kept", "#1": "suppressed", "#2": "current"}
    player.last()
    assert _state_column(panel) == {"#0": "kept", "#1": "suppressed", "#2": "kept"}

    # the threshold slider re-runs the trace: above IoU 0.81 nothing is suppressed
    panel.iou_slider.setValue(90)
    player.seek(1)
    assert _state_column(panel)["#1"] == "waiting"
    assert panel.canvas.layer_items("supp_now") == []
    player.last()
    assert set(_state_column(panel).values()) == {"kept"}

    # state round trip
    st = json.loads(json.dumps(panel.state()))
    panel.restore_state({"source": "duplicates"})
    panel.restore_state(st)
    assert len(panel.drawn) == 3 and panel.iou_slider.value() == 90


def test_compare_and_pipeline_on_overlapping_people(make_panel):
    panel = make_panel("nms")
    panel.demo()
    # the rendered view is not blank and shows the current pick's colour
    arr = panel.canvas.to_array()
    cur = np.array([int(panel.ctx.theme.color("current")[i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(arr[..., :3].astype(int) - cur).sum(axis=-1) < 40).sum() > 100
    panel.player().last()  # the answer shows at the end
    titles = [t.text() for t, _ in panel.compare]
    sc = B.scenario("overlapping-people")
    assert titles[0].startswith("Greedy: 1 kept")
    k, ns = B.soft_nms(sc.boxes, sc.scores, iou_threshold=0.5, score_threshold=0.25)
    assert f": {len(k)} above" in titles[1] and len(k) >= 2
    assert "decoded" in panel.pipeline.text() and "top-100" in panel.pipeline.text()


def test_loading_files_reports_skipped_lines(make_panel, tmp_path, ctx):
    panel = make_panel("nms")
    messages = []
    ctx.report_error = lambda e, where="", tb=None: messages.append(str(e)) or str(e)
    p = tmp_path / "pred.txt"
    p.write_text("0 0.5 0.5 0.2 0.2 0.9\n0 0.52 0.5 0.2 0.2 0.8\nbroken line\n")
    panel.load_file(p)
    assert panel.wait_idle(30)
    assert panel.source_kind == "file" and len(panel.boxes) == 2
    assert messages and "line 3" in messages[-1]
    assert panel.player().trace.final.tolist() == [0]
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    panel.load_file(bad)
    assert panel.wait_idle(30)
    assert "not valid JSON" in messages[-1] and len(panel.boxes) == 2  # the old input stays


def test_large_file_runs_in_a_worker(make_panel, tmp_path):
    panel = make_panel("nms")
    rng = np.random.default_rng(0)
    c = rng.uniform(0.1, 0.9, (3000, 2))
    lines = [f"{k % 3} {x:.4f} {y:.4f} 0.05 0.06 {s:.4f}" for k, ((x, y), s)
             in enumerate(zip(c, rng.uniform(0.3, 1, 3000)))]
    p = tmp_path / "big.txt"
    p.write_text("\n".join(lines))
    panel.load_file(p)
    assert panel.wait_idle(60)
    assert len(panel.boxes) == 3000
    expected = B.nms(panel.boxes, panel.scores, panel.iou_threshold,
                     score_threshold=panel.conf_threshold, max_detections=panel.topk.value())
    assert np.array_equal(panel.player().trace.final, expected)
    panel.iou_slider.setValue(30)  # debounced, then a worker
    assert panel.wait_idle(60)
    assert panel.player().trace.meta["iou_threshold"] == 0.3
    # a small input chosen while nothing is pending takes over at once
    panel.restore_state({"source": "crowd"})
    assert len(panel.boxes) < 100 and panel.player().trace.meta["n_boxes"] == len(panel.boxes)


def test_each_state_layer_draws_exactly_its_boxes_stepping_either_way(make_panel):
    """Unchanged layers keep their path between steps: forwards, backwards and across a new input,
    every state's path still holds exactly the boxes in that state (5 path points per box)."""
    panel = make_panel("nms")
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 500, (300, 2))
    panel.set_detections(np.c_[xy, xy + rng.uniform(20, 90, (300, 2))], rng.random(300))
    assert panel.wait_idle(60)
    p = panel.player()
    for seek in (1, 2, 3, 40, 39, 2, p.length - 1, 0, 5):
        p.seek(seek)
        states = np.asarray(panel.trace[p.index]["states"])
        for code in range(5):
            items = panel.canvas.layer_items(f"state{code}")
            n = int(np.count_nonzero(states == code))
            assert (items[0].path().elementCount() if items else 0) == 5 * n, (seek, code)
    panel.restore_state({"source": "crowd"})  # new boxes: no layer may keep the old ones
    assert panel.wait_idle(60)
    p.seek(1)
    states = np.asarray(panel.trace[1]["states"])
    b = panel.boxes[states == B.WAITING]
    path = panel.canvas.layer_items(f"state{B.WAITING}")[0].path()
    assert path.elementCount() == 5 * len(b)
    assert path.elementAt(0).x == b[0, 0] and path.elementAt(0).y == b[0, 1]


def test_a_crowded_state_draws_its_best_scoring_boxes_and_says_so(make_panel):
    """Thousands of boxes in one state (a detector's raw output): the layer holds the DRAW_MAX
    best-scoring ones, exactly, and the caption says how many of how many are drawn."""
    from cvexplorer.ui.panels.nms.views import DRAW_MAX

    panel = make_panel("nms")
    rng = np.random.default_rng(9)
    n = DRAW_MAX + 700
    xy = rng.uniform(0, 1200, (n, 2))
    scores = rng.permutation(n) / n
    panel.set_detections(np.c_[xy, xy + rng.uniform(30, 120, (n, 2))], scores)
    assert panel.wait_idle(60)
    p = panel.player()
    p.seek(1)
    states = np.asarray(panel.trace[1]["states"])
    waiting = np.flatnonzero(states == B.WAITING)
    assert len(waiting) > DRAW_MAX
    best = waiting[np.argsort(-scores[waiting])[:DRAW_MAX]]
    path = panel.canvas.layer_items(f"state{B.WAITING}")[0].path()
    corners = {(path.elementAt(5 * k).x, path.elementAt(5 * k).y) for k in range(path.elementCount() // 5)}
    assert path.elementCount() == 5 * DRAW_MAX
    assert corners == {(float(x), float(y)) for x, y in panel.boxes[best, :2]}
    assert f"drawn: best {DRAW_MAX:,} of {len(waiting):,} waiting" in p.caption.text()
    for seek in (p.length // 2, p.length - 1):  # every state: all its boxes, or DRAW_MAX and the words
        p.seek(seek)
        states = np.asarray(panel.trace[p.index]["states"])
        said = p.caption.text().partition("drawn:")[2]
        for code, word in ((B.WAITING, "waiting"), (B.KEPT, "kept"), (B.BELOW_SCORE, "below threshold")):
            k = int(np.count_nonzero(states == code))
            items = panel.canvas.layer_items(f"state{code}")
            assert (items[0].path().elementCount() if items else 0) == 5 * min(k, DRAW_MAX), (seek, code)
            assert (f"of {k:,} {word}" in said) == (k > DRAW_MAX), (seek, code, said)


def test_soft_nms_stepping_decays_instead_of_deleting(make_panel):
    panel = make_panel("nms")
    panel.restore_state({"source": "overlapping-people", "stepping": "soft"})
    player = panel.player()
    player.seek(1)
    step = player.current_step() if callable(getattr(player, "current_step", None)) else panel.trace[1]
    assert "scores_after" in step.data and step.current == 0
    texts = panel.canvas.label_texts("iou_hot") + panel.canvas.label_texts("iou_cold")
    assert texts and all("→" in t for t in texts)
    player.last()
    sc = B.scenario("overlapping-people")
    k, _ = B.soft_nms(sc.boxes, sc.scores, iou_threshold=0.5, score_threshold=0.25)
    kept = [k_ for k_, v in _state_column(panel).items() if v == "kept"]
    assert sorted(kept) == sorted(f"#{j}" for j in k) and len(kept) >= 2
    assert panel.counter.text().startswith("Soft-NMS")


def _yolo_file(path, n, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.1, 0.9, (n, 2))
    path.write_text("\n".join(f"{k % 3} {x:.4f} {y:.4f} 0.05 0.06 {s:.4f}"
                              for k, ((x, y), s) in enumerate(zip(c, rng.uniform(0.3, 1, n)))))
    return path


def test_loading_while_a_step_is_shown_never_mixes_two_inputs(make_panel, tmp_path, ctx, monkeypatch, qtbot):
    """Issue 26: 20 000 detections loaded while a step of the 20-box scenario is on screen; stepping,
    a theme change and presentation mode before the result lands draw the old input, whole."""
    import threading

    from cvexplorer.ui.themes import THEMES

    panel = make_panel("nms")
    assert len(panel.boxes) == 20  # the "duplicates" scenario
    panel.player().seek(2)
    release = threading.Event()
    real = B.nms_overview

    def held(boxes, *args, **kwargs):  # a big input's result waits until the test has stepped around
        if len(boxes) > 1500:
            release.wait(60)
        return real(boxes, *args, **kwargs)

    monkeypatch.setattr(B, "nms_overview", held)
    panel.load_file(_yolo_file(tmp_path / "big.txt", 20000))
    assert "big.txt" in panel.frame.banner.message()  # the file is read in a worker first
    qtbot.waitUntil(lambda: ctx.workers.is_busy("nms"), timeout=60000)
    assert "20000" in panel.frame.banner.message()
    for act in (panel.player().step_forward, panel.player().step_back,
                lambda: ctx.set_theme(THEMES["projector"]), lambda: panel.set_presentation(True),
                panel.player().last, lambda: ctx.set_theme(THEMES["dark"]), lambda: panel.set_presentation(False)):
        act()
        assert len(panel.overview.boxes) == 20 and panel.trace.meta["n_boxes"] == 20
    assert ctx.errors == []
    release.set()
    assert panel.wait_idle(120)
    assert len(panel.overview.boxes) == 20000 and panel.trace.meta["n_boxes"] == 20000
    assert panel.player().index == 0 and panel.frame.banner.message() == ""
    panel.player().step_forward()
    ctx.set_theme(THEMES["light"])
    assert ctx.errors == []
    # a result that lands after another input was chosen is dropped: the newer input stays
    release.clear()
    panel.load_file(_yolo_file(tmp_path / "big2.txt", 3000, seed=1))
    panel.restore_state({"source": "crowd"})
    release.set()
    assert panel.wait_idle(120)
    assert panel.source_kind == "crowd" and panel.trace.meta["n_boxes"] == len(panel.overview.boxes) < 100


def test_a_detection_file_is_read_in_a_worker_with_cancel(make_panel, tmp_path, ctx, monkeypatch):
    """Issue 26: a 16 MB COCO file took half a second on the GUI thread; now a worker reads it, the
    input on screen stays meanwhile, Cancel keeps it, and choosing another input drops the file."""
    import threading

    panel = make_panel("nms")
    before = panel.boxes.copy()
    gate = threading.Event()
    real = B.load_detections

    def slow(*args, **kwargs):  # the file is "still being read" until the test opens the gate
        gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(B, "load_detections", slow)
    path = _yolo_file(tmp_path / "dets.txt", 40)
    panel.load_file(path)
    assert ctx.workers.is_busy("nms-load") and "dets.txt" in panel.frame.banner.message()
    assert np.array_equal(panel.boxes, before) and panel.source_kind != "file"
    panel.frame.banner.cancel_btn.click()  # Cancel: the file never lands
    assert panel.frame.banner.message() == ""
    gate.set()
    assert panel.wait_idle(30)
    assert np.array_equal(panel.boxes, before) and ctx.errors == []
    gate.clear()
    panel.load_file(path)
    panel.restore_state({"source": "crowd"})  # another input chosen while the file is read
    gate.set()
    assert panel.wait_idle(30)
    assert panel.source_kind == "crowd" and panel.trace.meta["n_boxes"] == len(panel.boxes) < 100
    panel.load_file(path)  # and read to the end, it becomes the input
    assert panel.wait_idle(30)
    assert panel.source_kind == "file" and len(panel.boxes) == 40


def _hand_drawn(panel, scores=(0.8, 0.8, 0.8)):
    panel.restore_state({"source": "drawn", "drawn": [list(h[:4]) + [s] for h, s in zip(HAND, scores)]})


def test_teacher_sets_each_drawn_box_score_in_the_table(make_panel, ctx):
    """Issue 19: drawn boxes all started at 0.80 (a tie); each score is an editable table cell."""
    panel = make_panel("nms")
    _hand_drawn(panel)
    assert panel.player().trace.final.tolist() == [0, 2]  # ties: the lower index wins
    row = {panel.table.item(r, 0).text(): r for r in range(panel.table.rowCount())}
    cell = panel.table.item(row["#1"], 1)
    assert cell.flags() & Qt.ItemFlag.ItemIsEditable
    cell.setText("0.95")
    assert panel.drawn[1][4] == 0.95
    assert panel.player().trace.final.tolist() == [1, 2]  # B now suppresses A
    assert panel.table.item(0, 0).text() == "#1" and panel.table.item(0, 1).text() == "0.95"
    assert panel.state()["drawn"][1][4] == 0.95
    panel.table.item(0, 1).setText("lots")
    assert ctx.errors and "score" in ctx.errors[-1].lower() and panel.drawn[1][4] == 0.95
    assert panel.table.item(0, 1).text() == "0.95"  # the old score is back in the cell
    panel.table.item(0, 1).setText("1.5")
    assert "between 0 and 1" in ctx.errors[-1] and panel.drawn[1][4] == 0.95
    panel.restore_state({"source": "duplicates"})  # a scenario's scores are not editable
    assert not panel.table.item(0, 1).flags() & Qt.ItemFlag.ItemIsEditable


def test_the_end_keeps_who_suppressed_whom_and_suppressed_boxes_are_thin_dashes(make_panel):
    """Issue 19: at the end the table still says which box suppressed which, with their IoU."""
    panel = make_panel("nms")
    _hand_drawn(panel, (0.9, 0.8, 0.7))
    panel.player().last()
    t = panel.table
    rows = {t.item(r, 0).text(): r for r in range(t.rowCount())}
    iou = B.iou_matrix([HAND[0][:4]], [HAND[1][:4]])[0, 0]
    assert t.item(rows["#1"], 3).text() == f"{iou:.2f}" and t.item(rows["#1"], 4).text() == "#0"
    assert t.item(rows["#0"], 4).text() == t.item(rows["#2"], 4).text() == ""
    assert t.state_texts()["#1"] == "suppressed"
    supp, kept = panel.canvas.layer_items("state2")[0].pen(), panel.canvas.layer_items("state3")[0].pen()
    assert supp.style() == Qt.PenStyle.CustomDashLine and supp.dashPattern() and kept.style() == Qt.PenStyle.SolidLine
    assert supp.widthF() < kept.widthF()


def test_the_answer_shows_only_at_the_end_or_on_request(make_panel):
    """Issue 19: the pipeline line and the three thumbnails gave the answer away at step 1."""
    panel = make_panel("nms")
    panel.demo()  # step 1 of the overlapping people
    answer = panel.view.answer
    assert not answer.isVisible() and not panel.pipeline.isVisible()
    assert all(cv.layer_items("boxes") == [] for _, cv in panel.compare)
    panel.player().last()
    assert answer.isVisible() and "decoded" in panel.pipeline.text()
    assert [len(cv.layer_items("boxes")) for _, cv in panel.compare] == [1, 1, 1]
    panel.player().seek(1)
    assert not answer.isVisible()
    panel.reveal_box.setChecked(True)  # the teacher asks for it early
    assert answer.isVisible() and panel.compare[0][0].text().startswith("Greedy: 1 kept")
    assert panel.state()["reveal"] is True
