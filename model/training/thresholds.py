"""Per-type decision thresholds, tuned on the dev split to maximise each type's F1."""

from __future__ import annotations

import numpy as np

DEFAULT_THRESHOLD = 0.5  # for a type with no positives (or no negatives) to tune on
_LIMITS = (0.01, 0.99)  # a model file's thresholds must lie strictly inside (0, 1)


def best_threshold(y_true: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of `probs >= threshold` for one type.

    The threshold is set halfway between the best cut's score and the next lower score, so that
    it does not sit exactly on one dev clip's probability.
    """
    from sklearn.metrics import precision_recall_curve

    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs, dtype=np.float64)
    if y_true.min(initial=1) == y_true.max(initial=0):
        return DEFAULT_THRESHOLD, 0.0
    precision, recall, cuts = precision_recall_curve(y_true, probs)
    f1 = 2 * precision[:-1] * recall[:-1] / np.clip(precision[:-1] + recall[:-1], 1e-12, None)
    best = int(np.argmax(f1))
    below = probs[probs < cuts[best]]
    cut = (cuts[best] + below.max()) / 2 if below.size else cuts[best]
    return float(np.clip(cut, *_LIMITS)), float(f1[best])


def tune_thresholds(y_true: np.ndarray, probs: np.ndarray, labels: tuple[str, ...] | list[str]) -> dict[str, float]:
    """Per-label thresholds from (clips, labels) hard targets and probabilities."""
    y_true, probs = np.asarray(y_true), np.asarray(probs)
    if y_true.shape != probs.shape or y_true.shape[1] != len(labels):
        raise ValueError(f"targets {y_true.shape} and probabilities {probs.shape} must both be (clips, {len(labels)})")
    return {name: best_threshold(y_true[:, j], probs[:, j])[0] for j, name in enumerate(labels)}


def apply_thresholds(probs: np.ndarray, thresholds: dict[str, float], labels: tuple[str, ...] | list[str]) -> np.ndarray:
    """(clips, labels) 0/1 decisions: probability at or above the type's threshold."""
    cut = np.array([thresholds[name] for name in labels])
    return (np.asarray(probs) >= cut[None, :]).astype(np.int64)
