"""Issue 24's cross-validation, by hand: the folds as manifests to train on, and the evaluation's commands.

`folds` writes one manifest per fold beside a `prep casa` manifest (`<name>.fold<k>.jsonl`: fold k's
episodes are test, the next fold's dev, the rest train; ids, audio and frame targets unchanged, so the
frozen-prefix cache of the runs is reused by every fold), plus `<name>.folds.md`, the folds with their
severity (SLPs' moments per 100 CHAT syllables on the joined runs). The folds are model.training.cv's, made
and checked speaker-exclusive by the same code `stutterscope evaluate --cv` reports them with.
Everything is written beside the manifest, OUTSIDE the repository (derived from CASA: never commit it).
A recipe that also trains on the FluencyBank clip votes must re-split them the same way (`--clips-manifest`:
its `.fold<k>.jsonl` beside it), or a fold's test speakers would be trained on through their clips.

Then, per fold: `stutterscope train --manifest <name>.fold<k>.jsonl ...`, `stutterscope export` (tunes the
decoding on the fold's dev episodes), `benchmarks/frame_probs_cache.py --manifest <name>.fold<k>.jsonl
--model <fold k's model> --name <recipe>_fold<k> --splits test`; and once, over all folds:
`stutterscope evaluate --cv --manifest <name>.jsonl --probs <recipe>=<cache>/<recipe>_fold0_test.npz,...`.

`PYTHONPATH=$PWD .venv/bin/python benchmarks/cv_eval.py folds --manifest <casa>/manifest.jsonl`
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data_prep.chat import chat_words  # noqa: E402
from model.fileio import atomic_write_text  # noqa: E402
from model.manifest import read_manifest, write_manifest  # noqa: E402
from model.training.cv import check_folds, fold_records, make_folds  # noqa: E402
from model.training.cv_report import joined_episodes  # noqa: E402
from model.training.joined_scores import slp_means  # noqa: E402
from model.training.moment_eval import syllable_counter  # noqa: E402

log = logging.getLogger(__name__)


def fold_manifest_path(manifest: Path, k: int) -> Path:
    return manifest.with_name(f"{manifest.name.split('.', 1)[0]}.fold{k}.jsonl")


def write_folds(manifest: Path, *, seed: int, clips_manifest: Path | None = None) -> list[Path]:
    """Every fold's manifest and the folds' table beside `manifest` (and clips_manifest's folds beside it);
    returns the manifests' paths."""
    records = [r for r in read_manifest(manifest) if r.get("moments") is not None]
    severity = {j.episode: slp_means(j)[0] or 0.0 for j in joined_episodes(records, syllable_counter(chat_words))}
    folds = make_folds(severity, seed=seed)
    check_folds(folds, {r["episode"]: r["speaker"] for r in records})
    # All folds are validated in memory before any file is written: no partial set of folds.
    per_fold = {fold_manifest_path(manifest, k): fold_records(records, folds, k) for k in range(len(folds))}
    if clips_manifest is not None:
        clips = read_manifest(clips_manifest)
        per_fold.update({fold_manifest_path(clips_manifest, k): fold_records(clips, folds, k) for k in range(len(folds))})
    for path, recs in per_fold.items():
        write_manifest(recs, path)
    table = ["| fold | test episodes (SLPs' moments per 100 syllables) | dev fold |", "|---|---|---|"]
    table += [f"| {k} | " + ", ".join(f"{ep} ({severity[ep]:.1f})" for ep in fold) + f" | {(k + 1) % len(folds)} |"
              for k, fold in enumerate(folds)]
    atomic_write_text(manifest.with_name(f"{manifest.name.split('.', 1)[0]}.folds.md"), "\n".join(table) + "\n")
    return list(per_fold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    folds = sub.add_parser("folds", help="write a manifest per fold beside a `prep casa` manifest")
    folds.add_argument("--manifest", type=Path, required=True, help="a `prep casa` manifest (all 22 episodes)")
    folds.add_argument("--seed", type=int, default=0, help="the folds' seed (evaluate --cv's --seed)")
    folds.add_argument("--clips-manifest", type=Path, default=None,
                       help="a `prep fluencybank` clip manifest to re-split by the same folds")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in write_folds(args.manifest, seed=args.seed, clips_manifest=args.clips_manifest):
        log.info("wrote %s", path)


if __name__ == "__main__":
    main()
