"""What the model says about a recording: per-window probabilities (numpy only, no torch).

Kept apart from model/inference.py so that events, review and records can read predictions without
loading torch and Whisper (`import app.review` stays light; tests/test_light_core.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowPredictions:
    """Per-window probabilities over one recording, from `model.inference.Predictor.predict_recording`."""

    labels: tuple[str, ...]  # the model's types, in the order of `probs`' columns
    starts: np.ndarray  # (n,) window start times, seconds
    probs: np.ndarray  # (n, labels) float32 probabilities
    window_seconds: float  # length of each window (the last one may reach past the end)
    hop_seconds: float  # step between window starts
    duration: float  # seconds of audio in the recording
    model_id: str  # SHA-256 of the model file
    path: str  # the recording
    speech: np.ndarray | None = None  # (n,) bool: the window holds speech (model.speech_activity); None: unchecked
    speech_seconds: float | None = None  # seconds of speech frames in the recording; None: unchecked

    @property
    def too_little_speech(self) -> bool:
        """Flag, do not score: less speech than speech_activity.MIN_SPEECH_SECONDS (silence, noise)."""
        from .speech_activity import too_little_speech  # numpy only, but keep this module's imports minimal

        return self.speech_seconds is not None and too_little_speech(self.speech_seconds)

    @property
    def ends(self) -> np.ndarray:
        """(n,) window end times, seconds, clipped to the recording's end."""
        return np.minimum(self.starts + self.window_seconds, self.duration)


def too_little_speech_warning(name: str, speech_seconds: float) -> str:
    """What a row says when a recording or clip is flagged, not scored (`assess` and `predict` alike)."""
    from .speech_activity import MIN_SPEECH_SECONDS, TOO_LITTLE_SPEECH

    return f"{name}: {TOO_LITTLE_SPEECH} ({speech_seconds:.1f} s of speech, under {MIN_SPEECH_SECONDS:g} s): not scored"
