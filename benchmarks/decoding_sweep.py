"""Decoding experiments on cached frame probabilities: objective, smoothing, ensembles, interjections (issue 13).

Reads the frame probabilities that benchmarks/frame_probs_cache.py wrote (the app's own inference path),
decodes them with many settings and scores each as `stutterscope evaluate --moments` does
(model.training.moment_scores: any-overlap F1 against each SLP, per-episode moments per 100 CHAT syllables
and the mean of the three longest, against the SLPs' mean). Choose on dev only: `--split test` is for
scoring one final candidate, given as --decoding JSON.

Sources: a model name (`a`), or names joined by `+` (`a+d`): the mean of their frame probabilities;
`@med5`, `@maxtype`, `@meanor` after it transform them first (source_probs).
Writes JSON rows (scores only, no audio or probabilities) to --out.

`PYTHONPATH=$PWD .venv/bin/python benchmarks/decoding_sweep.py --manifest runs/casa/manifest.jsonl
--sources a d a+d --out runs/decode/sweep_dev.json`
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from frame_probs_cache import load_cached  # noqa: E402

from data_prep.chat import chat_tokens, chat_words  # noqa: E402
from model.audio.decode import TOKENS_PER_SECOND  # noqa: E402
from model.labels import SLD_LABELS  # noqa: E402
from model.manifest import read_manifest  # noqa: E402
from model.moments.decoding import INTERJECTION, MomentDecoding, decode_moments  # noqa: E402
from model.training.moment_eval import record_exclusions, syllable_counter  # noqa: E402
from model.training.moment_scores import (  # noqa: E402
    PARTICIPANT,
    SLPS,
    MatchCounts,
    episode_measures,
    estimate_spans,
    overlap_counts,
    reference_spans,
)

log = logging.getLogger(__name__)


def split_records(manifest: Path, split: str) -> list[dict]:
    return [r for r in read_manifest(manifest) if r.get("moments") is not None and r.get("split") == split]


def source_probs(cache: Path, source: str, split: str) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """record id -> probabilities of one model, or the mean of several ("a+d"), and their channels.

    A modifier after "@": "medN", each channel median-filtered over N frames within each record ("a@med5");
    "maxtype", p(moment) replaced by the largest of p(moment) and the four stuttering-like types' p;
    "meanor", by the mean of p(moment) and the noisy-or of the types' p (does type evidence find moments
    that the moment channel misses?).
    """
    source, _, modifier = source.partition("@")
    parts = [load_cached(cache, name, split) for name in source.split("+")]
    channels = tuple(parts[0][1]["channels"])
    if any(tuple(info["channels"]) != channels for _, info in parts):
        raise ValueError(f"the models of {source} have different channels; they cannot be averaged")
    ids = parts[0][0].keys()
    probs = {k: np.mean([p[k] for p, _ in parts], axis=0) for k in ids}
    if modifier in ("maxtype", "meanor"):
        cols = [channels.index(label) for label in SLD_LABELS]
        for p in probs.values():
            types = p[:, cols]
            p[:, 0] = (np.maximum(p[:, 0], types.max(1)) if modifier == "maxtype"
                       else (p[:, 0] + 1 - np.prod(1 - types, axis=1)) / 2)
    elif modifier:
        if not modifier.startswith("med"):
            raise ValueError(f"unknown source modifier @{modifier}; use @medN (a median filter over N frames), @maxtype or @meanor")
        from scipy.ndimage import median_filter

        width = int(modifier[3:])
        probs = {k: median_filter(p, size=(width, 1), mode="nearest") for k, p in probs.items()}
    return probs, channels


@functools.cache
def _syllables(text: str) -> float:
    return syllable_counter(chat_words)(text)


def score(records: Sequence[Mapping], probs: Mapping[str, np.ndarray], channels: tuple[str, ...],
          decoding: MomentDecoding, clip_labels: Mapping[str, Mapping] | None = None, details: bool = False) -> dict:
    """Mean any-overlap F1 over the SLPs, and per episode the model's count and longest-3 against the SLPs' mean.

    clip_labels: clip id -> vote labels; adds the interjection measures. details: adds merged/split/missed
    moments per episode and SLP (merge_split_counts).
    """
    estimates = {r["id"]: decode_moments(probs[r["id"]], frame_rate=TOKENS_PER_SECOND, options=decoding,
                                         channels=channels, exclude=record_exclusions(r)) for r in records}
    counts = dict.fromkeys(SLPS, MatchCounts())
    for r in records:
        est = estimate_spans(estimates[r["id"]])
        for a in SLPS:
            counts[a] = counts[a] + overlap_counts(reference_spans(r, a), est)
    per = episode_measures(records, _syllables, estimates)
    episodes = {}
    for ep, row in per["episodes"].items():
        episodes[ep.split("/")[-1]] = {
            "per100": row["model"]["per_100_syllables"], "per100_slp": row["slp_mean"]["per_100_syllables"],
            "longest3": row["model"]["longest3_mean_s"], "longest3_slp": row["slp_mean"]["longest3_mean_s"]}
    diff = per["mean_abs_diff_from_slp_mean"]["model"]
    return {"f1": round(float(np.mean([c.f1 for c in counts.values()])), 4),
            "per_slp": {a: round(c.f1, 4) for a, c in counts.items()},
            "n_est": counts["A1"].n_est, "count_err": diff["per_100_syllables"], "longest3_err": diff["longest3_mean_s"],
            "episodes": episodes,
            **({} if clip_labels is None else {"interjections": interjection_measures(records, estimates, clip_labels)}),
            **({} if not details else {"merge_split": {
                ep.split("/")[-1]: merge_split_counts([r for r in records if r["episode"] == ep], estimates)
                for ep in sorted({r["episode"] for r in records})}})}


def interjection_measures(records: Sequence[Mapping], estimates: Mapping, clip_labels: Mapping[str, Mapping]) -> dict:
    """What can be measured of the decoded interjections on CASA, which has no interjection annotation.

    Per episode: decoded interjections, how many of them overlap a moment of any SLP, and the fillers
    (&-um, &-uh, &-like, &-you_know) that the CHAT transcript gives the person who stutters inside the
    audio (an utterance partly inside counts in proportion); and, per FluencyBank 3 s clip inside a record, whether an interjection was decoded there
    against the clip's Interjection vote label (clip_labels: clip id -> labels, from the FluencyBank clip
    manifest; >= 2 of 3 raters), as true/false positives and F1 over the clips.
    """
    by_ep: dict[str, dict] = {}
    tp = fp = fn = 0
    for r in records:
        ep = r["episode"].split("/")[-1]
        row = by_ep.setdefault(ep, {"decoded": 0, "on_slp_moment": 0, "chat_fillers": 0.0})
        inter = [m for m in estimates[r["id"]] if m.kind == INTERJECTION]
        row["decoded"] += len(inter)
        slp = [span for a in SLPS for span in reference_spans(r, a)]
        row["on_slp_moment"] += sum(any(m.start < b and a < m.end for a, b in slp) for m in inter)
        row["chat_fillers"] += sum(float(u.get("inside", 1.0)) * sum(w.filler for w in chat_tokens(u["text"]))
                                   for u in r.get("chat", ()) if u.get("speaker") == PARTICIPANT)
        for clip in r.get("clips", ()):
            label = clip_labels.get(clip["id"], {}).get("Interjection")
            if label is None:
                continue
            hit = any(m.start < clip["end"] and m.end > clip["start"] for m in inter)
            tp += bool(hit and label)
            fp += bool(hit and not label)
            fn += bool(label and not hit)
    for row in by_ep.values():
        row["chat_fillers"] = round(row["chat_fillers"], 1)
    clip = {"tp": tp, "fp": fp, "fn": fn, "f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else None}
    return {"episodes": by_ep, "clips": clip}


def merge_split_counts(records: Sequence[Mapping], estimates: Mapping) -> dict:
    """Per SLP: estimated moments that overlap 2+ of the SLP's moments (merged) and SLP moments that overlap
    2+ estimated ones (split), and SLP moments with no estimate at all (missed)."""
    out = {}
    for a in SLPS:
        merged = split = missed = 0
        for r in records:
            ref = np.asarray(reference_spans(r, a)).reshape(-1, 2)
            est = np.asarray(estimate_spans(estimates[r["id"]])).reshape(-1, 2)
            if not len(ref) or not len(est):
                missed += len(ref)
                continue
            hit = (np.minimum(ref[:, None, 1], est[None, :, 1]) - np.maximum(ref[:, None, 0], est[None, :, 0])) > 0
            merged += int((hit.sum(0) >= 2).sum())
            split += int((hit.sum(1) >= 2).sum())
            missed += int((hit.sum(1) == 0).sum())
        out[a] = {"merged": merged, "split": split, "missed": missed}
    return out


def record_counts(records: Sequence[Mapping], probs: Mapping[str, np.ndarray], channels: tuple[str, ...],
                  decoding: MomentDecoding) -> np.ndarray:
    """(records, SLPs, 3) any-overlap matched pairs, SLP moments and model moments of each record."""
    out = np.zeros((len(records), len(SLPS), 3))
    for i, r in enumerate(records):
        est = estimate_spans(decode_moments(probs[r["id"]], frame_rate=TOKENS_PER_SECOND, options=decoding,
                                            channels=channels, exclude=record_exclusions(r)))
        for j, a in enumerate(SLPS):
            c = overlap_counts(reference_spans(r, a), est)
            out[i, j] = (c.tp, c.n_ref, c.n_est)
    return out


def mean_f1(counts: np.ndarray) -> float:
    """Mean over SLPs of F1 from (records, SLPs, 3) counts summed over records (as score does)."""
    tp, n_ref, n_est = counts.sum(0).T
    return float(np.mean(np.where(n_ref + n_est > 0, 2 * tp / np.maximum(n_ref + n_est, 1), 1.0)))


def paired_bootstrap(counts: np.ndarray, against: np.ndarray, *, resamples: int = 2000,
                     seed: int = 0) -> tuple[float, float, float]:
    """(F1 difference, 2.5 %, 97.5 % of it) over records resampled with replacement, both decodings on the
    same resampled records: is a dev gain more than which runs happened to be in dev?"""
    rng = np.random.default_rng(seed)
    n = len(counts)
    diffs = [mean_f1(counts[idx]) - mean_f1(against[idx]) for idx in rng.integers(0, n, (resamples, n))]
    low, high = np.percentile(diffs, [2.5, 97.5])
    return mean_f1(counts) - mean_f1(against), float(low), float(high)


def grid(base: MomentDecoding, *, small: bool = False) -> list[MomentDecoding]:
    """tune_decoding's grid, widened at the long end of merge gap and minimum duration (small: 240 of them)."""
    out = []
    for onset in (0.5, 0.6, 0.7, 0.8) if small else (0.4, 0.5, 0.6, 0.7, 0.8):
        for ratio in (0.7, 0.85, 1.0) if small else (0.5, 0.7, 0.85, 1.0):
            for gap in (0.0, 0.2, 0.4, 0.6, 0.8) if small else (0.0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8):
                for min_duration in (0.1, 0.2, 0.3, 0.4) if small else (0.06, 0.1, 0.2, 0.3, 0.4):
                    out.append(dataclasses.replace(base, onset=onset, offset=round(onset * ratio, 3), merge_gap=gap,
                                                   min_duration=min_duration))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, required=True, help="a `prep casa` manifest")
    ap.add_argument("--split", default="dev", help="dev to choose; test only for one final --decoding")
    ap.add_argument("--sources", nargs="+", default=["a"], help="cached model names, or name+name for their mean")
    ap.add_argument("--cache", type=Path, default=Path("cache/decode"), help="frame_probs_cache.py's folder")
    ap.add_argument("--decoding", type=json.loads, default=None,
                    help="score these settings (JSON, MomentDecoding fields) instead of sweeping the grid")
    ap.add_argument("--clips-manifest", type=Path, default=None,
                    help="the FluencyBank clip manifest (clip votes): adds interjection measures to each row")
    ap.add_argument("--against", default=None, metavar="SOURCE:JSON",
                    help="with --decoding: a paired bootstrap over records of the F1 gain over this source and "
                         "decoding, e.g. 'a:{\"onset\": 0.6, \"offset\": 0.6, \"merge_gap\": 0.4, \"min_duration\": 0.3}'")
    ap.add_argument("--small-grid", action="store_true", help="240 settings instead of 700")
    ap.add_argument("--out", type=Path, required=True, help="JSON file for the rows")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records = split_records(args.manifest, args.split)
    clip_labels = None
    if args.clips_manifest is not None:
        clip_labels = {r["id"]: r.get("labels", {}) for r in read_manifest(args.clips_manifest)}
    rows = []
    for source in args.sources:
        probs, channels = source_probs(args.cache, source, args.split)
        settings = [MomentDecoding.from_dict(args.decoding)] if args.decoding is not None else grid(MomentDecoding(), small=args.small_grid)
        for k, setting in enumerate(settings):
            rows.append({"source": source, "decoding": setting.to_dict(), **score(records, probs, channels, setting, clip_labels,
                                                                                details=args.decoding is not None)})
            if k % 100 == 0:
                log.info("%s: %d / %d", source, k, len(settings))
    if args.against is not None:
        if args.decoding is None:
            raise ValueError("--against compares one --decoding with another; give --decoding too")
        base_source, _, base_json = args.against.partition(":")
        base_probs, base_channels = source_probs(args.cache, base_source, args.split)
        base = record_counts(records, base_probs, base_channels, MomentDecoding.from_dict(json.loads(base_json)))
        for row in rows:
            probs, channels = source_probs(args.cache, row["source"], args.split)
            counts = record_counts(records, probs, channels, MomentDecoding.from_dict(row["decoding"]))
            gain, low, high = paired_bootstrap(counts, base)
            row["against"] = {"source": base_source, "decoding": json.loads(base_json), "f1_gain": round(gain, 4),
                              "interval_95": [round(low, 4), round(high, 4)]}
            log.info("%s: F1 gain %+.4f over %s, 95 %% interval [%+.3f, %+.3f]", row["source"], gain, base_source,
                     low, high)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"split": args.split, "rows": rows}, indent=1))
    log.info("wrote %d rows to %s", len(rows), args.out)


if __name__ == "__main__":
    main()

