"""Scores for comparing recipes in the cross-validation beyond moment F1: per-type precision, interjections.

- Per-type precision (issue 24, item 3): of the decoded moments carrying a type (its decoded types), the
  share matched one-to-one to an SLP moment (any type; moment_scores.match_any_overlap), pooled over
  episodes per SLP, then averaged over the SLPs: "false blocks" are Block-typed moments that match nothing.
- Interjection F1 (item 4): decoded interjections against FluencyBank Timestamped's filled pauses on the
  same joined recording (each run's pauses moved to its place), matched by the same rule.
- A source given as a function episode -> moments, scored beside the floors and the SLPs' agreement by
  joined_scores, so a recipe that is more than a MomentDecoding (a filter after decoding) is scored the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..labels import SLD_LABELS
from ..moments.decoding import INTERJECTION, STUTTERING, Moment, MomentDecoding, decode_moments
from .cv_report import EpisodeRow, score_episodes
from .interjection_targets import record_filled_pauses
from .joined_scores import JoinedEpisode, Spot, joined_probs, score_estimate
from .moment_scores import SLPS, match_any_overlap

SpotFn = Callable[[JoinedEpisode], Sequence[Moment]]


def decoder(probs: Mapping[str, np.ndarray], decodings: Callable[[JoinedEpisode], MomentDecoding], *,
            channels: tuple[str, ...], frame_rate: float,
            keep: Callable[[Moment], bool] | None = None) -> SpotFn:
    """Episode -> its decoded moments (stuttering and interjections), with its own decoding; keep: a filter
    on the stuttering moments (e.g. weak blocks dropped)."""

    def fn(j: JoinedEpisode) -> list[Moment]:
        moments = decode_moments(joined_probs(j, probs, frame_rate=frame_rate), frame_rate=frame_rate,
                                 options=decodings(j), channels=channels, exclude=j.exclude)
        return [m for m in moments if m.kind != STUTTERING or keep is None or keep(m)]

    return fn


def stutter_spots(moments: Sequence[Moment]) -> tuple[Spot, ...]:
    return tuple(Spot(m.start, m.end, frozenset(m.types)) for m in moments if m.kind == STUTTERING)


def score_rows(episodes: Sequence[JoinedEpisode], moments: Mapping[str, Mapping[str, Sequence[Moment]]]
               ) -> list[EpisodeRow]:
    """cv_report's rows: each source's moments (source -> episode -> moments), the floors and the agreement."""
    rows = score_episodes(episodes, (), frame_rate=1.0)  # no frame sources: the floors and the agreement
    for j, row in zip(episodes, rows, strict=True):
        row.scores.update({name: score_estimate(j, stutter_spots(per[j.episode])) for name, per in moments.items()})
    return rows


def type_precision_counts(j: JoinedEpisode, moments: Sequence[Moment]) -> np.ndarray:
    """(SLPs, types, 2): decoded moments of each type matched to the SLP's moments, and all of them."""
    est = [m for m in moments if m.kind == STUTTERING]
    out = np.zeros((len(SLPS), len(SLD_LABELS), 2), np.int64)
    for a, slp in enumerate(SLPS):
        matched = {e for _, e in match_any_overlap([(s.start, s.end) for s in j.references[slp]],
                                                    [(m.start, m.end) for m in est])}
        for t, label in enumerate(SLD_LABELS):
            typed = [i for i, m in enumerate(est) if label in m.types]
            out[a, t] = (sum(i in matched for i in typed), len(typed))
    return out


def type_precision(counts: Sequence[np.ndarray]) -> dict[str, float | None]:
    """Type -> precision from per-episode type_precision_counts, pooled over episodes, mean over SLPs."""
    total = np.sum(counts, axis=0)  # (SLPs, types, 2)
    out: dict[str, float | None] = {}
    for t, label in enumerate(SLD_LABELS):
        found, n = total[:, t, 0], total[:, t, 1]
        out[label] = float(np.mean(found / n)) if (n > 0).all() else None
    return out


def joined_pauses(j: JoinedEpisode, records: Mapping[str, Mapping], pauses: Mapping[str, Sequence[tuple[float, float]]]
                  ) -> list[tuple[float, float]]:
    """The episode's filled pauses (Timestamped times only the person who stutters) in its joined time."""
    out = []
    for rid, (a, _) in zip(j.run_ids, j.runs, strict=True):
        out += [(a + s, a + e) for s, e in record_filled_pauses(records[rid], pauses) if e > s]
    return out


def interjection_counts(j: JoinedEpisode, moments: Sequence[Moment], reference: Sequence[tuple[float, float]]
                        ) -> tuple[int, int, int]:
    """(matched, filled pauses, decoded interjections) on one joined episode."""
    est = [(m.start, m.end) for m in moments if m.kind == INTERJECTION]
    return len(match_any_overlap(list(reference), est)), len(reference), len(est)


def f1_of(counts: Sequence[tuple[int, int, int]]) -> float:
    tp, n_ref, n_est = np.sum(np.asarray(counts, np.float64).reshape(-1, 3), axis=0)
    return float(2 * tp / (n_ref + n_est)) if n_ref + n_est else 1.0
