"""Where a recording has speech: an energy-based voice-activity check at the encoder's 20 ms frame rate.

The classifier was trained on speech; on digital silence or noise its outputs mean nothing (issue 12:
WordRep on 5 s of silence, SoundRep and Prolongation on white noise). This check decides, per 20 ms
frame (one encoder token, TOKENS_PER_SECOND = 50), whether the frame looks like voice, and per
3 s window (InferenceOptions.hop_seconds apart) whether the window holds speech at all (`frame_speech`):
the Predictor zeroes the frame probabilities outside windows with speech, so they decode to no moments;
a recording with less than MIN_SPEECH_SECONDS of speech frames is flagged "too little speech" and not scored.

A frame looks like voice when all three hold (each rejects one kind of non-speech):
  - its level is at least MIN_LEVEL_DBFS (digital silence, dither, a disconnected microphone);
  - its spectral flatness over 100-4000 Hz is at most MAX_FLATNESS (white and pink noise are flat,
    voiced speech has harmonics: measured medians 0.58 white, 0.36 pink, 0.03 espeak speech);
  - at least MIN_VOICE_BAND_SHARE of its energy lies in 250-4000 Hz (mains hum, rumble, brown noise).
A window holds speech when at least MIN_WINDOW_SPEECH_SECONDS of its frames look like voice and its
frame levels span at least MIN_WINDOW_RANGE_DB between the 10th and 90th percentile (a steady tone
spans 0 dB; real speech over a noise floor as little as 4 dB, so the bar is low).

It is deliberately lenient (it exists to stop nonsense, not to segment speech): speech under loud
babble or music passes as speech. Measured with `python benchmarks/speech_activity.py --fluencybank
../shared/data` (2-core machine): every 3 s window of digital silence, -80 dBFS dither, white, pink and
brown noise, 50 Hz hum and a 1 kHz tone is judged without speech; espeak speech alone, at -40 dB, and under
white or pink noise at 10 dB SNR is judged speech in every window (at 0 dB SNR in 62 % of them); of the
2,561 real FluencyBank clips, 1 (voted "no stuttered words") is judged without speech, and none of those
voted (>= 2 of 3) Prolongation (207), Block (271), SoundRep (344), WordRep (270) or Interjection (713).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import Cancelled
from .decode import SAMPLE_RATE, TOKEN_SAMPLES, TOKENS_PER_SECOND, WINDOW_SAMPLES

MIN_LEVEL_DBFS = -60.0  # frame RMS level below which nothing is speech
MAX_FLATNESS = 0.2  # spectral flatness (geometric / arithmetic mean of power) above which a frame is noise
MIN_VOICE_BAND_SHARE = 0.2  # share of a frame's energy that must lie in 250-4000 Hz
MIN_WINDOW_SPEECH_SECONDS = 0.2  # voice-like frames a window needs (10 frames)
MIN_WINDOW_RANGE_DB = 3.0  # p90 - p10 of a window's frame levels, dB: a steady tone spans 0
MIN_SPEECH_SECONDS = 1.0  # a recording with less speech than this is flagged, not scored
TOO_LITTLE_SPEECH = "too little speech"  # the flag's text, as results and reports show it
_CANCEL_EVERY = 500  # windows between two cancel checks: ~70 ms of work

_FREQS = np.fft.rfftfreq(TOKEN_SAMPLES, 1 / SAMPLE_RATE)
_FLAT_BAND = (_FREQS >= 100) & (_FREQS <= 4000)
_VOICE_BAND = (_FREQS >= 250) & (_FREQS <= 4000)
_TAPER = np.hanning(TOKEN_SAMPLES).astype(np.float32)


@dataclass(frozen=True)
class FrameFeatures:
    level_db: np.ndarray  # (frames,) RMS level, dBFS
    voiced: np.ndarray  # (frames,) bool: the frame looks like voice


def frame_features(audio: np.ndarray) -> FrameFeatures:
    """Per 20 ms frame of audio (samples,) at SAMPLE_RATE; a trailing part-frame is left out."""
    n = len(audio) // TOKEN_SAMPLES
    frames = np.asarray(audio[:n * TOKEN_SAMPLES], np.float32).reshape(n, TOKEN_SAMPLES)  # (frames, 320)
    power = np.mean(frames.astype(np.float64) ** 2, axis=1)
    level = 10 * np.log10(power + 1e-12)
    spec = np.abs(np.fft.rfft(frames * _TAPER, axis=1)) ** 2 + 1e-20  # (frames, 161)
    flat_part = spec[:, _FLAT_BAND]
    flatness = np.exp(np.mean(np.log(flat_part), axis=1)) / np.mean(flat_part, axis=1)
    voice_share = spec[:, _VOICE_BAND].sum(axis=1) / spec.sum(axis=1)
    voiced = (level >= MIN_LEVEL_DBFS) & (flatness <= MAX_FLATNESS) & (voice_share >= MIN_VOICE_BAND_SHARE)
    return FrameFeatures(level.astype(np.float32), voiced)


def window_has_speech(level_db: np.ndarray, voiced: np.ndarray) -> bool:
    """The window-level decision from its frames' levels and voice flags (see the module's docstring)."""
    if voiced.sum() < MIN_WINDOW_SPEECH_SECONDS * TOKENS_PER_SECOND:
        return False
    p10, p90 = np.percentile(level_db, [10, 90])
    return bool(p90 - p10 >= MIN_WINDOW_RANGE_DB)


class SpeechActivity:
    """Frame features of a recording fed block by block as it streams (any block lengths)."""

    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []
        self._voiced: list[np.ndarray] = []
        self._carry = np.zeros(0, np.float32)  # samples of a frame split across blocks

    def feed(self, block: np.ndarray) -> None:
        audio = np.concatenate([self._carry, block]) if len(self._carry) else block
        usable = len(audio) // TOKEN_SAMPLES * TOKEN_SAMPLES
        if usable:
            f = frame_features(audio[:usable])
            self._levels.append(f.level_db)
            self._voiced.append(f.voiced)
        self._carry = np.asarray(audio[usable:], np.float32)

    def finish(self) -> FrameFeatures:
        """All frames, the last part-frame padded with zeros."""
        if len(self._carry):
            self.feed(np.zeros(TOKEN_SAMPLES - len(self._carry), np.float32))
        levels = np.concatenate(self._levels) if self._levels else np.zeros(0, np.float32)
        voiced = np.concatenate(self._voiced) if self._voiced else np.zeros(0, bool)
        return FrameFeatures(levels, voiced)


def windows_with_speech(features: FrameFeatures, starts_samples: np.ndarray, window_samples: int, *,
                        cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """(windows,) bool for windows starting at starts_samples (samples) of window_samples each.

    cancel() -> True raises Cancelled: 2 hours at the smallest hop (0.05 s) are 144,000 windows, ~20 s here.
    """
    out = np.zeros(len(starts_samples), bool)
    span = window_samples // TOKEN_SAMPLES
    for i, start in enumerate(np.asarray(starts_samples, np.int64)):
        if i % _CANCEL_EVERY == 0 and cancel is not None and cancel():
            raise Cancelled("the speech check was cancelled")
        first = int(start) // TOKEN_SAMPLES
        levels, voiced = features.level_db[first:first + span], features.voiced[first:first + span]
        out[i] = len(levels) > 0 and window_has_speech(levels, voiced)
    return out


def frames_in_speech_windows(n_frames: int, starts_samples: np.ndarray, window_samples: int,
                             speech_windows: np.ndarray) -> np.ndarray:
    """(n_frames,) bool: the frames that lie in some window with speech."""
    covered = np.zeros(n_frames, bool)
    span = window_samples // TOKEN_SAMPLES
    for start, speech in zip(np.asarray(starts_samples, np.int64), speech_windows, strict=True):
        if speech:
            covered[int(start) // TOKEN_SAMPLES:int(start) // TOKEN_SAMPLES + span] = True
    return covered


def speech_frames(features: FrameFeatures, starts_samples: np.ndarray, window_samples: int,
                  speech_windows: np.ndarray) -> np.ndarray:
    """(frames,) bool: voice-like frames that lie in a window with speech (what a frame decoder may label)."""
    covered = frames_in_speech_windows(len(features.voiced), starts_samples, window_samples, speech_windows)
    return covered & features.voiced


@dataclass(frozen=True)
class FrameSpeech:
    """Where a frame model's 20 ms frames may carry moments, and how much speech the recording has."""

    in_speech: np.ndarray  # (frames,) bool: the frame lies in a 3 s window with speech; others get no moments
    speech_seconds: float  # seconds of voice-like frames inside those windows (the too-little-speech test)


def frame_speech(features: FrameFeatures, total_samples: int, hop_samples: int, *,
                 cancel: Callable[[], bool] | None = None) -> FrameSpeech:
    """The speech check of a recording, on 3 s windows hop_samples apart.

    The windows, not the voice-like frames themselves, bound the moments: a block is a silent frame
    inside speech, and masking frame by frame would erase it.
    """
    last = max(0, total_samples - WINDOW_SAMPLES)
    starts = np.arange(0, last + hop_samples, hop_samples, dtype=np.int64)  # the last window reaches the end
    windows = windows_with_speech(features, starts, WINDOW_SAMPLES, cancel=cancel)
    in_speech = frames_in_speech_windows(len(features.voiced), starts, WINDOW_SAMPLES, windows)
    return FrameSpeech(in_speech, speech_seconds(in_speech & features.voiced))


def speech_seconds(frames: np.ndarray) -> float:
    """Seconds of speech in a (frames,) bool mask at the encoder's frame rate."""
    return float(np.count_nonzero(frames)) / TOKENS_PER_SECOND


def too_little_speech(seconds: float) -> bool:
    """True when a recording holds less speech than MIN_SPEECH_SECONDS: flag it, do not score it."""
    return seconds < MIN_SPEECH_SECONDS


def too_little_speech_warning(name: str, speech_seconds: float) -> str:
    """What a row says when a recording or clip is flagged, not scored (`assess` and `predict` alike)."""
    return f"{name}: {TOO_LITTLE_SPEECH} ({speech_seconds:.1f} s of speech, under {MIN_SPEECH_SECONDS:g} s): not scored"
