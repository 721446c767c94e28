"""Issue 24 item 4's open question: do Timestamped's repetition flags help the SoundRep / WordRep channels?

Two sets of out-of-fold frame probabilities from `benchmarks/cv_recipes.py train --heads mlp --seeds 0 1`
on the frozen Whisper-base features, the same folds, seeds and recipe: without and with `--repetitions`
(a word flagged `rp` and `pw` marks its frames SoundRep, `rp` alone WordRep, on top of the SLPs' share).
Each is decoded as the shipped default decodes (seeds' logits averaged, 0.18 s smoothing, the decoding
chosen nested over folds) and scored on the joined episodes: moment F1, and per type, typed recall (SLP
moments of the type matched one-to-one by a decoded moment carrying the type) and typed precision (decoded
moments carrying the type matched by an SLP moment of the type), pooled over episodes per SLP, mean over
the SLPs; each difference with a paired bootstrap over the speakers (2,000 resamples).

Everything it writes is derived from CASA/FluencyBank: keep it outside the repository.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

log = logging.getLogger(__name__)
TYPES = ("SoundRep", "WordRep")


def typed_counts(j, moments):
    """(SLPs, TYPES, 3): per type, typed matches, the SLP's moments of the type, decoded moments carrying it."""
    import numpy as np

    from model.moments.decoding import STUTTERING
    from model.training.moment_scores import SLPS, match_any_overlap

    out = np.zeros((len(SLPS), len(TYPES), 3))
    for a, slp in enumerate(SLPS):
        for t, label in enumerate(TYPES):
            ref = [(s.start, s.end) for s in j.references[slp] if label in s.types]
            est = [(m.start, m.end) for m in moments if m.kind == STUTTERING and label in m.types]
            out[a, t] = (len(match_any_overlap(ref, est)), len(ref), len(est))
    return out


def recall(x):
    """(..., episodes, SLPs, 3) -> (...): matched / reference pooled over episodes, mean over SLPs."""
    import numpy as np

    tp, n_ref = x[..., 0].sum(-2), x[..., 1].sum(-2)
    return np.mean(tp / np.maximum(n_ref, 1), axis=-1)


def precision(x):
    import numpy as np

    tp, n_est = x[..., 0].sum(-2), x[..., 2].sum(-2)
    return np.mean(tp / np.maximum(n_est, 1), axis=-1)


def main() -> None:
    import numpy as np
    from cv_recipes import FRAME_RATE, folds_of, load_probs
    from frozen_default import SMOOTH_SECONDS, annotated, nested_source

    from model.jsonable import dumps
    from model.moments.decoding import MomentDecoding
    from model.training.cv_report import cv_report, format_markdown, paired_bootstrap
    from model.training.frozen_head import logit_mean
    from model.training.recipe_scores import decoder, score_rows

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, required=True, help="the `prep casa` manifest (all 22 episodes)")
    ap.add_argument("--without", type=Path, required=True, help="cv_recipes.py train's folder, no --repetitions")
    ap.add_argument("--with", dest="with_", type=Path, required=True, help="...and with --repetitions")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--out", type=Path, required=True, help="report folder, outside the repository")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records = annotated(args.manifest)
    episodes, folds, _ = folds_of(records, 0)
    ep_fold = {ep: k for k, fold in enumerate(folds) for ep in fold}
    fold_of = [ep_fold[j.episode] for j in episodes]
    args.out.mkdir(parents=True, exist_ok=True)
    moments, typed = {}, {}
    for name, folder in (("without repetition targets", args.without), ("with repetition targets", args.with_)):
        loaded = [load_probs(folder, f"mlp_s{seed}") for seed in args.seeds]
        probs, channels = logit_mean([p for p, _ in loaded]), tuple(loaded[0][1]["channels"])
        per_ep, *_ = nested_source(probs, MomentDecoding(smooth_seconds=SMOOTH_SECONDS), channels, episodes,
                                   fold_of, ep_fold, args.out / f"grid_{name.split()[0]}_60.npy")
        fn = decoder(probs, lambda j, per_ep=per_ep: per_ep[j.episode], channels=channels, frame_rate=FRAME_RATE)
        moments[name] = {j.episode: fn(j) for j in episodes}
        typed[name] = np.stack([typed_counts(j, moments[name][j.episode]) for j in episodes])  # (E, SLPs, T, 3)
    report = cv_report(score_rows(episodes, moments), list(moments), folds=folds)
    a, b = typed["with repetition targets"], typed["without repetition targets"]
    report["typed"] = {label: {
        "recall": {n: float(recall(typed[n][:, :, t])) for n in typed},
        "precision": {n: float(precision(typed[n][:, :, t])) for n in typed},
        "slp_moments": int(a[:, :, t, 1].sum()), "decoded": {n: int(typed[n][:, 0, t, 2].sum()) for n in typed},
        "recall_diff": paired_bootstrap(a[:, :, t], b[:, :, t], recall),
        "precision_diff": paired_bootstrap(a[:, :, t], b[:, :, t], precision)} for t, label in enumerate(TYPES)}
    lines = ["| type | source | typed recall | typed precision | decoded moments carrying it |", "|---|---|---|---|---|"]
    for label, r in report["typed"].items():
        lines += [f"| {label} | {n} | {r['recall'][n]:.3f} | {r['precision'][n]:.3f} | {r['decoded'][n]} |" for n in typed]
        lines.append(f"| {label} | with - without [95 %] | {r['recall_diff'][0]:+.3f} [{r['recall_diff'][1]:+.3f}, "
                     f"{r['recall_diff'][2]:+.3f}] | {r['precision_diff'][0]:+.3f} [{r['precision_diff'][1]:+.3f}, "
                     f"{r['precision_diff'][2]:+.3f}] | |")
    text = format_markdown(report) + "\n\n" + "\n".join(lines) + "\n"
    (args.out / "repetition_targets.json").write_text(dumps(report, indent=1))
    (args.out / "repetition_targets.md").write_text(text)
    log.info("%s", text)


if __name__ == "__main__":
    main()
