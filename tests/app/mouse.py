"""A real mouse drag on a widget's viewport: press, moves at pyqtgraph's rate, release (for the app's tests)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def drag(qtbot, viewport, p0, p1, *, steps: int = 10) -> None:
    """Drag with the left button from p0 to p1 (viewport coordinates)."""
    def send(kind, pos, button, buttons):
        QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button,
                                                     buttons, Qt.KeyboardModifier.NoModifier))
        qtbot.wait(25)  # pyqtgraph drops mouse moves closer together than its rate limit

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(QEvent.Type.MouseMove, p0, none, none)
    send(QEvent.Type.MouseButtonPress, p0, left, left)
    for i in range(1, steps + 1):
        send(QEvent.Type.MouseMove, p0 + (p1 - p0) * (i / steps), none, left)
    send(QEvent.Type.MouseButtonRelease, p1, left, none)
