"""A small dialog for an event's type and bounds: used to add a missed event or adjust one."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout


class EventDialog(QDialog):
    def __init__(self, title: str, labels: tuple[str, ...], *, label: str, start: float, end: float,
                 duration: float, parent=None, label_editable: bool = True):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.type_box = QComboBox()
        self.type_box.addItems(list(labels))
        self.type_box.setCurrentText(label)
        self.type_box.setEnabled(label_editable)
        self.start_box = self._spin(start, duration)
        self.end_box = self._spin(end, duration)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("&Type:", self.type_box)
        form.addRow("&Start (s):", self.start_box)
        form.addRow("&End (s):", self.end_box)
        form.addRow(buttons)

    @staticmethod
    def _spin(value: float, duration: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setDecimals(2)
        box.setSingleStep(0.05)
        box.setRange(0.0, max(duration, 0.0))
        box.setValue(value)
        return box

    def values(self) -> tuple[str, float, float]:
        return self.type_box.currentText(), self.start_box.value(), self.end_box.value()
