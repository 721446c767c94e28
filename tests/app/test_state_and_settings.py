"""State objects without widgets, settings persistence, playback without a device, logging, launch."""

from __future__ import annotations

import logging

import pytest
from review_fixtures import THRESHOLDS, fake_predictions

from app.qt.settings import AppSettings, load_settings, open_store, save_settings
from app.qt.state import AnalysisState


def test_state_signals_and_selection(qtbot):
    state = AnalysisState()
    state.set_recording("fake.wav")
    with qtbot.waitSignals([state.analysis_changed, state.events_changed]):
        review = state.set_predictions(fake_predictions(), THRESHOLDS)
    keys = [r.key for r in state.rows]
    assert state.select_step(1).key == keys[0] and state.select_step(1).key == keys[1]
    assert state.select_step(-1).key == keys[0] and state.select_step(-1).key == keys[0]
    with qtbot.waitSignal(state.thresholds_changed):
        review.set_threshold("Block", 0.95)  # the selected Block event disappears ...
    assert state.selected_key == ""  # ... and with it the selection
    with qtbot.waitSignal(state.events_changed):
        review.add("WordRep", 1.0, 2.0)
    assert state.current_analysis.review is review
    state.set_playhead(1e9)
    assert state.playhead == pytest.approx(fake_predictions().duration)


def test_settings_round_trip(tmp_path):
    store = open_store(tmp_path / "settings.ini")
    settings = AppSettings(model_path="/m.safetensors", device="cpu", hop_seconds=0.5, input_device="mic1")
    save_settings(store, settings)
    assert load_settings(open_store(tmp_path / "settings.ini")) == settings
    store.setValue("hop_seconds", "99")  # a hand-edited bad value falls back to the defaults
    assert load_settings(store) == AppSettings()
    with pytest.raises(ValueError, match="device"):
        AppSettings(device="tpu")


def test_playback_without_output_device_says_so(qtbot):
    from app.qt.player import NO_OUTPUT, Player

    state = AnalysisState()
    state.set_recording("fake.wav")
    player = Player(state, output_check=lambda: False)
    with qtbot.waitSignal(player.message) as blocker:
        assert player.play_range(0.0) is False
    assert blocker.args == [NO_OUTPUT]


def test_play_event_with_context(qtbot, speech_wav):
    from app.qt.player import Player

    state = AnalysisState()
    state.set_recording(speech_wav)
    state.set_predictions(fake_predictions(path=str(speech_wav)), THRESHOLDS)
    played = []
    player = Player(state, output_check=lambda: True)
    player.play_range = lambda start, end=None: played.append((start, end)) or True
    row = state.rows[0]
    assert player.play_event(row.key)
    assert played == [(row.start - 0.5, row.end + 0.5)]


def test_rotating_log_and_crash_hook(tmp_path, monkeypatch):
    import sys

    from app.qt.logging_setup import current_log_file, install_excepthook, setup_logging
    from app.qt.widgets.crash_dialog import crash_text

    path = setup_logging(tmp_path / "logs")
    assert setup_logging(tmp_path / "logs") == path == current_log_file()
    shown = []
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthook(lambda summary, log_path: shown.append((summary, log_path)))
    try:
        raise KeyError("boom")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert shown == [("KeyError: 'boom'", path)]
    for h in logging.getLogger().handlers:
        h.flush()
    assert "boom" in path.read_text()
    assert str(path) in crash_text("KeyError", path)
    for h in list(logging.getLogger().handlers):
        if getattr(h, "baseFilename", None) == str(path):
            logging.getLogger().removeHandler(h)
            h.close()


def test_launch_without_display_runs_headless(frame_bundle_path, capsys, monkeypatch):
    from app.qt import launch

    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(launch.sys, "platform", "linux")
    assert not launch.has_display()
    assert launch.main(["--model", str(frame_bundle_path), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "No display found" in out and "stuttering-like disfluencies" in out and "duration" in out


def test_launch_missing_model_is_a_message(capsys, tmp_path):
    from app.qt import launch

    assert launch.main(["--headless", "--model", str(tmp_path / "none.safetensors")]) == 2
    assert "no such model file" in capsys.readouterr().err


def test_gui_subcommand_is_registered():
    from app.cli import build_parser

    args = build_parser().parse_args(["gui", "--model", "m.safetensors", "--hop", "0.5"])
    assert args.command == "gui" and args.model == "m.safetensors" and args.hop == 0.5
