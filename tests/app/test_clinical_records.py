"""Words, not-the-client stretches and %SS in the records (schema version 4) and in the session and course PDFs."""

from __future__ import annotations

import shutil

import pytest
from test_records import MODEL_EVENTS, REVIEWED
from test_reports import MODEL_ID, flat, pdf_text
from test_transcript import spoken_words

from app.clinical import ClinicalData
from app.records.course import session_measures
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.schema import MIGRATIONS, SCHEMA_VERSION
from app.records.sessions import SessionDraft, add_session, get_session, list_sessions, replace_review

EXCLUDED = [[25.0, 27.0]]  # the interviewer, 2 s


def clinical() -> dict:
    return ClinicalData(words=tuple(spoken_words(30.0)), excluded=tuple(map(tuple, EXCLUDED)),
                        transcriber="faster-whisper base").to_dict()


def draft(patient_id: int, tmp_path, **kw) -> SessionDraft:
    return SessionDraft(patient_id=patient_id, date="2024-05-01", task="conversation",
                        recording=str(tmp_path / "x.wav"), duration=90.0, model_id=MODEL_ID,
                        model_settings={"thresholds": {"Block": 0.5}}, model_events=tuple(MODEL_EVENTS),
                        reviewed_events=tuple(REVIEWED), recording_mode="link", **kw)


def test_version_3_files_migrate_to_4_and_then_keep_words(tmp_path):
    path = tmp_path / "old.sqlite3"
    with open_database(path, migrations=MIGRATIONS[:3]) as old:  # a file made by the previous release
        assert old.version == 3
        p = add_patient(old, code="P-3")
        old.conn.execute(
            "INSERT INTO sessions (patient_id, date, task, recording, recording_mode, duration, model_id,"
            " model_event_count, reviewed_event_count, created, severity) VALUES (?, '2023-05-01', 'reading',"
            " '/x.wav', 'link', 60, 'ab', 0, 0, 'now', 2)", (p.id,))
    with open_database(path) as db:
        assert db.version == 4 == SCHEMA_VERSION
        (s,) = list_sessions(db, p.id)
        assert (s.severity, s.clinical) == (2, {})
        assert session_measures(s).pct_ss is None and session_measures(s).syllables is None
        s = replace_review(db, s.id, draft(p.id, tmp_path, clinical=clinical()))
        assert len(s.clinical["words"]) == 90 and s.clinical["excluded"] == EXCLUDED
        assert get_session(db, s.id).clinical == s.clinical


def test_session_measures_count_what_the_review_counts_over_the_clients_words(tmp_path):
    with open_database(tmp_path / "r.sqlite3") as db:
        p = add_patient(db, code="P-9")
        s = add_session(db, draft(p.id, tmp_path, clinical=clinical()), stored=True)
        m = session_measures(s)
    # By hand: 90 words in 30 s, 97 syllables ("away" has two); 25-27 s is not the client: 6 one-syllable
    # words out, 91 left. Counted from the review (all 3 model events decided): the adjusted Block 1-3 s, the
    # retyped WordRep 10-11 s and the added Prolongation 20-20.5 s, one stuttered syllable each: 3 / 91.
    assert m.source == "reviewed" and m.syllables == 91
    assert m.pct_ss == pytest.approx(300 / 91)
    assert m.longest3_moments_s == 1.2  # (2.0 + 1.0 + 0.5) / 3, to 0.1 s
    # Speaking time: the words run 0-24.967 s and 27.0-29.967 s (the 2.033 s without the client's words is a
    # pause over 2 s, so not speaking time): 27.934 s.
    assert m.spm == pytest.approx(91 / 27.934 * 60)
    assert m.excluded_s == 2.0 and m.transcriber == "faster-whisper base"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)")
def test_session_and_course_pdfs_report_pct_ss_spm_and_the_three_longest(tmp_path, qapp):
    from app.qt.reports.course_report import write_course_report
    from app.qt.reports.session_report import write_session_report

    with open_database(tmp_path / "r.sqlite3") as db:
        patient = add_patient(db, code="P-14")
        first = add_session(db, draft(patient.id, tmp_path), stored=True)  # no words: no %SS, said so
        second = add_session(db, draft(patient.id, tmp_path, clinical=clinical()), stored=True)
        sessions = list_sessions(db, patient.id)
    text = flat(pdf_text(write_session_report(patient, second, tmp_path / "s.pdf")))
    for expected in ("%SS 3.3", "Syllables per minute 195", "Syllables counted 91",
                     "Three longest, mean 1.2 s", "Not the client 2.0 s",
                     "Words by faster-whisper base", "reviewed 3 of 3 model events"):
        assert expected in text, expected
    assert MODEL_ID in text.replace(" ", "")
    assert "not transcribed" in flat(pdf_text(write_session_report(patient, first, tmp_path / "f.pdf")))
    text = flat(pdf_text(write_course_report(patient, sessions, tmp_path / "c.pdf")))
    assert "%SS across sessions" in text and "Not the client" in text
    assert "2024-05-01 3.3 195 91 1.2 2.0" in text  # the transcribed session's row


@pytest.mark.parametrize("stored, named", [
    ("{not json", "not JSON"),
    ("[1, 2]", "a list, not an object"),
    ('{"words": [{"start": 0.5, "end": 0.9, "text": 7, "probability": 1.0}]}', "word 0's text is 7"),
    ('{"words": [], "excluded": [[1.0, "end"]]}', "excluded stretch 0"),
], ids=["not-json", "wrong-type", "word-text-of-wrong-type", "stretch-of-wrong-type"])
def test_a_session_with_damaged_words_opens_in_analysis_and_says_what_is_wrong(qtbot, app_settings, speech_wav,
                                                                               stored, named):
    from test_drafts import review_some
    from test_main_window import ScriptedDialogs, analyse, make_window

    from app.qt.views.dialogs import SessionChoices

    dialogs = ScriptedDialogs()
    win = make_window(qtbot, app_settings, dialogs)
    win.records.add_patient(code="P-23")
    analyse(qtbot, win, speech_wav)
    review_some(win)
    win.patients_page.store_analysis(win.current_analysis, SessionChoices(
        date="2024-03-01", task="reading", notes="", recording_mode="link"))
    qtbot.waitUntil(lambda: not win.patients_page.jobs, timeout=30_000)
    (session,) = win.records.sessions()
    db = win.records.db
    with db.transaction() as conn:  # damaged on disk, in the real SQLite file
        conn.execute("UPDATE sessions SET clinical = ? WHERE id = ?", (stored, session.id))
    win.records.sessions_changed.emit()  # the Patients page reads the sessions again
    win.patients_page.course.select_session(session.id)
    win.patients_page.buttons["open_session"].click()  # Patients > Open in Analysis
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    level, text = dialogs.messages[0]
    assert level == "warning" and "damaged" in text and named in text
    assert win.state.session_id == session.id and win.state.review.progress[0] == 1  # the review is restored
    assert win.tabs.currentWidget() is win.page and win.clinical.data.words == ()
    raw = db.conn.execute("SELECT clinical FROM sessions WHERE id = ?", (session.id,)).fetchone()[0]
    assert raw == stored, "the damaged value stays in the records until the session is saved again"
