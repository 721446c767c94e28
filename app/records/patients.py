"""Patients: create, read, update, delete."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, replace

from .db import Database, utc_now
from .recordings import remove_stored


@dataclass(frozen=True)
class Patient:
    id: int
    code: str  # pseudonymous code: what reports and exports show
    name: str | None = None  # optional; kept out of de-identified exports
    birth_date: str | None = None  # optional ISO date (YYYY-MM-DD)
    created: str = ""  # ISO timestamp (UTC)


def check_iso_date(value: str | None, what: str) -> str | None:
    """Return value if it is None or an ISO date (YYYY-MM-DD); raise ValueError saying the format otherwise."""
    if value is None:
        return None
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-03-15") from None
    return value


def _check_code(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise ValueError("a patient needs a code (a pseudonym such as P-014), not an empty string")
    return code


def _row_to_patient(row: sqlite3.Row) -> Patient:
    return Patient(id=row["id"], code=row["code"], name=row["name"], birth_date=row["birth_date"],
                   created=row["created"])


def add_patient(db: Database, *, code: str, name: str | None = None, birth_date: str | None = None) -> Patient:
    code = _check_code(code)
    check_iso_date(birth_date, "birth date")
    try:
        with db.transaction() as conn:
            cur = conn.execute("INSERT INTO patients (code, name, birth_date, created) VALUES (?, ?, ?, ?)",
                               (code, name or None, birth_date, utc_now()))
    except sqlite3.IntegrityError:
        raise ValueError(f"a patient with code {code!r} already exists: choose another code") from None
    return get_patient(db, cur.lastrowid)


def get_patient(db: Database, patient_id: int) -> Patient:
    row = db.conn.execute("SELECT * FROM patients WHERE id = ?", (patient_id,)).fetchone()
    if row is None:
        raise ValueError(f"no patient with id {patient_id}")
    return _row_to_patient(row)


def find_patient(db: Database, code: str) -> Patient | None:
    row = db.conn.execute("SELECT * FROM patients WHERE code = ?", (code.strip(),)).fetchone()
    return None if row is None else _row_to_patient(row)


def list_patients(db: Database) -> list[Patient]:
    return [_row_to_patient(r) for r in db.conn.execute("SELECT * FROM patients ORDER BY code COLLATE NOCASE")]


def update_patient(db: Database, patient: Patient) -> Patient:
    """Write patient's code, name and birth date over the stored ones (its id says which)."""
    patient = replace(patient, code=_check_code(patient.code))
    check_iso_date(patient.birth_date, "birth date")
    try:
        with db.transaction() as conn:
            cur = conn.execute("UPDATE patients SET code = ?, name = ?, birth_date = ? WHERE id = ?",
                               (patient.code, patient.name or None, patient.birth_date, patient.id))
    except sqlite3.IntegrityError:
        raise ValueError(f"a patient with code {patient.code!r} already exists: choose another code") from None
    if cur.rowcount == 0:
        raise ValueError(f"no patient with id {patient.id}")
    return get_patient(db, patient.id)


def delete_patient(db: Database, patient_id: int) -> None:
    """Delete a patient, their sessions (by cascade) and the recording copies those sessions stored."""
    with db.transaction() as conn:
        copies = [r[0] for r in conn.execute(
            "SELECT recording FROM sessions WHERE patient_id = ? AND recording_mode = 'copy'", (patient_id,))]
        cur = conn.execute("DELETE FROM patients WHERE id = ?", (patient_id,))
    if cur.rowcount == 0:
        raise ValueError(f"no patient with id {patient_id}")
    remove_stored(copies, db.path)
    db.clean_recordings()  # and any copy a failed or killed save left behind
