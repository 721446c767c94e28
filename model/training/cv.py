"""Speaker-grouped cross-validation folds over the annotated episodes, balanced by severity.

With 4 dev and 4 test speakers a recipe's gain of 0.01-0.02 moment F1 is noise (seeds alone move test F1 by
0.03-0.05), and the dev split's densest speaker stutters at 8.8 moments per 100 syllables, so nothing tuned
on it can learn to split the merges of a severe speaker. Folds of 2-3 episodes over all 22 put every
speaker in a held-out fold once, and spread the severe ones so that every fold's training set has some.

Severity is the SLPs' mean moments per 100 CHAT syllables on the episode's joined runs (joined_scores).
Folds are dealt in tiers: episodes sorted from most to least severe, cut into tiers of one episode per fold,
each tier dealt to the folds in a seeded random order. So every fold holds at most one episode of each tier
(the most severe speakers land in different folds) and fold sizes differ by at most one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

MAX_FOLD_SIZE = 3  # episodes per fold, at most: 22 episodes -> 8 folds of 2-3
BANDS = (("under 5", 0.0, 5.0), ("5-15", 5.0, 15.0), ("over 15", 15.0, math.inf))  # SLP moments / 100 syllables


def severity_band(per_100_syllables: float) -> str:
    """The issue's bands: under 5, 5-15, over 15 SLP moments per 100 syllables."""
    for name, low, high in BANDS:
        if low <= per_100_syllables < high:
            return name
    raise ValueError(f"moments per 100 syllables must be 0 or more, got {per_100_syllables}")


def make_folds(severity: Mapping[str, float], *, seed: int = 0, max_size: int = MAX_FOLD_SIZE) -> list[tuple[str, ...]]:
    """Episode -> severity into folds of at most max_size episodes, severity dealt in tiers (module doc).

    Deterministic given the episodes, their severities and the seed. Each fold's episodes are sorted.
    """
    if len(severity) < 2:
        raise ValueError(f"cross-validation needs at least 2 episodes, got {len(severity)}")
    if max_size < 1:
        raise ValueError(f"max_size is episodes per fold, at least 1, got {max_size}")
    n_folds = math.ceil(len(severity) / max_size)
    ordered = sorted(severity, key=lambda ep: (-severity[ep], ep))  # ties by name: the same order every run
    rng = np.random.default_rng(seed)
    folds: list[list[str]] = [[] for _ in range(n_folds)]
    for first in range(0, len(ordered), n_folds):
        tier = ordered[first:first + n_folds]
        # The last, partial tier goes to the smallest folds so that sizes differ by at most one.
        targets = sorted(range(n_folds), key=lambda k: (len(folds[k]), rng.random()))[: len(tier)]
        for ep, k in zip(tier, rng.permutation(targets), strict=True):
            folds[int(k)].append(ep)
    return [tuple(sorted(f)) for f in folds if f]


def check_folds(folds: Sequence[Sequence[str]], speaker_of: Mapping[str, str]) -> None:
    """ValueError unless every episode is in exactly one fold and no speaker is in two folds."""
    seen: dict[str, int] = {}
    for k, fold in enumerate(folds):
        for ep in fold:
            if ep not in speaker_of:
                raise ValueError(f"fold {k} holds {ep!r}, which is not an annotated episode of the manifest")
            if ep in seen:
                raise ValueError(f"episode {ep!r} is in folds {seen[ep]} and {k}; an episode belongs to one fold")
            seen[ep] = k
    missing = sorted(set(speaker_of) - set(seen))
    if missing:
        raise ValueError(f"episodes in no fold: {missing}; every episode must be held out once")
    fold_of_speaker: dict[str, int] = {}
    for ep, k in seen.items():
        if fold_of_speaker.setdefault(speaker_of[ep], k) != k:
            raise ValueError(f"speaker {speaker_of[ep]!r} is in folds {fold_of_speaker[speaker_of[ep]]} and {k}; "
                             "folds must be speaker-exclusive")


def fold_splits(folds: Sequence[Sequence[str]], k: int) -> dict[str, str]:
    """Episode -> split for training fold k: fold k is test, the next fold dev (to choose epochs and the
    decoding on), the rest train. Every episode is test once and dev once over the folds."""
    if not 0 <= k < len(folds) or len(folds) < 3:
        raise ValueError(f"fold index must be 0-{len(folds) - 1} of at least 3 folds, got {k} of {len(folds)}")
    dev = (k + 1) % len(folds)
    return {ep: "test" if j == k else "dev" if j == dev else "train" for j, fold in enumerate(folds) for ep in fold}


def fold_records(records: Sequence[Mapping], folds: Sequence[Sequence[str]], k: int) -> list[dict]:
    """The records with their split rewritten for fold k (ids and audio unchanged, so feature caches are
    reused: they are keyed by record id and audio, not by split)."""
    split_of = fold_splits(folds, k)
    out = []
    for r in records:
        if r["episode"] not in split_of:
            raise ValueError(f"record {r['id']} is of episode {r['episode']}, which is in no fold")
        out.append({**r, "split": split_of[r["episode"]]})
    return out
