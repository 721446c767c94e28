"""A session's recording: copied into the records folder, or linked where it lies, as the clinician chooses."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Literal

from .paths import recordings_dir

log = logging.getLogger(__name__)

RecordingMode = Literal["copy", "link"]
RECORDING_MODES = ("copy", "link")


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
    target = recordings_dir(Path(database)) / f"{uuid.uuid4().hex}{source.suffix.lower()}"
    partial = target.with_name(target.name + ".partial")
    try:
        fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, length=1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)  # a half-copied file never carries the final name
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"copying {source} into the records folder failed: {e}") from e
    return target


def remove_stored(paths: list[str], database: str | Path) -> None:
    """Delete copies the records folder holds (linked originals elsewhere are never touched)."""
    folder = recordings_dir(Path(database)).resolve()
    for p in paths:
        path = Path(p).resolve()
        if path.parent != folder:
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as e:
            # The database no longer refers to it; a stale file is a disk-space matter, not a records one.
            log.warning("could not delete the stored recording %s: %s", path, e)
