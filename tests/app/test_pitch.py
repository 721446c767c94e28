"""The pitch curve on the spectrogram (issue 26 item 4): F0 of generated tones within 2 %, none in silence; the
blue line drawn where the waveform draws the tone; no line but a hint in views over 10 s; the toggle persists."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from app.pitch import MAX_VIEW_SECONDS, pitch_of_range
from model.audio.decode import SAMPLE_RATE
from model.audio.pitch import PitchOptions, pitch_track

SILENCE, SOUND = 0.5, 1.0  # seconds: silence, the sound, silence
EDGE = 0.03  # frames whose 40 ms window straddles an edge are not scored
TONE_HZ, TONE_START, TONE_END = 150.0, 2.0, 2.5  # in the file the views open
FILE_SECONDS = 12.0  # longer than the longest view that shows pitch


def _harmonic(f_hz: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A voice-like tone: 7 harmonics falling 1/k, following the instantaneous F0 f_hz (one value a sample)."""
    phase = 2 * np.pi * np.cumsum(f_hz) / rate
    return (0.3 * sum(np.sin(k * phase) / k for k in range(1, 8))).astype(np.float32)


def _between_silences(sound: np.ndarray) -> np.ndarray:
    silence = np.zeros(int(SILENCE * SAMPLE_RATE), np.float32)
    return np.concatenate([silence, sound, silence])


def _scored(track, true_f0) -> None:
    t, f0 = track.times, track.f0_hz
    inside = (t > SILENCE + EDGE) & (t < SILENCE + SOUND - EDGE)
    silent = (t < SILENCE - EDGE) | (t > SILENCE + SOUND + EDGE)
    voiced = inside & ~np.isnan(f0)
    assert voiced.sum() >= 0.95 * inside.sum()  # the tone is voiced
    assert np.all(np.abs(f0[voiced] / true_f0(t[voiced]) - 1) < 0.02)  # within 2 % where voiced
    assert silent.sum() > 80 and np.all(np.isnan(f0[silent]))  # unvoiced in the silences


def test_a_150_hz_tone_between_silences():
    t = np.arange(int(SOUND * SAMPLE_RATE)) / SAMPLE_RATE
    track = pitch_track(_between_silences(_harmonic(np.full_like(t, 150.0))), SAMPLE_RATE)
    assert track.hop == pytest.approx(0.01) and track.start == pytest.approx(0.02)  # the first whole 40 ms window
    _scored(track, lambda s: np.full_like(s, 150.0))


def test_a_120_to_240_hz_glide_between_silences():
    t = np.arange(int(SOUND * SAMPLE_RATE)) / SAMPLE_RATE
    track = pitch_track(_between_silences(_harmonic(120.0 * 2 ** (t / SOUND))), SAMPLE_RATE)
    _scored(track, lambda s: 120.0 * 2 ** ((s - SILENCE) / SOUND))


def test_the_range_pitch_options_refuse_an_empty_range():
    with pytest.raises(ValueError, match="floor < ceiling"):
        PitchOptions(floor_hz=300.0, ceiling_hz=200.0)


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory):
    """12 s of silence with a 150 Hz voice-like tone from exactly 2.0 to 2.5 s, at 44.1 kHz stereo (resampled,
    mixed down, read from the middle of the file, as a clinician's recording would be)."""
    rate = 44_100
    audio = np.zeros((int(FILE_SECONDS * rate), 2), np.float32)
    n = int((TONE_END - TONE_START) * rate)
    tone = _harmonic(np.full(n, TONE_HZ), rate)
    audio[int(TONE_START * rate):int(TONE_START * rate) + n] = tone[:, None]
    path = tmp_path_factory.mktemp("pitch") / "tone.wav"
    sf.write(path, audio, rate, subtype="PCM_16")
    return path


def test_a_range_of_a_file_is_timed_in_the_recording(tone_wav):
    track = pitch_of_range(tone_wav, 1.5, 3.0)
    assert track.times[0] == pytest.approx(1.5) and track.times[-1] == pytest.approx(3.0)
    voiced = track.times[~np.isnan(track.f0_hz)]
    assert abs(voiced[0] - TONE_START) <= 0.03 and abs(voiced[-1] - TONE_END) <= 0.03  # onset and offset
    assert np.nanmax(np.abs(track.f0_hz / TONE_HZ - 1)) < 0.02
    assert pitch_of_range(tone_wav, 0.0, 0.5).times[0] == 0.0  # before 0 s is silence, not an error


def _views(qtbot, path):
    from test_spectrogram import _analysis_plots

    page, _state, waveform, spectrogram = _analysis_plots(qtbot, path)
    return page, waveform, spectrogram  # the page owns the plots: it must outlive the test


def test_the_blue_line_is_drawn_where_the_waveform_draws_the_tone(qtbot, tone_wav):
    from PySide6.QtCore import QPointF

    from app.qt.widgets.spectrogram_view import _pitch_y
    from app.qt.workers import Job

    _page, waveform, spectrogram = _views(qtbot, tone_wav)
    waveform.setXRange(1.5, 3.0, padding=0)
    qtbot.waitUntil(spectrogram.pitch_drawn, timeout=10_000)
    assert not spectrogram.pitch_hint.isVisible() and all(label.isVisible() for label in spectrogram.pitch_labels)
    xs, ys = spectrogram.pitch_curve.getData()
    voiced = ~np.isnan(ys)
    assert abs(xs[voiced][0] - TONE_START) <= 0.03 and abs(xs[voiced][-1] - TONE_END) <= 0.03
    assert np.allclose(ys[voiced], _pitch_y(np.array([TONE_HZ])), rtol=0.02)
    onset = spectrogram.pitch_curve.mapToScene(QPointF(xs[voiced][0], ys[voiced][0])).x()
    two_s = waveform.getPlotItem().vb.mapViewToScene(QPointF(TONE_START, 0.0)).x()
    px_per_s = waveform.getPlotItem().vb.width() / 1.5
    global_x = [plot.mapToGlobal(plot.mapFromScene(QPointF(x, 0.0))).x()
                for plot, x in ((spectrogram, onset), (waveform, two_s))]
    assert abs(global_x[0] - global_x[1]) <= 0.03 * px_per_s + 1  # the same time on screen, within 3 frames
    for lo in (0.0, 6.0, 0.5):  # scrolled past the cached range and back: a job each, none kept after
        waveform.setXRange(lo, lo + 1.5, padding=0)
        qtbot.waitUntil(lambda lo=lo: spectrogram.pitch_job is None and spectrogram.pitch_range[0] <= lo, timeout=10_000)
    qtbot.waitUntil(lambda: not [j for j in spectrogram.findChildren(Job) if j.name == "pitch"], timeout=5_000)


def test_a_long_view_draws_no_pitch_and_says_how_to_get_it(qtbot, tone_wav):
    from app.qt.widgets.spectrogram_view import PITCH_HINT

    _page, waveform, spectrogram = _views(qtbot, tone_wav)
    waveform.setXRange(0.0, FILE_SECONDS, padding=0)
    qtbot.wait(100)  # the view's redraw timer
    assert FILE_SECONDS > MAX_VIEW_SECONDS and not spectrogram.pitch_drawn()
    assert spectrogram.pitch_job is None  # nothing computed for it
    assert spectrogram.pitch_hint.isVisible() and "10 s" in PITCH_HINT
    spectrogram.set_pitch_shown(False)
    assert not spectrogram.pitch_hint.isVisible()  # pitch off: no hint either


def test_the_pitch_toggle_persists(qtbot, tmp_path):
    from test_main_window import ScriptedDialogs

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings, load_settings, open_store

    store = open_store(tmp_path / "settings.ini")
    win = MainWindow(AppSettings(device="cpu"), store=store, dialogs=ScriptedDialogs())
    qtbot.addWidget(win)
    assert win.pitch_action.isChecked() and win.page.spectrogram.pitch_shown  # on at first, as in Praat
    win.pitch_action.trigger()
    assert not win.page.spectrogram.pitch_shown and not load_settings(open_store(tmp_path / "settings.ini")).show_pitch
    again = MainWindow(load_settings(open_store(tmp_path / "settings.ini")), dialogs=ScriptedDialogs())
    qtbot.addWidget(again)
    assert not again.pitch_action.isChecked() and not again.page.spectrogram.pitch_shown  # as left
