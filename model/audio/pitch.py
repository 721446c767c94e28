"""Pitch (F0) as Praat computes it by default: autocorrelation, then the cheapest path.

Boersma's (1993) method, the one behind Praat's "To Pitch (ac)" and its editor's blue curve, with
Praat's default settings: a 40 ms Hann window (3 periods of the 75 Hz floor) every 10 ms, the
autocorrelation divided by the window's own, its peaks between 1/500 and 1/75 s as candidates (favouring
higher pitch by the octave cost), an unvoiced candidate that wins in quiet frames, and a Viterbi path that
charges octave jumps and voicing changes. The core of app.pitch (the spectrogram's pitch curve, per view)
and of the pitch variants of the speakers' split (benchmarks/speakers_variants.py). benchmarks/pitch.py
compares it with Praat's own (praat-parselmouth) on tones of known F0 and on speech
(benchmarks/results/spectrogram.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

from .decode import HOP_LENGTH, SAMPLE_RATE


@dataclass(frozen=True)
class PitchOptions:
    """Praat's pitch defaults (Sound: To Pitch (ac)...; the editor's Pitch settings)."""

    rate_hz: int = 8_000  # the audio is resampled to this: enough for F0 up to 500 Hz, half 16 kHz's FFT length
    floor_hz: float = 75.0  # lowest F0 looked for; sets the window (3 periods) and the longest lag
    ceiling_hz: float = 500.0  # highest F0 looked for; also the top of the drawn scale
    hop_seconds: float = HOP_LENGTH / SAMPLE_RATE  # 10 ms: one value per mel frame and spectrogram column (Praat: 0.75 / floor)
    periods_per_window: float = 3.0  # window length in periods of the floor: 40 ms
    candidates: int = 6  # voiced candidates kept per frame (Praat: 15, which changed no frame of the speech)
    silence_threshold: float = 0.03  # frames quieter than this fraction of the stretch's peak lean unvoiced
    voicing_threshold: float = 0.45  # normalised autocorrelation a voiced frame needs
    octave_cost: float = 0.01  # per octave, favours the higher of two candidates of equal strength
    octave_jump_cost: float = 0.35  # per octave of F0 change between frames
    voiced_unvoiced_cost: float = 0.14  # per change between voiced and unvoiced

    def __post_init__(self) -> None:
        if not 0 < self.floor_hz < self.ceiling_hz < self.rate_hz / 4:
            raise ValueError(f"pitch range must be 0 < floor < ceiling < {self.rate_hz / 4:.0f} Hz (a quarter of "
                             f"rate_hz), not {self.floor_hz}-{self.ceiling_hz}")

    @property
    def window_seconds(self) -> float:
        return self.periods_per_window / self.floor_hz  # 0.04 s


@dataclass(frozen=True)
class PitchTrack:
    """f0_hz[i] belongs to the frame centred on start + i * hop seconds; NaN where unvoiced."""

    start: float  # seconds in the recording of frame 0's centre
    hop: float  # seconds between frames
    f0_hz: np.ndarray  # (frames,) float32

    @property
    def times(self) -> np.ndarray:
        return self.start + np.arange(len(self.f0_hz)) * self.hop

    @property
    def end(self) -> float:
        return self.start + (len(self.f0_hz) - 1) * self.hop


def pitch_track(samples: np.ndarray, rate: int, *, start: float = 0.0,
                options: PitchOptions = PitchOptions()) -> PitchTrack:
    """F0 of mono `samples` (n,) at `rate` Hz, whose first sample is at `start` seconds in the recording.

    Frames are centred on whole multiples of options.hop_seconds (the spectrogram's columns) from the
    first one with a whole window inside the samples to the last. Returns a PitchTrack (NaN = unvoiced).
    """
    x = np.asarray(samples, np.float32)
    analysis_rate = options.rate_hz
    if rate != analysis_rate and len(x):
        x = soxr.resample(x, rate, analysis_rate).astype(np.float32)
    window = round(options.window_seconds * analysis_rate)  # 320 samples
    half = window / 2 / analysis_rate
    first = int(np.ceil((start + half) / options.hop_seconds - 1e-9))
    last = int(np.floor((start + len(x) / analysis_rate - half) / options.hop_seconds + 1e-9))
    if last < first:
        return PitchTrack(first * options.hop_seconds, options.hop_seconds, np.zeros(0, np.float32))
    centres = np.arange(first, last + 1) * options.hop_seconds
    offsets = np.clip(np.rint((centres - start - half) * analysis_rate).astype(int), 0, len(x) - window)
    frames = x[offsets[:, None] + np.arange(window)]  # (frames, window)
    f0 = _viterbi(*_candidates(frames, float(np.abs(x).max(initial=0.0)), options), options)
    return PitchTrack(first * options.hop_seconds, options.hop_seconds, f0)


def _candidates(frames: np.ndarray, global_peak: float, options: PitchOptions) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: candidate F0s (frames, K+1) (column 0: unvoiced, 0 Hz) and their strengths (frames, K+1)."""
    n, window = frames.shape
    rate = options.rate_hz
    frames = frames - frames.mean(axis=1, keepdims=True)
    local_peak = np.abs(frames).max(axis=1)
    hann = np.hanning(window + 2)[1:-1].astype(np.float32)
    min_lag = int(np.floor(rate / options.ceiling_hz))  # 16 samples
    max_lag = int(np.ceil(rate / options.floor_hz)) + 1  # 108 samples: one past, for the interpolation
    n_fft = 1 << int(np.ceil(np.log2(window + max_lag + 1)))  # 512: no wrap-around within the lags looked at
    power = np.abs(np.fft.rfft(frames * hann, n=n_fft, axis=1)) ** 2  # (frames, n_fft // 2 + 1) float32
    # complex64 in: numpy's irfft of a float32 array goes through complex128 and takes five times as long.
    acf = np.fft.irfft(power.astype(np.complex64), n=n_fft, axis=1)[:, :max_lag + 2]  # (frames, lags)
    acf_window = np.fft.irfft(np.abs(np.fft.rfft(hann, n=n_fft)) ** 2)[:max_lag + 2]
    r = acf / np.maximum(acf[:, :1], 1e-20) / (acf_window / acf_window[0])  # (frames, lags) normalised, <= ~1
    middle = r[:, min_lag:max_lag + 1]
    is_peak = (middle > r[:, min_lag - 1:max_lag]) & (middle >= r[:, min_lag + 1:max_lag + 2])
    is_peak &= middle > 0.5 * options.voicing_threshold
    k = min(options.candidates, middle.shape[1])
    ranked = np.where(is_peak, middle, -np.inf)
    top = np.argpartition(-ranked, k - 1, axis=1)[:, :k]  # (frames, K) lag indices into `middle`
    rows = np.arange(n)[:, None]
    lag = top + min_lag
    y0, y1, y2 = r[rows, lag - 1], r[rows, lag], r[rows, lag + 1]
    bend = y0 - 2 * y1 + y2
    shift = np.where(bend < 0, 0.5 * (y0 - y2) / np.where(bend < 0, bend, -1.0), 0.0)  # parabola's vertex
    peak = y1 - 0.25 * (y0 - y2) * shift
    peak = np.where(peak > 1.0, 1.0 / np.maximum(peak, 1.0), peak)  # Praat's guard: no peak above lag 0's
    found = np.isfinite(ranked[rows, top])
    exact_lag = np.where(found, lag + shift, min_lag)  # (frames, K) samples
    voiced_f0 = np.where(found, rate / exact_lag, 0.0)
    octaves_up = np.log2(options.floor_hz * exact_lag / rate)  # <= 0: octaves below the floor's lag
    voiced_strength = np.where(found, peak - options.octave_cost * octaves_up, -np.inf)
    quietness = (local_peak / max(global_peak, 1e-20)) / (options.silence_threshold / (1 + options.voicing_threshold))
    unvoiced = options.voicing_threshold + np.maximum(0.0, 2.0 - quietness)
    f0 = np.concatenate([np.zeros((n, 1)), voiced_f0], axis=1)
    strength = np.concatenate([unvoiced[:, None], voiced_strength], axis=1)
    return f0, strength


def _viterbi(f0: np.ndarray, strength: np.ndarray, options: PitchOptions) -> np.ndarray:
    """The path of candidates with the highest strength less transition costs; NaN where it is unvoiced."""
    n, states = f0.shape
    if n == 0:
        return np.zeros(0, np.float32)
    per_step = 0.01 / options.hop_seconds  # Praat's costs are per 10 ms
    voiced = f0 > 0
    log_f0 = np.log2(np.where(voiced, f0, 1.0))
    # cost[t, i, j]: from candidate i of frame t-1 to candidate j of frame t; (frames-1, states, states)
    both = voiced[:-1, :, None] & voiced[1:, None, :]
    change = voiced[:-1, :, None] != voiced[1:, None, :]
    jump = np.abs(log_f0[:-1, :, None] - log_f0[1:, None, :])
    cost = per_step * np.where(both, options.octave_jump_cost * jump, np.where(change, options.voiced_unvoiced_cost, 0.0))
    score = strength[0].copy()
    back = np.zeros((n, states), np.intp)
    columns = np.arange(states)
    for t in range(1, n):
        total = score[:, None] - cost[t - 1]  # (states, states)
        back[t] = total.argmax(axis=0)
        score = total[back[t], columns] + strength[t]
    path = np.empty(n, np.intp)
    path[-1] = score.argmax()
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    chosen = f0[np.arange(n), path]
    return np.where(chosen > 0, chosen, np.nan).astype(np.float32)
