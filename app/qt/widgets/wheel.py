"""The mouse wheel moves a control (a slider, a rating box) only when that control has the focus.

Otherwise the wheel scrolls the panel around it: a clinician scrolling the side panel or the session's
fields never changes a sensitivity or a rating by passing over it (issue 23: the wheel over the summary
moved a sensitivity slider and re-decided the events at every notch).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


class _WheelNeedsFocus(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        area = _scroll_area_of(watched)
        if area is None:
            event.ignore()  # Qt offers a real wheel event to the parents next
            return True
        # Handed to the scroll area itself, at the same place: it scrolls as if the wheel were over it.
        viewport = area.viewport()
        at = QPointF(watched.mapTo(viewport, event.position().toPoint()))
        QApplication.sendEvent(viewport, QWheelEvent(
            at, event.globalPosition(), event.pixelDelta(), event.angleDelta(), event.buttons(), event.modifiers(),
            event.phase(), event.inverted()))
        return True


def wheel_needs_focus(*widgets: QWidget) -> None:
    """Make each widget take the wheel only with the focus (clicked or tabbed to, never by the wheel)."""
    for widget in widgets:
        guard = _WheelNeedsFocus(widget)  # parented: lives and dies with the widget
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(guard)
