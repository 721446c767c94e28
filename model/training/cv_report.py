"""`stutterscope evaluate --cv`: every held-out episode scored joined, beside the floors and the SLPs' agreement.

Sources are frame probabilities cached per run (benchmarks/frame_probs_cache.py's .npz, keyed by record id,
with a .json beside it naming the channels and the model file's decoding): one file per fold's model on its
held-out fold, or one model's on the episodes it never trained on. Each episode is joined
(joined_scores.join_episode), decoded as one recording and scored against each SLP, as are the two trivial
floors and the SLPs among themselves, on the same episodes. Figures pool the counts over episodes (F1 from the
summed matched pairs per SLP, then the mean over the SLPs, as moment_scores does); the count and longest-3
errors are means over episodes. They are given for all episodes and per severity band, and every pair of
sources is compared by a paired bootstrap over episodes (= speakers): the same resampled episodes for both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..labels import SLD_LABELS
from ..moments.decoding import MomentDecoding
from .cv import BANDS, check_folds, make_folds, severity_band
from .joined_scores import (
    AGREEMENT,
    EPISODE_FLOOR,
    RUN_FLOOR,
    EpisodeScore,
    JoinedEpisode,
    episode_floor,
    join_episode,
    model_spots,
    run_floor,
    score_agreement,
    score_estimate,
    slp_means,
)

RESAMPLES = 2000  # bootstrap resamples of the episodes
ALL = "all"


@dataclass(frozen=True)
class FrameSource:
    """One recipe's cached frame probabilities, and how each run's are decoded."""

    name: str
    probs: Mapping[str, np.ndarray]  # record id -> (frames, channels)
    channels: tuple[str, ...]
    decodings: Mapping[str, MomentDecoding]  # record id -> the decoding of the model that made its frames
    model_ids: tuple[str, ...] = ()  # the models the probabilities came from (one per fold, or one)

    def decoding_of(self, joined: JoinedEpisode) -> MomentDecoding:
        return self.decodings[joined.run_ids[0]]


def read_frame_source(name: str, paths: Sequence[Path], *, decoding: MomentDecoding | None = None) -> FrameSource:
    """A source from frame_probs_cache files (.npz + .json); decoding: instead of each file's own.

    Files from several models (one per fold) must share channels; each keeps its own decoding unless
    `decoding` is given, so a fold's model is decoded with the settings tuned for it.
    """
    probs: dict[str, np.ndarray] = {}
    decodings: dict[str, MomentDecoding] = {}
    channels: tuple[str, ...] | None = None
    model_ids = []
    for path in map(Path, paths):
        info_path = path.with_suffix(".json")
        if not path.is_file() or not info_path.is_file():
            raise ValueError(f"{path} (and {info_path.name} beside it) not found; make them with "
                             "benchmarks/frame_probs_cache.py")
        info = json.loads(info_path.read_text())
        if channels is not None and tuple(info["channels"]) != channels:
            raise ValueError(f"{path}'s channels {info['channels']} differ from the other files' {list(channels)}")
        channels = tuple(info["channels"])
        model_ids.append(str(info.get("model_id", "?")))
        own = decoding or MomentDecoding.from_dict(info.get("decoding", {}))
        with np.load(path) as z:
            overlap = sorted(set(z.files) & set(probs))
            if overlap:
                raise ValueError(f"{path} holds runs already given by another file, e.g. {overlap[0]}; give each "
                                 "run once (one file per fold)")
            probs.update({k: z[k] for k in z.files})
            decodings.update(dict.fromkeys(z.files, own))
    if channels is None:
        raise ValueError(f"source {name!r} has no files; give NAME=FILE[,FILE...]")
    return FrameSource(name, probs, channels, decodings, tuple(dict.fromkeys(model_ids)))


@dataclass(frozen=True)
class EpisodeRow:
    episode: str
    band: str
    syllables: float
    slp_per100: float | None  # the SLPs' mean moments per 100 syllables: the episode's severity
    scores: Mapping[str, EpisodeScore]  # source -> its score on the episode


def joined_episodes(records: Sequence[Mapping], syllables_of: Callable[[str], float]) -> list[JoinedEpisode]:
    """Every episode with SLP moments, joined."""
    by_episode: dict[str, list[Mapping]] = {}
    for r in records:
        if r.get("moments") is not None:
            by_episode.setdefault(r["episode"], []).append(r)
    if not by_episode:
        raise ValueError("no records with SLP moments; give a `stutterscope prep casa` manifest")
    return [join_episode(recs, syllables_of) for _, recs in sorted(by_episode.items())]


def score_episodes(episodes: Sequence[JoinedEpisode], sources: Sequence[FrameSource], *,
                   frame_rate: float) -> list[EpisodeRow]:
    """Each episode's score for every source, both floors and the SLPs' agreement.

    Only the episodes every source has probabilities for are scored (a fold's model covers its fold):
    every comparison is then on the same speakers.
    """
    covered = [j for j in episodes if all(all(rid in s.probs for rid in j.run_ids) for s in sources)]
    if not covered:
        raise ValueError("no episode has frame probabilities for all its runs in every source; cache whole "
                         "episodes (benchmarks/frame_probs_cache.py --splits ...)")
    rows = []
    for j in covered:
        scores = {s.name: score_estimate(j, model_spots(j, s.probs, channels=s.channels, decoding=s.decoding_of(j),
                                                        frame_rate=frame_rate)) for s in sources}
        scores[RUN_FLOOR] = score_estimate(j, run_floor(j))
        scores[EPISODE_FLOOR] = score_estimate(j, episode_floor(j))
        scores[AGREEMENT] = score_agreement(j)
        rate, _ = slp_means(j)
        rows.append(EpisodeRow(j.episode, severity_band(rate or 0.0), j.syllables, rate, scores))
    return rows


# -- pooled figures and the bootstrap ------------------------------------------------------------------------


def counts_array(rows: Sequence[EpisodeRow], source: str) -> np.ndarray:
    """(episodes, references, 3): matched pairs, reference moments, estimated moments."""
    return np.array([[(p.tp, p.n_ref, p.n_est) for p in row.scores[source].pairs] for row in rows], np.float64)


def mean_f1(counts: np.ndarray) -> np.ndarray:
    """Mean over references of F1 from counts summed over episodes; (..., episodes, refs, 3) -> (...)."""
    tp, n_ref, n_est = np.moveaxis(counts.sum(-3), -1, 0)
    return np.where(n_ref + n_est > 0, 2 * tp / np.maximum(n_ref + n_est, 1), 1.0).mean(-1)


def _errors(rows: Sequence[EpisodeRow], source: str) -> np.ndarray:
    """(episodes, 2): |count - SLPs| per 100 syllables, |longest-3 - SLPs| seconds (NaN: no syllables)."""
    return np.array([(np.nan if s.per100_error is None else s.per100_error, s.longest3_error)
                     for s in (row.scores[source] for row in rows)], np.float64)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], *,
                     resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float, float]:
    """(statistic(a) - statistic(b), 2.5 % and 97.5 % of it) over episodes resampled with replacement.

    a, b: per-episode arrays (episodes first) of two sources on the same episodes; each resample takes the
    same episodes for both. statistic maps (resamples, episodes, ...) to (resamples,).
    """
    if len(a) != len(b) or not len(a):
        raise ValueError(f"a paired bootstrap needs the same episodes for both, got {len(a)} and {len(b)}")
    idx = np.random.default_rng(seed).integers(0, len(a), (resamples, len(a)))  # (resamples, episodes)
    diffs = statistic(a[idx]) - statistic(b[idx])
    low, high = np.nanpercentile(diffs, [2.5, 97.5])
    return float(statistic(a[None])[0] - statistic(b[None])[0]), float(low), float(high)


def _mean_error(errors: np.ndarray) -> np.ndarray:
    return np.nanmean(errors, axis=-1)


def summarize(rows: Sequence[EpisodeRow], source: str) -> dict:
    """A source's pooled figures over the rows' episodes."""
    counts = counts_array(rows, source)
    tp, n_ref, n_est = counts.sum(0).T  # per reference
    type_found = {t: np.sum([[p.type_found[t] for p in row.scores[source].pairs] for row in rows], axis=(0, 1))
                  for t in SLD_LABELS}
    errors = _errors(rows, source)
    return {"episodes": len(rows), "f1": float(mean_f1(counts)),
            "precision": float(np.mean(np.where(n_est > 0, tp / np.maximum(n_est, 1), 0.0))),
            "recall": float(np.mean(np.where(n_ref > 0, tp / np.maximum(n_ref, 1), 0.0))),
            "type_recall": {t: (float(f / n) if n else None) for t, (f, n) in type_found.items()},
            "type_moments": {t: int(n) for t, (_, n) in type_found.items()},
            "per100_error": float(np.nanmean(errors[:, 0])) if np.isfinite(errors[:, 0]).any() else None,
            "longest3_error": float(errors[:, 1].mean())}


def compare(rows: Sequence[EpisodeRow], a: str, b: str, *, resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """a - b in mean F1 and in the count error, each with its paired-bootstrap 95 % interval."""
    f1 = paired_bootstrap(counts_array(rows, a), counts_array(rows, b), mean_f1, resamples=resamples, seed=seed)
    err = paired_bootstrap(_errors(rows, a)[:, 0], _errors(rows, b)[:, 0], _mean_error, resamples=resamples, seed=seed)
    return {"a": a, "b": b, "f1_diff": f1[0], "f1_interval": f1[1:], "per100_error_diff": err[0],
            "per100_error_interval": err[1:]}


def band_rows(rows: Sequence[EpisodeRow]) -> dict[str, list[EpisodeRow]]:
    """"all" and each severity band that has episodes."""
    out = {ALL: list(rows)}
    for name, _, _ in BANDS:
        chosen = [r for r in rows if r.band == name]
        if chosen:
            out[name] = chosen
    return out


def cv_report(rows: Sequence[EpisodeRow], sources: Sequence[str], *, resamples: int = RESAMPLES,
              seed: int = 0, folds: Sequence[Sequence[str]] = ()) -> dict:
    """Figures per band and source, paired comparisons of every pair of sources, per-episode rows; folds:
    the cross-validation's folds, reported with their episodes' severity."""
    names = [*sources, RUN_FLOOR, EPISODE_FLOOR, AGREEMENT]
    bands = band_rows(rows)
    return {
        "sources": names,
        "bands": {band: {name: summarize(chosen, name) for name in names} for band, chosen in bands.items()},
        "comparisons": {band: [compare(chosen, a, b, resamples=resamples, seed=seed)
                               for i, a in enumerate(names) for b in names[i + 1:]]
                        for band, chosen in bands.items() if len(chosen) >= 2},
        "episodes": [{"episode": r.episode, "band": r.band, "syllables": round(r.syllables, 1),
                      "slp_per100": r.slp_per100,
                      "per100": {n: r.scores[n].per100 for n in names},
                      "longest3_s": {n: r.scores[n].longest3 for n in names},
                      "f1": {n: float(mean_f1(counts_array([r], n))) for n in names}} for r in rows],
        "folds": [list(f) for f in folds], "severity": {r.episode: r.slp_per100 for r in rows},
        "resamples": resamples, "seed": seed}


# -- the markdown table ----------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(diff: float, interval: Sequence[float], digits: int = 3) -> str:
    return f"{diff:+.{digits}f} [{interval[0]:+.{digits}f}, {interval[1]:+.{digits}f}]"


def format_markdown(report: dict) -> str:
    """The report as markdown tables: figures per band and source, comparisons, episodes, folds."""
    names = report["sources"]
    lines = ["| band (episodes) | source | F1 | precision | recall | "
             + " | ".join(f"{t} recall" for t in SLD_LABELS) + " | count off (per 100 syll.) | longest-3 off (s) |",
             "|---|---|---|---|---|" + "---|" * len(SLD_LABELS) + "---|---|"]
    for band, figures in report["bands"].items():
        for name in names:
            f = figures[name]
            types = " | ".join(f"{_num(f['type_recall'][t], 2)} ({f['type_moments'][t]})" for t in SLD_LABELS)
            lines.append(f"| {band} ({f['episodes']}) | {name} | {_num(f['f1'])} | {_num(f['precision'])} | "
                         f"{_num(f['recall'])} | {types} | {_num(f['per100_error'], 2)} | {_num(f['longest3_error'], 2)} |")
    lines += ["", "| band | a - b | F1 difference [95 % interval] | count-off difference [95 % interval] |",
              "|---|---|---|---|"]
    for band, comparisons in report["comparisons"].items():
        for c in comparisons:
            lines.append(f"| {band} | {c['a']} - {c['b']} | {_interval(c['f1_diff'], c['f1_interval'])} | "
                         f"{_interval(c['per100_error_diff'], c['per100_error_interval'], 2)} |")
    # Per episode; the agreement's own count and longest-3 are the SLPs' means, given first.
    own = [n for n in names if n != AGREEMENT]
    lines += ["", "| episode | band | syllables | SLPs' mean per 100 | " + " | ".join(f"{n} per 100" for n in own)
              + " | SLPs' mean longest-3 (s) | " + " | ".join(f"{n} longest-3 (s)" for n in own) + " | "
              + " | ".join(f"{n} F1" for n in names) + " |",
              "|---|---|---|---|" + "---|" * (2 * len(own) + 1 + len(names))]
    for e in report["episodes"]:
        lines.append(f"| {e['episode']} | {e['band']} | {e['syllables']:.0f} | {_num(e['slp_per100'], 1)} | "
                     + " | ".join(_num(e["per100"][n], 1) for n in own) + f" | {_num(e['longest3_s'][AGREEMENT], 2)} | "
                     + " | ".join(_num(e["longest3_s"][n], 2) for n in own) + " | "
                     + " | ".join(_num(e["f1"][n]) for n in names) + " |")
    severity = report["severity"]
    lines += ["", "| fold | held-out episodes (SLPs' moments per 100 syllables) |", "|---|---|"]
    lines += [f"| {k} | " + ", ".join(f"{ep} ({_num(severity[ep], 1)})" for ep in fold) + " |"
              for k, fold in enumerate(report["folds"])]
    return "\n".join(lines)


def evaluate_cv(records: Sequence[Mapping], *, syllables_of: Callable[[str], float],
                sources: Sequence[FrameSource] = (), frame_rate: float, resamples: int = RESAMPLES,
                seed: int = 0) -> dict:
    """The whole evaluation: records of a `prep casa` manifest (every split), sources' cached frames.

    With no sources: the floors and the SLPs' agreement on every annotated episode. With sources: on the
    episodes every source covers. seed: the bootstrap's and the folds'.
    """
    names = [s.name for s in sources]
    if len(set(names)) != len(names) or {RUN_FLOOR, EPISODE_FLOOR, AGREEMENT} & set(names):
        raise ValueError(f"give each source its own short name (not a floor's or the agreement's), got {names}")
    episodes = joined_episodes(records, syllables_of)
    rows = score_episodes(episodes, sources, frame_rate=frame_rate)
    # The folds are over every annotated episode, whichever episodes the sources cover.
    severity = {j.episode: slp_means(j)[0] or 0.0 for j in episodes}
    folds = make_folds(severity, seed=seed)
    check_folds(folds, {r["episode"]: r.get("speaker", r["episode"]) for r in records if r["episode"] in severity})
    report = cv_report(rows, names, resamples=resamples, seed=seed, folds=folds)
    report["severity"] = severity  # of every episode, for the folds' table
    report["models"] = {s.name: list(s.model_ids) for s in sources}
    return report
