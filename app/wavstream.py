"""A WAV file written as the microphone delivers it, so that a crash loses at most the last second.

No Qt. The standard `wave` module writes the file: it rewrites the header's sizes after every block, and
the file is flushed to disk at least every second. A sidecar marker (`<name>.wav.recording`) exists
while a recording is open: one left behind means the app stopped mid-recording, and `recover()`
rewrites the file from the audio bytes on disk (the header's sizes may lag the last block).
"""

from __future__ import annotations

import json
import logging
import os
import time
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from model.audio.decode import SAMPLE_RATE
from model.jsonable import dumps

log = logging.getLogger(__name__)

HEADER_BYTES = 44  # what `wave` writes for PCM: RIFF + fmt (16 bytes of PCM format) + data chunk header
_RECOVER_BLOCK = 1 << 20  # bytes copied at a time while recovering (a 1-hour recording is 115 MB)
MARKER_SUFFIX = ".recording"
FLUSH_SECONDS = 1.0  # the most a crash may lose


@dataclass(frozen=True)
class PcmFormat:
    sample_rate: int = SAMPLE_RATE  # Hz; what the model wants, so nothing needs resampling later
    channels: int = 1
    sample_width: int = 2  # bytes per sample: 16-bit signed PCM

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.sample_width

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.frame_bytes


DEFAULT_FORMAT = PcmFormat()


def _wave_writer(file, fmt: PcmFormat) -> wave.Wave_write:
    w = wave.open(file, "wb")  # noqa: SIM115 - closed by the caller, with the file it wraps
    w.setnchannels(fmt.channels)
    w.setsampwidth(fmt.sample_width)
    w.setframerate(fmt.sample_rate)
    return w


def marker_path(wav: Path) -> Path:
    return wav.with_name(wav.name + MARKER_SUFFIX)


def new_recording_path(folder: Path, *, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = folder / f"recording-{stamp}.wav"
    n = 1
    while path.exists() or marker_path(path).exists():
        path = folder / f"recording-{stamp}-{n}.wav"
        n += 1
    return path


class WavStreamWriter:
    """Append PCM bytes to a WAV on disk; `close()` fixes the header and removes the marker."""

    def __init__(self, path: str | Path, fmt: PcmFormat = DEFAULT_FORMAT, *, clock=time.monotonic):
        self.path = Path(path)
        self.format = fmt
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        marker = {"format": [fmt.sample_rate, fmt.channels, fmt.sample_width],
                  "started": datetime.now().isoformat(timespec="seconds")}
        marker_path(self.path).write_text(dumps(marker))  # the format may come from numpy (a device's rate)
        self._file = open(self.path, "wb")  # noqa: SIM115 - held open for the whole recording
        self._wav = _wave_writer(self._file, fmt)
        self._wav.writeframes(b"")  # the header, sizes 0 until the first block
        self._data_bytes = 0
        self._pending = b""  # an odd byte count never splits a frame on disk
        self._last_flush = clock()
        self._sync()

    @property
    def seconds(self) -> float:
        return self._data_bytes / self.format.bytes_per_second

    @property
    def closed(self) -> bool:
        return self._file.closed

    def write(self, data: bytes) -> None:
        data = self._pending + bytes(data)
        usable = len(data) - len(data) % self.format.frame_bytes
        self._pending = data[usable:]
        self._wav.writeframes(data[:usable])  # appends, then rewrites the header's sizes
        self._data_bytes += usable
        if self._clock() - self._last_flush >= FLUSH_SECONDS:
            self._sync()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_flush = self._clock()

    def close(self) -> Path:
        if self._file.closed:
            return self.path
        self._wav.close()  # sizes final; the file it wraps stays open for the sync
        self._sync()
        self._file.close()
        marker_path(self.path).unlink(missing_ok=True)
        log.info("recording saved: %s (%.1f s)", self.path, self.seconds)
        return self.path


def find_unfinished(folder: str | Path) -> list[Path]:
    """Recordings whose marker is still there: the app stopped before it could close them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for marker in sorted(folder.glob(f"*.wav{MARKER_SUFFIX}")):
        wav = marker.with_name(marker.name[: -len(MARKER_SUFFIX)])
        if wav.is_file():
            found.append(wav)
        else:  # the app stopped before the first byte was written: nothing to recover
            marker.unlink(missing_ok=True)
    return found


def recover(path: str | Path) -> Path:
    """Repair an unfinished recording's header from its size; returns the playable file."""
    path = Path(path)
    marker = marker_path(path)
    fmt = PcmFormat()
    if marker.is_file():
        try:
            rate, channels, width = json.loads(marker.read_text())["format"]
            fmt = PcmFormat(int(rate), int(channels), int(width))
        except (ValueError, KeyError, TypeError) as e:
            log.warning("%s: unreadable marker (%s); assuming %s", marker, e, fmt)
    size = path.stat().st_size
    if size < HEADER_BYTES:
        raise ValueError(f"{path}: the recording holds no audio ({size} bytes); delete it")
    data_bytes = size - HEADER_BYTES
    data_bytes -= data_bytes % fmt.frame_bytes  # a frame cut by the crash is dropped
    fixed = path.with_name(path.name + ".recovering")
    # The audio bytes are copied behind a fresh header into a new file, which then replaces the old:
    # until os.replace the unfinished recording is untouched.
    with open(path, "rb") as src, open(fixed, "wb") as dst:
        src.seek(HEADER_BYTES)
        w = _wave_writer(dst, fmt)
        left = data_bytes
        while left:
            block = src.read(min(_RECOVER_BLOCK, left))
            w.writeframesraw(block)
            left -= len(block)
        w.close()
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(fixed, path)
    marker.unlink(missing_ok=True)
    log.info("recovered %s: %.1f s", path, data_bytes / fmt.bytes_per_second)
    return path


def discard(path: str | Path) -> None:
    """Delete an unfinished recording the user does not want back."""
    path = Path(path)
    path.unlink(missing_ok=True)
    marker_path(path).unlink(missing_ok=True)


def peak_level(data: bytes, fmt: PcmFormat = DEFAULT_FORMAT) -> float:
    """Peak of a block of 16-bit PCM, 0..1, for the level meter."""
    if fmt.sample_width != 2 or len(data) < 2:
        return 0.0
    samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2")
    return float(np.abs(samples.astype(np.int32)).max()) / 32768.0 if samples.size else 0.0
