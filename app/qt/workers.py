"""Slow work off the GUI thread: a job runs a function in a thread, reports progress, can be cancelled.

The function is called as `fn(progress=..., cancel=...)`: it reports 0..1 through `progress` and
polls `cancel()` between steps, raising model.errors.Cancelled when it returns True (the
Predictor and compute_envelope do exactly that). The job's signals are queued to the GUI thread,
so the slots connected to them run there, never in the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from model.errors import Cancelled

log = logging.getLogger(__name__)

_PROGRESS_STEP = 0.005  # fewer progress signals than this are invisible; more only load the event loop


class Job(QObject):
    progress = Signal(float)  # 0..1
    succeeded = Signal(object)  # the function's result
    failed = Signal(str)  # a message for the user; details are in the log
    cancelled = Signal()
    done = Signal()  # after any of the three above

    def __init__(self, fn: Callable, *, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._fn = fn
        self._cancel = threading.Event()
        self._last_progress = -1.0
        self._thread = threading.Thread(target=self._run, name=f"job-{name}", daemon=True)

    def start(self) -> Job:
        log.info("job %s: started", self.name)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def is_running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _report(self, fraction: float) -> None:
        if fraction >= 1.0 or fraction - self._last_progress >= _PROGRESS_STEP:
            self._last_progress = fraction
            self.progress.emit(float(fraction))

    def _run(self) -> None:
        try:
            result = self._fn(progress=self._report, cancel=self._cancel.is_set)
        except Cancelled:
            log.info("job %s: cancelled", self.name)
            self.cancelled.emit()
        except (ValueError, OSError) as e:  # bad input or an unreadable file: the message says which
            log.warning("job %s failed: %s", self.name, e)
            self.failed.emit(str(e))
        except RuntimeError as e:  # torch and other outside failures
            log.exception("job %s failed", self.name)
            self.failed.emit(f"{e}")
        except Exception as e:  # the thread's boundary: anything else must reach the user, not vanish
            log.exception("job %s: unexpected error", self.name)
            self.failed.emit(f"unexpected error ({type(e).__name__}: {e}); the log has the details")
        else:
            log.info("job %s: done", self.name)
            self.succeeded.emit(result)
        self.done.emit()


def collect_garbage_on_gui_thread(interval_s: float = 1.0):
    """Turn Python's automatic cycle collection off and collect on the GUI thread from a timer instead.

    Why: a job's thread that allocates (building the encoder, decoding audio) can start a collection, and
    when that frees a Qt object with a Python override, its C++ destructor takes a Qt lock and then waits
    for the GIL, while the GUI thread holds the GIL and waits for that lock: the app freezes. The test
    suite hung this way (a job's collection freed a closed window's QMenu while the GUI thread painted).
    pyqtgraph's GarbageCollector is the known cure; keep the returned object for as long as the app runs.
    """
    from pyqtgraph.util.garbage_collector import GarbageCollector

    return GarbageCollector(interval=interval_s)
