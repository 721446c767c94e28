"""Issue 24 items 2-4: recipes compared in the speaker-grouped cross-validation, on frozen Whisper-base features.

`features`: encode every `prep casa` run once with the offline Whisper-base encoder (never fine-tuned here, so
nothing leaks across folds; model.training.frozen_features), fp16, OUTSIDE the repository.
`run`: per fold (model.training.cv's folds: fold k test, k+1 dev, the rest train), train a small head on the
CASA frame targets, its epoch chosen on the dev fold by frame AUC, for each recipe and seed; write every
fold's held-out frame probabilities as frame_probs_cache files, then score them with the `evaluate --cv`
machinery (joined recordings, floors, SLPs' agreement, bands, types, paired bootstrap over speakers).

Everything written (caches, probabilities, reports) is derived from CASA/FluencyBank: keep it outside the repo.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.manifest import manifest_root, read_manifest  # noqa: E402

log = logging.getLogger(__name__)
FRAME_RATE = 50.0  # frames per second: one per encoder token (model.moments.frame_targets.FRAME_RATE)
SPLIT_DEPTHS = (0.0, 0.2, 0.35)  # the valley split's grid (0: off)
BLOCK_MIN = (0.0, 0.7, 0.8, 0.9)  # item 3: a moment whose likeliest type is Block needs this peak p(moment)
INTERJECTION_ONSETS = (0.5, 0.7, 0.8, 0.9, 0.95)


def annotated(manifest: Path) -> list[dict]:
    return [r for r in read_manifest(manifest) if r.get("moments") is not None]


def folds_of(records: list[dict], seed: int):
    """(joined episodes, folds, syllables_of): model.training.cv's folds, as `evaluate --cv` makes them."""
    from data_prep.chat import chat_words
    from model.training.cv import check_folds, make_folds
    from model.training.cv_report import joined_episodes
    from model.training.joined_scores import slp_means
    from model.training.moment_eval import syllable_counter

    syllables_of = syllable_counter(chat_words)
    episodes = joined_episodes(records, syllables_of)
    folds = make_folds({j.episode: slp_means(j)[0] or 0.0 for j in episodes}, seed=seed)
    check_folds(folds, {r["episode"]: r["speaker"] for r in records})
    return episodes, folds, syllables_of


def cmd_features(args) -> None:
    import torch

    from model.training.frozen_features import build_features

    torch.set_num_threads(1)
    records = [r for r in read_manifest(args.manifest) if r.get("moments") is not None]
    info = build_features(records, manifest_root(args.manifest), args.out, train_blocks=args.train_blocks)
    log.info("%s", info)


def cmd_train(args) -> None:
    import numpy as np
    import torch

    from model.jsonable import dumps
    from model.moments.decoding import FRAME_CHANNELS, MomentDecoding
    from model.training.cv import fold_splits
    from model.training.cv_train import HeadRecipe, make_item, predict, train_head
    from model.training.frozen_features import load_features
    from model.training.interjection_targets import read_filled_pauses, read_repetitions

    torch.set_num_threads(1)
    records = annotated(args.manifest)
    _, folds, _ = folds_of(records, args.fold_seed)
    feats, info = load_features(args.features)
    pauses = read_filled_pauses(args.words) if args.words else None
    if args.repetitions and not args.words:
        raise ValueError("--repetitions reads Timestamped's repetition flags: give --words too")
    repetitions = read_repetitions(args.words) if args.repetitions else None
    items = {r["id"]: make_item(r, feats.pop(r["id"]), manifest_root(args.manifest), pauses, repetitions)
             for r in records}
    args.out.mkdir(parents=True, exist_ok=True)
    for head in args.heads:
        recipe = HeadRecipe(head=head, hidden=args.hidden or (64 if head.endswith("gru") else 128), epochs=args.epochs,
                            patience=args.patience, epoch_share=args.epoch_share, lr=args.lr,
                            encoder_lr=args.encoder_lr)
        for seed in args.seeds:
            name = f"{head}_s{seed}"
            out = args.out / f"{name}.npz"
            if out.is_file():
                log.info("%s exists, kept", out)
                continue
            probs, folds_log = {}, []
            for k in range(len(folds)):
                split = fold_splits(folds, k)
                part = {s: [items[r["id"]] for r in records if split[r["episode"]] == s] for s in ("train", "dev", "test")}
                model, history = train_head(recipe, part["train"], part["dev"], seed=1000 * seed + k)
                probs.update(predict(model, part["test"]))
                best = max(history, key=lambda h: h["dev_auc"])
                folds_log.append({"fold": k, "test": list(folds[k]), "best": best, "history": history})
                log.info("%s fold %d: epoch %d, dev AUC %.3f", name, k, best["epoch"], best["dev_auc"])
            tmp = out.with_name(out.stem + ".partial.npz")
            np.savez(tmp, **probs)
            tmp.replace(out)
            out.with_suffix(".json").write_text(dumps({
                "model_id": name, "channels": list(FRAME_CHANNELS), "decoding": MomentDecoding().to_dict(),
                "recipe": recipe.to_dict(), "seed": seed, "features": info, "interjection_targets": bool(pauses),
                "repetition_targets": bool(repetitions),
                "folds": folds_log}, indent=1))


def load_probs(folder: Path, name: str):
    import json

    import numpy as np

    path = folder / f"{name}.npz"
    if not path.is_file():
        raise ValueError(f"{path}: no probabilities; run `cv_recipes.py train` first")
    with np.load(path) as z:
        probs = {k: z[k] for k in z.files}
    return probs, json.loads(path.with_suffix(".json").read_text())


def mean_probs(parts: list[dict]) -> dict:
    """The seeds' probabilities averaged run by run (a seed ensemble)."""
    return {rid: sum(p[rid] for p in parts) / len(parts) for rid in parts[0]}


def smoothed(p, k: int):
    """(T, channels) probabilities averaged over k frames centred on each (edges: the frames there are)."""
    import numpy as np

    kernel = np.ones(k) / k
    ones = np.convolve(np.ones(len(p)), kernel, mode="same")  # (T,): the share of the window inside the run
    return np.stack([np.convolve(p[:, c], kernel, mode="same") / ones for c in range(p.shape[1])], axis=1)


def tuned(counts, grid, fold_of, ep_fold, subset):
    """Per episode, the decoding chosen on the other folds among grid[subset]."""
    from model.training.cv_decoding import nested_choice

    chosen = nested_choice(counts[:, subset], fold_of)
    return {ep: grid[subset[chosen[k]]] for ep, k in ep_fold.items()}, {k: grid[subset[i]].to_dict()
                                                                          for k, i in chosen.items()}


def block_filters(by_episode, decode_fn, episodes, fold_of, ep_fold):
    """Item 3: per fold, the Block floor (BLOCK_MIN) with the best F1 on the other folds' episodes."""
    import numpy as np

    from model.training.cv_report import mean_f1
    from model.training.joined_scores import pair_counts
    from model.training.moment_scores import SLPS
    from model.training.recipe_scores import stutter_spots

    moments = {j.episode: decode_fn(j) for j in episodes}
    counts = np.zeros((len(episodes), len(BLOCK_MIN), len(SLPS), 3))
    kept = {}
    for b, floor in enumerate(BLOCK_MIN):
        for e, j in enumerate(episodes):
            ms = [m for m in moments[j.episode] if not (m.types[:1] == ("Block",) and m.confidence < floor)]
            kept[(b, j.episode)] = ms
            spots = stutter_spots(ms)
            counts[e, b] = [(c.tp, c.n_ref, c.n_est) for c in (pair_counts(j.references[a], spots) for a in SLPS)]
    fold_of = np.asarray(fold_of)
    best = {k: int(np.argmax(mean_f1(np.moveaxis(counts[fold_of != k], 1, 0)))) for k in set(fold_of.tolist())}
    return {ep: kept[(best[k], ep)] for ep, k in ep_fold.items()}, {k: BLOCK_MIN[i] for k, i in best.items()}


def interjection_scores(episodes, records_by_id, pauses, probs, channels, base, fold_of, ep_fold):
    """Interjection F1 against Timestamped's filled pauses, the onset tuned on the other folds."""
    import numpy as np

    from model.moments.decoding import MomentDecoding, decode_moments
    from model.training.joined_scores import joined_probs
    from model.training.recipe_scores import f1_of, interjection_counts, joined_pauses

    counts = np.zeros((len(episodes), len(INTERJECTION_ONSETS), 3))
    for e, j in enumerate(episodes):
        p, ref = joined_probs(j, probs, frame_rate=FRAME_RATE), joined_pauses(j, records_by_id, pauses)
        for g, on in enumerate(INTERJECTION_ONSETS):
            d = MomentDecoding(**{**base.to_dict(), "interjection_onset": on, "interjection_offset": round(0.7 * on, 3)})
            counts[e, g] = interjection_counts(j, decode_moments(p, frame_rate=FRAME_RATE, options=d, channels=channels,
                                                                 exclude=j.exclude), ref)
    fold_of = np.asarray(fold_of)
    best = {k: int(np.argmax([f1_of(counts[fold_of != k, g]) for g in range(len(INTERJECTION_ONSETS))]))
            for k in set(fold_of.tolist())}
    chosen = np.array([counts[e, best[fold_of[e]]] for e in range(len(episodes))])
    return {"f1": f1_of(chosen), "matched": int(chosen[:, 0].sum()), "filled_pauses": int(chosen[:, 1].sum()),
            "decoded": int(chosen[:, 2].sum()), "onset_per_fold": {k: INTERJECTION_ONSETS[i] for k, i in best.items()},
            "per_episode": {j.episode: f1_of(chosen[e]) for e, j in enumerate(episodes)}}


def aims(rows, names) -> dict:
    """Issue 24's aims per source: F1 against each SLP, episodes within 2 per 100 syllables and within 0.5 s
    on the mean of the three longest (of all episodes)."""
    import numpy as np

    from model.training.cv_report import counts_array

    out = {}
    for name in names:
        tp, n_ref, n_est = counts_array(rows, name).sum(0).T  # per SLP
        errors = [(r.scores[name].per100_error, r.scores[name].longest3_error) for r in rows]
        out[name] = {"f1_per_slp": [float(x) for x in 2 * tp / np.maximum(n_ref + n_est, 1)],
                     "count_within_2": sum(e is not None and e <= 2 for e, _ in errors),
                     "longest3_within_0_5": sum(lg <= 0.5 for _, lg in errors), "episodes": len(rows)}
    return out


def extras_markdown(report: dict) -> str:
    """Per-type precision per band, interjection F1 and each fold's chosen decoding, as markdown."""
    from model.labels import SLD_LABELS

    def num(x):
        return "-" if x is None else f"{x:.2f}"

    lines = ["| band | source | " + " | ".join(f"{t} precision" for t in SLD_LABELS) + " |",
             "|---|---|" + "---|" * len(SLD_LABELS)]
    for band, per in report["type_precision"].items():
        lines += [f"| {band} | {name} | " + " | ".join(num(v[t]) for t in SLD_LABELS) + " |" for name, v in per.items()]
    lines += ["", "| source | F1 against A1 / A2 / A3 | episodes within 2 per 100 syllables | episodes within 0.5 s "
              "on the three longest |", "|---|---|---|---|"]
    for name, a in report["aims"].items():
        lines.append(f"| {name} | " + " / ".join(f"{x:.3f}" for x in a["f1_per_slp"])
                     + f" | {a['count_within_2']} of {a['episodes']} | {a['longest3_within_0_5']} of {a['episodes']} |")
    lines += ["", "| source | interjection F1 | matched | filled pauses | decoded | onset per fold |", "|---|---|---|---|---|---|"]
    for name, extra in report["recipes"].items():
        i = extra.get("interjections")
        if i:
            lines.append(f"| {name} | {i['f1']:.3f} | {i['matched']} | {i['filled_pauses']} | {i['decoded']} | "
                         + ", ".join(f"{v:g}" for v in i["onset_per_fold"].values()) + " |")
    lines += ["", "| source | fold: onset/offset/min duration/merge gap/split depth (Block floor) |", "|---|---|"]
    for name, extra in report["recipes"].items():
        floors = extra.get("block_floor_per_fold", {})
        lines.append(f"| {name} | " + "; ".join(
            f"{k}: {d['onset']:g}/{d['offset']:g}/{d['min_duration']:g}/{d['merge_gap']:g}/{d.get('split_depth', 0):g}"
            + (f" ({floors[k]:g})" if k in floors else "") for k, d in extra["decoding_per_fold"].items()) + " |")
    return "\n".join(lines)


def cmd_score(args) -> None:
    import numpy as np

    from model.jsonable import dumps
    from model.training.cv_decoding import decoding_grid, grid_counts
    from model.training.cv_report import band_rows, cv_report, format_markdown
    from model.training.interjection_targets import read_filled_pauses
    from model.training.recipe_scores import decoder, score_rows, type_precision, type_precision_counts

    records = annotated(args.manifest)
    records_by_id = {r["id"]: r for r in records}
    episodes, folds, _ = folds_of(records, args.fold_seed)
    ep_fold = {ep: k for k, fold in enumerate(folds) for ep in fold}
    fold_of = [ep_fold[j.episode] for j in episodes]
    full, plain_grid = decoding_grid(SPLIT_DEPTHS), decoding_grid()
    pauses = read_filled_pauses(args.words) if args.words else None
    moments, extra = {}, {}
    for spec in args.sources:  # NAME or NAME=SEED_FILE+SEED_FILE (a seed ensemble), NAME~K: smoothed over K frames
        name, _, files = spec.partition("=")
        base, _, smooth = name.partition("~")
        loaded = [load_probs(args.probs, f) for f in (files.split("+") if files else [base])]
        probs, channels = mean_probs([p for p, _ in loaded]), tuple(loaded[0][1]["channels"])
        if smooth:
            probs = {rid: smoothed(p, int(smooth)) for rid, p in probs.items()}
        grid = plain_grid if name in args.no_split else full
        cache = args.out / f"grid_{name}_{len(grid)}.npy"
        if cache.is_file():
            counts = np.load(cache)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            counts = grid_counts(episodes, probs, grid, channels=channels, frame_rate=FRAME_RATE)
            np.save(cache, counts)
        plain = np.array([i for i, d in enumerate(grid) if d.split_depth == 0])
        variants = [("", plain)] + ([] if grid is plain_grid else [("+split", np.arange(len(grid)))])
        for variant, subset in variants:
            per_ep, chosen = tuned(counts, grid, fold_of, ep_fold, subset)
            fn = decoder(probs, lambda j, per_ep=per_ep: per_ep[j.episode], channels=channels, frame_rate=FRAME_RATE)
            moments[name + variant] = {j.episode: fn(j) for j in episodes}
            extra[name + variant] = {"decoding_per_fold": chosen}
            if variant == variants[-1][0] and args.block_filter:
                kept, floors = block_filters(per_ep, fn, episodes, fold_of, ep_fold)
                moments[name + variant + "+blockfloor"] = kept
                extra[name + variant + "+blockfloor"] = {"decoding_per_fold": chosen, "block_floor_per_fold": floors}
            if variant == variants[-1][0] and pauses is not None and "Interjection" in channels:
                extra[name + variant]["interjections"] = interjection_scores(
                    episodes, records_by_id, pauses, probs, channels, per_ep[episodes[0].episode], fold_of, ep_fold)
    rows = score_rows(episodes, moments)
    report = cv_report(rows, list(moments), folds=folds)
    by_ep = {j.episode: j for j in episodes}
    report["type_precision"] = {band: {name: type_precision([type_precision_counts(by_ep[r.episode], per[r.episode])
                                                             for r in chosen]) for name, per in moments.items()}
                                for band, chosen in band_rows(rows).items()}
    report["recipes"] = extra
    report["aims"] = aims(rows, report["sources"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cv_recipes.json").write_text(dumps(report, indent=1))
    text = format_markdown(report) + "\n\n" + extras_markdown(report) + "\n"
    (args.out / "cv_recipes.md").write_text(text)
    log.info("%s", text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("features", help="cache frozen Whisper-base features of every annotated run")
    f.add_argument("--manifest", type=Path, required=True, help="a `prep casa` manifest (all 22 episodes)")
    f.add_argument("--out", type=Path, required=True, help="the cache (.npz), outside the repository")
    f.add_argument("--train-blocks", type=int, default=0,
                   help="k > 0: cache the output before Whisper's last k blocks, for the `block-*` heads that fine-tune them")
    t = sub.add_parser("train", help="train heads per fold; write each recipe's out-of-fold frame probabilities")
    t.add_argument("--manifest", type=Path, required=True)
    t.add_argument("--features", type=Path, required=True, help="the `features` cache")
    t.add_argument("--words", type=Path, default=None, help="Timestamped's words.csv: Interjection frame targets")
    t.add_argument("--repetitions", action="store_true",
                   help="also Timestamped's repetition flags as SoundRep (with a partial word) / WordRep frame targets")
    t.add_argument("--heads", nargs="+", default=["mlp", "gru"])
    t.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    t.add_argument("--epochs", type=int, default=8)
    t.add_argument("--patience", type=int, default=3)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--epoch-share", type=float, default=1.0, help="share of the training frames per epoch")
    t.add_argument("--encoder-lr", type=float, default=1e-4,
                   help="learning rate of Whisper's last block in a block-* head (give the matching --train-blocks cache)")
    t.add_argument("--hidden", type=int, default=0, help="0: 128 (mlp, conv), 64 (gru)")
    t.add_argument("--fold-seed", type=int, default=0)
    t.add_argument("--out", type=Path, required=True, help="folder for the probabilities, outside the repository")
    c = sub.add_parser("score", help="tune the decoding per fold (nested) and score every recipe joined")
    c.add_argument("--manifest", type=Path, required=True)
    c.add_argument("--probs", type=Path, required=True, help="the `train` folder")
    c.add_argument("--sources", nargs="+", required=True,
                   help="NAME (its NAME.npz) or NAME=FILE+FILE (the files' seeds averaged)")
    c.add_argument("--words", type=Path, default=None, help="Timestamped's words.csv: interjection F1")
    c.add_argument("--block-filter", action="store_true", help="item 3: also a Block floor tuned per fold")
    c.add_argument("--no-split", nargs="*", default=[], help="sources scored on the plain grid only (faster)")
    c.add_argument("--fold-seed", type=int, default=0)
    c.add_argument("--out", type=Path, required=True, help="report folder, outside the repository")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    {"features": cmd_features, "train": cmd_train, "score": cmd_score}[args.command](args)


if __name__ == "__main__":
    main()
