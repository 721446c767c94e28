"""Playback of the whole recording or of one event with a little context, moving the state's playhead.

Qt Multimedia (QMediaPlayer + QAudioOutput) plays the file itself, so nothing is decoded here.
Without an audio output device the player says so once, and the rest of the app works on.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QUrl, Signal

from .state import AnalysisState

log = logging.getLogger(__name__)

CONTEXT_SECONDS = 0.5  # heard before and after an event
RATES = (1.0, 0.75, 0.5)  # playback speeds offered; slower ones keep the pitch (QMediaPlayer pitch compensation)
NO_OUTPUT = ("No audio output device was found, so playback is not available. "
             "Connect speakers or headphones and play again; everything else works without them.")


def has_output_device() -> bool:
    from PySide6.QtMultimedia import QMediaDevices

    return bool(QMediaDevices.audioOutputs())


class Player(QObject):
    message = Signal(str)  # a problem for the user
    playing_changed = Signal(bool)

    def __init__(self, state: AnalysisState, parent: QObject | None = None, *, output_check=has_output_device):
        super().__init__(parent)
        self.state = state
        self._output_check = output_check
        self._player = None
        self._stop_at: float | None = None
        self._range: tuple[float, float | None] | None = None  # what the last play_range played
        self.playing = False
        self.rate = 1.0  # one of RATES
        self.loop = False  # play the event (or range) again and again until paused
        self.loops = 0  # times the range started over since the last play_range
        state.recording_changed.connect(self._load)

    def available(self) -> bool:
        if not self._output_check():
            self.message.emit(NO_OUTPUT)
            return False
        return True

    def _backend(self):
        if self._player is None:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self._player = QMediaPlayer(self)
            self._output = QAudioOutput(self)
            self._player.setAudioOutput(self._output)
            self._player.positionChanged.connect(self._position)
            self._player.playbackStateChanged.connect(self._state_changed)
            self._player.errorOccurred.connect(lambda _err, text: self.message.emit(f"Playback failed: {text}"))
            # A device plugged in while the app runs is used without a restart.
            from PySide6.QtMultimedia import QMediaDevices

            self._devices = QMediaDevices(self)
            self._devices.audioOutputsChanged.connect(
                lambda: self._output.setDevice(QMediaDevices.defaultAudioOutput()))
            if self.state.path is not None:
                self._player.setSource(QUrl.fromLocalFile(str(self.state.path)))
        return self._player

    def _load(self) -> None:
        self.stop()
        if self._player is not None and self.state.path is not None:
            self._player.setSource(QUrl.fromLocalFile(str(self.state.path)))

    def play_range(self, start: float, end: float | None = None) -> bool:
        """Play from start (seconds) to end, or to the end of the recording."""
        if self.state.path is None or not self.available():
            return False
        player = self._backend()
        self._stop_at = end
        self._range = (max(0.0, start), end)
        self.loops = 0
        self._apply_rate(player)
        player.setPosition(int(max(0.0, start) * 1000))
        player.play()
        return True

    def set_rate(self, rate: float) -> None:
        """Playback speed, one of RATES; slower keeps the pitch where the backend can (it can with FFmpeg)."""
        if rate not in RATES:
            raise ValueError(f"playback speed {rate} is not offered; use one of {RATES}")
        self.rate = float(rate)
        if self._player is not None:
            self._apply_rate(self._player)

    def pitch_kept(self) -> bool:
        """Does a slower speed keep the pitch on this backend?"""
        from PySide6.QtMultimedia import QMediaPlayer

        player = self._backend()
        return (hasattr(player, "pitchCompensationAvailability") and player.pitchCompensationAvailability()
                != QMediaPlayer.PitchCompensationAvailability.Unavailable)

    def _apply_rate(self, player) -> None:
        if self.rate != 1.0 and self.pitch_kept():
            player.setPitchCompensation(True)  # 0.5x sounds slower, not an octave lower
        player.setPlaybackRate(self.rate)

    def play_event(self, key: str) -> bool:
        row = next((r for r in self.state.rows if r.key == key), None)
        if row is None:
            return False
        return self.play_range(row.start - CONTEXT_SECONDS, row.end + CONTEXT_SECONDS)

    def toggle(self) -> bool:
        """Space: pause when playing, else play on from the playhead."""
        if self.playing:
            self.pause()
            return True
        return self.play_range(self.state.playhead)

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()

    def stop(self) -> None:
        self._stop_at = None
        if self._player is not None:
            self._player.stop()

    def _position(self, ms: int) -> None:
        seconds = ms / 1000.0
        self.state.set_playhead(seconds)
        if self._stop_at is not None and seconds >= self._stop_at:
            if self.loop and self._range is not None:
                self.loops += 1
                self.state.set_playhead(self._range[0])
                self._player.setPosition(int(self._range[0] * 1000))  # round again, without a gap
                return
            self._stop_at = None
            self.pause()

    def _state_changed(self, playback_state) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = playback_state == QMediaPlayer.PlaybackState.PlayingState
        if playing != self.playing:
            self.playing = playing
            self.playing_changed.emit(playing)
