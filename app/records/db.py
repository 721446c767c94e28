"""Opening the records database: owner-only file, WAL journal, foreign keys, migrations.

Every write goes through `Database.transaction()`, one SQLite transaction: a crash or kill part-way
leaves the file as it was before the transaction (SQLite's WAL guarantees it; tests kill a writer to check).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .errors import records_error
from .paths import database_path
from .recordings import clean_recordings_folder
from .schema import MIGRATIONS

log = logging.getLogger(__name__)

_PRIVATE = 0o600  # the database and its -wal/-shm files: owner read/write only
_BUSY_TIMEOUT_MS = 5000  # wait this long for another connection's write before failing


class Database:
    """One connection to a records file. Use on one thread; open another for a worker thread."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises.

        A locked database or a full disk raises RecordsBusyError / RecordsDiskFullError (app.records.errors),
        never a raw sqlite3.OperationalError; either way the transaction is rolled back.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:  # another writer held the lock past the busy timeout
            raise records_error(e, self.path) from e
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as e:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.OperationalError):
                raise records_error(e, self.path) from e
            raise

    def referenced_recordings(self) -> set[str]:
        """Paths of the recording copies that sessions keep (what the records folder must not lose)."""
        return {r[0] for r in self.conn.execute("SELECT recording FROM sessions WHERE recording_mode = 'copy'")}

    def clean_recordings(self) -> list[Path]:
        """Remove half-copied and unreferenced recording copies left by a kill or a failed save; returns them."""
        return clean_recordings_folder(self.path, self.referenced_recordings())


def utc_now() -> str:
    """An ISO timestamp (UTC, seconds) for created/reviewed columns."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _create_private(path: Path) -> None:
    # Create the file ourselves so it never exists, even for an instant, with the umask's wider mode.
    fd = os.open(path, os.O_CREAT | os.O_RDWR, _PRIVATE)
    os.close(fd)
    os.chmod(path, _PRIVATE)


def _chmod_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, _PRIVATE)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly what we say it is.
    conn = sqlite3.connect(path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise RuntimeError(f"{path}: SQLite refused WAL mode (got {mode!r}); is the folder on a network drive?")
    # FULL: a committed session survives a power cut too, not only a crash of the app.
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def migrate(conn: sqlite3.Connection, migrations: Sequence[Sequence[str]] = MIGRATIONS) -> int:
    """Apply the missing migrations, each in its own transaction; return the new version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise RuntimeError(f"the records database is at schema version {version}, newer than this "
                           f"StutterScope knows ({len(migrations)}): update StutterScope to open it")
    for number in range(version + 1, len(migrations) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migrations[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")  # int from range(): safe to format
        except sqlite3.Error as e:
            conn.execute("ROLLBACK")
            raise RuntimeError(f"migrating the records database to version {number} failed: {e}") from e
        conn.execute("COMMIT")
        log.info("records database migrated to schema version %d", number)
    return len(migrations)


def open_database(path: str | Path | None = None, *, migrations: Sequence[Sequence[str]] = MIGRATIONS) -> Database:
    """Open (creating if needed) the records database at path, or the default one; migrate it to the latest schema."""
    path = Path(path) if path is not None else database_path()
    if path.is_dir():
        raise ValueError(f"{path} is a folder: give the path of the database file (e.g. {path / 'records.sqlite3'})")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _create_private(path)
    try:
        conn = _connect(path)
        migrate(conn, migrations)
    except sqlite3.OperationalError as e:
        raise records_error(e, path, doing="opening") from e
    except sqlite3.DatabaseError as e:
        raise RuntimeError(f"{path}: cannot open the records database ({e})") from e
    _chmod_sidecars(path)
    db = Database(conn, path)
    db.clean_recordings()  # what a kill during a save left behind
    return db


def integrity_problems(db: Database) -> list[str]:
    """SQLite's integrity and foreign-key checks; an empty list means the file is sound."""
    problems = [row[0] for row in db.conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
    problems += [f"orphan row {row[1]} in {row[0]}" for row in db.conn.execute("PRAGMA foreign_key_check")]
    return problems

