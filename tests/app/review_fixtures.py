"""Hand-made frame predictions with known moments, for tests that must not depend on random weights."""

from __future__ import annotations

import numpy as np

from model.labels import LABELS
from model.moments.decoding import FRAME_CHANNELS, MomentDecoding
from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions

THRESHOLDS = {label: 0.5 for label in LABELS}
FRAME_RATE = 50.0  # frames per second, as the Whisper encoder gives them


def frame_predictions(duration: float, moments, *, path: str = "fake.wav", model_id: str = "f" * 64
                      ) -> MomentPredictions:
    """Frame predictions of `duration` seconds holding `moments`: (start, end, p, *types) each, p the
    probability of the moment channel (of the Interjection channel for an interjection) and of its types."""
    p = np.full((int(round(duration * FRAME_RATE)), len(FRAME_CHANNELS)), 0.05, np.float32)
    for start, end, value, *types in moments:
        rows = slice(int(round(start * FRAME_RATE)), int(round(end * FRAME_RATE)))
        for t in types:
            p[rows, FRAME_CHANNELS.index(t)] = value
        if "Interjection" not in types:
            p[rows, 0] = value
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=p, frame_rate=FRAME_RATE, duration=float(duration),
                              windows=FrameWindows(), n_windows=int(np.ceil(duration / 30)), model_id=model_id,
                              path=path)
    return MomentPredictions.from_frames(frames, decoding=MomentDecoding(), model_thresholds=THRESHOLDS)


def fake_predictions(n: int = 20, *, path: str = "fake.wav") -> MomentPredictions:
    """A recording of n + 2 seconds, decoded at THRESHOLDS into: a Block moment 2-6 s (p(moment) 0.6), an
    interjection 6-9 s (0.7) and one 12-16 s (0.6); a WordRep moment at 9-12 s has p(moment) 0.47.

    A stuttering type's slider moves the moment onset (0.5) by a quarter of its move
    (model.moments.frame_inference.MomentPredictions.decoding_at): WordRep at 0.35 (onset 0.4625), or every slider
    at 0.45, finds the WordRep moment; Block at 0.95 (onset 0.6125) loses the Block moment."""
    return frame_predictions(n + 2, [(2.0, 6.0, 0.6, "Block"), (6.0, 9.0, 0.7, "Interjection"),
                                     (9.0, 12.0, 0.47, "WordRep"), (12.0, 16.0, 0.6, "Interjection")], path=path)
