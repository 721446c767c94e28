"""Frame probabilities over long recordings: overlapping windows, streamed, overlap-added with a taper.

A frame model gives p(moment) and p(type) for every encoder token (20 ms). A recording is cut into
windows of the length the model was trained on, `hop` apart; where two windows overlap, their
frame probabilities are cross-faded (a linear taper that sums to one across each overlap), so a
frame near one window's edge, where the encoder saw little context, is mostly decided by the
window that holds it in its middle. With a small overlap every second is encoded about once:
the encoder costs about 22 ms per audio second on 2 cores in fp32 at any window length
(DESIGN.md decision 3), so the cost is the number of times each second is encoded.

Audio is streamed (model.audio.decode.iter_audio blocks): at most one block, one window's worth of audio
and one batch of windows are held, plus the output, (tokens, channels) float32: 8.6 MB for 2 hours
where the decoded audio alone would be 460 MB.

The model is any `FrameFn`, so this module is tested with hand-made probabilities; the Predictor
(model.pipeline.inference) passes the encoder's frame head.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from functools import cached_property

import numpy as np

from ..audio.decode import HOP_LENGTH, MAX_SECONDS, SAMPLE_RATE, TOKEN_SAMPLES, TOKENS_PER_SECOND
from ..errors import Cancelled
from ..labels import SLD_LABELS
from .decoding import (
    FRAME_CHANNELS,
    INTERJECTION_LABEL,
    MOMENT_CHANNEL,
    Moment,
    MomentDecoding,
    decode_moments,
)

# (audio (batch, window samples) float32, real samples (batch,)) -> probabilities (batch, window tokens, channels)
FrameFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FrameWindows:
    """How a recording is cut into windows for a frame model; stored in the model file.

    The defaults are what `stutterscope export` writes into every frame model file (the shipped one included).
    Trained on whole stitched runs (2-25 s, median 4.8 s, 90 % under 9 s) and 3 s clips, the model knows
    inputs up to ~10 s well; 10 s windows 8 s apart encode each second 1.25 times (3 s windows at a 1 s
    hop: 3 times), and the 2 s cross-fade leaves every frame at least 1 s of context on its weaker side.
    """

    window_seconds: float = 10.0  # encoder input per window (500 tokens)
    hop_seconds: float = 8.0  # step between window starts; window - hop seconds are encoded twice, cross-faded

    def __post_init__(self) -> None:
        if not 0 < self.window_seconds <= MAX_SECONDS:
            raise ValueError(f"window_seconds must be in (0, {MAX_SECONDS}] (Whisper's context), "
                             f"not {self.window_seconds}")
        if not 0 < self.hop_seconds <= self.window_seconds:
            raise ValueError(f"hop_seconds must be in (0, window_seconds = {self.window_seconds}], not "
                             f"{self.hop_seconds}: a larger hop would leave audio unanalysed")
        for name in ("window_seconds", "hop_seconds"):
            tokens = getattr(self, name) * TOKENS_PER_SECOND
            if abs(tokens - round(tokens)) > 1e-6:
                raise ValueError(f"{name} must be a whole number of 20 ms encoder tokens, not {getattr(self, name)}")

    @property
    def window_samples(self) -> int:
        return round(self.window_seconds * TOKENS_PER_SECOND) * TOKEN_SAMPLES

    @property
    def hop_samples(self) -> int:
        return round(self.hop_seconds * TOKENS_PER_SECOND) * TOKEN_SAMPLES

    @property
    def window_tokens(self) -> int:
        return self.window_samples // TOKEN_SAMPLES

    @property
    def encodings_per_second(self) -> float:
        """How many times the encoder sees each second of a long recording (window / hop)."""
        return self.window_seconds / self.hop_seconds

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> FrameWindows:
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown frame window settings {unknown}; this model file is newer than this "
                             "StutterScope, update StutterScope")
        return cls(**d)


@dataclass(frozen=True)
class FramePredictions:
    """Overlap-added frame probabilities over a whole recording."""

    channels: tuple[str, ...]  # column names: "moment", then the types
    probs: np.ndarray  # (tokens, channels) float32; token i covers [i, i + 1) / frame_rate seconds
    frame_rate: float  # tokens per second (50)
    duration: float  # seconds of audio in the recording
    windows: FrameWindows  # how it was cut
    n_windows: int  # encoder windows run
    model_id: str = ""
    path: str = ""
    speech: np.ndarray | None = None  # (tokens,) bool: may carry moments (model.audio.speech_activity); None: unchecked
    speech_seconds: float | None = None  # seconds of speech in the recording; None: unchecked

    def moments(self, options: MomentDecoding | None = None, *, exclude: tuple[tuple[float, float], ...] = (),
                cancel: Callable[[], bool] | None = None) -> list[Moment]:
        """Decoded moments and interjections (model.moments.decoding.decode_moments; cancel() -> True raises Cancelled)."""
        return decode_moments(self.probs, frame_rate=self.frame_rate, options=options, channels=self.channels,
                              exclude=exclude, cancel=cancel)


def taper(window_tokens: int, overlap_tokens: int) -> np.ndarray:
    """(window_tokens,) weights rising over the first overlap and falling over the last, 1 between.

    Linear, centred on the tokens, so where two windows overlap by exactly overlap_tokens their weights
    sum to 1; never 0, so a token that only one window covers (a recording's ends) keeps that window's
    value after normalising by the summed weights.
    """
    k = np.arange(window_tokens) + 0.5
    if overlap_tokens <= 0:
        return np.ones(window_tokens, np.float32)
    return np.minimum(1.0, np.minimum(k, window_tokens - k) / overlap_tokens).astype(np.float32)


def iter_frame_windows(blocks: Iterator[np.ndarray], windows: FrameWindows) -> Iterator[tuple[int, np.ndarray, int]]:
    """Cut streamed audio into (start_sample, window (window_samples,), real_samples) triples.

    Starts are 0, hop, 2 hop, ... while a whole window fits. The last window is moved back to end at
    the recording's end (to the next token boundary), so it is real audio rather than zero padding; a
    recording shorter than one window is one zero-padded window. Every start is a whole number of tokens.
    """
    size, hop = windows.window_samples, windows.hop_samples
    buffer = np.zeros(0, np.float32)
    buffer_start = 0  # sample index of buffer[0]
    next_start = 0
    covered = 0  # samples covered by the windows so far
    for block in blocks:
        buffer = np.concatenate([buffer, np.asarray(block, np.float32)])
        while next_start + size <= buffer_start + len(buffer):
            i = next_start - buffer_start
            yield next_start, buffer[i:i + size], size
            covered = next_start + size
            next_start += hop
        # Keep what the next window, or a last window moved back, can still need: the final window_samples.
        drop = max(0, min(next_start, buffer_start + len(buffer) - size) - buffer_start)
        buffer, buffer_start = buffer[drop:], buffer_start + drop
    total = buffer_start + len(buffer)
    if total == 0 or covered >= total:
        return
    start = max(0, -(-(total - size) // TOKEN_SAMPLES) * TOKEN_SAMPLES)  # ceil to a token boundary
    i = start - buffer_start
    assert i >= 0, "the buffer always holds the last window's audio"
    real = total - start
    yield start, np.pad(buffer[i:], (0, size - real)), real


class OverlapAdd:
    """Accumulates windows' frame probabilities, weighted by the taper, into one (tokens, channels) array."""

    def __init__(self, windows: FrameWindows, n_channels: int, *, expected_tokens: int = 0):
        self.weights = taper(windows.window_tokens, windows.window_tokens - windows.hop_samples // TOKEN_SAMPLES)
        self.sum = np.zeros((max(expected_tokens, windows.window_tokens), n_channels), np.float32)
        self.weight = np.zeros(len(self.sum), np.float32)
        self.n_tokens = 0

    def add(self, start_sample: int, probs: np.ndarray, real_samples: int) -> None:
        """probs (window tokens, channels) of the window at start_sample; tokens past the audio are ignored."""
        first = start_sample // TOKEN_SAMPLES
        n = min(len(probs), -(-real_samples // TOKEN_SAMPLES))  # tokens that hold audio: ceil(real / 320)
        stop = first + n
        if stop > len(self.sum):  # the recording is longer than its header said: grow by doubling
            grow = max(stop, 2 * len(self.sum)) - len(self.sum)
            self.sum = np.concatenate([self.sum, np.zeros((grow, self.sum.shape[1]), np.float32)])
            self.weight = np.concatenate([self.weight, np.zeros(grow, np.float32)])
        w = self.weights[:n]
        self.sum[first:stop] += probs[:n] * w[:, None]
        self.weight[first:stop] += w
        self.n_tokens = max(self.n_tokens, stop)

    def result(self) -> np.ndarray:
        """(tokens, channels) probabilities, each token the taper-weighted mean of the windows that cover it."""
        n = self.n_tokens
        assert np.all(self.weight[:n] > 0), "every token of the recording lies in some window"
        return self.sum[:n] / self.weight[:n, None]


def predict_frames(blocks: Iterator[np.ndarray], frame_fn: FrameFn, *, windows: FrameWindows,
                   channels: tuple[str, ...] = FRAME_CHANNELS, batch_size: int = 4, expected_seconds: float = 0.0,
                   progress: Callable[[float], None] | None = None,
                   cancel: Callable[[], bool] | None = None) -> FramePredictions:
    """Frame probabilities over streamed audio.

    blocks: consecutive mono float32 blocks at SAMPLE_RATE (model.audio.decode.iter_audio).
    frame_fn: the model, (audio (batch, window samples), real samples (batch,)) -> (batch, window tokens, channels).
    windows: window length and hop. batch_size: windows per frame_fn call.
    expected_seconds: the recording's length if known (for progress and to size the output once).
    progress(fraction) after each batch; cancel() -> True stops with model.errors.Cancelled.
    Raises ValueError for a recording without samples.
    """
    acc = OverlapAdd(windows, len(channels), expected_tokens=int(np.ceil(expected_seconds * TOKENS_PER_SECOND)))
    batch: list[tuple[int, np.ndarray, int]] = []
    total = 0
    n_run = 0

    def counted(stream: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        nonlocal total
        for block in stream:
            total += len(block)
            yield block

    def flush() -> None:
        nonlocal n_run
        audio = np.stack([w for _, w, _ in batch])  # (batch, window samples)
        reals = np.asarray([r for _, _, r in batch])
        probs = np.asarray(frame_fn(audio, reals), np.float32)  # (batch, window tokens, channels)
        expected = (len(batch), windows.window_tokens, len(channels))
        if probs.shape != expected:
            raise ValueError(f"the frame model returned shape {probs.shape}, expected {expected} "
                             "(batch, window tokens, channels)")
        for (start, _, real), p in zip(batch, probs, strict=True):
            acc.add(start, p, real)
        n_run += len(batch)
        if progress is not None and expected_seconds > 0:
            progress(min(1.0, (batch[-1][0] + batch[-1][2]) / (expected_seconds * SAMPLE_RATE)))
        batch.clear()

    for item in iter_frame_windows(counted(blocks), windows):
        if cancel is not None and cancel():
            raise Cancelled("analysis cancelled")
        batch.append(item)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    if total == 0:
        raise ValueError("the recording holds no audio samples")
    if progress is not None:
        progress(1.0)
    assert acc.n_tokens == -(-total // TOKEN_SAMPLES)
    return FramePredictions(channels=tuple(channels), probs=acc.result(), frame_rate=float(TOKENS_PER_SECOND),
                            duration=total / SAMPLE_RATE, windows=windows, n_windows=n_run)


def mel_frames(real_samples: np.ndarray) -> np.ndarray:
    """(batch,) mel frames of real audio in each window (at least 1), what the model's n_frames expects."""
    return np.maximum(np.asarray(real_samples) // HOP_LENGTH, 1)


@dataclass(frozen=True, eq=False)
class MomentPredictions:
    """What the model says about a recording, as every front end reads it: the frame probabilities, with the
    five types' columns as 20 ms rows (curves, tables), and what moments are decoded from, so a review can
    re-decode them when a sensitivity slider moves, without a model run (model.pipeline.analysis.analyse_predictions)."""

    frames: FramePredictions  # the overlap-added (tokens, channels) probabilities, the moment channel included
    decoding: MomentDecoding  # the model file's decoding settings
    model_thresholds: dict[str, float]  # the model file's per-type thresholds: where the sliders start

    @classmethod
    def from_frames(cls, frames: FramePredictions, *, decoding: MomentDecoding,
                    model_thresholds: Mapping[str, float]) -> MomentPredictions:
        return cls(frames=frames, decoding=decoding, model_thresholds=dict(model_thresholds))

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """The model's types, in the order of `probs`' columns (the frame channels but the moment channel)."""
        return tuple(c for c in self.frames.channels if c != MOMENT_CHANNEL)

    @cached_property
    def probs(self) -> np.ndarray:
        """(tokens, labels) float32: each type's probability per 20 ms frame (0 where there is no speech)."""
        return self.frames.probs[:, [self.frames.channels.index(label) for label in self.labels]]

    @property
    def frame_seconds(self) -> float:
        """How long each row of `probs` is (20 ms)."""
        return 1.0 / self.frames.frame_rate

    @cached_property
    def starts(self) -> np.ndarray:
        """(tokens,) start time of each row of `probs`, seconds."""
        return np.arange(len(self.frames.probs)) * self.frame_seconds

    @property
    def duration(self) -> float:
        """Seconds of audio in the recording."""
        return self.frames.duration

    @property
    def model_id(self) -> str:
        """SHA-256 of the model file."""
        return self.frames.model_id

    @property
    def path(self) -> str:
        """The recording."""
        return self.frames.path

    @property
    def speech(self) -> np.ndarray | None:
        """(tokens,) bool: the frame may carry moments (model.audio.speech_activity); None: unchecked."""
        return self.frames.speech

    @property
    def speech_seconds(self) -> float | None:
        """Seconds of speech in the recording; None: unchecked."""
        return self.frames.speech_seconds

    @property
    def too_little_speech(self) -> bool:
        """Flag, do not score: less speech than speech_activity.MIN_SPEECH_SECONDS (silence, noise)."""
        from ..audio.speech_activity import (
            too_little_speech,  # numpy only, but keep this module's imports minimal
        )

        return self.speech_seconds is not None and too_little_speech(self.speech_seconds)

    def decoding_at(self, thresholds: Mapping[str, float]) -> MomentDecoding:
        """The decoding with each type's threshold moved as far as its slider moved from the model's.

        A stuttering-like type's slider moves that type's threshold inside moments (which types a moment
        carries) and, by the mean of the four moves, the moment thresholds themselves (how many moments
        are found); the Interjection slider moves the interjection thresholds.
        """
        d = self.decoding
        delta = {label: float(thresholds[label]) - self.model_thresholds[label] for label in self.labels}
        sld = [delta[label] for label in SLD_LABELS if label in delta]
        shift = float(np.mean(sld)) if sld else 0.0
        onset = _clip(d.onset + shift)
        inter = _clip(d.interjection_onset + delta.get(INTERJECTION_LABEL, 0.0))
        return dataclasses.replace(
            d, onset=onset, offset=min(onset, _clip(d.offset + shift)),
            type_thresholds={label: _clip(v + delta.get(label, 0.0)) for label, v in d.type_thresholds.items()},
            interjection_onset=inter,
            interjection_offset=min(inter, _clip(d.interjection_offset + delta.get(INTERJECTION_LABEL, 0.0))))


def _clip(p: float) -> float:
    return float(min(0.99, max(0.01, p)))
