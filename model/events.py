"""From per-window probabilities to events and a recording summary.

An event is a run of consecutive windows in which one type is at or above its threshold: it starts
where the first window starts and ends where the last one ends. Boundaries therefore have the
resolution of the window hop (1 s by default) and durations are upper bounds: a 3 s window says a
disfluency lies somewhere inside it, not where.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .labels import NON_SLD_LABELS, SLD_LABELS
from .predictions import WindowPredictions


@dataclass(frozen=True)
class Event:
    label: str
    start: float  # seconds
    end: float  # seconds
    confidence: float  # the highest window probability inside the event

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {**asdict(self), "duration": round(self.duration, 3)}


def positive_windows(preds: WindowPredictions, thresholds: dict[str, float]) -> np.ndarray:
    """(windows, labels) bool: which windows are positive for which type."""
    missing = [label for label in preds.labels if label not in thresholds]
    if missing:
        raise ValueError(f"no threshold for {missing}")
    cut = np.asarray([thresholds[label] for label in preds.labels], np.float32)
    return preds.probs >= cut[None, :]


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
    duration: float  # seconds
    windows: int  # analysis windows
    counts: dict[str, int]  # events per type
    per_minute: dict[str, float]  # events per minute per type
    sld_count: int  # stuttering-like disfluencies (all types but Interjection)
    sld_per_minute: float
    sld_window_share: float  # share of windows with any SLD type positive (0-1)
    interjection_count: int
    interjection_per_minute: float
    longest3: tuple[float, ...]  # durations of the three longest SLD events, seconds (upper bounds)
    longest3_mean: float  # their mean (0 when there is none), an SSI-4 duration component

    def to_dict(self) -> dict:
        d = asdict(self)
        d["longest3"] = list(self.longest3)
        return d


def summarize(preds: WindowPredictions, events: list[Event], thresholds: dict[str, float] | None = None) -> RecordingSummary:
    """The recording's summary; `thresholds` (for the SLD window share) default to those that made the events."""
    minutes = max(preds.duration, 1e-9) / 60.0
    counts = {label: sum(e.label == label for e in events) for label in preds.labels}
    sld = [e for e in events if e.label in SLD_LABELS]
    interjections = sum(counts.get(label, 0) for label in NON_SLD_LABELS)
    if thresholds is None:
        share = _share_from_events(preds, sld)
    else:
        positive = positive_windows(preds, thresholds)
        sld_cols = [j for j, label in enumerate(preds.labels) if label in SLD_LABELS]
        share = float(positive[:, sld_cols].any(axis=1).mean()) if len(preds.starts) else 0.0
    longest = tuple(sorted((round(e.duration, 3) for e in sld), reverse=True)[:3])
    return RecordingSummary(
        duration=round(preds.duration, 3), windows=len(preds.starts), counts=counts,
        per_minute={k: round(v / minutes, 3) for k, v in counts.items()},
        sld_count=len(sld), sld_per_minute=round(len(sld) / minutes, 3), sld_window_share=round(share, 4),
        interjection_count=interjections, interjection_per_minute=round(interjections / minutes, 3),
        longest3=longest, longest3_mean=round(float(np.mean(longest)), 3) if longest else 0.0)


def _share_from_events(preds: WindowPredictions, sld: list[Event]) -> float:
    """Share of windows that lie inside an SLD event (used when events were edited by hand)."""
    if not len(preds.starts):
        return 0.0
    inside = np.zeros(len(preds.starts), bool)
    for e in sld:
        inside |= (preds.starts >= e.start - 1e-6) & (preds.ends <= e.end + 1e-6)
    return float(inside.mean())
