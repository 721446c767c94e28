"""A writer killed mid-save leaves the records database consistent.

Run as a script, this file is the writer: it stores sessions with many events in a loop and prints
each committed session id. The test SIGKILLs it at random moments, reopens the file and checks it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS_PER_SESSION = 3000  # enough that a save takes a while, so a kill often lands inside one


def _writer(db_path: str) -> None:
    from app.records.db import open_database
    from app.records.patients import add_patient, find_patient
    from app.records.sessions import SessionDraft, add_session, set_reviewed_events

    events = tuple({"label": "Block", "start": i * 0.5, "end": i * 0.5 + 0.3, "confidence": 0.8}
                   for i in range(EVENTS_PER_SESSION))
    reviewed = [dict(e, status="accepted", origin="model") for e in events]
    with open_database(db_path) as db:
        patient = find_patient(db, "P-kill") or add_patient(db, code="P-kill")
        while True:
            s = add_session(db, SessionDraft(patient_id=patient.id, date="2024-05-01", task="reading",
                                             recording="/nowhere.wav", recording_mode="link", duration=1500.0,
                                             model_id="m", model_events=events), stored=True)
            set_reviewed_events(db, s.id, reviewed)
            print(s.id, flush=True)


def _committed_after_kill(db_path: Path, delay: float) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen([sys.executable, __file__, str(db_path)], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()  # one session committed: the writer is in its loop
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()


def test_kill_during_save_leaves_database_consistent(tmp_path):
    from app.records.db import integrity_problems, open_database
    from app.records.sessions import incomplete_sessions

    path = tmp_path / "records.sqlite3"
    rng = random.Random(7)
    for _ in range(3):
        _committed_after_kill(path, rng.uniform(0.05, 0.4))
        with open_database(path) as db:
            assert integrity_problems(db) == []
            assert incomplete_sessions(db) == []
            n = db.conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
            assert n >= 1
            orphans = db.conn.execute(
                "SELECT count(*) FROM events WHERE session_id NOT IN (SELECT id FROM sessions)").fetchone()[0]
            assert orphans == 0
            # Every session is whole: its model events, and its reviewed events if it was marked reviewed.
            for sid, reviewed_at, n_model, n_reviewed in db.conn.execute(
                    "SELECT s.id, s.reviewed_at, (SELECT count(*) FROM events WHERE session_id = s.id AND "
                    "source = 'model'), (SELECT count(*) FROM events WHERE session_id = s.id AND "
                    "source = 'reviewed') FROM sessions s"):
                assert n_model == EVENTS_PER_SESSION, sid
                assert n_reviewed == (EVENTS_PER_SESSION if reviewed_at else 0), sid


if __name__ == "__main__":
    _writer(sys.argv[1])
