"""The clinician's review of one analysis: decisions kept apart from the model's events, with undo/redo.

No Qt here: `app.state` wraps this in signals for the widgets, and the tests drive it directly.

The model's events are never edited. They are re-derived from the stored window probabilities
whenever a per-type threshold (the "sensitivity") changes, so a slider costs no model run. The
clinician's decisions live in a separate map keyed by the model event they concern, plus a list of
events the clinician added. A decision on a model event that a stricter threshold hides is kept,
and comes back when the threshold does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace

from model.analysis import Analysis, analyse_predictions
from model.events import Event, summarize

log = logging.getLogger(__name__)

STATUSES = ("accepted", "rejected", "retyped", "adjusted", "added")
UNREVIEWED = "unreviewed"  # a model event nobody has looked at yet
MIN_EVENT_SECONDS = 0.05  # shorter events are a slip of the mouse, not a disfluency


@dataclass(frozen=True)
class ReviewedEvent:
    """One clinician decision; `origin` is the index of the model event it concerns (None: added)."""

    label: str
    start: float  # seconds
    end: float  # seconds
    confidence: float  # the model's; 1.0 for an event the clinician added
    status: str  # one of STATUSES
    origin: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if not self.end > self.start >= 0:
            raise ValueError(f"an event needs 0 <= start < end, got start={self.start}, end={self.end}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ReviewedEvent:
        origin = d.get("origin")
        return cls(label=str(d["label"]), start=float(d["start"]), end=float(d["end"]),
                   confidence=float(d.get("confidence", 1.0)), status=str(d["status"]),
                   origin=None if origin is None else int(origin))


@dataclass(frozen=True)
class EventRow:
    """What a table row or a waveform span shows: a model event with its decision, or an added event."""

    key: str  # stable while the row exists: "m:<label>:<start>:<end>" or "a:<n>"
    label: str
    start: float
    end: float
    confidence: float
    status: str  # UNREVIEWED or one of STATUSES
    origin: int | None  # index into ReviewSession.model_events; None for added events
    model_label: str | None = None  # what the model said, when the clinician retyped it

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def reviewed(self) -> bool:
        return self.status != UNREVIEWED

    @property
    def kept(self) -> bool:
        """Does the row count in the summary and the exports?"""
        return self.status != "rejected"

    def to_event(self) -> Event:
        return Event(label=self.label, start=self.start, end=self.end, confidence=self.confidence)


def _event_key(event: Event) -> str:
    return f"m:{event.label}:{event.start:.3f}:{event.end:.3f}"


@dataclass(frozen=True)
class _Decision:
    """The clinician's view of one model event, or one added event."""

    label: str
    start: float
    end: float
    rejected: bool = False


# What undo restores: the decisions on model events and the added events.
_Snapshot = tuple[dict[str, _Decision], dict[str, _Decision]]


class ReviewSession:
    """Thresholds, model events, decisions and the undo history of one recording's analysis."""

    def __init__(self, preds, thresholds: dict[str, float], *, analysis: Analysis | None = None):
        self.preds = preds
        self.labels: tuple[str, ...] = tuple(preds.labels)
        self.model_thresholds = self._checked(thresholds)
        self._thresholds = dict(self.model_thresholds)
        # The model's own events and summary at these thresholds (model.analysis), reused when given.
        self.analysis = analysis if analysis is not None else analyse_predictions(preds, self._thresholds)
        self._model_events: list[Event] = list(self.analysis.events)
        self._decisions: dict[str, _Decision] = {}  # key of a model event -> decision
        self._added: dict[str, _Decision] = {}  # "a:<n>" -> event
        self._next_added = 0
        self._undo: list[tuple[str, _Snapshot, _Snapshot]] = []
        self._redo: list[tuple[str, _Snapshot, _Snapshot]] = []
        self._listeners: list[Callable[[], None]] = []

    @classmethod
    def from_analysis(cls, analysis: Analysis) -> ReviewSession:
        """The review of a finished analysis, starting from its thresholds and events."""
        return cls(analysis.predictions, analysis.thresholds, analysis=analysis)

    def _reanalyse(self) -> None:
        # The same pipeline step every front end uses (model.analysis), at the review's thresholds.
        self.analysis = analyse_predictions(self.preds, self._thresholds)
        self._model_events = list(self.analysis.events)

    # ---- observers -------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[], None]) -> None:
        """callback() runs after every change of events, decisions or thresholds."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    # ---- thresholds ------------------------------------------------------------------------------
    def _checked(self, thresholds: dict[str, float]) -> dict[str, float]:
        missing = [label for label in self.labels if label not in thresholds]
        if missing:
            raise ValueError(f"thresholds are missing for {missing}; give one per label in {list(self.labels)}")
        return {label: float(thresholds[label]) for label in self.labels}

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self._thresholds)

    def set_threshold(self, label: str, value: float) -> None:
        """Re-decide the model's events of one type from the stored probabilities (no model run)."""
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}; use one of {list(self.labels)}")
        if not 0.0 < value < 1.0:
            raise ValueError(f"a threshold must lie strictly between 0 and 1, not {value}")
        if self._thresholds[label] == value:
            return
        self._thresholds[label] = float(value)
        self._reanalyse()
        self._changed()

    def reset_thresholds(self) -> None:
        self._thresholds = dict(self.model_thresholds)
        self._reanalyse()
        self._changed()

    # ---- reading ---------------------------------------------------------------------------------
    @property
    def model_events(self) -> list[Event]:
        """The model's events at the current thresholds, untouched by the review."""
        return list(self._model_events)

    def rows(self) -> list[EventRow]:
        """Model events with their decisions, and added events, by start time."""
        rows = [self._model_row(i, event) for i, event in enumerate(self._model_events)]
        rows += [EventRow(key, d.label, d.start, d.end, 1.0, "rejected" if d.rejected else "added", None)
                 for key, d in self._added.items()]
        # The model's own order (start, then type order), so an untouched review lists exactly its events.
        return sorted(rows, key=lambda r: (r.start, self.labels.index(r.label), r.end, r.key))

    def _model_row(self, index: int, event: Event) -> EventRow:
        key = _event_key(event)
        decision = self._decisions.get(key)
        if decision is None:
            return EventRow(key, event.label, event.start, event.end, event.confidence, UNREVIEWED, index)
        status = _status(event, decision)
        model_label = event.label if decision.label != event.label else None
        return EventRow(key, decision.label, decision.start, decision.end, event.confidence, status, index,
                        model_label)

    def row(self, key: str) -> EventRow:
        for row in self.rows():
            if row.key == key:
                return row
        raise KeyError(f"no event {key!r} in this review")

    def final_events(self) -> list[Event]:
        """What the review keeps: rejected events left out, decisions applied; unreviewed ones as the model said."""
        return [row.to_event() for row in self.rows() if row.kept]

    @property
    def has_decisions(self) -> bool:
        return bool(self._decisions or self._added)

    def summary(self):
        """The recording summary of what the review keeps (model.events.RecordingSummary)."""
        if not self.has_decisions:  # untouched: exactly the model's own summary
            return self.analysis.summary
        return summarize(self.final_events(), windows=self.preds)

    def reviewed_events(self) -> list[ReviewedEvent]:
        """The clinician's decisions on visible events (origin = index into model_events), and added events."""
        return [ReviewedEvent(r.label, r.start, r.end, r.confidence, r.status, r.origin)
                for r in self.rows() if r.reviewed]

    # ---- review actions (each one undoable) ------------------------------------------------------
    def accept(self, key: str) -> None:
        self._edit(key, "Accept", lambda d: replace(d, rejected=False))

    def reject(self, key: str) -> None:
        self._edit(key, "Reject", lambda d: replace(d, rejected=True))

    def retype(self, key: str, label: str) -> None:
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}; use one of {list(self.labels)}")
        self._edit(key, f"Retype as {label}", lambda d: replace(d, label=label, rejected=False))

    def adjust(self, key: str, start: float, end: float) -> None:
        start, end = _checked_span(start, end, self.preds.duration)
        self._edit(key, "Adjust bounds", lambda d: replace(d, start=start, end=end, rejected=False))

    def add(self, label: str, start: float, end: float) -> str:
        """Add an event the model missed; returns its row key."""
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}; use one of {list(self.labels)}")
        start, end = _checked_span(start, end, self.preds.duration)
        key = f"a:{self._next_added}"
        self._next_added += 1
        before = self._snapshot()
        self._added[key] = _Decision(label, start, end)
        self._record(f"Add {label}", before)
        return key

    def remove(self, key: str) -> None:
        """Delete an added event; a model event is rejected instead, so that the decision is kept."""
        if key not in self._added:
            self.reject(key)
            return
        before = self._snapshot()
        del self._added[key]
        self._record("Remove added event", before)

    def clear_decision(self, key: str) -> None:
        """Back to what the model said for this event."""
        if key not in self._decisions:
            return
        before = self._snapshot()
        del self._decisions[key]
        self._record("Clear decision", before)

    def _edit(self, key: str, text: str, change: Callable[[_Decision], _Decision]) -> None:
        current = self._current_decision(key)
        before = self._snapshot()
        updated = change(current)
        if key in self._added:
            self._added[key] = updated
        else:
            self._decisions[key] = updated
        self._record(text, before)

    def _current_decision(self, key: str) -> _Decision:
        if key in self._added:
            return self._added[key]
        if key in self._decisions:
            return self._decisions[key]
        for event in self._model_events:
            if _event_key(event) == key:
                return _Decision(event.label, event.start, event.end)
        raise KeyError(f"no event {key!r} in this review")

    # ---- undo / redo -----------------------------------------------------------------------------
    def _snapshot(self) -> _Snapshot:
        return dict(self._decisions), dict(self._added)

    def _restore(self, snapshot: _Snapshot) -> None:
        self._decisions, self._added = dict(snapshot[0]), dict(snapshot[1])

    def _record(self, text: str, before: _Snapshot) -> None:
        self._undo.append((text, before, self._snapshot()))
        self._redo.clear()
        log.debug("review: %s", text)
        self._changed()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1][0] if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1][0] if self._redo else ""

    def undo(self) -> None:
        if not self._undo:
            return
        step = self._undo.pop()
        self._restore(step[1])
        self._redo.append(step)
        self._changed()

    def redo(self) -> None:
        if not self._redo:
            return
        step = self._redo.pop()
        self._restore(step[2])
        self._undo.append(step)
        self._changed()

    # ---- persistence -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Thresholds and decisions, as JSON-ready data (the records keep these)."""
        return {"thresholds": self.thresholds,
                "reviewed": [e.to_dict() for e in self.reviewed_events()]}

    def load(self, data: dict) -> None:
        """Restore thresholds and decisions saved by to_dict() for the same predictions (clears undo)."""
        self._thresholds = self._checked({**self.model_thresholds, **data.get("thresholds", {})})
        self._reanalyse()
        self.restore_reviewed(ReviewedEvent.from_dict(d) for d in data.get("reviewed", []))

    def restore_reviewed(self, reviewed: Iterable[ReviewedEvent]) -> None:
        """Apply decisions whose `origin` indexes the current model events (clears undo)."""
        self._decisions, self._added = {}, {}
        for item in reviewed:
            decision = _Decision(item.label, item.start, item.end, rejected=item.status == "rejected")
            if item.origin is None:
                self._added[f"a:{self._next_added}"] = decision
                self._next_added += 1
            elif 0 <= item.origin < len(self._model_events):
                self._decisions[_event_key(self._model_events[item.origin])] = decision
            else:
                raise ValueError(f"a reviewed event points at model event {item.origin}, but there are "
                                 f"{len(self._model_events)}; restore with the thresholds it was saved with")
        self._undo.clear()
        self._redo.clear()
        self._changed()


def _status(event: Event, decision: _Decision) -> str:
    if decision.rejected:
        return "rejected"
    if decision.label != event.label:
        return "retyped"
    if (decision.start, decision.end) != (event.start, event.end):
        return "adjusted"
    return "accepted"


def _checked_span(start: float, end: float, duration: float) -> tuple[float, float]:
    start, end = max(0.0, float(start)), min(float(duration), float(end))
    if end - start < MIN_EVENT_SECONDS:
        raise ValueError(f"an event must last at least {MIN_EVENT_SECONDS} s inside the recording "
                         f"(0-{duration:.2f} s); got {start:.2f}-{end:.2f} s")
    return round(start, 3), round(end, 3)
