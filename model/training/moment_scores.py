"""Scoring moments against speech-language pathologists' annotations, and tuning the decoding for it.

Moment F1 two ways, on the same matching rules for the model and for the SLPs among themselves:
- any overlap: reference and estimated moments are paired one-to-one, a pair needing some overlap in
  time; the most pairs possible (a maximum bipartite matching, scipy's linear_sum_assignment; ties go to
  the pairs that overlap most, so onset/offset errors are measured on the closest pairs). sed_eval, the
  DCASE event-metrics library, has no any-overlap criterion (its event-based matching is on onset and/or
  offset collars only), so this one is done with scipy.
- onset collar: pairs whose onsets are at most 0.5 s apart, whatever their offsets: sed_eval's
  EventBasedMetrics (t_collar=0.5, evaluate_onset=True, evaluate_offset=False, optimal matching).
F1 is counted over all the records of a split (true positives, reference and estimated moments summed),
per annotator; the average is the mean over the three SLPs. The SLPs' own agreement is the same F1 for
each pair of SLPs on the same records (symmetric: swapping reference and estimate changes nothing).

Per recording (an episode: all its stitched runs together): moments per 100 syllables (the syllables of
the person who stutters, from the CHAT transcript, inside the audio) and the mean duration of the three
longest moments (the SSI-4 duration component), for the model and each SLP, against the SLPs' mean. A
moment that `prep casa` cut in two at a gap between runs counts once (episode_durations).

Records are manifest records of `prep casa` (model.manifest): `moments` [{annotator, start, end, types}]
in seconds from the record's start, `exclude` [[start, end]] (the interviewer: nobody annotated there),
`chat` [{speaker, text, inside}], `episode`, `duration`, `split`.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..moments.decoding import STUTTERING, Moment, MomentDecoding, decode_moments, longest_mean

log = logging.getLogger(__name__)

SLPS = ("A1", "A2", "A3")  # CASA's three speech-language pathologists
CONSENSUS = "Gold"  # their consensus, on two episodes only
ONSET_COLLAR = 0.5  # seconds: the issue's collar for onset-matched F1
PARTICIPANT = "PAR"  # the CHAT speaker code of the person who stutters
Span = tuple[float, float]


@dataclass(frozen=True)
class MatchCounts:
    """Matched pairs and moment counts, summed over records; F1 from the sums."""

    tp: int = 0  # matched pairs
    n_ref: int = 0  # reference moments
    n_est: int = 0  # estimated moments

    def __add__(self, other: MatchCounts) -> MatchCounts:
        return MatchCounts(self.tp + other.tp, self.n_ref + other.n_ref, self.n_est + other.n_est)

    @property
    def precision(self) -> float:
        return self.tp / self.n_est if self.n_est else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_ref if self.n_ref else 0.0

    @property
    def f1(self) -> float:
        total = self.n_ref + self.n_est
        return 2 * self.tp / total if total else 1.0  # nothing to find and nothing found: perfect

    def to_dict(self) -> dict:
        return {"tp": self.tp, "n_ref": self.n_ref, "n_est": self.n_est, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def _array(spans: Sequence[Span]) -> np.ndarray:
    return np.asarray(spans, np.float64).reshape(-1, 2)


def match_any_overlap(ref: Sequence[Span], est: Sequence[Span]) -> list[tuple[int, int]]:
    """One-to-one (ref index, est index) pairs that overlap in time, as many as possible.

    Among matchings with the most pairs, the one with the largest summed intersection-over-union.
    """
    from scipy.optimize import linear_sum_assignment

    r, e = _array(ref), _array(est)
    if not len(r) or not len(e):
        return []
    inter = np.minimum(r[:, None, 1], e[None, :, 1]) - np.maximum(r[:, None, 0], e[None, :, 0])  # (ref, est)
    hit = inter > 0
    union = np.maximum(r[:, None, 1], e[None, :, 1]) - np.minimum(r[:, None, 0], e[None, :, 0])
    iou = np.where(hit, inter / np.maximum(union, 1e-12), 0.0)
    # Each pair is worth 1, plus its IoU scaled so that all the IoUs together are worth less than one pair:
    # the assignment maximises the number of pairs first, their overlap second.
    weight = hit + iou / (min(len(r), len(e)) + 1)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if hit[i, j]]


def overlap_counts(ref: Sequence[Span], est: Sequence[Span]) -> MatchCounts:
    return MatchCounts(len(match_any_overlap(ref, est)), len(ref), len(est))


def collar_counts(ref: Sequence[Span], est: Sequence[Span], *, collar: float = ONSET_COLLAR) -> MatchCounts:
    """Pairs with onsets at most `collar` seconds apart (sed_eval's optimal event-based matching)."""
    if not len(ref) or not len(est):
        return MatchCounts(0, len(ref), len(est))
    with warnings.catch_warnings():
        # dcase_util (sed_eval's dependency) imports pkg_resources, which warns that it is deprecated.
        warnings.simplefilter("ignore", UserWarning)
        from sed_eval.sound_event import EventBasedMetrics

    metrics = EventBasedMetrics(event_label_list=["moment"], t_collar=collar, evaluate_onset=True,
                                evaluate_offset=False, event_matching_type="optimal")

    def events(spans: Sequence[Span]) -> list[dict]:
        return [{"filename": "r", "event_label": "moment", "onset": float(a), "offset": float(b)} for a, b in spans]

    metrics.evaluate(events(ref), events(est))
    return MatchCounts(int(metrics.overall["Ntp"]), len(ref), len(est))


def boundary_errors(ref: Sequence[Span], est: Sequence[Span]) -> tuple[list[float], list[float]]:
    """|onset| and |offset| differences (seconds) of the any-overlap pairs."""
    r, e = _array(ref), _array(est)
    pairs = match_any_overlap(ref, est)
    return ([abs(e[j, 0] - r[i, 0]) for i, j in pairs], [abs(e[j, 1] - r[i, 1]) for i, j in pairs])


# -- records ---------------------------------------------------------------------------------------


def annotators_of(records: Iterable[Mapping]) -> list[str]:
    """The annotators with moments in the records: the SLPs first, then the consensus if present."""
    seen = {m["annotator"] for r in records for m in r.get("moments", ())}
    return [a for a in (*SLPS, CONSENSUS) if a in seen]


def reference_spans(record: Mapping, annotator: str) -> list[Span]:
    """One annotator's moments in a record, clipped to the record's audio, sorted by onset."""
    duration = float(record["duration"])
    spans = []
    for m in record.get("moments", ()):
        if m["annotator"] != annotator:
            continue
        start, end = max(0.0, float(m["start"])), min(duration, float(m["end"]))
        if end > start:
            spans.append((start, end))
    return sorted(spans)


def estimate_spans(moments: Iterable[Moment]) -> list[Span]:
    """The stuttering moments' spans (interjections are not SLP moments and are not scored)."""
    return sorted((m.start, m.end) for m in moments if m.kind == STUTTERING)


def _f1_table(pairs: Iterable[tuple[str, list[Span], list[Span]]]) -> dict:
    """name -> counts summed over records, for both matchings, plus the errors' medians."""
    overlap: dict[str, MatchCounts] = {}
    collar: dict[str, MatchCounts] = {}
    onsets: dict[str, list[float]] = {}
    offsets: dict[str, list[float]] = {}
    for name, ref, est in pairs:
        overlap[name] = overlap.get(name, MatchCounts()) + overlap_counts(ref, est)
        collar[name] = collar.get(name, MatchCounts()) + collar_counts(ref, est)
        on, off = boundary_errors(ref, est)
        onsets.setdefault(name, []).extend(on)
        offsets.setdefault(name, []).extend(off)
    return {name: {"any_overlap": overlap[name].to_dict(), "onset_collar": collar[name].to_dict(),
                   "median_onset_error_s": _median(onsets[name]), "median_offset_error_s": _median(offsets[name])}
            for name in overlap}


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 3) if values else None


def _mean_f1(table: dict, names: Iterable[str]) -> dict:
    names = [n for n in names if n in table]
    return {kind: round(float(np.mean([table[n][kind]["f1"] for n in names])), 4) if names else None
            for kind in ("any_overlap", "onset_collar")}


def model_vs_annotators(records: Sequence[Mapping], estimates: Mapping[str, Sequence[Moment]]) -> dict:
    """The model's moment F1 against each annotator (and the mean over the SLPs), with boundary errors."""
    names = annotators_of(records)
    # The consensus exists for two episodes only: it is scored only where it was made.
    made = {a: {r["episode"] for r in records for m in r.get("moments", ()) if m["annotator"] == a} for a in names}
    table = _f1_table((a, reference_spans(r, a), estimate_spans(estimates[r["id"]]))
                      for r in records for a in names if a in SLPS or r["episode"] in made[a])
    return {"per_annotator": table, "mean_over_slps": _mean_f1(table, SLPS)}


def slp_agreement(records: Sequence[Mapping]) -> dict:
    """Each pair of SLPs scored against each other by the same code (reference = the first of the pair)."""
    names = [a for a in annotators_of(records) if a in SLPS]
    table = _f1_table((f"{a}-{b}", reference_spans(r, a), reference_spans(r, b))
                      for r in records for a, b in itertools.combinations(names, 2))
    return {"per_pair": table, "mean_over_pairs": _mean_f1(table, table)}


# -- per recording: frequency and duration -----------------------------------------------------------


def participant_syllables(record: Mapping, syllables_of: Callable[[str], float]) -> float:
    """Syllables the person who stutters says inside the record's audio.

    syllables_of(chat_text) counts one utterance's syllables; an utterance that lies partly inside the
    audio counts in proportion (its `inside` share), as if spoken at an even rate.
    """
    return float(sum(syllables_of(u["text"]) * float(u.get("inside", 1.0))
                     for u in record.get("chat", ()) if u.get("speaker") == PARTICIPANT))


def episode_durations(per_record: Sequence[tuple[Mapping, list[Span]]], *, edge: float = 0.02) -> list[float]:
    """Durations of an episode's moments over its runs, a moment cut by a gap between two runs counted once.

    `prep casa` puts a moment that spans the gap between two runs into both, cut at the audio's edges;
    so a moment that ends at its run's end (within `edge`) and one that starts at the next run's start are
    joined (their durations added: the audio that was heard). The same rule counts the model's moments.
    """
    ordered = sorted(per_record, key=lambda item: float(item[0].get("episode_start", 0.0)))
    durations: list[float] = []
    open_at_end = False
    for record, spans in ordered:
        spans = sorted(spans)
        for k, (a, b) in enumerate(spans):
            if k == 0 and open_at_end and a <= edge:
                durations[-1] += b - a
            else:
                durations.append(b - a)
        open_at_end = bool(spans) and spans[-1][1] >= float(record["duration"]) - edge
    return durations


def episode_measures(records: Sequence[Mapping], syllables_of: Callable[[str], float],
                     estimates: Mapping[str, Sequence[Moment]] | None = None) -> dict:
    """Per episode: syllables, and for the model (if given) and each SLP, moments per 100 syllables and the
    mean of the three longest moments; with each one's mean absolute difference from the SLPs' mean."""
    slps = [a for a in annotators_of(records) if a in SLPS]
    by_episode: dict[str, list[Mapping]] = {}
    for r in records:
        by_episode.setdefault(r["episode"], []).append(r)
    sources = [*slps, *(["model"] if estimates is not None else [])]
    episodes = {}
    for ep, recs in sorted(by_episode.items()):
        syllables = sum(participant_syllables(r, syllables_of) for r in recs)
        row: dict = {"records": len(recs), "seconds": round(sum(float(r["duration"]) for r in recs), 2),
                     "syllables": round(syllables, 1)}
        for source in sources:
            per_record = [(r, estimate_spans(estimates[r["id"]]) if source == "model" else reference_spans(r, source))
                          for r in recs]
            durations = episode_durations(per_record)
            row[source] = {"moments": len(durations),
                           "per_100_syllables": round(100 * len(durations) / syllables, 2) if syllables else None,
                           "longest3_mean_s": round(longest_mean(durations), 3)}
        if slps:
            row["slp_mean"] = {key: _mean_of([row[a][key] for a in slps]) for key in ("per_100_syllables",
                                                                                      "longest3_mean_s")}
        episodes[ep] = row
    summary = {source: {key: _mean_of([abs(row[source][key] - row["slp_mean"][key]) for row in episodes.values()
                                       if row[source][key] is not None and row["slp_mean"][key] is not None])
                        for key in ("per_100_syllables", "longest3_mean_s")}
               for source in sources} if slps else {}
    return {"episodes": episodes, "mean_abs_diff_from_slp_mean": summary}


def _mean_of(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 3) if values else None


def score_moments(records: Sequence[Mapping], *, syllables_of: Callable[[str], float] | None = None,
                  estimates: Mapping[str, Sequence[Moment]] | None = None) -> dict:
    """Everything the moment evaluation reports, as a JSON-ready dict.

    records: manifest records with SLP moments (`prep casa`). estimates: record id -> the model's moments
    (None: only the SLPs' agreement and measures). syllables_of: chat text -> syllables (None: no
    per-episode measures).
    """
    records = [r for r in records if r.get("moments") is not None]
    if not records:
        raise ValueError("no records with SLP moment annotations; give a `prep casa` manifest and a split that has them")
    out: dict = {"records": len(records), "episodes": sorted({r["episode"] for r in records}),
                 "seconds": round(sum(float(r["duration"]) for r in records), 1),
                 "annotators": annotators_of(records), "slp_agreement": slp_agreement(records)}
    if estimates is not None:
        missing = [r["id"] for r in records if r["id"] not in estimates]
        if missing:
            raise ValueError(f"no model moments for {len(missing)} record(s), e.g. {missing[0]}")
        out["model"] = model_vs_annotators(records, estimates)
    if syllables_of is not None:
        out["per_episode"] = episode_measures(records, syllables_of, estimates)
    return out


def format_report(scores: dict) -> str:
    """The scores as a plain-text table: F1 per annotator / SLP pair, then the per-episode measures."""
    lines = [f"{scores['records']} records, {len(scores['episodes'])} episodes, {scores['seconds']} s",
             "", f"{'':<14}{'F1 any overlap':>16}{'F1 onset 0.5 s':>16}{'onset err':>11}{'offset err':>11}"
                 f"{'n ref':>7}{'n est':>7}"]

    def row(name: str, m: dict) -> str:
        on, off = m["median_onset_error_s"], m["median_offset_error_s"]
        return (f"{name:<14}{m['any_overlap']['f1']:>16.3f}{m['onset_collar']['f1']:>16.3f}"
                f"{'-' if on is None else f'{on:.2f} s':>11}{'-' if off is None else f'{off:.2f} s':>11}"
                f"{m['any_overlap']['n_ref']:>7}{m['any_overlap']['n_est']:>7}")

    if "model" in scores:
        lines.append("model vs")
        lines += [row(f"  {a}", m) for a, m in scores["model"]["per_annotator"].items()]
        mean = scores["model"]["mean_over_slps"]
        lines.append(f"{'  SLP mean':<14}{mean['any_overlap']:>16.3f}{mean['onset_collar']:>16.3f}")
    lines.append("SLP vs SLP")
    lines += [row(f"  {p}", m) for p, m in scores["slp_agreement"]["per_pair"].items()]
    mean = scores["slp_agreement"]["mean_over_pairs"]
    if mean["any_overlap"] is not None:
        lines.append(f"{'  pair mean':<14}{mean['any_overlap']:>16.3f}{mean['onset_collar']:>16.3f}")
    if "per_episode" in scores:
        per = scores["per_episode"]
        sources = list(per["mean_abs_diff_from_slp_mean"])
        lines += ["", "moments per 100 syllables | mean of the three longest (s), per episode",
                  f"{'episode':<18}{'syll':>6}" + "".join(f"{s:>15}" for s in [*sources, "slp_mean"])]
        for ep, r in per["episodes"].items():
            cells = "".join(f"{_cell(r[s]):>15}" for s in [*sources, "slp_mean"])
            lines.append(f"{ep:<18}{r['syllables']:>6.0f}{cells}")
        lines.append(f"{'|x - slp_mean|':<24}" + "".join(f"{_cell(per['mean_abs_diff_from_slp_mean'][s]):>15}"
                                                       for s in sources))
    return "\n".join(lines)


def _cell(m: dict) -> str:
    f, d = m.get("per_100_syllables"), m.get("longest3_mean_s")
    return f"{'-' if f is None else f'{f:.1f}'} | {'-' if d is None else f'{d:.2f}'}"


# -- tuning the decoding -----------------------------------------------------------------------------


def decoding_grid() -> list[MomentDecoding]:
    """The settings tune_decoding tries: onset, offset (as a share of the onset), merge gap, minimum duration."""
    grid = []
    for onset in (0.3, 0.4, 0.5, 0.6, 0.7):
        for ratio in (0.5, 0.7, 1.0):
            for gap in (0.0, 0.1, 0.2, 0.4):
                for min_duration in (0.06, 0.1, 0.2, 0.3):
                    grid.append(MomentDecoding(onset=onset, offset=round(onset * ratio, 3), merge_gap=gap,
                                               min_duration=min_duration))
    return grid


def tune_decoding(records: Sequence[Mapping], frame_probs: Mapping[str, np.ndarray], *, frame_rate: float,
                  grid: Sequence[MomentDecoding] | None = None, channels: tuple[str, ...] | None = None,
                  base: MomentDecoding | None = None) -> tuple[MomentDecoding, float, list[dict]]:
    """The decoding settings with the best mean any-overlap moment F1 over the SLPs on the records.

    records: dev records with SLP moments. frame_probs: record id -> (frames, channels) probabilities.
    grid: settings to try (default decoding_grid()); each keeps base's type and interjection settings.
    Returns (best settings, its mean F1, every setting's row), the best being the first of the highest.
    """
    import dataclasses

    base = base or MomentDecoding()
    grid = list(grid or decoding_grid())
    records = [r for r in records if r.get("moments") is not None]
    if not records:
        raise ValueError("tune_decoding needs records with SLP moments (a `prep casa` dev split)")
    slps = [a for a in annotators_of(records) if a in SLPS]
    refs = {(r["id"], a): reference_spans(r, a) for r in records for a in slps}
    kw = {} if channels is None else {"channels": channels}
    rows = []
    for setting in grid:
        setting = dataclasses.replace(base, onset=setting.onset, offset=setting.offset,
                                      merge_gap=setting.merge_gap, min_duration=setting.min_duration)
        counts = dict.fromkeys(slps, MatchCounts())
        for r in records:
            est = estimate_spans(decode_moments(frame_probs[r["id"]], frame_rate=frame_rate, options=setting,
                                                exclude=[tuple(x) for x in r.get("exclude", ())], **kw))
            for a in slps:
                counts[a] = counts[a] + overlap_counts(refs[(r["id"], a)], est)
        mean = float(np.mean([c.f1 for c in counts.values()]))
        rows.append({"decoding": setting.to_dict(), "mean_f1": round(mean, 4),
                     **{a: round(c.f1, 4) for a, c in counts.items()}})
    best = max(range(len(rows)), key=lambda i: rows[i]["mean_f1"])
    return MomentDecoding.from_dict(rows[best]["decoding"]), rows[best]["mean_f1"], rows
