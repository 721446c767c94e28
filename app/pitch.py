"""Pitch (F0) of a stretch of a file for the spectrogram view, as Praat's editor shows it.

No Qt. The tracker itself (Boersma's autocorrelation and cheapest path, Praat's defaults) is
model.audio.pitch, re-exported here. Praat analyses only the visible part of a recording in its
editor, and only up to 10 s of it ("longest analysis"); the spectrogram view does the same
(`pitch_of_range`), so the cost is per view, never per recording. benchmarks/pitch.py compares it with
Praat's own (praat-parselmouth) on tones of known F0 and on speech (benchmarks/results/spectrogram.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.audio.pitch import PitchOptions, PitchTrack, pitch_track

__all__ = ["MAX_VIEW_SECONDS", "PitchOptions", "PitchTrack", "pitch_of_range", "pitch_track"]

MAX_VIEW_SECONDS = 10.0  # Praat's "longest analysis": longer views show no pitch
_PRAAT = PitchOptions()  # Praat's defaults (a frozen dataclass, so one shared default is safe)


def pitch_of_range(path: str | Path, start: float, end: float, *,
                   options: PitchOptions = _PRAAT) -> PitchTrack:
    """F0 of the recording between start and end seconds (frames centred inside it), read from the file.

    The samples are read half a window beyond each end, so the first and last frames are whole; before
    0 s and past the file's end is silence. WAV, FLAC, OGG and MP3 are read from `start` on; other formats
    are decoded from the beginning (app.event_audio), which takes longer the later the view.
    """
    from .event_audio import event_samples

    half = options.window_seconds / 2
    lo, hi = max(start, 0.0), max(end, start, 0.0)
    read_from = max(lo - half, 0.0)
    samples, rate = event_samples(path, read_from, hi + half)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    before = round((read_from - (lo - half)) * rate)  # silence before 0 s
    wanted = round((hi - lo + 2 * half) * rate)
    padded = np.zeros(max(wanted, before + len(mono)), np.float32)
    padded[before:before + len(mono)] = mono
    return pitch_track(padded, rate, start=lo - half, options=options)
