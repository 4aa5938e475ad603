"""`cvexplorer calc`: every family runs, prints formula/substitution/result, --json, bad input."""

from __future__ import annotations

import json
import random
import re
import warnings

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


# -- extreme inputs: a finite answer or one sentence, never ∞, NaN or a traceback ----------------------
_EXTREMES = ("0", "-1", "1e-308", "1e308", "inf", "nan")
_NONFINITE = re.compile(r"∞|\binf\b|\bnan\b|infinity", re.IGNORECASE)


def _text_variants(default: str, v: str) -> list[str]:
    """``v`` alone, in place of the default's first number, and in place of every number."""
    numbers = re.compile(r"-?\d+(\.\d+)?")
    return [v, numbers.sub(v, default, count=1), numbers.sub(v, default)]


def _sweep_cases():
    for key, fam in FAMILIES.items():
        for p in fam.params:
            if p.kind == "bool":
                continue
            values = list(_EXTREMES) + ([str(10**30)] if p.kind == "int" else [])
            for v in values:
                for text in (_text_variants(str(p.plain_default), v) if p.kind == "text" else [v]):
                    yield pytest.param(key, p.name, text, id=f"{key}-{p.name}={text}")
        # every number extreme at once
        for v in ("1e-308", "1e308"):
            argv = []
            for p in fam.params:
                if p.kind in ("int", "float"):
                    argv += ["--" + p.name.replace("_", "-"), v if p.kind == "float" else ("1" if v == "1e-308" else
                                                                                         str(10**30))]
            if argv:
                yield pytest.param(key, None, argv, id=f"{key}-all={v}")


def _strict_json(text):
    def refuse(token):
        raise AssertionError(f"JSON holds {token}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("family, name, value", list(_sweep_cases()))
def test_extreme_inputs_give_a_finite_answer_or_one_sentence(family, name, value, capsys):
    args = value if name is None else ["--" + name.replace("_", "-"), value]
    for extra in ([], ["--json"]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a RuntimeWarning would be a second line on stderr
            code = main([family, *args, *extra])
        out, err = capsys.readouterr()
        assert code in (0, 2)
        if code == 0:
            assert err == "" and not _NONFINITE.search(out), out
            if extra:
                _strict_json(out)
        else:
            assert out == "" and len(err.splitlines()) == 1, err
            assert err.startswith("cvexplorer calc: ") and "Traceback" not in err and "Warning" not in err


@pytest.mark.parametrize("argv, words", [
    (["depth-error", "--depth", "100"], ("disparity error ±1 px", "depth Z = 100 m", "far end", "infinity")),
    (["depth-error", "--depth", "1e308"], ("depth Z = 1e+308 m", "infinity")),
    (["depth-error", "--disparity-error", "1e308"], ("disparity error ±1e+308 px",)),
    (["latency", "--gmacs", "1e308"], ("1e+308 GMACs", "lower the GMACs")),
    (["latency", "--peak-tflops", "1e-308"], ("1e-308 TFLOPS", "raise the peak TFLOPS")),
    (["budget", "--stages", "1e308, 1e308"], ("stage times add up", "1e+308 ms")),
    (["depth", "--disparity", "1e-308"], ("depth f·B/d is too large",)),
])
def test_answers_that_are_not_finite_name_the_input(argv, words, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    for w in words:
        assert w in err


def test_the_calculator_panel_still_gets_the_infinite_far_end():
    d = derive("depth-error", f_px=500, baseline=0.12, depth=100, disparity_error=1)
    assert d.extra["z_far"] == float("inf") and "∞" in d.result and "at infinity" in d.not_finite


def test_any_other_answer_that_is_not_finite_names_an_input_out_of_range(monkeypatch, capsys):
    import dataclasses
    import math

    from cvexplorer.derivations import Derivation

    fam = FAMILIES["latency"]
    broken = dataclasses.replace(fam, fn=lambda **kw: Derivation("latency", "t", "t = ?", "t ≥ ? ms", math.nan))
    monkeypatch.setitem(FAMILIES, "latency", broken)
    assert main(["latency", "--gmacs", "1e9"]) == 2
    err = capsys.readouterr().err
    assert err == ("cvexplorer calc: The answer is not a finite number: GMACs = 1e+09 is outside the range this "
                   "calculator works in (0.001 to 100000).\n")
    assert main(["latency", "--json"]) == 2
    assert "not a finite number for GMACs = 20.0" in capsys.readouterr().err

    def overflow(**kw):
        return 1e308 * 1e308 / 0.0

    monkeypatch.setitem(FAMILIES, "latency", dataclasses.replace(fam, fn=overflow))
    assert main(["latency", "--peak-tflops", "1e-9"]) == 2
    assert "peak TFLOPS = 1e-09 is outside" in capsys.readouterr().err


def test_nms_cost_time_reads_in_a_unit_that_fits(capsys):
    """10¹² boxes: the worst-case time is said in years, not as a 19-digit count of milliseconds."""
    assert main(["nms-cost", "--n", "1000000000000"]) == 0
    meaning = capsys.readouterr().out.strip().splitlines()[-1]
    years = float(re.search(r"IoU: ([0-9.e+]+) years", meaning).group(1))
    assert years == pytest.approx(499_999_999_999_500_000_000_000 * 10e-9 / (365.25 * 86400), rel=1e-2)
    assert main(["nms-cost", "--n", "200"]) == 0
    assert "0.199 ms" in capsys.readouterr().out
