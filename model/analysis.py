"""One path from a recording to what every front end shows: predictions -> events -> summary.

`analyse_recording` is the only way a recording is analysed: `stutterscope assess` and the app's batch
page (through model.assess), the desktop app's analysis (app.controller), the headless run and the
self-test all call it; the review (app.review) re-derives its model events from the same predictions
with `analyse_predictions` when a threshold moves. A front end never re-assembles the steps.

`Analysis` is a dataclass so that later steps (moments, words, clinical measures) become new fields
without changing the callers. Imports nothing heavy: the Predictor is handed in already loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .events import Event, RecordingSummary, detect_events, summarize
from .frame_inference import MomentPredictions
from .moments import Moment, MomentSummary, summarize_moments
from .predictions import WindowPredictions

if TYPE_CHECKING:  # torch stays unloaded until a Predictor exists
    from .inference import Predictor


@dataclass(frozen=True)
class Analysis:
    """What one recording's analysis holds; every front end reads the same object."""

    predictions: WindowPredictions  # per-window probabilities
    thresholds: dict[str, float]  # per type: what made `events`
    events: tuple[Event, ...]  # the model's events, by start time (with a frame model: one per moment)
    summary: RecordingSummary  # counts, rates and durations of `events`
    moments: tuple[Moment, ...] = ()  # with a frame model: stuttering moments and interjections, by onset
    moment_summary: MomentSummary | None = None  # with a frame model: counts and the three longest moments

    @property
    def model_id(self) -> str:
        return self.predictions.model_id

    def to_dict(self) -> dict:
        """JSON-ready: the summary and the events (the probabilities stay out: see `predictions`)."""
        d = {"model_id": self.model_id, "summary": self.summary.to_dict(), "events": [e.to_dict() for e in self.events]}
        if self.moment_summary is not None:
            d["moments"] = [m.to_dict() for m in self.moments]
            d["moment_summary"] = self.moment_summary.to_dict()
        return d


def moment_events(moments: Iterable[Moment]) -> list[Event]:
    """Moments as the front ends' events: one per moment, named by its likeliest type, so a moment with two
    types is still one event (and interjections are Interjection events)."""
    return [Event(label=m.types[0], start=m.start, end=m.end, confidence=m.confidence) for m in moments if m.types]


def analyse_predictions(predictions: WindowPredictions, thresholds: dict[str, float]) -> Analysis:
    """Events and summary from predictions at `thresholds` (per type; raises ValueError when one is missing).

    Frame predictions (MomentPredictions) are decoded into moments, the thresholds moving the model
    file's decoding settings (MomentPredictions.decoding_at); window predictions give window runs.
    """
    if isinstance(predictions, MomentPredictions):
        missing = [label for label in predictions.labels if label not in thresholds]
        if missing:
            raise ValueError(f"no threshold for {missing}")
        moments = predictions.frames.moments(predictions.decoding_at(thresholds))
        events = moment_events(moments)
        return Analysis(predictions=predictions, thresholds=dict(thresholds), events=tuple(events),
                        summary=summarize(events, windows=predictions), moments=tuple(moments),
                        moment_summary=summarize_moments(moments, duration=predictions.duration))
    events = detect_events(predictions, thresholds)
    return Analysis(predictions=predictions, thresholds=dict(thresholds), events=tuple(events),
                    summary=summarize(events, windows=predictions))


def analyse_recording(path: str | Path, predictor: Predictor, *, thresholds: dict[str, float] | None = None,
                      progress: Callable[[float], None] | None = None,
                      cancel: Callable[[], bool] | None = None) -> Analysis:
    """Analyse one recording with a loaded model.

    Args:
        path: any audio file model.audio decodes (any rate, any channels).
        predictor: the loaded model file with its inference options (model.inference.Predictor).
        thresholds: per-type decision thresholds; None: those stored in the model file.
        progress: called with the fraction done (0..1) while the model runs.
        cancel: polled between batches; True stops the run with model.errors.Cancelled.

    Returns:
        The Analysis: predictions, the thresholds used, events and summary.

    Raises:
        model.audio.AudioDecodeError (a ValueError) for a file that cannot be decoded; Cancelled.
    """
    if predictor.has_frames:
        frames = predictor.predict_frames(path, progress=progress, cancel=cancel)
        predictions = MomentPredictions.from_frames(frames, decoding=predictor.decoding,
                                                    model_thresholds=predictor.bundle.thresholds)
    else:
        predictions = predictor.predict_recording(path, progress=progress, cancel=cancel)
    return analyse_predictions(predictions, predictor.bundle.thresholds if thresholds is None else thresholds)
