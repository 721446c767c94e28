"""Events (the front ends' record of a moment, reviewed or not) and a recording's summary of them.

The model's events come from the frame model's moments (model.analysis.moment_events), one per moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .labels import LABELS, NON_SLD_LABELS, SLD_LABELS
from .measures import in_stretches, merge_stretches

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


@dataclass(frozen=True)
class RecordingSummary:
    """Counts, rates and durations of a set of events (model.events.summarize)."""

    duration: float  # seconds
    counts: dict[str, int]  # events per type
    per_minute: dict[str, float]  # events per minute per type
    sld_count: int  # stuttering-like disfluencies (all types but Interjection)
    sld_per_minute: float  # SLD events per minute of recording
    sld_time_share: float  # share of the (client's) recording time inside an SLD event, overlaps once (0-1)
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


def summarize(events: Iterable[Event], *, duration: float, labels: Sequence[str] = LABELS,
              excluded: Iterable[tuple[float, float]] = ()) -> RecordingSummary:
    """The one summary of a set of events: what the screen, the CSVs, the PDFs and the course charts show.

    Args:
        events: the events counted (the model's, or what a review keeps).
        duration: seconds of recording the rates are per (the predictions' `duration`, a session's).
        labels: the types counted, in order (the model's; default model.labels.LABELS).
        excluded: (start, end) seconds that are not the client: events whose midpoint lies in one are
            left out (model.measures' rule) and the rates are per minute of the rest of the recording.

    Returns:
        Counts and rates per type, SLD and Interjection apart, the SLD time share and the three longest SLD events.
    """
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
        duration=round(duration, 3), counts=counts,
        per_minute={k: round(v / minutes, 3) for k, v in counts.items()},
        sld_count=len(sld), sld_per_minute=round(len(sld) / minutes, 3),
        sld_time_share=round(_sld_time_share(sld, stretches, duration), 4),
        interjection_count=interjections, interjection_per_minute=round(interjections / minutes, 3),
        longest3=longest, longest3_mean=round(float(np.mean(longest)), 3) if longest else 0.0,
        excluded_s=round(excluded_s, 3), excluded_events=len(every) - len(events))


def _sld_time_share(sld: list[Event], stretches: list[tuple[float, float]], duration: float) -> float:
    """Seconds inside an SLD event (overlapping events counted once) outside the stretches, over the seconds
    outside them. Follows a review's edits, and needs only the events: a stored session gets the same share."""
    spans = merge_stretches(((e.start, e.end) for e in sld if e.end > e.start), duration=duration)
    inside = sum(end - start for start, end in spans)
    # Both lists are sorted and disjoint: walk them together (a review change stays O(events + stretches)).
    i = 0
    for a, b in stretches:
        while i < len(spans) and spans[i][1] <= a:
            i += 1
        j = i
        while j < len(spans) and spans[j][0] < b:
            inside -= min(spans[j][1], b) - max(spans[j][0], a)
            j += 1
    client = duration - sum(b - a for a, b in stretches)
    return min(1.0, max(0.0, inside / client)) if client > 0 else 0.0
