"""Words and syllables from the audio against the CHAT transcripts, on the CASA stitched runs (real speech).

For each episode of the chosen splits (runs/casa/manifest.jsonl under the repository root, ignored by git, made by `prep casa`), its runs are
joined in time order with 1 s of silence between them and transcribed as one recording (model.measures.words, the
default backend: as the app transcribes a session, in pieces); each word goes back to its run, and the words
in the run's interviewer stretches (the record's `exclude`, as the measures treat a sidecar) are dropped.
The reference is the participant's (PAR) CHAT utterances near the run (overlapping it or within 5 s), codes
removed by data_prep.chat.chat_words, verbatim (repetitions and fillers kept, as said). CHAT's utterance
times here are too rough to cut an utterance at a run's edge (many are 0.2 s long whatever their words), so
the two word sequences are aligned (difflib) and both are cut to the stretch between their first and last
shared pair of words (runs with no two shared words in a row are counted and skipped). Within that stretch:
  - syllables (model.measures.syllables on both): audio / transcript - 1 per episode (the aim: within 10 %);
  - WER (jiwer), the words normalised alike (lower case, punctuation off, numbers read out);
and RTF: transcription seconds / audio seconds, one thread, nice (the load average is written too).
Writes benchmarks/results/casa_words.json and .md. Needs the shared data (never committed).
Run: `OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/casa_words.py --splits dev test`
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.transcription import tokens  # noqa: E402
from data_prep.chat import chat_words  # noqa: E402
from model.audio.decode import SAMPLE_RATE  # noqa: E402
from model.manifest import load_record_audio, read_manifest  # noqa: E402
from model.measures.syllables import count_syllables  # noqa: E402
from model.measures.words import TranscribeOptions, Transcriber, Word  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
MANIFEST = Path("runs/casa/manifest.jsonl")
GAP_S = 1.0  # seconds of silence put between two runs when an episode's runs are joined
log = logging.getLogger("casa_words")


def _inside(t: float, stretches) -> bool:
    return any(s <= t < e for s, e in stretches)


def reference_tokens(record: dict, *, near: float = 5.0) -> list[str]:
    """Tokens of the PAR utterances overlapping the run or within `near` seconds of it, in time order."""
    utts = sorted((u for u in record["chat"] if u["speaker"] == "PAR" and u["end"] > -near
                   and u["start"] < record["duration"] + near), key=lambda u: u["start"])
    return [t for u in utts for w in chat_words(u["text"], retraced=True, fillers=True) for t in tokens(w)]


def aligned_core(ref: list[str], hyp: list[str]) -> tuple[list[str], list[str]] | None:
    """Both sequences cut to the stretch between their first and last shared pair of words (module doc)."""
    blocks = [b for b in difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False).get_matching_blocks() if b.size >= 2]
    if not blocks:
        return None
    first, last = blocks[0], blocks[-1]
    return ref[first.a:last.a + last.size], hyp[first.b:last.b + last.size]


def episode_runs(manifest: Path, splits, episodes=None) -> dict[tuple[str, str], list[dict]]:
    """(split, episode) -> its runs in time order, for the chosen splits (and episodes, when given)."""
    records = [r for r in read_manifest(manifest) if r["split"] in splits
               and (not episodes or r["episode"] in episodes or r["episode"].split("/")[-1] in episodes)]
    out = defaultdict(list)
    for rec in sorted(records, key=lambda r: (r["episode"], r["episode_start"])):
        out[(rec["split"], rec["episode"])].append(rec)
    return dict(out)


def stitch_episode(records: list[dict], root: Path) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The runs' audio joined in the given order with GAP_S of silence after each; per run (start, duration) s."""
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)
    parts, offsets, pos = [], [], 0
    for rec in records:
        audio = load_record_audio(rec, root)
        offsets.append((pos / SAMPLE_RATE, len(audio) / SAMPLE_RATE))
        parts += [audio, gap]
        pos += len(audio) + len(gap)
    return np.concatenate(parts), offsets


def words_per_run(words, offsets: list[tuple[float, float]]) -> list[list[Word]]:
    """The stitched recording's words given back to their runs (by midpoint), run-relative."""
    return [[Word(w.start - start, w.end - start, w.text, w.probability) for w in words
             if start <= (w.start + w.end) / 2 < start + duration] for start, duration in offsets]


def transcribe_episode(transcriber: Transcriber, records: list[dict], root: Path) -> tuple[list[list], float, float]:
    """Per run (in the given order) its words, run-relative; and the seconds spent and of audio."""
    audio, offsets = stitch_episode(records, root)
    t0 = time.perf_counter()
    words = transcriber.transcribe_audio(audio)
    spent = time.perf_counter() - t0
    return words_per_run(words, offsets), spent, sum(d for _, d in offsets)


def compare_run(record: dict, words) -> tuple[list[str], list[str]] | str:
    """A run's (CHAT, audio) token cores (aligned_core), the audio's words in interviewer stretches dropped;
    or, for a run that cannot be compared, why not."""
    hyp = [t for w in words if not _inside((w.start + w.end) / 2, record["exclude"]) for t in tokens(w.text)]
    ref = reference_tokens(record)
    core = aligned_core(ref, hyp)
    if core is None:
        # Why: no client words heard (all excluded, or none), no PAR words near, or nothing shared.
        return "no words kept" if not hyp else "no PAR words near" if not ref else "no shared pair"
    return core


def main(argv: list[str] | None = None) -> int:
    import jiwer

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--splits", nargs="+", default=["dev", "test"])
    ap.add_argument("--backend", default=TranscribeOptions().backend)
    ap.add_argument("--limit", type=int, default=0, help="at most this many episodes (0: all), for a smoke run")
    ap.add_argument("--results", default="casa_words", help="name of the results files in benchmarks/results/")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    episodes = episode_runs(args.manifest, args.splits)
    if args.limit:
        episodes = dict(list(episodes.items())[:args.limit])
    transcriber = Transcriber(TranscribeOptions(backend=args.backend, threads=1))
    rows = []
    for (split, episode), recs in episodes.items():
        per_run, spent, audio_s = transcribe_episode(transcriber, recs, args.manifest.parent)
        refs, hyps, skipped = [], [], defaultdict(int)
        for rec, words in zip(recs, per_run, strict=True):
            core = compare_run(rec, words)
            if isinstance(core, str):
                skipped[core] += 1
                continue
            refs.append(" ".join(core[0]))
            hyps.append(" ".join(core[1]))
        syl_ref = count_syllables(" ".join(refs).split())
        syl_hyp = count_syllables(" ".join(hyps).split())
        rows.append({"split": split, "episode": episode, "runs": len(recs), "runs_compared": len(refs),
                     "audio_s": round(audio_s, 1), "rtf": round(spent / audio_s, 3),
                     "syllables_audio": syl_hyp, "syllables_chat": syl_ref,
                     "syllable_error": round(syl_hyp / syl_ref - 1, 3) if syl_ref else None,
                     "words_audio": sum(len(h.split()) for h in hyps), "words_chat": sum(len(r.split()) for r in refs),
                     "wer": round(jiwer.wer(refs, hyps), 3) if refs else None, "runs_skipped": dict(skipped)})
        log.info("%s %s: %s", split, episode, rows[-1])
    total = {k: sum(r[k] for r in rows) for k in ("runs", "runs_compared", "audio_s", "syllables_audio",
                                                  "syllables_chat", "words_audio", "words_chat")}
    total["syllable_error"] = round(total["syllables_audio"] / total["syllables_chat"] - 1, 3)
    total["within_10pct"] = sum(abs(r["syllable_error"]) <= 0.10 for r in rows if r["syllable_error"] is not None)
    report = {"command": "OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/casa_words.py --splits "
                         + " ".join(args.splits) + (f" --limit {args.limit}" if args.limit else ""),
              "machine": f"{os.cpu_count()} cores, one thread", "backend": args.backend,
              "load_average_at_end": os.getloadavg(), "episodes": rows, "total": total}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.results}.json").write_text(json.dumps(report, indent=1) + "\n")
    (RESULTS / f"{args.results}.md").write_text(markdown(report))
    print(markdown(report))
    return 0


def markdown(report: dict) -> str:
    lines = [f"# Words and syllables from the audio vs the CHAT transcripts ({report['machine']}, {report['backend']})",
             "", f"Command: `{report['command']}`", "",
             "| split | episode | runs (compared) | audio s | RTF | syllables audio / CHAT | error | words audio / CHAT "
             "| WER |", "|---|---|---|---|---|---|---|---|---|"]
    for r in report["episodes"]:
        wer = "-" if r["wer"] is None else f"{r['wer']:.3f}"
        err = "-" if r["syllable_error"] is None else f"{r['syllable_error']:+.1%}"
        lines.append(f"| {r['split']} | {r['episode']} | {r['runs']} ({r['runs_compared']}) | {r['audio_s']} "
                     f"| {r['rtf']} | {r['syllables_audio']} / {r['syllables_chat']} | {err} "
                     f"| {r['words_audio']} / {r['words_chat']} | {wer} |")
    t = report["total"]
    lines += ["", f"All: {t['runs_compared']} of {t['runs']} runs compared, {t['audio_s']:.0f} s of audio; syllables "
              f"{t['syllables_audio']} / {t['syllables_chat']} ({t['syllable_error']:+.1%}); "
              f"{t['within_10pct']} of {len(report['episodes'])} episodes within 10 %."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
