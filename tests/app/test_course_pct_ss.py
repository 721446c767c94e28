"""The Patients page's course in %SS: the sessions table and chart show what the course PDF shows (issue 14),
and a session without words says why it has no %SS instead of showing a number."""

from __future__ import annotations

import math

import pytest
from PySide6.QtWidgets import QLabel

from app.qt.views.course_view import COLUMNS, NO_VALUE, CourseView
from app.qt.views.records_state import RecordsState
from app.records.course import PER_MINUTE_AXIS, session_measures
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SessionDraft, add_session, list_sessions

DURATION = 60.0  # s of each generated session


@pytest.fixture()
def state(tmp_path, qapp):
    with open_database(tmp_path / "records.sqlite3") as db:
        yield RecordsState(db)


def words_clinical() -> dict:
    """120 one-syllable words, one every 0.5 s (0.3 s long): 120 syllables, pauses far under 2 s.

    Four words in turn: one word said 120 times would count once (model/measures/intended_syllables.py)."""
    texts = ("cat", "sat", "on", "mat")
    return {"words": [{"start": i * 0.5, "end": i * 0.5 + 0.3, "text": texts[i % 4], "probability": 0.9}
                      for i in range(120)],
            "excluded": [], "transcriber": "test words"}


def block(start: float) -> dict:
    # Inside one word (start .. start + 0.3): one stuttered syllable each.
    return {"label": "Block", "start": start + 0.05, "end": start + 0.25, "confidence": 0.9}


def add(state, patient, tmp_path, date, events, clinical):
    return add_session(state.db, SessionDraft(
        patient_id=patient.id, date=date, task="reading", recording=str(tmp_path / "x.wav"), duration=DURATION,
        model_id="ab" * 32, model_events=tuple(events), recording_mode="link", clinical=clinical), stored=True)


def shown(view, qtbot, patient):
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    view.state.choose_patient(patient.id)


def cell(view, row, column):
    return view.table.item(row, COLUMNS.index(column))


def test_sessions_with_words_show_their_pct_ss_and_a_wordless_one_falls_back(qtbot, state, tmp_path):
    patient = add_patient(state.db, code="P-9")
    add(state, patient, tmp_path, "2024-01-10", [block(1.0)], words_clinical())
    add(state, patient, tmp_path, "2024-02-10", [block(1.0), block(20.0)], words_clinical())
    add(state, patient, tmp_path, "2024-03-10", [block(1.0)], {})  # saved without Transcribe
    view = CourseView(state)
    shown(view, qtbot, patient)
    # By hand: 1 and 2 stuttered syllables of 120: 0.83 and 1.67 %SS.
    assert [cell(view, r, "%SS").text() for r in range(3)] == ["0.8", "1.7", NO_VALUE]
    sessions = list_sessions(state.db, patient.id)
    expected = [session_measures(s) for s in sessions]  # the PDF's numbers (course_report uses these)
    assert expected[0].pct_ss == pytest.approx(100 / 120) and expected[1].pct_ss == pytest.approx(200 / 120)
    for r in range(2):
        assert cell(view, r, "Syllables/min").text() == f"{expected[r].spm:.0f}"
        assert cell(view, r, "Top-3 moments mean (s)").text() == f"{expected[r].longest3_moments_s:.1f}"
        assert "of 120 syllables" in cell(view, r, "%SS").toolTip()
    assert cell(view, 0, "Model").text() == "ab" * 6
    assert cell(view, 0, "Counted from").text() == "model (reviewed 0 of 1)"
    # The wordless session: no number for %SS, SPM or the moments; the tooltip says why and what to do.
    for column in ("%SS", "Syllables/min", "Top-3 moments mean (s)"):
        assert cell(view, 2, column).text() == NO_VALUE
        assert "no words" in cell(view, 2, column).toolTip() and "Transcribe" in cell(view, 2, column).toolTip()
    assert cell(view, 2, "SLD/min").text() == "1.00"  # its events per minute are still there
    # The chart is in %SS: two points and a gap, never a point at 0 for the session without words.
    assert view.chart.getAxis("left").labelText == "%SS"
    assert view.pct_ss_legend.isVisible() and "stuttered syllables per 100" in view.pct_ss_legend.findChildren(
        QLabel)[-1].text()
    assert set(view.chart.curves) == {"%SS"}
    x, y = view.chart.curves["%SS"].getData()
    assert list(x) == [0, 1, 2]
    assert y[0] == pytest.approx(expected[0].pct_ss) and y[1] == pytest.approx(expected[1].pct_ss)
    assert math.isnan(y[2])
    assert view.pct_ss_legend.isVisible() and not view.legend.isVisible()
    assert view.chart_note.isVisible() and view.chart_note.text().startswith("No %SS point for 2024-03-10 (no words)")
    assert view.chart.getViewBox().viewRange()[1][0] == 0  # a rate from 0


def test_without_any_words_the_chart_is_per_minute_and_says_so(qtbot, state, tmp_path):
    patient = add_patient(state.db, code="P-10")
    add(state, patient, tmp_path, "2024-01-10", [block(1.0)], {})
    add(state, patient, tmp_path, "2024-02-10", [block(1.0), block(20.0)], {})
    view = CourseView(state)
    shown(view, qtbot, patient)
    assert [cell(view, r, "%SS").text() for r in range(2)] == [NO_VALUE, NO_VALUE]
    assert view.chart.getAxis("left").labelText == PER_MINUTE_AXIS
    _, y = view.chart.curves["SLD total"].getData()
    assert list(y) == [1.0, 2.0]
    assert view.legend.isVisible() and not view.pct_ss_legend.isVisible()
    assert "no session has words yet" in view.chart_note.text()


def test_too_little_speech_says_so_rather_than_no_words(qtbot, state, tmp_path):
    patient = add_patient(state.db, code="P-11")
    few = words_clinical()
    few["words"] = few["words"][:10]  # 10 syllables: under the measures' minimum for a rate
    add(state, patient, tmp_path, "2024-01-10", [block(1.0)], few)
    add(state, patient, tmp_path, "2024-02-10", [block(1.0)], words_clinical())
    view = CourseView(state)
    shown(view, qtbot, patient)
    assert cell(view, 0, "%SS").text() == NO_VALUE
    assert "too little of the client's speech" in cell(view, 0, "%SS").toolTip()
    assert cell(view, 1, "%SS").text() == "0.8"
    assert "2024-01-10 (too little speech)" in view.chart_note.text()
