"""The speakers' proposal kept and chosen by a click (issue 26 item 1): which not-the-client stretches stand as
the proposal made them (the rule in app.clinical.ClinicalData.automatic) survives drafts, a real SQLite
session, the exports and the session report; an old session without it loads as marked by hand; "This voice
is the client" at a right-click on the waveform picks the voice there, of two or of three, in one undo step."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from test_find_speakers import _close, talk_window  # noqa: F401 (a fixture)
from test_main_window import ScriptedDialogs, make_window
from test_transcript import ListTranscriber, spoken_words, transcribe

from app.clinical import ClinicalData, stretches_note, write_clinical
from app.drafts import Draft, DraftStore
from app.qt.widgets.exclude_drag import BAND, PROPOSED_BAND
from app.records.clinical_json import check_clinical
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SessionDraft, add_session, get_session
from model.measures.speakers import MEASURED, Diarization
from model.measures.words import Word

PROPOSED = ((2.0, 3.0), (5.0, 6.5))
HAND = (0.0, 0.5)


def proposal() -> ClinicalData:
    """A hand mark, then a proposal of two stretches (as ClinicalState._propose leaves the data)."""
    data = ClinicalData(excluded=(HAND,)).with_proposal(PROPOSED, measured=MEASURED)
    return replace(data, excluded=(HAND, *PROPOSED))


def test_a_stretch_is_automatic_while_it_stands_as_the_proposal_made_it():
    data = proposal()
    assert data.automatic() == PROPOSED
    widened = data.with_stretch(6.4, 7.0)  # the clinician widens one: theirs now, as a whole
    assert widened.excluded[-1] == (5.0, 7.0) and widened.automatic() == ((2.0, 3.0),)
    joined = data.with_stretch(0.4, 2.1)  # a drag joins the hand mark to a proposed one
    assert joined.automatic() == ((5.0, 6.5),)
    assert data.without_stretch_at(2.5).automatic() == ((5.0, 6.5),)  # given back: gone
    assert replace(widened, excluded=data.excluded).automatic() == PROPOSED  # an undo brings it back as proposed
    assert replace(data, excluded=(HAND,)).automatic() == ()  # the proposal undone
    near = replace(data, excluded=(HAND, (2.0004, 2.9996), (5.0, 6.5)))  # rounding is not an edit
    assert near.automatic() == near.excluded[1:]


def test_only_the_standing_proposal_is_stored_and_an_old_dict_is_all_by_hand():
    widened = proposal().with_stretch(6.4, 7.0)
    stored = json.loads(json.dumps(widened.to_dict()))
    assert stored["proposed"] == [[2.0, 3.0]] and stored["proposed_by"] == MEASURED
    again = ClinicalData.from_dict(check_clinical(stored))
    assert again.automatic() == ((2.0, 3.0),) and again.proposed_by == MEASURED and again.to_dict() == stored
    undone = replace(proposal(), excluded=(HAND,)).to_dict()
    assert "proposed" not in undone and "proposed_by" not in undone  # nothing standing: as before issue 26
    old = ClinicalData.from_dict({"words": [], "excluded": [[2.0, 3.0]], "transcriber": ""})
    assert old.automatic() == () and stretches_note(old) == "Not the client: 1.0 s in 1 stretch, all marked by hand."
    for bad, said in (({"proposed": [[1.0, "x"]]}, "proposed stretch 0"), ({"proposed": {}}, "proposed stretches"),
                      ({"proposed_by": 3}, "proposed_by")):
        with pytest.raises(ValueError, match=said):
            check_clinical(bad)


def test_the_note_says_how_many_were_proposed_and_how_many_by_hand():
    note = stretches_note(proposal().with_stretch(6.4, 7.0))
    assert note == (f"Not the client: 3.5 s in 3 stretches. 1 found automatically by telling the voices apart "
                    f"(measured: {MEASURED}) and kept as proposed (the clinician has not changed them); 2 marked or changed by hand.")
    assert stretches_note(ClinicalData()) == ""
    assert "; " not in stretches_note(replace(proposal(), excluded=PROPOSED))  # all proposed: no "by hand"


def test_the_exports_label_the_proposed_stretches(tmp_path):
    from praatio import textgrid
    from pympi.Elan import Eaf

    data = replace(proposal(), words=(Word(0.1, 0.4, "so", 1.0), Word(2.2, 2.6, "and", 1.0),
                                      Word(3.5, 4.0, "well", 1.0)))
    tg = textgrid.openTextgrid(str(write_clinical("textgrid", tmp_path / "p.TextGrid", data, [], duration=8.0)),
                               includeEmptyIntervals=False)
    assert [(e.start, e.end, e.label) for e in tg.getTier("excluded").entries] == [
        (0.0, 0.5, "not client"), (2.0, 3.0, "not client (proposed)"), (5.0, 6.5, "not client (proposed)")]
    eaf = Eaf(str(write_clinical("eaf", tmp_path / "p.eaf", data, [], duration=8.0)))
    assert ("not client", stretches_note(data)) in eaf.properties
    text = write_clinical("words_csv", tmp_path / "p.csv", data, [], duration=8.0).read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["excluded_by"] for r in rows] == ["clinician", "proposal", ""]
    plain = Eaf(str(write_clinical("eaf", tmp_path / "h.eaf", replace(data, proposed=()), [], duration=8.0)))
    assert not any(key == "not client" for key, _ in plain.properties)


def test_a_session_keeps_it_in_a_real_sqlite_file_and_an_old_row_loads_as_by_hand(tmp_path):
    from app.qt.reports.course_report import course_report_html
    from app.qt.reports.session_report import session_report_html

    (tmp_path / "r.wav").write_bytes(b"RIFF" + bytes(100))
    db = open_database(tmp_path / "records.sqlite3")
    patient = add_patient(db, code="P-26")
    data = proposal()
    kept = add_session(db, SessionDraft(patient_id=patient.id, date="2026-12-07", task="conversation",
                                        recording=str(tmp_path / "r.wav"), recording_mode="link", duration=60.0,
                                        model_id="e" * 64, clinical=data.to_dict()))
    db.close()
    db = open_database(tmp_path / "records.sqlite3")  # read back from the file
    with db:
        session = get_session(db, kept.id)
        assert ClinicalData.from_dict(session.clinical).automatic() == PROPOSED
        html = session_report_html(patient, session)
        assert "2 found automatically by telling the voices apart" in html and "1 marked or changed by hand" in html
        course = course_report_html(patient, [session])  # the course report says it per session
        assert "Session of 2026-12-07 (conversation): Not the client: 3.0 s in 3 stretches. 2 found" in course
        with db.transaction() as conn:  # the row as a version before issue 26 wrote it
            conn.execute("UPDATE sessions SET clinical = ? WHERE id = ?",
                         ('{"words": [], "excluded": [[0.0, 0.5], [2.0, 3.0], [5.0, 6.5]], "transcriber": ""}',
                          kept.id))
        old = get_session(db, kept.id)
        assert not old.problem and ClinicalData.from_dict(old.clinical).automatic() == ()
        assert "3 stretches, all marked by hand" in session_report_html(patient, old)
        assert "3 stretches, all marked by hand" in course_report_html(patient, [old])


def test_a_draft_keeps_it(tmp_path):
    store = DraftStore(tmp_path / "drafts")
    store.save(Draft(recording=str(tmp_path / "r.wav"), recording_id="1:2", model_id="e" * 64,
                     review={"thresholds": {}, "reviewed": []}, clinical=proposal().to_dict()))
    assert ClinicalData.from_dict(store.load(tmp_path / "r.wav").clinical).automatic() == PROPOSED


# ---- in the window ------------------------------------------------------------------------------------------
def right_click(qtbot, waveform, seconds: float) -> None:
    """A real right-click on the waveform at `seconds` (halfway up)."""
    vb = waveform.getPlotItem().vb
    y = sum(vb.viewRange()[1]) / 2
    pos = waveform.mapFromScene(vb.mapViewToScene(QPointF(seconds, y)))
    QTest.mouseMove(waveform.viewport(), pos)
    QTest.mouseClick(waveform.viewport(), Qt.MouseButton.RightButton, pos=pos)
    qtbot.waitUntil(lambda: waveform.scene() is not None and _menu_shown(waveform), timeout=2000)


def _menu_shown(waveform) -> bool:
    from PySide6.QtWidgets import QMenu

    return any(m.isVisible() for m in waveform.findChildren(QMenu))


def choose(win, text: str) -> None:
    menu = win.exclude_drag.menu
    (action,) = [a for a in menu.actions() if a.text() == text]
    menu.close()
    action.trigger()


def middle(stretch) -> float:
    return (stretch[0] + stretch[1]) / 2


def test_a_right_click_on_the_other_voice_makes_it_the_client_and_the_flag_follows_undo(
        qtbot, talk_window, two_voice_conversation, tmp_path):  # noqa: F811 (the fixture)
    _, interviewer, client = two_voice_conversation
    win = talk_window
    win.page.waveform.fit()
    right_click(qtbot, win.page.waveform, middle(interviewer[1]))
    choose(win, "This voice is the client")  # before the speakers are found: says what to do
    assert "Find the speakers first" in win.status_label.text() and win.clinical.data.excluded == ()
    win.find_speakers_action.trigger()
    qtbot.waitUntil(lambda: not win.clinical.finding_speakers, timeout=30_000)
    first = win.clinical.data.excluded
    assert _close(first, interviewer) and win.clinical.data.automatic() == first
    assert win.current_analysis.clinical["proposed"] == [list(x) for x in first]  # what a draft or session stores

    right_click(qtbot, win.page.waveform, middle(interviewer[1]))  # the interviewer's voice is the client
    choose(win, "This voice is the client")
    assert _close(win.clinical.data.excluded, client), (win.clinical.data.excluded, client)
    assert win.clinical.data.automatic() == win.clinical.data.excluded
    win.clinical.exclude(interviewer[0][0], interviewer[0][1])  # a hand mark beside the proposal
    assert len(win.clinical.data.automatic()) == len(win.clinical.data.excluded) - 1
    colours = [band.brush.color() for band in win.exclude_drag.bands]
    assert colours.count(BAND) == 1 and colours.count(PROPOSED_BAND) == len(colours) - 1  # the hand mark is grey
    win.undo_action.trigger()  # the hand mark
    win.undo_action.trigger()  # the click: the first proposal, still automatic
    assert win.clinical.data.excluded == first and win.clinical.data.automatic() == first
    win.undo_action.trigger()  # the proposal: nothing stands, nothing is stored as proposed
    assert win.clinical.data.excluded == () and "proposed" not in win.current_analysis.clinical
    win.redo_action.trigger()
    assert win.clinical.data.automatic() == first



def test_the_flag_survives_a_draft_and_a_saved_session(qtbot, app_settings, talk_window):  # noqa: F811
    from app.qt.views.dialogs import SessionChoices

    win = talk_window
    win.find_speakers_action.trigger()
    qtbot.waitUntil(lambda: not win.clinical.finding_speakers, timeout=30_000)
    proposed = win.clinical.data.automatic()
    gap = proposed[0][1] + 0.5  # in the client's turn after the first proposed stretch
    assert gap + 0.3 < proposed[1][0]
    win.clinical.exclude(gap, gap + 0.3)  # and one by hand, touching none
    assert len(proposed) >= 2 and win.unsaved
    (draft,) = win.drafts.all()  # written at the change
    assert ClinicalData.from_dict(draft.clinical).automatic() == proposed

    dialogs = ScriptedDialogs(answers=[True])
    again = make_window(qtbot, app_settings, dialogs)  # the next start: the draft is offered and restored
    again.offer_recovery()
    qtbot.waitUntil(lambda: again.state.review is not None and not again.state.busy, timeout=60_000)
    assert again.clinical.data.automatic() == proposed and len(again.clinical.data.excluded) == len(proposed) + 1

    again.records.add_patient(code="P-26")
    again.patients_page.store_analysis(again.current_analysis, SessionChoices(
        date="2026-12-07", task="conversation", notes="", recording_mode="link"))
    qtbot.waitUntil(lambda: not again.patients_page.jobs, timeout=30_000)
    (session,) = again.records.sessions()
    stored = get_session(again.records.db, session.id)  # read back from the SQLite file
    assert ClinicalData.from_dict(stored.clinical).automatic() == proposed
    assert again.open_session(stored)
    qtbot.waitUntil(lambda: again.state.review is not None and not again.state.busy, timeout=60_000)
    assert again.clinical.data.automatic() == proposed and not again.unsaved


def test_three_voices_the_clicked_one_is_the_client(qtbot, talk_window):  # noqa: F811
    win = talk_window
    end = win.state.duration
    voices = Diarization(duration_s=end, stretches={0: ((0.5, 2.0), (6.0, 8.0)), 1: ((2.5, 4.0),), 2: ((4.5, 5.5),)},
                         speech_s={0: 3.5, 1: 1.5, 2: 1.0})
    win.clinical._found(win.state.path, voices)  # what the speakers' job hands back, for three voices
    assert win.clinical.data.excluded == ((2.5, 4.0), (4.5, 5.5)) and win.clinical.client == 0
    win.state.set_playhead(5.0)
    win.client_here_action.trigger()  # Review > This voice is the client (at the playhead)
    assert win.clinical.data.excluded == ((0.5, 2.0), (2.5, 4.0), (6.0, 8.0)) and win.clinical.client == 2
    assert win.clinical.data.automatic() == win.clinical.data.excluded
    assert "the client is voice 3 of 3" in win.page.banner.text()
    right_click(qtbot, win.page.waveform, 4.25)  # between voices 1 and 2: no one speaks there
    choose(win, "This voice is the client")
    assert "No voice speaks at 4.2" in win.status_label.text() and win.clinical.client == 2
    win.swap_speakers_action.trigger()  # the next voice in turn
    assert win.clinical.client == 0 and win.clinical.data.excluded == ((2.5, 4.0), (4.5, 5.5))
    win.undo_action.trigger()
    assert win.clinical.data.excluded == ((0.5, 2.0), (2.5, 4.0), (6.0, 8.0))
    win.undo_action.trigger()
    assert win.clinical.data.excluded == ((2.5, 4.0), (4.5, 5.5))
    assert win.clinical.data.automatic() == win.clinical.data.excluded
    win.clinical.transcriber_factory = lambda: ListTranscriber(spoken_words(8.0))
    transcribe(qtbot, win)  # words come after the proposal: it stays the proposal
    assert win.clinical.data.automatic() == win.clinical.data.excluded and win.clinical.data.words
