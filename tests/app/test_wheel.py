"""Issue 23: the wheel over the side panel scrolls it; a sensitivity slider moves only when it has the focus."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from review_fixtures import THRESHOLDS, fake_predictions
from test_main_window import ScriptedDialogs, make_window


def wheel(widget, notches: int = -3) -> None:
    """Turn the wheel over the middle of `widget` (negative: towards the user, i.e. scroll down)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_side_panel_and_moves_a_slider_only_with_the_focus(qtbot, app_settings):
    win = make_window(qtbot, app_settings, ScriptedDialogs(), size=(1000, 420))  # short: the side panel scrolls
    win.state.set_recording("fake.wav")
    win.state.set_predictions(fake_predictions(), THRESHOLDS)
    qtbot.waitUntil(lambda: win.page.sensitivity.isEnabled())
    slider = win.page.sensitivity.sliders["Block"]
    scroll = win.page.side.verticalScrollBar()
    assert scroll.maximum() > 0, "the side panel must be taller than its view for this test"
    win.activateWindow()
    win.page.table.setFocus()
    qtbot.waitUntil(win.page.table.hasFocus, timeout=2000)
    before, thresholds = slider.value(), win.state.review.thresholds

    wheel(slider)
    assert slider.value() == before and win.state.review.thresholds == thresholds
    assert not win.state.review.can_undo, "no threshold step was recorded"
    assert scroll.value() > 0, "the wheel went on to the panel, which scrolled"

    slider.setFocus()
    qtbot.waitUntil(slider.hasFocus, timeout=2000)
    wheel(slider, notches=1)
    assert slider.value() != before and win.state.review.thresholds["Block"] != thresholds["Block"]
    win.state.review = None
