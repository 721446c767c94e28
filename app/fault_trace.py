"""A trace of hard aborts: faulthandler writes into a file in the log folder, the next start reports it.

An abort (a segfault, `Fatal Python error`) kills the process before any Python handler or crash
dialog can run; faulthandler still writes every thread's stack to an open file. At the next start
a non-empty trace file is renamed (so it is reported once) and its first lines are shown.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import logging
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

TRACE_FILE = "fault-trace.txt"  # written only when the process aborts
KEPT_PREFIX = "fault-"  # earlier aborts' traces, renamed fault-YYYYmmdd-HHMMSS.txt


def previous_fault(folder: Path) -> Path | None:
    """The trace left by an abort of the last run, renamed aside; None when the last run ended cleanly."""
    trace = folder / TRACE_FILE
    if not trace.is_file() or trace.stat().st_size == 0:
        return None
    stamp = dt.datetime.fromtimestamp(trace.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
    kept = folder / f"{KEPT_PREFIX}{stamp}.txt"
    trace.replace(kept)
    return kept


def enable_fault_trace(folder: Path) -> IO[str]:
    """Start faulthandler into folder/TRACE_FILE (emptied); keep the returned file open while the app runs."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / TRACE_FILE, "w", encoding="utf-8")  # noqa: SIM115 - must stay open for faulthandler
    faulthandler.enable(file=handle, all_threads=True)
    return handle


def fault_summary(path: Path, *, lines: int = 6) -> str:
    """The first lines of a trace: what the abort was and where."""
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return "\n".join(text[:lines])


def fault_message(path: Path) -> str:
    """What the next start tells the user about the abort."""
    return (f"StutterScope stopped unexpectedly last time. What it was doing:\n\n{fault_summary(path)}\n\n"
            f"The full trace is in {path}. An unsaved review is offered again as a draft.")


def start_fault_trace(folder: Path) -> tuple[IO[str], Path | None]:
    """Report the last run's abort (if any) to the log, then start tracing this run."""
    earlier = previous_fault(folder)
    if earlier is not None:
        log.error("the previous run aborted; its trace is %s:\n%s", earlier, fault_summary(earlier, lines=20))
    return enable_fault_trace(folder), earlier
