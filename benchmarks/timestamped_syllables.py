"""Syllables from Whisper's words, verbatim and intended, against FluencyBank Timestamped's hand-corrected words.

Each of the 22 episodes of a CASA manifest (`prep casa`) is one recording: its runs joined in time order with
1 s of silence between them and transcribed as the app transcribes a session (benchmarks/casa_words:
stitch_episode, words_per_run; the default backend, one thread). The words are cached per episode under
cache/timestamped_syllables/ under the repository root (keyed by the transcription options; never committed), so a rerun only recounts.
Episodes go most severe first. With --sample-s S (when the shared cores cannot transcribe all 22 in time), the
severe episodes are still whole and each other one is its first runs holding S seconds of compared speech
(sample_runs), transcribed joined as above.

What is compared, per run: the stretches of the run that lie inside one of Timestamped's segments (its
segments are the person who stutters' speech, hand-cut), less the run's interviewer stretches (the
manifest's `exclude`). Whisper's words count when their midpoint lies there; Timestamped's words when
theirs does. So both sides cover the same seconds of the same speaker.

Counted (model.measures.syllables for every word; model.measures.intended_syllables for the rules):
  - Whisper verbatim: every word's syllables (what the measures counted before issue 26);
  - Whisper intended: model.measures.intended_syllables.intended_counts (the measures' denominator: repetitions,
    part-words and fillers not counted), with no moments given (rule (a) needs none);
  - Timestamped verbatim: every word of words.csv; Timestamped intended: the words with no flag (filled
    pause, repetition, partial word; a revision is kept, as the speaker meant both), which is the
    segments' `intended` text up to the authors' own slips.
Error = Whisper intended / Timestamped intended - 1, per episode; the aim (issue 26): within 10 % for every
speaker. Severity is the SLPs' mean moments per 100 CHAT syllables on the episode's joined runs, as
model/training/cv.py folds by it (slp_means); "over 15" is severe.

Writes benchmarks/results/timestamped_syllables.md (and the full rows as JSON under cache/timestamped_syllables/).
Needs the shared data (never committed).
Run: `nice -n 15 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/timestamped_syllables.py
      --manifest <prep casa manifest> [--sample-s 60] [--cached-only]`
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.casa_words import GAP_S, MANIFEST, stitch_episode  # noqa: E402
from model.jsonable import dumps  # noqa: E402
from model.measures.words import TranscribeOptions, Word  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CACHE = Path("cache/timestamped_syllables")
TIMESTAMPED = ROOT.parent / "shared" / "data" / "timestamped"
AIM = 0.10  # issue 26: intended syllables within 10 % of Timestamped's, for every speaker
LOOP = 6  # this many of the same word in a row is counted as a Whisper loop (loop_words)
log = logging.getLogger("timestamped_syllables")


def _words_key(options: TranscribeOptions) -> str:
    return hashlib.sha256(json.dumps(dataclasses.asdict(options), sort_keys=True).encode()).hexdigest()[:10]


def cached_words(episode: str, options: TranscribeOptions, runs: Sequence[dict] | None = None) -> Path:
    """The cache file of an episode's words: all its runs, or (a sample) the runs given."""
    sample = "" if runs is None else "." + hashlib.sha256(" ".join(r["id"] for r in runs).encode()).hexdigest()[:8]
    return CACHE / f"{episode.replace('/', '_')}.{_words_key(options)}{sample}.words.jsonl"


def sample_runs(records: list[dict], segments, seconds: float) -> list[dict]:
    """The episode's first runs, in time order, whose compared stretches (not_compared's complement) add up
    to `seconds`; runs with nothing compared are passed over."""
    out, total = [], 0.0
    for rec in records:
        compared = rec["duration"] - sum(b - a for a, b in merged(not_compared(rec, segments), rec["duration"]))
        if compared > 0:
            out.append(rec)
            total += compared
        if total >= seconds:
            break
    return out


def merged(stretches, duration: float) -> list[tuple[float, float]]:
    from model.measures.clinical import merge_stretches

    return merge_stretches([(a, b) for a, b in stretches if b > a], duration=duration)


def episode_words(episode: str, records: list[dict], root: Path, options: TranscribeOptions, *,
                  sampled: bool = False) -> tuple[list[Word], list[tuple[float, float]], float]:
    """Whisper's words on the stitched episode (cached), the runs' (start, duration) in it, and the seconds
    spent transcribing (0: cached)."""
    from model.measures.words import Transcriber, load_words, save_words

    audio, offsets = stitch_episode(records, root)
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = cached_words(episode, options, records if sampled else None)
    spent = 0.0
    if cached.exists():
        words = load_words(cached)
    else:
        t0 = time.perf_counter()
        words = Transcriber(options).transcribe_audio(audio)
        spent = time.perf_counter() - t0
        save_words(words, cached)
    return words, offsets, spent


# -- the reference ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RefWord:
    """One of Timestamped's words (media seconds) and whether the speaker meant it."""

    start: float
    end: float
    text: str
    intended: bool  # no flag at all: the segments' `intended` text
    revision_only: bool  # flagged a revision and nothing else: meant, by rule (e)
    segment: str  # segid: the segment (utterance) it belongs to


def read_timestamped(folder: Path = TIMESTAMPED) -> tuple[dict[str, list], dict[str, list[RefWord]]]:
    """Episode ("FluencyBank/097") -> its segments' (start, end) media seconds, and -> its words."""
    segments, words = defaultdict(list), defaultdict(list)
    with open(folder / "segments.csv", newline="") as f:
        for row in csv.DictReader(f):
            segments[f"FluencyBank/{row['EpId']}"].append((float(row["segstart"]), float(row["segend"])))
    with open(folder / "words.csv", newline="") as f:
        for row in csv.DictReader(f):
            flags = {k: row[k] == "1" for k in ("fp", "rp", "rv", "pw")}
            words[f"FluencyBank/{row['EpId']}"].append(RefWord(
                float(row["start"]), float(row["end"]), row["word"], not any(flags.values()),
                flags["rv"] and not (flags["fp"] or flags["rp"] or flags["pw"]), row["segid"]))
    return dict(segments), dict(words)


def not_compared(record: dict, segments: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The run's stretches (run seconds) outside every Timestamped segment, and its interviewer stretches."""
    from model.measures.clinical import merge_stretches

    start, duration = record["episode_start"], record["duration"]
    inside = merge_stretches([(a - start, b - start) for a, b in segments if b > start and a < start + duration],
                             duration=duration)
    edges = [0.0] + [t for s in inside for t in s] + [duration]
    gaps = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if b > a]
    return gaps + [(float(a), float(b)) for a, b in record.get("exclude", ()) if float(b) > float(a)]


def stitched_skip(records: list[dict], offsets, segments) -> list[tuple[float, float]]:
    """Everything of the stitched recording that is not compared: each run's not_compared, and the joins."""
    out = []
    for rec, (start, duration) in zip(records, offsets, strict=True):
        out += [(start + a, start + b) for a, b in not_compared(rec, segments) if start + b > start + a]
        out.append((start + duration, start + duration + GAP_S))
    return out


def to_stitched(items, records: list[dict], offsets, *, media: bool):
    """(item, its start in the stitched recording) for the items (with start and end) inside a run: media
    seconds (Timestamped's words) or run seconds (per record: the SLPs' moments, media=False)."""
    for k, (rec, (start, duration)) in enumerate(zip(records, offsets, strict=True)):
        base = rec["episode_start"] if media else 0.0
        for x in (items if media else items[k]):
            if 0 <= (x.start + x.end) / 2 - base < duration:
                yield x, start - base


# -- counting ---------------------------------------------------------------------------------------------


def count(words: Sequence, moments: Sequence, skip: list[tuple[float, float]]) -> dict[str, int]:
    """Syllables of the words (stitched seconds) outside skip, through model.measures.clinical as the app counts them:
    verbatim, intended (rule 2), and intended only where a moment lies (fillers always left out: gated)."""
    from model.measures.clinical import MeasureOptions, compute_measures
    from model.measures.intended_syllables import is_filler

    m = compute_measures(words, moments, excluded=skip, options=MeasureOptions(min_syllables=0, min_speaking_s=0))
    kept = [w for w in m.word_counts if not w.excluded]
    return {"verbatim": sum(w.verbatim_syllables for w in kept), "intended": sum(w.syllables for w in kept),
            "gated": sum(w.syllables if w.in_moment or is_filler(w.text) else w.verbatim_syllables for w in kept)}


def slp_moments(records: list[dict], offsets):
    """The SLPs' moments (any of the three) in the stitched recording: the gated variant's evidence."""
    from model.moments.decoding import STUTTERING, Moment

    per_run = [[Moment(m["start"], m["end"], 1.0, tuple(m.get("types") or ()), STUTTERING)
                for m in rec.get("moments") or () if m["end"] >= m["start"]] for rec in records]
    return [Moment(m.start + d, m.end + d, 1.0, m.types, STUTTERING)
            for m, d in to_stitched(per_run, records, offsets, media=False)]


def reference(ref: Sequence[RefWord], records: list[dict], offsets, skip) -> dict[str, int]:
    """Timestamped's syllables on the compared stretches: verbatim, intended, intended with the revisions, and
    rule 2 applied to its verbatim words (how the rules do on a hand-corrected transcript)."""
    from model.measures.clinical import in_stretches
    from model.measures.syllables import word_syllables

    placed = [(w, Word(w.start + d, w.end + d, w.text, 1.0)) for w, d in to_stitched(ref, records, offsets, media=True)]
    kept = [(w, word_syllables(w.text)) for w, x in placed if not in_stretches(x.start, x.end, skip)]
    return {"ts_verbatim": sum(n for _, n in kept), "ts_intended": sum(n for w, n in kept if w.intended),
            "ts_with_revisions": sum(n for w, n in kept if w.intended or w.revision_only),
            "ts_rules": count([x for _, x in placed], [], skip)["intended"]}


def hand_transcript_check(ref: Sequence[RefWord]) -> dict[str, int]:
    """Rule 2 on all of an episode's Timestamped words, segment by segment (no audio, no runs): verbatim,
    intended (no flag), intended with the revisions, and the rules' count."""
    from model.measures.intended_syllables import intended_counts

    by_segment = defaultdict(list)
    for w in ref:
        by_segment[w.segment].append(w)
    out: dict[str, int] = defaultdict(int)
    for words in by_segment.values():
        for w, c in zip(words, intended_counts([w.text for w in words]), strict=True):
            out["verbatim"] += c.verbatim
            out["intended"] += c.verbatim if w.intended else 0
            out["with_revisions"] += c.verbatim if w.intended or w.revision_only else 0
            out["rules"] += c.intended
    return dict(out)


def episode_row(episode: str, records: list[dict], words: list[Word], offsets, segments, ref) -> dict:
    """Whisper's and Timestamped's syllables of one episode on the compared stretches (module doc)."""
    skip = stitched_skip(records, offsets, segments)
    return {"episode": episode, **count(words, slp_moments(records, offsets), skip),
            **reference(ref, records, offsets, skip)}


def loop_words(words: Sequence[Word], at_least: int = LOOP) -> int:
    """Words in runs of `at_least` or more of the same word in a row ("up up up ..."): Whisper's loops."""
    from itertools import groupby

    from model.measures.syllables import normalise_word

    runs = (len(list(run)) for _, run in groupby(normalise_word(w.text) for w in words))
    return sum(n for n in runs if n >= at_least)


# -- the report -------------------------------------------------------------------------------------------


def severities(records: list[dict]) -> dict[str, float]:
    """Episode -> the SLPs' mean moments per 100 CHAT syllables on its joined runs (model/training/cv.py)."""
    from data_prep.chat import chat_words
    from model.training.cv_report import joined_episodes
    from model.training.joined_scores import slp_means
    from model.training.moment_eval import syllable_counter

    return {j.episode: slp_means(j)[0] or 0.0 for j in joined_episodes(records, syllable_counter(chat_words))}


def error(row: dict, key: str, ref: str = "ts_intended") -> float | None:
    return row[key] / row[ref] - 1 if row[ref] else None


def plan(manifest: Path, episodes, sample_s: float, options: TranscribeOptions | None = None
         ) -> list[tuple[str, list[dict], bool, float]]:
    """(episode, its runs to count, sampled?, severity), the most severe first: the severe episodes whole, the
    others whole too unless sample_s > 0, then their first runs holding sample_s of compared speech, unless
    (options given) the whole episode is already transcribed."""
    from benchmarks.casa_words import episode_runs
    from model.training.cv import severity_band

    runs = {ep: recs for (_, ep), recs in episode_runs(manifest, ("train", "dev", "test"), episodes).items()}
    severity = severities([r for recs in runs.values() for r in recs])
    segments, _ = read_timestamped()
    out = []
    for episode in sorted(runs, key=lambda e: -severity.get(e, 0.0)):
        sampled = sample_s > 0 and severity_band(severity.get(episode, 0.0)) != "over 15" and not (
            options is not None and cached_words(episode, options).exists())
        recs = sample_runs(runs[episode], segments.get(episode, []), sample_s) if sampled else runs[episode]
        out.append((episode, recs, sampled, severity.get(episode, 0.0)))
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    from benchmarks.casa_pct_ss import _machine
    from model.training.cv import severity_band

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--episodes", nargs="*", default=None, help="only these episodes (e.g. 097 or FluencyBank/097)")
    ap.add_argument("--sample-s", type=float, default=0.0,
                    help="count the non-severe episodes' first runs holding this many seconds of compared speech "
                         "(0: whole episodes)")
    ap.add_argument("--cached-only", action="store_true", help="count only the episodes already transcribed")
    ap.add_argument("--results", default="timestamped_syllables", help="name of the results files")
    ap.add_argument("--beam-size", type=int, default=TranscribeOptions.beam_size,
                    help="Whisper's beam (the app's default: greedy, 1)")
    ap.add_argument("--sampling-fallback", action=argparse.BooleanOptionalAction,
                    default=TranscribeOptions.sampling_fallback,
                    help="Whisper's random re-decoding of doubtful stretches (TranscribeOptions.sampling_fallback)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    load_start = os.getloadavg()
    segments, ref = read_timestamped()
    options = TranscribeOptions(threads=1, beam_size=args.beam_size, sampling_fallback=args.sampling_fallback)
    rows, missing = [], []
    for episode, recs, sampled, severity in plan(args.manifest, args.episodes, args.sample_s, options):
        if args.cached_only and not cached_words(episode, options, recs if sampled else None).exists():
            missing.append(episode)
            continue
        words, offsets, spent = episode_words(episode, recs, args.manifest.parent, options, sampled=sampled)
        row = episode_row(episode, recs, words, offsets, segments.get(episode, []), ref.get(episode, []))
        row["hand"] = hand_transcript_check(ref.get(episode, []))
        row["words"], row["loop_words"] = len(words), loop_words(words)
        row.update(severity=round(severity, 1), band=severity_band(severity), sampled=sampled, runs=len(recs),
                   seconds=round(spent, 1), audio_s=round(sum(r["duration"] for r in recs), 1))
        rows.append(row)
        log.info("%s: %s", episode, row)
    command = ("nice -n 15 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/timestamped_syllables.py --manifest "
               f"<runs>/{args.manifest.parent.name}/{args.manifest.name}" + (f" --sample-s {args.sample_s:g}" if args.sample_s else "")
               + (" --cached-only" if args.cached_only else "")
               + (f" --beam-size {args.beam_size}" if args.beam_size != TranscribeOptions.beam_size else "")
               + ("" if args.sampling_fallback == TranscribeOptions.sampling_fallback else
                  " --sampling-fallback" if args.sampling_fallback else " --no-sampling-fallback")
               + (f" --results {args.results}" if args.results != "timestamped_syllables" else ""))
    report = {"command": command, "machine": _machine().replace("nice 10", "nice 15"),
              "transcription": dataclasses.asdict(options), "load_average_at_start": load_start,
              "load_average_at_end": os.getloadavg(), "aim": AIM, "episodes": rows, "not_transcribed": missing}
    RESULTS.mkdir(exist_ok=True)
    # The full rows stay beside the cache, out of the repository (Timestamped's files and what is derived
    # from them are not to be committed); the report's table is the measurement the docs cite.
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / f"{args.results}.json").write_text(dumps(report, indent=1) + "\n")
    (RESULTS / f"{args.results}.md").write_text(markdown(report))
    print(markdown(report))
    return 0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.1%}"


def markdown(report: dict) -> str:
    la0, la1 = (" / ".join(f"{x:.2f}" for x in report[k]) for k in ("load_average_at_start", "load_average_at_end"))
    rows = report["episodes"]
    lines = ["# Syllables from Whisper's words vs FluencyBank Timestamped's intended words (issue 26 item 2)", "",
             f"Command: `{report['command']}`", "",
             f"Machine: {report['machine']}; load average (1/5/15 min) {la0} at the start, {la1} at the end.",
             f"Words transcribed in this run for {sum(r['seconds'] > 0 for r in rows)} of {len(rows)} episodes; the "
             f"others' came from {CACHE} (earlier runs with the same transcription options).", "",
             "Per episode (the person who stutters, inside Timestamped's segments, interviewer stretches left out; "
             "severe: over 15 SLP moments per 100 syllables). Whisper: its words on the episode's audio counted "
             "verbatim (as before issue 26), intended (model.measures.clinical rule 2, model/measures/intended_syllables.py), and "
             "intended only where an SLP marked a moment (gated). Timestamped: verbatim, intended (no flag), "
             "intended with the revisions kept, and this module's rules on its verbatim words. Errors are against "
             "Timestamped's intended syllables.", "",
             "| episode | SLP moments /100 syl. | Whisper verbatim / intended / gated | Timestamped verbatim / intended "
             "/ with revisions / rules | Whisper verbatim error | **Whisper intended error** | gated error "
             "| intended vs with revisions | rules on Timestamped's words |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        severe = " (severe)" if r["band"] == "over 15" else ""
        sample = f", {r['runs']} runs, {r['audio_s']:.0f} s (sample)" if r.get("sampled") else ""
        lines.append(f"| {r['episode']}{sample} | {r['severity']}{severe} | {r['verbatim']} / {r['intended']} / {r['gated']} "
                     f"| {r['ts_verbatim']} / {r['ts_intended']} / {r['ts_with_revisions']} / {r['ts_rules']} "
                     f"| {_pct(error(r, 'verbatim'))} | **{_pct(error(r, 'intended'))}** | {_pct(error(r, 'gated'))} "
                     f"| {_pct(error(r, 'intended', 'ts_with_revisions'))} | {_pct(error(r, 'ts_rules'))} |")
    lines += ["", summary(rows, report["aim"]), "", "## The rules on Timestamped's own words (all of each episode, no "
              "audio)", "", "Rule 2 applied to Timestamped's verbatim words segment by segment, against its intended "
              "words: how the rules do when the transcript holds every repetition.", "",
              "| episode | verbatim | intended | with revisions | rules | verbatim error | rules error "
              "| rules vs with revisions |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h = r["hand"]
        lines.append(f"| {r['episode']} | {h['verbatim']} | {h['intended']} | {h['with_revisions']} | {h['rules']} "
                     f"| {_pct(h['verbatim'] / h['intended'] - 1)} | {_pct(h['rules'] / h['intended'] - 1)} "
                     f"| {_pct(h['rules'] / h['with_revisions'] - 1)} |")
    if report["not_transcribed"]:
        lines += ["", "Not transcribed in time (left out): " + ", ".join(report["not_transcribed"]) + "."]
    return "\n".join(lines) + "\n"


def summary(rows: list[dict], aim: float) -> str:
    if not rows:
        return "No episode counted."
    out = []
    for key, name in (("verbatim", "verbatim"), ("intended", "intended"), ("gated", "gated")):
        errs = [abs(e) for r in rows if (e := error(r, key)) is not None]
        out.append(f"{name}: {sum(e <= aim for e in errs)} of {len(errs)} episodes within {aim:.0%} "
                   f"(largest {max(errs):.1%})")
    if all("loop_words" in r for r in rows):
        out.append(f"words in loops ({LOOP} or more of the same word in a row): {sum(r['loop_words'] for r in rows)} "
                   f"of {sum(r['words'] for r in rows)}")
    severe = [r for r in rows if r["band"] == "over 15"]
    met = all(abs(error(r, "intended") or 0) <= aim for r in rows)
    return (f"Within {aim:.0%} of Timestamped's intended syllables: " + "; ".join(out) + f". Severe episodes: "
            f"{len(severe)}. The aim (every speaker within {aim:.0%}, intended) is {'met' if met else 'NOT met'} "
            f"on the {len(rows)} episodes counted.")


if __name__ == "__main__":
    raise SystemExit(main())
