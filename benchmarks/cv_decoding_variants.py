"""Issue 24: two decoding ideas for the severe undercount and the mild over-count, scored in the cross-validation.

Both act on the out-of-fold frame probabilities of `cv_recipes.py train` (the seeds averaged, 0.18 s smoothed:
the `mlp~9` recipe) and are scored as `cv_recipes.py score` scores (joined episodes, floors, SLPs' agreement,
bands, paired bootstrap over speakers), every setting also chosen nested (on the other folds' episodes):

- "prevalence": label-shift adaptation per recording. A severe speaker stutters in more of the frames than the
  heads saw on average, a mild one in fewer; the posterior's odds are moved by alpha x (logit of the recording's
  mean p(moment) over the client's frames - logit of the median recording's), alpha 0 (off) to 2 (or below 0),
  before decoding; the decoding grid is tuned again for each alpha.
- "maxdur": a decoded moment longer than L s is cut at its lowest p(moment) (at least 0.3 s from either edge),
  again until none is longer (L inf = off), after the nested decoding of `mlp~9`.
- "ceiling": no estimate, a bound: per episode, the grid point whose count per 100 syllables comes nearest the
  SLPs' mean, and the one with the best F1, chosen with the episode's own labels (could any one decoding of the
  grid give each recording the right count?).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/cv_decoding_variants.py prevalence \
        --manifest <runs>/casa/manifest.jsonl --probs <cache>/probs --out <cache>/variants
    PYTHONPATH=$PWD .venv/bin/python benchmarks/cv_decoding_variants.py maxdur \
        --manifest <runs>/casa/manifest.jsonl --probs <cache>/probs --out <cache>/variants
    PYTHONPATH=$PWD .venv/bin/python benchmarks/cv_decoding_variants.py ceiling \
        --manifest <runs>/casa/manifest.jsonl --probs <cache>/probs --out <cache>/variants
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv_recipes as cr

from model.jsonable import dumps
from model.moments.decoding import STUTTERING, Moment
from model.training.cv_decoding import decoding_grid, grid_counts, nested_choice
from model.training.cv_report import cv_report, format_markdown, mean_f1
from model.training.joined_scores import JoinedEpisode, joined_probs, pair_counts
from model.training.moment_scores import SLPS
from model.training.recipe_scores import decoder, score_rows, stutter_spots

log = logging.getLogger("cv_decoding_variants")
RATE = cr.FRAME_RATE
SMOOTH_FRAMES = 9  # 0.18 s: the shipped recipe's smoothing
MIN_PART_S = 0.3  # maxdur: neither part of a cut moment is shorter than this


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-5, 1 - 1e-5)
    return np.log(p / (1 - p))


def client_prevalence(j: JoinedEpisode, probs: dict) -> float:
    """The mean p(moment) over the joined recording's frames outside the interviewer's stretches."""
    p = joined_probs(j, probs, frame_rate=RATE)[:, 0]
    t = np.arange(len(p)) / RATE
    keep = np.ones(len(p), bool)
    for a, b in j.exclude:
        keep &= ~((t >= a) & (t < b))
    return float(p[keep].mean())


def adapted(probs: dict, episodes, alpha: float) -> dict:
    """Each run's p(moment) with its recording's prevalence shift (alpha x logit difference to the median)."""
    prevalence = {j.episode: client_prevalence(j, probs) for j in episodes}
    ref = float(np.median(list(prevalence.values())))
    out = dict(probs)
    for j in episodes:
        shift = alpha * (logit(np.array(prevalence[j.episode])) - logit(np.array(ref)))
        for rid in j.run_ids:
            q = probs[rid].copy()
            q[:, 0] = 1 / (1 + np.exp(-(logit(q[:, 0]) + shift)))
            out[rid] = q
    return out


def split_long(moments: list[Moment], p: np.ndarray, longest: float) -> list[Moment]:
    """Stuttering moments longer than `longest` s cut at their lowest p(moment), until none is longer."""
    out, todo = [], list(moments)
    while todo:
        m = todo.pop(0)
        lo = round(m.start * RATE) + round(MIN_PART_S * RATE)
        hi = round(m.end * RATE) - round(MIN_PART_S * RATE)
        if m.kind != STUTTERING or m.duration <= longest or hi <= lo:
            out.append(m)
            continue
        cut = (lo + int(np.argmin(p[lo:hi, 0]))) / RATE
        todo[:0] = [replace(m, end=cut), replace(m, start=cut)]
    return sorted(out, key=lambda m: m.start)


def setup(args):
    records = cr.annotated(args.manifest)
    episodes, folds, _ = cr.folds_of(records, 0)
    ep_fold = {ep: k for k, fold in enumerate(folds) for ep in fold}
    loaded = [cr.load_probs(args.probs, name) for name in args.seeds]
    probs = cr.mean_probs([p for p, _ in loaded])
    probs = {rid: cr.smoothed(p, SMOOTH_FRAMES) for rid, p in probs.items()}
    return episodes, folds, ep_fold, probs, tuple(loaded[0][1]["channels"])


def counts_for(episodes, probs, grid, channels, cache: Path) -> np.ndarray:
    if cache.is_file():
        return np.load(cache)
    counts = grid_counts(episodes, probs, grid, channels=channels, frame_rate=RATE)
    np.save(cache, counts)
    return counts


def cmd_prevalence(args) -> dict:
    episodes, folds, ep_fold, probs, channels = setup(args)
    fold_of = [ep_fold[j.episode] for j in episodes]
    grid = decoding_grid()
    moments, stacked, variants = {}, [], []
    for alpha in args.alphas:
        adj = adapted(probs, episodes, alpha) if alpha else probs
        counts = counts_for(episodes, adj, grid, channels, args.out / f"grid_prevalence_{alpha:g}.npy")
        per_ep, _ = cr.tuned(counts, grid, fold_of, ep_fold, np.arange(len(grid)))
        fn = decoder(adj, lambda j, per_ep=per_ep: per_ep[j.episode], channels=channels, frame_rate=RATE)
        moments[f"prevalence alpha {alpha:g}"] = {j.episode: fn(j) for j in episodes}
        stacked.append(counts)
        variants.append(adj)
    chosen = nested_choice(np.concatenate(stacked, axis=1), fold_of)  # alpha and decoding chosen together

    def nested(j):
        i = chosen[ep_fold[j.episode]]
        return decoder(variants[i // len(grid)], lambda _: grid[i % len(grid)], channels=channels,
                       frame_rate=RATE)(j)

    moments["prevalence alpha nested"] = {j.episode: nested(j) for j in episodes}
    alphas = {k: args.alphas[i // len(grid)] for k, i in chosen.items()}
    return {"moments": moments, "episodes": episodes, "folds": folds, "chosen": {"alpha_per_fold": alphas}}


def cmd_maxdur(args) -> dict:
    episodes, folds, ep_fold, probs, channels = setup(args)
    fold_of = np.array([ep_fold[j.episode] for j in episodes])
    grid = decoding_grid()
    counts = counts_for(episodes, probs, grid, channels, args.out / "grid_prevalence_0.npy")
    per_ep, _ = cr.tuned(counts, grid, list(fold_of), ep_fold, np.arange(len(grid)))
    base = decoder(probs, lambda j: per_ep[j.episode], channels=channels, frame_rate=RATE)
    longest = [float("inf"), *args.longest]
    cut = {}
    scores = np.zeros((len(episodes), len(longest), len(SLPS), 3))
    for e, j in enumerate(episodes):
        p, decoded = joined_probs(j, probs, frame_rate=RATE), base(j)
        for i, length in enumerate(longest):
            cut[i, j.episode] = split_long(decoded, p, length)
            spots = stutter_spots(cut[i, j.episode])
            scores[e, i] = [(c.tp, c.n_ref, c.n_est) for c in (pair_counts(j.references[a], spots) for a in SLPS)]
    best = {k: int(np.argmax(mean_f1(np.moveaxis(scores[fold_of != k], 1, 0)))) for k in set(fold_of.tolist())}
    moments = {f"maxdur {length:g} s": {j.episode: cut[i, j.episode] for j in episodes}
               for i, length in enumerate(longest)}
    moments["maxdur nested"] = {j.episode: cut[best[ep_fold[j.episode]], j.episode] for j in episodes}
    return {"moments": moments, "episodes": episodes, "folds": folds,
            "chosen": {"longest_per_fold": {k: longest[i] if np.isfinite(longest[i]) else "off"
                                            for k, i in best.items()}}}


def cmd_ceiling(args) -> str:
    """Markdown: per episode, the grid's count range and its points nearest the SLPs' count and best in F1."""
    from model.training.joined_scores import per_100, slp_means

    episodes, _, _, probs, channels = setup(args)
    grid = decoding_grid()
    counts = counts_for(episodes, probs, grid, channels, args.out / "grid_prevalence_0.npy")  # (ep, grid, SLP, 3)
    lines = ["| episode | SLPs' mean per 100 syllables | the grid's range | nearest: count (F1) | best F1: F1 (count) |",
             "|---|---|---|---|---|"]
    within, picked = 0, []
    for e, j in enumerate(episodes):
        slp = slp_means(j)[0]
        rate = np.array([per_100(int(n), j.syllables) for n in counts[e, :, 0, 2]], float)
        f1 = 2 * counts[e, :, :, 0].sum(-1) / np.maximum(counts[e, :, :, 1].sum(-1) + counts[e, :, :, 2].sum(-1), 1)
        near, best = int(np.argmin(abs(rate - slp))), int(np.argmax(f1))
        within += abs(rate[near] - slp) <= 2
        picked.append(counts[e, best])  # (SLP, 3)
        lines.append(f"| {j.episode} | {slp:.1f} | {rate.min():.1f}-{rate.max():.1f} | {rate[near]:.1f} ({f1[near]:.2f}) "
                     f"| {f1[best]:.2f} ({rate[best]:.1f}) |")
    pooled = float(mean_f1(np.array(picked)))  # each episode at its own best point, pooled, mean over the SLPs
    return "\n".join(lines) + (f"\n\nA grid point within 2 per 100 syllables of the SLPs: {within} of {len(episodes)} "
                                f"episodes. Each episode at its own best-F1 point: moment F1 {pooled:.3f} (pooled, mean "
                                "over the SLPs).\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variant", choices=("prevalence", "maxdur", "ceiling"))
    ap.add_argument("--manifest", type=Path, required=True, help="the `prep casa` manifest (all 22 episodes)")
    ap.add_argument("--probs", type=Path, required=True, help="`cv_recipes.py train`'s folder")
    ap.add_argument("--seeds", nargs="+", default=["mlp_s0", "mlp_s1"], help="its files averaged (a seed ensemble)")
    ap.add_argument("--alphas", nargs="+", type=float, default=[0.0, -1.0, -0.5, 0.25, 0.5, 1.0, 1.5, 2.0])
    ap.add_argument("--longest", nargs="+", type=float, default=[1.5, 2.0, 2.5, 3.0, 4.0])
    ap.add_argument("--out", type=Path, required=True, help="report folder, outside the repository")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.variant == "ceiling":
        text = cmd_ceiling(args)
        (args.out / "ceiling.md").write_text(text)
        log.info("%s", text)
        return
    result = {"prevalence": cmd_prevalence, "maxdur": cmd_maxdur}[args.variant](args)
    rows = score_rows(result["episodes"], result["moments"])
    report = cv_report(rows, list(result["moments"]), folds=result["folds"])
    report["aims"] = cr.aims(rows, report["sources"])
    report["chosen"] = result["chosen"]
    (args.out / f"{args.variant}.json").write_text(dumps(report, indent=1))
    lines = ["", "| source | F1 against A1 / A2 / A3 | within 2 per 100 syllables | three longest within 0.5 s |",
             "|---|---|---|---|"]
    for name, a in report["aims"].items():
        lines.append(f"| {name} | " + " / ".join(f"{x:.3f}" for x in a["f1_per_slp"])
                     + f" | {a['count_within_2']} of {a['episodes']} | {a['longest3_within_0_5']} of {a['episodes']} |")
    text = format_markdown(report) + "\n" + "\n".join(lines) + f"\n\nchosen: {result['chosen']}\n"
    (args.out / f"{args.variant}.md").write_text(text)
    log.info("%s", text)


if __name__ == "__main__":
    main()
