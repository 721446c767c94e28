"""Recording conditions: background noise at a random SNR, room reverberation, output level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import next_fast_len
from scipy.signal import fftconvolve

from model.audio.decode import SAMPLE_RATE

NOISE_COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum slope: 1 / f**slope
_FRAME = SAMPLE_RATE // 100  # 160 samples: 10 ms frames for measuring speech level
_DRR_DB = (0.0, 12.0)  # direct-to-reverberant energy ratio range, dB


@dataclass(frozen=True)
class AcousticOptions:
    noise_prob: float = 0.7  # chance that a clip or session has background noise
    snr_db: tuple[float, float] = (15.0, 40.0)  # speech-to-noise ratio range, dB
    reverb_prob: float = 0.5  # chance that a clip or session is in a reverberant room
    rt60: tuple[float, float] = (0.1, 0.6)  # reverberation time range, seconds
    peak: tuple[float, float] = (0.3, 0.9)  # output peak level range (full scale = 1)


DRY = AcousticOptions(noise_prob=0.0, reverb_prob=0.0)  # no noise, no reverberation: for exact checks


@dataclass(frozen=True)
class Room:
    """One recording's conditions, drawn once per clip or session."""

    noise: str | None  # a NOISE_COLORS key, or None for no noise
    snr_db: float  # speech-to-noise ratio when noise is on
    ir: np.ndarray | None  # room impulse response (direct path first), or None for a dry room
    peak: float  # peak level the recording is scaled to


def draw_room(rng: np.random.Generator, options: AcousticOptions) -> Room:
    noise = list(NOISE_COLORS)[int(rng.integers(len(NOISE_COLORS)))] if rng.random() < options.noise_prob else None
    snr = float(rng.uniform(*options.snr_db))
    ir = impulse_response(float(rng.uniform(*options.rt60)), rng) if rng.random() < options.reverb_prob else None
    return Room(noise, snr, ir, float(rng.uniform(*options.peak)))


def impulse_response(rt60: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic room: a unit direct path, then noise decaying by 60 dB over rt60 seconds."""
    n = max(2, int(rt60 * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.908 * t / rt60)  # ln(1000) = 6.908: -60 dB at rt60
    tail[0] = 0.0
    drr = 10 ** (rng.uniform(*_DRR_DB) / 10)
    tail *= np.sqrt(1.0 / (drr * np.sum(tail**2)))
    tail[0] = 1.0
    return tail.astype(np.float32)


def reverberate(audio: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """audio in the room, the tail included (len(audio) + len(ir) - 1 samples); onsets stay in place."""
    return fftconvolve(audio, ir).astype(np.float32)


def colored_noise(n: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """n samples of white, pink or brown noise with unit RMS."""
    m = next_fast_len(max(n, 2), real=True)  # an FFT size with small factors: a prime n would be slow
    spectrum = np.fft.rfft(rng.standard_normal(m))
    f = np.fft.rfftfreq(m)
    f[0] = f[1]  # no infinite gain at DC
    spectrum *= f ** (-NOISE_COLORS[color] / 2)
    noise = np.fft.irfft(spectrum, m)[:n]
    return (noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)).astype(np.float32)


def speech_rms(audio: np.ndarray) -> float:
    """RMS over the frames that hold speech (within 30 dB of the loudest), so pauses don't lower it."""
    n = len(audio) // _FRAME
    if n == 0:
        return 0.0
    power = np.mean(audio[: n * _FRAME].reshape(n, _FRAME) ** 2, axis=1)  # (frames,)
    active = power[power > power.max() * 1e-3]
    return float(np.sqrt(np.mean(active))) if active.size else 0.0


def add_noise(audio: np.ndarray, room: Room, rng: np.random.Generator, *, speech_level: float) -> np.ndarray:
    """audio plus the room's noise at its SNR against speech_level (an RMS)."""
    if room.noise is None:
        return audio
    level = speech_level / 10 ** (room.snr_db / 20)
    return audio + level * colored_noise(len(audio), room.noise, rng)


def to_peak(audio: np.ndarray, peak: float) -> np.ndarray:
    """audio scaled so its largest sample is peak."""
    top = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if top == 0.0 else (audio * (peak / top)).astype(np.float32)
