"""De-identified copies of a patient and their sessions, for exports and reports that leave the clinic.

What changes: the patient code becomes a random id (`anon-` + 8 hex digits, new for every export);
name and birth date are dropped; session dates are reduced to year-month (YYYY-MM), which keeps the
order of a course of sessions while hiding the day; free-text notes and physical-concomitant notes are dropped
(they often name people); the recording path is dropped. Events, durations, measures and the model id stay.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from .patients import Patient
from .sessions import Session

WITHHELD = "[withheld in de-identified export]"


def pseudonym() -> str:
    return f"anon-{secrets.token_hex(4)}"


def deidentify_patient(patient: Patient, *, code: str | None = None) -> Patient:
    return replace(patient, code=code or pseudonym(), name=None, birth_date=None, created="")


def deidentify_session(session: Session) -> Session:
    return replace(session, date=session.date[:7], notes=WITHHELD if session.notes else "",
                   physical_concomitants=WITHHELD if session.physical_concomitants else "",
                   recording="", recording_name="", created="",
                   reviewed_at=session.reviewed_at and session.reviewed_at[:7])


def deidentify(patient: Patient, sessions: list[Session]) -> tuple[Patient, list[Session]]:
    """One random code for the patient, the same rules applied to each session."""
    return deidentify_patient(patient), [deidentify_session(s) for s in sessions]
