"""Calculator panel: each family's card follows its inputs; invalid settings explained; practice mode."""

from __future__ import annotations

import pytest

from cvexplorer import derivations as D


@pytest.fixture
def panel(make_panel):
    return make_panel("calculator")


def test_default_card_shows_the_issue_example(panel):
    assert panel.family == "conv-out"
    assert panel.card.substituted.text() == "O = ⌊(224 − 3 + 2·1)/2⌋ + 1 = 112"
    assert "halves" in panel.card.meaning.text()
    assert not panel.card.has_error


def test_every_family_card_updates_when_an_input_changes(panel):
    for key, fam in D.FAMILIES.items():
        panel.select_family(key)
        assert not panel.card.has_error, (key, panel.card.error.text())
        before = (panel.card.substituted.text(), panel.card.result.text())
        p = fam.params[0]
        if p.kind == "int":
            panel.set_value(p.name, int(p.default) + 2)
        elif p.kind == "float":
            panel.set_value(p.name, float(p.default) * 0.5)
        elif p.kind == "bool":
            panel.set_value(p.name, not p.default)
        else:
            panel.set_value(p.name, {"activation": "2,3,4", "rf": "3/1, 3/1", "anchors": "40, 20",
                                     "iou": "0, 0, 4, 4", "homography": "1,0,2, 0,1,3, 0,0,1",
                                     "budget": "10, 20"}[key])
        after = (panel.card.substituted.text(), panel.card.result.text())
        assert after != before, key
        expected = D.derive(key, **panel.values())
        assert panel.card.substituted.text() == expected.substitution


def test_invalid_setting_is_explained_not_clamped(panel):
    panel.select_family("conv-out")
    panel.set_value("stride", 0)
    assert panel.inputs["stride"].value() == 0
    assert panel.card.has_error and "stride" in panel.card.error.text().lower()
    panel.set_value("stride", 1)
    panel.set_value("size", 2)
    panel.set_value("kernel", 7)
    assert "larger than the padded input" in panel.card.error.text()
    panel.set_value("kernel", 3)
    assert not panel.card.has_error
    panel.select_family("ransac")
    panel.set_value("inlier_ratio", 1.5)
    assert "inlier ratio" in panel.card.error.text()


def test_ransac_plot_marks_the_current_ratio(panel):
    panel.select_family("ransac")
    items = panel.plot.getPlotItem().listDataItems()
    assert len(items) == 2
    x, y = items[1].getData()
    assert x[0] == pytest.approx(0.6)
    panel.set_value("inlier_ratio", 0.3)
    x, _ = panel.plot.getPlotItem().listDataItems()[1].getData()
    assert x[0] == pytest.approx(0.3)
    assert panel.derivation.value == 567  # ⌈ln 0.01 / ln(1 − 0.3⁴)⌉


def test_iou_draws_two_boxes_and_the_intersection(panel):
    from PySide6.QtWidgets import QGraphicsRectItem

    panel.select_family("iou")
    rects = [i for i in panel.plot.getPlotItem().items if isinstance(i, QGraphicsRectItem)]
    assert len(rects) == 3
    inter = rects[2].rect()
    assert (inter.x(), inter.y(), inter.width(), inter.height()) == (5, 5, 5, 5)


def test_practice_marks_right_and_wrong(panel):
    panel.select_family("conv-out")
    q = panel.new_problem(seed=11)
    assert "output size" in q
    right = panel.problem[2].value
    assert panel.check(str(right)) is True
    assert "Right" in panel.verdict.text()
    assert panel.problem[2].substitution in panel.solution.text()
    assert panel.check(str(right + 1)) is False
    assert "Not quite" in panel.verdict.text() and str(right) in panel.verdict.text()
    panel.select_family("depth")
    panel.new_problem(seed=2)
    v = panel.problem[2].value
    assert panel.check(f"{v:.3f}") is True
    assert panel.check(f"{v * 2:.3f}") is False
    assert panel.check("abc") is None  # explained, not marked


def test_state_round_trip(panel, make_panel):
    panel.select_family("anchors")
    panel.set_value("grids", "64, 32")
    panel.new_problem(seed=1)
    st = panel.state()
    other = make_panel("calculator")
    other.restore_state(st)
    assert other.family == "anchors" and other.values()["grids"] == "64, 32"
    assert other.problem[2].value == panel.problem[2].value


def test_demo_runs(panel):
    panel.demo()
    assert panel.family == "ransac" and panel.practice_result is True
