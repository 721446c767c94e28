"""Atomic file writes: readers never see half a file, and a crash or power cut leaves no partial output.

Write to a temporary file beside the target, fsync it, os.replace it into place (atomic on POSIX and
Windows within one folder), then fsync the folder so that the rename itself is on disk: without the
two fsyncs a power cut can leave the new name pointing at an empty or short file. The temporary name
is made from the process and thread, not mkstemp, so the finished file gets the usual permissions
(or owner-only with `private=True`, for anything that can name a patient).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_MODE = 0o600  # owner read/write: files that can name a patient (results, exports, reports)


def fsync_path(path: str | Path) -> None:
    """Flush a file's data to the disk (opened read-only, so any readable file will do)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: str | Path) -> None:
    """Flush a folder's entries (a rename into it) to the disk; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except (PermissionError, IsADirectoryError):  # Windows cannot open a folder; its renames are journalled
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems (and Windows) refuse fsync on a folder: nothing more can be done
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path, *, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is fsynced and replaces `path`, on failure it is removed.

    private: make the finished file owner-only (0600) whatever the umask, before it carries its name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if private:
            # Create it owner-only first, so the data never sits in a wider-mode file even for an instant.
            os.close(os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_MODE))
        yield tmp
        if private:
            os.chmod(tmp, PRIVATE_MODE)  # the writer may have re-created the file
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)  # a no-op after os.replace


def atomic_write_text(path: str | Path, text: str, *, private: bool = False) -> None:
    """Write text (UTF-8, newlines as given) to path atomically and durably; private: owner-only (0600)."""
    with atomic_path(path, private=private) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def atomic_write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> None:
    """Write bytes to path atomically and durably; private: owner-only (0600)."""
    with atomic_path(path, private=private) as tmp:
        tmp.write_bytes(data)


def process_alive(pid: int) -> bool | None:
    """Whether process pid runs (on this machine); None where the OS gives no harmless way to ask (Windows)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return None  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)\.\d+\.tmp$")  # what atomic_path names its temporary files


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove atomic_path's temporary files in folder whose writer process is gone (killed mid-write)."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match and process_alive(int(match["pid"])) is False:
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed
