"""%SS from the audio alone against the SLPs' moments per 100 CHAT syllables, per CASA episode (real speech).

Each dev and test episode of runs/casa/manifest.jsonl (`prep casa`) is one recording: its stitched
runs joined in time order with 1 s of silence between them (benchmarks/casa_words.py: the same joining and
transcription options, so the same runs can be compared), written as a WAV under cache/casa_pct_ss/
(never in the repo). The shipped default model's full pipeline runs on it as a clinician gets it:
model.pipeline.analysis.analyse_recording with a Transcriber (moments + words + measures), the interviewer
stretches of each run (the manifest's `exclude`) given as the excluded stretches, which is what a
clinician marks as "not the client"; the 1 s joins are excluded too (they are not in any recording).

Compared runs: those casa_words compares (compare_run: the audio's and the CHAT transcript's words share a
stretch; CHAT's utterance times are too coarse for the others). The app's measures are taken again with
the other runs excluded as well (model.pipeline.analysis.with_measures), so the model's %SS is the app's own
pct_ss pooled over the compared runs: stuttered syllables / syllables x 100 (model.measures.clinical rule 4: one
syllable per stuttering moment, at most a word's syllables per word). The reference, per SLP, is
model.training.moment_scores.episode_measures on the same runs: the SLP's moments (a moment cut at a run
gap counted once) per 100 CHAT syllables (the participant's final production without fillers).

Per episode: model %SS - mean of the SLPs, split exactly into its two sources:
  moment count: (model stuttered syllables - SLP mean moments) / CHAT syllables x 100
  syllable count: model stuttered syllables x 100 x (1 / audio syllables - 1 / CHAT syllables)
and, for scale, each SLP against the mean of the other two. The aim (issue 14): within 1.0 %SS per recording.
Words are cached per episode (cache/casa_pct_ss/, keyed by the transcription options) so a rerun
only redoes the model. Needs the shared data (never committed).
Run: `OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/casa_pct_ss.py --splits dev test`
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.casa_words import GAP_S, MANIFEST, compare_run, episode_runs, stitch_episode, words_per_run  # noqa: E402
from model.audio.decode import SAMPLE_RATE  # noqa: E402
from model.measures.syllables import count_syllables  # noqa: E402
from model.measures.words import TranscribeOptions  # noqa: E402
from model.training.moment_eval import syllable_counter  # noqa: E402
from model.training.moment_scores import SLPS, episode_measures  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CACHE = Path("cache/casa_pct_ss")
AIM = 1.0  # %SS: issue 14's aim per recording
log = logging.getLogger("casa_pct_ss")


# -- per-episode aggregation (pure; tests/benchmarks/test_casa_pct_ss.py) ------------------------------


def episode_row(*, stuttered: int, syllables_audio: int, slp_moments: Mapping[str, int],
                syllables_chat: float) -> dict:
    """One episode's %SS from the audio against the SLPs', with the difference split into its two sources.

    stuttered: the app's stuttered syllables over the compared runs; syllables_audio: its syllables;
    slp_moments: SLP -> their moments on the same runs; syllables_chat: the CHAT syllables of those runs.
    """
    if syllables_audio <= 0 or syllables_chat <= 0 or not slp_moments:
        raise ValueError("an episode row needs syllables from both the audio and CHAT and at least one SLP")
    model = 100 * stuttered / syllables_audio
    model_chat = 100 * stuttered / syllables_chat  # the model's count over the reference's syllables
    slp = {a: 100 * m / syllables_chat for a, m in slp_moments.items()}
    slp_mean = float(np.mean(list(slp.values())))
    spread = {a: v - float(np.mean([w for b, w in slp.items() if b != a])) for a, v in slp.items()} \
        if len(slp) > 1 else {}
    # The SLPs' mean over the audio's syllables: the moment count alone, if the audio's syllables are trusted.
    on_audio = 100 * float(np.mean(list(slp_moments.values()))) / syllables_audio
    return {"model_pct_ss": model, "slp_pct_ss": slp, "slp_mean": slp_mean, "difference": model - slp_mean,
            "from_moment_count": model_chat - slp_mean, "from_syllable_count": model - model_chat,
            "difference_on_audio_syllables": model - on_audio, "slp_vs_others": spread}


def summarise(rows: Sequence[Mapping], *, aim: float = AIM) -> dict:
    """Mean |difference| (and of each source), episodes within `aim`, and the SLPs' own spread, over rows."""
    if not rows:
        return {"episodes": 0}
    diffs = [abs(r["difference"]) for r in rows]
    spread = [abs(v) for r in rows for v in r["slp_vs_others"].values()]
    return {"episodes": len(rows), "mean_abs_difference": float(np.mean(diffs)),
            "max_abs_difference": float(np.max(diffs)), "within_aim": sum(d <= aim for d in diffs),
            "mean_abs_from_moment_count": float(np.mean([abs(r["from_moment_count"]) for r in rows])),
            "mean_abs_from_syllable_count": float(np.mean([abs(r["from_syllable_count"]) for r in rows])),
            "mean_difference": float(np.mean([r["difference"] for r in rows])),
            "mean_abs_difference_on_audio_syllables": float(np.mean([abs(r["difference_on_audio_syllables"])
                                                                     for r in rows])),
            "slp_vs_others_mean_abs": float(np.mean(spread)) if spread else None,
            "slp_vs_others_within_aim": sum(v <= aim for v in spread), "slp_vs_others_n": len(spread)}


# -- the pipeline --------------------------------------------------------------------------------------


def stitched_exclusions(records: Sequence[Mapping], offsets: Sequence[tuple[float, float]], *,
                        keep: Sequence[bool] | None = None) -> list[tuple[float, float]]:
    """The stitched recording's excluded stretches: each run's interviewer stretches and the join after it;
    a run whose `keep` is False is excluded whole."""
    out = []
    for k, (rec, (start, duration)) in enumerate(zip(records, offsets, strict=True)):
        if keep is not None and not keep[k]:
            out.append((start, start + duration))
        out += [(start + float(a), start + float(b)) for a, b in rec.get("exclude", ()) if float(b) > float(a)]
        out.append((start + duration, start + duration + GAP_S))
    return out


def _words_key(options: TranscribeOptions) -> str:
    return hashlib.sha256(json.dumps(dataclasses.asdict(options), sort_keys=True).encode()).hexdigest()[:10]


def analyse_episode(name: str, records: list[dict], root: Path, predictor, options: TranscribeOptions) -> dict:
    """The app's analysis of one stitched episode and its measures over the compared runs (module doc)."""
    import soundfile as sf

    from model.measures.words import Transcriber, load_words, save_words
    from model.pipeline.analysis import analyse_recording, with_measures

    audio, offsets = stitch_episode(records, root)
    CACHE.mkdir(parents=True, exist_ok=True)
    wav = CACHE / f"{name.replace('/', '_')}.wav"
    sf.write(wav, audio, SAMPLE_RATE, subtype="FLOAT")  # float: the same samples casa_words transcribed
    words_file = CACHE / f"{name.replace('/', '_')}.{_words_key(options)}.words.jsonl"
    excluded = stitched_exclusions(records, offsets)
    t0 = time.perf_counter()
    if words_file.exists():
        analysis = with_measures(analyse_recording(wav, predictor), load_words(words_file), excluded=excluded)
        transcribed = False
    else:
        analysis = analyse_recording(wav, predictor, transcriber=Transcriber(options), excluded=excluded)
        save_words(analysis.words, words_file)
        transcribed = True
    spent = time.perf_counter() - t0
    cores = [compare_run(rec, w) for rec, w in zip(records, words_per_run(analysis.words, offsets), strict=True)]
    compared = [not isinstance(c, str) for c in cores]
    # casa_words' check on the same runs: where the audio's and CHAT's words meet, their (verbatim) syllables.
    core_syllables = [count_syllables([t for c in cores if not isinstance(c, str) for t in c[k]]) for k in (1, 0)]
    kept = with_measures(analysis, analysis.words, excluded=stitched_exclusions(records, offsets, keep=compared))
    return {"all_runs": analysis.measures, "compared_runs": kept.measures, "compared": compared,
            "aligned_syllables_audio": core_syllables[0], "aligned_syllables_chat": core_syllables[1],
            "seconds": spent, "audio_s": sum(d for _, d in offsets), "transcribed": transcribed}


def measures_dict(m) -> dict:
    keys = ("syllables", "words", "speaking_time_s", "spm", "stuttering_moments", "stuttered_syllables", "pct_ss",
            "interjections", "excluded_s", "unattached_moments", "enough_speech")
    d = m.to_dict()
    return {k: d[k] for k in keys}


def reference(records: list[dict]) -> dict:
    """SLP -> moments, and the CHAT syllables, of one episode's runs (moment_scores.episode_measures)."""
    from data_prep.chat import chat_words

    row = next(iter(episode_measures(records, syllable_counter(chat_words))["episodes"].values()))
    return {"syllables_chat": row["syllables"], "slp_moments": {a: row[a]["moments"] for a in SLPS if a in row}}


def _machine() -> str:
    flags, name = "", ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and not name:
            name = line.split(":", 1)[1].strip()
        if line.startswith("flags") and not flags:
            flags = line
    extras = [f for f in ("amx_bf16", "avx512_bf16") if f in flags.split()]
    return f"{os.cpu_count()} cores, {name} ({', '.join(extras) or 'no AMX/bf16'}), one thread, nice 10"


def main(argv: list[str] | None = None) -> int:
    from model.encoder.bundle import load_bundle
    from model.pipeline.inference import InferenceOptions, Predictor

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--splits", nargs="+", default=["dev", "test"])
    ap.add_argument("--episodes", nargs="*", default=None, help="only these episodes (e.g. 019 or FluencyBank/019)")
    ap.add_argument("--model", default=None, help="model file (default: the shipped default)")
    ap.add_argument("--results", default="casa_pct_ss", help="name of the results files in benchmarks/results/")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    load_start = os.getloadavg()
    predictor = Predictor(load_bundle(args.model), options=InferenceOptions(device="cpu"))
    options = TranscribeOptions(threads=1)
    rows = []
    for (split, episode), recs in episode_runs(args.manifest, args.splits, args.episodes).items():
        got = analyse_episode(episode, recs, args.manifest.parent, predictor, options)
        compared = [r for r, c in zip(recs, got["compared"], strict=True) if c]
        ref, ref_all = reference(compared), reference(recs)
        m, m_all = got["compared_runs"], got["all_runs"]
        row = {"split": split, "episode": episode, "runs": len(recs), "runs_compared": len(compared),
               "audio_s": round(got["audio_s"], 1), "seconds": round(got["seconds"], 1),
               "transcribed": got["transcribed"], "audio": measures_dict(m), **ref,
               "aligned_syllables_audio": got["aligned_syllables_audio"],
               "aligned_syllables_chat": got["aligned_syllables_chat"],
               **episode_row(stuttered=m.stuttered_syllables, syllables_audio=m.syllables,
                             slp_moments=ref["slp_moments"], syllables_chat=ref["syllables_chat"]),
               "all_runs": {"audio": measures_dict(m_all), **ref_all,
                            **episode_row(stuttered=m_all.stuttered_syllables, syllables_audio=m_all.syllables,
                                          slp_moments=ref_all["slp_moments"],
                                          syllables_chat=ref_all["syllables_chat"])}}
        rows.append(row)
        log.info("%s %s: %d/%d runs, model %.2f %%SS vs SLP mean %.2f (%+.2f; moments %+.2f, syllables %+.2f)",
                 split, episode, len(compared), len(recs), row["model_pct_ss"], row["slp_mean"], row["difference"],
                 row["from_moment_count"], row["from_syllable_count"])
    by_split = {s: {"compared_runs": summarise([r for r in rows if r["split"] == s]),
                    "all_runs": summarise([r["all_runs"] for r in rows if r["split"] == s])}
                for s in args.splits}
    command = ("OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/casa_pct_ss.py --splits "
               + " ".join(args.splits) + (" --episodes " + " ".join(args.episodes) if args.episodes else ""))
    report = {"command": command, "machine": _machine(), "model_id": predictor.bundle.model_id,
              "decoding": predictor.decoding.to_dict(), "transcription": dataclasses.asdict(options),
              "load_average_at_start": load_start, "load_average_at_end": os.getloadavg(), "aim_pct_ss": AIM,
              "episodes": rows, "summary": by_split}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    (RESULTS / f"{args.results}.md").write_text(markdown(report))
    print(markdown(report))
    return 0


def markdown(report: dict) -> str:
    la0, la1 = (" / ".join(f"{x:.2f}" for x in report[k]) for k in ("load_average_at_start", "load_average_at_end"))
    lines = [f"# %SS from the audio alone vs the SLPs' moments per 100 CHAT syllables (model {report['model_id']})",
             "", f"Command: `{report['command']}`", "",
             f"Machine: {report['machine']}; load average (1/5/15 min) {la0} at the start, {la1} at the end.",
             f"Words transcribed in this run for {sum(r['transcribed'] for r in report['episodes'])} of "
             f"{len(report['episodes'])} episodes; the others' came from {CACHE} (an earlier run of the same "
             "command and transcription options).", "",
             "The model's %SS is the app's pct_ss (stuttered syllables / syllables from the audio) over the compared "
             "runs, the interviewer stretches given as excluded (what a clinician marks as not the client); the "
             "SLPs' is their moments per 100 CHAT syllables on the same runs. Difference = model - SLP mean = "
             "moment-count part + syllable-count part.", "",
             "| split | episode | runs (compared) | syllables audio / CHAT | model stuttered syll. (moments) "
             "| SLP moments A1/A2/A3 | model %SS | SLPs %SS A1/A2/A3 (mean) | difference | from moment count "
             "| from syllable count | difference on audio syllables | aligned syllables audio / CHAT | SPM (audio) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["episodes"]:
        a = r["audio"]
        slp = "/".join(str(r["slp_moments"].get(s, "-")) for s in SLPS)
        slp_pct = "/".join(f"{r['slp_pct_ss'][s]:.2f}" for s in SLPS if s in r["slp_pct_ss"])
        spm = "-" if a["spm"] is None else f"{a['spm']:.0f}"
        lines.append(f"| {r['split']} | {r['episode']} | {r['runs']} ({r['runs_compared']}) "
                     f"| {a['syllables']} / {r['syllables_chat']:.0f} | {a['stuttered_syllables']} "
                     f"({a['stuttering_moments']}) | {slp} | {r['model_pct_ss']:.2f} | {slp_pct} ({r['slp_mean']:.2f}) "
                     f"| {r['difference']:+.2f} | {r['from_moment_count']:+.2f} | {r['from_syllable_count']:+.2f} "
                     f"| {r['difference_on_audio_syllables']:+.2f} "
                     f"| {r['aligned_syllables_audio']} / {r['aligned_syllables_chat']} | {spm} |")
    lines += ["", "| split | runs | episodes within 1.0 %SS | mean abs difference (max) | mean difference "
                  "| mean abs from moment count | mean abs from syllable count | mean abs on audio syllables "
                  "| each SLP vs the other two: mean abs (within 1.0) |", "|---|---|---|---|---|---|---|---|---|"]
    for split, both in report["summary"].items():
        for which, s in both.items():
            if not s["episodes"]:
                continue
            runs = sum(r["runs_compared"] if which == "compared_runs" else r["runs"]
                       for r in report["episodes"] if r["split"] == split)
            sp = "-" if s["slp_vs_others_mean_abs"] is None else (
                f"{s['slp_vs_others_mean_abs']:.2f} ({s['slp_vs_others_within_aim']} of {s['slp_vs_others_n']})")
            lines.append(f"| {split} | {which.replace('_', ' ')}: {runs} | {s['within_aim']} of {s['episodes']} "
                         f"| {s['mean_abs_difference']:.2f} ({s['max_abs_difference']:.2f}) "
                         f"| {s['mean_difference']:+.2f} | {s['mean_abs_from_moment_count']:.2f} "
                         f"| {s['mean_abs_from_syllable_count']:.2f} "
                         f"| {s['mean_abs_difference_on_audio_syllables']:.2f} | {sp} |")
    lines += ["", "Difference on audio syllables: model %SS - the SLPs' mean moments per 100 audio syllables (the "
                  "moment count alone, if the audio's syllables are trusted). Aligned syllables: casa_words' check "
                  "on the same runs, verbatim, within the stretch where the audio's and CHAT's words meet; where "
                  "they agree but the CHAT syllables of the whole runs do not, the CHAT side (utterances counted "
                  "by the share of their coarse times inside a run) is the one that is off.", "",
              "All runs: the same pipeline with every run kept; the CHAT syllables of runs that could not be "
                  "compared come from utterances cut by CHAT's coarse times (each utterance's `inside` share), so "
                  "that row is less sure than the compared runs' one."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
