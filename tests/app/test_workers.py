"""Jobs run on their own threads; Python's cycle collection stays on the GUI thread (app.qt.workers)."""

import gc
import threading

from app.qt.workers import Job, collect_garbage_on_gui_thread


class _Cycle:
    finalised_on: list[str] = []

    def __init__(self):
        self.me = self

    def __del__(self):
        _Cycle.finalised_on.append(threading.current_thread().name)


def test_garbage_made_before_a_busy_job_is_collected_on_the_gui_thread(qtbot):
    collector = collect_garbage_on_gui_thread(interval_s=0.05)
    try:
        assert not gc.isenabled()
        _Cycle.finalised_on.clear()
        for _ in range(2000):
            _Cycle()
        # Live containers, so that gen 0's count (allocations less frees, which other tests' widgets being
        # deleted now lower) is surely over its threshold at the timer's first look.
        kept = [[] for _ in range(5000)]

        def allocate(*, progress, cancel):  # enough allocations to start a collection, were gc on
            return sum(len([[i] for i in range(100)]) for _ in range(2000))

        job = Job(allocate, name="allocate")
        with qtbot.waitSignal(job.done, timeout=10_000):
            job.start()
        qtbot.waitUntil(lambda: len(_Cycle.finalised_on) == 2000, timeout=5_000)
        assert set(_Cycle.finalised_on) == {threading.main_thread().name}
        del kept
    finally:
        collector.timer.stop()
        gc.enable()
