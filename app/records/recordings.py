"""A session's recording: copied into the records folder, or linked where it lies, as the clinician chooses.

A copy is made as `<id><ext>.<pid>.partial` and renamed to `<id><ext>` when complete; until a session
refers to it, a marker `<id><ext>.<pid>.pending` says which process is about to store it. A kill
during a save can therefore leave a partial copy, or a complete copy no session refers to; each names
its process, so the next open of the records (and every patient delete) removes those whose process
is gone, and leaves alone what a running save is still working on (`clean_recordings_folder`).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from model.fileio import process_alive

from .errors import RecordsDiskFullError
from .paths import RECORDINGS_FOLDER, recordings_dir

log = logging.getLogger(__name__)

RecordingMode = Literal["copy", "link"]
RECORDING_MODES = ("copy", "link")
_COPY_NAME = re.compile(r"^[0-9a-f]{32}(\.[A-Za-z0-9]{1,8})?$")  # what store_recording names a copy
_WORK_NAME = re.compile(r"^(?P<copy>[0-9a-f]{32}(\.[A-Za-z0-9]{1,8})?)\.(?P<pid>\d+)\.(?P<kind>partial|pending)$")
_NO_PID_GRACE_SECONDS = 3600  # where a process cannot be asked whether it lives (Windows), wait this long


def store_recording(source: str | Path, database: str | Path, *, mode: RecordingMode) -> Path:
    """Return the path a session should keep for source: a fresh private copy ("copy") or source itself ("link").

    Copying can take seconds for long recordings: call this from a worker, not the GUI thread.
    The copy gets a random name, because a file name often holds the patient's name.
    """
    source = Path(source).expanduser().resolve()
    if mode not in RECORDING_MODES:
        raise ValueError(f"recording mode {mode!r}: use 'copy' (keep a copy with the records) or 'link'")
    if not source.is_file():
        raise ValueError(f"{source}: no such recording; choose an existing audio file")
    if mode == "link":
        return source
    target = recordings_dir(Path(database)) / f"{uuid.uuid4().hex}{_safe_suffix(source)}"
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    pending = pending_marker(target)
    try:
        os.close(os.open(pending, os.O_CREAT | os.O_WRONLY, 0o600))  # before the copy: a kill is always traceable
        fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, length=1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)  # a half-copied file never carries the final name
    except OSError as e:
        partial.unlink(missing_ok=True)
        pending.unlink(missing_ok=True)
        if e.errno == errno.ENOSPC:
            raise RecordsDiskFullError(f"the disk holding the records ({target.parent}) is full: free some space "
                                       f"and save again; {source} was not copied and nothing was changed") from e
        raise RuntimeError(f"copying {source} into the records folder failed: {e}") from e
    return target


def _safe_suffix(source: Path) -> str:
    suffix = source.suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def pending_marker(copy: str | Path) -> Path:
    """The marker saying this process is about to store `copy` in a session."""
    copy = Path(copy)
    return copy.with_name(f"{copy.name}.{os.getpid()}.pending")


def release_pending(copy: str | Path) -> None:
    """A session now refers to `copy` (or it was removed): drop this process's marker."""
    pending_marker(copy).unlink(missing_ok=True)


def _process_alive(pid: int, marker: Path) -> bool:
    alive = process_alive(pid)
    if alive is not None:
        return alive
    # No harmless way to ask (Windows): trust an hour-old marker to be stale.
    try:
        return time.time() - marker.stat().st_mtime < _NO_PID_GRACE_SECONDS
    except OSError:
        return False


def clean_recordings_folder(database: str | Path, referenced: Iterable[str]) -> list[Path]:
    """Remove partial copies and copies no session refers to, unless a live process is still saving them.

    Only names store_recording makes are touched; anything else in the folder is left alone. Returns what
    was removed.
    """
    folder = Path(database).parent / RECORDINGS_FOLDER
    if not folder.is_dir():
        return []
    keep = {Path(p).name for p in referenced if Path(p).parent.resolve() == folder.resolve()}
    live: set[str] = set()  # copies a live process is still saving
    stale: list[Path] = []
    for entry in folder.iterdir():
        work = _WORK_NAME.match(entry.name)
        if work is None:
            continue
        if _process_alive(int(work["pid"]), entry):
            live.add(work["copy"])
        else:
            stale.append(entry)
    stale += [e for e in folder.iterdir() if _COPY_NAME.match(e.name) and e.name not in keep and e.name not in live]
    removed = []
    for path in stale:
        try:
            path.unlink(missing_ok=True)
            removed.append(path)
        except OSError as e:
            log.warning("could not remove the stale recording copy %s: %s", path, e)
    if removed:
        log.info("removed %d stale recording copies from %s: %s", len(removed), folder,
                 ", ".join(p.name for p in removed))
    return removed


def remove_stored(paths: list[str], database: str | Path) -> None:
    """Delete copies the records folder holds (linked originals elsewhere are never touched)."""
    folder = recordings_dir(Path(database)).resolve()
    for p in paths:
        path = Path(p).resolve()
        if path.parent != folder:
            continue
        try:
            path.unlink(missing_ok=True)
            release_pending(path)
        except OSError as e:
            # The database no longer refers to it; a stale file is a disk-space matter, not a records one.
            log.warning("could not delete the stored recording %s: %s", path, e)
