"""The records' own errors: what can go wrong outside the program, said so that a clinician can act on it.

SQLite reports both a second writer and a full disk as `sqlite3.OperationalError`; these say which it
was, what to do, and that nothing was changed (every write is one transaction, rolled back on failure).
They are RuntimeErrors (outside failures), so the app's workers and dialogs show their message as it is.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path


class RecordsError(RuntimeError):
    """A records operation failed for an outside reason; the message says why and what to do."""


class RecordsBusyError(RecordsError):
    """Another program (or StutterScope window) held the database longer than the busy timeout."""


class RecordsDiskFullError(RecordsError):
    """The disk holding the records has no room left."""


def _is_disk_full(e: BaseException) -> bool:
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    return isinstance(e, sqlite3.Error) and ("disk is full" in str(e) or getattr(e, "sqlite_errorname", "")
                                             == "SQLITE_FULL")


def _is_busy(e: BaseException) -> bool:
    return isinstance(e, sqlite3.OperationalError) and (
        getattr(e, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")
        or "database is locked" in str(e) or "database is busy" in str(e))


def records_error(e: BaseException, database: str | Path, *, doing: str = "saving") -> RecordsError:
    """The documented error for an sqlite3/OS failure while `doing` something with the records at database."""
    folder = Path(database).parent
    if _is_disk_full(e):
        return RecordsDiskFullError(f"the disk holding the records ({folder}) is full: free some space and try "
                                    f"{doing} again; nothing was changed")
    if _is_busy(e):
        return RecordsBusyError(f"the records database {database} is in use by another StutterScope window or "
                                f"program: close it, or wait for it to finish, and try {doing} again; nothing was "
                                "changed")
    return RecordsError(f"{doing} to the records database {database} failed ({e}); nothing was changed")
