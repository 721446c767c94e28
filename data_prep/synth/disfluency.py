"""The five disfluency types, made from one word's audio.

Each injector returns the disfluent word (the stutter followed by the word said fluently) and the
sample range of the stutter itself, so event times are exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from model.audio.decode import SAMPLE_RATE, fit_length
from model.labels import LABELS

_FADE = SAMPLE_RATE // 200  # 80 samples (5 ms): fades and crossfades that avoid clicks
_N_FFT = 512  # 32 ms phase-vocoder frames: short enough for 80 ms sounds
_HOP = _N_FFT // 4  # 128 samples (8 ms) between frames
_ONSET = SAMPLE_RATE // 20  # 800 samples (50 ms): the burst emphasised after a block
_CONTINUANTS = "aeioflmnsvz"  # first letters of words whose first sound can be held
_BLOCKABLE = "aeioubcdgkpt"  # vowels and stops: where blocks mostly fall, with an audible release
WORD_REP_MAX_SECONDS = 0.55  # whole-word repetitions are of short words ("I-I-I", "my-my")


@dataclass(frozen=True)
class DisfluencyOptions:
    sound_rep_fragment: tuple[float, float] = (0.08, 0.20)  # seconds from the word's start that are repeated
    sound_rep_count: tuple[int, int] = (2, 4)  # times the fragment is said before the word
    sound_rep_gap: tuple[float, float] = (0.04, 0.15)  # seconds of pause after each fragment
    word_rep_extra: tuple[int, int] = (1, 3)  # extra times the whole word is said
    word_rep_gap: tuple[float, float] = (0.05, 0.20)  # seconds of pause between copies
    prolong_source: tuple[float, float] = (0.08, 0.15)  # seconds at the word's start that are stretched
    prolong_target: tuple[float, float] = (0.3, 1.5)  # seconds the stretched sound then lasts
    block_seconds: tuple[float, float] = (0.3, 2.0)  # silence or tense near-silence before the onset
    block_tense: float = 0.5  # chance that a block is tense near-silence rather than silence
    block_tense_db: float = -40.0  # level of the tense near-silence against the word's RMS
    interjection_gap: tuple[float, float] = (0.05, 0.20)  # seconds of pause between filler and word
    filler_stretch: tuple[float, float] = (1.0, 1.8)  # "um", "uh", "er" drawn out by this factor


@dataclass(frozen=True)
class Injected:
    audio: np.ndarray  # the stutter, then the word said fluently (mono float32)
    start: int  # first sample of the stutter in audio
    end: int  # sample after the stutter's last


def _samples(rng: np.random.Generator, bounds: tuple[float, float]) -> int:
    return int(round(rng.uniform(*bounds) * SAMPLE_RATE))


def _silence(n: int) -> np.ndarray:
    return np.zeros(n, np.float32)


def _faded(audio: np.ndarray) -> np.ndarray:
    out = audio.copy()
    n = min(_FADE, len(out) // 2)
    out[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return out


def _stft(audio: np.ndarray) -> np.ndarray:
    """Hann-windowed STFT, frames centred on multiples of _HOP: (frames, _N_FFT // 2 + 1) complex."""
    _, _, spec = signal.stft(audio, nperseg=_N_FFT, noverlap=_N_FFT - _HOP, window="hann")  # (bins, frames)
    return spec.T


def _istft(spec: np.ndarray, length: int) -> np.ndarray:
    """The inverse of _stft (weighted overlap-add), `length` samples from the first frame's centre."""
    _, audio = signal.istft(spec.T, nperseg=_N_FFT, noverlap=_N_FFT - _HOP, window="hann")
    return audio[:length]


def stretch(audio: np.ndarray, n_out: int) -> np.ndarray:
    """audio time-stretched by a phase vocoder to exactly n_out samples, pitch kept.

    The textbook vocoder (as in librosa.effects.time_stretch) over scipy's STFT: librosa's version
    spends seconds compiling numba code on first use, which a test run of a few clips cannot afford.
    """
    spec = _stft(audio.astype(np.float64))
    # Read only frames that lie wholly inside the audio, so the held sound does not fade at either end.
    lo, hi = _N_FFT // 2 // _HOP, (len(audio) - _N_FFT // 2) // _HOP
    if hi <= lo:
        lo, hi = 0, len(spec) - 1
    n_frames = n_out // _HOP + 2  # enough output frames to cover n_out samples
    steps = lo + np.arange(n_frames) * ((hi - lo) / n_frames)  # fractional input frame per output frame
    i, frac = steps.astype(int), (steps % 1)[:, None]
    mag = (1 - frac) * np.abs(spec[i]) + frac * np.abs(spec[i + 1])  # (out frames, bins)
    advance = 2 * np.pi * _HOP * np.arange(spec.shape[1]) / _N_FFT  # expected phase advance per hop
    dphi = np.angle(spec[i + 1]) - np.angle(spec[i]) - advance
    dphi -= 2 * np.pi * np.round(dphi / (2 * np.pi))
    phase = np.angle(spec[lo]) + np.concatenate([np.zeros((1, len(advance))), np.cumsum(advance + dphi, 0)[:-1]])
    return fit_length(_istft(mag * np.exp(1j * phase), n_out).astype(np.float32), n_out)


def suits(kind: str, word: str, audio: np.ndarray, options: DisfluencyOptions) -> bool:
    """Whether a word can carry this disfluency naturally."""
    if kind == "Prolongation":
        return word[0].lower() in _CONTINUANTS and len(audio) > options.prolong_source[1] * SAMPLE_RATE
    if kind == "SoundRep":
        return len(audio) > 1.5 * options.sound_rep_fragment[0] * SAMPLE_RATE
    if kind == "WordRep":
        return len(audio) <= WORD_REP_MAX_SECONDS * SAMPLE_RATE
    if kind == "Block":
        return word[0].lower() in _BLOCKABLE
    return True


def _repeated(piece: np.ndarray, word: np.ndarray, rng: np.random.Generator, count: tuple[int, int],
              gap: tuple[float, float]) -> Injected:
    """piece said count times, each followed by a pause of gap seconds, then the word."""
    parts: list[np.ndarray] = []
    for _ in range(int(rng.integers(*count, endpoint=True))):
        parts += [piece, _silence(_samples(rng, gap))]
    stutter = np.concatenate(parts)
    return Injected(np.concatenate([stutter, word]), 0, len(stutter))


def sound_rep(word: np.ndarray, rng: np.random.Generator, options: DisfluencyOptions) -> Injected:
    """The word's first 80-200 ms said 2-4 times, with short pauses, before the word ("b- b- but")."""
    n = min(_samples(rng, options.sound_rep_fragment), int(0.6 * len(word)))
    return _repeated(_faded(word[:n]), word, rng, options.sound_rep_count, options.sound_rep_gap)


def word_rep(word: np.ndarray, rng: np.random.Generator, options: DisfluencyOptions) -> Injected:
    """The whole word said 1-3 extra times with small pauses ("I I I think")."""
    return _repeated(word, word, rng, options.word_rep_extra, options.word_rep_gap)


def prolongation(word: np.ndarray, rng: np.random.Generator, options: DisfluencyOptions) -> Injected:
    """The word's first sound (80-150 ms) held for 0.3-1.5 s ("ssssee"), then the rest of the word."""
    n_src = min(_samples(rng, options.prolong_source), len(word) - _FADE)
    n_out = _samples(rng, options.prolong_target)
    held = stretch(word[:n_src], n_out)
    rest = word[n_src:]
    ramp = np.linspace(0.0, 1.0, _FADE, dtype=np.float32)
    # Crossfade the held sound into the rest of the word inside the held span, so its length stays exact.
    held[-_FADE:] = held[-_FADE:] * (1.0 - ramp) + rest[:_FADE] * ramp
    return Injected(np.concatenate([held, rest[_FADE:]]), 0, n_out)


def _tense(n: int, level: float, rng: np.random.Generator) -> np.ndarray:
    """Near-silence of a held glottis: faint breath noise with sparse, faint glottal clicks."""
    out = rng.standard_normal(n).astype(np.float32) * level
    pos = 0
    while True:
        pos += int(rng.uniform(0.03, 0.15) * SAMPLE_RATE)
        if pos + _FADE >= n:
            return out
        out[pos: pos + _FADE] += 3 * level * np.exp(-np.arange(_FADE) / 15.0, dtype=np.float32)


def block(word: np.ndarray, rng: np.random.Generator, options: DisfluencyOptions) -> Injected:
    """0.3-2 s of silence or tense near-silence, then the word with an abrupt, emphasised onset."""
    n = _samples(rng, options.block_seconds)
    rms = float(np.sqrt(np.mean(word**2)))
    tense = rng.random() < options.block_tense
    gap = _tense(n, rms * 10 ** (options.block_tense_db / 20), rng) if tense else _silence(n)
    burst = word.copy()
    k = min(_ONSET, len(burst))
    burst[:k] *= np.linspace(1.5, 1.0, k, dtype=np.float32)
    return Injected(np.concatenate([gap, burst]), 0, n)


def interjection(word: np.ndarray, filler: str, filler_audio: np.ndarray, rng: np.random.Generator,
                 options: DisfluencyOptions) -> Injected:
    """A filler ("um", "uh", "er", "like", "you know") in the same voice, a short pause, then the word."""
    if filler in ("um", "uh", "er"):
        filler_audio = stretch(filler_audio, int(len(filler_audio) * rng.uniform(*options.filler_stretch)))
        filler_audio = _faded(filler_audio)
    gap = _silence(_samples(rng, options.interjection_gap))
    return Injected(np.concatenate([filler_audio, gap, word]), 0, len(filler_audio))


_INJECTORS = {"SoundRep": sound_rep, "WordRep": word_rep, "Prolongation": prolongation, "Block": block}
assert set(_INJECTORS) | {"Interjection"} == set(LABELS)


def inject(kind: str, text: str, word: np.ndarray, rng: np.random.Generator, options: DisfluencyOptions, *,
           fillers: dict[str, np.ndarray]) -> tuple[Injected, str]:
    """The word with a disfluency of this kind, and the text the disfluency is (the filler, or the word)."""
    if kind == "Interjection":
        filler = list(fillers)[int(rng.integers(len(fillers)))]
        return interjection(word, filler, fillers[filler], rng, options), filler
    return _INJECTORS[kind](word, rng, options), text
