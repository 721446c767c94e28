"""Who is speaking, measured: automatic "not the client" stretches against CASA's interviewer stretches.

Each episode of the CASA manifest (`prep casa`: all 22 episodes, every split, since nothing here was
trained on them) is one recording: its runs joined in time order with 1 s of silence between them
(benchmarks/casa_words.stitch_episode, as casa_pct_ss does). model.measures.speakers.diarize splits it into two
speakers, the one with the most speech is proposed as the client, and the other's stretches are "not the client".

Scored per 20 ms frame inside the runs (the joins are left out):
  - against interviewer.csv (CASA's interviewer stretches, episode time -> run time by the run's episode_start);
  - against the manifest's `exclude` (interviewer.csv merged with the CHAT INV utterances: what casa_pct_ss
    gives the app as "not the client").
Precision and recall of "not the client", pooled over the episodes and per episode. Embedders compared:
"voice" (Resemblyzer's voice encoder in numpy, the shipped default) and "whisper" (the shipped model's own
Whisper-base encoder run on the recording in its own 3 s windows, as the analysis runs it, and its output
tokens mean-pooled over the same windows as the voice encoder's, centred before clustering).
With --pct-ss, the dev and test episodes also go through benchmarks/casa_pct_ss.analyse_episode (the app's
whole pipeline) twice: with the annotated stretches and with the automatic ones; %SS over all runs compared.

Run: `nice -n 15 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speakers_casa.py --manifest <prep casa manifest>`
Needs the shared data (never committed).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.casa_words import GAP_S, MANIFEST, episode_runs, stitch_episode  # noqa: E402
from model.audio.decode import TOKEN_SAMPLES, TOKENS_PER_SECOND  # noqa: E402
from model.jsonable import dumps  # noqa: E402
from model.measures.speakers import DiarizeOptions, SpeechWindows, Stretch, assign, embed_speech  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
INTERVIEWER_CSV = ROOT.parent / "shared" / "data" / "casa" / "interviewer.csv"
CACHE = Path("cache/speakers_casa")  # embeddings per episode (derived from the shared data: never in the repo)
AIM_PR = 0.85  # issue 26: interviewer recall >= 0.85 at precision >= 0.85
AIM_PCT_SS = 0.5  # issue 26: %SS with automatic stretches within 0.5 of %SS with the annotated ones
log = logging.getLogger("speakers_casa")


def frame_mask(stretches: Sequence[Stretch], n_frames: int) -> np.ndarray:
    """(n_frames,) bool at TOKENS_PER_SECOND: frames whose centre lies inside a stretch."""
    t = (np.arange(n_frames) + 0.5) / TOKENS_PER_SECOND
    out = np.zeros(n_frames, bool)
    for s, e in stretches:
        out |= (t >= s) & (t < e)
    return out


def counts(predicted: np.ndarray, reference: np.ndarray, scored: np.ndarray) -> dict[str, int]:
    """True positives, false positives and false negatives over the scored frames."""
    p, r = predicted & scored, reference & scored
    return {"tp": int(np.sum(p & r)), "fp": int(np.sum(p & ~r)), "fn": int(np.sum(~p & r)), "frames": int(scored.sum())}


def precision_recall(c: dict[str, int]) -> dict[str, float | None]:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    return {"precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None}


def run_stretches(records: list[dict], offsets: list[tuple[float, float]], per_run) -> list[Stretch]:
    """Run-relative stretches (per_run(record) -> [(start, end)]) placed on the stitched recording's time."""
    return [(start + max(0.0, a), start + min(duration, b)) for rec, (start, duration) in zip(records, offsets, strict=True)
            for a, b in per_run(rec) if min(duration, b) > max(0.0, a)]


def interviewer_per_run(csv_path: Path):
    from data_prep.recipes.casa import read_interviewer
    from model.audio.decode import SAMPLE_RATE

    table = read_interviewer(csv_path)  # EpId -> [(start, end) samples]

    def per_run(rec: dict) -> list[Stretch]:
        ep = rec["episode"].split("/")[-1]
        return [(s / SAMPLE_RATE - rec["episode_start"], e / SAMPLE_RATE - rec["episode_start"]) for s, e in table.get(ep, [])]

    return per_run


def whisper_tokens(audio: np.ndarray, model, *, batch: int = 16) -> np.ndarray:
    """(tokens, width) the model's Whisper-base encoder output over the recording, at TOKENS_PER_SECOND: its
    own 3 s windows (WINDOW_SAMPLES), side by side, as the analysis feeds them."""
    import torch

    from model.audio.decode import WINDOW_SAMPLES, log_mel

    n = -(-len(audio) // WINDOW_SAMPLES)
    padded = np.pad(audio, (0, n * WINDOW_SAMPLES - len(audio))).reshape(n, WINDOW_SAMPLES)  # (windows, samples)
    out = []
    with torch.no_grad():
        for i in range(0, n, batch):
            out.append(model.encode(log_mel(padded[i:i + batch])).reshape(-1, model.encoder.ln_post.normalized_shape[0]).numpy())
    return np.concatenate(out)


def whisper_windows(audio: np.ndarray, voice: SpeechWindows, model) -> SpeechWindows:
    """The voice run's windows, each embedded by the mean of the Whisper tokens it spans."""
    tokens = whisper_tokens(audio, model)
    emb = np.stack([tokens[a // TOKEN_SAMPLES:max(a // TOKEN_SAMPLES + 1, -(-b // TOKEN_SAMPLES))].mean(axis=0)
                    for _, a, b in voice.plan])
    return SpeechWindows(voice.duration_s, voice.speech, voice.segments, voice.plan, emb)


def cached_windows(path: Path, make) -> tuple[SpeechWindows, float]:
    """The episode's speech windows and embeddings (make() -> SpeechWindows), from the cache when there
    (clustering is redone each run); and the seconds the embedding took (when cached, the first run's)."""
    if path.exists():
        z = np.load(path)
        return SpeechWindows(float(z["duration_s"]), z["speech"], [tuple(s) for s in z["segments"].tolist()],
                             [tuple(p) for p in z["plan"].tolist()], z["embeddings"]), float(z["seconds"])
    t0 = time.perf_counter()
    w = make()
    spent = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, duration_s=w.duration_s, speech=w.speech, segments=np.array(w.segments), plan=np.array(w.plan),
             embeddings=w.embeddings, seconds=spent)
    return w, spent


@lru_cache(maxsize=1)
def _whisper_model():
    from model.encoder.bundle import load_bundle

    return load_bundle().model


def score_episode(name: str, records: list[dict], root: Path, embedder: str, options: DiarizeOptions,
                  interviewer, cache: Path) -> dict:
    audio, offsets = stitch_episode(records, root)
    key = f"{name.replace('/', '_')}.{{}}.{options.window_s}-{options.hop_s}.npz"
    windows, spent = cached_windows(cache / key.format("voice"), lambda: embed_speech(audio, options=options))
    if embedder == "whisper":
        windows, spent = cached_windows(cache / key.format("whisper"),
                                        lambda: whisper_windows(audio, windows, _whisper_model()))
    t0 = time.perf_counter()
    d = assign(windows, options=options)
    spent += time.perf_counter() - t0
    n = int(round(d.duration_s * TOKENS_PER_SECOND))
    scored = frame_mask([(s, s + dur) for s, dur in offsets], n)
    auto = frame_mask(d.not_client(), n)
    refs = {"interviewer_csv": run_stretches(records, offsets, interviewer),
            "exclude": run_stretches(records, offsets, lambda r: r.get("exclude", ()))}
    row = {"episode": name, "split": records[0]["split"], "audio_s": sum(dur for _, dur in offsets), "seconds": spent,
           "speech_s": d.speech_s, "not_client_s": float(auto[scored].sum()) / TOKENS_PER_SECOND}
    for key, ref in refs.items():
        c = counts(auto, frame_mask(ref, n), scored)
        row[key] = {**c, **precision_recall(c), "reference_s": (c["tp"] + c["fn"]) / TOKENS_PER_SECOND}
    row["auto_stretches"] = [(round(a, 2), round(b, 2)) for a, b in d.not_client()]
    return row


def per_run_stretches(stretches: Sequence[Stretch], offsets: list[tuple[float, float]]) -> list[list[list[float]]]:
    """Stitched-time stretches given back to each run, run-relative and clipped to it (a record's `exclude`)."""
    return [[[max(a, start) - start, min(b, start + dur) - start] for a, b in stretches
             if min(b, start + dur) > max(a, start)] for start, dur in offsets]


def pct_ss_rows(runs: dict, rows: list[dict], root: Path, splits: Sequence[str], *, model: Path | None = None,
                before: list[dict] | None = None) -> list[dict]:
    """%SS through the app's pipeline (benchmarks/casa_pct_ss.analyse_episode) with the annotated and with the
    automatic "not the client" stretches, over all runs of the chosen splits' episodes; with `before` (rows of
    another setting), its automatic stretches too, on the same analysis of the annotated ones."""
    from benchmarks.casa_pct_ss import analyse_episode
    from model.encoder.bundle import load_bundle
    from model.measures.words import TranscribeOptions
    from model.pipeline.inference import InferenceOptions, Predictor

    predictor = Predictor(load_bundle(model), options=InferenceOptions(device="cpu"))
    options = TranscribeOptions(threads=1)
    sets = {"auto": {r["episode"]: r["auto_stretches"] for r in rows}}
    if before is not None:
        sets["before"] = {r["episode"]: r["auto_stretches"] for r in before}
    out = []
    for (split, episode), recs in runs.items():
        if split not in splits:
            continue
        offsets, pos = [], 0.0
        for rec in recs:  # stitch_episode's layout: each run then GAP_S of silence
            offsets.append((pos, rec["duration"]))
            pos += rec["duration"] + GAP_S
        given = analyse_episode(episode, recs, root, predictor, options)["all_runs"]
        row = {"episode": episode, "split": split, "pct_ss_annotated": given.pct_ss, "syllables_annotated": given.syllables}
        for name, of in sets.items():
            auto = [{**rec, "exclude": ex} for rec, ex in zip(recs, per_run_stretches(of[episode], offsets), strict=True)]
            found = analyse_episode(episode, auto, root, predictor, options)["all_runs"]
            suffix = "" if name == "auto" else "_before"
            row |= {f"pct_ss_auto{suffix}": found.pct_ss, f"syllables_auto{suffix}": found.syllables,
                    f"difference{suffix}": None if None in (given.pct_ss, found.pct_ss) else found.pct_ss - given.pct_ss}
        out.append(row)
        log.info("%%SS %s: annotated %s, automatic %s", episode, given.pct_ss, row["pct_ss_auto"])
    return out


def pooled(rows: list[dict], key: str) -> dict:
    c = {k: sum(r[key][k] for r in rows) for k in ("tp", "fp", "fn", "frames")}
    return {**c, **precision_recall(c)}


def markdown(report: dict) -> str:
    lines = ["# Who is speaking: automatic \"not the client\" against CASA's interviewer stretches", "",
             f"Machine: {report['machine']}; load average at start {report['load_start']}, at end "
             f"{report['load_end']}. Command: `{report['command']}`.", "",
             "Frames of 20 ms inside the runs; the reference is interviewer.csv (and, in brackets, interviewer.csv "
             "merged with the CHAT INV utterances, the manifest's `exclude`).", ""]
    for emb, res in report["embedders"].items():
        p, q = res["pooled"]["interviewer_csv"], res["pooled"]["exclude"]
        lines += [f"## {emb}", "",
                  f"Pooled over {len(res['rows'])} episodes: precision {_f(p['precision'])} ({_f(q['precision'])}), "
                  f"recall {_f(p['recall'])} ({_f(q['recall'])}); diarization took {res['seconds']:.0f} s for "
                  f"{res['audio_s']:.0f} s of audio. Aim (P and R >= {AIM_PR}): "
                  f"{'met' if _meets(p) else 'not met'}.", "",
                  "| episode | split | audio s | interviewer s | not-client s | P | R | P (exclude) | R (exclude) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in res["rows"]:
            a, b = r["interviewer_csv"], r["exclude"]
            lines.append(f"| {r['episode']} | {r['split']} | {r['audio_s']:.0f} | {a['reference_s']:.0f} | "
                         f"{r['not_client_s']:.0f} | {_f(a['precision'])} | {_f(a['recall'])} | {_f(b['precision'])} | "
                         f"{_f(b['recall'])} |")
        lines.append("")
    if report.get("pct_ss"):
        rows = report["pct_ss"]
        diffs = [abs(r["difference"]) for r in rows if r["difference"] is not None]
        lines += ["## %SS with automatic against annotated \"not the client\" stretches (voice encoder)", "",
                  f"The app's pipeline (benchmarks/casa_pct_ss.analyse_episode), all runs of each episode. Within "
                  f"{AIM_PCT_SS} %SS: {sum(d <= AIM_PCT_SS for d in diffs)} of {len(diffs)}; mean |difference| "
                  f"{np.mean(diffs) if diffs else float('nan'):.2f}.", "",
                  "| episode | split | %SS annotated | %SS automatic | difference | syllables annotated | syllables automatic |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['episode']} | {r['split']} | {_f(r['pct_ss_annotated'])} | {_f(r['pct_ss_auto'])} | "
                  f"{_f(r['difference'])} | {r['syllables_annotated']} | {r['syllables_auto']} |" for r in rows]
        lines.append("")
        if "difference_before" in rows[0]:
            before = [abs(r["difference_before"]) for r in rows if r["difference_before"] is not None]
            lines += [f"With {report['before']} instead, on the same analysis: within {AIM_PCT_SS} %SS: "
                      f"{sum(d <= AIM_PCT_SS for d in before)} of {len(before)}; mean |difference| "
                      f"{np.mean(before) if before else float('nan'):.2f}; per episode "
                      + ", ".join(f"{r['episode'].split('/')[-1]} {_f(r['difference_before'])}" for r in rows) + ".", ""]
    return "\n".join(lines) + "\n"


def _f(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def _meets(p: dict) -> bool:
    return p["precision"] is not None and p["recall"] is not None and min(p["precision"], p["recall"]) >= AIM_PR


def _machine() -> str:
    name = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")), "?")
    return f"{os.cpu_count()} cores, {name}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--interviewer", type=Path, default=INTERVIEWER_CSV)
    ap.add_argument("--splits", nargs="+", default=["train", "dev", "test"])
    ap.add_argument("--episodes", nargs="*", default=None)
    ap.add_argument("--embedders", nargs="+", choices=("voice", "whisper"), default=["voice", "whisper"])
    ap.add_argument("--window", type=float, default=DiarizeOptions().window_s,
                    help="seconds of speech per embedding (longer than the encoder's 1.6 s: its LSTM runs on)")
    ap.add_argument("--hop", type=float, default=DiarizeOptions().hop_s)
    ap.add_argument("--min-share", type=float, default=DiarizeOptions().min_share)
    ap.add_argument("--switch-cost", type=float, default=DiarizeOptions().switch_cost,
                    help="the resegmentation's cost of a change of voice (0: the first version, nearest centre)")
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--pct-ss", nargs="*", default=None, metavar="SPLIT",
                    help="also %%SS with annotated vs automatic stretches (voice encoder) on these splits' episodes")
    ap.add_argument("--model", type=Path, default=None, help="the model file the %%SS runs analyse with "
                    "(default: the bundled default)")
    ap.add_argument("--pct-ss-before", type=float, default=None, metavar="SWITCH_COST",
                    help="also %%SS with the stretches found at this switch cost (0: the first version)")
    ap.add_argument("--results", default="speakers_casa", help="name of the results files in benchmarks/results/")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    load_start = os.getloadavg()
    runs = episode_runs(args.manifest, args.splits, args.episodes)
    interviewer = interviewer_per_run(args.interviewer)
    report = {"machine": _machine(), "load_start": [round(x, 1) for x in load_start],
              "command": "python benchmarks/speakers_casa.py " + " ".join(
                  f"<{Path(a).name}>" if os.path.isabs(a) else a for a in (argv if argv is not None else sys.argv[1:])),
              "embedders": {}}
    for name in args.embedders:
        options = DiarizeOptions(window_s=args.window, hop_s=args.hop, centre=name == "whisper", min_share=args.min_share,
                                 switch_cost=args.switch_cost)
        rows = []
        for (_, episode), recs in runs.items():
            rows.append(score_episode(episode, recs, args.manifest.parent, name, options, interviewer, args.cache))
            r = rows[-1]
            log.info("%s %s: P %s R %s (%.0f s)", name, episode, _f(r["interviewer_csv"]["precision"]),
                     _f(r["interviewer_csv"]["recall"]), r["seconds"])
        report["embedders"][name] = {"rows": rows, "seconds": sum(r["seconds"] for r in rows),
                                     "audio_s": sum(r["audio_s"] for r in rows),
                                     "pooled": {k: pooled(rows, k) for k in ("interviewer_csv", "exclude")}}
    if args.pct_ss is not None and "voice" in report["embedders"]:
        before = None
        if args.pct_ss_before is not None:
            options = DiarizeOptions(hop_s=args.hop, min_share=args.min_share, switch_cost=args.pct_ss_before)
            report["before"] = f"switch cost {args.pct_ss_before}"
            before = [score_episode(episode, recs, args.manifest.parent, "voice", options, interviewer, args.cache)
                      for (split, episode), recs in runs.items() if split in (args.pct_ss or ["test"])]
        report["pct_ss"] = pct_ss_rows(runs, report["embedders"]["voice"]["rows"], args.manifest.parent,
                                       args.pct_ss or ["test"], model=args.model, before=before)
    report["load_end"] = [round(x, 1) for x in os.getloadavg()]
    for res in report["embedders"].values():  # times found in the shared audio stay out of the repo
        for row in res["rows"]:
            row.pop("auto_stretches")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(dumps(report, indent=1))
    (RESULTS / f"{args.results}.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
