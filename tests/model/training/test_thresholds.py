"""Per-type thresholds: the F1-best cut, worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from model.training.thresholds import DEFAULT_THRESHOLD, apply_thresholds, best_threshold, tune_thresholds


def test_the_f1_best_cut_worked_by_hand():
    probs = np.array([0.9, 0.8, 0.4, 0.3, 0.1])
    y = np.array([1, 1, 0, 1, 0])
    # Cuts at 0.8: F1 0.8; at 0.4: 0.667; at 0.3: P 3/4, R 1 -> 0.857 (best); at 0.1: 0.75.
    # The threshold sits halfway between 0.3 and the next lower score, 0.1.
    threshold, f1 = best_threshold(y, probs)
    assert threshold == pytest.approx(0.2)
    assert f1 == pytest.approx(6 / 7)


def test_a_type_without_positives_keeps_the_default():
    assert best_threshold(np.zeros(4), np.array([0.1, 0.9, 0.5, 0.2]))[0] == DEFAULT_THRESHOLD
    assert best_threshold(np.ones(4), np.array([0.1, 0.9, 0.5, 0.2]))[0] == DEFAULT_THRESHOLD


def test_thresholds_per_label_and_their_decisions():
    probs = np.array([[0.9, 0.2], [0.6, 0.7], [0.2, 0.65], [0.1, 0.1]])
    y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    thresholds = tune_thresholds(y, probs, ("A", "B"))
    assert thresholds == pytest.approx({"A": 0.4, "B": 0.425})
    assert apply_thresholds(probs, thresholds, ("A", "B")).tolist() == y.tolist()
    with pytest.raises(ValueError, match="must both be"):
        tune_thresholds(y, probs[:, :1], ("A", "B"))


def test_thresholds_stay_inside_zero_and_one():
    threshold, _ = best_threshold(np.array([1, 0]), np.array([1.0, 0.9999]))
    assert 0 < threshold < 1
