"""An episode scored as a clinician's recording: its runs joined end to end, then moments against each SLP.

`prep casa` cuts each FluencyBank episode into runs (5-60 s of contiguous audio). Scored run by run,
any-overlap F1 on short runs has a high floor: a "model" that calls every run one moment scores about 0.55.
A clinician scores the whole recording, so here an episode's runs are joined in the order they were
recorded, each run's moments and frames offset by the summed durations of the runs before it (nothing
between them: the outside test's join). The interviewer's stretches are excluded from decoding, as the app
excludes what a clinician marks as not the client; nobody annotated there.

A moment that `prep casa` cut in two at the gap between two runs touches the join from both sides in the
joined recording: its pieces are joined back into one (model.training.moment_scores.episode_durations'
rule), so it is matched and counted once.

Every source is scored by the same code: the model's decoded moments, the two trivial floors (each run one
moment; the whole episode one moment) and each SLP against each other SLP. Per SLP: matched pairs
(moment_scores.match_any_overlap, the project's one-to-one any-overlap rule), the SLP's moments of each
type and how many of them were matched, moments per 100 CHAT syllables and the mean of the three longest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..labels import SLD_LABELS
from ..moments.decoding import STUTTERING, MomentDecoding, decode_moments, longest_mean
from .moment_scores import SLPS, match_any_overlap, participant_syllables

JOIN_EDGE = 0.02  # seconds: a moment this close to a join on both sides was cut there by `prep casa`
RUN_FLOOR = "floor: each run one moment"
EPISODE_FLOOR = "floor: all frames one moment"
AGREEMENT = "SLPs' agreement"


@dataclass(frozen=True)
class Spot:
    """A moment in the joined recording: its span and its types (SEP-28k's names; none for a floor)."""

    start: float  # seconds from the joined recording's start
    end: float
    types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class JoinedEpisode:
    """One episode's runs end to end, with each SLP's moments in the joined time."""

    episode: str
    run_ids: tuple[str, ...]  # record ids in recording order
    runs: tuple[tuple[float, float], ...]  # each run's [start, end) seconds in the joined recording
    exclude: tuple[tuple[float, float], ...]  # the interviewer's stretches, joined time
    references: Mapping[str, tuple[Spot, ...]]  # SLP -> moments, sorted by onset
    syllables: float  # the participant's CHAT syllables inside the runs

    @property
    def duration(self) -> float:
        return self.runs[-1][1] if self.runs else 0.0


def _record_spots(record: Mapping, annotator: str, offset: float) -> list[Spot]:
    duration = float(record["duration"])
    spots = []
    for m in record.get("moments", ()):
        start, end = max(0.0, float(m["start"])), min(duration, float(m["end"]))
        if m["annotator"] == annotator and end > start:
            spots.append(Spot(offset + start, offset + end, frozenset(m.get("types", ()))))
    return sorted(spots, key=lambda s: (s.start, s.end))


def join_spots(per_run: Sequence[list[Spot]], runs: Sequence[tuple[float, float]], *,
               edge: float = JOIN_EDGE) -> tuple[Spot, ...]:
    """The runs' moments as one list, a moment ending at a join and one starting there made one again."""
    out: list[Spot] = []
    for k, spots in enumerate(per_run):
        for i, s in enumerate(spots):
            at_join = k > 0 and i == 0 and out and out[-1].end >= runs[k - 1][1] - edge and s.start <= runs[k][0] + edge
            if at_join:
                out[-1] = Spot(out[-1].start, s.end, out[-1].types | s.types)
            else:
                out.append(s)
    return tuple(out)


def join_episode(records: Sequence[Mapping], syllables_of: Callable[[str], float]) -> JoinedEpisode:
    """The episode's records (runs of one episode, any order) joined end to end in recording order."""
    if not records or len({r["episode"] for r in records}) != 1:
        raise ValueError("join_episode takes the records of one episode; group a manifest's records by 'episode'")
    ordered = sorted(records, key=lambda r: float(r.get("episode_start", 0.0)))
    starts = np.concatenate([[0.0], np.cumsum([float(r["duration"]) for r in ordered])])
    runs = tuple((float(a), float(b)) for a, b in itertools.pairwise(starts))
    exclude = tuple((a + float(x0), a + float(x1)) for (a, _), r in zip(runs, ordered, strict=True)
                    for x0, x1 in r.get("exclude", ()))
    references = {slp: join_spots([_record_spots(r, slp, a) for (a, _), r in zip(runs, ordered, strict=True)], runs)
                  for slp in SLPS}
    return JoinedEpisode(episode=ordered[0]["episode"], run_ids=tuple(r["id"] for r in ordered), runs=runs,
                         exclude=exclude, references=references,
                         syllables=sum(participant_syllables(r, syllables_of) for r in ordered))


def joined_probs(joined: JoinedEpisode, probs: Mapping[str, np.ndarray], *, frame_rate: float) -> np.ndarray:
    """(frames, channels) probabilities of the joined recording: each run's frames placed at its start.

    A run's frame count and its duration differ by up to a frame; placing each run at its own start frame
    (not after the previous run's last frame) keeps the frames on the seconds' clock over many runs.
    """
    missing = [rid for rid in joined.run_ids if rid not in probs]
    if missing:
        raise ValueError(f"no frame probabilities for {len(missing)} run(s) of {joined.episode}, e.g. {missing[0]}; "
                         "cache every run of the episode (benchmarks/frame_probs_cache.py)")
    bounds = [round(t * frame_rate) for t in (*(a for a, _ in joined.runs), joined.duration)]
    channels = probs[joined.run_ids[0]].shape[1]
    out = np.zeros((bounds[-1], channels), np.float32)  # (frames, channels)
    for rid, first, stop in zip(joined.run_ids, bounds, bounds[1:], strict=False):
        p = probs[rid][: stop - first]
        out[first:first + len(p)] = p
    return out


def model_spots(joined: JoinedEpisode, probs: Mapping[str, np.ndarray], *, channels: tuple[str, ...],
                decoding: MomentDecoding, frame_rate: float) -> tuple[Spot, ...]:
    """The model's stuttering moments on the joined recording, its interviewer stretches excluded."""
    moments = decode_moments(joined_probs(joined, probs, frame_rate=frame_rate), frame_rate=frame_rate,
                             options=decoding, channels=channels, exclude=joined.exclude)
    return tuple(Spot(m.start, m.end, frozenset(m.types)) for m in moments if m.kind == STUTTERING)


def run_floor(joined: JoinedEpisode) -> tuple[Spot, ...]:
    """The trivial floor that scored 0.55 run by run: every run one moment, its whole length."""
    return tuple(Spot(a, b) for a, b in joined.runs)


def episode_floor(joined: JoinedEpisode) -> tuple[Spot, ...]:
    """The other floor: the whole joined recording one moment."""
    return (Spot(0.0, joined.duration),) if joined.runs else ()


# -- counts ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairCounts:
    """One estimate against one reference on one episode."""

    tp: int  # matched pairs
    n_ref: int
    n_est: int
    type_found: Mapping[str, tuple[int, int]]  # type -> (reference moments of it that were matched, all of them)


def pair_counts(ref: Sequence[Spot], est: Sequence[Spot]) -> PairCounts:
    pairs = match_any_overlap([(s.start, s.end) for s in ref], [(s.start, s.end) for s in est])
    matched = {i for i, _ in pairs}
    found = {t: (sum(1 for i, s in enumerate(ref) if t in s.types and i in matched),
                 sum(1 for s in ref if t in s.types)) for t in SLD_LABELS}
    return PairCounts(len(pairs), len(ref), len(est), found)


def per_100(n: int, syllables: float) -> float | None:
    return 100.0 * n / syllables if syllables > 0 else None


@dataclass(frozen=True)
class EpisodeScore:
    """A source's counts on one episode: against each SLP (a model or floor) or each SLP pair (agreement).

    per100 / longest3: for a model or floor, its own; for the agreement, each SLP's distance from the SLPs'
    mean, averaged over the SLPs (how far one SLP is from the three), so both read as "off by".
    """

    pairs: tuple[PairCounts, ...]  # per SLP, or per SLP pair
    per100_error: float | None  # |moments per 100 syllables - the SLPs' mean|
    longest3_error: float  # |mean of the three longest - the SLPs' mean| (seconds)
    per100: float | None  # the source's own moments per 100 syllables (agreement: the SLPs' mean)
    longest3: float  # the source's own mean of its three longest moments, seconds (agreement: the SLPs' mean)


def slp_means(joined: JoinedEpisode) -> tuple[float | None, float]:
    """The SLPs' mean moments per 100 syllables and mean of their three longest (seconds)."""
    refs = [joined.references[a] for a in SLPS]
    rates = [per_100(len(r), joined.syllables) for r in refs]
    rate = None if None in rates else float(np.mean(rates))
    return rate, float(np.mean([longest_mean([s.end - s.start for s in r]) for r in refs]))


def score_estimate(joined: JoinedEpisode, est: Sequence[Spot]) -> EpisodeScore:
    """A model's or a floor's moments against each SLP on the joined recording."""
    rate, longest = slp_means(joined)
    own, own_longest = per_100(len(est), joined.syllables), longest_mean([s.end - s.start for s in est])
    return EpisodeScore(pairs=tuple(pair_counts(joined.references[a], est) for a in SLPS),
                        per100_error=None if own is None or rate is None else abs(own - rate),
                        longest3_error=abs(own_longest - longest), per100=own, longest3=own_longest)


def score_agreement(joined: JoinedEpisode) -> EpisodeScore:
    """The SLPs against each other: F1 per pair (symmetric); type recall both ways round; each SLP's
    distance from the three's mean count and longest-3."""
    refs = joined.references
    pairs = []
    for a, b in itertools.combinations(SLPS, 2):
        ab, ba = pair_counts(refs[a], refs[b]), pair_counts(refs[b], refs[a])
        # Type recall of a pair: each SLP's typed moments that the other marked, both ways (one PairCounts).
        both = {t: (ab.type_found[t][0] + ba.type_found[t][0], ab.type_found[t][1] + ba.type_found[t][1])
                for t in SLD_LABELS}
        pairs.append(PairCounts(ab.tp, ab.n_ref, ab.n_est, both))
    rate, longest = slp_means(joined)
    rates = [per_100(len(refs[a]), joined.syllables) for a in SLPS]
    longs = [longest_mean([s.end - s.start for s in refs[a]]) for a in SLPS]
    return EpisodeScore(pairs=tuple(pairs),
                        per100_error=None if rate is None else float(np.mean([abs(r - rate) for r in rates])),
                        longest3_error=float(np.mean([abs(x - longest) for x in longs])), per100=rate,
                        longest3=longest)
