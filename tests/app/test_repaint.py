"""Issue 23: a review decision repaints only what it changes (4 s per decision with 561 events before)."""

from __future__ import annotations

import statistics
import time

import pyqtgraph as pg
import pytest
from test_main_window import ScriptedDialogs

from benchmarks.review_repaint import decide, show_moments

MOMENTS = 1000
BOUND_SECONDS = 0.25  # generous: the benchmark measures far less; a loaded 2-core machine must not flake


@pytest.fixture(scope="module")
def busy_window(qapp, frame_bundle_path, tmp_path_factory):
    """One window with 1,000 moments for the module (building and freeing it takes seconds)."""
    from app.main_window import MainWindow
    from app.settings import AppSettings

    folder = tmp_path_factory.mktemp("repaint")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STUTTERSCOPE_DATA_DIR", str(folder / "data"))
        env.setenv("STUTTERSCOPE_LOG_DIR", str(folder / "log"))
        win = MainWindow(AppSettings(model_path=str(frame_bundle_path), device="cpu"), dialogs=ScriptedDialogs())
        win.resize(1500, 940)
        win.show()
        recording = folder / "moments.wav"
        recording.write_bytes(b"")  # only named: the analysis is put on directly
        show_moments(win, MOMENTS, recording)
        qapp.processEvents()
        yield win
        win.state.review = None  # nothing to ask about on closing
        win.close()
        win.deleteLater()
        qapp.processEvents()


def test_a_decision_touches_only_its_own_span_bar_and_table_row(busy_window):
    win = busy_window
    spans, timeline, table = win.page.waveform.spans, win.page.timeline, win.page.table.model()
    resets, changes = [], []
    table.modelReset.connect(lambda: resets.append(1))
    table.dataChanged.connect(lambda a, b: changes.append((a.row(), b.row())))
    for kind, i in (("reject", 0), ("accept", 1), ("retype", 2)):
        items, bars, touched = dict(spans.items), dict(timeline.bars), spans.touched
        row = win.state.rows[MOMENTS // 4 + i]
        decide(win, kind, i)
        after = win.state.rows[MOMENTS // 4 + i]
        assert [k for k in items if spans.items[k] is not items[k]] == [], "spans are restyled, never rebuilt"
        assert spans.touched - touched == (kind != "accept"), f"{kind}: its span restyled (accept looks the same)"
        assert spans.looks[row.key] == (after.label, after.start, after.end, after.kept)
        assert spans.items[row.key].span == spans.lane(after.label)
        replaced = {label for label in bars if timeline.bars.get(label) is not bars[label]}
        assert replaced == ({row.label} if kind == "reject" else {row.label, after.label} if kind == "retype"
                            else set()), "only the bars of the types the decision changed"
    assert resets == [] and changes == [(MOMENTS // 4 + i, MOMENTS // 4 + i) for i in range(3)]
    retyped = spans.items[after.key]  # the last decision moved it to another lane: its edges went along
    fresh = pg.LinearRegionItem((after.start, after.end), span=spans.lane(after.label))
    spans.plot.addItem(fresh)
    try:
        assert [line.boundingRect() for line in retyped.lines] == [line.boundingRect() for line in fresh.lines]
        assert retyped.boundingRect() == fresh.boundingRect()
    finally:
        spans.plot.removeItem(fresh)


def test_a_selection_restyles_two_spans(busy_window):
    win = busy_window
    spans, rows = win.page.waveform.spans, win.state.rows
    win.state.select(rows[10].key)
    touched = spans.touched
    win.state.select(rows[20].key)
    assert spans.touched - touched == 2 and spans.items[rows[20].key].movable
    assert not spans.items[rows[10].key].movable


def test_a_decision_with_1000_moments_is_quick(busy_window, qapp):
    win = busy_window
    times = []
    for i in range(100, 105):  # rows no other test decided
        t = time.perf_counter()
        decide(win, ("reject", "accept", "retype")[i % 3], i)
        qapp.processEvents()  # the widgets' repaint, as the screen shows it
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < BOUND_SECONDS, times
