"""Would enrolling the clinician's voice help tell the voices apart? Measured on the 22 CASA episodes.

FluencyBank's interviews were run by a few interviewers, so another episode's interviewer stands in for "the
clinician's voice, enrolled from an earlier session". Reads the voice-encoder windows that
benchmarks/speakers_casa.py cached (`--embedders voice --cache <cache>`); a window is the interviewer's when its
centre lies in CASA's interviewer stretches. Prints, as markdown:
- the cosine of each episode's interviewer centre with the nearest other episode's (do interviewers recur?),
  against the cosine of its own interviewer and client centres;
- window-level precision / recall of "interviewer" when each window is scored against an enrolled voice: the mean
  of the other episodes' interviewer centres (no peeking), or the nearest other episode's interviewer centre (peeks
  at who the interviewer is: a best case for enrolment), by the cosine alone or by the cosine minus the cosine with
  the recording's own mean voice (mostly the client's).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/speakers_enrol.py --manifest <runs>/casa/manifest.jsonl --cache <cache>
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casa_words import GAP_S, episode_runs
from speakers_casa import CACHE, INTERVIEWER_CSV, interviewer_per_run, run_stretches

from model.audio.decode import SAMPLE_RATE


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def episode_windows(manifest: Path, cache: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Episode -> (unit window embeddings, True where the window's centre is the interviewer's)."""
    per_run, out = interviewer_per_run(INTERVIEWER_CSV), {}
    for (_, ep), recs in sorted(episode_runs(manifest, ["train", "dev", "test"]).items(), key=lambda x: x[0][1]):
        files = sorted(cache.glob(ep.replace("/", "_") + ".voice.*.npz"))
        if not files:
            raise SystemExit(f"{ep}: no cached windows in {cache}; run speakers_casa.py --embedders voice first")
        z, offsets, pos = np.load(files[0]), [], 0.0
        for r in recs:  # stitched as casa_words.stitch_episode stitches them
            offsets.append((pos, float(r["duration"])))
            pos += float(r["duration"]) + GAP_S
        stretches = run_stretches(recs, offsets, per_run)
        mid = (z["plan"][:, 1] + z["plan"][:, 2]) / 2 / SAMPLE_RATE
        out[ep.split("/")[-1]] = (_unit(z["embeddings"]), np.array([any(a <= m < b for a, b in stretches) for m in mid]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, required=True, help="the `prep casa` manifest (all 22 episodes)")
    ap.add_argument("--cache", type=Path, default=CACHE, help="speakers_casa.py's window cache")
    args = ap.parse_args()
    windows = episode_windows(args.manifest, args.cache)
    eps = [e for e, (_, y) in windows.items() if y.sum() >= 5]  # episodes with an interviewer
    inv = {e: _unit(windows[e][0][windows[e][1]].mean(0)) for e in eps}
    client = {e: _unit(windows[e][0][~windows[e][1]].mean(0)) for e in eps}
    nearest = {e: max((o for o in eps if o != e), key=lambda o: inv[e] @ inv[o]) for e in eps}
    print(f"{len(eps)} episodes with an interviewer.\n\n| episode | interviewer windows | own interviewer - client cosine "
          "| nearest other episode's interviewer: cosine (episode) |\n|---|---|---|---|")
    for e in eps:
        print(f"| {e} | {int(windows[e][1].sum())} | {inv[e] @ client[e]:.2f} | {inv[e] @ inv[nearest[e]]:.2f} ({nearest[e]}) |")
    print("\n| enrolled voice | score | threshold | precision | recall |\n|---|---|---|---|---|")
    for enrol in ("other episodes' interviewers (mean)", "nearest other episode's interviewer (peeks)"):
        for score, thresholds in (("cosine", (0.7, 0.75, 0.8)), ("cosine - cosine with the recording's mean", (-0.05, 0.0, 0.05, 0.1))):
            for thr in thresholds:
                tp = fp = fn = 0
                for e in eps:
                    x, y = windows[e]
                    v = inv[nearest[e]] if "nearest" in enrol else _unit(np.mean([inv[o] for o in eps if o != e], 0))
                    s = x @ v - (x @ _unit(x.mean(0)) if score != "cosine" else 0.0)
                    pred = s > thr
                    tp, fp, fn = tp + int((pred & y).sum()), fp + int((pred & ~y).sum()), fn + int((~pred & y).sum())
                print(f"| {enrol} | {score} | {thr:g} | {tp / max(tp + fp, 1):.2f} | {tp / max(tp + fn, 1):.2f} |")


if __name__ == "__main__":
    main()
