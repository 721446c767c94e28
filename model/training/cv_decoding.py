"""Moment decoding tuned inside the cross-validation: for each held-out fold, on the other folds' episodes only.

Every episode has out-of-fold frame probabilities (from the head trained without its fold). For held-out
fold k the decoding is the grid point with the best moment F1 (any overlap, pooled over episodes, mean over
the SLPs) on the joined episodes of the OTHER folds, never on fold k's: so every fold tunes over severe
speakers (the folds spread the four over 15 moments per 100 syllables). The other folds' probabilities came
from heads that trained on fold k's episodes among others; their labels are never what fold k's decoding is
chosen on.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from ..moments.decoding import STUTTERING, MomentDecoding, decode_moments
from .cv_report import mean_f1
from .joined_scores import JoinedEpisode, Spot, joined_probs, pair_counts
from .moment_scores import SLPS

ONSETS = (0.5, 0.6, 0.7, 0.8, 0.9)  # high: the heads learn with positives weighted up to 10x (frame_pos_weight)
OFFSET_RATIOS = (1.0, 0.75)  # offset = onset x this
MIN_DURATIONS = (0.1, 0.3)
MERGE_GAPS = (0.1, 0.2, 0.4)


def decoding_grid(split_depths: Sequence[float] = (0.0,), base: MomentDecoding | None = None) -> list[MomentDecoding]:
    """The hysteresis / minimum duration / merge gap grid, times each split depth (0: no split)."""
    base = base or MomentDecoding()
    return [MomentDecoding(**{**base.to_dict(), "onset": on, "offset": round(on * r, 3), "min_duration": d,
                              "merge_gap": g, "split_depth": s})
            for on, r, d, g, s in itertools.product(ONSETS, OFFSET_RATIOS, MIN_DURATIONS, MERGE_GAPS, split_depths)]


def grid_counts(episodes: Sequence[JoinedEpisode], probs: Mapping[str, np.ndarray], grid: Sequence[MomentDecoding], *,
                channels: tuple[str, ...], frame_rate: float) -> np.ndarray:
    """(episodes, grid, SLPs, 3): matched pairs, SLP moments, decoded moments per episode and grid point."""
    out = np.zeros((len(episodes), len(grid), len(SLPS), 3), np.float64)
    for e, j in enumerate(episodes):
        p = joined_probs(j, probs, frame_rate=frame_rate)
        for g, decoding in enumerate(grid):
            spots = [Spot(m.start, m.end) for m in decode_moments(p, frame_rate=frame_rate, options=decoding,
                                                                   channels=channels, exclude=j.exclude)
                     if m.kind == STUTTERING]
            for a, slp in enumerate(SLPS):
                c = pair_counts(j.references[slp], spots)
                out[e, g, a] = (c.tp, c.n_ref, c.n_est)
    return out


def nested_choice(counts: np.ndarray, fold_of: Sequence[int]) -> dict[int, int]:
    """Fold -> the grid index with the best pooled F1 on the episodes of every other fold.

    counts: grid_counts' (episodes, grid, SLPs, 3); fold_of: each episode's fold, in the same order.
    """
    fold_of = np.asarray(fold_of)
    chosen = {}
    for k in sorted(set(fold_of.tolist())):
        others = counts[fold_of != k]  # (episodes, grid, SLPs, 3)
        if not len(others):
            raise ValueError("nested tuning needs episodes outside the held-out fold; give at least 2 folds")
        f1 = mean_f1(np.moveaxis(others, 1, 0))  # (grid,)
        chosen[k] = int(np.argmax(f1))  # ties: the first, i.e. the grid's order
    return chosen
