"""Recording from a microphone into a WAV that is on disk as it is made (app.wavstream).

The audio source is a small interface so that the tests can feed a fake one: `start(on_data)`
delivers PCM bytes in the source's `format`, `stop()` ends it, and `error` says why it failed.
QtMicrophoneSource is the real one (Qt Multimedia QAudioSource); ArrayAudioSource plays back
samples from memory on a timer, as a microphone would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from model.audio.decode import SAMPLE_RATE

from ..wavstream import DEFAULT_FORMAT, PcmFormat, WavStreamWriter, new_recording_path, peak_level

log = logging.getLogger(__name__)

NO_MICROPHONE = ("No microphone was found. Connect one (or allow StutterScope to use it in the system's "
                 "privacy settings) and try again; opening recorded files works without one.")
NO_PERMISSION = ("StutterScope may not use the microphone. Allow it in the system's privacy settings "
                 "and try again; opening recorded files works without it.")


@dataclass(frozen=True)
class Microphone:
    id: str  # Qt's device id, as text
    name: str


class AudioSource(Protocol):
    format: PcmFormat

    def start(self, on_data: Callable[[bytes], None], on_error: Callable[[str], None]) -> None: ...

    def stop(self) -> None: ...


def microphones() -> list[Microphone]:
    from PySide6.QtMultimedia import QMediaDevices

    return [Microphone(bytes(d.id().data()).decode(errors="replace"), d.description())
            for d in QMediaDevices.audioInputs()]


def microphone_permission_denied() -> bool:
    """True only where the platform asks for permission (macOS) and the user said no."""
    from PySide6.QtCore import QCoreApplication, Qt

    try:
        from PySide6.QtCore import QMicrophonePermission
    except ImportError:  # Qt before 6.5 has no permission API
        return False
    app = QCoreApplication.instance()
    if app is None:
        return False
    return app.checkPermission(QMicrophonePermission()) == Qt.PermissionStatus.Denied


class QtMicrophoneSource(QObject):
    """A microphone through Qt Multimedia, asked for 16 kHz mono 16-bit (Qt converts)."""

    def __init__(self, device_id: str = "", parent: QObject | None = None):
        super().__init__(parent)
        from PySide6.QtMultimedia import QAudioFormat, QAudioSource, QMediaDevices

        devices = QMediaDevices.audioInputs()
        if not devices:
            raise ValueError(NO_MICROPHONE)
        device = next((d for d in devices if bytes(d.id().data()).decode(errors="replace") == device_id),
                      QMediaDevices.defaultAudioInput())
        fmt = QAudioFormat()
        fmt.setSampleRate(SAMPLE_RATE)
        fmt.setChannelCount(1)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            fmt = device.preferredFormat()
            fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self.format = PcmFormat(fmt.sampleRate(), fmt.channelCount(), 2)
        self.name = device.description()
        self._source = QAudioSource(device, fmt, self)
        self._io = None

    def start(self, on_data, on_error) -> None:
        from PySide6.QtMultimedia import QtAudio

        self._io = self._source.start()
        if self._io is None or self._source.error() != QtAudio.Error.NoError:
            on_error(f"the microphone {self.name!r} could not be opened ({self._source.error().name})")
            return
        self._io.readyRead.connect(lambda: on_data(bytes(self._io.readAll().data())))

    def poll(self) -> str | None:
        """Why the microphone stopped, or None (the Recorder asks twice a second).

        Polled rather than connected to stateChanged: PySide cannot convert QAudio::State arguments.
        """
        from PySide6.QtMultimedia import QtAudio

        if self._source.error() not in (QtAudio.Error.NoError, QtAudio.Error.UnderrunError):
            return f"the microphone stopped ({self._source.error().name})"
        return None

    def stop(self) -> None:
        self._source.stop()


class ArrayAudioSource(QObject):
    """Samples from memory delivered in real-time-sized chunks on a timer: a stand-in microphone."""

    def __init__(self, samples: np.ndarray, fmt: PcmFormat = DEFAULT_FORMAT, *, chunk_ms: int = 100,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.format = fmt
        self.name = "test signal"
        pcm = np.clip(np.asarray(samples, np.float32) * 32767, -32768, 32767).astype("<i2")
        self._data = pcm.tobytes()
        self._chunk = int(fmt.sample_rate * chunk_ms / 1000) * fmt.frame_bytes
        self._pos = 0
        self._timer = QTimer(self)
        self._timer.setInterval(chunk_ms)
        self._timer.timeout.connect(self._tick)
        self._on_data: Callable[[bytes], None] | None = None

    def start(self, on_data, on_error) -> None:
        self._on_data = on_data
        self._timer.start()

    def _tick(self) -> None:
        if self._pos >= len(self._data):
            self._timer.stop()
            return
        chunk = self._data[self._pos:self._pos + self._chunk]
        self._pos += len(chunk)
        if self._on_data is not None:
            self._on_data(chunk)

    @property
    def exhausted(self) -> bool:
        return self._pos >= len(self._data)

    def stop(self) -> None:
        self._timer.stop()


class Recorder(QObject):
    """Streams a source into a new WAV in `folder`; a level and the elapsed time for the meter."""

    level = Signal(float)  # 0..1, peak of the latest block
    elapsed = Signal(float)  # seconds recorded
    failed = Signal(str)
    finished = Signal(str)  # the path of the finished recording

    def __init__(self, folder: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.writer: WavStreamWriter | None = None
        self.source: AudioSource | None = None
        self._flush = QTimer(self)
        self._flush.setInterval(500)  # fsyncs on the writer's own 1 s clock even if no data comes
        self._flush.timeout.connect(self._poll)
        self._started = 0.0

    @property
    def recording(self) -> bool:
        return self.writer is not None

    def start(self, source: AudioSource) -> Path:
        if self.writer is not None:
            raise ValueError("a recording is already running; stop it first")
        self.source = source
        self.writer = WavStreamWriter(new_recording_path(self.folder), source.format)
        self._started = time.monotonic()
        source.start(self._data, self._error)
        self._flush.start()
        log.info("recording to %s from %s", self.writer.path, getattr(source, "name", "a source"))
        return self.writer.path

    def _poll(self) -> None:
        if self.writer is None:
            return
        self.writer.write(b"")
        poll = getattr(self.source, "poll", None)
        problem = poll() if poll is not None else None
        if problem:
            self._error(problem)

    def _data(self, data: bytes) -> None:
        if self.writer is None:
            return
        self.writer.write(data)
        self.level.emit(peak_level(data, self.writer.format))
        self.elapsed.emit(self.writer.seconds)

    def _error(self, text: str) -> None:
        log.warning("recording: %s", text)
        path = self.stop()
        self.failed.emit(f"Recording stopped: {text}." + (f" What was recorded is kept in {path}." if path else ""))

    def stop(self) -> Path | None:
        if self.writer is None:
            return None
        self._flush.stop()
        if self.source is not None:
            self.source.stop()
        path = self.writer.close()
        seconds = self.writer.seconds
        self.writer, self.source = None, None
        if seconds <= 0:
            path.unlink(missing_ok=True)
            return None
        self.finished.emit(str(path))
        return path
