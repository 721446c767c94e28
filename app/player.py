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
NO_OUTPUT = ("No audio output device was found, so playback is not available. "
             "Connect speakers or headphones and restart StutterScope; everything else works without them.")


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
        self.playing = False
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
        player.setPosition(int(max(0.0, start) * 1000))
        player.play()
        return True

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
            self._stop_at = None
            self.pause()

    def _state_changed(self, playback_state) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = playback_state == QMediaPlayer.PlaybackState.PlayingState
        if playing != self.playing:
            self.playing = playing
            self.playing_changed.emit(playing)
