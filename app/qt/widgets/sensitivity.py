"""Per-type sensitivity sliders: each moves that type's threshold and re-decides its events at once.

Higher sensitivity = lower threshold. The events come from the stored window probabilities
(ReviewSession.set_threshold), so a slider never re-runs the model; it re-decides only the events
the clinician has not decided on, and each move is one step on the review's undo stack.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QSlider

from ..state import AnalysisState
from .wheel import wheel_needs_focus

STEPS = 98  # slider positions 1..99 = thresholds 0.99..0.01


def threshold_to_position(threshold: float) -> int:
    return int(round((1.0 - threshold) * 100))


def position_to_threshold(position: int) -> float:
    return round(1.0 - position / 100.0, 2)


_SLIDER_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp,
                Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End}


class KeySlider(QSlider):
    """A slider that keeps its arrow keys when it has the focus (the window's Left/Right scroll otherwise)."""

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in _SLIDER_KEYS:
            event.accept()  # the key goes to keyPressEvent, not to a window shortcut
            return True
        return super().event(event)


class SensitivityPanel(QGroupBox):
    def __init__(self, state: AnalysisState, parent=None):
        super().__init__("Sensitivity", parent)
        self.state = state
        self.setObjectName("sensitivity")
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        self._grid = QGridLayout(self)
        self.reset_button = QPushButton("Model's thresholds")
        self.reset_button.setToolTip("Put every slider back where the model's tuning left it")
        self.reset_button.clicked.connect(self._reset)
        self._updating = False
        state.analysis_changed.connect(self._build)
        state.thresholds_changed.connect(self._sync)
        self.setEnabled(False)

    def _build(self) -> None:
        review = self.state.review
        if review is None or tuple(self.sliders) == review.labels:
            self._sync()
            return
        for label in review.labels:
            slider = KeySlider(Qt.Orientation.Horizontal)
            wheel_needs_focus(slider)  # the wheel over the side panel scrolls it; it never moves a threshold
            slider.setRange(1, 1 + STEPS)
            slider.setObjectName(f"sensitivity_{label}")
            slider.setAccessibleName(f"{label} sensitivity")
            slider.setToolTip(f"Higher finds more {label} events (lower threshold)")
            slider.valueChanged.connect(lambda value, lab=label: self._moved(lab, value))
            value = QLabel()
            value.setMinimumWidth(70)
            row = len(self.sliders)
            # No mnemonic: Alt+P and Alt+B belong to the Play menu and the Batch page; Tab reaches the sliders.
            name = QLabel(label)
            name.setBuddy(slider)
            self._grid.addWidget(name, row, 0)
            self._grid.addWidget(slider, row, 1)
            self._grid.addWidget(value, row, 2)
            self.sliders[label], self.values[label] = slider, value
        self._grid.addWidget(self.reset_button, len(self.sliders), 0, 1, 3)
        self._sync()

    def _sync(self) -> None:
        review = self.state.review
        self.setEnabled(review is not None)
        if review is None:
            return
        self._updating = True
        try:
            for label, threshold in review.thresholds.items():
                if label in self.sliders:
                    self.sliders[label].setValue(threshold_to_position(threshold))
                    self.values[label].setText(f"p ≥ {threshold:.2f}")
        finally:
            self._updating = False

    def _moved(self, label: str, position: int) -> None:
        if self._updating or self.state.review is None:
            return
        threshold = position_to_threshold(position)
        self.values[label].setText(f"p ≥ {threshold:.2f}")
        self.state.review.set_threshold(label, threshold)

    def _reset(self) -> None:
        if self.state.review is not None:
            self.state.review.reset_thresholds()
