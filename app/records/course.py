"""Per-session measures for course charts, tables and reports.

What audio can measure, counted from what the clinician's review keeps (the model's events where the
clinician made no decision; `source` says whether any review went into the numbers). These are components
an SSI-4 also uses (frequency, mean of the three longest events) reported as what they are: no SSI-4 score
is computed or implied, because SSI-4 frequency is per syllable and needs physical concomitants scored by
a clinician.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.events import Event, summarize

from .db import Database
from .sessions import Session, list_sessions

REJECTED = "rejected"  # the one review status whose event does not count
UNREVIEWED = "unreviewed"  # a model event the clinician made no decision on (app.review says the same)


@dataclass(frozen=True)
class SessionMeasures:
    session_id: int
    date: str
    task: str
    duration: float  # seconds of recording
    source: str  # "reviewed" (the clinician's events) or "model" (not reviewed yet)
    counts: dict  # label -> events
    per_minute: dict  # label -> events per minute of recording
    sld_count: int  # Prolongation + Block + SoundRep + WordRep
    sld_per_minute: float
    interjection_count: int
    interjection_per_minute: float
    longest3_mean: float | None  # mean duration (s) of the three longest SLD events; None without SLD events
    naturalness: int | None  # clinician's rating 1..9
    physical_concomitants: str  # clinician's notes
    notes: str


def kept_and_undecided(session: Session) -> tuple[list[dict], list[dict]]:
    """(events the clinician's decisions keep, model events no decision points at).

    Reviewed events hold only the clinician's decisions (app.review): a rejected one keeps nothing, and
    a model event whose index no decision names as its `origin` stands as the model found it.
    """
    decided = {e.get("origin") for e in session.reviewed_events if e.get("origin") is not None}
    kept = [e for e in session.reviewed_events if e.get("status") != REJECTED]
    undecided = [e for i, e in enumerate(session.model_events) if i not in decided]
    return kept, undecided


def counted_events(session: Session) -> list[dict]:
    """What the session's review keeps, as app.review.ReviewSession.final_events() does."""
    kept, undecided = kept_and_undecided(session)
    return sorted(kept + undecided, key=lambda e: (e["start"], e["end"]))


def session_measures(session: Session) -> SessionMeasures:
    """The session's measures: model.events.summarize of what its review keeps, as the screen shows them."""
    s = summarize([Event.from_dict(e) for e in counted_events(session)], duration=session.duration)
    return SessionMeasures(
        session_id=session.id, date=session.date, task=session.task, duration=session.duration,
        source="reviewed" if session.reviewed else "model", counts=s.counts, per_minute=s.per_minute,
        sld_count=s.sld_count, sld_per_minute=s.sld_per_minute, interjection_count=s.interjection_count,
        interjection_per_minute=s.interjection_per_minute,
        longest3_mean=s.longest3_mean if s.longest3 else None, naturalness=session.naturalness,
        physical_concomitants=session.physical_concomitants, notes=session.notes)


def patient_course(db: Database, patient_id: int) -> list[SessionMeasures]:
    """Measures of every session of a patient, oldest first."""
    return [session_measures(s) for s in list_sessions(db, patient_id)]


def event_rows(session: Session) -> list[dict]:
    """Every event of a session for an events list: decisions with their status (rejected ones too, marked
    as not counted), and model events nobody decided on as "unreviewed"; by start time."""
    _, undecided = kept_and_undecided(session)
    rows = [dict(e, counted=e.get("status") != REJECTED) for e in session.reviewed_events]
    rows += [dict(e, status=UNREVIEWED, counted=True) for e in undecided]
    return sorted(rows, key=lambda e: (e["start"], e["end"]))
