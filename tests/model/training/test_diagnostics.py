"""The accuracy diagnostics in benchmarks/ (ensembles.py, layer_probe.py) on hand-made numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import ensembles
import layer_probe


def test_neighbour_weights_are_overlap_shares_within_an_episode():
    records = [{"episode": "a", "episode_start": 0.0}, {"episode": "a", "episode_start": 1.5},
               {"episode": "a", "episode_start": 10.0}, {"episode": "b", "episode_start": 1.0}]
    w = ensembles.neighbour_weights(records)
    assert w[0, 1] == w[1, 0] == pytest.approx(0.5)  # 1.5 s of 3 s shared
    assert w[0, 2] == 0 and w[0, 3] == 0 and np.all(np.diag(w) == 0)  # far apart; other episode; itself


def test_smoothing_is_a_weighted_mean_with_the_neighbours():
    probs = np.array([[0.9], [0.1], [0.5]])
    w = np.array([[0, 0.5, 0], [0.5, 0, 0], [0, 0, 0]])
    out = ensembles.smooth(probs, w, 1.0)
    assert out[0, 0] == pytest.approx((0.9 + 0.5 * 0.1) / 1.5)
    assert out[2, 0] == pytest.approx(0.5)  # no neighbours: unchanged
    assert np.array_equal(ensembles.smooth(probs, w, 0.0), probs)


def test_the_probe_finds_a_signal_and_not_noise():
    rng = np.random.default_rng(0)
    n, groups = 600, np.repeat(np.arange(12), 50)
    y = rng.integers(0, 2, size=(n, 2))
    signal = np.hstack([y + 0.3 * rng.standard_normal((n, 2)), rng.standard_normal((n, 6))])
    noise = rng.standard_normal((n, 8))
    is_test = groups >= 10
    cv, test = layer_probe.probe(signal, y, groups, is_test, folds=5, c=1.0)
    assert cv.min() > 0.9 and test.min() > 0.9
    cv, test = layer_probe.probe(noise, y, groups, is_test, folds=5, c=1.0)
    assert cv.max() < 0.8
