"""Every panel fits a classroom screen: exact window size, a picture that dominates, nothing clipped.

One window visits every panel first (so every page of the stack exists and could set the minimum),
then lays each panel out in every theme, at 1024×768, 1280×720 and 1920×1080, in window and
presentation mode, and reads the geometry (no pixel grab: the test stays fast).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QTabBar, QWidget

from cvexplorer.ui.app import MainWindow
from cvexplorer.ui.presentation import enter_presentation, leave_presentation
from cvexplorer.ui.registry import panel_ids
from cvexplorer.ui.widgets.text import ElidedLabel

SIZES = ((1024, 768), (1280, 720), (1920, 1080))
THEMES = ("light", "dark", "projector")


@pytest.fixture(scope="module")
def win():
    from cvexplorer.ui.context import ensure_app

    ensure_app()
    w = MainWindow()
    w.resize(1280, 720)
    w.show()
    for pid in panel_ids():  # build every page: a hidden page must not set the window's minimum
        w.show_panel(pid)
    w.current_panel().wait_idle(60)
    yield w
    w.ctx.workers.shutdown(2000)
    w.close()


def _lay_out(win, size) -> None:
    win.resize(*size)
    QApplication.processEvents()
    win.layout().activate()
    for _ in range(3):  # the controls column fits itself after the resize's layout pass (a queued call)
        QApplication.processEvents()


def _share(win) -> float:
    main = win.current_panel().frame.main_view
    assert main.isVisible()
    return main.width() * main.height() / (win.width() * win.height())


def _framed_ids(win) -> list[str]:
    """Every panel id; each panel but the welcome page must be on the frame."""
    for p in panel_ids():
        assert p == "welcome" or win.panel(p).frame is not None, f"the {p} panel does not fill the panel frame"
    return list(panel_ids())


def test_window_mode_fits_and_the_picture_dominates(win):
    problems = []
    for theme in THEMES:  # outer loop: restyling a window with every page built is the slow part
        win.apply_theme(theme)
        for size in SIZES:
            for pid in _framed_ids(win):
                win.show_panel(pid)
                _lay_out(win, size)
                if (win.width(), win.height()) != size:
                    problems.append(f"{pid} {theme} {size}: window {win.width()}×{win.height()}, "
                                    f"minimum {win.minimumSizeHint().toTuple()}")
                elif pid != "welcome" and _share(win) < 0.5:
                    problems.append(f"{pid} {theme} {size}: the main view is {_share(win):.3f} of the window")
    assert not problems, "\n".join(problems)


def test_presentation_mode_fits_and_the_picture_takes_two_thirds(win):
    win.apply_theme("light")
    problems = []
    for size in SIZES:
        win.show_panel("conv")
        enter_presentation(win, size=size)
        try:
            for pid in [p for p in _framed_ids(win) if p != "welcome"]:
                win.show_panel(pid)
                _lay_out(win, size)
                if (win.width(), win.height()) != size:
                    problems.append(f"{pid} {size}: window {win.width()}×{win.height()}")
                elif win.current_panel().frame.controls.isVisible():
                    problems.append(f"{pid} {size}: the settings did not collapse")
                elif _share(win) < 2 / 3:
                    problems.append(f"{pid} {size}: the main view is {_share(win):.3f} of the window")
                frame = win.current_panel().frame
                card, view = frame.card, frame.card_scroll
                # a card that fits the room it may take is shown whole, not behind a scroll bar
                if card is not None and view.isVisible() and view.viewport().height() < card.height() <= view.maximumHeight():
                    problems.append(f"{pid} {size}: the card is {card.height()} px tall in a {view.viewport().height()} px view")
        finally:
            leave_presentation(win)
        if not win.current_panel().frame.controls.isVisible():
            problems.append(f"{win.current_id}: the settings stayed hidden after leaving presentation mode")
    assert not problems, "\n".join(problems)


def _clipped(lab: QLabel) -> str:
    if isinstance(lab, ElidedLabel):
        return "" if not lab.is_elided() or lab.toolTip() == lab.full_text() else "elided without a tooltip"
    if not lab.text() or lab.pixmap() is not None and not lab.pixmap().isNull():
        return ""
    cr = lab.contentsRect()
    if lab.wordWrap():
        need = lab.heightForWidth(lab.width())
        return f"needs {need} px of height, has {lab.height()}" if need > lab.height() + 1 else ""
    hint = lab.sizeHint()
    if hint.width() > cr.width() + 2 + lab.margin() * 2 + 4:
        return f"needs {hint.width()} px of width, has {cr.width()}"
    if hint.height() > lab.height() + 2:
        return f"needs {hint.height()} px of height, has {lab.height()}"
    return ""


def _visible_in_frame(w: QWidget, frame_rect: QRect) -> bool:
    if not w.isVisible() or w.width() <= 0 or w.height() <= 0:
        return False
    top_left = w.mapTo(w.window(), w.rect().topLeft())
    return frame_rect.intersects(QRect(top_left, w.size()))


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_nothing_is_clipped_or_overlapping_on_a_small_projector(win, size):
    win.apply_theme("projector")
    problems = []
    for pid in _framed_ids(win):
        win.show_panel(pid)
        _lay_out(win, size)
        panel = win.current_panel()
        whole = QRect(0, 0, win.width(), win.height())
        for lab in panel.findChildren(QLabel):
            if _visible_in_frame(lab, whole):
                why = _clipped(lab)
                if why:
                    problems.append(f"{pid}: label {lab.text()[:40]!r} {why}")
        for bar in panel.findChildren(QTabBar):  # every tab title shows: no scroll arrows hide one
            need = sum(bar.tabSizeHint(i).width() for i in range(bar.count()))
            elides = not bar.usesScrollButtons() and bar.elideMode() != Qt.TextElideMode.ElideNone
            if elides and size[0] < 1280:  # the side column's tabs elide there (the tooltip has the title)
                continue
            if bar.isVisible() and need > bar.parentWidget().width():
                titles = [bar.tabText(i) for i in range(bar.count())]
                problems.append(f"{pid}: tabs {titles} need {need} px, have {bar.parentWidget().width()}")
        for parent in [panel] + panel.findChildren(QWidget):
            kids = [c for c in parent.children() if isinstance(c, QWidget) and c.isVisible() and not c.isWindow()
                    and c.width() > 0 and c.height() > 0]
            for i, a in enumerate(kids):
                for b in kids[i + 1:]:
                    inter = a.geometry().intersected(b.geometry())
                    if inter.width() > 2 and inter.height() > 2 and _overlap_matters(parent, a, b):
                        problems.append(f"{pid}: {_name(a)} overlaps {_name(b)} in {_name(parent)}")
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_controls_never_run_past_the_column_in_projector_theme(win, size):
    """The controls column scrolls only vertically: content wider than it would be cut at the right."""
    from PySide6.QtWidgets import QScrollArea

    win.apply_theme("projector")
    problems = []
    for pid in _framed_ids(win):
        if pid == "welcome":
            continue
        win.show_panel(pid)
        _lay_out(win, size)
        scroll = win.current_panel().findChild(QScrollArea, "ControlsScroll")
        body = scroll.widget()
        if scroll.isVisible() and body.width() > scroll.viewport().width():
            wide = max((w for w in body.findChildren(QWidget) if w.isVisible()), key=lambda w: w.minimumSizeHint().width())
            problems.append(f"{pid}: controls {body.width()} px wide in a {scroll.viewport().width()} px column "
                            f"(widest: {_name(wide)}, {wide.minimumSizeHint().width()} px)")
        broken = [b.text() for b in body.findChildren(QAbstractButton) if "\n" in b.text()]
        _lay_out(win, (1920, 1080))  # room again: the texts broken onto two lines are whole again
        still = [b.text() for b in body.findChildren(QAbstractButton) if "\n" in b.text()]
        if still:
            problems.append(f"{pid}: at 1920×1080 these buttons still break their text: {still}")
        if size == (1024, 768) and pid == "receptive-field" and not broken:
            problems.append("receptive-field: its longest button did not break at 1024×768")
    assert not problems, "\n".join(problems)


def test_main_tab_titles_all_show_at_1024x768_and_are_whole_with_room(win):
    """A tab bar that would scroll (its last titles behind arrows) shortens titles instead; the
    full ones come back with room, and stay in the tooltips."""
    win.apply_theme("projector")
    problems = []
    for pid in _framed_ids(win):
        win.show_panel(pid)
        _lay_out(win, (1024, 768))
        for bar in win.current_panel().findChildren(QTabBar):
            need = sum(bar.tabSizeHint(i).width() for i in range(bar.count()))
            if bar.isVisible() and bar.usesScrollButtons() and need > bar.parentWidget().width():
                problems.append(f"{pid}: tabs {[bar.tabText(i) for i in range(bar.count())]} need {need} px, "
                                f"have {bar.parentWidget().width()}")
    win.show_panel("stitching")
    tabs = win.current_panel().tabs
    _lay_out(win, (1024, 768))
    short = [tabs.tabText(i) for i in range(tabs.count())]
    _lay_out(win, (1920, 1080))
    whole = [tabs.tabText(i).replace("&&", "&") for i in range(tabs.count())]
    assert whole == [tabs.tabToolTip(i) for i in range(tabs.count())] and "Warp & blend" in whole
    assert short != whole, "the stitching tabs did not shorten at 1024×768"
    assert not problems, "\n".join(problems)


def _answer_in_view(win) -> str:
    """'' when the current panel's answer line shows whole in its card's view, else what is wrong."""
    frame = win.current_panel().frame
    answer, view = frame.answer, frame.card_scroll
    if answer is None or not answer.text():
        return ""
    top = answer.mapTo(view.viewport(), answer.rect().topLeft()).y()
    if not answer.isVisible() or top < 0 or top + answer.height() > view.viewport().height():
        return (f"its answer {answer.text()[:30]!r} lies at {top}..{top + answer.height()} px "
                f"of a {view.viewport().height()} px card view")
    return ""


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_the_cards_answer_stays_in_view_on_a_small_projector(win, size):
    """The card's big line (the result) shows without scrolling: the card grows past its share to
    show it, or scrolls to it, in window and presentation mode, and again after its text changes."""
    win.apply_theme("projector")
    problems = []
    for presenting in (False, True):
        if presenting:
            enter_presentation(win, size=size)
        try:
            for pid in [p for p in _framed_ids(win) if p != "welcome"]:
                win.show_panel(pid)
                _lay_out(win, size)
                why = _answer_in_view(win)
                if why:
                    problems.append(f"{pid} {size} {'presenting' if presenting else 'window'}: {why}")
        finally:
            if presenting:
                leave_presentation(win)
    win.show_panel("vit")  # a new text in the card (another formula, another answer) is shown too
    _lay_out(win, size)
    panel = win.current_panel()
    panel.controls.mode_box.setCurrentIndex((panel.controls.mode_box.currentIndex() + 1) % panel.controls.mode_box.count())
    panel.wait_idle(30)
    _lay_out(win, size)
    why = _answer_in_view(win)
    if why:
        problems.append(f"vit {size} after another mode: {why}")
    assert not problems, "\n".join(problems)


def test_the_card_grows_for_its_answer_then_gives_the_room_back(qtbot, ctx):
    """A frame on its own: a card whose answer sits below its share grows (never past the cap),
    scrolls to the answer past the cap, and with short text again takes its share only."""
    from cvexplorer.ui.frame import CARD_SHARE, PanelFrame
    from cvexplorer.ui.widgets.formula import FormulaCard

    frame = PanelFrame()
    qtbot.addWidget(frame)
    frame.resize(1000, 700)
    frame.show()
    card = FormulaCard("Title", "f = x")
    frame.set_card(card)
    share, cap = (int(frame.height() * f) for f in CARD_SHARE[False])
    view = frame.card_scroll

    def answer_shows() -> bool:
        top = card.result.mapTo(view.viewport(), card.result.rect().topLeft()).y()
        return 0 <= top and top + card.result.height() <= view.viewport().height()

    def lines(n: int) -> str:
        return "\n".join(f"step {k}: x = {k}" for k in range(n))  # short: they never wrap

    qtbot.waitUntil(lambda: card.width() == view.viewport().width())  # laid out in the side column
    n = 1  # enough working that the answer ends between the card's share and its cap
    while card.show_result(lines(n), "answer = 42") or card.heightForWidth(card.width()) < (share + cap) / 2:
        n += 1
    card.show_result(lines(n), "answer = 42", "what it means, in a sentence or two " * 6)
    qtbot.waitUntil(lambda: answer_shows() and view.maximumHeight() > share)  # grew, as far as the answer needed
    assert view.maximumHeight() <= cap and view.verticalScrollBar().value() == 0
    card.show_result(lines(40), "answer = 43")  # past the cap: scrolled to the answer instead
    qtbot.waitUntil(lambda: answer_shows() and view.verticalScrollBar().value() > 0)
    assert view.maximumHeight() == cap
    card.show_result("x = 1", "answer = 44")
    qtbot.waitUntil(lambda: view.maximumHeight() == share)
    assert answer_shows() and view.verticalScrollBar().value() == 0


def _overlap_matters(parent, a, b) -> bool:
    from PySide6.QtWidgets import QAbstractScrollArea, QStackedWidget, QTabWidget

    if isinstance(parent, (QStackedWidget, QAbstractScrollArea, QTabWidget)):
        return False  # pages and viewports are layered by design
    if type(parent).__name__ in {"QTabBar", "GraphicsView", "PlotWidget", "ImageCanvas"}:
        return False
    if isinstance(a, QAbstractButton) and isinstance(b, QAbstractButton) and parent.inherits("QToolBar"):
        return False
    return True


def _name(w) -> str:
    return w.objectName() or type(w).__name__


def test_welcome_shows_every_card_with_its_picture_at_1280x720_projector(win):
    win.apply_theme("projector")
    win.show_panel("welcome")
    _lay_out(win, (1280, 720))
    page = win.current_panel()
    for pid, (x, y, w, h) in page.card_rects().items():
        assert x >= 0 and y >= 0 and x + w <= page.width() and y + h <= page.height(), pid
        assert h >= 100 and w >= 200, (pid, w, h)


def test_the_step_player_keeps_its_slider_counter_and_caption_whole_in_a_narrow_view(qtbot, ctx):
    """Under a narrow picture (a 1024×768 projector's window) the slider and the counter move to a
    row of their own instead of shrinking to a dot and losing digits; with room they share the
    buttons' row again. A caption of three lines gets the height it needs, not two lines' worth."""
    from cvexplorer.trace import Step, Trace
    from cvexplorer.ui.frame import PanelFrame
    from cvexplorer.ui.widgets.player import SLIDER_MIN_CHARS, TracePlayer

    frame = PanelFrame()
    qtbot.addWidget(frame)
    player = TracePlayer()
    player.set_trace(Trace([Step(i) for i in range(250)]))
    frame.set_player(player)
    frame.resize(1000, 700)
    frame.show()
    qtbot.waitUntil(lambda: player.isVisible() and player.width() > 0)
    one_row = player.one_row_width()  # once polished: the style sets the buttons' sizes
    min_slider = SLIDER_MIN_CHARS * player.counter.fontMetrics().averageCharWidth()

    def whole() -> list[str]:
        parts = (*player.buttons, player.slider, player.counter, player.speed)
        wrong = [f"{type(w).__name__} runs past the player" for w in parts
                 if w.geometry().right() > player.width() or w.geometry().left() < 0]
        if player.counter.width() < player.counter.sizeHint().width():
            wrong.append(f"the counter needs {player.counter.sizeHint().width()} px, has {player.counter.width()}")
        if player.slider.width() < min_slider:
            wrong.append(f"the slider is {player.slider.width()} px wide")
        cap = player.caption
        if cap.height() < cap.heightForWidth(cap.width()):
            wrong.append(f"the caption needs {cap.heightForWidth(cap.width())} px, has {cap.height()}")
        return wrong

    def cap_px(text: str) -> int:
        return player.caption.fontMetrics().horizontalAdvance(text)

    def beside() -> bool:  # the slider on the buttons' row
        dy = player.slider.geometry().center().y() - player.play_btn.geometry().center().y()
        return abs(dy) < player.play_btn.height() // 2

    def lay_out(frame_width: int) -> None:
        frame.resize(frame_width, 700)
        qtbot.waitUntil(lambda: frame.width() == frame_width and player.width() == frame.main_view.width())

    for narrow in (False, True, False):
        lay_out(1400)
        if narrow:  # just narrower than one row needs: two rows are what fits
            while player.width() >= one_row - 10:
                lay_out(frame.width() - 20)
        # just over two lines of text at this width: three lines
        player.set_caption(" ".join(["overlapping"] * (2 * player.width() // cap_px(" overlapping") + 1)))
        qtbot.waitUntil(lambda: not whole() and beside() != player.two_rows, timeout=2000)
        assert player.two_rows == narrow, (player.width(), one_row)
        if narrow:  # above the buttons, and wider than one row could make it
            assert player.slider.geometry().bottom() < player.play_btn.geometry().top()
            assert player.slider.width() > player.width() // 2
            cap = player.caption
            assert cap.heightForWidth(cap.width()) > 2 * cap.fontMetrics().lineSpacing() + 4  # three lines


def test_every_step_player_shows_whole_after_its_demo_at_1024x768_projector(win):
    """The detector's three-line caption was cut to two, and conv's counter read "step 13 / 2" next
    to a slider squeezed to a dot: what the player shows must fit under the picture."""
    from cvexplorer.ui.widgets.player import SLIDER_MIN_CHARS

    win.apply_theme("projector")
    problems = []
    for pid in ("conv", "nms", "detector", "stitching"):
        win.show_panel(pid)
        panel = win.current_panel()
        panel.demo()
        panel.wait_idle(30)
        _lay_out(win, (1024, 768))
        player = panel.player()
        for lab in (player.caption, player.counter):
            why = _clipped(lab)
            if why:
                problems.append(f"{pid}: {lab.text()[:40]!r} {why}")
        if player.slider.width() < SLIDER_MIN_CHARS * player.counter.fontMetrics().averageCharWidth():
            problems.append(f"{pid}: the slider is {player.slider.width()} px wide")
    assert not problems, "\n".join(problems)
