"""From per-window probabilities to events and a recording summary.

An event is a run of consecutive windows in which one type is at or above its threshold: it starts
where the first window starts and ends where the last one ends. Boundaries therefore have the
resolution of the window hop (1 s by default) and durations are upper bounds: a 3 s window says a
disfluency lies somewhere inside it, not where.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from .labels import LABELS, NON_SLD_LABELS, SLD_LABELS
from .measures import in_stretches, merge_stretches
from .predictions import WindowPredictions

UNREVIEWED = "unreviewed"  # the model's event as it found it: no clinician decision
REVIEW_STATUSES = ("accepted", "rejected", "retyped", "adjusted", "added")  # a clinician's decisions
REJECTED = "rejected"  # the one decision whose event does not count


@dataclass(frozen=True)
class Event:
    """One event, from the model through the review to the records (a dict only at the SQLite edge).

    The model's events are UNREVIEWED; a clinician's decision is an Event with its status, and `origin`
    naming the model event it concerns (None for one the clinician added).
    """

    label: str  # one of the model's types (model.labels.LABELS)
    start: float  # seconds
    end: float  # seconds
    confidence: float  # the highest window probability inside the event (1.0 for one a clinician added)
    status: str = UNREVIEWED  # UNREVIEWED or one of REVIEW_STATUSES
    origin: int | None = None  # a decision's model event: its index among the model events; None if added
    types: tuple[str, ...] = ()  # the moment's types, `label` first (a moment of two types); () for `label` alone

    def __post_init__(self) -> None:
        if self.types and self.types[0] != self.label:
            raise ValueError(f"an event's types begin with its label {self.label!r}, got {self.types}")
        if len(self.types) == 1:  # one type is the label: one way to say it, so equal events compare equal
            object.__setattr__(self, "types", ())
        if self.status == UNREVIEWED:
            return
        if self.status not in REVIEW_STATUSES:
            raise ValueError(f"status must be one of {REVIEW_STATUSES}, not {self.status!r}")
        if not self.end > self.start >= 0:
            raise ValueError(f"an event needs 0 <= start < end, got start={self.start}, end={self.end}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def all_types(self) -> tuple[str, ...]:
        """Every type of the moment the event stands for (its label alone unless it carries more)."""
        return self.types or (self.label,)

    @property
    def reviewed(self) -> bool:
        """Is this a clinician's decision (rather than the model's event as it found it)?"""
        return self.status != UNREVIEWED

    @property
    def counted(self) -> bool:
        """Does it count in summaries, reports and exports? (A rejected event does not.)"""
        return self.status != REJECTED

    def to_dict(self) -> dict:
        """JSON-ready: a model event with its duration; a decision with its status and origin."""
        d = asdict(self)
        d["types"] = list(self.types)
        if len(self.types) < 2:  # one type is the label: the dict stays as it was before moments had types
            del d["types"]
        if not self.reviewed:
            del d["status"], d["origin"]
            d["duration"] = round(self.duration, 3)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Event:
        """An event from a stored dict (the records' rows, a results.json); extra keys are ignored."""
        origin = d.get("origin")
        types = tuple(str(t) for t in d.get("types") or ())
        return cls(label=str(d["label"]), start=float(d["start"]), end=float(d["end"]),
                   confidence=float(1.0 if d.get("confidence") is None else d["confidence"]),
                   status=str(d.get("status") or UNREVIEWED), origin=None if origin is None else int(origin),
                   types=types if len(types) > 1 else ())


def positive_windows(preds: WindowPredictions, thresholds: dict[str, float]) -> np.ndarray:
    """(windows, labels) bool: which windows are positive for which type."""
    missing = [label for label in preds.labels if label not in thresholds]
    if missing:
        raise ValueError(f"no threshold for {missing}")
    cut = np.asarray([thresholds[label] for label in preds.labels], np.float32)
    positive = preds.probs >= cut[None, :]
    if preds.speech is not None:  # windows without speech get no events (model.speech_activity)
        positive &= preds.speech[:, None]
    return positive


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] index pairs of the runs of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))  # rising edges at run starts, falling after run ends
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def detect_events(preds: WindowPredictions, thresholds: dict[str, float]) -> list[Event]:
    """Events of every type, sorted by start time."""
    positive = positive_windows(preds, thresholds)
    ends = preds.ends
    events = []
    for j, label in enumerate(preds.labels):
        for first, last in _runs(positive[:, j]):
            events.append(Event(label, float(preds.starts[first]), float(ends[last]),
                                float(preds.probs[first:last + 1, j].max())))
    return sorted(events, key=lambda e: (e.start, preds.labels.index(e.label)))


@dataclass(frozen=True)
class RecordingSummary:
    """Counts, rates and durations of a set of events (model.events.summarize)."""

    duration: float  # seconds
    windows: int  # analysis windows (0 when summarised without the predictions, e.g. a stored session)
    counts: dict[str, int]  # events per type
    per_minute: dict[str, float]  # events per minute per type
    sld_count: int  # stuttering-like disfluencies (all types but Interjection)
    sld_per_minute: float  # SLD events per minute of recording
    sld_window_share: float  # share of windows inside an SLD event (0-1; 0 without the predictions)
    interjection_count: int  # Interjection events, counted apart from the SLD
    interjection_per_minute: float  # Interjection events per minute of recording
    longest3: tuple[float, ...]  # durations of the three longest SLD events, seconds (upper bounds)
    longest3_mean: float  # their mean (0 when there is none), an SSI-4 duration component
    excluded_s: float = 0.0  # seconds that are not the client: their events left out, rates over the rest
    excluded_events: int = 0  # events left out with them (midpoint inside a stretch, as model.measures)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["longest3"] = list(self.longest3)
        return d


def summarize(events: Iterable[Event], *, duration: float | None = None,
              windows: WindowPredictions | None = None,
              excluded: Iterable[tuple[float, float]] = ()) -> RecordingSummary:
    """The one summary of a set of events: what the screen, the CSVs, the PDFs and the course charts show.

    Args:
        events: the events counted (the model's, or what a review keeps).
        duration: seconds of recording the rates are per; default: `windows.duration`.
        windows: the predictions the events came from, for the window count and the SLD window share;
            None for stored sessions, whose summary needs neither (windows 0, share 0).
        excluded: (start, end) seconds that are not the client: events whose midpoint lies in one are
            left out (model.measures' rule) and the rates are per minute of the rest of the recording.

    Returns:
        Counts and rates per type, SLD and Interjection apart, and the three longest SLD events.
    """
    if duration is None:
        if windows is None:
            raise ValueError("give the recording's duration, or the window predictions the events came from")
        duration = windows.duration
    labels = windows.labels if windows is not None else LABELS
    stretches = merge_stretches(excluded, duration=duration)
    every = list(events)
    events = [e for e in every if not in_stretches(e.start, e.end, stretches)]
    excluded_s = sum(e - s for s, e in stretches)
    minutes = max(duration - excluded_s, 1e-9) / 60.0
    counts = {label: sum(e.label == label for e in events) for label in labels}
    sld = [e for e in events if e.label in SLD_LABELS]
    interjections = sum(counts.get(label, 0) for label in NON_SLD_LABELS)
    longest = tuple(sorted((round(float(e.duration), 3) for e in sld), reverse=True)[:3])
    return RecordingSummary(
        duration=round(duration, 3), windows=0 if windows is None else len(windows.starts), counts=counts,
        per_minute={k: round(v / minutes, 3) for k, v in counts.items()},
        sld_count=len(sld), sld_per_minute=round(len(sld) / minutes, 3),
        sld_window_share=0.0 if windows is None else round(_sld_window_share(windows, sld), 4),
        interjection_count=interjections, interjection_per_minute=round(interjections / minutes, 3),
        longest3=longest, longest3_mean=round(float(np.mean(longest)), 3) if longest else 0.0,
        excluded_s=round(excluded_s, 3), excluded_events=len(every) - len(events))


def _sld_window_share(preds: WindowPredictions, sld: list[Event]) -> float:
    """Share of windows that lie inside an SLD event.

    For the model's own events this is the share of windows positive for any SLD type (each positive
    window lies inside its run's event, and every window inside an event's span is one of its run);
    for a review's events it follows the clinician's edits.
    """
    if not len(preds.starts):
        return 0.0
    # Windows start and end in time order, so those inside an event are one run of indices: mark each run's
    # ends and sum (an O(windows + events log windows) count; a mask per event took a second per review
    # change on a 20-minute frame model's 60,000 rows and 1,000 moments).
    starts, ends = np.asarray(preds.starts), np.asarray(preds.ends)
    edges = np.zeros(len(starts) + 1, np.int64)
    for e in sld:
        lo = int(np.searchsorted(starts, e.start - 1e-6, side="left"))
        hi = int(np.searchsorted(ends, e.end + 1e-6, side="right"))
        if hi > lo:
            edges[lo] += 1
            edges[hi] -= 1
    return float((np.cumsum(edges[:-1]) > 0).mean())
