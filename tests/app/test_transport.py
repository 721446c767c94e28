"""The transport bar: time readout, slower playback that keeps the pitch, looping an event."""

from __future__ import annotations

import pytest
from test_main_window import ScriptedDialogs, analyse, make_window


@pytest.fixture()
def ready(qtbot, app_settings, speech_wav, monkeypatch):
    window = make_window(qtbot, app_settings, ScriptedDialogs())
    analyse(qtbot, window, speech_wav)
    monkeypatch.setattr(window.player, "_output_check", lambda: True)  # no sound card here: play anyway
    review = window.state.review
    for label in review.labels:
        review.set_threshold(label, 0.4)
    window.state.select(window.state.rows[0].key)
    return window


def test_the_time_readout_follows_the_playhead(ready):
    bar = ready.transport
    ready.state.set_playhead(2.54)
    duration = ready.state.duration
    assert bar.time.text() == f"0:02.5 / 0:{duration:04.1f}"
    assert bar.event_button.isEnabled() and bar.play_button.isEnabled()


def test_slower_playback_keeps_the_pitch(ready):
    from PySide6.QtMultimedia import QMediaPlayer

    bar = ready.transport
    bar.speed.setCurrentIndex(bar.speed.findData(0.5))
    assert ready.player.rate == 0.5
    assert ready.player.play_event(ready.state.selected_key)
    backend = ready.player._player
    assert backend.playbackRate() == pytest.approx(0.5)
    # Qt 6.10+ can stretch time without changing the pitch; FFmpeg (the default backend) can.
    assert backend.pitchCompensationAvailability() != QMediaPlayer.PitchCompensationAvailability.Unavailable
    assert backend.pitchCompensation()
    with pytest.raises(ValueError, match="not offered"):
        ready.player.set_rate(0.3)
    ready.player.stop()


def test_a_looped_event_starts_over_until_paused(ready):
    row = ready.state.selected_row()
    ready.transport.loop.setChecked(True)
    assert ready.player.play_event(row.key)
    start, end = ready.player._range
    ready.player._position(int((end + 0.01) * 1000))  # the playhead passes the event's end
    assert ready.player.loops == 1 and ready.state.playhead == pytest.approx(start)
    ready.transport.loop.setChecked(False)
    ready.player._position(int((end + 0.01) * 1000))
    assert ready.player.loops == 1 and ready.player._stop_at is None  # paused at the end this time
    ready.player.stop()
