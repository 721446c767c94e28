"""One path from a recording to what every front end shows: predictions -> moments -> summary (-> measures).

`analyse_recording` is the only way a recording is analysed: `stutterscope assess` and the app's batch
page (through model.pipeline.assess), the desktop app's analysis (app.qt.controller), the headless run and the
self-test all call it; the review (app.review) re-derives its model moments from the same predictions
with `analyse_predictions` when a threshold moves. A front end never re-assembles the steps.

`Analysis` is a dataclass so that later steps (moments, words, clinical measures) become new fields
without changing the callers. Imports nothing heavy: the Predictor is handed in already loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..measures.clinical import Measures, compute_measures, in_stretches, merge_stretches
from ..measures.summary import RecordingSummary, summarize
from ..moments.decoding import Moment, MomentSummary, summarize_moments
from ..moments.frame_inference import MomentPredictions

if TYPE_CHECKING:  # torch stays unloaded until a Predictor exists
    from ..measures.words import Transcriber, Word
    from .inference import Predictor


@dataclass(frozen=True)
class Analysis:
    """What one recording's analysis holds; every front end reads the same object."""

    predictions: MomentPredictions  # the frame probabilities, and what moments are decoded from
    thresholds: dict[str, float]  # per type: what made `moments`
    summary: RecordingSummary  # counts, rates and durations of `moments` (over the client's time)
    moments: tuple[Moment, ...]  # the stuttering moments and interjections decoded from the frames, by onset
    moment_summary: MomentSummary  # their counts and the three longest moments
    words: tuple[Word, ...] = ()  # the transcript with times, when words were asked for
    excluded: tuple[tuple[float, float], ...] = ()  # (start, end) seconds that are not the client
    measures: Measures | None = None  # %SS, SPM and the rest (model.measures.clinical), when words were asked for

    @property
    def model_id(self) -> str:
        return self.predictions.model_id

    @property
    def events(self) -> tuple[Moment, ...]:
        """The moments, under the name results.json's "events" and the logs have always used."""
        return self.moments

    def to_dict(self) -> dict:
        """JSON-ready: the summary and the moments (the probabilities stay out: see `predictions`)."""
        out = {"model_id": self.model_id, "summary": self.summary.to_dict(),
               "moments": [m.to_dict() for m in self.moments], "moment_summary": self.moment_summary.to_dict()}
        if self.measures is not None:
            out.update(measures=self.measures.to_dict(), excluded=[list(x) for x in self.excluded],
                       words=[w.to_dict() for w in self.words])
        return out


def with_measures(analysis: Analysis, words: Sequence[Word], *,
                  excluded: Sequence[tuple[float, float]] = ()) -> Analysis:
    """The analysis with its words, clinical measures and summary over the client's speech (excluded left out).

    The counts (model.measures.summary.summarize) and the measures (model.measures.clinical.compute_measures) are those of the
    analysis's moments, as the app's review and the records count theirs (issue 23: one path).
    """
    duration = analysis.predictions.duration
    measures = compute_measures(words, analysis.moments, excluded=excluded, duration=duration)
    summary = summarize(analysis.moments, duration=duration, labels=analysis.predictions.labels, excluded=excluded)
    return replace(analysis, words=tuple(words), excluded=tuple(map(tuple, excluded)), measures=measures,
                   summary=summary)


def with_excluded(analysis: Analysis, excluded: Sequence[tuple[float, float]]) -> Analysis:
    """The analysis with the stretches that are not the client left out of its counts, without words.

    The moments stay (they are what the model found); the summary and the moment summary
    leave out those whose midpoint lies in a stretch (model.measures.clinical's rule), their rates per minute of the rest.
    """
    duration = analysis.predictions.duration
    summary = summarize(analysis.moments, duration=duration, labels=analysis.predictions.labels, excluded=excluded)
    stretches = merge_stretches(excluded, duration=duration)
    kept = [m for m in analysis.moments if not in_stretches(m.start, m.end, stretches)]
    moment_summary = summarize_moments(kept, duration=max(duration - summary.excluded_s, 0.0))
    return replace(analysis, excluded=tuple(map(tuple, excluded)), summary=summary, moment_summary=moment_summary)


def analyse_predictions(predictions: MomentPredictions, thresholds: dict[str, float], *,
                        cancel: Callable[[], bool] | None = None) -> Analysis:
    """Moments and their summary from frame predictions at `thresholds` (per type; raises ValueError when
    one is missing): the thresholds move the model file's decoding settings (MomentPredictions.decoding_at).

    cancel: polled while moments are decoded (hours of frames take seconds); True raises Cancelled.
    """
    missing = [label for label in predictions.labels if label not in thresholds]
    if missing:
        raise ValueError(f"no threshold for {missing}")
    moments = predictions.frames.moments(predictions.decoding_at(thresholds), cancel=cancel)
    return Analysis(predictions=predictions, thresholds=dict(thresholds),
                    summary=summarize(moments, duration=predictions.duration, labels=predictions.labels),
                    moments=tuple(moments), moment_summary=summarize_moments(moments, duration=predictions.duration))


def analyse_recording(path: str | Path, predictor: Predictor, *, thresholds: dict[str, float] | None = None,
                      progress: Callable[[float], None] | None = None,
                      cancel: Callable[[], bool] | None = None, transcriber: Transcriber | None = None,
                      excluded: Sequence[tuple[float, float]] = ()) -> Analysis:
    """Analyse one recording with a loaded model.

    Args:
        path: any audio file model.audio.decode decodes (any rate, any channels).
        predictor: the loaded model file with its inference options (model.pipeline.inference.Predictor).
        thresholds: per-type decision thresholds; None: those stored in the model file.
        progress: called with the fraction done (0..1) while the model runs.
        cancel: polled while the file is decoded, between batches, in the speech check, the moment decoding
            and the transcription; True stops the run with model.errors.Cancelled.
        transcriber: a loaded model.measures.words.Transcriber: also transcribe, and measure (`with_measures`);
            the model's share of progress is then the first half, the transcription's the second.
        excluded: (start, end) seconds that are not the client, left out of the measures.

    Returns:
        The Analysis: predictions, the thresholds used, moments and summary (and words and measures).

    Raises:
        model.audio.decode.AudioDecodeError (a ValueError) for a file that cannot be decoded; Cancelled.
    """
    def part(lo: float) -> Callable[[float], None] | None:
        if progress is None or transcriber is None:
            return progress
        return lambda f: progress(lo + f / 2)

    frames = predictor.predict_frames(path, progress=part(0.0), cancel=cancel)
    predictions = MomentPredictions.from_frames(frames, decoding=predictor.decoding,
                                                model_thresholds=predictor.bundle.thresholds)
    analysis = analyse_predictions(predictions, predictor.bundle.thresholds if thresholds is None else thresholds,
                                   cancel=cancel)
    if transcriber is None:
        return analysis
    words = transcriber.transcribe_file(path, progress=part(0.5), cancel=cancel)
    return with_measures(analysis, words, excluded=excluded)
