"""The analysis state the widgets observe: recording, envelope, predictions, review, selection, playhead.

A thin Qt adapter: the review logic is in app.review (no Qt); this object only holds the pieces
together and turns changes into signals. Widgets never talk to each other, only to this state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from model.pipeline.analysis import Analysis, analyse_predictions

from ..peaks import Envelope
from ..review import EventRow, ReviewSession


@dataclass(frozen=True)
class CurrentAnalysis:
    """What the records pages save as a session: the recording, the model's output and the review."""

    path: Path
    predictions: object  # model.moments.frame_inference.MomentPredictions
    review: ReviewSession
    session_id: int | None = None  # the stored session this review continues; None for a new analysis
    clinical: dict | None = None  # words and not-the-client stretches (app.clinical.ClinicalData.to_dict)


class AnalysisState(QObject):
    recording_changed = Signal()  # a new file: the old analysis is gone
    envelope_changed = Signal()
    analysis_changed = Signal()  # new predictions and a fresh review
    events_changed = Signal()  # rows changed: a decision, an undo or a threshold
    thresholds_changed = Signal()
    selection_changed = Signal(str)  # row key, "" for none
    playhead_changed = Signal(float)  # seconds
    busy_changed = Signal(bool)
    progress_changed = Signal(float, str)  # 0..1, what is being done

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.path: Path | None = None
        self.envelope: Envelope | None = None
        self.predictions = None
        self.review: ReviewSession | None = None
        self.selected_key = ""
        self.playhead = 0.0
        self.busy = False
        self.session_id: int | None = None  # the stored session the review continues (set by the window)
        self._rows: list[EventRow] = []
        self._thresholds_seen: dict[str, float] = {}

    # ---- loading -----------------------------------------------------------------------------
    def set_recording(self, path: str | Path) -> None:
        self.path = Path(path)
        self.envelope = None
        self.predictions = None
        self.review = None
        self.session_id = None
        self._rows = []
        self.selected_key = ""
        self.playhead = 0.0
        self.recording_changed.emit()
        self.events_changed.emit()

    def set_envelope(self, envelope: Envelope) -> None:
        self.envelope = envelope
        self.envelope_changed.emit()

    def set_predictions(self, predictions, thresholds: dict[str, float]) -> ReviewSession:
        """A fresh review of `predictions` at `thresholds` (model.pipeline.analysis runs the events and summary)."""
        return self.set_analysis(analyse_predictions(predictions, thresholds))

    def set_analysis(self, analysis: Analysis) -> ReviewSession:
        """A fresh review of a finished analysis (model.pipeline.analysis.analyse_recording's result)."""
        self.predictions = analysis.predictions
        self.review = ReviewSession.from_analysis(analysis)
        self.review.subscribe(self._review_changed)
        self._rows = self.review.rows()
        self._thresholds_seen = self.review.thresholds
        self.selected_key = ""
        self.analysis_changed.emit()
        self.events_changed.emit()
        self.thresholds_changed.emit()
        return self.review

    def set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    def report_progress(self, fraction: float, what: str) -> None:
        self.progress_changed.emit(fraction, what)

    @property
    def duration(self) -> float:
        if self.predictions is not None:
            return float(self.predictions.duration)
        return self.envelope.duration if self.envelope is not None else 0.0

    @property
    def current_analysis(self) -> CurrentAnalysis | None:
        if self.path is None or self.predictions is None or self.review is None:
            return None
        return CurrentAnalysis(self.path, self.predictions, self.review, self.session_id)

    # ---- rows and selection ------------------------------------------------------------------
    @property
    def rows(self) -> list[EventRow]:
        return self._rows

    def _review_changed(self) -> None:
        self._rows = self.review.rows() if self.review else []
        if self.selected_key and not any(r.key == self.selected_key for r in self._rows):
            self.select("")
        self.events_changed.emit()
        thresholds = self.review.thresholds if self.review else {}
        if thresholds != self._thresholds_seen:
            self._thresholds_seen = thresholds
            self.thresholds_changed.emit()

    def row_index(self, key: str) -> int:
        for i, row in enumerate(self._rows):
            if row.key == key:
                return i
        return -1

    def selected_row(self) -> EventRow | None:
        i = self.row_index(self.selected_key)
        return self._rows[i] if i >= 0 else None

    def select(self, key: str) -> None:
        if key != self.selected_key:
            self.selected_key = key
            self.selection_changed.emit(key)

    def select_step(self, step: int) -> EventRow | None:
        """Select the next (step=1) or previous (-1) event from the selection, or from the playhead."""
        if not self._rows:
            return None
        i = self.row_index(self.selected_key)
        if i < 0:
            after = [j for j, r in enumerate(self._rows) if r.start >= self.playhead - 1e-6]
            i = (after[0] if after else len(self._rows)) - (1 if step > 0 else 0)
        j = min(max(i + step, 0), len(self._rows) - 1)
        self.select(self._rows[j].key)
        return self._rows[j]

    def set_playhead(self, seconds: float) -> None:
        seconds = min(max(0.0, float(seconds)), self.duration or float(seconds))
        if abs(seconds - self.playhead) > 1e-4:
            self.playhead = seconds
            self.playhead_changed.emit(seconds)
