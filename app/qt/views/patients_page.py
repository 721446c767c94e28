"""The Patients page: the patient list, a patient's sessions and their course, saving the current analysis
as a session, and the PDF reports. Copying recordings and writing PDFs run in jobs, off the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.qt.widgets.dialogs import Dialogs
from app.qt.workers import Job
from app.records.errors import RecordsError
from app.records.from_analysis import draft_from_analysis
from app.records.recordings import store_recording
from app.records.sessions import get_session

from .course_view import CourseView
from .dialogs import PatientDialog, SessionChoices, SessionDialog
from .records_state import RecordsState

log = logging.getLogger(__name__)
PDF_FILTER = "PDF (*.pdf)"


class PatientsPage(QWidget):
    # The analysis of this recording was stored as (or into) this session; the dict is the review's
    # to_dict() as it was saved, so the window knows what is saved even if the review moved on meanwhile.
    analysis_saved = Signal(str, int, object)

    def __init__(self, state: RecordsState, *, analysis: Callable[[], object | None] = lambda: None,
                 dialogs: Dialogs | None = None, open_session: Callable[[object], None] | None = None,
                 parent: QWidget | None = None):
        """analysis() returns the app's current analysis (MainWindow.current_analysis) or None;
        open_session(session) shows a stored session in the Analysis page to go on reviewing it."""
        super().__init__(parent)
        self.state = state
        self.analysis = analysis
        self.open_session = open_session
        self.dialogs = dialogs or Dialogs(self)
        self.jobs: list[Job] = []  # running jobs, kept referenced until done
        self.patient_list = QListWidget()
        self.course = CourseView(state)
        self.title = QLabel()
        self.clinic = QLineEdit(state.clinic_name, placeholderText="Clinic name for reports")
        self.clinician = QLineEdit(state.clinician_name, placeholderText="Clinician's name for reports")
        self.deidentified = QCheckBox("De-identified reports")
        self.deidentified.setToolTip("Random patient code, no name or birth date, dates as year-month, "
                                     "free-text notes withheld")
        self.buttons: dict[str, QPushButton] = {}
        self._build()
        state.patients_changed.connect(self.refresh_patients)
        state.patient_changed.connect(self._patient_changed)
        state.sessions_changed.connect(self._update_buttons)
        self.course.session_selected.connect(self._update_buttons)
        self.clinic.editingFinished.connect(lambda: state.set_clinic_name(self.clinic.text()))
        self.clinician.editingFinished.connect(lambda: state.set_clinician_name(self.clinician.text()))
        self.refresh_patients()
        self._patient_changed()

    # ---- building ----------------------------------------------------------------------------------
    def _button(self, key: str, text: str, slot) -> QPushButton:
        b = QPushButton(text)
        b.clicked.connect(slot)
        self.buttons[key] = b
        return b

    def _build(self) -> None:
        left = QVBoxLayout()
        left.addWidget(QLabel("Patients"))
        left.addWidget(self.patient_list)
        row = QHBoxLayout()
        for key, text, slot in (("new", "New…", self.new_patient), ("edit", "Edit…", self.edit_patient),
                                ("delete", "Delete", self.delete_patient)):
            row.addWidget(self._button(key, text, slot))
        left.addLayout(row)
        right = QVBoxLayout()
        right.addWidget(self.title)
        actions = QHBoxLayout()
        for key, text, slot in (("save", "Save current analysis as session…", self.save_analysis),
                                ("open_session", "Open in Analysis", self.open_selected_session),
                                ("session_report", "Session report…", self.ask_session_report),
                                ("course_report", "Course report…", self.ask_course_report),
                                ("delete_session", "Delete session", self.delete_session)):
            actions.addWidget(self._button(key, text, slot))
        right.addLayout(actions)
        options = QHBoxLayout()
        options.addWidget(self.clinic)
        options.addWidget(self.clinician)
        options.addWidget(self.deidentified)
        right.addLayout(options)
        right.addWidget(self.course)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for layout in (left, right):
            holder = QWidget()
            holder.setLayout(layout)
            splitter.addWidget(holder)
        splitter.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(splitter)
        self.patient_list.currentItemChanged.connect(self._list_choice)

    # ---- patients ----------------------------------------------------------------------------------
    def refresh_patients(self) -> None:
        self.patient_list.blockSignals(True)
        self.patient_list.clear()
        for p in self.state.patients():
            item = QListWidgetItem(p.code + (f"  ({p.name})" if p.name else ""))
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            self.patient_list.addItem(item)
            if self.state.patient is not None and p.id == self.state.patient.id:
                self.patient_list.setCurrentItem(item)
        self.patient_list.blockSignals(False)

    def _list_choice(self, item: QListWidgetItem | None) -> None:
        self.state.choose_patient(None if item is None else item.data(Qt.ItemDataRole.UserRole))

    def _patient_changed(self) -> None:
        p = self.state.patient
        self.title.setText("<b>Choose or add a patient</b>" if p is None else
                           f"<b>{p.code}</b>" + (f" — {p.name}" if p.name else ""))
        self._update_buttons()

    def _update_buttons(self, *_) -> None:
        has_patient = self.state.patient is not None
        has_session = self.course.selected_session_id() is not None
        for key in ("edit", "delete", "save", "course_report"):
            self.buttons[key].setEnabled(has_patient)
        for key in ("session_report", "delete_session", "open_session"):
            self.buttons[key].setEnabled(has_session)

    def _run_form(self, dialog: QDialog, apply: Callable[[], object]) -> None:
        while dialog.exec() == QDialog.DialogCode.Accepted:
            try:
                apply()
                return
            except ValueError as e:  # the message says what to fix: ask again
                self.dialogs.message("warning", str(e))

    def new_patient(self) -> None:
        dialog = PatientDialog(parent=self)
        self._run_form(dialog, lambda: self.state.add_patient(**dialog.values()))

    def edit_patient(self) -> None:
        if self.state.patient is None:
            return
        dialog = PatientDialog(self.state.patient, parent=self)
        self._run_form(dialog, lambda: self.state.update_patient(replace(self.state.patient, **dialog.values())))

    def delete_patient(self) -> None:
        p = self.state.patient
        if p is not None and self.dialogs.ask(f"Delete patient {p.code}, all their sessions and stored copies "
                                              "of their recordings? This cannot be undone."):
            self.state.delete_patient(p.id)

    def flush(self) -> bool:
        """Write the clinician's fields typed in the last pause now (before the records close)."""
        return self.course.fields.flush()

    # ---- sessions ----------------------------------------------------------------------------------
    def open_selected_session(self) -> None:
        sid = self.course.selected_session_id()
        if sid is not None and self.open_session is not None:
            session = get_session(self.state.db, sid)
            if session.problem:  # the recording and what can be read still open; the clinician hears what is missing
                self.dialogs.message("warning", f"The session of {session.date} ({session.task}) opens with what "
                                                f"could be read: {session.problem}. Without words, Transcribe again "
                                                "to count syllables.")
            self.open_session(session)

    def save_analysis(self) -> None:
        analysis = self.analysis()
        session_id = getattr(analysis, "session_id", None)
        if analysis is not None and session_id is not None:
            stored = get_session(self.state.db, session_id)
            if self.dialogs.ask(f"This review continues the session of {stored.date} ({stored.task}). Save it into "
                                "that session?\nNo saves it as a new session."):
                self.save_into_session(analysis, stored)
                return
        if analysis is None or self.state.patient is None:
            self.dialogs.message("info", "Analyse a recording and choose a patient first.")
            return
        dialog = SessionDialog(Path(analysis.path).name, self, task=self.state.last_task)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.store_analysis(analysis, dialog.choices())

    def store_analysis(self, analysis, choices: SessionChoices) -> Job | None:
        """Store analysis as a session of the chosen patient; the recording is copied in a job."""
        try:
            draft = draft_from_analysis(analysis, patient_id=self.state.patient.id, task=choices.task,
                                        date=choices.date, notes=choices.notes,
                                        recording_mode=choices.recording_mode)
        except ValueError as e:
            self.dialogs.message("warning", str(e))
            return None
        db_path = self.state.db.path
        saved = analysis.review.to_dict()
        job = Job(lambda **_: store_recording(draft.recording, db_path, mode=draft.recording_mode),
                  name="store-recording", parent=self)
        job.succeeded.connect(lambda path: self._stored(replace(draft, recording=str(path)), analysis.path, saved))
        return self._start(job)

    def save_into_session(self, analysis, stored) -> None:
        """Write the continued review of `analysis` over the stored session it came from."""
        try:
            draft = draft_from_analysis(analysis, patient_id=stored.patient_id, task=stored.task, date=stored.date,
                                        recording_mode=stored.recording_mode)
            self.state.replace_review(stored.id, draft)
        except ValueError as e:
            self.dialogs.message("warning", str(e))
            return
        self.course.select_session(stored.id)
        self.analysis_saved.emit(str(analysis.path), stored.id, analysis.review.to_dict())

    def _stored(self, draft, analysis_path, saved: dict) -> None:
        try:
            session = self.state.add_session(draft, stored=True)
        except (ValueError, RecordsError) as e:  # RecordsError: locked database, full disk (clear messages)
            self.dialogs.message("warning", str(e))
            return
        self.course.select_session(session.id)
        self.analysis_saved.emit(str(analysis_path), session.id, saved)

    def delete_session(self) -> None:
        sid = self.course.selected_session_id()
        if sid is not None and self.dialogs.ask("Delete this session and its stored recording copy?"):
            self.state.delete_session(sid)

    # ---- reports -----------------------------------------------------------------------------------
    def _options(self):
        from app.reports.options import ReportOptions

        return ReportOptions(clinic_name=self.clinic.text().strip(), clinician=self.clinician.text().strip(),
                             deidentified=self.deidentified.isChecked())

    def ask_session_report(self) -> None:
        sid = self.course.selected_session_id()
        if sid is not None:
            path = self.dialogs.save_path("Save the session report", f"session-{sid}.pdf", PDF_FILTER)
            if path:
                self.write_session_report(sid, path)

    def ask_course_report(self) -> None:
        if self.state.patient is not None:
            path = self.dialogs.save_path("Save the course report", "course.pdf", PDF_FILTER)
            if path:
                self.write_course_report(path)

    def write_session_report(self, session_id: int, path: str | Path) -> Job:
        from app.qt.reports.session_report import write_session_report

        patient, session, options = self.state.patient, get_session(self.state.db, session_id), self._options()
        return self._start(Job(lambda **_: write_session_report(patient, session, path, options=options),
                               name="session-report", parent=self), done_text=f"Report saved: {path}")

    def write_course_report(self, path: str | Path) -> Job:
        from app.qt.reports.course_report import write_course_report

        patient, sessions, options = self.state.patient, self.state.sessions(), self._options()
        return self._start(Job(lambda **_: write_course_report(patient, sessions, path, options=options),
                               name="course-report", parent=self), done_text=f"Report saved: {path}")

    def _start(self, job: Job, *, done_text: str = "") -> Job:
        self.jobs.append(job)
        job.failed.connect(lambda text: self.dialogs.message("error", text))
        if done_text:
            job.succeeded.connect(lambda _: log.info("%s", done_text))
        job.done.connect(lambda: self.jobs.remove(job))
        return job.start()
