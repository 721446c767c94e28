"""Too little speech for rates: the app flags a recording as `stutterscope assess` does.

No Qt. The model's voice-activity check (model.audio.speech_activity) measures the seconds of speech in a
recording (`MomentPredictions.speech_seconds`); below MIN_SPEECH_SECONDS assess marks it
"too-little-speech" and scores nothing. The app shows its counts (the clinician may still review)
but no rates, and says why: a 0.3 s file used to read "1 event, 200.0 per minute".
"""

from __future__ import annotations

from model.audio.speech_activity import MIN_SPEECH_SECONDS, TOO_LITTLE_SPEECH


def too_little_speech(predictions) -> str:
    """Why no rates are shown for these predictions (model.moments.frame_inference.MomentPredictions); "" to show them."""
    if predictions is None or not predictions.too_little_speech:
        return ""
    return (f"{TOO_LITTLE_SPEECH}: {predictions.speech_seconds:.1f} s of speech in {predictions.duration:.1f} s, "
            f"under the {MIN_SPEECH_SECONDS:g} s that rates need (assess flags it the same way), so none are shown")
