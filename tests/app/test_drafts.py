"""Review work is never lost: drafts at every change, questions before it is left, drafts after a crash,
saved sessions reopened, finished and saved again."""

from __future__ import annotations

import json
import stat

import pytest
from review_fixtures import THRESHOLDS, fake_predictions
from test_main_window import ScriptedDialogs, analyse, make_window

from app.drafts import Draft, DraftStore
from app.qt.main_window import start_recovery_check
from app.qt.views.dialogs import SessionChoices
from app.records.course import session_measures
from app.records.sessions import get_session
from app.review import ReviewSession


def test_the_draft_store_is_private_and_skips_damaged_files(tmp_path):
    store = DraftStore(tmp_path / "drafts")
    review = ReviewSession(fake_predictions(), THRESHOLDS)
    review.reject(review.rows()[0].key)
    path = store.save(Draft(recording=str(tmp_path / "a.wav"), recording_id="1:2", model_id="f" * 64,
                            review=review.to_dict()))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    (store.folder / "broken.json").write_text("{not json")
    (draft,) = store.all()
    assert draft.decisions == 1 and draft.saved and store.load(tmp_path / "a.wav") == draft
    again = ReviewSession(fake_predictions(), THRESHOLDS)
    again.load(draft.review)
    assert again.rows() == review.rows()
    store.discard(tmp_path / "a.wav")
    assert store.all() == [] and not list(store.folder.glob(".*.tmp"))


def review_some(win, n: int = 1) -> None:
    review = win.state.review
    for label in review.labels:
        review.set_threshold(label, 0.4)
    assert len(win.state.rows) >= 2, "the tiny model gives events at 0.4"
    for row in win.state.rows[:n]:
        review.reject(row.key)


def test_open_and_quit_ask_when_the_review_is_unsaved(qtbot, app_settings, speech_wav, tmp_path):
    dialogs = ScriptedDialogs()
    win = make_window(qtbot, app_settings, dialogs)
    analyse(qtbot, win, speech_wav)
    assert not win.unsaved and win.open_file(speech_wav, analyse=False)  # nothing to lose: no question
    assert dialogs.questions == []
    qtbot.waitUntil(lambda: not win.state.busy, timeout=30_000)
    analyse(qtbot, win, speech_wav)
    review_some(win)
    assert win.unsaved
    dialogs.answers = [False]
    assert not win.open_file(tmp_path / "other.wav")  # the clinician keeps the review
    assert "not saved as a session" in dialogs.questions[-1] and win.state.path == speech_wav
    dialogs.answers = [False]
    win.close()
    assert win.isVisible(), "Quit must not discard the review without asking"
    dialogs.answers = [True]
    win.close()
    assert not win.isVisible()
    assert len(win.drafts.all()) == 1, "the draft stays after quitting without saving"


def test_a_draft_is_offered_after_a_crash(qtbot, app_settings, speech_wav):
    crashed = make_window(qtbot, app_settings, ScriptedDialogs(answers=[True] * 5))
    analyse(qtbot, crashed, speech_wav)
    review_some(crashed, n=2)
    crashed.state.review.add("Block", 1.0, 2.0)
    (draft,) = crashed.drafts.all()  # written at the change, before any quit: a kill loses nothing
    assert draft.decisions == 3 and draft.recording == str(speech_wav.resolve())
    before = [(r.label, r.start, r.end, r.status) for r in crashed.state.rows]

    dialogs = ScriptedDialogs(answers=[True])
    win = make_window(qtbot, app_settings, dialogs)  # the next start, same data folder
    win.offer_recovery()
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    assert "unsaved review of speech.wav (3 decisions" in dialogs.questions[0]
    assert [(r.label, r.start, r.end, r.status) for r in win.state.rows] == before
    assert win.unsaved and win.state.review.thresholds == crashed.state.review.thresholds


def test_a_declined_draft_is_deleted(qtbot, app_settings, speech_wav):
    first = make_window(qtbot, app_settings, ScriptedDialogs(answers=[True] * 5))
    analyse(qtbot, first, speech_wav)
    review_some(first)
    win = make_window(qtbot, app_settings, ScriptedDialogs(answers=[False]))
    assert not win.offer_drafts() and win.drafts.all() == []


def test_a_saved_session_reopens_and_is_finished_and_saved_again(qtbot, app_settings, speech_wav):
    dialogs = ScriptedDialogs()
    win = make_window(qtbot, app_settings, dialogs)
    patient = win.records.add_patient(code="P-21")
    analyse(qtbot, win, speech_wav)
    review_some(win, n=1)
    job = win.patients_page.store_analysis(win.current_analysis, SessionChoices(
        date="2024-03-01", task="reading", notes="", recording_mode="link"))
    qtbot.waitUntil(lambda: not win.patients_page.jobs, timeout=30_000)
    assert job.wait(5) and not win.unsaved and win.drafts.all() == []
    (stored,) = win.records.sessions()
    m = session_measures(stored)
    # Counted as it goes (issue 23): the one decision counts already.
    assert m.source == ("mixed" if m.events > 1 else "reviewed") and m.reviewed == 1
    assert m.events == len(win.state.rows)

    win.open_file(speech_wav, analyse=False)  # something else on screen
    qtbot.waitUntil(lambda: win.state.envelope is not None and not win.state.busy, timeout=30_000)
    assert win.open_session(stored)
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    review = win.state.review
    assert win.current_analysis.session_id == stored.id and review.progress == (1, m.events)
    # One wording for the review's progress everywhere (it read "reviewed: 1 of" in the banner alone)
    assert not win.unsaved and f"reviewed 1 of {m.events}" in win.page.banner.text()
    for row in win.state.rows:
        if not row.reviewed:
            review.accept(row.key)
    assert win.unsaved and review.basis == "reviewed"
    dialogs.answers = [True]  # "save it into that session?"
    win.patients_page.save_analysis()
    again = get_session(win.records.db, stored.id)
    m = session_measures(again)
    assert (m.source, m.reviewed, m.events) == ("reviewed", m.events, m.events)
    assert len(win.records.sessions()) == 1 and not win.unsaved and win.drafts.all() == []
    assert patient.id == again.patient_id


def test_a_draft_of_another_model_is_kept_aside(qtbot, app_settings, speech_wav):
    first = make_window(qtbot, app_settings, ScriptedDialogs(answers=[True] * 5))
    analyse(qtbot, first, speech_wav)
    review_some(first)
    path = first.drafts.path_for(speech_wav)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "model_id": "0" * 64}))
    dialogs = ScriptedDialogs(answers=[True])
    win = make_window(qtbot, app_settings, dialogs)
    win.offer_drafts()
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    level, text = dialogs.messages[-1]
    assert level == "warning" and "was not restored" in text and "model 000000000000" in text
    assert path.with_suffix(".json.kept").is_file() and not win.state.review.has_decisions



def write_damaged_draft(qtbot, app_settings, speech_wav, damage) -> tuple:
    """A real draft of a reviewed analysis, then damaged in place; returns its path and its bytes."""
    first = make_window(qtbot, app_settings, ScriptedDialogs(answers=[True] * 5))
    analyse(qtbot, first, speech_wav)
    review_some(first)
    path = first.drafts.path_for(speech_wav)
    data = json.loads(path.read_text())
    damage(data)
    path.write_text(json.dumps(data))
    first.state.review = None  # the first window is gone: nothing to ask about when it closes
    return path, path.read_bytes()


@pytest.mark.parametrize("damage, named", [
    (lambda d: d.update(review="rejected 1"), "review is a str"),
    (lambda d: d["review"].update(reviewed=[{"label": "Block", "start": "soon", "end": 2.0}]), "reviewed events entry 0"),
    (lambda d: d.update(clinical={"words": [{"start": 0.1, "end": "x", "text": "so", "probability": 1.0}]}),
     "word 0's end"),
], ids=["review-a-string", "decision-of-wrong-type", "clinical-word-of-wrong-type"])
def test_a_damaged_draft_at_start_is_kept_and_its_recording_opens(qtbot, app_settings, speech_wav, damage, named):
    path, damaged = write_damaged_draft(qtbot, app_settings, speech_wav, damage)
    dialogs = ScriptedDialogs(answers=[True])
    win = make_window(qtbot, app_settings, dialogs)
    start_recovery_check(win)  # as launch starts the window: the recovery check once the loop runs
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    level, text = dialogs.messages[0]
    kept = path.with_name(path.name + ".kept")
    assert level == "warning" and named in text and str(kept) in text and "speech.wav" in text
    assert kept.read_bytes() == damaged, "the damaged draft is kept exactly as it was"
    assert win.state.path == speech_wav and win.state.rows and not win.state.review.has_decisions
    review_some(win)  # the new draft goes where the damaged one was; the kept one is untouched
    assert win.drafts.load(speech_wav).decisions == 1 and kept.read_bytes() == damaged


def test_opening_a_recording_whose_draft_is_damaged_keeps_it_and_says_so(qtbot, app_settings, speech_wav):
    path, damaged = write_damaged_draft(qtbot, app_settings, speech_wav, lambda d: d.update(session_id="7"))
    (path.parent / f"{path.name}.kept").write_text("an earlier kept draft")  # never overwritten either
    dialogs = ScriptedDialogs(answers=[True])
    win = make_window(qtbot, app_settings, dialogs)
    analyse(qtbot, win, speech_wav)
    level, text = dialogs.messages[-1]
    kept = path.with_name(f"{path.name}.1.kept")
    assert level == "warning" and "session id is '7'" in text and str(kept) in text
    assert kept.read_bytes() == damaged and not path.exists()
    assert (path.parent / f"{path.name}.kept").read_text() == "an earlier kept draft"
    assert win.state.rows and not win.state.review.has_decisions
