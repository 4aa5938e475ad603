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


def test_conv_output_derivation_is_the_one_home_of_the_conv_card():
    from cvexplorer.derivations import conv_output_derivation
    from cvexplorer.formulas import conv_output_size

    d = conv_output_derivation(224, 3, stride=2, padding=1)
    same = derive("conv-out", size=224, kernel=3, stride=2, padding=1, dilation=1)
    assert (d.formula, d.substitution, d.result, d.meaning) == (same.formula, same.substitution, same.result,
                                                                same.meaning)
    assert d.value == conv_output_size(224, 3, 2, 1) == 112
    w = d.extra["windows"]
    assert [r.output for r in w.windows] == [0, 1, 2, 109, 110, 111] and w.cut_x is not None
    # the pixels no window reaches are the floor's remainder
    d = conv_output_derivation(8, 3, stride=2)
    assert d.extra["windows"].unreached_count == (8 - 3) % 2 == 1 and "floor drops 1 pixel" in d.meaning


def test_pool_ceil_derivation_says_when_pytorch_drops_the_last_window():
    d = derive("pool-out", size=5, kernel=2, stride=2, padding=1, ceil_mode=True)
    assert d.value == 3 and "dropped" in d.substitution
    assert derive("pool-out", size=1, kernel=2, stride=2, padding=0, ceil_mode=True).value == 1


def test_budget_and_depth_error_carry_typed_plot_data():
    from cvexplorer.derivations import Budget, pipeline_budget

    b = pipeline_budget([10, 20])
    assert isinstance(b, Budget) and b.total == 30 and not b.fits_60 and b.fits_30
    d = derive("depth-error", f_px=500, baseline=0.12, depth=10, disparity_error=1)
    z, width = d.extra["depths"], d.extra["widths"]
    i = int(abs(z - 10).argmin())
    assert width[i] == pytest.approx(60 / (6 - 1) - 60 / (6 + 1), rel=0.05)  # Z_far − Z_near at Z ≈ 10 m
