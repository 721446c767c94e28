"""The clinician's fields of one session: physical concomitants, Lidcombe severity, naturalness, SSI-4
concomitant scores and notes, saved as they are typed, with their own undo.

Nothing waits for a button (issue 23: ratings kept only by a "Save session notes" button below the fold
were lost on switching session): a change is written AUTOSAVE_MS after the last one, and at once when
another session is shown or the fields are hidden (another page, the window closing). Ctrl+Z and
Ctrl+Shift+Z in the fields undo and redo field by field, each step saved in turn; a run of typing in one
field is one step until it is saved.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QTextCursor, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from app.qt.widgets.wheel import wheel_needs_focus
from app.records.course import SessionMeasures
from app.records.errors import RecordsError
from app.records.sessions import SSI4_CONCOMITANTS

log = logging.getLogger(__name__)

AUTOSAVE_MS = 500  # after the last change: a typed note is written once per pause, not at every key
NOT_RATED = -1  # a spin box's "not rated" position
NOT_NATURALNESS = 0  # the naturalness box's "not rated" position (the scale starts at 1)
SSI4_SHORT = {"ssi4_sounds": "Sounds", "ssi4_face": "Face", "ssi4_head": "Head", "ssi4_limbs": "Limbs"}  # one row
_UNDO_KEYS = ((QKeySequence.StandardKey.Undo, "undo"), (QKeySequence.StandardKey.Redo, "redo"))


class _FieldChange(QUndoCommand):
    """One field from `old` to `new`; typing on in the same field before it is saved extends the step."""

    def __init__(self, fields: ClinicianFields, name: str, old, new):
        super().__init__(f"change {name}")
        self.fields, self.name, self.old, self.new = fields, name, old, new
        self.generation = fields.generation
        self._done = True  # pushed after the widget already shows `new`

    def id(self) -> int:
        return 1 + list(self.fields.values).index(self.name)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _FieldChange) or other.generation != self.generation:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.fields.apply(self.name, self.new)

    def undo(self) -> None:
        self.fields.apply(self.name, self.old)


class ClinicianFields(QWidget):
    """Physical concomitants, ratings and notes of one session, saved through `on_save(session_id, fields)`
    (RecordsState.update_session's keywords), which may raise ValueError, RecordsError or sqlite3.Error."""

    def __init__(self, parent=None, *, on_save: Callable[[int, dict], object] | None = None):
        super().__init__(parent)
        self.on_save = on_save
        self.session_id: int | None = None
        self.generation = 0  # counts saves: an undo step never spans one
        self.undo_stack = QUndoStack(self)
        self.concomitants = QLineEdit(placeholderText="e.g. eye blinking, head movement")
        self.naturalness = QSpinBox(minimum=NOT_NATURALNESS, maximum=9, specialValueText="not rated")
        self.severity = QSpinBox(minimum=NOT_RATED, maximum=9, specialValueText="not rated")
        self.severity.setToolTip("Lidcombe severity rating: 0 no stuttering, 1 extremely mild ... 9 extremely severe")
        self.ssi4 = {key: QSpinBox(minimum=NOT_RATED, maximum=5, specialValueText="not scored")
                     for key in SSI4_CONCOMITANTS}
        self.notes = QPlainTextEdit(placeholderText="Clinician's notes on this session")
        self.notes.setUndoRedoEnabled(False)  # the fields' own undo (one stack for every field)
        self.notes.setMaximumHeight(70)
        self.status = QLabel()
        self.status.setObjectName("fields_status")
        self._timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS, timeout=self.flush)
        self._pending = False
        self._applying = False  # a value put in by the program, not typed
        self.values = self._read()
        self._layout()
        self._connect()
        self.show_measures(None)

    # ---- building --------------------------------------------------------------------------------
    def _boxes(self) -> dict[str, QSpinBox]:
        return {"naturalness": self.naturalness, "severity": self.severity, **self.ssi4}

    def _layout(self) -> None:
        ratings = QHBoxLayout()
        for title, box in (("Severity (0-9)", self.severity), ("Naturalness (1 natural - 9 unnatural)",
                                                               self.naturalness)):
            ratings.addWidget(QLabel(title))
            ratings.addWidget(box)
        ratings.addStretch(1)
        ssi4 = QHBoxLayout()  # four short scores on one row: the table above keeps its room
        for key, title in SSI4_CONCOMITANTS.items():
            ssi4.addWidget(QLabel(SSI4_SHORT[key]))
            self.ssi4[key].setToolTip(f"SSI-4 physical concomitants: {title}, 0 none .. 5 severe and painful looking")
            ssi4.addWidget(self.ssi4[key])
        ssi4.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Physical concomitants", self.concomitants)
        form.addRow("Ratings", ratings)
        form.addRow("SSI-4 (0-5 each)", ssi4)
        form.addRow("Notes", self.notes)
        form.addRow(self.status)

    def _connect(self) -> None:
        self.concomitants.textChanged.connect(lambda: self._edited("physical_concomitants"))
        self.notes.textChanged.connect(lambda: self._edited("notes"))
        for name, box in self._boxes().items():
            box.valueChanged.connect(lambda _=0, n=name: self._edited(n))
        wheel_needs_focus(*self._boxes().values())  # scrolling the fields never changes a rating
        for editor in (self.concomitants, self.notes, *self._boxes().values()):
            editor.installEventFilter(self)

    # ---- values ----------------------------------------------------------------------------------
    def _read(self) -> dict:
        """The fields as RecordsState.update_session takes them (None: not rated)."""
        values = {"physical_concomitants": self.concomitants.text(), "notes": self.notes.toPlainText()}
        for name, box in self._boxes().items():
            values[name] = None if box.value() == box.minimum() else box.value()
        return values

    def _put(self, name: str, value) -> None:
        if name == "physical_concomitants":
            self.concomitants.setText(value)
        elif name == "notes":
            self.notes.setPlainText(value)
            self.notes.moveCursor(QTextCursor.MoveOperation.End)
        else:
            box = self._boxes()[name]
            box.setValue(box.minimum() if value is None else value)

    def payload(self) -> dict:
        v = self.values
        return {"physical_concomitants": v["physical_concomitants"].strip(), "naturalness": v["naturalness"],
                "notes": v["notes"], "severity": v["severity"], "ssi4": {k: v[k] for k in SSI4_CONCOMITANTS}}

    def _edited(self, name: str) -> None:
        if self._applying or self.session_id is None:
            return
        new = self._read()[name]
        old, self.values[name] = self.values[name], new
        if new != old:
            self.undo_stack.push(_FieldChange(self, name, old, new))
            self._changed()

    def apply(self, name: str, value) -> None:
        """Put a value back (undo, redo): shown and saved like a typed one."""
        self._applying = True
        try:
            self._put(name, value)
        finally:
            self._applying = False
        self.values[name] = value
        self._changed()

    def _changed(self) -> None:
        self._pending = True
        self.status.setText("Saving…")
        self._timer.start()

    # ---- saving ----------------------------------------------------------------------------------
    def flush(self) -> bool:
        """Write what is not saved yet, now; False when the records refused it (the change stays pending)."""
        self._timer.stop()
        if not self._pending or self.session_id is None or self.on_save is None:
            return True
        self._pending = False
        self.generation += 1
        try:
            self.on_save(self.session_id, self.payload())
        except (ValueError, RecordsError, sqlite3.Error) as e:  # locked, full or closed: said, kept, tried again
            log.warning("session %s fields not saved: %s", self.session_id, e)
            self._pending = True
            self.status.setText(f"Not saved yet: {e}")
            return False
        self.status.setText("Saved")
        return True

    def show_measures(self, m: SessionMeasures | None) -> None:
        """Show a session's fields (None: none chosen); what was typed for the previous one is saved first."""
        if m is not None and m.session_id == self.session_id:
            return  # the same session read back after a save: what is on screen is what was typed
        self.flush()
        self._timer.stop()
        self._pending = False
        self.undo_stack.clear()  # an undo never reaches into another session
        self.session_id = None if m is None else m.session_id
        self._applying = True
        try:
            self.concomitants.setText("" if m is None else m.physical_concomitants)
            self._put("notes", "" if m is None else m.notes)  # the cursor at the end: typing goes on
            self._put("naturalness", None if m is None else m.naturalness)
            self._put("severity", None if m is None else m.severity)
            for key in SSI4_CONCOMITANTS:
                self._put(key, None if m is None else m.ssi4.get(key))
        finally:
            self._applying = False
        self.values = self._read()
        self.status.setText("")
        self.setEnabled(m is not None)

    # ---- Qt --------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+Z / Ctrl+Shift+Z in any field go to the fields' undo, not the editor's own."""
        if event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(event, QKeyEvent):
            for key, action in _UNDO_KEYS:
                if event.matches(key):
                    if event.type() == QEvent.Type.KeyPress:
                        getattr(self.undo_stack, action)()
                    event.accept()
                    return True
        return super().eventFilter(watched, event)

    def hideEvent(self, event) -> None:
        self.flush()  # another page, or the window closing
        super().hideEvent(event)
