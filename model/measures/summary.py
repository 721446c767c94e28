"""A recording's summary of its moments: the counts and rates every front end shows.

The moments are the model's (model.moments.decoding.Moment), or what a review counts: the clinician's decisions
where made and the model's moments elsewhere (app.review). Stuttering moments and interjections are
counted apart; a moment of two types counts once in the SLD count and in both types' lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..labels import LABELS
from ..moments.decoding import INTERJECTION, STUTTERING, Moment
from .clinical import in_stretches, merge_stretches


@dataclass(frozen=True)
class RecordingSummary:
    """Counts, rates and durations of a set of moments (model.measures.summary.summarize)."""

    duration: float  # seconds
    counts: dict[str, int]  # moments per type (a moment of two types counts in both)
    per_minute: dict[str, float]  # moments per minute per type
    sld_count: int  # stuttering-like disfluencies: the stuttering moments, each once whatever its types
    sld_per_minute: float  # SLD moments per minute of recording
    sld_time_share: float  # share of the (client's) recording time inside an SLD moment, overlaps once (0-1)
    interjection_count: int  # interjections, counted apart from the SLD
    interjection_per_minute: float  # interjections per minute of recording
    longest3: tuple[float, ...]  # durations of the three longest SLD moments, seconds
    longest3_mean: float  # their mean (0 when there is none), an SSI-4 duration component
    excluded_s: float = 0.0  # seconds that are not the client: their moments left out, rates over the rest
    excluded_events: int = 0  # moments left out with them (midpoint inside a stretch, as model.measures.clinical)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["longest3"] = list(self.longest3)
        return d


def summarize(moments: Iterable[Moment], *, duration: float, labels: Sequence[str] = LABELS,
              excluded: Iterable[tuple[float, float]] = ()) -> RecordingSummary:
    """The one summary of a set of moments: what the screen, the CSVs, the PDFs and the course charts show.

    Args:
        moments: the moments counted (the model's, or what a review counts: rejected ones already out).
        duration: seconds of recording the rates are per (the predictions' `duration`, a session's).
        labels: the types counted, in order (the model's; default model.labels.LABELS).
        excluded: (start, end) seconds that are not the client: moments whose midpoint lies in one are
            left out (model.measures.clinical's rule) and the rates are per minute of the rest of the recording.

    Returns:
        Counts and rates per type, SLD and interjections apart, the SLD time share and the three longest SLD
        moments.
    """
    stretches = merge_stretches(excluded, duration=duration)
    every = [m for m in moments if m.counted]  # a rejected decision counts nowhere
    kept = [m for m in every if not in_stretches(m.start, m.end, stretches)]
    excluded_s = sum(e - s for s, e in stretches)
    minutes = max(duration - excluded_s, 1e-9) / 60.0
    counts = {label: sum(label in m.types for m in kept) for label in labels}
    sld = [m for m in kept if m.kind == STUTTERING]
    interjections = sum(m.kind == INTERJECTION for m in kept)
    longest = tuple(sorted((round(float(e.duration), 3) for e in sld), reverse=True)[:3])
    return RecordingSummary(
        duration=round(duration, 3), counts=counts,
        per_minute={k: round(v / minutes, 3) for k, v in counts.items()},
        sld_count=len(sld), sld_per_minute=round(len(sld) / minutes, 3),
        sld_time_share=round(_sld_time_share(sld, stretches, duration), 4),
        interjection_count=interjections, interjection_per_minute=round(interjections / minutes, 3),
        longest3=longest, longest3_mean=round(float(np.mean(longest)), 3) if longest else 0.0,
        excluded_s=round(excluded_s, 3), excluded_events=len(every) - len(kept))


def _sld_time_share(sld: list[Moment], stretches: list[tuple[float, float]], duration: float) -> float:
    """Seconds inside an SLD moment (overlapping ones counted once) outside the stretches, over the seconds
    outside them. Follows a review's edits, and needs only the moments: a stored session gets the same share."""
    spans = merge_stretches(((e.start, e.end) for e in sld if e.end > e.start), duration=duration)
    inside = sum(end - start for start, end in spans)
    # Both lists are sorted and disjoint: walk them together (a review change stays O(moments + stretches)).
    i = 0
    for a, b in stretches:
        while i < len(spans) and spans[i][1] <= a:
            i += 1
        j = i
        while j < len(spans) and spans[j][0] < b:
            inside -= min(spans[j][1], b) - max(spans[j][0], a)
            j += 1
    client = duration - sum(b - a for a, b in stretches)
    return min(1.0, max(0.0, inside / client)) if client > 0 else 0.0
