"""Words with times: faster-whisper (CTranslate2) against openai-whisper, on the same offline Whisper base.

The speech is generated (espeak-ng, data_prep/synth/timed.py), so every word's onset and offset is known
exactly. For each configuration, in its own process (clean peak memory, one CPU thread, as the app runs):
  - real-time factor (transcription seconds / audio seconds) over short files (< 30 s, one piece each) in
    three conditions (clean with short gaps between words; white noise; words abutting, no gaps) and over
    one long file of the clean ones (several pieces, cut at quiet frames), and the model's load time;
  - words right (true words matched in order by the hypothesis, after lower-casing, punctuation off and
    numbers read out) and WER (jiwer);
  - word-timing error on the matched words: |onset - true onset| and |offset - true offset|, Whisper's own
    times and after snap_words (the default), and the share within 0.3 s;
  - peak resident memory (VmHWM).
Writes benchmarks/results/transcription.json and .md.
Run: `OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/transcription.py` (`--quick`: 2 voices).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.audio.decode import SAMPLE_RATE, load_audio  # noqa: E402
from model.measures.syllables import normalise_word, number_words  # noqa: E402
from model.measures.words import TranscribeOptions, Transcriber, Word, pieces, snap_words  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CONFIGS = {  # name -> TranscribeOptions fields
    "faster-whisper int8": {"backend": "faster-whisper", "compute_type": "int8"},
    "faster-whisper float32": {"backend": "faster-whisper", "compute_type": "float32"},
    "openai-whisper float32": {"backend": "openai-whisper"},
}
# (language, variant, speed): accents and voices espeak-ng ships, at conversational speeds.
VOICES = [("en-us", "m1", 150), ("en-us", "f2", 160), ("en-gb", "m3", 145), ("en-gb-x-rp", "f1", 155),
          ("en-029", "m2", 150), ("en-us-nyc", "m4", 160)]
MAX_FILE_SECONDS = 28.0  # each short file stays one piece
# condition -> (white-noise std, gap between words in s). espeak's peak is about 0.5-1, so noise 0.01 is
# roughly 35-40 dB SNR; "abutting" leaves no silence between the words of a sentence.
CONDITIONS = {"clean": (0.0, (0.03, 0.12)), "noisy": (0.01, (0.03, 0.12)), "abutting": (0.003, (0.0, 0.0))}
TOLERANCE = 0.3  # seconds: the brief's word-timing bound


def tokens(text: str) -> list[str]:
    """Words compared for accuracy: lower case, punctuation off, numbers read out, hyphens split."""
    out = []
    for raw in re.split(r"[\s\-]+", text):
        word = normalise_word(raw).replace("%", "")
        if not word:
            continue
        spoken = number_words(word)
        out += spoken.replace("-", " ").split() if spoken else [word]
    return out


def make_speech(folder: Path, n_voices: int) -> list[dict]:
    """Short files of generated speech with their true word times, per condition; one long clean file."""
    from data_prep.synth.speech import Voice
    from data_prep.synth.text import SENTENCES
    from data_prep.synth.timed import timed_speech

    rng = np.random.default_rng(0)
    files = []
    for condition, (noise, word_gap) in CONDITIONS.items():
        for language, variant, speed in VOICES[:n_voices]:
            order = rng.permutation(len(SENTENCES))
            for n in range(7, 2, -1):  # the most sentences that fit in one piece
                audio, truth = timed_speech(Voice(language, variant, 50, speed), [SENTENCES[i] for i in order[:n]],
                                            np.random.default_rng(int(rng.integers(1 << 30))), noise=noise,
                                            word_gap=word_gap)
                if len(audio) / SAMPLE_RATE <= MAX_FILE_SECONDS:
                    break
            path = folder / f"{condition}-{language}+{variant}.wav"
            sf.write(str(path), audio, SAMPLE_RATE, subtype="FLOAT")
            files.append({"path": str(path), "seconds": len(audio) / SAMPLE_RATE, "condition": condition,
                          "truth": [[t.start, t.end, t.text] for t in truth]})
    files_clean = [f for f in files if f["condition"] == "clean"]
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    parts, truth, pos = [], [], 0
    for f in files_clean:
        audio = load_audio(f["path"])
        truth += [[s + pos / SAMPLE_RATE, e + pos / SAMPLE_RATE, t] for s, e, t in f["truth"]]
        parts += [audio, gap]
        pos += len(audio) + len(gap)
    long_path = folder / "long.wav"
    sf.write(str(long_path), np.concatenate(parts), SAMPLE_RATE, subtype="FLOAT")
    return files + [{"path": str(long_path), "seconds": pos / SAMPLE_RATE, "truth": truth,
                     "condition": "clean, one long file"}]


def run_one(config: str, files_json: Path, out_json: Path) -> None:
    """In a child process: load one configuration, transcribe every file, write times and raw words."""
    files = json.loads(files_json.read_text())
    options = TranscribeOptions(**CONFIGS[config], threads=1, snap_to_speech=False)
    t0 = time.perf_counter()
    transcriber = Transcriber(options)
    load_s = time.perf_counter() - t0
    runs = []
    for f in files:
        t0 = time.perf_counter()
        words = transcriber.transcribe_file(f["path"])
        runs.append({"seconds": time.perf_counter() - t0, "words": [w.to_dict() for w in words]})
    hwm = next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmHWM"))
    out_json.write_text(json.dumps({"load_s": load_s, "runs": runs, "peak_rss_mib": int(hwm) / 1024}))


def score(truth: list, words: list[Word]) -> dict:
    """Words right, WER and timing errors of one file's words against the truth."""
    import jiwer

    ref = [(s, e, t) for s, e, text in truth for t in tokens(text)]
    hyp = [(w.start, w.end, t) for w in words for t in tokens(w.text)]
    matcher = difflib.SequenceMatcher(a=[t for *_, t in ref], b=[t for *_, t in hyp], autojunk=False)
    pairs = [(ref[b.a + k], hyp[b.b + k]) for b in matcher.get_matching_blocks() for k in range(b.size)]
    onset = [abs(h[0] - r[0]) for r, h in pairs]
    offset = [abs(h[1] - r[1]) for r, h in pairs]
    wer = jiwer.wer(" ".join(t for *_, t in ref), " ".join(t for *_, t in hyp) or "<none>")
    return {"n_true": len(ref), "n_matched": len(pairs), "wer": wer, "onset": onset, "offset": offset}


def snap_as_transcriber(words: list[Word], path: str) -> list[Word]:
    """snap_words applied piece by piece, exactly as Transcriber does with snap_to_speech on."""
    options = TranscribeOptions()
    out = []
    for offset, piece in pieces([load_audio(path)], piece_seconds=options.piece_seconds,
                                cut_search_seconds=options.cut_search_seconds):
        t0, t1 = offset / SAMPLE_RATE, (offset + len(piece)) / SAMPLE_RATE
        out += snap_words([w for w in words if t0 <= w.start < t1], piece, offset=t0)
    return out


def summarise(files: list[dict], result: dict) -> dict:
    rows = {}
    for condition in dict.fromkeys(f["condition"] for f in files):
        picked = [i for i, f in enumerate(files) if f["condition"] == condition]
        audio_s = sum(files[i]["seconds"] for i in picked)
        spent = sum(result["runs"][i]["seconds"] for i in picked)
        for snapped in (False, True):
            scores = []
            for i in picked:
                words = [Word(**w) for w in result["runs"][i]["words"]]
                if snapped:
                    words = snap_as_transcriber(words, files[i]["path"])
                scores.append(score(files[i]["truth"], words))
            onset = np.concatenate([s["onset"] for s in scores])
            offset = np.concatenate([s["offset"] for s in scores])
            both = np.maximum(onset, offset)
            rows[f"{condition}, {'snapped (default)' if snapped else 'Whisper times'}"] = {
                "audio_s": round(audio_s, 1), "rtf": round(spent / audio_s, 3),
                "words_right": round(sum(s["n_matched"] for s in scores) / sum(s["n_true"] for s in scores), 3),
                "wer": round(float(np.mean([s["wer"] for s in scores])), 3),
                "onset_mean_s": round(float(onset.mean()), 3), "onset_p90_s": round(float(np.quantile(onset, 0.9)), 3),
                "offset_mean_s": round(float(offset.mean()), 3),
                "offset_p90_s": round(float(np.quantile(offset, 0.9)), 3),
                "within_tolerance": round(float((both <= TOLERANCE).mean()), 3)}
    return {"load_s": round(result["load_s"], 1), "peak_rss_mib": round(result["peak_rss_mib"]), "rows": rows}


def markdown(report: dict) -> str:
    lines = [f"# Transcription benchmark ({report['machine']})", "", f"Command: `{report['command']}`", "",
             "| configuration | speech, times | audio s | RTF | load s | peak RSS MiB | words right | WER | onset mean / p90 s "
             "| offset mean / p90 s | both edges within 0.3 s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in report["configs"].items():
        for kind, row in r["rows"].items():
            lines.append(f"| {name} | {kind} | {row['audio_s']} | {row['rtf']} | {r['load_s']} | {r['peak_rss_mib']} "
                         f"| {row['words_right']:.1%} | {row['wer']:.3f} | {row['onset_mean_s']} / {row['onset_p90_s']} "
                         f"| {row['offset_mean_s']} / {row['offset_p90_s']} | {row['within_tolerance']:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="two voices, for a smoke run")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--files", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        run_one(args.one, args.files, args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_speech(folder, 2 if args.quick else len(VOICES))
        (folder / "files.json").write_text(json.dumps(files))
        configs = {}
        for config in args.configs:
            out = folder / "result.json"
            env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
            subprocess.run([sys.executable, __file__, "--one", config, "--files", str(folder / "files.json"),
                            "--out", str(out)], check=True, env=env)
            configs[config] = summarise(files, json.loads(out.read_text()))
            print(config, json.dumps(configs[config]), flush=True)
    report = {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, one thread per run",
              "command": "OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/transcription.py"
                         + (" --quick" if args.quick else ""),
              "load_average_at_end": os.getloadavg(), "configs": configs}
    RESULTS.mkdir(exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"transcription{suffix}.json").write_text(json.dumps(report, indent=1) + "\n")
    (RESULTS / f"transcription{suffix}.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
