"""Per-session measures for course charts, tables and reports.

What audio can measure, counted as app.review counts it: the clinician's decisions where made (rejected
moments out, added ones in, retyped and adjusted ones as decided) and the model's moments elsewhere, moments
in a stretch that is not the client left out everywhere; `source` says how far the review got and
`reviewed`/`events` give "reviewed k of n" (n: the model's moments of the client). These are components
an SSI-4 also uses (frequency, mean of the three longest moments) reported as what they are: no SSI-4 score
is computed or implied, because SSI-4 frequency is per syllable and needs physical concomitants scored by
a clinician.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from model.labels import LABELS
from model.measures.clinical import Measures, compute_measures, in_stretches
from model.measures.summary import summarize
from model.measures.words import Word
from model.moments.decoding import Moment

from .db import Database
from .patients import get_patient
from .sessions import Session, list_sessions

LENGTH_RATIO = 2.0  # sessions whose lengths differ more than this are flagged when compared


@dataclass(frozen=True)
class SessionMeasures:
    session_id: int
    date: str
    task: str
    duration: float  # seconds of recording
    source: str  # "reviewed" (every model event decided), "mixed" (some) or "model" (none): what is counted
    reviewed: int  # model events of the client with a decision (k of "reviewed k of n")
    events: int  # model events of the client (n)
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
    severity: int | None = None  # Lidcombe severity rating 0..9
    ssi4: dict = field(default_factory=dict)  # SSI-4 physical concomitants, column -> 0..5
    ssi4_total: int | None = None  # their sum (0-20) once all four are scored
    age: str = ""  # age at the session, e.g. "7 y 4 m" ("" without a birth date)
    pct_ss: float | None = None  # %SS of what the session counts (model.measures.clinical); None without words or speech
    spm: float | None = None  # syllables per minute of speaking time; None as pct_ss
    longest3_moments_s: float | None = None  # mean of the three longest stuttering moments, to 0.1 s
    excluded_s: float = 0.0  # seconds left out as not the client
    syllables: int | None = None  # counted syllables; None without words
    transcriber: str = ""  # what made the words ("" without words)
    model_id: str = ""  # SHA-256 of the model file that found the events
    pct_ss_by_type: dict = field(default_factory=dict)  # stuttering type -> %SS of its moments (None: no rate)
    problem: str = ""  # what of the stored session is damaged and left out ("damaged: ..."; "" when none)


def excluded_of(session: Session) -> list[tuple[float, float]]:
    """The session's stretches that are not the client (seconds)."""
    return [(float(a), float(b)) for a, b in session.clinical.get("excluded", [])]


def not_client(session: Session, moment: Moment) -> bool:
    """Is the moment in a stretch that is not the client (model.measures.clinical's midpoint rule)?"""
    return in_stretches(moment.start, moment.end, excluded_of(session))


def kept_and_undecided(session: Session) -> tuple[list[Moment], list[Moment]]:
    """(moments the clinician's decisions keep, model moments no decision points at).

    Reviewed moments hold only the clinician's decisions (app.review): a rejected one keeps nothing, and
    a model moment whose index no decision names as its `origin` stands as the model found it.
    """
    decided = {e.origin for e in session.reviewed_events if e.origin is not None}
    kept = [e for e in session.reviewed_events if e.counted]
    # A model moment is where it is (app.review): a session saved before the review knew that may hold a decided
    # moment and, at the same place, the model's other reading of its types; that is one moment, as decided.
    places = {_place(m) for i, m in enumerate(session.model_events) if i in decided}
    undecided = [e for i, e in enumerate(session.model_events) if i not in decided and _place(e) not in places]
    return kept, undecided


def _place(moment: Moment) -> tuple:
    return moment.kind, round(moment.start, 3), round(moment.end, 3)


def review_progress(session: Session) -> tuple[int, int]:
    """(k, n): k of the session's n model events of the client have a clinician's decision (as
    app.review.ReviewSession.progress: a decided event's own span says whether it is the client's)."""
    decisions = [e for e in session.reviewed_events if e.origin is not None and not not_client(session, e)]
    undecided = [e for e in kept_and_undecided(session)[1] if not not_client(session, e)]
    return len(decisions), len(decisions) + len(undecided)


def counted_source(session: Session) -> str:
    """"reviewed" when every model event is decided, "mixed" when some are, "model" before any decision."""
    k, n = review_progress(session)
    if not session.reviewed_events:
        return "model"
    return "reviewed" if k == n else "mixed"


def counted_moments(session: Session) -> list[Moment]:
    """What the session counts, as app.review.ReviewSession.counted_moments does: decisions where made, the
    model's moments elsewhere, rejected ones out; by start time. Those not the client's stay in: summarize
    and compute_measures leave them out (and count them) by the stretches."""
    kept, undecided = kept_and_undecided(session)
    return sorted((*kept, *undecided), key=lambda e: (e.start, e.end))


_SOURCE_WORDS = {"reviewed": "review", "mixed": "review so far", "model": "model"}


def counted_from(m: SessionMeasures, *, short: bool = False) -> str:
    """E.g. "review (reviewed 12 of 12)", "review so far (reviewed 3 of 25)" or "model (reviewed 0 of 25)",
    for tables and charts; short: "review so far, 3/25"."""
    if short:
        return f"{_SOURCE_WORDS[m.source]}, {m.reviewed}/{m.events}"
    return f"{_SOURCE_WORDS[m.source]} (reviewed {m.reviewed} of {m.events})"


def age_at(birth_date: str | None, date: str) -> str:
    """Completed years and months on `date`, e.g. "7 y 4 m"; "" when either date is missing or partial."""
    try:
        born, day = dt.date.fromisoformat(birth_date or ""), dt.date.fromisoformat(date)
    except ValueError:
        return ""
    months = (day.year - born.year) * 12 + day.month - born.month - (day.day < born.day)
    return f"{months // 12} y {months % 12} m" if months >= 0 else ""


def comparability_warning(measures: list[SessionMeasures]) -> str:
    """Why these sessions are not like for like (tasks differ, lengths differ > LENGTH_RATIO x); "" if they are."""
    problems = []
    tasks = sorted({m.task for m in measures})
    if len(tasks) > 1:
        problems.append(f"different tasks ({', '.join(tasks)})")
    lengths = [m.duration for m in measures if m.duration > 0]
    if lengths and max(lengths) > LENGTH_RATIO * min(lengths):
        problems.append(f"very different lengths ({min(lengths) / 60:.1f} to {max(lengths) / 60:.1f} min)")
    if not problems:
        return ""
    return ("These sessions are not like for like: " + " and ".join(problems)
            + ". Rates from different tasks or lengths of speech are not directly comparable.")


def damaged_note(measures: list[SessionMeasures]) -> str:
    """One line per session whose stored data is damaged ("Session of <date>: damaged: ..."); "" when none."""
    return "\n".join(f"Session of {m.date} ({m.task}): {m.problem}." for m in measures if m.problem)


def session_measures(session: Session, *, birth_date: str | None = None) -> SessionMeasures:
    """The session's measures: model.measures.summary.summarize of what it counts over the client's time, as the screen
    shows; %SS and the rest by model.measures.clinical.compute_measures, as `assess --words` and the app."""
    s = summarize(counted_moments(session), duration=session.duration, excluded=excluded_of(session))
    k, n = review_progress(session)
    clinical = clinical_measures(session)
    return SessionMeasures(
        session_id=session.id, date=session.date, task=session.task, duration=session.duration,
        source=counted_source(session), reviewed=k, events=n, counts=s.counts, per_minute=s.per_minute,
        sld_count=s.sld_count, sld_per_minute=s.sld_per_minute, interjection_count=s.interjection_count,
        interjection_per_minute=s.interjection_per_minute,
        longest3_mean=s.longest3_mean if s.longest3 else None, naturalness=session.naturalness,
        physical_concomitants=session.physical_concomitants, notes=session.notes, severity=session.severity,
        ssi4=dict(session.ssi4), ssi4_total=session.ssi4_total, age=age_at(birth_date, session.date),
        pct_ss=clinical.pct_ss if clinical else None, spm=clinical.spm if clinical else None,
        longest3_moments_s=clinical.longest3_mean_s if clinical else None,
        excluded_s=s.excluded_s,
        syllables=clinical.syllables if clinical else None, transcriber=session.clinical.get("transcriber", ""),
        model_id=session.model_id, pct_ss_by_type=dict(clinical.pct_ss_by_type) if clinical else {},
        problem=session.problem)


PCT_SS_AXIS = "%SS (stuttered syllables per 100)"  # the course chart's value axis once a session has words
PER_MINUTE_AXIS = "events per minute"  # ... and without any: what the model's events give


@dataclass(frozen=True)
class CourseSeries:
    unit: str  # what the values are: PCT_SS_AXIS or PER_MINUTE_AXIS
    series: dict  # name -> one value per session, oldest first; None: no point (no %SS for that session)


def course_series(measures: list[SessionMeasures]) -> CourseSeries:
    """What a course chart plots, on screen and in the PDF: %SS once any session has it (clinicians chart
    %SS; a session without it has no point, never a made-up one), else events per minute per type and the
    SLD total."""
    if any(m.pct_ss is not None for m in measures):
        return CourseSeries(PCT_SS_AXIS, {"%SS": [m.pct_ss for m in measures]})
    series = {label: [m.per_minute[label] for m in measures] for label in LABELS}
    series["SLD total"] = [m.sld_per_minute for m in measures]
    return CourseSeries(PER_MINUTE_AXIS, series)


def no_pct_ss_reason(m: SessionMeasures) -> str:
    """Why the session has no %SS ("" when it has one), in words a clinician can act on."""
    if m.pct_ss is not None:
        return ""
    if m.syllables is None:
        return ("no words: the session was saved without Transcribe (or before words were kept), so there are no "
                "syllables to count; open it in Analysis and Transcribe, then save it again")
    return (f"too little of the client's speech for a rate ({m.syllables} syllables counted): %SS and syllables "
            "per minute need more")


def clinical_measures(session: Session) -> Measures | None:
    """%SS, SPM and the rest of what the session counts (counted_moments) over its stored words; None without words."""
    words = [Word(**w) for w in session.clinical.get("words", [])]
    if not words:
        return None
    return compute_measures(words, counted_moments(session), excluded=excluded_of(session), duration=session.duration)


def patient_course(db: Database, patient_id: int) -> list[SessionMeasures]:
    """Measures of every session of a patient, oldest first."""
    birth = get_patient(db, patient_id).birth_date
    return [session_measures(s, birth_date=birth) for s in list_sessions(db, patient_id)]


def event_rows(session: Session) -> list[Moment]:
    """Every moment of a session for an events list: decisions with their status (rejected ones too: not
    `counted`), and model moments nobody decided on (status "unreviewed"); by start time."""
    _, undecided = kept_and_undecided(session)
    return sorted([*session.reviewed_events, *undecided], key=lambda e: (e.start, e.end))
