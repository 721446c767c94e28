"""The clinician's review of one analysis: decisions kept apart from the model's moments, with undo/redo.

No Qt here: `app.qt.state` wraps this in signals for the widgets, and the tests drive it directly.

The model's moments are never edited. They are re-decoded from the stored frame probabilities
whenever a per-type threshold (the "sensitivity") changes, so a slider costs no model run. A slider
re-decides only moments the clinician has not decided on: a decided one stays, whatever the
threshold (it is "pinned"). The clinician's decisions live in a separate map keyed by the model
event they concern, plus a list of events the clinician added. Threshold changes are on the undo
stack with the decisions.

The review counts as it goes: every count, measure, export and saved session is the clinician's
decision where one is made and the model's event elsewhere (rejected ones out, added ones in, retyped
and adjusted ones as decided), always labelled with `progress` ("reviewed k of n"). Events in a
stretch that is not the client (`excluded`, mirrored from app.qt.clinical_state) are marked, counted
nowhere, and need no decision: they are not in n.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from model.measures.clinical import in_stretches, merge_stretches
from model.measures.summary import summarize
from model.moments.decoding import REJECTED, REVIEW_STATUSES, Moment
from model.pipeline.analysis import Analysis, analyse_predictions

log = logging.getLogger(__name__)

STATUSES = REVIEW_STATUSES  # a clinician's decisions (model.moments.decoding)
BASIS_REVIEW = "reviewed"  # every model event (of the client) has a decision: the counts are the clinician's
BASIS_MIXED = "mixed"  # some have: the clinician's decisions where made, the model's events elsewhere
BASIS_MODEL = "model"  # none has: the model's events as it found them
EXCLUDE_TEXT = "Not the client"  # the undo step of marking or giving back a stretch
MIN_EVENT_SECONDS = 0.05  # shorter events are a slip of the mouse, not a disfluency


@dataclass(frozen=True)
class EventRow:
    """What a table row or a waveform span shows: a moment (the model's, a decision on it, or an added one)."""

    key: str  # stable while the row exists: "m:<kind>:<start>:<end>" or "a:<n>"
    moment: Moment  # status UNREVIEWED, or the clinician's decision (origin: index into the model moments)
    model_label: str | None = None  # what the model said, when the clinician retyped it
    not_client: bool = False  # in a stretch that is not the client: counted nowhere, needs no decision

    label = property(lambda self: self.moment.label)
    types = property(lambda self: self.moment.types)
    kind = property(lambda self: self.moment.kind)
    start = property(lambda self: self.moment.start)
    end = property(lambda self: self.moment.end)
    confidence = property(lambda self: self.moment.confidence)
    status = property(lambda self: self.moment.status)
    origin = property(lambda self: self.moment.origin)
    duration = property(lambda self: self.moment.duration)
    reviewed = property(lambda self: self.moment.reviewed)

    @property
    def kept(self) -> bool:
        """Does the row count in the summary, the measures and the exports?"""
        return self.moment.counted and not self.not_client

    @property
    def decision(self) -> str:
        """What an export's decision column says: the status, or "not the client"."""
        return "not the client" if self.not_client else self.status


def _event_key(moment: Moment) -> str:
    """A model moment is where it is: a slider that makes the model read other types there (a Block+SoundRep
    moment read as SoundRep alone once Block's threshold rises) leaves it the same moment, decision and all."""
    return f"m:{moment.kind}:{moment.start:.3f}:{moment.end:.3f}"


def _order(labels: tuple[str, ...]) -> Callable[[Moment], tuple]:
    return lambda m: (m.start, labels.index(m.label), m.end)  # the model's own order: start, then type order


@dataclass(frozen=True)
class _Decision:
    """The clinician's view of one model moment, or one added moment. A decided moment keeps the types it was
    decided with, whatever a slider later makes the model read there."""

    types: tuple[str, ...]
    start: float
    end: float
    rejected: bool = False
    retyped: bool = False  # the clinician gave a model moment another type than the model's

    @property
    def label(self) -> str:
        return self.types[0]


# What undo restores: decisions on model events, added events, thresholds, the model events, analysis and
# the stretches that are not the client.
_Snapshot = tuple[dict[str, _Decision], dict[str, _Decision], dict[str, float], tuple[Moment, ...], Analysis,
                  tuple[tuple[float, float], ...]]


class ReviewSession:
    """Thresholds, model events, decisions and the undo history of one recording's analysis."""

    def __init__(self, preds, thresholds: dict[str, float], *, analysis: Analysis | None = None):
        self.preds = preds
        self.labels: tuple[str, ...] = tuple(preds.labels)
        self.model_thresholds = self._checked(thresholds)
        self._thresholds = dict(self.model_thresholds)
        # The model's own events and summary at these thresholds (model.pipeline.analysis), reused when given.
        self.analysis = analysis if analysis is not None else analyse_predictions(preds, self._thresholds)
        self._model_events: list[Moment] = list(self.analysis.moments)
        self._decisions: dict[str, _Decision] = {}  # key of a model event -> decision
        self._added: dict[str, _Decision] = {}  # "a:<n>" -> event
        self._next_added = 0
        self._excluded: tuple[tuple[float, float], ...] = ()  # not the client (app.clinical.ClinicalData's)
        self._undo: list[tuple[str, _Snapshot, _Snapshot]] = []
        self._redo: list[tuple[str, _Snapshot, _Snapshot]] = []
        self._merge_key = ""  # consecutive moves of one slider make one undo step
        self._listeners: list[Callable[[], None]] = []
        self._rows: list[EventRow] | None = None  # rows() as of the last change; every change ends in _changed

    @classmethod
    def from_analysis(cls, analysis: Analysis) -> ReviewSession:
        """The review of a finished analysis, starting from its thresholds and events."""
        return cls(analysis.predictions, analysis.thresholds, analysis=analysis)

    def _reanalyse(self) -> None:
        # The same pipeline step every front end uses (model.pipeline.analysis), at the review's thresholds.
        self.analysis = analyse_predictions(self.preds, self._thresholds)
        self._model_events = list(self.analysis.moments)

    # ---- observers -------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[], None]) -> None:
        """callback() runs after every change of events, decisions or thresholds."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        self._rows = None  # the counts, progress and summary all read rows(): built once per change
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
        """Re-decide the model's undecided events of one type from the stored probabilities (undoable)."""
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}; use one of {list(self.labels)}")
        if not 0.0 < value < 1.0:
            raise ValueError(f"a threshold must lie strictly between 0 and 1, not {value}")
        if self._thresholds[label] == value:
            return
        before = self._snapshot()
        self._thresholds[label] = float(value)
        self._redetect()
        self._record(f"{label} sensitivity", before, merge_key=f"threshold:{label}")

    def reset_thresholds(self) -> None:
        if self._thresholds == self.model_thresholds:
            return
        before = self._snapshot()
        self._thresholds = dict(self.model_thresholds)
        self._redetect()
        self._record("Model's thresholds", before)

    def _redetect(self, pinned: Iterable[Moment] = ()) -> None:
        """Model events at the current thresholds, plus the decided ones the thresholds no longer give."""
        self._rows = None
        previous = {_event_key(e): e for e in (*self._model_events, *pinned)}
        self._reanalyse()
        keys = {_event_key(e) for e in self._model_events}
        kept = [previous[k] for k in self._decisions if k in previous and k not in keys]
        self._model_events = sorted(self._model_events + kept, key=_order(self.labels))

    def pinned_events(self) -> list[Moment]:
        """Decided model moments that the current thresholds alone would not give (kept by the decision)."""
        detected = {_event_key(e) for e in self.analysis.moments}
        return [e for e in self._model_events if _event_key(e) not in detected]

    # ---- reading ---------------------------------------------------------------------------------
    @property
    def model_events(self) -> list[Moment]:
        """The model's moments at the current thresholds (pinned ones too), untouched by the review."""
        return list(self._model_events)

    def rows(self) -> list[EventRow]:
        """Model events with their decisions, and added events, by start time."""
        if self._rows is None:
            self._rows = self._build_rows()
        return list(self._rows)

    def _build_rows(self) -> list[EventRow]:
        rows = [self._model_row(i, event) for i, event in enumerate(self._model_events)]
        rows += [EventRow(key, Moment(d.start, d.end, 1.0, d.types, status=REJECTED if d.rejected else "added"))
                 for key, d in self._added.items()]
        if self._excluded:
            rows = [replace(r, not_client=in_stretches(r.start, r.end, self._excluded)) for r in rows]
        # The model's own order (start, then type order), so an untouched review lists exactly its events.
        return sorted(rows, key=lambda r: (r.start, self.labels.index(r.label), r.end, r.key))

    def _model_row(self, index: int, moment: Moment) -> EventRow:
        key = _event_key(moment)
        decision = self._decisions.get(key)
        if decision is None:
            return EventRow(key, moment)
        # Its types as decided: the model's at the time (all of them), or the one the clinician retyped it as.
        decided = Moment(decision.start, decision.end, moment.confidence, decision.types,
                         status=_status(moment, decision), origin=index)
        return EventRow(key, decided, moment.label if decision.retyped else None)

    def row(self, key: str) -> EventRow:
        for row in self.rows():
            if row.key == key:
                return row
        raise KeyError(f"no event {key!r} in this review")

    def final_moments(self) -> list[Moment]:
        """What the review keeps: rejected and not-the-client moments left out, decisions applied, undecided
        moments as the model said."""
        return [row.moment for row in self.rows() if row.kept]

    @property
    def has_decisions(self) -> bool:
        return bool(self._decisions or self._added)

    @property
    def progress(self) -> tuple[int, int]:
        """(k, n): k of the n model events of the client on screen have a decision (added events and those
        not the client's are not in n)."""
        mine = [r for r in self.rows() if r.key.startswith("m:") and not r.not_client]
        return sum(r.reviewed for r in mine), len(mine)

    @property
    def basis(self) -> str:
        """BASIS_REVIEW once every model event has a decision (and there is one), BASIS_MODEL before any,
        BASIS_MIXED between: the counts always follow the decisions made so far."""
        k, n = self.progress
        if not self.has_decisions:
            return BASIS_MODEL
        return BASIS_REVIEW if k == n else BASIS_MIXED

    def counted_rows(self) -> list[EventRow]:
        """The rows the counts, measures and exports count: decisions where made, the model's events elsewhere."""
        return [row for row in self.rows() if row.kept]

    def counted_moments(self) -> list[Moment]:
        """What the counts and the clinical measures are given: decided and undecided moments (rejected ones
        out), each with all its types. Those in a stretch that is not the client stay in: summarize and
        model.measures.clinical.compute_measures leave them out, and count them, by the rule `rows` marks them with."""
        return [r.moment for r in self.rows() if r.moment.counted]

    def progress_text(self) -> str:
        """"reviewed k of n": the label every count carries."""
        k, n = self.progress
        return f"reviewed {k} of {n}"

    def counted_from(self) -> str:
        """What the counts are, in words, e.g. "the model's events and your decisions (reviewed 3 of 25)"."""
        what = {BASIS_REVIEW: "the clinician's review", BASIS_MIXED: "the clinician's decisions where made, "
                "the model's events elsewhere", BASIS_MODEL: "the model's events"}[self.basis]
        others = sum(r.not_client for r in self.rows())
        return f"{what} ({self.progress_text()})" + (f"; {others} not the client, left out" if others else "")

    def summary(self, *, excluded=None):
        """The recording summary of what is counted (model.measures.summary.RecordingSummary), over the client's time
        (`excluded`: these stretches rather than the review's own)."""
        return summarize(self.counted_moments(), duration=self.preds.duration, labels=self.labels,
                         excluded=self._excluded if excluded is None else excluded)

    # ---- not the client --------------------------------------------------------------------------
    @property
    def excluded(self) -> tuple[tuple[float, float], ...]:
        return self._excluded

    def set_excluded(self, stretches, *, record: bool = True) -> None:
        """The stretches that are not the client (merged, clipped); record: an undo step (a clinician's
        mark), else a load (a stored session's or a new analysis's stretches)."""
        stretches = tuple(merge_stretches(stretches, duration=self.preds.duration))
        if stretches == self._excluded:
            return
        before = self._snapshot()
        self._excluded = stretches
        if record:
            self._record(EXCLUDE_TEXT, before)
        else:
            self._changed()

    def reviewed_events(self) -> list[Moment]:
        """The clinician's decisions on visible moments (origin = index into model_events), and added ones."""
        return [r.moment for r in self.rows() if r.reviewed]

    # ---- review actions (each one undoable) ------------------------------------------------------
    def accept(self, key: str) -> None:
        self._edit(key, "Accept", lambda d: replace(d, rejected=False))

    def reject(self, key: str) -> None:
        self._edit(key, "Reject", lambda d: replace(d, rejected=True))

    def retype(self, key: str, label: str) -> None:
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}; use one of {list(self.labels)}")
        model = self._model_moment(key)
        if model is not None and label == model.label:  # back to the model's type: its types, all of them
            types, retyped = model.types, False
        else:
            types, retyped = (label,), model is not None
        self._edit(key, f"Retype as {label}", lambda d: replace(d, types=types, retyped=retyped, rejected=False))

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
        self._added[key] = _Decision((label,), start, end)
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
        if updated == current and (key in self._decisions or key in self._added):
            return  # the same decision again (a drag let go where it started): no undo step
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
        model = self._model_moment(key)
        if model is None:
            raise KeyError(f"no event {key!r} in this review")
        return _Decision(model.types, model.start, model.end)

    def _model_moment(self, key: str) -> Moment | None:
        return next((m for m in self._model_events if _event_key(m) == key), None)

    # ---- undo / redo -----------------------------------------------------------------------------
    def _snapshot(self) -> _Snapshot:
        return (dict(self._decisions), dict(self._added), dict(self._thresholds), tuple(self._model_events),
                self.analysis, self._excluded)

    def _restore(self, snapshot: _Snapshot) -> None:
        self._rows = None
        self._decisions, self._added = dict(snapshot[0]), dict(snapshot[1])
        self._thresholds, self._model_events, self.analysis = dict(snapshot[2]), list(snapshot[3]), snapshot[4]
        self._excluded = snapshot[5]
        self._merge_key = ""

    def _record(self, text: str, before: _Snapshot, *, merge_key: str = "") -> None:
        if merge_key and merge_key == self._merge_key and self._undo and not self._redo:
            text, before, _after = self._undo.pop()  # the same slider again: one step from where it started
        self._undo.append((text, before, self._snapshot()))
        self._merge_key = merge_key
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
        """Thresholds, decisions and pinned events, as JSON-ready data (the records and drafts keep these)."""
        return {"thresholds": self.thresholds,
                "reviewed": [e.to_dict() for e in self.reviewed_events()],
                "pinned": [e.to_dict() for e in self.pinned_events()]}

    def load(self, data: dict) -> None:
        """Restore thresholds and decisions saved by to_dict() for the same predictions (clears undo)."""
        self._thresholds = self._checked({**self.model_thresholds, **data.get("thresholds", {})})
        pinned = [Moment.from_dict(d) for d in data.get("pinned", [])]
        self._decisions = {_event_key(e): _Decision(e.types, e.start, e.end) for e in pinned}
        self._model_events = []
        self._redetect(pinned)
        # The decisions' origins index the model moments as they were saved: those at these thresholds and the
        # pinned ones. A draft written before moments were keyed by where they are may pin a moment the
        # thresholds now read with other types at the same place: it had its own index then.
        detected = {(m.label, m.start, m.end) for m in self.analysis.moments}
        saved = sorted([*self.analysis.moments, *(m for m in pinned if (m.label, m.start, m.end) not in detected)],
                       key=_order(self.labels))
        self.restore_reviewed((Moment.from_dict(d) for d in data.get("reviewed", [])), saved)

    def restore_stored(self, *, thresholds: dict[str, float], model_events: Iterable[Moment | dict],
                       reviewed: Iterable[Moment | dict]) -> None:
        """Rebuild a stored session's review: its thresholds, its model events (pinned ones included) and
        decisions whose `origin` indexes them. Raises ValueError when these predictions give other events."""
        stored = [_as_moment(e) for e in model_events]
        self.load({"thresholds": thresholds, "pinned": [e.to_dict() for e in stored]})
        if {_event_key(e) for e in self._model_events} != {_event_key(e) for e in stored}:
            raise ValueError("the stored session's events are not what this analysis gives (another model or "
                             "settings?); choose the model the session was analysed with in Settings")
        self.restore_reviewed((_as_moment(e) for e in reviewed), stored)

    def restore_reviewed(self, reviewed: Iterable[Moment], model: list[Moment] | None = None) -> None:
        """Apply decisions whose `origin` indexes `model` (the model moments they were saved with; default: the
        current ones) (clears undo)."""
        model = self._model_events if model is None else model
        self._rows = None
        self._decisions, self._added = {}, {}
        for item in reviewed:
            decision = _Decision(item.types, item.start, item.end, rejected=item.status == REJECTED,
                                 retyped=item.status == "retyped")
            if item.origin is None:
                self._added[f"a:{self._next_added}"] = decision
                self._next_added += 1
            elif 0 <= item.origin < len(model):
                self._decisions[_event_key(model[item.origin])] = decision
            else:
                raise ValueError(f"a reviewed event points at model event {item.origin}, but there are "
                                 f"{len(model)}; restore with the thresholds it was saved with")
        self._undo.clear()
        self._redo.clear()
        self._merge_key = ""
        self._changed()


def _as_moment(m: Moment | dict) -> Moment:
    return m if isinstance(m, Moment) else Moment.from_dict(m)


def _status(moment: Moment, decision: _Decision) -> str:
    if decision.rejected:
        return "rejected"
    if decision.retyped:
        return "retyped"
    if (decision.start, decision.end) != (moment.start, moment.end):
        return "adjusted"
    return "accepted"


def _checked_span(start: float, end: float, duration: float) -> tuple[float, float]:
    start, end = max(0.0, float(start)), min(float(duration), float(end))
    if end - start < MIN_EVENT_SECONDS:
        raise ValueError(f"an event must last at least {MIN_EVENT_SECONDS} s inside the recording "
                         f"(0-{duration:.2f} s); got {start:.2f}-{end:.2f} s")
    return round(start, 3), round(end, 3)
