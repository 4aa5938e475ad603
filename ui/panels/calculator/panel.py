"""Calculator panel: a formula family's live derivation and its picture, with practice problems.

Main view: the derivation (formula, the values substituted, the answer, one line of meaning; an
invalid setting is explained in place, never clamped) over a picture where one helps (RANSAC's N
against the inlier ratio, the two IoU boxes, each FPN level's share of anchors, the latency budget,
the receptive field layer by layer, the kernel windows of an output size). Side column: the family
and its inputs; the card slot holds practice mode (a fresh problem, the answer marked, the solution),
so it stays on screen in presentation mode.

All arithmetic comes from :mod:`cvexplorer.derivations`.
"""

from __future__ import annotations

import random
from typing import Any

from cvexplorer import derivations as D

from ..base import Panel
from .controls import FamilyInputs, PracticeBox
from .views import DerivationView

__all__ = ["PanelWidget"]


class PanelWidget(Panel):
    accepts_images = False

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(ctx, parent)
        self.family = "conv-out"
        self.derivation: D.Derivation | None = None
        self.error = ""
        self.problem: tuple[dict, str, D.Derivation] | None = None
        self.practice_result: bool | None = None
        self._rng = random.Random()

        frame = self.use_frame()
        self.view = DerivationView(ctx.theme)
        self.card = self.view.card
        self.plot = self.view.plot
        self.plot_caption = self.view.caption
        frame.set_main(self.view)

        self.family_inputs = FamilyInputs(ctx.guard(self.select_family, "choosing a formula"),
                                          ctx.guard(self.recompute, "computing the formula"))
        self.families = self.family_inputs.chooser
        self.reset_btn = self.family_inputs.reset_btn
        self.reset_btn.clicked.connect(ctx.guard(lambda: self.select_family(self.family, reset=True), "resetting"))
        frame.add_controls(self.family_inputs)

        self.practice = PracticeBox()
        self.question, self.answer = self.practice.question, self.practice.answer
        self.verdict, self.solution = self.practice.verdict, self.practice.solution
        self.new_btn, self.check_btn, self.show_btn = self.practice.new_btn, self.practice.check_btn, self.practice.show_btn
        self.answer.returnPressed.connect(ctx.guard(self.check, "checking the answer"))
        self.new_btn.clicked.connect(ctx.guard(self.new_problem, "making a problem"))
        self.check_btn.clicked.connect(ctx.guard(self.check, "checking the answer"))
        self.show_btn.clicked.connect(ctx.guard(self.reveal, "showing the solution"))
        frame.set_card(self.practice)

        self.apply_theme(ctx.theme)
        self.select_family(self.family)

    @property
    def inputs(self) -> dict:
        """The input widgets of the shown family, by parameter name."""
        return self.family_inputs.inputs

    # -- families & inputs ------------------------------------------------------------------------
    def select_family(self, key: str, reset: bool = False, values: dict | None = None) -> None:
        if key not in D.FAMILIES:
            raise ValueError(f"There is no formula family {key!r}.")
        fam = D.FAMILIES[key]
        self.family = key
        vals = fam.defaults()
        if values:
            vals.update({k: v for k, v in values.items() if k in vals})
        self.family_inputs.build(key, vals)
        self.problem = None
        self.practice_result = None
        self.question.setText("Press “New problem” for a fresh question of this family." if fam.practice
                              else "This family has no practice problems.")
        self.practice.set_enabled(fam.practice)
        self.answer.clear()
        self.verdict.setText("")
        self.solution.setText("")
        self.recompute()

    def values(self) -> dict[str, Any]:
        return self.family_inputs.values()

    def set_value(self, name: str, value) -> None:
        """Set one input (tests and lessons); the derivation updates at once."""
        self.family_inputs.set_value(name, value)

    # -- compute & render -------------------------------------------------------------------------
    def recompute(self) -> None:
        fam = D.FAMILIES[self.family]
        try:
            d = D.derive(self.family, **self.values())  # microseconds: no worker needed
        except ValueError as exc:
            self.derivation = None
            self.error = str(exc)
            self.card.set_formula(self.card.formula.text() or "", fam.title)
            self.card.show_error(f"⚠ {exc}")
            self.view.draw(None, self.family, {})
            return
        self.derivation = d
        self.error = ""
        self.card.set_formula(d.formula, fam.title)
        self.card.show_result(d.substitution, d.result, d.meaning)
        self.view.draw(d, self.family, self.values())

    # -- practice ---------------------------------------------------------------------------------
    def new_problem(self, seed: int | None = None) -> str:
        rng = random.Random(seed) if seed is not None else self._rng
        self.problem = D.practice_problem(self.family, rng)
        self._show_problem()
        return self.problem[1]

    def _show_problem(self, answer: str = "") -> None:
        fam = D.FAMILIES[self.family]
        self.practice_result = None
        self.question.setText(self.problem[1] + (f" (in {fam.unit})" if fam.unit else ""))
        self.answer.setText(answer)
        self.answer.setFocus()
        self.verdict.setText("")
        self.solution.setText("")

    def _solution(self, d: D.Derivation, meaning: bool = True) -> str:
        return f"{d.formula}\n{d.substitution}\n→ {d.result}" + (f"   ({d.meaning})" if meaning and d.meaning else "")

    def check(self, answer: str | None = None) -> bool | None:
        if self.problem is None:
            self.new_problem()
            return None
        if answer is not None:
            self.answer.setText(str(answer))
        text = self.answer.text().strip()
        if not text:
            self.practice.set_verdict("Type a number first.", None, self.ctx.theme)
            return None
        d = self.problem[2]
        try:
            ok = D.check_answer(d, text)
        except ValueError as exc:
            self.practice.set_verdict(str(exc), "error", self.ctx.theme)
            return None
        self.practice_result = ok
        self.practice.set_verdict("✔ Right!" if ok else f"✘ Not quite: the answer is {D.answer_text(d)}.",
                                  "positive" if ok else "error", self.ctx.theme)
        self.solution.setText(self._solution(d))
        return ok

    def reveal(self) -> None:
        if self.problem is None:
            return
        d = self.problem[2]
        self.practice.set_verdict(f"Answer: {D.answer_text(d)}", None, self.ctx.theme)
        self.solution.setText(self._solution(d, meaning=False))

    # -- hooks ------------------------------------------------------------------------------------
    def state(self) -> dict:
        st = {"family": self.family, "values": self.values()}
        if self.problem is not None:
            st["problem"] = {"values": self.problem[0], "answer": self.answer.text()}
        return st

    def restore_state(self, state: dict) -> None:
        self.select_family(state.get("family", self.family), values=state.get("values"))
        prob = state.get("problem")
        if prob:
            self.problem = D.problem_from(self.family, prob["values"])
            self._show_problem(prob.get("answer", ""))

    def demo(self) -> None:
        self.select_family("ransac")
        self.new_problem(seed=3)
        self.check(str(self.problem[2].value))

    def apply_theme(self, theme) -> None:
        super().apply_theme(theme)
        self.view.apply_theme(theme)
        if self.family_inputs.inputs:
            self.recompute()
