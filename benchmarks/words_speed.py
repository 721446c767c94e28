"""`assess --words`' transcriber: the old word settings beside new ones, in one run, for speed and for what they do
to the syllable counts and word times on real speech (issue 25).

Accuracy (`--episodes`): each episode of a CASA manifest (`prep casa`; FluencyBank interviews) is stitched and
transcribed as benchmarks/timestamped_syllables.py does (its runs joined with 1 s of silence, as a session), by
every configuration; per episode, Whisper's intended syllables against FluencyBank Timestamped's intended
syllables on the same compared stretches (timestamped_syllables.episode_row, the issue 26 measurement), and the
word times: each configuration's words matched in order (normalised text, difflib) to Timestamped's hand-corrected
words, the median and 90th percentile of |onset error| and |offset error|, and the share within 0.3 s.
Speed (`--speed`): on recordings given as files or made here (`--espeak-seconds N`: N seconds of espeak-ng
sentences, 3 voices, 0.3-0.9 s pauses), every configuration transcribes in turn, `--repeats` rounds interleaved,
models loaded before the clock (their load time is reported apart); RTF = transcription seconds / audio seconds,
medians; the load average before and after each round is written beside them.
Writes benchmarks/results/<name>.md and the rows as JSON in the temporary folder, words_speed/ (Timestamped's counts are
derived from data that is not to be committed; the table of errors is the measurement the docs cite).
Run: `OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/words_speed.py --manifest <prep casa manifest>
      --episodes 109 087 046 096 179 --speed --espeak-seconds 600 --repeats 3`
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.audio.decode import SAMPLE_RATE, load_audio  # noqa: E402
from model.jsonable import dumps  # noqa: E402
from model.measures.words import TranscribeOptions, Transcriber, Word  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
OUT = Path(tempfile.gettempdir()) / "words_speed"
# name -> TranscribeOptions fields; _GREEDY is the default decoding (greedy, with Whisper's seeded sampling fallback)
# spelled out, so each name keeps meaning what it says if the default changes.
_GREEDY = {"beam_size": 1, "sampling_fallback": True}
CONFIGS = {
    "old: base, piece by piece": {**_GREEDY, "batch_size": 1},
    "base, batches of 8": {**_GREEDY, "batch_size": 8},
    "tiny.en, piece by piece": {**_GREEDY, "model": "tiny.en", "batch_size": 1},
    "tiny.en, batches of 8": {**_GREEDY, "model": "tiny.en", "batch_size": 8},
    "base, beam 5": {"beam_size": 5, "sampling_fallback": True, "batch_size": 1},
    "base, no fallback": {"beam_size": 1, "sampling_fallback": False, "batch_size": 1},
    "base, beam 5, no fallback": {"beam_size": 5, "sampling_fallback": False, "batch_size": 1},
}
TOLERANCE = 0.3  # seconds: the word-timing bound of benchmarks/transcription.py


def options(name: str, threads: int) -> TranscribeOptions:
    return TranscribeOptions(**{"threads": threads, **CONFIGS[name]})


def machine() -> str:
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), platform.processor())
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def load() -> float:
    return round(os.getloadavg()[0], 2)


# -- accuracy on real speech ---------------------------------------------------------------------------


def norm(text: str) -> str:
    from model.measures.syllables import normalise_word

    return normalise_word(text).replace("%", "")


def timing(words: list[Word], ref: list[tuple[float, float, str]]) -> dict:
    """Word times against the reference's (start, end, text) in the same seconds: words matched in order."""
    a, b = [norm(w.text) for w in words], [norm(t) for _, _, t in ref]
    onset, offset = [], []
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            w, (s, e, _) = words[block.a + k], ref[block.b + k]
            onset.append(abs(w.start - s))
            offset.append(abs(w.end - e))
    if not onset:
        return {"matched": 0}
    on, off = np.asarray(onset), np.asarray(offset)
    return {"matched": len(on), "onset_median": float(np.median(on)), "onset_p90": float(np.quantile(on, 0.9)),
            "offset_median": float(np.median(off)), "offset_p90": float(np.quantile(off, 0.9)),
            "within": float(np.mean((on <= TOLERANCE) & (off <= TOLERANCE)))}


def accuracy(manifest: Path, episodes: list[str], names: list[str], threads: int) -> list[dict]:
    from benchmarks.casa_words import episode_runs, stitch_episode
    from benchmarks.timestamped_syllables import episode_row, read_timestamped, stitched_skip, to_stitched
    from model.measures.clinical import in_stretches

    segments, refs = read_timestamped()
    runs = {ep: recs for (_, ep), recs in episode_runs(manifest, ("train", "dev", "test"), episodes).items()}
    transcribers = {name: Transcriber(options(name, threads)) for name in names}
    rows = []
    for episode, records in runs.items():
        audio, offsets = stitch_episode(records, manifest.parent)
        skip = stitched_skip(records, offsets, segments.get(episode, []))
        ref = sorted((w.start + d, w.end + d, w.text) for w, d in to_stitched(refs.get(episode, []), records, offsets,
                                                                              media=True))
        ref = [r for r in ref if not in_stretches(r[0], r[1], skip)]
        for name, transcriber in transcribers.items():
            t0 = time.perf_counter()
            words = transcriber.transcribe_audio(audio)
            spent = time.perf_counter() - t0
            counted = episode_row(episode, records, words, offsets, segments.get(episode, []), refs.get(episode, []))
            compared = [w for w in words if not in_stretches(w.start, w.end, skip)]
            rows.append({"episode": episode, "config": name, "audio_s": len(audio) / SAMPLE_RATE, "seconds": spent,
                         "load": load(), "intended": counted["intended"], "ts_intended": counted["ts_intended"],
                         "error": counted["intended"] / counted["ts_intended"] - 1 if counted["ts_intended"] else None,
                         **timing(compared, ref)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


# -- speed ---------------------------------------------------------------------------------------------


def espeak_recording(path: Path, seconds: float) -> Path:
    """seconds of espeak-ng sentences (3 voices in turn, 0.3-0.9 s pauses), 16 kHz mono WAV."""
    import soundfile as sf

    from data_prep.synth.text import SENTENCES

    rng = np.random.default_rng(0)
    voices = [("en-us", 150), ("en-gb", 145), ("en-us+f2", 160)]
    parts, total, k = [], 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        while total < seconds:
            voice, speed = voices[k % len(voices)]
            wav = Path(tmp) / "s.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), SENTENCES[k % len(SENTENCES)]],
                           check=True, timeout=60)
            x = load_audio(wav)
            pause = np.zeros(int(rng.uniform(0.3, 0.9) * SAMPLE_RATE), np.float32)
            parts += [x, pause]
            total += (len(x) + len(pause)) / SAMPLE_RATE
            k += 1
    audio = np.concatenate(parts)[: int(seconds * SAMPLE_RATE)]
    sf.write(path, audio, SAMPLE_RATE)
    return path


def speed(recordings: list[Path], names: list[str], repeats: int, threads: int) -> dict:
    audio = {str(p): load_audio(p) for p in recordings}
    loaded, transcribers = {}, {}
    for name in names:
        t0 = time.perf_counter()
        transcribers[name] = Transcriber(options(name, threads))
        loaded[name] = time.perf_counter() - t0
    runs = []
    for r in range(repeats):
        for path, x in audio.items():
            for name in names:
                before = load()
                t0 = time.perf_counter()
                words = transcribers[name].transcribe_audio(x)
                spent = time.perf_counter() - t0
                runs.append({"round": r, "recording": Path(path).name, "config": name, "audio_s": len(x) / SAMPLE_RATE,
                             "seconds": spent, "rtf": spent / (len(x) / SAMPLE_RATE), "words": len(words),
                             "load_before": before, "load_after": load()})
                print(json.dumps(runs[-1]), flush=True)
    return {"load_s": loaded, "runs": runs}


# -- the report ----------------------------------------------------------------------------------------


def markdown(report: dict) -> str:
    lines = ["# assess --words' transcriber: old settings beside new (issue 25)", "",
             f"Command: `{report['command']}`", "", f"Machine: {report['machine']}; threads {report['threads']} "
             f"(0: CTranslate2's default); load average at the start {report['load_start']}, at the end "
             f"{report['load_end']}.", ""]
    speed_report = report.get("speed")
    if speed_report:
        lines += ["## Speed (RTF: transcription seconds / audio seconds; median of the rounds)", "",
                  "| recording | audio s | configuration | RTF median | RTF each round | vs old | load average "
                  "(1 min) during | model load s |", "|---|---:|---|---:|---|---:|---|---:|"]
        by = {}
        for run in speed_report["runs"]:
            by.setdefault((run["recording"], run["config"]), []).append(run)
        for (recording, name), runs in by.items():
            med = statistics.median(r["rtf"] for r in runs)
            old = statistics.median(r["rtf"] for r in by[(recording, report["configs"][0])])
            loads = [x for r in runs for x in (r["load_before"], r["load_after"])]
            each = ", ".join(f"{r['rtf']:.3f}" for r in runs)
            lines.append(f"| {recording} | {runs[0]['audio_s']:.0f} | {name} | {med:.3f} | {each} | {old / med:.2f}x | "
                         f"{min(loads):.1f}-{max(loads):.1f} | {speed_report['load_s'][name]:.1f} |")
        lines.append("")
    rows = report.get("accuracy")
    if rows:
        lines += ["## Syllables and word times on real interviews (FluencyBank Timestamped)", "",
                  "Error = Whisper's intended syllables / Timestamped's intended syllables - 1, on the compared "
                  "stretches; word times against Timestamped's hand-corrected words, matched in order.", "",
                  "| episode | audio s | configuration | error | matched words | onset median / p90 s | "
                  "offset median / p90 s | both within 0.3 s | RTF (load) |",
                  "|---|---:|---|---:|---:|---|---|---:|---|"]
        for r in rows:
            err = "-" if r["error"] is None else f"{r['error']:+.1%}"
            t = (f"{r['onset_median']:.3f} / {r['onset_p90']:.3f} | {r['offset_median']:.3f} / {r['offset_p90']:.3f}"
                 f" | {r['within']:.1%}") if r.get("matched") else "- | - | -"
            lines.append(f"| {r['episode'].split('/')[-1]} | {r['audio_s']:.0f} | {r['config']} | {err} | "
                         f"{r.get('matched', 0)} | {t} | {r['seconds'] / r['audio_s']:.3f} ({r['load']:.1f}) |")
        lines += ["", "| configuration | worst episode error | errors within 10 % | total syllables / Timestamped |",
                  "|---|---:|---:|---|"]
        for name in report["configs"]:
            mine = [r for r in rows if r["config"] == name and r["error"] is not None]
            if mine:
                worst = max(mine, key=lambda r: abs(r["error"]))
                lines.append(f"| {name} | {worst['error']:+.1%} ({worst['episode'].split('/')[-1]}) | "
                             f"{sum(abs(r['error']) <= 0.10 for r in mine)} of {len(mine)} | "
                             f"{sum(r['intended'] for r in mine)} / {sum(r['ts_intended'] for r in mine)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, help="a `prep casa` manifest (for --episodes)")
    ap.add_argument("--episodes", nargs="*", default=[], help="episodes for the accuracy check, e.g. 109 046")
    ap.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS),
                    help="configurations, the old first")
    ap.add_argument("--speed", action="store_true", help="time the configurations on --recordings/--espeak-seconds")
    ap.add_argument("--recordings", nargs="*", type=Path, default=[])
    ap.add_argument("--espeak-seconds", type=float, default=0.0, help="also a generated recording this long")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--name", default="words_speed")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    report = {"command": "OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/words_speed.py "
                         + " ".join(f"<{Path(a).name}>" if a.startswith("/") else shlex.quote(a) for a in sys.argv[1:]),
              "machine": machine(), "threads": args.threads, "configs": args.configs, "load_start": os.getloadavg(),
              "settings": {n: dataclasses.asdict(options(n, args.threads)) for n in args.configs}}
    if args.speed:
        recordings = list(args.recordings)
        if args.espeak_seconds:
            recordings.append(espeak_recording(OUT / f"espeak-{args.espeak_seconds:.0f}s.wav", args.espeak_seconds))
        report["speed"] = speed(recordings, args.configs, args.repeats, args.threads)
    if args.episodes:
        if args.manifest is None:
            ap.error("--episodes needs --manifest")
        report["accuracy"] = accuracy(args.manifest, args.episodes, args.configs, args.threads)
    report["load_end"] = os.getloadavg()
    (OUT / f"{args.name}.json").write_text(dumps(report, indent=1) + "\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
