"""Hand-made predictions with known events, for tests that must not depend on random weights."""

from __future__ import annotations

import numpy as np

from model.labels import LABELS
from model.predictions import WindowPredictions

THRESHOLDS = {label: 0.5 for label in LABELS}


def fake_predictions(n: int = 20, *, path: str = "fake.wav") -> WindowPredictions:
    """n windows (hop 1 s): Block high in windows 2-3, Interjection in 6 and 12-13, WordRep 0.4 in 9."""
    probs = np.full((n, len(LABELS)), 0.1, np.float32)
    probs[2:4, LABELS.index("Block")] = [0.8, 0.9]
    probs[6, LABELS.index("Interjection")] = 0.7
    probs[12:14, LABELS.index("Interjection")] = 0.6
    probs[9, LABELS.index("WordRep")] = 0.4
    starts = np.arange(n, dtype=np.float64)
    return WindowPredictions(labels=LABELS, starts=starts, probs=probs, window_seconds=3.0, hop_seconds=1.0,
                             duration=float(n + 2), model_id="f" * 64, path=path)
