"""One writer per output folder: a lock file that the operating system releases when its holder dies.

Two `assess` runs into the same folder would interleave their rewrites of summary.csv and results.json.
The lock is an OS file lock (flock on POSIX, msvcrt.locking on Windows) on `OUT/.lock`, so a run that is
killed -9 never leaves a stale lock behind; the file itself only says who holds it, for the message.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".lock"


class FolderBusyError(RuntimeError):
    """Another run holds the output folder's lock."""


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def folder_lock(folder: str | Path, *, what: str = "assess") -> Iterator[Path]:
    """Hold OUT/.lock for the block; raise FolderBusyError at once if another run holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lock(fd):
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() if hasattr(os, "pread") else ""
            raise FolderBusyError(f"{folder}: another {what} run is writing into this folder"
                                  f"{f' ({holder})' if holder else ''}; wait for it to finish or choose another "
                                  "--out")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {platform.node()}".encode())
        yield path
    finally:
        os.close(fd)  # closing releases the lock; the file stays (removing it would race a waiting run)
