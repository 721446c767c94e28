"""Every stored form of a moment still loads now that moments are the unit from the model to the report
(issue 23): the event dicts of saved sessions (SQLite rows), drafts and results.json, as the code before
moments were the unit wrote them, and older rows made by hand (window-model sessions without types).

The written forms below were printed by that code (app.review.ReviewSession.to_dict, app.records.sessions'
rows, model.pipeline.analysis.Analysis.to_dict) for test_one_truth's recording: Block+SoundRep 1-2 s, WordRep
20-20.6 s, an interjection 30-30.5 s, Prolongation 45-46 s; the review adjusted the first moment to
0.9-2.1 s, retyped the WordRep as SoundRep, rejected the interjection, raised Block's threshold to 0.95
(the moment at 1-2 s then reads as SoundRep alone; that code kept the decided reading too, pinned, so one
moment stood twice) and added a Block at 10-10.4 s. Read now, the moment at 1-2 s is one moment, as decided.
"""

from __future__ import annotations

import json

import pytest
from test_one_truth import THRESHOLDS, predictions

from app.drafts import Draft, DraftStore
from app.records.course import session_measures
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SessionDraft, add_session, get_session
from app.review import ReviewSession
from model.moments.decoding import INTERJECTION, STUTTERING, UNREVIEWED, Moment
from model.pipeline.analysis import analyse_predictions

CONF = 0.8999999761581421  # float32 0.9 as the frame probabilities give it
THRESHOLDS_SAVED = {**THRESHOLDS, "Block": 0.95}

# ReviewSession.to_dict() as a draft held it before moments were the unit.
OLD_DRAFT_REVIEW = {
    "thresholds": THRESHOLDS_SAVED,
    "reviewed": [
        {"label": "Block", "start": 0.9, "end": 2.1, "confidence": CONF, "status": "adjusted", "origin": 0,
         "types": ["Block", "SoundRep"]},
        {"label": "Block", "start": 10.0, "end": 10.4, "confidence": 1.0, "status": "added", "origin": None},
        {"label": "SoundRep", "start": 20.0, "end": 20.6, "confidence": CONF, "status": "retyped", "origin": 2},
        {"label": "Interjection", "start": 30.0, "end": 30.5, "confidence": 0.800000011920929,
         "status": "rejected", "origin": 3}],
    "pinned": [{"label": "Block", "start": 1.0, "end": 2.0, "confidence": CONF, "types": ["Block", "SoundRep"],
                "duration": 1.0}]}

# The events table's rows (source, position, label, start, end, confidence, status, origin, extra) as
# app.records.sessions wrote them before moments were the unit.
OLD_ROWS = [
    ("model", 0, "Block", 1.0, 2.0, CONF, None, None, '{"types": ["Block", "SoundRep"], "duration": 1.0}'),
    ("model", 1, "SoundRep", 1.0, 2.0, CONF, None, None, '{"duration": 1.0}'),
    ("model", 2, "WordRep", 20.0, 20.6, CONF, None, None, '{"duration": 0.6}'),
    ("model", 3, "Interjection", 30.0, 30.5, 0.800000011920929, None, None, '{"duration": 0.5}'),
    ("model", 4, "Prolongation", 45.0, 46.0, CONF, None, None, '{"duration": 1.0}'),
    ("reviewed", 0, "Block", 0.9, 2.1, CONF, "adjusted", 0, '{"types": ["Block", "SoundRep"]}'),
    ("reviewed", 1, "Block", 10.0, 10.4, 1.0, "added", None, "{}"),
    ("reviewed", 2, "SoundRep", 20.0, 20.6, CONF, "retyped", 2, "{}"),
    ("reviewed", 3, "Interjection", 30.0, 30.5, 0.800000011920929, "rejected", 3, "{}")]

# results.json "events" as `assess` wrote them before moments were the unit.
OLD_RESULTS_EVENTS = [
    {"label": "Block", "start": 1.0, "end": 2.0, "confidence": CONF, "types": ["Block", "SoundRep"], "duration": 1.0},
    {"label": "WordRep", "start": 20.0, "end": 20.6, "confidence": CONF, "duration": 0.6},
    {"label": "Interjection", "start": 30.0, "end": 30.5, "confidence": 0.800000011920929, "duration": 0.5},
    {"label": "Prolongation", "start": 45.0, "end": 46.0, "confidence": CONF, "duration": 1.0}]

# What the review shows for those decisions: (status, types, kind, start, end, origin) by row; origins index
# the review's model moments (the SoundRep reading at 1-2 s, then WordRep, the interjection, Prolongation).
EXPECTED_ROWS = [
    ("adjusted", ("Block", "SoundRep"), STUTTERING, 0.9, 2.1, 0),
    ("added", ("Block",), STUTTERING, 10.0, 10.4, None),
    ("retyped", ("SoundRep",), STUTTERING, 20.0, 20.6, 1),
    ("rejected", ("Interjection",), INTERJECTION, 30.0, 30.5, 2),
    (UNREVIEWED, ("Prolongation",), STUTTERING, 45.0, 46.0, None)]


def shown(review: ReviewSession) -> list[tuple]:
    return [(r.status, r.types, r.kind, r.start, r.end, r.origin) for r in review.rows()]


def test_results_json_events_read_as_the_analysis_moments():
    moments = analyse_predictions(predictions(), THRESHOLDS).moments
    assert tuple(map(Moment.from_dict, OLD_RESULTS_EVENTS)) == tuple(
        Moment.from_dict(m.to_dict()) for m in moments)
    assert [m.kind for m in moments] == [STUTTERING, STUTTERING, INTERJECTION, STUTTERING]


def test_an_old_draft_restores_the_same_review(tmp_path):
    store = DraftStore(tmp_path / "drafts")
    store.save(Draft(recording=str(tmp_path / "r.wav"), recording_id="1:2", model_id="e" * 64,
                     review=OLD_DRAFT_REVIEW))
    review = ReviewSession(predictions(), THRESHOLDS)
    review.load(store.load(tmp_path / "r.wav").review)
    assert shown(review) == EXPECTED_ROWS
    assert [r.model_label for r in review.rows()][2] == "WordRep"
    # Written again in the moment form, it loads to the same review.
    again = ReviewSession(predictions(), THRESHOLDS)
    again.load(json.loads(json.dumps(review.to_dict())))
    assert again.rows() == review.rows()


def test_a_window_model_draft_made_by_hand_loads():
    """Before moments had types: a decision was a label, and a NULL confidence was an added event's."""
    review = ReviewSession(predictions(), THRESHOLDS)
    review.load({"thresholds": THRESHOLDS, "reviewed": [
        {"label": "Interjection", "start": 12.0, "end": 12.5, "confidence": None, "status": "added", "origin": None},
        {"label": "Prolongation", "start": 45.0, "end": 46.0, "confidence": 0.9, "status": "accepted", "origin": 3}]})
    (added,) = [r for r in review.rows() if r.status == "added"]
    assert (added.status, added.types, added.kind, added.confidence) == ("added", ("Interjection",),
                                                                         INTERJECTION, 1.0)
    assert review.rows()[-1].status == "accepted"


def stored_session(tmp_path, rows):
    """A session whose events table holds `rows` exactly as an older StutterScope wrote them."""
    (tmp_path / "r.wav").write_bytes(b"RIFF" + bytes(100))
    db = open_database(tmp_path / "records.sqlite3")
    patient = add_patient(db, code="P-1")
    session = add_session(db, SessionDraft(patient_id=patient.id, date="2024-01-01", task="reading",
                                           recording=str(tmp_path / "r.wav"), recording_mode="link",
                                           duration=60.0, model_id="e" * 64,
                                           model_settings={"thresholds": THRESHOLDS_SAVED}, reviewed_events=()))
    with db.transaction() as conn:
        conn.executemany("INSERT INTO events (session_id, source, position, label, start, end, confidence, status,"
                         " origin, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(session.id, *row) for row in rows])
        for source in ("model", "reviewed"):
            conn.execute(f"UPDATE sessions SET {source}_event_count = ? WHERE id = ?",
                         (sum(r[0] == source for r in rows), session.id))
    return db, get_session(db, session.id)


def test_an_old_saved_session_reopens_as_it_was_reviewed(tmp_path):
    db, session = stored_session(tmp_path, OLD_ROWS)
    with db:
        assert session.model_events[0] == Moment(1.0, 2.0, CONF, ("Block", "SoundRep"))
        assert session.reviewed_events[1] == Moment(10.0, 10.4, 1.0, ("Block",), status="added")
        review = ReviewSession(predictions(), THRESHOLDS)
        review.restore_stored(thresholds=session.model_settings["thresholds"], model_events=session.model_events,
                              reviewed=session.reviewed_events)
        assert shown(review) == EXPECTED_ROWS
        m = session_measures(session)
        assert _counts(m) == _counts(review.summary())
        assert (m.source, m.reviewed, m.events) == ("mixed", 3, 4) == ("mixed", *review.progress)
        assert m.sld_count == 4  # the adjusted moment once, the added Block, the retyped SoundRep, Prolongation
        # Saved again (the moment form), it reads back the same.
        again = add_session(db, SessionDraft(patient_id=session.patient_id, date="2024-01-02", task="reading",
                                             recording=session.recording, recording_mode="link", duration=60.0,
                                             model_id="e" * 64, model_settings=session.model_settings,
                                             model_events=tuple(review.model_events),
                                             reviewed_events=tuple(review.reviewed_events())))
        assert again.model_events == tuple(review.model_events)  # one moment at 1-2 s, in the moment form
        assert _counts(session_measures(again)) == _counts(m)
        restored = ReviewSession(predictions(), THRESHOLDS)
        restored.restore_stored(thresholds=again.model_settings["thresholds"], model_events=again.model_events,
                                reviewed=again.reviewed_events)
        assert restored.rows() == review.rows()


def test_a_window_model_session_made_by_hand_loads(tmp_path):
    """Schema-1 style rows: no types, no duration, a NULL confidence on an added event."""
    db, session = stored_session(tmp_path, [
        ("model", 0, "Block", 3.0, 6.0, 0.8, None, None, "{}"),
        ("model", 1, "Interjection", 7.0, 10.0, 0.7, None, None, "{}"),
        ("reviewed", 0, "WordRep", 3.0, 6.0, 0.8, "retyped", 0, "{}"),
        ("reviewed", 1, "SoundRep", 20.0, 21.0, None, "added", None, "{}")])
    with db:
        assert session.model_events == (Moment(3.0, 6.0, 0.8, ("Block",)),
                                        Moment(7.0, 10.0, 0.7, ("Interjection",), INTERJECTION))
        assert session.reviewed_events == (Moment(3.0, 6.0, 0.8, ("WordRep",), status="retyped", origin=0),
                                           Moment(20.0, 21.0, 1.0, ("SoundRep",), status="added"))
        m = session_measures(session)
        assert m.counts == {"Prolongation": 0, "Block": 0, "SoundRep": 1, "WordRep": 1, "Interjection": 1}
        assert (m.sld_count, m.interjection_count, m.source) == (2, 1, "mixed")


def test_a_moment_dict_needs_a_type():
    with pytest.raises(KeyError):
        Moment.from_dict({"start": 1.0, "end": 2.0, "confidence": 0.5})
    with pytest.raises(ValueError, match="status"):
        Moment.from_dict({"start": 1.0, "end": 2.0, "types": ["Block"], "status": "maybe"})


def _counts(s) -> tuple:
    return s.counts, s.per_minute, s.sld_count, s.sld_per_minute, s.interjection_count, s.interjection_per_minute


def test_a_decided_moment_a_slider_reads_otherwise_stays_one_moment():
    """Raising Block's threshold makes the model read the Block+SoundRep moment as SoundRep alone: the accepted
    moment keeps its types and stands once (it used to stand twice: the decision, pinned, and the new reading)."""
    review = ReviewSession(predictions(), THRESHOLDS)
    first = review.rows()[0]
    review.accept(first.key)
    before = review.summary()
    review.set_threshold("Block", 0.95)
    assert [m.types for m in review.analysis.moments][0] == ("SoundRep",)  # the model's reading now
    assert [(r.status, r.types) for r in review.rows()][0] == ("accepted", ("Block", "SoundRep"))
    assert len(review.rows()) == 4 and review.summary() == before and review.progress == (1, 4)
    review.retype(first.key, "SoundRep")  # the model's type now: its types, not a retype
    assert (review.row(first.key).status, review.row(first.key).types) == ("accepted", ("SoundRep",))
    review.retype(first.key, "WordRep")
    assert (review.row(first.key).status, review.row(first.key).model_label) == ("retyped", "SoundRep")
    again = ReviewSession(predictions(), THRESHOLDS)
    again.load(json.loads(json.dumps(review.to_dict())))
    assert again.rows() == review.rows()
