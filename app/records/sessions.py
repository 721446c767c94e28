"""Sessions: one recording of one patient, with the model's moments and the clinician's decisions on them."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.jsonable import dumps, jsonable
from model.labels import LABELS
from model.moments.decoding import Moment

from .clinical_json import parse_stored
from .db import Database, utc_now
from .patients import check_iso_date
from .recordings import RECORDING_MODES, release_pending, remove_stored, store_recording

TASKS = ("reading", "conversation", "monologue", "picture description", "telephone", "other")  # suggestions
# SSI-4 physical concomitants, each scored 0 (none) .. 5 (severe and painful looking); column -> what it scores
SSI4_CONCOMITANTS = {"ssi4_sounds": "Distracting sounds", "ssi4_face": "Facial grimaces",
                     "ssi4_head": "Head movements", "ssi4_limbs": "Movements of the extremities"}
_CLINICIAN_FIELDS = ("severity", *SSI4_CONCOMITANTS)  # integer ratings added in schema version 3
_EVENT_COLUMNS = ("label", "start", "end", "confidence", "status", "origin")  # the events table's; label: types[0]
_UNCHANGED: Any = object()  # update_session: "leave this field as it is"


@dataclass(frozen=True)
class SessionDraft:
    """What a new session holds; `add_session` stores it."""

    patient_id: int
    date: str  # ISO date of the session
    task: str  # reading, conversation, ... (see TASKS)
    recording: str  # the recording's current path
    duration: float  # seconds
    model_id: str  # SHA-256 of the model file
    model_settings: dict = field(default_factory=dict)  # thresholds, hop: whatever reproduces the analysis
    summary: dict = field(default_factory=dict)  # the model's RecordingSummary.to_dict()
    model_events: tuple = ()  # model.moments.decoding.Moment objects (or their dicts)
    reviewed_events: tuple | None = None  # the clinician's decisions, Moments (or dicts); None = not reviewed yet
    notes: str = ""
    recording_mode: str = "copy"  # "copy" into the records folder, or "link" to where it lies
    physical_concomitants: str = ""
    naturalness: int | None = None  # 1 (highly natural) .. 9 (highly unnatural)
    severity: int | None = None  # Lidcombe severity rating: 0 (no stuttering) .. 9 (extremely severe)
    ssi4: dict = field(default_factory=dict)  # SSI4_CONCOMITANTS column -> 0..5 (missing: not scored)
    recording_name: str = ""  # the recording's original file name ("" = that of `recording`)
    clinical: dict = field(default_factory=dict)  # words, excluded stretches, measures (schema version 4)


@dataclass(frozen=True)
class Session:
    id: int
    patient_id: int
    date: str
    task: str
    recording: str  # absolute path: the stored copy or the linked original
    recording_mode: str
    duration: float
    notes: str
    model_id: str
    model_settings: dict
    summary: dict
    model_events: tuple[Moment, ...]  # the model's moments as it found them (status "unreviewed")
    reviewed_events: tuple[Moment, ...]  # the clinician's decisions (origin: index into model_events)
    reviewed_at: str | None  # None: the clinician has not reviewed this session
    physical_concomitants: str
    naturalness: int | None
    created: str
    severity: int | None = None  # Lidcombe severity rating 0..9
    ssi4: dict = field(default_factory=dict)  # SSI4_CONCOMITANTS column -> 0..5
    recording_name: str = ""  # the original file name of the recording
    clinical: dict = field(default_factory=dict)  # words, excluded stretches, measures ({} without words)
    problem: str = ""  # what of the stored row could not be read (then left out), for the window to say

    @property
    def reviewed(self) -> bool:
        return self.reviewed_at is not None

    @property
    def ssi4_total(self) -> int | None:
        """Sum of the four concomitant scores (0-20, the SSI-4 physical concomitants part); None until all are scored."""
        return sum(self.ssi4.values()) if len(self.ssi4) == len(SSI4_CONCOMITANTS) else None


def moment_dict(moment: Moment | Mapping) -> dict:
    """A moment as it is stored (Moment.to_dict), from a Moment or a dict of any stored form; checked."""
    if isinstance(moment, Mapping):
        try:
            moment = Moment.from_dict(moment)
        except KeyError as e:
            raise ValueError(f"a moment needs its {e.args[0]} (label or types, start, end)") from None
    elif not isinstance(moment, Moment):
        raise ValueError(f"a moment must be a model.moments.decoding.Moment or its dict, not a {type(moment).__name__}")
    unknown = [t for t in moment.types if t not in LABELS]
    if unknown or not moment.types:
        raise ValueError(f"moment type (label) {unknown[0] if unknown else None!r} is not one of {', '.join(LABELS)}")
    if not 0 <= moment.start <= moment.end:
        raise ValueError(f"moment {moment.label} from {moment.start} to {moment.end} s: need 0 <= start <= end")
    return moment.to_dict()


def check_session_date(value: str) -> str:
    """An ISO date that is not in the future (a session date is when the recording was made)."""
    check_iso_date(value, "session date")
    if dt.date.fromisoformat(value) > dt.date.today():
        raise ValueError(f"session date {value} is in the future: give the day the recording was made")
    return value


def _check_draft(draft: SessionDraft) -> None:
    check_session_date(draft.date)
    if not draft.task.strip():
        raise ValueError(f"a session needs a task, e.g. one of {', '.join(TASKS)}")
    if draft.recording_mode not in RECORDING_MODES:
        raise ValueError(f"recording mode {draft.recording_mode!r}: use 'copy' or 'link'")
    if draft.duration < 0:
        raise ValueError(f"duration {draft.duration} s is negative")
    _check_naturalness(draft.naturalness)
    _check_ratings({"severity": draft.severity, **draft.ssi4})


def _check_naturalness(value: int | None) -> None:
    if value is not None and not 1 <= int(value) <= 9:
        raise ValueError(f"naturalness {value}: rate 1 (highly natural) to 9 (highly unnatural), or leave empty")


def _check_ratings(ratings: dict) -> None:
    for key, value in ratings.items():
        if key not in _CLINICIAN_FIELDS:
            raise ValueError(f"unknown rating {key!r}; use severity or one of {', '.join(SSI4_CONCOMITANTS)}")
        top = 9 if key == "severity" else 5
        if value is not None and not 0 <= int(value) <= top:
            raise ValueError(f"{key} {value}: score 0 to {top}, or leave it empty")


def _sql(*values: Any) -> tuple:
    """SQLite parameters as Python types: sqlite3 refuses np.float32 and np.int64, which analyses hold."""
    return tuple(jsonable(list(values), where="session value"))


def _insert_events(conn: sqlite3.Connection, session_id: int, source: str, events: Iterable[dict]) -> None:
    """Moment dicts (moment_dict) as rows: the label column holds the first type, types and kind go to extra."""
    rows = []
    for position, e in enumerate(events):
        extra = {k: v for k, v in e.items() if k not in _EVENT_COLUMNS}
        rows.append(_sql(session_id, source, position, e["label"], float(e["start"]), float(e["end"]),
                         e.get("confidence"), e.get("status"), e.get("origin"), dumps(extra)))
    conn.executemany("INSERT INTO events (session_id, source, position, label, start, end, confidence, status, "
                     "origin, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def add_session(db: Database, draft: SessionDraft, *, stored: bool = False) -> Session:
    """Store a session and its events in one transaction.

    The recording is copied or linked as draft.recording_mode says, unless `stored` says draft.recording is
    already the path to keep (copied beforehand by `store_recording` in a worker).
    """
    _check_draft(draft)
    model_events = [moment_dict(e) for e in draft.model_events]
    reviewed = None if draft.reviewed_events is None else [moment_dict(e) for e in draft.reviewed_events]
    recording = Path(draft.recording) if stored else store_recording(draft.recording, db.path,
                                                                      mode=draft.recording_mode)
    try:
        with db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (patient_id, date, task, recording, recording_mode, duration, notes, model_id,"
                " model_settings, summary, model_event_count, reviewed_event_count, reviewed_at, created,"
                " physical_concomitants, naturalness, severity, ssi4_sounds, ssi4_face, ssi4_head, ssi4_limbs,"
                " recording_name, clinical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _sql(draft.patient_id, draft.date, draft.task.strip(), str(recording), draft.recording_mode,
                     float(draft.duration), draft.notes, draft.model_id, dumps(draft.model_settings),
                     dumps(draft.summary), len(model_events), len(reviewed or []),
                     None if reviewed is None else utc_now(), utc_now(), draft.physical_concomitants,
                     draft.naturalness, draft.severity, *(draft.ssi4.get(k) for k in SSI4_CONCOMITANTS),
                     draft.recording_name or Path(draft.recording).name, dumps(draft.clinical)))
            _insert_events(conn, cur.lastrowid, "model", model_events)
            _insert_events(conn, cur.lastrowid, "reviewed", reviewed or [])
    except BaseException as e:
        # No session refers to the copy (whoever made it): remove it now rather than leave it to the next open.
        if draft.recording_mode == "copy" and not _still_referenced(db, recording):
            remove_stored([str(recording)], db.path)
        if isinstance(e, sqlite3.IntegrityError):
            raise ValueError(f"cannot store the session for patient id {draft.patient_id}: {e}") from e
        raise
    release_pending(recording)
    return get_session(db, cur.lastrowid)


def _still_referenced(db: Database, recording: Path) -> bool:
    try:
        return str(recording) in db.referenced_recordings()
    except sqlite3.Error:  # cannot tell: keep the file (the next open's clean-up decides)
        return True


def _events_of(db: Database, session_id: int, source: str) -> tuple[Moment, ...]:
    # The SQLite edge: rows become Moments here, and Moment dicts rows in _insert_events. A row's extra JSON
    # holds the moment's types and kind (none in rows written before moments had them: the label alone).
    out = []
    for r in db.conn.execute("SELECT * FROM events WHERE session_id = ? AND source = ? ORDER BY position",
                             (session_id, source)):
        d = {k: r[k] for k in _EVENT_COLUMNS if source == "reviewed" or k not in ("status", "origin")}
        extra = json.loads(r["extra"] or "{}")
        d.update(types=extra.get("types"), kind=extra.get("kind"))
        out.append(Moment.from_dict(d))
    return tuple(out)


def _row_to_session(db: Database, row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"], patient_id=row["patient_id"], date=row["date"], task=row["task"], recording=row["recording"],
        recording_mode=row["recording_mode"], duration=row["duration"], notes=row["notes"],
        model_id=row["model_id"], model_events=_events_of(db, row["id"], "model"),
        reviewed_events=_events_of(db, row["id"], "reviewed"), reviewed_at=row["reviewed_at"],
        physical_concomitants=row["physical_concomitants"], naturalness=row["naturalness"],
        created=row["created"], severity=row["severity"],
        ssi4={k: row[k] for k in SSI4_CONCOMITANTS if row[k] is not None}, recording_name=row["recording_name"],
        **_stored_json(row))


_STORED_JSON = {"model_settings": "model settings (thresholds)", "summary": "model summary",
                "clinical": "words and not-the-client stretches"}  # column -> what it holds, in words


def _stored_json(row: sqlite3.Row) -> dict:
    """The session's JSON columns, checked; a damaged one is read as empty, left in the database as it is and
    named in `problem` ("damaged: <what> (why)")."""
    out: dict = {}
    damaged = []
    # A file opened at an older version (migrations=..., as the migration tests do) has no clinical column.
    for column in (c for c in _STORED_JSON if c in row.keys()):  # noqa: SIM118 (a Row's `in` looks at values)
        try:
            out[column] = parse_stored(column, row[column])
        except ValueError as e:
            out[column] = {}
            damaged.append(f"damaged: {_STORED_JSON[column]} ({e})")
    if damaged:
        out["problem"] = ("; ".join(damaged) + ". What is damaged is left out here and stays in the records as "
                          "it is until the session is saved again")
    return out


def get_session(db: Database, session_id: int) -> Session:
    row = db.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        raise ValueError(f"no session with id {session_id}")
    return _row_to_session(db, row)


def list_sessions(db: Database, patient_id: int) -> list[Session]:
    """A patient's sessions, oldest first (by session date, then by when they were stored)."""
    rows = db.conn.execute("SELECT * FROM sessions WHERE patient_id = ? ORDER BY date, id", (patient_id,))
    return [_row_to_session(db, r) for r in rows.fetchall()]


def update_session(db: Database, session_id: int, *, date: str = _UNCHANGED, task: str = _UNCHANGED,
                   notes: str = _UNCHANGED, physical_concomitants: str = _UNCHANGED,
                   naturalness: int | None = _UNCHANGED, severity: int | None = _UNCHANGED,
                   ssi4: dict = _UNCHANGED) -> Session:
    """Change the clinician-entered fields of a session; fields not given stay as they are.

    ssi4 maps SSI4_CONCOMITANTS columns to 0..5 or None (not scored); columns not in it stay as they are."""
    changes = {k: v for k, v in dict(date=date, task=task, notes=notes, physical_concomitants=physical_concomitants,
                                     naturalness=naturalness, severity=severity).items() if v is not _UNCHANGED}
    if ssi4 is not _UNCHANGED:
        _check_ratings(ssi4)  # before its keys become column names below
        changes.update(ssi4)
    if "date" in changes:
        check_session_date(changes["date"])
    if "naturalness" in changes:
        _check_naturalness(changes["naturalness"])
    _check_ratings({k: v for k, v in changes.items() if k in _CLINICIAN_FIELDS})
    if changes:
        assignments = ", ".join(f"{k} = ?" for k in changes)  # keys come from the fixed names above
        with db.transaction() as conn:
            cur = conn.execute(f"UPDATE sessions SET {assignments} WHERE id = ?", _sql(*changes.values(), session_id))
        if cur.rowcount == 0:
            raise ValueError(f"no session with id {session_id}")
    return get_session(db, session_id)


def set_reviewed_events(db: Database, session_id: int, events: Iterable[Moment | Mapping]) -> Session:
    """Replace a session's decisions with the clinician's current list and mark it reviewed now."""
    events = [moment_dict(e) for e in events]
    with db.transaction() as conn:
        cur = conn.execute("UPDATE sessions SET reviewed_event_count = ?, reviewed_at = ? WHERE id = ?",
                           (len(events), utc_now(), session_id))
        if cur.rowcount == 0:
            raise ValueError(f"no session with id {session_id}")
        conn.execute("DELETE FROM events WHERE session_id = ? AND source = 'reviewed'", (session_id,))
        _insert_events(conn, session_id, "reviewed", events)
    return get_session(db, session_id)


def delete_session(db: Database, session_id: int) -> None:
    """Delete a session, its events and its recording copy (a linked original is left alone)."""
    with db.transaction() as conn:
        row = conn.execute("SELECT recording, recording_mode FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise ValueError(f"no session with id {session_id}")
        conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
    if row["recording_mode"] == "copy":
        remove_stored([row["recording"]], db.path)


def incomplete_sessions(db: Database) -> list[int]:
    """Ids of sessions whose stored events do not match the counts saved with them (should always be empty)."""
    rows = db.conn.execute("""
        SELECT s.id FROM sessions s
        WHERE s.model_event_count != (SELECT count(*) FROM events e WHERE e.session_id = s.id AND e.source = 'model')
           OR s.reviewed_event_count != (SELECT count(*) FROM events e WHERE e.session_id = s.id
                                         AND e.source = 'reviewed')
    """)
    return [r[0] for r in rows]


def replace_review(db: Database, session_id: int, draft: SessionDraft) -> Session:
    """Write a continued review over a stored session: its thresholds and model events (a slider may have
    moved), summary, reviewed events and words/excluded stretches, in one transaction; the clinician's fields
    and recording stay."""
    model_events = [moment_dict(e) for e in draft.model_events]
    reviewed = [moment_dict(e) for e in draft.reviewed_events or ()]
    with db.transaction() as conn:
        cur = conn.execute(
            "UPDATE sessions SET model_settings = ?, summary = ?, model_event_count = ?, reviewed_event_count = ?,"
            " reviewed_at = ?, clinical = ? WHERE id = ?",
            _sql(dumps(draft.model_settings), dumps(draft.summary), len(model_events), len(reviewed),
                 utc_now() if draft.reviewed_events is not None else None, dumps(draft.clinical), session_id))
        if cur.rowcount == 0:
            raise ValueError(f"no session with id {session_id}")
        conn.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
        _insert_events(conn, session_id, "model", model_events)
        _insert_events(conn, session_id, "reviewed", reviewed)
    return get_session(db, session_id)
