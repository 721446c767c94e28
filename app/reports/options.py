"""What every report shares: its options and the block that says whose report it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.records.course import age_at
from app.records.patients import Patient
from app.records.sessions import Session

from .html import clock


@dataclass(frozen=True)
class ReportOptions:
    clinic_name: str = ""  # printed at the top of every report
    clinician: str = ""  # the clinician's name, in the heading and on every page's foot
    deidentified: bool = False  # random patient code, no name/birth date, year-month dates, no free text


def identity_pairs(patient: Patient, session: Session | None, options: ReportOptions) -> list[tuple[str, object]]:
    """Patient (and session) rows for a report's heading block; a de-identified patient has only its code."""
    pairs: list[tuple[str, object]] = [("Patient code", patient.code)]
    if patient.name:
        pairs.append(("Name", patient.name))
    if patient.birth_date:
        pairs.append(("Birth date", patient.birth_date))
    if options.deidentified:
        pairs.append(("De-identified", "yes: random code, dates as year-month, free text withheld"))
    if options.clinician:
        pairs.append(("Clinician", options.clinician))
    if session is not None:
        pairs += [("Session date", session.date)]
        age = age_at(patient.birth_date, session.date)
        if age:
            pairs.append(("Age at session", age))
        pairs += [("Task", session.task), ("Recording length", clock(session.duration))]
        if session.recording:  # the file's own name: a stored copy has a random one
            pairs.append(("Recording", session.recording_name or Path(session.recording).name))
    return pairs
