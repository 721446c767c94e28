"""Small forms: a patient's details, and what to store with a new session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.records.patients import Patient
from app.records.sessions import TASKS, check_session_date


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class PatientDialog(QDialog):
    def __init__(self, patient: Patient | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Patient" if patient else "New patient")
        self.code = QLineEdit(patient.code if patient else "", placeholderText="pseudonymous code, e.g. P-014")
        self.name = QLineEdit((patient.name or "") if patient else "", placeholderText="optional")
        self.birth_date = QLineEdit((patient.birth_date or "") if patient else "",
                                    placeholderText="optional, YYYY-MM-DD")
        form = QFormLayout(self)
        form.addRow("Code", self.code)
        form.addRow("Name", self.name)
        form.addRow("Birth date", self.birth_date)
        form.addRow(_buttons(self))

    def values(self) -> dict:
        """Keyword arguments for RecordsState.add_patient."""
        return {"code": self.code.text().strip(), "name": self.name.text().strip() or None,
                "birth_date": self.birth_date.text().strip() or None}


@dataclass(frozen=True)
class SessionChoices:
    date: str  # ISO date
    task: str
    notes: str
    recording_mode: str  # "copy" or "link"


class SessionDialog(QDialog):
    """Date (kept exactly as typed, YYYY-MM-DD, not in the future), task (default: the last one used), notes."""

    def __init__(self, recording_name: str, parent: QWidget | None = None, *, task: str = ""):
        super().__init__(parent)
        self.setWindowTitle(f"Save {recording_name} as a session")
        # A line edit, not a QDateEdit: what the clinician types is what is stored (a date edit's sections
        # turned a typed 2026-11-03 into 2026-12-11).
        self.date = QLineEdit(dt.date.today().isoformat(), placeholderText="YYYY-MM-DD")
        self.date.setAccessibleName("Session date")
        self.error = QLabel()
        self.error.setObjectName("session_date_error")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.task = QComboBox(editable=True)
        self.task.addItems(TASKS)
        if task:
            self.task.setCurrentText(task)
        self.notes = QPlainTextEdit()
        self.copy = QRadioButton("Keep a copy with the records (safe if the original moves)")
        self.link = QRadioButton("Link to the recording where it is (no copy)")
        self.copy.setChecked(True)
        self._group = QButtonGroup(self)
        for b in (self.copy, self.link):
            self._group.addButton(b)
        mode = QVBoxLayout()
        mode.addWidget(self.copy)
        mode.addWidget(self.link)
        form = QFormLayout(self)
        form.addRow("&Date", self.date)
        form.addRow(self.error)
        form.addRow("Tas&k", self.task)
        form.addRow("&Notes", self.notes)
        form.addRow("Recording", mode)
        form.addRow(_buttons(self))

    def accept(self) -> None:
        """OK closes only with a valid date: the message says what to fix."""
        try:
            check_session_date(self.date.text().strip())
        except ValueError as e:
            self.error.setText(str(e))
            self.date.setFocus()
            return
        super().accept()

    def choices(self) -> SessionChoices:
        return SessionChoices(date=self.date.text().strip(), task=self.task.currentText().strip(),
                              notes=self.notes.toPlainText(),
                              recording_mode="copy" if self.copy.isChecked() else "link")
