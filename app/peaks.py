"""The waveform's envelope: min and max per 10 ms, read in blocks so that a 1-hour file stays small.

No Qt. A 1-hour recording gives 360,000 buckets (2.9 MB), which pyqtgraph draws with its own
peak downsampling; the 57.6 M samples themselves are never held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.audio.decode import SAMPLE_RATE, audio_info, iter_audio

BUCKETS_PER_SECOND = 100
BUCKET_SAMPLES = SAMPLE_RATE // BUCKETS_PER_SECOND  # 160 samples = 10 ms


@dataclass(frozen=True)
class Envelope:
    mins: np.ndarray  # (buckets,) float32
    maxs: np.ndarray  # (buckets,) float32
    duration: float  # seconds

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.mins), dtype=np.float64) / BUCKETS_PER_SECOND

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """x, y of one line zig-zagging min -> max per bucket: drawn, it fills the envelope."""
        x = np.repeat(self.times, 2)  # (2 * buckets,)
        y = np.empty(2 * len(self.mins), np.float32)
        y[0::2], y[1::2] = self.mins, self.maxs
        return x, y


def compute_envelope(path: str | Path, *, progress: Callable[[float], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> Envelope:
    """Decode the file in blocks; raises model.audio.decode.AudioDecodeError for files that are not audio."""
    from model.errors import Cancelled

    total = max(audio_info(path, cancel=cancel).duration, 1e-6)  # cancel reaches ffprobe and ffmpeg too
    mins, maxs = [], []
    carry = np.zeros(0, np.float32)
    done = 0
    for block in iter_audio(path, block_seconds=30.0, cancel=cancel):
        if cancel is not None and cancel():
            raise Cancelled("envelope cancelled")
        block = np.concatenate([carry, block])
        usable = len(block) - len(block) % BUCKET_SAMPLES
        carry = block[usable:]
        frames = block[:usable].reshape(-1, BUCKET_SAMPLES)  # (buckets, 160)
        mins.append(frames.min(axis=1))
        maxs.append(frames.max(axis=1))
        done += usable
        if progress is not None:
            progress(min(1.0, done / SAMPLE_RATE / total))
    if len(carry):
        mins.append(carry.min(keepdims=True))
        maxs.append(carry.max(keepdims=True))
    done += len(carry)
    lo = np.concatenate(mins) if mins else np.zeros(1, np.float32)
    hi = np.concatenate(maxs) if maxs else np.zeros(1, np.float32)
    return Envelope(lo.astype(np.float32), hi.astype(np.float32), done / SAMPLE_RATE)
