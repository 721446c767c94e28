"""Hand-made frame predictions with known moments, for tests that must not depend on random weights.

Importable from every test (tests/ is on the path through its conftest): `from hand_frames import hand_predictions`.
"""

from __future__ import annotations

import numpy as np

from model.labels import LABELS
from model.moments.decoding import FRAME_CHANNELS, INTERJECTION_LABEL, MOMENT_CHANNEL, MomentDecoding
from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions

THRESHOLDS = dict.fromkeys(LABELS, 0.5)  # the model file's thresholds here: the sliders' start
FRAME_RATE = 50.0  # tokens per second, as the encoder's


def hand_predictions(duration: float, moments=(), *, high: float = 0.9, low: float = 0.05,
                     model_id: str = "f" * 64, path: str = "fake.wav",
                     speech_seconds: float | None = None) -> MomentPredictions:
    """Frame predictions over `duration` seconds, `low` everywhere but in `moments`: (start, end, types) with
    p(moment) and each type at `high` (("Interjection",): that channel alone), which the default decoding
    (model.moments.decoding.MomentDecoding) turns back into those moments."""
    return _predictions(duration, [(start, end, high, *types) for start, end, types in moments], low=low,
                        n_windows=max(1, int(np.ceil(duration / FrameWindows().hop_seconds))), model_id=model_id,
                        path=path, speech_seconds=speech_seconds)


def frame_predictions(duration: float, moments, *, path: str = "fake.wav", model_id: str = "f" * 64
                      ) -> MomentPredictions:
    """Frame predictions of `duration` seconds holding `moments`: (start, end, p, *types) each, p the
    probability of the moment channel (of the Interjection channel for an interjection) and of its types."""
    return _predictions(duration, moments, low=0.05, n_windows=int(np.ceil(duration / 30)), model_id=model_id,
                        path=path)


def _predictions(duration: float, moments, *, low: float, n_windows: int, model_id: str, path: str,
                 speech_seconds: float | None = None) -> MomentPredictions:
    """`moments`: (start, end, p, *types); p(moment) too unless the moment is an interjection alone."""
    probs = np.full((round(duration * FRAME_RATE), len(FRAME_CHANNELS)), low, np.float32)  # (tokens, channels)
    for start, end, value, *types in moments:
        rows = slice(round(start * FRAME_RATE), round(end * FRAME_RATE))
        if INTERJECTION_LABEL not in types:
            probs[rows, FRAME_CHANNELS.index(MOMENT_CHANNEL)] = value
        for label in types:
            probs[rows, FRAME_CHANNELS.index(label)] = value
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=probs, frame_rate=FRAME_RATE, duration=float(duration),
                              windows=FrameWindows(), n_windows=n_windows, model_id=model_id, path=path,
                              speech_seconds=speech_seconds)
    return MomentPredictions.from_frames(frames, decoding=MomentDecoding(), model_thresholds=THRESHOLDS)
