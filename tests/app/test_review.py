"""The review core, without Qt: decisions apart from the model's moments, undo/redo, sensitivity."""

from __future__ import annotations

import pytest
from review_fixtures import THRESHOLDS, fake_predictions

from app.review import ReviewSession
from model.measures.summary import summarize
from model.moments.decoding import Moment
from model.pipeline.analysis import analyse_predictions


@pytest.fixture()
def session():
    return ReviewSession(fake_predictions(), THRESHOLDS)


def test_untouched_review_is_the_model_output(session):
    preds = fake_predictions()
    expected = analyse_predictions(preds, THRESHOLDS).moments
    assert [r.moment for r in session.rows()] == list(expected)
    assert all(r.status == "unreviewed" for r in session.rows())
    assert session.summary() == summarize(expected, duration=preds.duration)
    assert session.reviewed_events() == []


def test_actions_are_kept_apart_and_undone(session):
    block, inter1, inter2 = session.rows()
    originals = session.model_events
    session.accept(block.key)
    session.reject(inter1.key)
    session.retype(inter2.key, "WordRep")
    session.adjust(block.key, 2.5, 5.0)
    added = session.add("Prolongation", 15.0, 16.5)
    assert session.model_events == originals  # the model's events never change
    statuses = {r.key: r.status for r in session.rows()}
    assert statuses == {block.key: "adjusted", inter1.key: "rejected", inter2.key: "retyped", added: "added"}
    reviewed = session.reviewed_events()
    assert [e.origin for e in reviewed] == [0, 1, 2, None]
    assert reviewed[2].label == "WordRep" and session.row(inter2.key).model_label == "Interjection"
    assert [e.label for e in session.final_moments()] == ["Block", "WordRep", "Prolongation"]
    assert [e.kind for e in session.final_moments()] == ["stuttering"] * 3  # the retyped interjection too
    for _ in range(5):
        session.undo()
    assert not session.can_undo and all(r.status == "unreviewed" for r in session.rows())
    session.redo()
    session.redo()
    assert session.row(inter1.key).status == "rejected" and session.undo_text == "Reject"
    session.accept(inter2.key)  # a new action drops the redo history
    assert not session.can_redo


def test_bad_input_says_what_to_do(session):
    key = session.rows()[0].key
    with pytest.raises(ValueError, match="unknown label"):
        session.retype(key, "Stammer")
    with pytest.raises(ValueError, match="at least"):
        session.adjust(key, 4.0, 4.0)
    with pytest.raises(ValueError, match="strictly between"):
        session.set_threshold("Block", 1.0)
    with pytest.raises(KeyError):
        session.accept("m:none")


def test_sensitivity_redecides_only_undecided_events(session):
    calls = []
    session.subscribe(lambda: calls.append(1))
    assert not any(r.label == "WordRep" for r in session.rows())
    session.set_threshold("WordRep", 0.35)
    assert [(r.start, r.end) for r in session.rows() if r.label == "WordRep"] == [(9.0, 12.0)]
    inter = next(r for r in session.rows() if r.label == "Interjection" and r.start == 12.0)
    session.reject(inter.key)
    session.set_threshold("Interjection", 0.65)  # would hide the 0.6 event, but the clinician decided on it
    assert session.row(inter.key).status == "rejected"
    assert [r.start for r in session.rows() if r.label == "Interjection"] == [6.0, 12.0]
    session.set_threshold("Interjection", 0.75)  # the undecided 0.7 event goes, the decided one stays
    assert [r.start for r in session.rows() if r.label == "Interjection"] == [12.0]
    session.reset_thresholds()
    assert session.thresholds == THRESHOLDS and len(calls) == 5


def test_slider_moves_are_undone_as_one_step(session):
    block = session.rows()[0]
    for value in (0.6, 0.7, 0.85, 0.95):  # one drag of the Block slider
        session.set_threshold("Block", value)
    assert not any(r.label == "Block" for r in session.rows())
    assert session.undo_text == "Block sensitivity"
    session.undo()
    assert session.thresholds["Block"] == 0.5 and session.row(block.key).status == "unreviewed"
    assert not session.can_undo
    session.redo()
    assert session.thresholds["Block"] == 0.95
    session.undo()
    session.accept(block.key)
    session.set_threshold("Interjection", 0.65)
    session.set_threshold("Block", 0.95)  # another slider: a step of its own; the accepted Block stays
    assert session.row(block.key).status == "accepted"
    session.undo()
    session.undo()
    assert session.thresholds == THRESHOLDS and session.row(block.key).status == "accepted"


def test_counts_say_what_they_count(session):
    """Hand-worked: model events Block 2-6 s, Interjection 6-9 s, Interjection 12-16 s (22 s recording).

    The review counts as it goes (issue 23): decisions where made, the model's events elsewhere."""
    block, inter1, inter2 = session.rows()
    s = session.summary()
    assert session.progress == (0, 3) and session.basis == "model"
    assert (s.sld_count, s.interjection_count) == (1, 2)
    assert session.counted_from() == "the model's events (reviewed 0 of 3)"
    session.accept(block.key)
    session.reject(inter1.key)
    # 2 of 3 decided: the rejected Interjection is out already, the undecided one counts as the model said.
    s = session.summary()
    assert session.progress == (2, 3) and session.basis == "mixed"
    assert (s.sld_count, s.interjection_count) == (1, 1)
    assert "reviewed 2 of 3" in session.counted_from() and "decisions where made" in session.counted_from()
    assert [(r.label, r.status) for r in session.counted_rows()] == [("Block", "accepted"),
                                                                     ("Interjection", "unreviewed")]
    session.retype(inter2.key, "WordRep")
    session.add("Prolongation", 18.0, 19.0)
    # 3 of 3: Block (accepted) + WordRep (retyped) + Prolongation (added); Interjection rejected.
    s = session.summary()
    assert session.progress == (3, 3) and session.basis == "reviewed"
    assert s.counts == {"Prolongation": 1, "Block": 1, "SoundRep": 0, "WordRep": 1, "Interjection": 0}
    assert (s.sld_count, s.interjection_count) == (3, 0)
    assert s.sld_per_minute == pytest.approx(3 / (22 / 60), abs=1e-3)
    assert session.counted_from() == "the clinician's review (reviewed 3 of 3)"
    assert [r.label for r in session.counted_rows()] == ["Block", "WordRep", "Prolongation"]
    session.clear_decision(block.key)
    assert session.basis == "mixed" and session.summary().counts["Block"] == 1


def test_mid_review_edits_count_at_once(session):
    """Retyped, adjusted and added events count before the review is finished (1 of 3 decided)."""
    block, _inter1, inter2 = session.rows()
    session.retype(inter2.key, "SoundRep")
    s = session.summary()
    assert (s.counts["SoundRep"], s.counts["Interjection"], s.sld_count) == (1, 1, 2)
    session.adjust(block.key, 2.0, 3.0)
    session.add("Prolongation", 18.0, 19.5)
    s = session.summary()
    assert s.longest3 == (4.0, 1.5, 1.0) and s.sld_count == 3  # SoundRep 12-16, the added, the adjusted Block
    assert session.progress == (2, 3) and session.counted_from().endswith("(reviewed 2 of 3)")


def test_not_the_client_is_marked_left_out_and_needs_no_decision(session):
    """A stretch 5.5-10 s holds the first Interjection (6-9 s, midpoint 7.5 s), not the Block (2-6 s, 4 s)."""
    _block, inter1, _inter2 = session.rows()
    session.set_excluded([(5.5, 10.0)])
    rows = {r.key: r for r in session.rows()}
    assert rows[inter1.key].not_client and rows[inter1.key].decision == "not the client"
    assert [r.not_client for r in session.rows()] == [False, True, False]
    assert session.progress == (0, 2)  # nothing to decide in the interviewer's stretch
    s = session.summary()
    assert (s.sld_count, s.interjection_count, s.excluded_events) == (1, 1, 1)
    # Rates over the client's 22 - 4.5 = 17.5 s.
    assert s.sld_per_minute == pytest.approx(1 / (17.5 / 60), abs=1e-3)
    assert s.per_minute["Interjection"] == pytest.approx(1 / (17.5 / 60), abs=1e-3)
    assert "1 not the client, left out" in session.counted_from()
    assert inter1.key not in {r.key for r in session.counted_rows()}
    session.undo()  # marking a stretch is an undo step
    assert session.excluded == () and session.progress == (0, 3)
    session.redo()
    assert session.excluded == ((5.5, 10.0),) and session.undo_text == "Not the client"


def test_round_trip_through_dicts(session):
    rows = session.rows()
    session.set_threshold("WordRep", 0.3)
    session.reject(rows[1].key)
    session.add("SoundRep", 1.0, 2.0)
    data = session.to_dict()
    assert Moment.from_dict(data["reviewed"][0].copy()) == session.reviewed_events()[0]
    again = ReviewSession(fake_predictions(), THRESHOLDS)
    again.load(data)
    assert again.rows() == [r for r in session.rows()] or [
        (r.label, r.start, r.end, r.status) for r in again.rows()] == [
        (r.label, r.start, r.end, r.status) for r in session.rows()]
    assert again.thresholds["WordRep"] == 0.3 and not again.can_undo


def test_pinned_decisions_survive_a_round_trip(session):
    inter = next(r for r in session.rows() if r.start == 12.0)
    session.reject(inter.key)
    session.set_threshold("Interjection", 0.65)
    data = session.to_dict()
    assert data["pinned"] == [{"label": "Interjection", "start": 12.0, "end": 16.0, "confidence": pytest.approx(0.6),
                               "duration": 4.0, "types": ["Interjection"], "kind": "interjection"}]
    again = ReviewSession(fake_predictions(), THRESHOLDS)
    again.load(data)
    assert [(r.label, r.start, r.status) for r in again.rows()] == [
        (r.label, r.start, r.status) for r in session.rows()]
    with pytest.raises(ValueError, match="status"):
        Moment(0, 1, 0.5, ("Block",), status="maybe")
