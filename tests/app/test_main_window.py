"""The window, offscreen: open a generated recording, analyse, and check what is shown against the model."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QTimer

from app.qt.main_window import MainWindow
from app.qt.widgets.events_table import KEY_ROLE
from model.pipeline.analysis import analyse_predictions


class ScriptedDialogs:
    """Answers questions from a script and records every message: no modal dialog ever opens."""

    def __init__(self, answers=(), files=()):
        self.messages: list[tuple[str, str]] = []
        self.questions: list[str] = []
        self.answers = list(answers)
        self.files = list(files)

    def message(self, level, text):
        self.messages.append((level, text))

    def ask(self, text):
        self.questions.append(text)
        return self.answers.pop(0) if self.answers else False

    def open_recording(self, folder):
        return self.files.pop(0) if self.files else None

    open_model = open_recording

    def save_path(self, title, suggested, file_filter):
        return self.files.pop(0) if self.files else None


@pytest.fixture()
def dialogs():
    return ScriptedDialogs()


def make_window(qtbot, settings, dialogs, *, size=(1200, 800)) -> MainWindow:
    win = MainWindow(settings, dialogs=dialogs)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    return win


@pytest.fixture()
def window(qtbot, app_settings, dialogs):
    return make_window(qtbot, app_settings, dialogs)


def analyse(qtbot, window, path, timeout=60_000):
    window.open_file(path)
    qtbot.waitUntil(lambda: window.state.review is not None and not window.state.busy, timeout=timeout)


def test_analysis_matches_the_model(qtbot, window, speech_wav, predictions, tiny_bundle):
    analyse(qtbot, window, speech_wav)
    preds = window.current_analysis.predictions
    assert preds.probs == pytest.approx(predictions.probs, abs=1e-4)
    # Lower thresholds so that the random tiny model yields events of several types.
    review = window.state.review
    for label in review.labels:
        review.set_threshold(label, 0.45)
    analysis = analyse_predictions(preds, review.thresholds)  # the one path, outside the window
    expected = analysis.moments
    assert expected, "the tiny model should give some moments at 0.45"
    model = window.page.table.model()
    shown = [(model.index(i, 0).data(), float(model.index(i, 1).data()), float(model.index(i, 2).data()))
             for i in range(model.rowCount())]
    assert shown == [(m.types[0], pytest.approx(m.start, abs=0.01), pytest.approx(m.end, abs=0.01)) for m in expected]
    spans = window.page.waveform.spans
    assert [spans.region(r.key) for r in window.state.rows] == [(m.start, m.end) for m in expected]
    summary = analysis.summary
    assert window.page.summary.text("sld").split(" ")[0] == str(summary.sld_count)
    assert window.page.summary.text("interjection").split(" ")[0] == str(summary.interjection_count)
    assert f"{preds.duration:.1f} s" in window.page.summary.text("duration")
    assert window.page.waveform.curve.xData is not None


def test_table_and_waveform_selection_follow_each_other(qtbot, window, speech_wav):
    analyse(qtbot, window, speech_wav)
    review = window.state.review
    for label in review.labels:
        review.set_threshold(label, 0.4)
    rows = window.state.rows
    assert len(rows) >= 2
    table = window.page.table
    table.selectRow(1)
    assert window.state.selected_key == rows[1].key
    lo, hi = window.page.waveform.visible_range()
    assert lo <= rows[1].start and rows[1].end <= hi
    window.state.select(rows[0].key)  # as a click on a span does
    assert table.currentIndex().row() == 0 and table.currentIndex().data(KEY_ROLE) == rows[0].key
    window.next_action.trigger()
    assert window.state.selected_key == rows[1].key and window.state.playhead == pytest.approx(rows[1].start)


def test_review_actions_with_undo_and_sensitivity(qtbot, window, speech_wav):
    analyse(qtbot, window, speech_wav)
    review = window.state.review
    for label in review.labels:
        review.set_threshold(label, 0.4)
    first = window.state.rows[0]
    window.state.select(first.key)
    window.reject_action.trigger()
    assert window.state.selected_row().status == "rejected"
    assert window.undo_action.isEnabled()
    window.retype_actions[4].trigger()
    assert window.state.selected_row().status in ("retyped", "accepted")
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert window.state.selected_row().status == "unreviewed"
    window.redo_action.trigger()
    assert window.state.selected_row().status == "rejected"
    slider = window.page.sensitivity.sliders["Block"]
    slider.setValue(1)  # threshold 0.99: the moments are decoded again without Block, no model run needed
    assert review.thresholds["Block"] == 0.99
    # Undecided Block moments vanish; a decided one stays (the slider never overrides the clinician). (The
    # count may grow: a higher moment onset cuts a long moment into shorter ones.)
    assert not any(r.label == "Block" and not r.reviewed for r in window.state.rows)
    assert window.state.selected_row().status == "rejected" and window.controller.job is None
    window.undo_action.trigger()  # the slider move is a step on the undo stack
    assert review.thresholds["Block"] == 0.4


def test_event_loop_keeps_turning_during_analysis(qtbot, window, speech_wav, tmp_path):
    import numpy as np
    import soundfile as sf

    # Long enough that the analysis lasts a while even on a fast machine with the model already loaded.
    audio, rate = sf.read(speech_wav, dtype="float32")
    long_wav = tmp_path / "long.wav"
    sf.write(long_wav, np.tile(audio, int(np.ceil(240 * rate / len(audio)))), rate)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        if window.state.busy:  # while the model runs; putting its moments on screen after is test_repaint's
            gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    analyse(qtbot, window, long_wav)
    timer.stop()
    assert len(gaps) >= 20
    # Two shared cores and the GIL: generous, but a model run on the GUI thread would block for seconds.
    assert max(gaps[1:]) < 0.5, f"the GUI thread stalled for {max(gaps):.2f} s"


def test_cancel_stops_the_analysis(qtbot, window, speech_wav):
    window.open_file(speech_wav, analyse=False)
    qtbot.waitUntil(lambda: window.state.envelope is not None and not window.state.busy, timeout=30_000)
    job = window.controller.analyse()
    window.cancel_action.trigger()
    assert job.wait(30)
    assert window.state.review is None and not window.state.busy


def test_bad_file_gives_a_message(qtbot, window, dialogs, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF this is not audio at all" * 10)
    window.open_file(bad)
    # The message is shown from the job's error signal; the busy flag clears right after it.
    qtbot.waitUntil(lambda: bool(dialogs.messages) and not window.state.busy, timeout=30_000)
    level, text = dialogs.messages[-1]
    assert level == "error" and "broken.wav" in text
    assert window.page.banner.text().startswith("Not opened.") and "broken.wav" in window.page.banner.text()
    assert not window.state.busy and window.state.review is None


def test_missing_model_asks_for_one(qtbot, app_settings, dialogs, speech_wav, frame_bundle_path, tmp_path):
    from dataclasses import replace

    settings = replace(app_settings, model_path=str(tmp_path / "gone.safetensors"))
    dialogs.answers = [True]
    dialogs.files = [frame_bundle_path]
    win = MainWindow(settings, dialogs=dialogs)
    qtbot.addWidget(win)
    assert "does not exist" in win.page.banner.text()
    analyse(qtbot, win, speech_wav)
    assert "gone.safetensors" in dialogs.questions[0]
    assert win.settings.model_path == str(frame_bundle_path)


def test_a_window_head_model_file_is_a_message_in_the_window_and_the_batch_page(qtbot, app_settings, dialogs,
                                                                                 speech_wav, format1_bundle_path):
    from dataclasses import replace

    from app.qt.views.batch_page import BatchPage

    win = make_window(qtbot, replace(app_settings, model_path=str(format1_bundle_path)), dialogs)
    win.open_file(speech_wav)
    qtbot.waitUntil(lambda: bool(dialogs.messages) and not win.state.busy, timeout=30_000)
    level, text = dialogs.messages[-1]
    assert level == "error" and "old-window.safetensors" in text and "format 1" in text
    assert "stutterscope export" in text and "Traceback" not in text and win.state.review is None
    page = win.findChild(BatchPage)
    job = page.start(speech_wav.parent)
    qtbot.waitUntil(lambda: not job.is_running() and page.start_button.isEnabled(), timeout=30_000)
    level, text = dialogs.messages[-1]
    assert level == "error" and "old-window.safetensors" in text and "stutterscope export" in text


def test_exports_from_the_window(qtbot, window, speech_wav, tmp_path):
    from app.exports import read_audacity_labels

    analyse(qtbot, window, speech_wav)
    out = window.export("audacity", tmp_path / "labels.txt")
    assert len(read_audacity_labels(out.read_text())) == len([r for r in window.state.rows if r.kept])


def test_pages_can_be_added(window):
    from PySide6.QtWidgets import QLabel

    index = window.add_page("Patients", QLabel("patients"))
    assert window.tabs.tabText(index) == "Patients" and window.current_analysis is None


def test_about_action_opens_a_box(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr("app.qt.main_window.QMessageBox.about", lambda parent, title, text: shown.append(text))
    window.about_action.trigger()
    from model import __version__

    assert shown and f"StutterScope {__version__}" in shown[0]


def _drag_events(paths):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    drop = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    return mime, enter, drop


def test_dropping_a_recording_opens_and_analyses_it(qtbot, window, speech_wav, tmp_path):
    from PySide6.QtWidgets import QApplication

    notes = tmp_path / "notes.txt"
    notes.write_text("not a recording")
    _mime, enter, drop = _drag_events([notes])
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted(), "a text file must not be accepted as a drop"

    _mime, enter, drop = _drag_events([notes, speech_wav])  # the first audio file among several is taken
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: window.state.review is not None and not window.state.busy, timeout=60_000)
    assert window.current_analysis.predictions.duration > 0
    assert window.settings.last_folder == str(speech_wav.parent)


def with_speech(preds, seconds: float):
    """The predictions as if the voice-activity check had measured `seconds` of speech in the recording."""
    from dataclasses import replace

    return replace(preds, frames=replace(preds.frames, speech_seconds=seconds))


def test_a_recording_with_too_little_speech_shows_counts_but_no_rates(qtbot, window, tmp_path):
    from review_fixtures import THRESHOLDS, fake_predictions

    window.state.set_recording(tmp_path / "short.wav")
    # As the voice-activity check measures a 0.3 s file (model.audio.speech_activity), with events as if found in it.
    window.state.set_predictions(with_speech(fake_predictions(), 0.3), THRESHOLDS)
    summary = window.page.summary
    assert not summary.fields["short"].isHidden()
    assert summary.text("short").startswith("Too little speech: 0.3 s of speech") and "1 s" in summary.text("short")
    assert "per minute" not in summary.text("sld") and "/min" not in summary.text("per_type")
    assert summary.text("sld") == "1 event" and summary.text("sld_share") == "-"
    window.state.set_predictions(with_speech(fake_predictions(), 12.0), THRESHOLDS)
    assert summary.fields["short"].isHidden() and "per minute" in summary.text("sld")


def test_enough_speech_shows_rates(qtbot, window, speech_wav):
    analyse(qtbot, window, speech_wav)
    assert window.state.predictions.speech_seconds >= 1.0  # the espeak sample, as the model measures it
    assert "per minute" in window.page.summary.text("sld") and window.page.summary.fields["short"].isHidden()


@pytest.mark.parametrize("size", [(1024, 640), (1280, 720), (1920, 1080)])
def test_the_layout_holds_from_the_minimum_size_up(qtbot, app_settings, dialogs, speech_wav, size):
    import pyqtgraph as pg
    from review_fixtures import THRESHOLDS
    from test_soak import busy_predictions

    from app.qt.main_window import MIN_WINDOW

    win = make_window(qtbot, app_settings, dialogs, size=size)
    win.open_file(speech_wav, analyse=False)
    qtbot.waitUntil(lambda: win.state.envelope is not None and not win.state.busy, timeout=30_000)
    win.state.set_predictions(busy_predictions(speech_wav, 60.0), THRESHOLDS)  # every type, overlapping
    qtbot.wait(50)
    assert (win.minimumSize().width(), win.minimumSize().height()) == MIN_WINDOW
    page = win.page
    assert page.waveform.height() >= 120 and page.timeline.height() >= 90 and page.table.height() >= 100
    assert page.side.viewport().height() >= 100 and page.summary.fields["per_type"].height() > 0
    # The legend is a row of labels above the plots, not an item painted over the waveform.
    assert not [i for i in page.waveform.scene().items() if isinstance(i, pg.LegendItem)]
    assert page.legend.isVisible() and list(page.legend.entries) == list(win.state.review.labels)
    # Overlapping moments named by different types lie in lanes of their own.
    spans = page.waveform.spans
    lanes = {spans.lane(r.label) for r in win.state.rows}
    assert len(lanes) == len({r.label for r in win.state.rows}) >= 3
    for row in win.state.rows[:10]:
        assert spans.span_of(row.key) == spans.lane(row.label)


def test_a_dragged_edge_snaps_to_20_ms_frames_and_is_undoable(qtbot, window):
    from review_fixtures import THRESHOLDS, fake_predictions

    window.state.set_recording("fake.wav")
    window.state.set_predictions(fake_predictions(), THRESHOLDS)
    block = window.state.rows[0]  # Block 2-6 s
    spans = window.page.waveform.spans
    assert spans.editor is None or spans.editor.key != block.key  # only the selected span can be dragged
    window.state.select(block.key)
    item = spans.editor
    assert item.key == block.key and item.movable
    item.setRegion((2.513, 5.287))  # nearest frames: 2.52 (126 x 20 ms) and 5.28 (264 x 20 ms)
    item.sigRegionChangeFinished.emit(item)  # what pyqtgraph emits when the mouse lets go of an edge
    qtbot.waitUntil(lambda: window.state.selected_row() is not None
                    and window.state.selected_row().status == "adjusted", timeout=2000)
    row = window.state.selected_row()
    assert (row.start, row.end) == (2.52, 5.28) and row.key == block.key
    assert spans.region(block.key) == (2.52, 5.28)
    window.undo_action.trigger()
    assert window.state.review.row(block.key).status == "unreviewed"


def test_focus_shows_on_plots_table_and_sliders(qtbot, window, speech_wav):
    from app.qt.main_window import FOCUS_STYLE, PLOT_FOCUS_STYLE

    analyse(qtbot, window, speech_wav)
    page = window.page
    window.activateWindow()
    for widget in (page.waveform, page.table, page.sensitivity.sliders["Block"]):
        page.banner.setFocus()
        qtbot.wait(10)
        before = widget.grab().toImage()
        widget.setFocus()
        qtbot.waitUntil(widget.hasFocus, timeout=2000)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        qtbot.wait(10)
        assert widget.grab().toImage() != before, f"{widget.objectName()} looks the same with the focus"
    assert ":focus" in FOCUS_STYLE and ":focus" in PLOT_FOCUS_STYLE


def test_sliders_move_with_the_keyboard_and_each_move_can_be_undone(qtbot, window):
    from PySide6.QtCore import Qt
    from review_fixtures import THRESHOLDS, fake_predictions

    window.state.set_recording("fake.wav")
    window.state.set_predictions(fake_predictions(), THRESHOLDS)
    slider = window.page.sensitivity.sliders["Block"]
    window.activateWindow()
    slider.setFocus()
    qtbot.waitUntil(slider.hasFocus, timeout=2000)
    lo, hi = window.page.waveform.visible_range()
    qtbot.keyClick(slider, Qt.Key.Key_Right)  # the window's Right (scroll) must not take it
    assert window.state.review.thresholds["Block"] == 0.49
    assert window.page.waveform.visible_range() == (lo, hi)
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert window.state.review.thresholds["Block"] < 0.49
    window.undo_action.trigger()  # one step: the whole run of moves of this slider
    assert window.state.review.thresholds["Block"] == 0.5 and slider.value() == 50


def test_an_edge_dragged_with_the_mouse_moves_the_event(qtbot, window):
    from mouse import drag
    from PySide6.QtCore import QPointF
    from review_fixtures import THRESHOLDS, fake_predictions

    window.state.set_recording("fake.wav")
    window.state.set_predictions(fake_predictions(), THRESHOLDS)
    waveform = window.page.waveform
    waveform.fit()
    block = window.state.rows[0]  # Block 2-6 s
    window.state.select(block.key)
    waveform.fit()
    qtbot.wait(20)
    vb = waveform.getPlotItem().vb
    lo, hi = waveform.spans.lane("Block")
    y0, y1 = vb.viewRange()[1]
    y = y0 + (lo + hi) / 2 * (y1 - y0)  # inside the Block lane
    p0 = waveform.mapFromScene(vb.mapViewToScene(QPointF(6.0, y)))
    p1 = waveform.mapFromScene(vb.mapViewToScene(QPointF(6.7, y)))
    drag(qtbot, waveform.viewport(), p0, p1)
    qtbot.waitUntil(lambda: window.state.review.row(block.key).status == "adjusted", timeout=2000)
    row = window.state.review.row(block.key)
    assert row.start == 2.0 and abs(row.end - 6.7) < 0.1
    assert round(row.end / 0.02, 6) == round(row.end / 0.02)  # on a 20 ms frame


def test_notes_typed_just_before_quitting_are_saved(qtbot, app_settings, speech_wav):
    """Issue 23: the clinician's fields are written before the records close with the window."""
    from app.records.db import open_database
    from app.records.sessions import SessionDraft, get_session

    win = make_window(qtbot, app_settings, ScriptedDialogs(answers=[True]))
    patient = win.records.add_patient(code="P-23")
    session = win.records.add_session(SessionDraft(
        patient_id=patient.id, date="2024-03-01", task="reading", recording=str(speech_wav), duration=12.0,
        model_id="f" * 64, recording_mode="link"), stored=True)
    db_path = win.records.db.path
    win.tabs.setCurrentWidget(win.patients_page)
    win.patients_page.course.select_session(session.id)
    fields = win.patients_page.course.fields
    qtbot.keyClicks(fields.notes, "fluent at home")
    fields.severity.setValue(3)
    win.close()  # well inside the 500 ms pause: only the close can have written them
    assert not win.isVisible()
    with open_database(db_path) as db:
        stored = get_session(db, session.id)
    assert (stored.notes, stored.severity) == ("fluent at home", 3)
