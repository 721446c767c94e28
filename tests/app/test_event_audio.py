"""Exporting an event's audio: the right samples, at the recording's own rate and channels."""

from __future__ import annotations

import stat

import numpy as np
import pytest
import soundfile as sf
from test_main_window import ScriptedDialogs, make_window

from app.event_audio import write_event_audio


@pytest.fixture()
def stereo(tmp_path):
    rate = 22_050
    t = np.arange(3 * rate) / rate
    audio = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 660 * t)], axis=1)
    path = tmp_path / "visit.wav"
    sf.write(path, audio.astype(np.float32), rate)
    return path, audio, rate


def test_the_event_is_cut_at_the_recordings_rate(stereo, tmp_path):
    path, audio, rate = stereo
    out = write_event_audio(path, 1.0, 1.5, tmp_path / "event.wav")
    samples, out_rate = sf.read(out, dtype="float32")
    assert out_rate == rate and samples.shape == (rate // 2, 2)
    assert samples == pytest.approx(audio[rate:rate + rate // 2], abs=1e-4)  # 16-bit PCM
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # a patient's voice: owner-only, as the README says
    with pytest.raises(ValueError, match="past the end"):
        write_event_audio(path, 5.0, 6.0, tmp_path / "late.wav")
    with pytest.raises(ValueError, match=".wav"):
        write_event_audio(path, 1.0, 1.5, tmp_path / "event.mp3")


def test_the_window_exports_the_selected_event(qtbot, app_settings, stereo, tmp_path):
    from review_fixtures import THRESHOLDS, fake_predictions

    path, _audio, rate = stereo
    dialogs = ScriptedDialogs(files=[tmp_path / "chosen.wav"])
    win = make_window(qtbot, app_settings, dialogs)
    win.state.set_recording(path)
    win.state.set_predictions(fake_predictions(path=str(path)), THRESHOLDS)
    assert not win.event_audio_action.isEnabled()
    row = win.state.rows[0]  # Block 2-6 s, past the 3 s recording's end after 3 s
    win.state.select(row.key)
    assert win.event_audio_action.isEnabled()
    win.event_audio_action.trigger()
    samples, out_rate = sf.read(tmp_path / "chosen.wav")
    assert out_rate == rate and len(samples) == rate  # 2-3 s: what the recording has of the event
