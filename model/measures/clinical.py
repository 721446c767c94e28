"""Clinical measures of one recording, over the client's speech only: syllables, SPM, %SS, the three longest.

Inputs are words with times (model/measures/words.py), moments (model/moments/decoding.py: the model's, or a review's
decisions, each counted as it is: anything with start, end, types and kind; a rejected one is left out)
and the stretches that are not the client (model/measures/exclusions.py). The rules, each one a choice a
clinician can check:

1. Not the client: a word or moment whose midpoint lies in an excluded stretch is left out whole;
   the excluded stretches are also taken out of the speaking time. `excluded_s` is their length
   (overlaps merged, clipped to the recording when its duration is given).
2. Syllables: the syllables the speaker meant (model/measures/intended_syllables.py, which cites the SSI-4 and
   CLAN FLUCALC conventions it follows), each word counted by the CMU dictionary (model/measures/syllables.py):
   over the kept words in time order (someone else's words between two cut them apart), a word or
   run of words said again right after itself counts once, a fragment that begins the next word ("b- ball", "b-b-ball") is not counted, and fillers
   ("um", "uh": FILLERS) are not counted; revisions are. No stuttering moment is required (measured:
   docs/syllables.md). `verbatim_syllables` is every word as written, fillers and repeats included.
3. Speaking time: the union of the kept words and stuttering moments (a silent block is speaking
   time, not a pause), joined across pauses up to `pause_s` (2 s, as SSI-4 and SPM counts leave
   out longer pauses); longer pauses and the excluded stretches are left out.
4. %SS = stuttered syllables / syllables x 100. A stuttering moment stutters one syllable: that of
   the first counted word it overlaps (a moment spanning two words counts once). A moment under no
   word (a silent block; a part-word Whisper did not write) goes to the next word starting within
   `pause_s` after it, else the word ending within `pause_s` before it; with no word that near it
   is "unattached" and counts as one stuttered syllable that is also added to the syllables (it is
   evidence of a syllable the transcript lacks). A word counts at most as many stuttered syllables
   as it has syllables, however many moments land on it. %SS per type does the same with the
   moments of that type (a moment of two types counts in both; the per-type values can add up to
   more than %SS).
5. Interjections (kind "interjection") are counted apart: interjections per 100 syllables; they are
   not in %SS and not in the longest moments.
6. Duration: the longest stuttering moment and the mean of the three longest (fewer if there are
   fewer), in seconds, the mean to 0.1 s as SSI-4 reports it.
7. Too little speech: with fewer than `min_syllables` syllables or less than `min_speaking_s` of
   speaking time, no rate is given (`enough_speech` False, the rates None): one moment in 20
   syllables is 5 %SS, so rates from a few seconds would be noise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..labels import SLD_LABELS
from ..moments.decoding import INTERJECTION, STUTTERING
from .intended_syllables import intended_counts

__all__ = ["INTERJECTION", "STUTTERING", "MeasureOptions", "Measures", "MomentLike", "TimedText", "WordCount",
           "compute_measures", "in_stretches", "merge_stretches"]


class TimedText(Protocol):
    """A word: model.measures.words.Word or anything with these attributes (seconds)."""

    start: float
    end: float
    text: str


class MomentLike(Protocol):
    """A moment: model.moments.decoding.Moment (the model's or a clinician's decision), or anything with these attributes
    (seconds); a `counted` attribute that is False (a rejected moment) leaves it out."""

    start: float
    end: float
    types: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class MeasureOptions:
    """The counting rules' numbers (module doc)."""

    pause_s: float = 2.0  # pauses longer than this are not speaking time; also how far a moment looks for its word
    min_syllables: int = 50  # fewer syllables than this: no rates
    min_speaking_s: float = 10.0  # less speaking time than this (seconds): no rates

    def __post_init__(self):
        if self.pause_s < 0 or self.min_syllables < 0 or self.min_speaking_s < 0:
            raise ValueError("pause_s, min_syllables and min_speaking_s must be >= 0")


@dataclass(frozen=True)
class WordCount:
    """One transcript word as the measures counted it."""

    start: float  # seconds
    end: float  # seconds
    text: str  # as transcribed
    syllables: int  # counted syllables (rule 2: 0 for a repetition, a part-word's fragment or a filler)
    excluded: bool  # in a stretch that is not the client (rule 1), so not counted at all
    in_moment: bool  # overlapped by a kept stuttering moment
    moment_types: tuple[str, ...]  # the types of the stuttering moments overlapping it, in label order
    in_interjection: bool  # overlapped by a kept interjection
    stuttered_syllables: int  # stuttered syllables attributed to this word (rule 4)
    verbatim_syllables: int  # the word's syllables as written (rule 2); 0 when excluded


@dataclass(frozen=True)
class Measures:
    """Per-recording measures (module doc); rates are None when enough_speech is False."""

    syllables: int  # counted (intended) syllables of the client's words, plus unattached moments (rules 2, 4)
    verbatim_syllables: int  # every kept word's syllables as written, plus unattached moments (rule 2)
    words: int  # the client's words
    speaking_time_s: float  # rule 3
    spm: float | None  # syllables per minute of speaking time
    wpm: float | None  # words per minute of speaking time
    stuttering_moments: int  # kept stuttering moments
    stuttered_syllables: int  # rule 4
    pct_ss: float | None  # stuttered syllables / syllables x 100
    pct_ss_by_type: dict[str, float | None]  # per stuttering type, the same with that type's moments
    interjections: int  # kept interjections
    interjections_per_100_syllables: float | None
    longest_s: float | None  # the longest stuttering moment; None without one
    longest3_mean_s: float | None  # mean of the three longest, to 0.1 s; None without a moment
    excluded_s: float  # seconds left out as not the client (rule 1)
    excluded_moments: int  # moments (of either kind) left out with them
    unattached_moments: int  # stuttering moments with no word near (rule 4)
    enough_speech: bool  # rule 7
    note: str = ""  # why rates are missing, when they are
    word_counts: tuple[WordCount, ...] = field(default=(), repr=False)  # per word, for exports and the app

    def to_dict(self) -> dict:
        """Flat JSON-ready values: the summary.csv columns, pct_ss_<Type> for each type."""
        def r(x, nd=2):
            return None if x is None else round(x, nd)

        out = {"syllables": self.syllables, "verbatim_syllables": self.verbatim_syllables, "words": self.words,
               "speaking_time_s": r(self.speaking_time_s),
               "spm": r(self.spm, 1), "wpm": r(self.wpm, 1), "stuttering_moments": self.stuttering_moments,
               "stuttered_syllables": self.stuttered_syllables, "pct_ss": r(self.pct_ss)}
        out.update({f"pct_ss_{t}": r(v) for t, v in self.pct_ss_by_type.items()})
        out.update({"interjections": self.interjections,
                    "interjections_per_100_syllables": r(self.interjections_per_100_syllables),
                    "longest_s": r(self.longest_s), "longest3_mean_s": self.longest3_mean_s,
                    "excluded_s": r(self.excluded_s), "excluded_moments": self.excluded_moments,
                    "unattached_moments": self.unattached_moments, "enough_speech": self.enough_speech,
                    "note": self.note})
        return out


def merge_stretches(stretches: Iterable[tuple[float, float]], *, duration: float | None = None, gap: float = 0.0
                    ) -> list[tuple[float, float]]:
    """Sorted, non-overlapping (start, end) stretches, clipped to [0, duration] when it is given.

    gap: stretches less than this far apart (seconds) are joined too; 0 joins only overlapping or touching ones.
    """
    out: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in stretches):
        if not end > start:
            raise ValueError(f"stretch ({start}, {end}): its end must come after its start")
        if duration is not None:
            start, end = max(0.0, start), min(duration, end)
            if end <= start:
                continue
        if out and start - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def in_stretches(start: float, end: float, stretches: Sequence[tuple[float, float]]) -> bool:
    """Rule 1: is a word or moment from start to end not the client's (its midpoint in a stretch)?"""
    return _inside((start + end) / 2, stretches)


def _inside(t: float, stretches: Sequence[tuple[float, float]]) -> bool:
    return any(s <= t < e for s, e in stretches)


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    # Zero-length moments (a point) still overlap the word they fall in.
    return a0 < b1 and b0 < a1 or (a0 == a1 and b0 <= a0 < b1)


def _word_counts(words: Sequence[TimedText], excluded: Sequence[bool]) -> list:
    """Rule 2 over the kept words, in runs that someone else's words do not cut ("yes [who?] yes" is two)."""
    out, run = [], []
    for w, x in zip(words, excluded, strict=True):
        if not x:
            run.append(w.text)
        elif run:
            out += intended_counts(run)
            run = []
    return out + intended_counts(run)


def _speaking_time(spans: list[tuple[float, float]], excluded: list[tuple[float, float]], pause_s: float) -> float:
    joined: list[list[float]] = []
    for start, end in sorted(spans):
        if joined and start - joined[-1][1] <= pause_s:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    total = sum(e - s for s, e in joined)
    for s, e in joined:
        total -= sum(max(0.0, min(e, xe) - max(s, xs)) for xs, xe in excluded)
    return max(0.0, float(total))


def _attach(moment: MomentLike, words: Sequence[TimedText], counted: Sequence[int], pause_s: float) -> int | None:
    """The index of the word a stuttering moment stutters (rule 4), or None when unattached."""
    for i, w in enumerate(words):
        if counted[i] > 0 and _overlaps(moment.start, moment.end, w.start, w.end):
            return i
    after = [i for i, w in enumerate(words) if counted[i] > 0 and moment.end <= w.start <= moment.end + pause_s]
    if after:
        return min(after, key=lambda i: words[i].start)
    before = [i for i, w in enumerate(words) if counted[i] > 0 and moment.start - pause_s <= w.end <= moment.start]
    if before:
        return max(before, key=lambda i: words[i].end)
    return None


def _stuttered(moments: Sequence[MomentLike], words: Sequence[TimedText], counted: Sequence[int],
               pause_s: float) -> tuple[list[int], int]:
    """Per word: stuttered syllables (capped at its syllables); and the unattached moments."""
    hits = [0] * len(words)
    unattached = 0
    for m in moments:
        i = _attach(m, words, counted, pause_s)
        if i is None:
            unattached += 1
        else:
            hits[i] += 1
    return [min(h, c) for h, c in zip(hits, counted, strict=True)], unattached


def _rate(count: float, syllables: int, ok: bool) -> float | None:
    return count / syllables * 100 if ok and syllables else None


def compute_measures(words: Sequence[TimedText], moments: Sequence[MomentLike], *,
                     excluded: Iterable[tuple[float, float]] = (), duration: float | None = None,
                     options: MeasureOptions | None = None) -> Measures:
    """The measures of one recording (rules in the module doc).

    words: in any order, seconds; moments: stuttering moments and interjections (kind tells them
    apart); excluded: (start, end) seconds that are not the client; duration: the recording's
    length in seconds, to clip the excluded stretches to it.
    """
    o = options or MeasureOptions()
    stretches = merge_stretches(excluded, duration=duration)
    moments = [m for m in moments if getattr(m, "counted", True)]  # a rejected decision counts nowhere
    bad = [getattr(m, "kind", None) for m in moments if getattr(m, "kind", None) not in (STUTTERING, INTERJECTION)]
    if bad:
        raise ValueError(f"moment kind {bad[0]!r}: give {STUTTERING!r} or {INTERJECTION!r}")
    all_words = sorted(words, key=lambda w: (w.start, w.end))
    excluded_word = [_inside((w.start + w.end) / 2, stretches) for w in all_words]
    kept = [w for w, x in zip(all_words, excluded_word, strict=True) if not x]
    kept_moments = [m for m in moments if not _inside((m.start + m.end) / 2, stretches)]
    stutters = sorted((m for m in kept_moments if m.kind == STUTTERING), key=lambda m: m.start)
    interjections = [m for m in kept_moments if m.kind == INTERJECTION]

    counts = _word_counts(all_words, excluded_word)
    counted = [c.intended for c in counts]
    per_word, unattached = _stuttered(stutters, kept, counted, o.pause_s)
    syllables = sum(counted) + unattached
    verbatim = sum(c.verbatim for c in counts) + unattached
    stuttered = sum(per_word) + unattached
    spans = [(w.start, w.end) for w in kept] + [(m.start, m.end) for m in stutters]
    speaking = _speaking_time(spans, stretches, o.pause_s)

    # bool(): numpy times anywhere in words or moments would make this np.bool_, which JSON refuses (issue 23)
    # speaking > 0: with the minimums set to 0, no speech at all would divide by zero minutes.
    enough = bool(syllables >= o.min_syllables and speaking >= o.min_speaking_s and speaking > 0)
    note = "" if enough else (f"too little speech for rates: {syllables} syllables in {speaking:.1f} s of "
                              f"speaking time (rates need at least {o.min_syllables} syllables and "
                              f"{o.min_speaking_s:g} s)")
    by_type = {}
    for label in SLD_LABELS:
        typed = [m for m in stutters if label in m.types]
        hits, lone = _stuttered(typed, kept, counted, o.pause_s)
        by_type[label] = _rate(sum(hits) + lone, syllables, enough)
    durations = sorted((float(m.end - m.start) for m in stutters), reverse=True)

    types_of = [tuple(t for t in SLD_LABELS if any(t in m.types for m in stutters
                                                  if _overlaps(m.start, m.end, w.start, w.end))) for w in kept]
    rows, k = [], 0
    for w, x in zip(all_words, excluded_word, strict=True):
        if x:
            rows.append(WordCount(float(w.start), float(w.end), w.text, 0, True, False, (), False, 0, 0))
            continue
        in_m = any(_overlaps(m.start, m.end, w.start, w.end) for m in stutters)
        in_i = any(_overlaps(m.start, m.end, w.start, w.end) for m in interjections)
        rows.append(WordCount(float(w.start), float(w.end), w.text, counted[k], False, in_m, types_of[k], in_i,
                              per_word[k], counts[k].verbatim))
        k += 1
    minutes = speaking / 60
    return Measures(
        syllables=syllables, verbatim_syllables=verbatim, words=len(kept), speaking_time_s=speaking,
        spm=syllables / minutes if enough else None, wpm=len(kept) / minutes if enough else None,
        stuttering_moments=len(stutters), stuttered_syllables=stuttered, pct_ss=_rate(stuttered, syllables, enough),
        pct_ss_by_type=by_type, interjections=len(interjections),
        interjections_per_100_syllables=_rate(len(interjections), syllables, enough),
        longest_s=durations[0] if durations else None,
        longest3_mean_s=round(sum(durations[:3]) / len(durations[:3]), 1) if durations else None,
        excluded_s=float(sum(e - s for s, e in stretches)), excluded_moments=len(moments) - len(kept_moments),
        unattached_moments=unattached, enough_speech=enough, note=note, word_counts=tuple(rows))
