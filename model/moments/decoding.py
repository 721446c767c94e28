"""From per-frame probabilities to stuttering moments and interjections.

A frame model gives, every 20 ms, p(moment) (any stuttering-like disfluency, channel 0) and p(type)
for each of the five types (channels 1..). A moment is a stretch where p(moment) rises to the onset
threshold and stays at or above the (lower) offset threshold: hysteresis, so a probability that
wobbles around one threshold does not cut a moment in pieces. Moments closer than `merge_gap` are
one moment, and moments shorter than `min_duration` are dropped. Optionally (`split_depth`, off by
default) a moment is cut in two at a valley of p(moment) at least that deep below the peaks on both
sides: in dense stuttering the gap merging joins neighbours a clinician counts apart. Optionally (`smooth_seconds`,
off by default) every channel is first averaged over a short window centred on each frame, so a one-frame spike
of a per-frame head starts nothing and a jagged plateau is one moment. A moment is counted once whatever
its types; its types are read from the type channels inside it. Interjections are typical
disfluencies, counted apart: they are decoded from their own channel with their own thresholds and
never merged into stuttering moments. Durations are measured from the frames, to the 20 ms of a frame.

numpy only: no torch, no Qt, so the app, tests and the scorer can decode hand-made probabilities.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ..errors import Cancelled
from ..labels import LABELS, NON_SLD_LABELS, SLD_LABELS

Seconds = float

MOMENT_CHANNEL = "moment"  # channel 0 of a frame model: any stuttering-like disfluency
FRAME_CHANNELS = (MOMENT_CHANNEL, *LABELS)  # the frame models' channel order
STUTTERING = "stuttering"  # Moment.kind of a stuttering-like disfluency
INTERJECTION = "interjection"  # Moment.kind of an interjection (um, uh), counted apart
INTERJECTION_LABEL = NON_SLD_LABELS[0]
_CANCEL_EVERY = 1000  # moments decoded between two cancel checks: ~70 ms


UNREVIEWED = "unreviewed"  # the model's moment as it found it: no clinician decision
REVIEW_STATUSES = ("accepted", "rejected", "retyped", "adjusted", "added")  # a clinician's decisions
REJECTED = "rejected"  # the one decision whose moment does not count


def kind_of(label: str) -> str:
    """The kind of a moment whose (first) type is `label`: interjections are counted apart."""
    return INTERJECTION if label in NON_SLD_LABELS else STUTTERING


@dataclass(frozen=True)
class Moment:
    """One stuttering moment or interjection, from the model's decoder through the review to the records.

    The decoder's moments are UNREVIEWED; a clinician's decision is a Moment with its `status`, and `origin`
    naming the model moment it concerns (None for one the clinician added). `types[0]` names it (`label`).
    """

    start: Seconds  # onset, seconds from the start of the recording
    end: Seconds  # offset, seconds from the start of the recording
    confidence: float  # the highest p(moment) (or p(Interjection)) inside, 0-1, to 4 decimals (1.0: one added)
    types: tuple[str, ...]  # its types, likeliest first (an interjection: ("Interjection",))
    kind: str = ""  # "stuttering" or "interjection"; "" (the default): that of its first type (kind_of)
    status: str = UNREVIEWED  # UNREVIEWED or one of REVIEW_STATUSES
    origin: int | None = None  # a decision's model moment: its index among the model moments; None if added

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", tuple(self.types))  # a list from JSON compares equal once a tuple
        # 4 decimals, as every stored form and export has it: a moment read back equals the one written (a float32
        # probability's 0.8999999761581421 would not), and no numpy scalar reaches a JSON writer.
        if isinstance(self.confidence, numbers.Real):  # numpy's too; a test's pytest.approx is left as given
            object.__setattr__(self, "confidence", round(float(self.confidence), 4))
        if not self.kind:  # an interjection is never counted as a stuttering moment by default
            object.__setattr__(self, "kind", kind_of(self.types[0]) if self.types else STUTTERING)
        if self.kind not in (STUTTERING, INTERJECTION):
            raise ValueError(f"kind must be {STUTTERING!r} or {INTERJECTION!r}, not {self.kind!r}")
        if self.types and kind_of(self.types[0]) != self.kind:
            raise ValueError(f"a moment of type {self.types[0]} is of kind {kind_of(self.types[0])!r}, not "
                             f"{self.kind!r}; leave kind out and it follows the first type")
        if not self.end >= self.start:
            raise ValueError(f"a moment ends after it starts, got start {self.start} and end {self.end}")
        if self.status == UNREVIEWED:
            return
        if self.status not in REVIEW_STATUSES:
            raise ValueError(f"status must be one of {REVIEW_STATUSES}, not {self.status!r}")
        if not self.end > self.start >= 0:
            raise ValueError(f"a decision needs 0 <= start < end, got start={self.start}, end={self.end}")
        if not self.types:
            raise ValueError("a clinician's decision names the moment's type, e.g. types=('Block',)")

    @property
    def duration(self) -> Seconds:
        return self.end - self.start

    @property
    def label(self) -> str:
        """Its first (likeliest, or the clinician's) type: what a table row, a colour or a "label" column shows."""
        return self.types[0] if self.types else ""

    @property
    def reviewed(self) -> bool:
        """Is this a clinician's decision (rather than the model's moment as it found it)?"""
        return self.status != UNREVIEWED

    @property
    def counted(self) -> bool:
        """Does it count in summaries, measures, reports and exports? (A rejected moment does not.)"""
        return self.status != REJECTED

    def to_dict(self) -> dict:
        """JSON-ready and exact (from_dict gives this moment back); a decision also has its status and origin.
        "label" (the first type) keeps every reader of the event dicts written before moments were the unit
        working; "duration" (to the millisecond) is for people reading the file."""
        d = {"label": self.label, "start": float(self.start), "end": float(self.end),
             "duration": round(float(self.duration), 3), "confidence": self.confidence,
             "types": list(self.types), "kind": self.kind}
        if self.reviewed:
            d.update(status=self.status, origin=self.origin)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Moment:
        """A moment from any stored form: this one, or the event dicts that records, drafts and results.json
        held before moments were the unit ("label" first, "types" only for two or more, no "kind")."""
        types = tuple(str(t) for t in d.get("types") or ())
        label = d.get("label")
        if label is not None and (not types or types[0] != label):
            types = (str(label), *(t for t in types if t != label))
        if not types:
            raise KeyError("types")  # neither form: a moment names its type
        origin = d.get("origin")
        return cls(start=float(d["start"]), end=float(d["end"]),
                   confidence=float(1.0 if d.get("confidence") is None else d["confidence"]), types=types,
                   kind=str(d.get("kind") or ""), status=str(d.get("status") or UNREVIEWED),
                   origin=None if origin is None else int(origin))


MAX_DECODING_SECONDS = 60.0  # a minimum duration or merge gap beyond a minute would decode nothing meaningful
MAX_SMOOTH_SECONDS = 2.0  # a window longer than a long block would blur separate moments into one
_PROBABILITIES = ("onset", "offset", "interjection_onset", "interjection_offset")
_DURATIONS = ("min_duration", "merge_gap", "interjection_min_duration", "interjection_merge_gap")


def _check_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"the decoding setting {name} is {value!r}, not a number; give a number such as 0.5")
    if not np.isfinite(value):
        raise ValueError(f"the decoding setting {name} is {value}; give a finite number (the model file or "
                         "options are damaged: re-export the model or reset the setting)")


def _default_type_thresholds() -> dict[str, float]:
    return dict.fromkeys(SLD_LABELS, 0.5)


@dataclass(frozen=True)
class MomentDecoding:
    """How frame probabilities become moments; stored in the model file, tuned on dev episodes."""

    onset: float = 0.5  # p(moment) must reach this for a moment to start
    offset: float = 0.35  # ...and the moment lasts while p(moment) stays at or above this (<= onset)
    min_duration: Seconds = 0.1  # moments shorter than this (after merging) are dropped
    merge_gap: Seconds = 0.2  # moments separated by at most this much are one moment
    type_thresholds: dict[str, float] = field(default_factory=_default_type_thresholds)  # mean p(type) inside; missing: 0.5
    interjection_onset: float = 0.5  # p(Interjection) that starts an interjection
    interjection_offset: float = 0.35  # ...and keeps it going (<= interjection_onset)
    interjection_min_duration: Seconds = 0.1  # shorter interjections are dropped
    interjection_merge_gap: Seconds = 0.1  # interjections this close are one
    split_depth: float = 0.0  # cut a moment at a p(moment) valley this far below both sides' peaks; 0: off
    smooth_seconds: Seconds = 0.0  # average every channel over this window centred on each frame first; 0: off

    def __post_init__(self) -> None:
        # Settings come from model files and option dialogs: NaN slips through every comparison (0 moments,
        # status ok) and inf overflows the frame arithmetic, so each value is checked to be a finite number.
        for name in _PROBABILITIES + _DURATIONS:
            _check_number(name, getattr(self, name))
        for name, on, off in (("", self.onset, self.offset),
                              ("interjection_", self.interjection_onset, self.interjection_offset)):
            if not 0.0 < off <= on < 1.0:
                raise ValueError(f"need 0 < {name}offset <= {name}onset < 1, got {name}onset {on} and "
                                 f"{name}offset {off}; lower the offset or raise the onset")
        for name in _DURATIONS:
            if not 0.0 <= getattr(self, name) <= MAX_DECODING_SECONDS:
                raise ValueError(f"{name} is a duration in seconds from 0 to {MAX_DECODING_SECONDS:g}, got "
                                 f"{getattr(self, name)}; give e.g. {getattr(MomentDecoding, name)}")
        _check_number("split_depth", self.split_depth)
        if not 0.0 <= self.split_depth < 1.0:
            raise ValueError(f"split_depth is a drop in p(moment) from 0 (off) to below 1, got {self.split_depth}; "
                             "give e.g. 0.2")
        _check_number("smooth_seconds", self.smooth_seconds)
        if not 0.0 <= self.smooth_seconds <= MAX_SMOOTH_SECONDS:
            raise ValueError(f"smooth_seconds is a window in seconds from 0 (off) to {MAX_SMOOTH_SECONDS:g}, got "
                             f"{self.smooth_seconds}; give e.g. 0.18")
        if not isinstance(self.type_thresholds, Mapping):
            raise ValueError(f"type_thresholds must map stuttering-like types to probabilities, not "
                             f"{type(self.type_thresholds).__name__}; give e.g. {{'Block': 0.5}}")
        unknown = sorted(set(self.type_thresholds) - set(SLD_LABELS))
        if unknown:
            raise ValueError(f"type_thresholds are for the stuttering-like types {list(SLD_LABELS)}, not {unknown}")
        # A partial mapping names the types it changes; the others keep the default.
        object.__setattr__(self, "type_thresholds", {**_default_type_thresholds(), **self.type_thresholds})
        for label, value in self.type_thresholds.items():
            _check_number(f"type_thresholds[{label!r}]", value)
        bad = {k: v for k, v in self.type_thresholds.items() if not 0.0 < v < 1.0}
        if bad:
            raise ValueError(f"type thresholds must lie strictly between 0 and 1, got {bad}")

    def to_dict(self) -> dict:
        d = asdict(self)
        # Off, the split and the smoothing are left out: model files and resume keys written before them stay
        # byte-identical.
        for name in ("split_depth", "smooth_seconds"):
            if not d[name]:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> MomentDecoding:
        """From a model file's metadata; unknown keys are an error (a newer file), missing ones take defaults."""
        if not isinstance(d, Mapping):
            raise ValueError(f"the moment decoding settings are a {type(d).__name__}, not a mapping of settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown moment decoding settings {unknown}; this model file is newer than "
                             "this StutterScope, update StutterScope")
        return cls(**d)


def runs(flags: np.ndarray) -> np.ndarray:
    """(n, 2) [first, stop) frame index pairs of the runs of True in a 1-D bool array."""
    padded = np.concatenate([[False], np.asarray(flags, bool), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))  # rising edges at run starts, falling edges at run stops
    return edges.reshape(-1, 2)


def hysteresis_runs(p: np.ndarray, *, onset: float, offset: float) -> np.ndarray:
    """(n, 2) [first, stop) runs where p >= offset that hold at least one frame with p >= onset."""
    candidates = runs(p >= offset)
    if not len(candidates):
        return candidates
    seeds = np.cumsum(np.concatenate([[0], p >= onset]))  # seeds[i] = frames >= onset before frame i
    keep = seeds[candidates[:, 1]] > seeds[candidates[:, 0]]
    return candidates[keep]


def merge_runs(spans: np.ndarray, *, max_gap: int) -> np.ndarray:
    """Join [first, stop) runs whose gap (next first - this stop) is at most max_gap frames."""
    if len(spans) < 2:
        return spans
    starts_new = np.concatenate([[True], spans[1:, 0] - spans[:-1, 1] > max_gap])  # (n,) opens a group
    ends_group = np.concatenate([starts_new[1:], [True]])  # (n,) closes a group
    first, stop = spans[starts_new, 0], spans[ends_group, 1]
    return np.stack([first, stop], axis=1)


def valley_cuts(p: np.ndarray, *, depth: float, min_frames: int) -> list[int]:
    """Frame indices where p (one moment's frames) is cut: valleys at least `depth` below the highest p
    before them (since the last cut) and below the p that follows, each piece at least min_frames long.
    A wobble shallower than depth (a long prolongation) cuts nothing."""
    cuts: list[int] = []
    start, peak, valley = 0, float(p[0]) if len(p) else 0.0, -1  # valley -1: none open
    for i in range(1, len(p)):
        x = float(p[i])
        if valley < 0:
            peak = max(peak, x)
            if peak - x >= depth:
                valley = i  # dropped deep enough below the peak: a valley opens
        elif x < p[valley]:
            valley = i
        elif x - p[valley] >= depth:  # risen again as deep: the valley separates two moments
            if valley - start >= min_frames:
                cuts.append(valley)
                start, peak = valley, x
            peak, valley = max(peak, x), -1
    if cuts and len(p) - cuts[-1] < min_frames:
        cuts.pop()  # the last piece would be too short: it stays with the one before
    return cuts


def split_at_valleys(p: np.ndarray, spans: np.ndarray, *, depth: float, offset: float, min_frames: int) -> np.ndarray:
    """Each [first, stop) span cut at its valleys (valley_cuts), each piece trimmed of the frames below
    `offset` at its edges (the gap that merging had bridged)."""
    out = []
    for first, stop in spans:
        bounds = [first, *(first + c for c in valley_cuts(p[first:stop], depth=depth, min_frames=min_frames)), stop]
        for a, b in zip(bounds, bounds[1:], strict=False):
            above = np.flatnonzero(p[a:b] >= offset)
            out.append((a + above[0], a + above[-1] + 1) if len(above) and len(bounds) > 2 else (a, b))
    return np.asarray(out, np.int64).reshape(-1, 2)


def smoothing_frames(seconds: Seconds, frame_rate: float) -> int:
    """The odd number of frames nearest to `seconds` (0.18 s at 50 per second: 9); 1 (nothing) for 0."""
    k = int(round(seconds * frame_rate))
    return k + 1 if k % 2 == 0 else k


def smooth_frames(probs: np.ndarray, k: int) -> np.ndarray:
    """(frames, channels) averaged over the k frames centred on each (k odd); at the edges, over the frames
    there are (a window half outside the recording is not diluted by zeros)."""
    n = len(probs)
    if k <= 1 or n == 0:
        return probs
    half = k // 2
    total = np.zeros((n + 1, probs.shape[1]))  # (n + 1, C): total[i] = sum of the first i frames
    np.cumsum(probs, axis=0, dtype=np.float64, out=total[1:])
    out = np.empty(probs.shape, np.float32)
    if n > 2 * half:  # whole windows: frames half .. n - half - 1
        out[half:n - half] = (total[k:] - total[:n + 1 - k]) / k
    edge = np.unique(np.r_[0:min(half, n), max(n - half, 0):n])  # (e,) frames whose window is cut
    lo, hi = np.maximum(edge - half, 0), np.minimum(edge + half + 1, n)
    out[edge] = (total[hi] - total[lo]) / (hi - lo)[:, None]
    return out


def _spans(p: np.ndarray, keep: np.ndarray, *, onset: float, offset: float, merge_gap: Seconds,
           min_duration: Seconds, frame_rate: float, split_depth: float = 0.0) -> np.ndarray:
    """[first, stop) frame runs decoded from p, inside each stretch of `keep` on its own."""
    # A small tolerance: a gap of exactly merge_gap seconds is merged despite float rounding.
    max_gap = int(np.floor(merge_gap * frame_rate + 1e-6))
    min_frames = max(1, int(np.ceil(min_duration * frame_rate - 1e-6)))
    out = []
    for a, b in runs(keep):
        spans = merge_runs(hysteresis_runs(p[a:b], onset=onset, offset=offset), max_gap=max_gap)
        if split_depth > 0:
            spans = split_at_valleys(p[a:b], spans, depth=split_depth, offset=offset, min_frames=min_frames)
        spans = spans + a
        out.append(spans[(spans[:, 1] - spans[:, 0]) / frame_rate >= min_duration - 1e-9])
    return np.concatenate(out) if out else np.zeros((0, 2), np.int64)


def exclusion_mask(n_frames: int, exclude: Iterable[tuple[Seconds, Seconds]], frame_rate: float) -> np.ndarray:
    """(n_frames,) True for frames whose centre lies in one of the [start, end) stretches."""
    mask = np.zeros(n_frames, bool)
    for start, end in exclude:
        # centre (i + 0.5) / rate in [start, end)  <=>  start * rate - 0.5 <= i < end * rate - 0.5
        first, stop = (max(0, int(np.ceil(t * frame_rate - 0.5))) for t in (start, end))
        mask[first:stop] = True
    return mask


def decode_moments(frame_probs: np.ndarray, *, frame_rate: float, options: MomentDecoding | None = None,
                   channels: tuple[str, ...] = FRAME_CHANNELS, exclude: Iterable[tuple[Seconds, Seconds]] = (),
                   cancel: Callable[[], bool] | None = None) -> list[Moment]:
    """Stuttering moments and interjections from frame probabilities, sorted by onset.

    frame_probs: (frames, channels) probabilities; frame i covers [i, i + 1) / frame_rate seconds.
    frame_rate: frames per second (the Whisper encoder's tokens: model.audio.decode.TOKENS_PER_SECOND, 50).
    options: smoothing, thresholds, minimum duration and gap merging (default: MomentDecoding()).
    channels: the names of frame_probs' columns: "moment", then types (default FRAME_CHANNELS).
    exclude: [start, end) stretches in seconds that are not the client (an interviewer); nothing is
        decoded there, and a moment never bridges one.
    cancel: polled every _CANCEL_EVERY moments; True raises model.errors.Cancelled (2 hours of a random
        model's frames hold ~50,000 moments: 3.4 s on 2 cores).
    Returns Moment objects: kind "stuttering" (the stuttering-like types whose mean probability inside
    reaches their threshold, likeliest first; the likeliest alone when none does) and kind "interjection".
    """
    options = options or MomentDecoding()
    probs = np.asarray(frame_probs, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[1] != len(channels):
        raise ValueError(f"frame_probs must be (frames, {len(channels)}) for channels {list(channels)}, "
                         f"got shape {probs.shape}")
    if frame_rate <= 0:
        raise ValueError(f"frame_rate must be positive (frames per second), not {frame_rate}")
    if MOMENT_CHANNEL not in channels:
        raise ValueError(f"channels must include {MOMENT_CHANNEL!r}, got {list(channels)}")
    if options.smooth_seconds:
        probs = smooth_frames(probs, smoothing_frames(options.smooth_seconds, frame_rate))
    keep = ~exclusion_mask(len(probs), exclude, frame_rate)
    moment = probs[:, channels.index(MOMENT_CHANNEL)]
    type_cols = [(label, channels.index(label)) for label in SLD_LABELS if label in channels]
    out = []
    spans = _spans(moment, keep, onset=options.onset, offset=options.offset, merge_gap=options.merge_gap,
                   min_duration=options.min_duration, frame_rate=frame_rate, split_depth=options.split_depth)
    for i, (first, stop) in enumerate(spans):
        if i % _CANCEL_EVERY == 0 and cancel is not None and cancel():
            raise Cancelled("moment decoding cancelled")
        means = {label: float(probs[first:stop, j].mean()) for label, j in type_cols}
        likeliest = sorted(means, key=lambda label: -means[label])  # stable: ties keep label order
        types = tuple(label for label in likeliest if means[label] >= options.type_thresholds[label])
        if not types and means:
            types = (likeliest[0],)
        out.append(Moment(int(first) / frame_rate, int(stop) / frame_rate, float(moment[first:stop].max()), types))
    if INTERJECTION_LABEL in channels:
        p = probs[:, channels.index(INTERJECTION_LABEL)]
        for first, stop in _spans(p, keep, onset=options.interjection_onset, offset=options.interjection_offset,
                                  merge_gap=options.interjection_merge_gap,
                                  min_duration=options.interjection_min_duration, frame_rate=frame_rate):
            out.append(Moment(int(first) / frame_rate, int(stop) / frame_rate, float(p[first:stop].max()),
                              (INTERJECTION_LABEL,), INTERJECTION))
    return sorted(out, key=lambda m: (m.start, m.kind != STUTTERING))


def longest_mean(durations: Iterable[Seconds], k: int = 3) -> Seconds:
    """Mean of the k longest durations (SSI-4 duration uses the three longest moments); 0 when there is none."""
    longest = sorted(durations, reverse=True)[:k]
    return float(np.mean(longest)) if longest else 0.0


@dataclass(frozen=True)
class MomentSummary:
    """A recording's moments in numbers: stuttering moments and interjections apart."""

    duration: Seconds  # seconds of audio in the recording
    moments: int  # stuttering-like moments, each counted once whatever its types
    moments_per_minute: float
    type_counts: dict[str, int]  # moments carrying each stuttering-like type (a moment can carry two)
    interjections: int  # interjections, apart from the moments
    interjections_per_minute: float
    longest3: tuple[Seconds, ...]  # durations of the three longest moments
    longest3_mean: Seconds  # their mean (0 without moments): the SSI-4 duration component, measured

    def to_dict(self) -> dict:
        d = asdict(self)
        d["longest3"] = list(self.longest3)
        return d


def summarize_moments(moments: Iterable[Moment], *, duration: Seconds) -> MomentSummary:
    """Counts per minute, per type, and the mean of the three longest stuttering moments."""
    moments = list(moments)
    stutters = [m for m in moments if m.kind == STUTTERING]
    interjections = [m for m in moments if m.kind == INTERJECTION]
    minutes = max(duration, 1e-9) / 60.0
    longest = tuple(sorted((round(m.duration, 3) for m in stutters), reverse=True)[:3])
    return MomentSummary(
        duration=round(duration, 3), moments=len(stutters), moments_per_minute=round(len(stutters) / minutes, 3),
        type_counts={label: sum(label in m.types for m in stutters) for label in SLD_LABELS},
        interjections=len(interjections), interjections_per_minute=round(len(interjections) / minutes, 3),
        longest3=longest, longest3_mean=round(longest_mean(m.duration for m in stutters), 3))
