"""The spectrogram under the waveform (issue 26 item 4): a 1 kHz tone from 2.0 to 2.5 s found where it is,
drawn where the waveform draws 2.0 s, with the playhead on it; the toggle persists; a cancel leaves no image."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from app.spectrogram import BIN_HZ, STFT_HOP_SECONDS, compute_spectrogram, to_db
from model.audio.decode import SAMPLE_RATE

TONE_HZ, TONE_START, TONE_END = 1000.0, 2.0, 2.5


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory):
    """4 s of silence with a 1 kHz tone from exactly 2.0 to 2.5 s."""
    audio = np.zeros(4 * SAMPLE_RATE, np.float32)
    t = np.arange(int((TONE_END - TONE_START) * SAMPLE_RATE)) / SAMPLE_RATE
    audio[int(TONE_START * SAMPLE_RATE):int(TONE_END * SAMPLE_RATE)] = 0.5 * np.sin(2 * np.pi * TONE_HZ * t)
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    return path


def _tone_frames(db: np.ndarray, row: int) -> np.ndarray:
    """Frames within 20 dB of the tone's peak in its row."""
    return np.nonzero(db[row] > db[row].max() - 20)[0]


def test_the_tone_is_at_1_khz_from_2_0_to_2_5_s(tone_wav):
    spec = compute_spectrogram(tone_wav)
    db = to_db(spec.levels[0])
    row, frame = np.unravel_index(db.argmax(), db.shape)
    assert abs(row * BIN_HZ - TONE_HZ) <= BIN_HZ  # within one bin
    on = _tone_frames(db, row)
    assert abs(on[0] * STFT_HOP_SECONDS - TONE_START) <= STFT_HOP_SECONDS  # onset within one hop
    assert abs(on[-1] * STFT_HOP_SECONDS - TONE_END) <= STFT_HOP_SECONDS  # offset within one hop
    assert spec.frames == 401 and spec.duration == pytest.approx(4.0)  # a frame centred on every 10 ms, ends included
    assert spec.intensity_db[100] < -90 and abs(spec.intensity_db[220] + 6.0) < 0.5  # silence; a half-scale sine


def test_a_coarse_level_keeps_the_tone_and_a_wide_view_stays_small(tone_wav, tmp_path):
    """Zoomed out, a column pools 4^k frames by their max, so a short sound stays visible; the whole view is
    drawn from as few columns as the screen has, not one per 10 ms."""
    long = tmp_path / "long.wav"
    audio = np.zeros(60 * SAMPLE_RATE, np.float32)
    audio[30 * SAMPLE_RATE:30 * SAMPLE_RATE + 800] = 0.5 * np.sin(2 * np.pi * TONE_HZ * np.arange(800) / SAMPLE_RATE)
    sf.write(long, audio, SAMPLE_RATE, subtype="PCM_16")  # a 50 ms beep in a minute of silence
    spec = compute_spectrogram(long)
    columns, x0, step = spec.view(0.0, 60.0, 200)
    assert columns.shape[1] <= 2 * 200 + 2 and step > STFT_HOP_SECONDS
    row = round(TONE_HZ / BIN_HZ)
    loud = np.nonzero(to_db(columns[row]) > -20)[0]
    assert len(loud) >= 1 and all(abs(x0 + (c + 0.5) * step - 30.0) <= step for c in loud)


def _global_x(plot, scene_x: float) -> float:
    """A scene x of a plot on the screen, so two plots' x can be compared."""
    from PySide6.QtCore import QPointF

    return plot.mapToGlobal(plot.mapFromScene(QPointF(scene_x, 0.0))).x()


def _analysis_plots(qtbot, tone_wav):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from app.peaks import compute_envelope
    from app.qt.state import AnalysisState
    from app.qt.widgets.spectrogram_view import SpectrogramView
    from app.qt.widgets.waveform import WaveformView

    state = AnalysisState()
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    waveform = WaveformView(state)
    spectrogram = SpectrogramView(state, waveform)
    layout.addWidget(waveform)
    layout.addWidget(spectrogram)
    page.resize(900, 500)
    page.show()
    state.set_recording(tone_wav)
    state.set_envelope(compute_envelope(tone_wav))
    with qtbot.waitSignal(spectrogram.computed, timeout=10_000):
        spectrogram.set_shown(True)
    return page, state, waveform, spectrogram  # the page owns the plots: it must outlive the test


def test_the_tone_is_drawn_where_the_waveform_draws_2_s_and_the_playhead_lines_up(qtbot, tone_wav):
    from PySide6.QtCore import QPointF

    _page, state, waveform, spectrogram = _analysis_plots(qtbot, tone_wav)
    waveform.setXRange(1.5, 3.0, padding=0)  # zoomed in: a 10 ms column is about 5 px wide
    qtbot.wait(100)  # the view's own redraw (a timer) and the plots' new transforms, as on screen
    assert spectrogram.drawn_level_step == STFT_HOP_SECONDS
    assert spectrogram.getPlotItem().vb.viewRange()[0] == pytest.approx([1.5, 3.0])  # the same plot width
    image = spectrogram.image.image  # (bins, columns) as drawn
    row = round(TONE_HZ / BIN_HZ)
    first = _tone_frames(to_db(image), row)[0]
    onset_scene = spectrogram.image.mapToScene(QPointF(first + 0.5, 0.0)).x()  # the centre of the onset column
    wave_vb = waveform.getPlotItem().vb
    two_s = wave_vb.mapViewToScene(QPointF(TONE_START, 0.0)).x()
    px_per_s = wave_vb.width() / 1.5
    assert abs(_global_x(spectrogram, onset_scene) - _global_x(waveform, two_s)) <= STFT_HOP_SECONDS * px_per_s + 1
    state.set_playhead(TONE_START)
    spec_line = spectrogram.playhead.mapToScene(QPointF(0.0, 0.0)).x()
    wave_line = waveform.playhead.mapToScene(QPointF(0.0, 0.0)).x()
    assert spectrogram.playhead.value() == TONE_START
    assert abs(_global_x(spectrogram, spec_line) - _global_x(waveform, wave_line)) <= 1


def test_the_view_menu_toggle_shows_hides_and_persists(qtbot, tmp_path):
    from test_main_window import ScriptedDialogs

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings, load_settings, open_store

    store = open_store(tmp_path / "settings.ini")
    win = MainWindow(AppSettings(device="cpu"), store=store, dialogs=ScriptedDialogs())
    qtbot.addWidget(win)
    win.show()
    assert not win.page.spectrogram.isVisible() and not win.spectrogram_action.isChecked()  # off at first
    win.spectrogram_action.trigger()
    assert win.page.spectrogram.isVisible() and load_settings(open_store(tmp_path / "settings.ini")).show_spectrogram
    again = MainWindow(load_settings(open_store(tmp_path / "settings.ini")), dialogs=ScriptedDialogs())
    qtbot.addWidget(again)
    again.show()
    assert again.page.spectrogram.isVisible() and again.spectrogram_action.isChecked()  # as left
    win.spectrogram_action.trigger()
    assert not win.page.spectrogram.isVisible()
    assert not load_settings(open_store(tmp_path / "settings.ini")).show_spectrogram


def test_a_cancelled_spectrogram_leaves_no_image(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from app.peaks import compute_envelope
    from app.qt.state import AnalysisState
    from app.qt.widgets.spectrogram_view import SpectrogramView
    from app.qt.widgets.waveform import WaveformView

    path = tmp_path / "noise.wav"
    sf.write(path, np.random.default_rng(0).normal(0, 0.1, 90 * SAMPLE_RATE).astype(np.float32), SAMPLE_RATE)
    state = AnalysisState()
    waveform = WaveformView(state)
    spectrogram = SpectrogramView(state, waveform)
    qtbot.addWidget(waveform)
    qtbot.addWidget(spectrogram)
    state.set_recording(path)
    state.set_envelope(compute_envelope(path))
    spectrogram.set_shown(True)
    job = spectrogram.job
    assert job is not None and job.is_running()
    spectrogram.set_shown(False)  # hiding it cancels the computation
    assert job.wait(10.0)
    QApplication.processEvents()  # whatever the job sent (cancelled, or a result that came too late) arrives
    assert spectrogram.spectrogram is None and spectrogram.image.image is None


@pytest.mark.parametrize("text, shown", [("true", True), ("false", False), ("maybe", False)])
def test_the_toggle_is_read_back_from_the_settings_file_as_written(tmp_path, text, shown):
    """An INI file read afresh gives text: "false" must read as off (bool("false") is True); a bad value is
    the default, off."""
    from app.qt.settings import load_settings, open_store

    path = tmp_path / "settings.ini"
    path.write_text(f"[General]\nshow_spectrogram={text}\n")
    assert load_settings(open_store(path)).show_spectrogram is shown
