"""The streamed WAV writer and the recovery of an interrupted recording."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from app.wavstream import (
    PcmFormat,
    WavStreamWriter,
    discard,
    find_unfinished,
    marker_path,
    peak_level,
    recover,
)


def _pcm(seconds: float, rate: int = 16_000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 220 * t) * 12_000).astype("<i2").tobytes()


def test_writer_streams_and_finishes(tmp_path):
    clock = iter(np.arange(0, 100, 0.3))
    writer = WavStreamWriter(tmp_path / "r.wav", clock=lambda: next(clock))
    data = _pcm(2.0)
    for i in range(0, len(data), 3201):  # odd sizes: frames are never split on disk
        writer.write(data[i:i + 3201])
    assert marker_path(writer.path).exists()
    # Before close the file on disk already holds the audio flushed so far (at most 1 s behind).
    assert writer.path.stat().st_size >= 44 + len(data) - 16_000 * 2
    writer.close()
    assert not marker_path(writer.path).exists()
    audio, rate = sf.read(writer.path, dtype="int16")
    assert rate == 16_000 and audio.tobytes() == data


def test_interrupted_recording_is_recovered(tmp_path):
    writer = WavStreamWriter(tmp_path / "crash.wav", PcmFormat(sample_rate=22_050))
    writer.write(_pcm(1.5, 22_050) + b"\x01")  # the process "dies" here: no close()
    writer._file.flush()
    assert find_unfinished(tmp_path) == [writer.path]
    recover(writer.path)
    info = sf.info(writer.path)
    assert info.samplerate == 22_050 and info.frames == int(1.5 * 22_050)
    assert find_unfinished(tmp_path) == []


def test_discard_and_orphan_markers(tmp_path):
    writer = WavStreamWriter(tmp_path / "a.wav")
    discard(writer.path)
    assert find_unfinished(tmp_path) == [] and not writer.path.exists()
    marker_path(tmp_path / "gone.wav").write_text("{}")
    assert find_unfinished(tmp_path) == [] and not marker_path(tmp_path / "gone.wav").exists()


def test_peak_level():
    assert peak_level(_pcm(0.1)) > 0.3
    assert peak_level(b"") == 0.0
