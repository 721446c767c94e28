"""A session draft from the app's current analysis (app.qt.state.CurrentAnalysis), without importing Qt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .sessions import SessionDraft


def draft_from_analysis(analysis, *, patient_id: int, task: str, date: str | None = None, notes: str = "",
                        recording_mode: str = "copy", model_settings: dict | None = None) -> SessionDraft:
    """What to store for `analysis` (path, predictions, review): events at the review's thresholds.

    The model events are those at the review's current thresholds, so each reviewed event's `origin`
    (an index into them) points at the right one when the session is reopened with those thresholds.
    The words and not-the-client stretches (analysis.clinical, app.clinical.ClinicalData.to_dict) are kept
    with the measures of what the review counts.
    """
    preds, review = analysis.predictions, analysis.review
    clinical = _clinical(analysis, review, float(preds.duration))
    # A frame model's predictions are 20 ms rows; the encoder windows it ran are its frames' settings.
    windows = preds.frames.windows
    settings = {**(model_settings or {}), "thresholds": review.thresholds,
                "hop_seconds": float(windows.hop_seconds), "window_seconds": float(windows.window_seconds)}
    return SessionDraft(
        patient_id=patient_id, date=date or dt.date.today().isoformat(), task=task,
        recording=str(analysis.path), duration=float(preds.duration), model_id=preds.model_id,
        model_settings=settings,
        # Counted as the review counts, over the client's time (the stretches saved with it).
        summary=review.summary(excluded=clinical.get("excluded", ())).to_dict(),
        model_events=tuple(review.model_events),
        reviewed_events=tuple(review.reviewed_events()) if review.has_decisions else None,
        notes=notes, recording_mode=recording_mode, recording_name=Path(analysis.path).name,
        clinical=clinical)


def _clinical(analysis, review, duration: float) -> dict:
    from ..clinical import ClinicalData

    data = ClinicalData.from_dict(getattr(analysis, "clinical", None))
    if not data.words and not data.excluded:
        return {}
    measures = data.measures(review.counted_moments(), duration=duration)
    return {**data.to_dict(), "measures": measures.to_dict() if measures is not None else None}
