"""Issue 12, item 10: the records after kills, a locked database and a full disk; bidi text in reports.

Faults are real: a writer process SIGKILLs itself in the middle of copying a recording or between the
copy and the commit; another connection holds the write lock; SQLite's page limit or a small tmpfs
(where the machine lets us mount one) fills the disk.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import PY, mounted_tmpfs, python_env, write_wav

from app.records import db as records_db
from app.records.db import integrity_problems, open_database
from app.records.errors import RecordsBusyError, RecordsDiskFullError
from app.records.patients import add_patient, delete_patient
from app.records.recordings import store_recording
from app.records.sessions import SessionDraft, add_session, incomplete_sessions, list_sessions

EVENTS = tuple({"label": "Block", "start": i * 0.5, "end": i * 0.5 + 0.3, "confidence": 0.8} for i in range(50))


@pytest.fixture()
def recording(tmp_path) -> Path:
    return write_wav(tmp_path / "Jane Doe, reading.wav", (0.1 * np.sin(np.arange(64_000) / 5)).astype(np.float32))


def _draft(patient_id: int, recording: Path, **kw) -> SessionDraft:
    return SessionDraft(patient_id=patient_id, date="2024-05-01", task="reading", recording=str(recording),
                        duration=4.0, model_id="m" * 64, model_events=EVENTS, **kw)


def _folder_state(db_path: Path) -> tuple[set[str], set[str]]:
    """(files in the recordings folder, names the sessions refer to)."""
    folder = db_path.parent / "recordings"
    files = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    with sqlite3.connect(db_path) as conn:
        referenced = {Path(r[0]).name for r in conn.execute("SELECT recording FROM sessions WHERE recording_mode='copy'")}
    return files, referenced


def _die_while_saving(db_path: Path, recording: Path, where: str) -> None:
    """A writer process that SIGKILLs itself halfway through a copy ("copy") or after it ("commit")."""
    script = textwrap.dedent(f"""
        import os, shutil, signal
        from app.records.db import open_database
        from app.records.patients import add_patient
        from app.records import recordings, sessions
        from app.records.sessions import SessionDraft, add_session

        def die(*a, **kw):
            os.kill(os.getpid(), signal.SIGKILL)

        real_copy = shutil.copyfileobj
        def half_then_die(src, dst, length=0):
            dst.write(src.read(1000)); dst.flush()
            die()

        with open_database({str(db_path)!r}) as db:
            p = add_patient(db, code="P-kill-{where}")
            if {where!r} == "copy":
                recordings.shutil.copyfileobj = half_then_die
            else:
                sessions.Database.transaction = die  # dies after the copy, before the session is written
            add_session(db, SessionDraft(patient_id=p.id, date="2024-05-01", task="reading",
                                         recording={str(recording)!r}, duration=4.0, model_id="m"))
    """)
    proc = subprocess.run([PY, "-c", script], env=python_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr


@pytest.mark.parametrize("where", ["copy", "commit"])
def test_a_kill_during_a_save_leaves_nothing_behind_after_the_next_open(tmp_path, recording, where):
    db_path = tmp_path / "data" / "records.sqlite3"
    with open_database(db_path) as db:
        keep = add_session(db, _draft(add_patient(db, code="P-1").id, recording))
    _die_while_saving(db_path, recording, where)
    files, _ = _folder_state(db_path)
    assert len(files) > 1  # the killed save left something (a partial copy, or a copy and its marker)
    with open_database(db_path) as db:  # the next open cleans up
        assert integrity_problems(db) == [] and incomplete_sessions(db) == []
        assert [s.id for s in list_sessions(db, keep.patient_id)] == [keep.id]
    files, referenced = _folder_state(db_path)
    assert files == referenced == {Path(keep.recording).name}
    assert Path(keep.recording).read_bytes() == recording.read_bytes()  # the finished one is untouched


def test_a_save_in_progress_in_a_live_process_is_left_alone(tmp_path, recording):
    from app.records.recordings import pending_marker

    db_path = tmp_path / "data" / "records.sqlite3"
    with open_database(db_path) as db:
        copy = store_recording(recording, db.path, mode="copy")  # a worker copied it; the session is not stored yet
        assert pending_marker(copy).exists()
    with open_database(db_path) as db:  # a second window opens the records meanwhile
        assert copy.exists()
        add_session(db, _draft(add_patient(db, code="P-1").id, copy), stored=True)
    assert not pending_marker(copy).exists()
    files, referenced = _folder_state(db_path)
    assert files == referenced == {copy.name}


def test_deleting_a_patient_removes_their_copies_and_stale_ones(tmp_path, recording):
    db_path = tmp_path / "data" / "records.sqlite3"
    with open_database(db_path) as db:
        p1, p2 = add_patient(db, code="P-1"), add_patient(db, code="P-2")
        add_session(db, _draft(p1.id, recording))
        other = add_session(db, _draft(p2.id, recording))
        dead = subprocess.run([PY, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
        stale = db.path.parent / "recordings" / ("ab" * 16 + ".wav")
        stale.write_bytes(b"left by a save that died")
        stale.with_name(f"{stale.name}.{int(dead)}.pending").touch()
        delete_patient(db, p1.id)
    files, referenced = _folder_state(db_path)
    assert files == referenced == {Path(other.recording).name}


@pytest.fixture()
def locked(tmp_path, monkeypatch):
    """A records file whose write lock another connection holds; the busy wait is cut to 0.2 s."""
    monkeypatch.setattr(records_db, "_BUSY_TIMEOUT_MS", 200)
    db_path = tmp_path / "data" / "records.sqlite3"
    open_database(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield db_path
    holder.execute("ROLLBACK")
    holder.close()


def test_a_locked_database_is_a_clear_documented_error_and_leaves_no_copy(locked, recording):
    with open_database(locked) as db:
        with pytest.raises(RecordsBusyError, match="in use by another StutterScope window or program.*nothing was"):
            add_patient(db, code="P-1")
        with pytest.raises(RecordsBusyError):
            add_session(db, _draft(1, recording))
    files, _ = _folder_state(locked)
    assert files == set()  # the copy made for the failed save is gone at once


def test_a_full_database_is_a_clear_documented_error(tmp_path, recording):
    db_path = tmp_path / "data" / "records.sqlite3"
    with open_database(db_path) as db:
        patient = add_patient(db, code="P-1")
        first = add_session(db, _draft(patient.id, recording))
        pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
        db.conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLite's own "database or disk is full"
        many = tuple(dict(EVENTS[0], start=i, end=i + 0.5) for i in range(5000))
        with pytest.raises(RecordsDiskFullError, match=r"is full: free some space and try saving again; nothing"):
            add_session(db, replace(_draft(patient.id, recording), model_events=many))
    with open_database(db_path) as db:
        assert integrity_problems(db) == [] and [s.id for s in list_sessions(db, patient.id)] == [first.id]
    files, referenced = _folder_state(db_path)
    assert files == referenced


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs (root may mount one here; skipped where the sandbox forbids it)."""
    yield from mounted_tmpfs(tmp_path / "tiny", "1m")


def test_a_full_disk_while_copying_a_recording_is_clear_and_loses_nothing(tiny_disk, tmp_path, recording):
    big = write_wav(tmp_path / "long.wav", np.zeros(16_000 * 60, np.float32))  # 1.9 MB: more than the disk
    db_path = tiny_disk / "records.sqlite3"
    with open_database(db_path) as db:
        patient = add_patient(db, code="P-1")
        kept = add_session(db, _draft(patient.id, recording))
        with pytest.raises(RecordsDiskFullError, match=r"the disk holding the records .* is full.*not copied"):
            add_session(db, _draft(patient.id, big))
    with open_database(db_path) as db:
        assert integrity_problems(db) == [] and [s.id for s in list_sessions(db, patient.id)] == [kept.id]
    files, referenced = _folder_state(db_path)
    assert files == referenced == {Path(kept.recording).name}


def test_rtl_override_in_a_patient_code_does_not_reverse_the_report_title(qapp):
    from PySide6.QtCore import QSizeF

    from app.qt.reports.pdf import layout_document
    from app.qt.reports.session_report import session_report_html
    from app.records.patients import Patient
    from app.records.sessions import Session

    patient = Patient(id=1, code="P\u202e01")
    session = Session(id=1, patient_id=1, date="2024-05-01", task="read\u202eing", recording="", recording_mode="link",
                      duration=4.0, notes="", model_id="m" * 64, model_settings={}, summary={}, model_events=(),
                      reviewed_events=(), reviewed_at=None, physical_concomitants="", naturalness=None, created="")
    doc = layout_document(session_report_html(patient, session), {}, QSizeF(500, 800))
    block = doc.begin()
    while block.isValid() and "Session report" not in block.text():
        block = block.next()
    doc.documentLayout().blockBoundingRect(block)  # lays the block out, so that its lines exist
    text, layout = block.text(), block.layout()
    assert layout.lineCount() >= 1
    line = layout.lineAt(0)
    date_at = text.index("2024-05-01")
    xs = [line.cursorToX(date_at + i)[0] for i in range(len("2024-05-01"))]
    assert xs == sorted(xs), f"the title's date is laid out right to left: {xs}"


@pytest.mark.skipif(sys.platform != "linux", reason="POSIX permissions")
def test_the_database_and_copies_stay_owner_only(tmp_path, recording):
    db_path = tmp_path / "data" / "records.sqlite3"
    with open_database(db_path) as db:
        s = add_session(db, _draft(add_patient(db, code="P-1").id, recording))
    assert os.stat(db_path).st_mode & 0o077 == 0 and os.stat(s.recording).st_mode & 0o077 == 0


class _Dialogs:
    """The Patients page's dialogs, answered by the test: every message kept, every question a yes."""

    def __init__(self):
        self.messages: list[tuple[str, str]] = []

    def message(self, level, text):
        self.messages.append((level, text))

    def ask(self, text):
        return True

    def save_path(self, *args):
        return None


@pytest.mark.parametrize(("column", "stored", "named"), [
    ("model_settings", "{not json", "damaged: model settings (thresholds) (it is not JSON"),
    ("model_settings", '["thresholds"]', "it is a list, not an object"),
    ("model_settings", '{"thresholds": {"Block": "high"}}', "the Block threshold is 'high'"),
    ("model_settings", '{"hop_seconds": null}', "its hop_seconds is None"),
    ("summary", '"a text"', "damaged: model summary (it is a str, not an object)"),
    ("summary", "[1, 2", "damaged: model summary (it is not JSON"),
], ids=["settings-not-json", "settings-a-list", "threshold-of-wrong-type", "hop-of-wrong-type",
        "summary-a-string", "summary-not-json"])
def test_a_session_with_damaged_settings_or_summary_is_listed_opened_and_reported(qtbot, tmp_path, recording,
                                                                                  column, stored, named):
    """Issue 23: a damaged JSON column of a saved session raised on the Patients page (the course table and
    chart, Open in Analysis, the PDFs); now the session is listed with what is damaged, the rest is shown and
    the stored value stays as it is."""
    from app.qt.views.patients_page import PatientsPage
    from app.qt.views.records_state import RecordsState

    db_path = tmp_path / "records.sqlite3"
    with open_database(db_path) as db:
        patient = add_patient(db, code="P-23")
        good = add_session(db, _draft(patient.id, recording, recording_mode="link",
                                      model_settings={"thresholds": {"Block": 0.5}, "hop_seconds": 0.5}))
        bad = add_session(db, replace(_draft(patient.id, recording, recording_mode="link", summary={"events": 50},
                                             model_settings={"thresholds": {"Block": 0.5}}), date="2024-06-01"))
        with db.transaction() as conn:  # damaged on disk, in the real SQLite file
            conn.execute(f"UPDATE sessions SET {column} = ? WHERE id = ?", (stored, bad.id))
        state, dialogs, opened = RecordsState(db), _Dialogs(), []
        page = PatientsPage(state, dialogs=dialogs, open_session=opened.append)
        qtbot.addWidget(page)
        state.choose_patient(patient.id)
        table = page.course.table
        assert table.rowCount() == 2 and table.item(0, 0).text() == "2024-05-01"  # the sound session as it was
        assert table.item(1, 0).text() == "2024-06-01 (damaged)" and named in table.item(1, 0).toolTip()
        assert named in page.course.warning.text() and table.item(1, 3).text() == "0.1"  # its minutes still shown
        page.course.select_session(bad.id)
        page.buttons["open_session"].click()  # Open in Analysis
        assert [s.id for s in opened] == [bad.id] and named in dialogs.messages[0][1]
        page.write_session_report(bad.id, tmp_path / "session.pdf")
        page.write_course_report(tmp_path / "c.pdf")
        qtbot.waitUntil(lambda: not page.jobs, timeout=30_000)
        assert len(dialogs.messages) == 1, dialogs.messages  # a failed report would be an error message
        assert (tmp_path / "session.pdf").stat().st_size > 0 and (tmp_path / "c.pdf").stat().st_size > 0
        assert good.problem == ""
    with sqlite3.connect(db_path) as conn:
        raw = conn.execute(f"SELECT {column} FROM sessions WHERE id = ?", (bad.id,)).fetchone()[0]
    assert raw == stored, "the damaged value stays in the records until the session is saved again"
