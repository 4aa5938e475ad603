"""`cvexplorer calc`: every family runs, prints formula/substitution/result, --json, bad input."""

from __future__ import annotations

import json
import random

import pytest

from cvexplorer.calc_cli import main
from cvexplorer.cli import main as cli_main
from cvexplorer.derivations import FAMILIES, check_answer, derive, practice_problem


def test_issue_example(capsys):
    assert main(["conv-out", "--size", "224", "--kernel", "3", "--stride", "2", "--padding", "1"]) == 0
    out = capsys.readouterr().out
    assert "O = ⌊(224 − 3 + 2·1)/2⌋ + 1 = 112" in out
    assert "formula:" in out and "result:" in out


def test_plain_defaults_are_the_formula_defaults(capsys):
    assert main(["conv-out", "--size", "32", "--kernel", "3"]) == 0
    assert "= 30" in capsys.readouterr().out


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_runs_with_defaults_and_json(family, capsys):
    assert main([family]) == 0
    text = capsys.readouterr().out
    assert "values:" in text
    assert main([family, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["family"] == family and data["substitution"] and data["result"]
    plain = {p.name: p.plain_default for p in FAMILIES[family].params}
    assert data["value"] == pytest.approx(derive(family, **plain).as_dict()["value"])


def test_help_lists_every_family(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for key in FAMILIES:
        assert key in out


@pytest.mark.parametrize("argv, text", [
    (["conv-out", "--size", "2", "--kernel", "5"], "larger than the padded input"),
    (["conv-out", "--stride", "0"], "stride must be at least 1"),
    (["ransac", "--inlier-ratio", "1.5"], "inlier ratio"),
    (["depth", "--disparity", "0"], "disparity must be positive"),
    (["conv-out", "--size", "abc"], "invalid int value"),
    (["nope"], "invalid choice"),
    (["rf", "--layers", "3/x"], "Layer 1"),
    (["same-padding", "--kernel", "4"], "even"),
])
def test_bad_input_is_one_sentence_and_exit_2(argv, text, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert text in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_main_cli_dispatches(capsys):
    assert cli_main(["calc", "ransac", "--inlier-ratio", "0.6", "--sample-size", "4"]) == 0
    assert "= 34" in capsys.readouterr().out
    assert cli_main(["calc", "ransac", "--inlier-ratio", "0"]) == 2


def test_rf_table(capsys):
    assert main(["rf", "--layers", "3/1, 3/1, 3/1", "--input-size", "0"]) == 0
    out = capsys.readouterr().out
    assert "RF = 7 × 7" in out


@pytest.mark.parametrize("family", [k for k, f in FAMILIES.items() if f.practice])
def test_practice_problems_are_valid_and_checkable(family):
    rng = random.Random(7)
    for _ in range(5):
        values, question, d = practice_problem(family, rng)
        assert question and "{" not in question
        assert check_answer(d, d.value)
        wrong = d.value + 1 if isinstance(d.value, int) else d.value * 1.5 + 1
        assert not check_answer(d, wrong)
