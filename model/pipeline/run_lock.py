"""One writer per output folder: a lock file that the operating system releases when its holder dies.

Two `assess` runs into the same folder would interleave their rewrites of summary.csv and results.json.
The lock is filelock's OS file lock (flock on POSIX, LockFileEx on Windows) on `OUT/.lock`, so a run that
is killed -9 never leaves a stale lock behind; the file's text only says who holds it, for the message.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = ".lock"


class FolderBusyError(RuntimeError):
    """Another run holds the output folder's lock."""


def _say_holder(path: Path) -> None:
    # Through a descriptor of our own: filelock's keeps the lock, and the text is only for the message.
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {platform.node()}".encode())
        finally:
            os.close(fd)
    except OSError:
        pass  # a lock that Windows keeps from other descriptors: the message goes without the holder


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:200].strip()
    except OSError:
        return ""


@contextmanager
def folder_lock(folder: str | Path, *, what: str = "assess") -> Iterator[Path]:
    """Hold OUT/.lock for the block; raise FolderBusyError at once if another run holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    lock = FileLock(path, timeout=0, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        holder = _holder(path)
        raise FolderBusyError(f"{folder}: another {what} run is writing into this folder"
                              f"{f' ({holder})' if holder else ''}; wait for it to finish or choose another "
                              "--out") from None
    try:
        _say_holder(path)
        yield path
    finally:
        lock.release()  # the file stays (filelock keeps it on POSIX: removing it would race a waiting run)
