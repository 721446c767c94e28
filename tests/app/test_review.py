"""The review core, without Qt: decisions apart from the model's events, undo/redo, sensitivity."""

from __future__ import annotations

import pytest
from review_fixtures import THRESHOLDS, fake_predictions

from app.review import ReviewedEvent, ReviewSession
from model.events import detect_events, summarize


@pytest.fixture()
def session():
    return ReviewSession(fake_predictions(), THRESHOLDS)


def test_untouched_review_is_the_model_output(session):
    preds = fake_predictions()
    expected = detect_events(preds, THRESHOLDS)
    assert [(r.label, r.start, r.end) for r in session.rows()] == [(e.label, e.start, e.end) for e in expected]
    assert all(r.status == "unreviewed" for r in session.rows())
    assert session.summary() == summarize(expected, windows=preds)
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
    assert [e.label for e in session.final_events()] == ["Block", "WordRep", "Prolongation"]
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


def test_sensitivity_redecides_from_stored_probabilities(session):
    calls = []
    session.subscribe(lambda: calls.append(1))
    assert not any(r.label == "WordRep" for r in session.rows())
    session.set_threshold("WordRep", 0.35)
    assert [(r.start, r.end) for r in session.rows() if r.label == "WordRep"] == [(9.0, 12.0)]
    inter = next(r for r in session.rows() if r.label == "Interjection" and r.start == 12.0)
    session.reject(inter.key)
    session.set_threshold("Interjection", 0.65)  # hides the rejected event ...
    assert not any(r.key == inter.key for r in session.rows())
    session.set_threshold("Interjection", 0.5)  # ... and its decision comes back with it
    assert session.row(inter.key).status == "rejected"
    session.reset_thresholds()
    assert session.thresholds == THRESHOLDS and len(calls) == 5


def test_round_trip_through_dicts(session):
    rows = session.rows()
    session.set_threshold("WordRep", 0.3)
    session.reject(rows[1].key)
    session.add("SoundRep", 1.0, 2.0)
    data = session.to_dict()
    assert ReviewedEvent.from_dict(data["reviewed"][0].copy()) == session.reviewed_events()[0]
    again = ReviewSession(fake_predictions(), THRESHOLDS)
    again.load(data)
    assert again.rows() == [r for r in session.rows()] or [
        (r.label, r.start, r.end, r.status) for r in again.rows()] == [
        (r.label, r.start, r.end, r.status) for r in session.rows()]
    assert again.thresholds["WordRep"] == 0.3 and not again.can_undo
    with pytest.raises(ValueError, match="status"):
        ReviewedEvent("Block", 0, 1, 0.5, "maybe")
