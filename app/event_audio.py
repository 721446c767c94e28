"""An event's audio as a WAV file of its own: to play to a colleague, a parent, or keep with the notes.

No Qt. The samples are cut from the recording at its own rate and channels when soundfile reads the
format (WAV, FLAC, OGG, MP3); other formats (m4a, ...) go through model.audio.decode's decoder (16 kHz mono).
Written atomically and owner-only (0600) as 16-bit PCM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from model.audio.decode import SAMPLE_RATE, load_audio
from model.fileio import atomic_path


def event_samples(recording: str | Path, start: float, end: float) -> tuple[np.ndarray, int]:
    """(samples, rate) of recording between start and end seconds; samples (n,) or (n, channels)."""
    if not end > start >= 0:
        raise ValueError(f"an event needs 0 <= start < end, got {start}-{end} s")
    try:
        with sf.SoundFile(str(recording)) as f:
            rate = f.samplerate
            f.seek(min(int(round(start * rate)), f.frames))
            return f.read(int(round((end - start) * rate)), dtype="float32"), rate
    except sf.LibsndfileError:  # a format soundfile cannot read: the app's own decoder
        audio = load_audio(recording, max_seconds=end)
        return audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)], SAMPLE_RATE


def write_event_audio(recording: str | Path, start: float, end: float, out: str | Path) -> Path:
    """Write the event's samples to `out` (a .wav); returns the path."""
    out = Path(out)
    if out.suffix.lower() != ".wav":
        raise ValueError(f"{out}: event audio is written as WAV; give a file name ending in .wav")
    samples, rate = event_samples(recording, start, end)
    if not len(samples):
        raise ValueError(f"{start:.2f}-{end:.2f} s lies past the end of {Path(recording).name}")
    with atomic_path(out, private=True) as tmp:  # a patient's voice: owner-only, as every export
        sf.write(str(tmp), samples, rate, subtype="PCM_16", format="WAV")
    return out


def suggested_name(recording: str | Path, label: str, start: float) -> str:
    """e.g. "visit-Block-12.34s.wav"."""
    return f"{Path(recording).stem}-{label}-{start:.2f}s.wav"
