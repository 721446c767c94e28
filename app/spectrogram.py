"""The spectrogram under the waveform: log magnitude per 10 ms, 0-8 kHz, computed in blocks and kept as uint8.

No Qt. The audio is streamed (model.audio.decode.iter_audio) and transformed 30 s at a time, so a 1-hour
recording never exists as one STFT: its 360,000 frames x 256 bins are written into one preallocated
uint8 array (92 MB, 0.4 dB a step), and coarser levels of detail (each the max of 4 columns of the
one below, so a short burst stays visible when zoomed out) add a third more. A view picks the
coarsest level that still gives a column per screen pixel (`Spectrogram.view`), so drawing the
whole hour touches a few thousand columns, not 360,000.

Intensity (dB RMS per frame) comes with it at almost no cost: it is the sum of the power spectrum
(Parseval), which is already there. Pitch is not computed here: an autocorrelation F0 of the whole
recording costs as much as the spectrogram again or more (benchmarks/results/spectrogram.md), so app.pitch
computes it per view of 10 s or less, as Praat does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.audio.decode import SAMPLE_RATE, audio_info, iter_audio

STFT_WINDOW_SECONDS = 0.025
STFT_HOP_SECONDS = 0.010  # the envelope's bucket too (app.peaks): one column per envelope point
STFT_WINDOW_SAMPLES = round(STFT_WINDOW_SECONDS * SAMPLE_RATE)  # 400 samples
STFT_HOP_SAMPLES = round(STFT_HOP_SECONDS * SAMPLE_RATE)  # 160 samples
N_FFT = 512  # the next power of two above the window
BINS = N_FFT // 2  # 256 rows kept, 0 to 7,969 Hz (the Nyquist bin dropped: 8 kHz is the 16 kHz audio's edge)
BIN_HZ = SAMPLE_RATE / N_FFT  # 31.25 Hz
FLOOR_DB = -100.0  # dB relative to a full-scale sine; quieter is drawn as the floor
LEVEL_STEP = 4  # columns of one level pooled into one of the next
MIN_LEVEL_COLUMNS = 1000  # no level coarser than this: a screen is narrower
BLOCK_SECONDS = 30.0

_WINDOW = np.hanning(STFT_WINDOW_SAMPLES + 2)[1:-1].astype(np.float32)  # no zero ends: 400 useful samples
_FULL_SCALE = float(_WINDOW.sum()) / 2  # |X| of a full-scale sine at its bin, with this window


@dataclass(frozen=True)
class Spectrogram:
    """levels[k][bin, column]: uint8 dB steps; column j of level k covers frames j*4^k .. (j+1)*4^k - 1.

    Frame i is centred on i * STFT_HOP_SECONDS (the audio is padded by half a window at the start).
    """

    levels: tuple[np.ndarray, ...]  # each (BINS, columns) uint8, finest first
    intensity_db: np.ndarray  # (frames,) float16, dB RMS relative to full scale
    duration: float  # seconds

    @property
    def frames(self) -> int:
        return self.levels[0].shape[1]

    @property
    def nbytes(self) -> int:
        return sum(level.nbytes for level in self.levels) + self.intensity_db.nbytes

    def peak_db(self) -> float:
        """The loudest dB anywhere, from the coarsest level (it is the max of all the frames)."""
        return to_db(self.levels[-1].max(initial=0))

    def view(self, start: float, end: float, pixels: int) -> tuple[np.ndarray, float, float]:
        """The columns to draw for [start, end] seconds on `pixels` screen columns.

        Returns (image (BINS, columns) uint8, x0 seconds, seconds per column): the image's left edge is
        x0, so that each column sits over the frames it pools.
        """
        per_pixel = max(end - start, STFT_HOP_SECONDS) / max(pixels, 1)
        k = 0
        while k + 1 < len(self.levels) and STFT_HOP_SECONDS * LEVEL_STEP ** (k + 1) <= per_pixel:
            k += 1
        step = STFT_HOP_SECONDS * LEVEL_STEP ** k  # seconds per column of level k
        level = self.levels[k]
        first = max(int(np.floor(start / step)) - 1, 0)
        last = min(int(np.ceil(end / step)) + 1, level.shape[1])
        first = min(first, last)
        return level[:, first:last], (first * LEVEL_STEP ** k - 0.5) * STFT_HOP_SECONDS, step


def to_db(steps) -> float | np.ndarray:
    """uint8 steps back to dB."""
    return FLOOR_DB + np.asarray(steps, np.float32) * (-FLOOR_DB / 255.0)


def _quantise(db: np.ndarray) -> np.ndarray:
    return np.clip(np.rint((db - FLOOR_DB) * (255.0 / -FLOOR_DB)), 0, 255).astype(np.uint8)


def frame_spectra(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(BINS, frames) uint8 dB and (frames,) intensity dB of every whole window in `samples`, STFT_HOP_SAMPLES apart."""
    n = (len(samples) - STFT_WINDOW_SAMPLES) // STFT_HOP_SAMPLES + 1
    if n <= 0:
        return np.zeros((BINS, 0), np.uint8), np.zeros(0, np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(samples, STFT_WINDOW_SAMPLES)[::STFT_HOP_SAMPLES][:n]  # (n, 400)
    power = np.abs(np.fft.rfft(frames * _WINDOW, n=N_FFT, axis=1)[:, :BINS]) ** 2  # (n, 256)
    spectrum_db = 10 * np.log10(np.maximum(power, 1e-30) / _FULL_SCALE**2)
    mean_square = np.einsum("ij,ij->i", frames, frames) / STFT_WINDOW_SAMPLES
    intensity = 10 * np.log10(np.maximum(mean_square * 2, 1e-10))  # x2: a full-scale sine reads 0 dB
    return _quantise(spectrum_db).T, np.maximum(intensity, FLOOR_DB).astype(np.float32)


def _coarser(level: np.ndarray) -> np.ndarray:
    usable = level.shape[1] - level.shape[1] % LEVEL_STEP
    pooled = level[:, :usable].reshape(BINS, -1, LEVEL_STEP).max(axis=2)  # (BINS, columns // 4)
    if usable < level.shape[1]:
        pooled = np.concatenate([pooled, level[:, usable:].max(axis=1, keepdims=True)], axis=1)
    return pooled


def levels_of(finest: np.ndarray) -> tuple[np.ndarray, ...]:
    levels = [finest]
    while levels[-1].shape[1] > MIN_LEVEL_COLUMNS:
        levels.append(_coarser(levels[-1]))
    return tuple(levels)


class _Columns:
    """A growing (BINS, frames) array, preallocated for the duration the file claims."""

    def __init__(self, frames: int):
        self.data = np.zeros((BINS, max(frames, 1)), np.uint8)
        self.intensity = np.full(max(frames, 1), FLOOR_DB, np.float32)
        self.n = 0

    def add(self, spectra: np.ndarray, intensity: np.ndarray) -> None:
        end = self.n + spectra.shape[1]
        if end > self.data.shape[1]:  # the file was longer than it claimed: grow by a quarter
            grown = max(end, self.data.shape[1] * 5 // 4)
            self.data = np.concatenate([self.data, np.zeros((BINS, grown - self.data.shape[1]), np.uint8)], axis=1)
            self.intensity = np.concatenate([self.intensity, np.full(grown - len(self.intensity), FLOOR_DB, np.float32)])
        self.data[:, self.n:end] = spectra
        self.intensity[self.n:end] = intensity
        self.n = end


def compute_spectrogram(path: str | Path, *, progress: Callable[[float], None] | None = None,
                        cancel: Callable[[], bool] | None = None) -> Spectrogram:
    """Decode the file in blocks and return its spectrogram.

    progress: called with 0..1; cancel: polled between blocks (raises model.errors.Cancelled, and
    nothing is returned: a cancelled spectrogram is never half drawn). Raises
    model.audio.decode.AudioDecodeError for files that are not audio.
    """
    from model.errors import Cancelled

    total = max(audio_info(path, cancel=cancel).duration, 1e-6)
    columns = _Columns(int(total / STFT_HOP_SECONDS) + 2)
    carry = np.zeros(STFT_WINDOW_SAMPLES // 2, np.float32)  # half a window of silence: frame i is centred on i hops
    done = 0
    for block in iter_audio(path, block_seconds=BLOCK_SECONDS, cancel=cancel):
        if cancel is not None and cancel():
            raise Cancelled("spectrogram cancelled")
        samples = np.concatenate([carry, block])
        columns.add(*frame_spectra(samples))
        carry = samples[_consumed(len(samples)):]
        done += len(block)
        if progress is not None:
            progress(min(1.0, done / SAMPLE_RATE / total))
    tail = np.concatenate([carry, np.zeros(STFT_WINDOW_SAMPLES // 2, np.float32)])  # the last frames, half past the end
    frames_left = done // STFT_HOP_SAMPLES + 1 - columns.n  # frame centres from 0 to the last sample
    if frames_left > 0:
        spectra, intensity = frame_spectra(tail)
        columns.add(spectra[:, :frames_left], intensity[:frames_left])
    finest = columns.data[:, :columns.n]
    return Spectrogram(levels_of(finest), columns.intensity[:columns.n].astype(np.float16), done / SAMPLE_RATE)


def _consumed(n_samples: int) -> int:
    """Samples no later frame needs: every whole hop before the first frame not yet taken."""
    frames = (n_samples - STFT_WINDOW_SAMPLES) // STFT_HOP_SAMPLES + 1
    return max(frames, 0) * STFT_HOP_SAMPLES
