"""The review tests' recording: hand-made frame predictions (tests/hand_frames.py) with known moments."""

from __future__ import annotations

from hand_frames import THRESHOLDS, frame_predictions  # noqa: F401 - the review tests' names for them

from model.moments.frame_inference import MomentPredictions


def fake_predictions(n: int = 20, *, path: str = "fake.wav") -> MomentPredictions:
    """A recording of n + 2 seconds, decoded at THRESHOLDS into: a Block moment 2-6 s (p(moment) 0.6), an
    interjection 6-9 s (0.7) and one 12-16 s (0.6); a WordRep moment at 9-12 s has p(moment) 0.47.

    A stuttering type's slider moves the moment onset (0.5) by a quarter of its move
    (model.moments.frame_inference.MomentPredictions.decoding_at): WordRep at 0.35 (onset 0.4625), or every slider
    at 0.45, finds the WordRep moment; Block at 0.95 (onset 0.6125) loses the Block moment."""
    return frame_predictions(n + 2, [(2.0, 6.0, 0.6, "Block"), (6.0, 9.0, 0.7, "Interjection"),
                                     (9.0, 12.0, 0.47, "WordRep"), (12.0, 16.0, 0.6, "Interjection")], path=path)
