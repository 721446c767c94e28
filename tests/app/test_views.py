"""The records pages through pytest-qt: patients, saving the current analysis, the course chart and table
built from stored sessions, clinician fields, and reports written in jobs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from app.qt.views.course_view import COLUMNS, CourseView, chart_series
from app.qt.views.dialogs import SessionChoices
from app.qt.views.patients_page import PatientsPage
from app.qt.views.records_state import RecordsState
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SessionDraft, add_session, list_sessions


class ScriptedDialogs:
    def __init__(self, answer=True):
        self.messages: list[tuple[str, str]] = []
        self.answer = answer

    def message(self, level, text):
        self.messages.append((level, text))

    def ask(self, text):
        return self.answer

    def save_path(self, *args):
        return None


EVENTS = [{"label": "Block", "start": 1.0, "end": 2.0, "confidence": 0.9},
          {"label": "Interjection", "start": 5.0, "end": 5.5, "confidence": 0.8}]


@pytest.fixture()
def state(tmp_path, qapp):
    with open_database(tmp_path / "records.sqlite3") as db:
        yield RecordsState(db)


def stored_sessions(state, tmp_path, n=3):
    patient = add_patient(state.db, code="P-7")
    for i in range(n):
        add_session(state.db, SessionDraft(
            patient_id=patient.id, date=f"2024-0{i + 1}-10", task="reading", recording=str(tmp_path / "x.wav"),
            duration=60.0, model_id="m" * 64, model_events=tuple(EVENTS[: 2 - i % 2] * (n - i)),
            recording_mode="link"), stored=True)
    return patient


def test_course_chart_and_table_come_from_stored_sessions(qtbot, state, tmp_path):
    patient = stored_sessions(state, tmp_path)
    view = CourseView(state)
    qtbot.addWidget(view)
    state.choose_patient(patient.id)
    assert view.table.rowCount() == 3
    assert [view.table.item(r, 0).text() for r in range(3)] == ["2024-01-10", "2024-02-10", "2024-03-10"]
    assert view.table.item(0, COLUMNS.index("SLD/min")).text() == "3.00"
    x, y = view.chart.curves["SLD total"].getData()
    assert list(x) == [0, 1, 2] and list(y) == [3.0, 2.0, 1.0]
    _, inter = view.chart.curves["Interjection"].getData()
    assert list(inter) == chart_series(view.measures)["Interjection"] == [3.0, 0.0, 1.0]


def test_clinician_fields_are_saved(qtbot, state, tmp_path):
    patient = stored_sessions(state, tmp_path, n=1)
    view = CourseView(state)
    qtbot.addWidget(view)
    state.choose_patient(patient.id)
    view.table.selectRow(0)
    assert view.fields.isEnabled()
    view.fields.concomitants.setText("jaw tension")
    view.fields.naturalness.setValue(4)
    view.fields.notes.setPlainText("better than last week")
    view.fields.flush()  # at once; it would be written anyway after a pause or on switching session
    (s,) = list_sessions(state.db, patient.id)
    assert (s.physical_concomitants, s.naturalness, s.notes) == ("jaw tension", 4, "better than last week")
    assert view.selected_session_id() == s.id  # the selection survives the refresh
    assert view.table.item(0, COLUMNS.index("Naturalness")).text() == "4"


def test_save_analysis_and_write_reports(qtbot, state, tmp_path, predictions, speech_wav):
    from app.review import ReviewSession

    review = ReviewSession(predictions, {label: 0.5 for label in predictions.labels})
    review.add("Block", 1.0, 2.0)
    analysis = SimpleNamespace(path=speech_wav, predictions=predictions, review=review)
    dialogs = ScriptedDialogs()
    page = PatientsPage(state, analysis=lambda: analysis, dialogs=dialogs)
    qtbot.addWidget(page)
    state.add_patient(code="P-1", name="Ann Example")
    assert page.patient_list.count() == 1 and page.buttons["save"].isEnabled()
    assert not page.buttons["session_report"].isEnabled()

    job = page.store_analysis(analysis, SessionChoices(date="2024-05-02", task="conversation", notes="n",
                                                       recording_mode="copy"))
    qtbot.waitUntil(lambda: page.course.table.rowCount() == 1, timeout=10_000)
    assert job.wait(5)
    (s,) = state.sessions()
    assert s.recording_mode == "copy" and s.reviewed and s.model_id == predictions.model_id
    assert page.course.selected_session_id() == s.id and page.buttons["session_report"].isEnabled()

    page.clinic.setText("Example Clinic")
    page.deidentified.setChecked(True)
    jobs = [page.write_session_report(s.id, tmp_path / "s.pdf"), page.write_course_report(tmp_path / "p.pdf")]
    qtbot.waitUntil(lambda: not page.jobs, timeout=20_000)
    assert all(j.wait(1) for j in jobs) and dialogs.messages == []
    assert (tmp_path / "s.pdf").stat().st_size > 1000 and (tmp_path / "p.pdf").stat().st_size > 1000

    page.delete_session()
    assert state.sessions() == []
    page.delete_patient()
    assert page.patient_list.count() == 0 and not page.buttons["save"].isEnabled()


def test_save_without_analysis_explains(qtbot, state):
    dialogs = ScriptedDialogs()
    page = PatientsPage(state, dialogs=dialogs)
    qtbot.addWidget(page)
    page.save_analysis()
    assert "Analyse a recording" in dialogs.messages[0][1]


def test_the_session_date_is_stored_as_typed_and_never_in_the_future(qtbot):
    import datetime as dt

    from PySide6.QtWidgets import QDialog

    from app.qt.views.dialogs import SessionDialog

    dialog = SessionDialog("visit.wav", task="conversation")
    qtbot.addWidget(dialog)
    assert dialog.task.currentText() == "conversation"  # the last task used, not "reading" every time
    past = (dt.date.today() - dt.timedelta(days=28)).isoformat()
    for bad, why in (((dt.date.today() + dt.timedelta(days=1)).isoformat(), "in the future"),
                     ("3/11/2026", "YYYY-MM-DD")):
        dialog.date.setText(bad)
        dialog.accept()
        assert dialog.result() != QDialog.DialogCode.Accepted and why in dialog.error.text()
    dialog.date.setText(f" {past} ")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.choices().date == past


def test_severity_ssi4_age_task_default_and_like_for_like(qtbot, state, tmp_path):
    from app.qt.views.course_view import SEVERITY
    from app.records.patients import update_patient

    patient = stored_sessions(state, tmp_path)
    state.update_patient(update_patient(state.db, patient.__class__(id=patient.id, code="P-7",
                                                                    birth_date="2018-01-20")))
    view = CourseView(state)
    qtbot.addWidget(view)
    state.choose_patient(patient.id)
    assert view.table.item(0, COLUMNS.index("Age")).text() == "5 y 11 m"
    assert view.warning.isHidden()  # same task, same length
    view.table.selectRow(1)
    view.fields.severity.setValue(4)
    view.fields.ssi4["ssi4_face"].setValue(2)
    view.fields.flush()  # at once; it would be written anyway after a pause or on switching session
    s = list_sessions(state.db, patient.id)[1]
    assert s.severity == 4 and s.ssi4 == {"ssi4_face": 2} and s.ssi4_total is None
    assert view.table.item(1, COLUMNS.index("Severity (0-9)")).text() == "4"
    x, y = view.chart.curves[SEVERITY].getData()
    assert list(x) == [1] and list(y) == [4]
    draft = SessionDraft(patient_id=patient.id, date="2024-05-10", task="conversation",
                         recording=str(tmp_path / "x.wav"), duration=600.0, model_id="m" * 64, recording_mode="link")
    state.add_session(draft, stored=True)
    assert state.last_task == "conversation"
    assert not view.warning.isHidden() and "different tasks" in view.warning.text()
    assert "very different lengths" in view.warning.text()


def stored_row(state, session_id):
    return state.db.conn.execute("SELECT severity, naturalness, notes, ssi4_face, physical_concomitants"
                                 " FROM sessions WHERE id = ?", (session_id,)).fetchone()


@pytest.fixture()
def two_sessions(qtbot, state, tmp_path):
    patient = stored_sessions(state, tmp_path, n=2)
    view = CourseView(state)
    qtbot.addWidget(view)
    view.show()
    state.choose_patient(patient.id)
    view.table.selectRow(0)
    return view, [m.session_id for m in view.measures]


def test_ratings_and_notes_save_as_typed_and_survive_switching_sessions(qtbot, state, two_sessions):
    """Issue 23: nothing the clinician types waits for a button; switching session keeps it."""
    view, (first, second) = two_sessions
    fields = view.fields
    qtbot.keyClicks(fields.notes, "calmer")
    fields.severity.setValue(5)
    fields.ssi4["ssi4_face"].setValue(2)
    qtbot.keyClicks(fields.concomitants, "blinks")
    view.table.selectRow(1)  # switching flushes at once
    assert tuple(stored_row(state, first)) == (5, None, "calmer", 2, "blinks")
    assert fields.notes.toPlainText() == "" and fields.severity.value() == fields.severity.minimum()
    fields.naturalness.setValue(3)  # saved after a pause, without switching
    qtbot.waitUntil(lambda: stored_row(state, second)["naturalness"] == 3, timeout=3000)
    view.table.selectRow(0)
    assert fields.notes.toPlainText() == "calmer" and fields.severity.value() == 5
    assert fields.concomitants.text() == "blinks" and fields.ssi4["ssi4_face"].value() == 2
    assert view.table.item(1, COLUMNS.index("Naturalness")).text() == "3"
    qtbot.keyClicks(fields.notes, ", fewer blocks")
    view.hide()  # another page, or the window closing: written at once
    assert stored_row(state, first)["notes"] == "calmer, fewer blocks"


def test_ctrl_z_in_the_fields_undoes_a_rating_and_the_undo_is_saved(qtbot, state, two_sessions):
    view, (first, _) = two_sessions
    fields = view.fields
    view.activateWindow()
    fields.severity.setFocus()
    qtbot.waitUntil(fields.severity.hasFocus, timeout=2000)
    fields.severity.setValue(5)
    qtbot.waitUntil(lambda: stored_row(state, first)["severity"] == 5, timeout=3000)
    fields.severity.setValue(7)
    qtbot.waitUntil(lambda: stored_row(state, first)["severity"] == 7, timeout=3000)
    qtbot.keyClick(fields.severity, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert fields.severity.value() == 5
    qtbot.waitUntil(lambda: stored_row(state, first)["severity"] == 5, timeout=3000)
    fields.notes.setFocus()
    qtbot.keyClicks(fields.notes, "stable")
    view.table.selectRow(1)
    view.table.selectRow(0)
    assert fields.notes.toPlainText() == "stable"
    fields.notes.setFocus()
    qtbot.waitUntil(fields.notes.hasFocus, timeout=2000)
    qtbot.keyClick(fields.notes, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert fields.notes.toPlainText() == "stable", "undo never reaches into the session shown before"
    qtbot.keyClicks(fields.notes, " today")
    qtbot.keyClick(fields.notes, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert fields.notes.toPlainText() == "stable"
    view.table.selectRow(1)
    assert stored_row(state, first)["notes"] == "stable"


def test_the_wheel_over_a_rating_scrolls_unless_it_has_the_focus(qtbot, state, two_sessions):
    from test_wheel import wheel

    view, _ = two_sessions
    view.fields.notes.setFocus()
    before = view.fields.severity.value()
    wheel(view.fields.severity, notches=2)
    assert view.fields.severity.value() == before
