"""App settings kept with the records (the clinic name printed on reports)."""

from __future__ import annotations

from .db import Database

CLINIC_NAME = "clinic_name"
CLINICIAN_NAME = "clinician_name"  # printed on reports
LAST_TASK = "last_task"  # the task a new session gets by default


def get_setting(db: Database, key: str, default: str = "") -> str:
    row = db.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else row[0]


def set_setting(db: Database, key: str, value: str) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
