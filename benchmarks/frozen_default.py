"""Issue 24 item 5: the shipped default made from the recipe the cross-validation chose (benchmarks/cv_recipes.py).

The recipe: the offline Whisper-base encoder as it is (never fine-tuned), a per-frame MLP head
(model.training.heads.MLPHead: LayerNorm, 512 -> 128, GELU, 6 channels) trained with two seeds on the CASA
frame targets (Interjection from Timestamped's filled pauses), the seeds averaged, p(moment) and the types
smoothed over 0.18 s before decoding (`mlp~9` in docs/experiments.md).

`ensemble`: the two seeds' out-of-fold probabilities averaged as ONE head computes them (logits averaged:
model.training.frozen_head) against the probabilities averaged (what the CV measured), nested decoding.
`compare`: that recipe against the current default on the episodes the default never trained on.
`train`: each seed's head on ALL 22 episodes, the epochs fixed to the CV's median chosen epoch.
`export`: the heads folded into one frame head on the base encoder, the decoding chosen on the out-of-fold
probabilities of all 22 episodes, written as a model file (format 2, frame head).

Everything written but the model file is derived from CASA/FluencyBank: keep it outside the repository.
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


def annotated(manifest: Path) -> list[dict]:
    return [r for r in read_manifest(manifest) if r.get("moments") is not None]


def cmd_train(args) -> None:
    import torch

    from model.jsonable import dumps
    from model.training.cv_train import HeadRecipe, make_item, train_head_fixed
    from model.training.frozen_features import load_features
    from model.training.interjection_targets import read_filled_pauses

    torch.set_num_threads(1)
    records = annotated(args.manifest)
    feats, info = load_features(args.features)
    pauses = read_filled_pauses(args.words)
    items = [make_item(r, feats.pop(r["id"]), manifest_root(args.manifest), pauses) for r in records]
    recipe = HeadRecipe(head="mlp", hidden=args.hidden, epochs=args.epochs, epoch_share=args.epoch_share, lr=args.lr)
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        out = args.out / f"mlp_all_s{seed}.pt"
        if out.is_file():
            log.info("%s exists, kept", out)
            continue
        model, history = train_head_fixed(recipe, items, seed=seed)
        torch.save(model.state_dict(), out)
        out.with_suffix(".json").write_text(dumps({
            "recipe": recipe.to_dict(), "seed": seed, "features": info, "records": len(items),
            "episodes": sorted({r["episode"] for r in records}), "history": history}, indent=1))
        log.info("seed %d: %s", seed, history)


SMOOTH_SECONDS = 0.18  # the CV's `~9`: 9 frames at 50 per second
TEST = ("096", "109", "132", "179")  # the current default's test episodes (never trained or tuned on)
DEV = ("019", "046", "147", "218")  # ...and its dev episodes (its epoch and decoding were chosen on them)
CV_NAME = "mlp~9 (CV: probabilities averaged, smoothed per run)"
SHIPPED = "shipped: logits averaged, decoder smooths 0.18 s"
DEFAULT = "default (fine-tuned, 14 episodes)"


def nested_source(probs, base, channels, episodes, fold_of, ep_fold, cache: Path):
    """(per-episode decoding chosen on the other folds, grid counts, grid, each fold's choice) for frame
    probabilities decoded from `base` over the CV grid; the grid's counts cached in `cache`."""
    import numpy as np
    from cv_recipes import FRAME_RATE, tuned

    from model.training.cv_decoding import decoding_grid, grid_counts

    grid = decoding_grid(base=base)
    if cache.is_file():
        counts = np.load(cache)
    else:
        counts = grid_counts(episodes, probs, grid, channels=channels, frame_rate=FRAME_RATE)
        np.save(cache, counts)
    per_ep, chosen = tuned(counts, grid, fold_of, ep_fold, np.arange(len(grid)))
    return per_ep, counts, grid, chosen


def recipe_sources(args, episodes, fold_of, ep_fold):
    """Name -> (per-episode nested decoding, probabilities, channels, grid counts, grid, each fold's choice) for
    the two ways to average the seeds: probabilities averaged then smoothed run by run (what the CV measured
    as `mlp~9`), and logits averaged then smoothed by the decoder over the joined recording (what the shipped
    file computes); and the two mixed."""
    from cv_recipes import FRAME_RATE, load_probs, mean_probs, smoothed

    from model.moments.decoding import MomentDecoding
    from model.training.frozen_head import logit_mean

    loaded = [load_probs(args.probs, f"mlp_s{seed}") for seed in args.seeds]
    channels = tuple(loaded[0][1]["channels"])
    parts = [p for p, _ in loaded]
    k = int(round(SMOOTH_SECONDS * FRAME_RATE))
    by_decoder = MomentDecoding(smooth_seconds=SMOOTH_SECONDS)
    variants = {CV_NAME: ({rid: smoothed(p, k) for rid, p in mean_probs(parts).items()}, MomentDecoding()),
                SHIPPED: (logit_mean(parts), by_decoder),
                "logits averaged, smoothed per run": ({rid: smoothed(p, k) for rid, p in logit_mean(parts).items()},
                                                      MomentDecoding()),
                "probabilities averaged, decoder smooths": (mean_probs(parts), by_decoder)}
    out = {}
    for i, (name, (probs, base)) in enumerate(variants.items()):
        per_ep, counts, grid, chosen = nested_source(probs, base, channels, episodes, fold_of, ep_fold,
                                                     args.out / f"grid_{i}_60.npy")
        out[name] = (per_ep, probs, channels, counts, grid, chosen)
    return out


def whole_decoding(counts, grid, episodes, records_by_id, pauses, probs, channels):
    """The decoding for the shipped file: the grid point with the best F1 over ALL episodes' out-of-fold
    frames, and the interjection onset with the best interjection F1 over all of them."""
    import numpy as np
    from cv_recipes import FRAME_RATE, INTERJECTION_ONSETS

    from model.moments.decoding import MomentDecoding, decode_moments
    from model.training.cv_report import mean_f1
    from model.training.joined_scores import joined_probs
    from model.training.recipe_scores import f1_of, interjection_counts, joined_pauses

    f1 = mean_f1(np.moveaxis(counts, 1, 0))  # (grid,)
    best = grid[int(np.argmax(f1))]
    scores = {}
    for on in INTERJECTION_ONSETS:
        d = MomentDecoding(**{**best.to_dict(), "interjection_onset": on, "interjection_offset": round(0.7 * on, 3)})
        scores[on] = f1_of([interjection_counts(j, decode_moments(joined_probs(j, probs, frame_rate=FRAME_RATE),
                                                                  frame_rate=FRAME_RATE, options=d, channels=channels,
                                                                  exclude=j.exclude),
                                                joined_pauses(j, records_by_id, pauses)) for j in episodes])
    on = max(scores, key=scores.get)
    chosen = MomentDecoding(**{**best.to_dict(), "interjection_onset": on, "interjection_offset": round(0.7 * on, 3)})
    return chosen, {"moment_f1_in_sample": float(f1.max()), "interjection_f1_in_sample": scores[on],
                    "interjection_f1_per_onset": {f"{k:g}": v for k, v in scores.items()}}


def cmd_score(args) -> None:
    """The seeds' two averagings in the CV (all 22), the shipped recipe against the default on its 8 and 4
    untouched episodes, and the decoding for the shipped file."""
    import numpy as np
    from cv_recipes import FRAME_RATE, aims, folds_of

    from model.jsonable import dumps
    from model.training.cv_report import (
        _errors,
        cv_report,
        format_markdown,
        paired_bootstrap,
        read_frame_source,
    )
    from model.training.interjection_targets import read_filled_pauses
    from model.training.recipe_scores import decoder, score_rows

    records = annotated(args.manifest)
    records_by_id = {r["id"]: r for r in records}
    episodes, folds, _ = folds_of(records, args.fold_seed)
    ep_fold = {ep: k for k, fold in enumerate(folds) for ep in fold}
    fold_of = [ep_fold[j.episode] for j in episodes]
    args.out.mkdir(parents=True, exist_ok=True)
    sources = recipe_sources(args, episodes, fold_of, ep_fold)
    moments = {name: {j.episode: decoder(probs, lambda j, per_ep=per_ep: per_ep[j.episode], channels=channels,
                                         frame_rate=FRAME_RATE)(j) for j in episodes}
               for name, (per_ep, probs, channels, *_) in sources.items()}
    default = read_frame_source("default", args.default)
    moments[DEFAULT] = {
        j.episode: decoder(default.probs, lambda j: default.decodings[j.run_ids[0]], channels=default.channels,
                           frame_rate=FRAME_RATE)(j)
        for j in episodes if all(rid in default.probs for rid in j.run_ids)}
    report = {"decoding_per_fold": {name: src[5] for name, src in sources.items()}}
    rows = score_rows(episodes, {k: v for k, v in moments.items() if k != DEFAULT})
    report["all 22"] = cv_report(rows, [k for k in moments if k != DEFAULT], folds=folds)
    report["aims"] = aims(rows, [SHIPPED, CV_NAME, "floor: each run one moment", "SLPs' agreement"])
    text = ["## all 22 episodes, out of fold", format_markdown(report["all 22"]), dumps(report["aims"], indent=1)]
    for label, chosen in (("the default's 8 dev + test episodes", DEV + TEST), ("the default's 4 test episodes", TEST)):
        eps = [j for j in episodes if j.episode.rsplit("/", 1)[-1] in chosen]
        names = [SHIPPED, DEFAULT]
        sub = score_rows(eps, {n: moments[n] for n in names})
        rep = cv_report(sub, names, folds=())
        a, b = names
        rep["longest3_error_diff"] = paired_bootstrap(_errors(sub, a)[:, 1], _errors(sub, b)[:, 1],
                                                      lambda e: np.nanmean(e, axis=-1))
        report[label] = rep
        text += [f"## {label}", format_markdown(rep),
                 f"longest-3 error {a} - {b}: {rep['longest3_error_diff']}"]
    _, probs, channels, counts, grid, _ = sources[SHIPPED]
    decoding, info = whole_decoding(counts, grid, episodes, records_by_id, read_filled_pauses(args.words), probs,
                                    channels)
    report["shipped_decoding"] = {"decoding": decoding.to_dict(), **info}
    text.append(f"decoding for the shipped file (all 22 out-of-fold): {dumps(report['shipped_decoding'])}")
    (args.out / "frozen_default.json").write_text(dumps(report, indent=1))
    (args.out / "frozen_default.md").write_text("\n\n".join(text) + "\n")
    log.info("%s", "\n\n".join(text))


def cmd_export(args) -> None:
    """The seeds' heads folded into one frame head on the base encoder, with the decoding `score` chose, as a
    model file; then the file's own frames (both engines) against the heads on the cached features."""
    import json

    import numpy as np
    import torch

    from model.encoder.bundle import _as_stored, load_bundle, read_metadata, save_bundle
    from model.encoder.bundle_checks import tensor_checksum
    from model.encoder.classifier_config import ClassifierConfig
    from model.intended_use import INTENDED_USE
    from model.manifest import load_record_audio, write_json
    from model.moments.decoding import FRAME_CHANNELS
    from model.moments.frame_inference import FrameWindows
    from model.pipeline.inference import InferenceOptions, Predictor
    from model.training.frozen_features import load_features
    from model.training.frozen_head import frozen_classifier
    from model.training.model_card import LICENCES, describe_frozen_head
    from model.training.model_init import load_encoder

    torch.set_num_threads(1)
    report = json.loads((args.score / "frozen_default.json").read_text())
    heads = [json.loads((args.heads / f"mlp_all_s{seed}.json").read_text()) for seed in args.seeds]
    states = [torch.load(args.heads / f"mlp_all_s{seed}.pt", weights_only=True) for seed in args.seeds]
    dims, encoder, sha = load_encoder(heads[0]["features"]["weights"])
    if sha != heads[0]["features"]["weights_sha"]:
        raise ValueError(f"the encoder's SHA-256 {sha[:12]} is not the features' {heads[0]['features']['weights_sha'][:12]}")
    hidden = sum(h["recipe"]["hidden"] for h in heads)
    config = ClassifierConfig(dims=dims, head="frame", head_norm=True, head_hidden=hidden, train_blocks=0,
                              pooling="auto", context="trimmed", dropout=heads[0]["recipe"]["dropout"])
    model = frozen_classifier(states, encoder, config)
    cv = report["all 22"]
    summary = cv["bands"]["all"]
    training = {
        "recipe": heads[0]["recipe"], "seeds": len(heads), "encoder": heads[0]["features"]["weights"],
        "epochs_fixed": "the cross-validation's median chosen epoch (16 fold x seed heads, chosen by dev frame AUC)",
        "episodes": heads[0]["episodes"], "records": heads[0]["records"], "corpora": ["casa", "timestamped"],
        "licences": {c: LICENCES[c] for c in ("casa", "timestamped")}, "features": heads[0]["features"],
        "history": {f"seed {seed}": h["history"] for seed, h in zip(args.seeds, heads, strict=True)},
        "cross_validation": {
            "folds": len(cv["folds"]), "recipe": SHIPPED, "f1": summary[SHIPPED]["f1"],
            "precision": summary[SHIPPED]["precision"], "recall": summary[SHIPPED]["recall"],
            "per100_error": summary[SHIPPED]["per100_error"], "longest3_error": summary[SHIPPED]["longest3_error"],
            "run_floor_f1": summary["floor: each run one moment"]["f1"],
            "slp_agreement_f1": summary["SLPs' agreement"]["f1"],
            "f1_per_slp": report["aims"][SHIPPED]["f1_per_slp"],
            "bands": {band: {k: per[SHIPPED][k] for k in ("episodes", "f1", "per100_error", "longest3_error")}
                      | {"slp_agreement_f1": per["SLPs' agreement"]["f1"]}
                      for band, per in cv["bands"].items() if band != "all"}},
        "decoding_chosen_on": "the out-of-fold frames of all episodes", **report["shipped_decoding"],
        "command": "benchmarks/frozen_default.py train, score, export (docs/experiments.md)",
    }
    training.pop("decoding")
    metadata = {"whisper": {"name": training["encoder"], "encoder_sha256": sha}, "training": training,
                "intended_use": INTENDED_USE, "description": describe_frozen_head(training),
                "frames": FrameWindows().to_dict(), "decoding": report["shipped_decoding"]["decoding"]}
    thresholds = dict.fromkeys(config.labels, 0.5)  # clip labels: the heads learnt frames only
    if args.clip_thresholds:  # tuned on the same episodes' clip votes (clip-thresholds), for the same tensors
        clips = json.loads(args.clip_thresholds.read_text())
        stored = ((name, _as_stored(name, value)) for name, value in model.state_dict().items())  # as saved
        if clips["tensor_sha256"] != tensor_checksum(stored):
            raise ValueError(f"{args.clip_thresholds} was tuned on other weights; run clip-thresholds on this export")
        thresholds = clips["thresholds"]
        training["clip_thresholds"] = {"tuned_on": "FluencyBank clips of the same 22 episodes, SEP-28k votes "
                                                   "(in sample)", "clips": clips["clips"],
                                       "macro_f1_at_0_5": clips["metrics_at_0_5"]["macro_f1"],
                                       "macro_f1_tuned_in_sample": clips["metrics_tuned_in_sample"]["macro_f1"]}
        training["licences"]["fluencybank"] = LICENCES["fluencybank"]  # the clip votes are SEP-28k's
        metadata["description"] = describe_frozen_head(training)
    model_id = save_bundle(model, args.out, thresholds=thresholds, metadata=metadata)
    bundle = load_bundle(args.out)
    if args.json:
        write_json(args.json, {"model_id": model_id, **read_metadata(args.out)})
    log.info("wrote %s (model id %s)", args.out, model_id[:12])
    # The file's frames from the audio against the heads on the cached (fp16) features, a few runs.
    records = annotated(args.manifest)[:: max(1, len(annotated(args.manifest)) // args.check)][: args.check]
    feats, _ = load_features(args.features)
    folded = {k: v.float() for k, v in model.head.state_dict().items()}
    for engine in ("torch", "ct2"):
        predictor = Predictor(bundle, options=InferenceOptions(device="cpu", engine=engine, precision="fp32"))
        worst = 0.0
        for r in records:
            got = predictor.predict_frames_blocks(iter([load_record_audio(r, manifest_root(args.manifest))])).probs
            x = torch.from_numpy(feats[r["id"]].astype(np.float32))
            x = torch.nn.functional.layer_norm(x, (x.shape[-1],), folded["norm.weight"], folded["norm.bias"])
            h = torch.nn.functional.gelu(x @ folded["proj.weight"].T + folded["proj.bias"])
            want = torch.sigmoid(h @ folded["out.weight"].T + folded["out.bias"]).numpy()
            n = min(len(got), len(want))
            worst = max(worst, float(np.abs(got[:n] - want[:n]).max()))
        log.info("%s engine: %d runs, max |p - p(features)| %.2e over channels %s", engine, len(records), worst,
                 list(FRAME_CHANNELS))


def cmd_clip_thresholds(args) -> None:
    """Clip thresholds for `predict`: the model file's clip probabilities on FluencyBank's clips of the same
    episodes (SEP-28k votes, `prep fluencybank --joins 0`), each type's threshold at its best F1. In sample:
    the head never learnt the clip votes, but it heard these episodes."""
    import torch

    from model.encoder.bundle import load_bundle
    from model.encoder.bundle_checks import CHECKSUM_KEY
    from model.jsonable import dumps
    from model.training.data import hard_labels
    from model.training.evaluation import compute_metrics, evaluate_model
    from model.training.thresholds import apply_thresholds, tune_thresholds

    torch.set_num_threads(1)
    bundle = load_bundle(args.model)
    labels = bundle.config.labels
    records = [r for r in read_manifest(args.manifest) if not r.get("parts")]
    at_half, probs = evaluate_model(bundle.model, dict.fromkeys(labels, 0.5), records, manifest_root(args.manifest))
    y = hard_labels(records, labels)
    thresholds = tune_thresholds(y, probs, labels)
    tuned = compute_metrics(y, apply_thresholds(probs, thresholds, labels), labels)
    args.out.write_text(dumps({"model_id": bundle.model_id, "tensor_sha256": bundle.metadata[CHECKSUM_KEY],
                               "clips": len(records),
                               "episodes": sorted({r["episode"] for r in records}), "thresholds": thresholds,
                               "metrics_at_0_5": at_half, "metrics_tuned_in_sample": tuned}, indent=1))
    log.info("thresholds %s; macro F1 %.3f at 0.5, %.3f tuned (in sample)", thresholds, at_half["macro_f1"],
             tuned["macro_f1"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="each seed's MLP head on all 22 episodes, epochs fixed")
    t.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    t.add_argument("--manifest", type=Path, required=True, help="the `prep casa` manifest (all 22 episodes)")
    t.add_argument("--features", type=Path, required=True, help="benchmarks/cv_recipes.py features' cache")
    t.add_argument("--words", type=Path, required=True, help="Timestamped's words.csv: Interjection frame targets")
    t.add_argument("--epochs", type=int, default=7, help="the CV's median chosen epoch (16 folds x seeds: 7)")
    t.add_argument("--epoch-share", type=float, default=0.5)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--hidden", type=int, default=128)
    t.add_argument("--out", type=Path, required=True, help="folder for the heads, outside the repository")
    c = sub.add_parser("score", help="the seeds' averagings in the CV, against the default, and the decoding")
    c.add_argument("--manifest", type=Path, required=True)
    c.add_argument("--probs", type=Path, required=True, help="cv_recipes.py train's folder (mlp_s0, mlp_s1)")
    c.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    c.add_argument("--default", type=Path, nargs="+", required=True,
                   help="the current default's frame_probs_cache files (its dev and test splits)")
    c.add_argument("--words", type=Path, required=True, help="Timestamped's words.csv: the interjection onset")
    c.add_argument("--fold-seed", type=int, default=0)
    c.add_argument("--out", type=Path, required=True, help="report folder, outside the repository")
    e = sub.add_parser("export", help="fold the heads into one frame head on the base encoder; write the model file")
    e.add_argument("--manifest", type=Path, required=True)
    e.add_argument("--features", type=Path, required=True, help="the feature cache (checks the file's frames)")
    e.add_argument("--heads", type=Path, required=True, help="`train`'s folder")
    e.add_argument("--score", type=Path, required=True, help="`score`'s folder (the decoding and the CV figures)")
    e.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    e.add_argument("--check", type=int, default=4, help="runs whose frames are checked against the features")
    e.add_argument("--out", type=Path, required=True, help="the model file (.safetensors)")
    e.add_argument("--json", type=Path, default=None, help="also its metadata as readable JSON")
    e.add_argument("--clip-thresholds", type=Path, default=None, help="clip-thresholds' .json (default: 0.5 each)")
    k = sub.add_parser("clip-thresholds", help="`predict`'s clip thresholds on FluencyBank's clips (in sample)")
    k.add_argument("--model", type=Path, required=True, help="the exported model file")
    k.add_argument("--manifest", type=Path, required=True, help="a `prep fluencybank --joins 0` manifest")
    k.add_argument("--out", type=Path, required=True, help="a .json outside the repository, for export")
    for parser, fn in ((t, cmd_train), (c, cmd_score), (e, cmd_export), (k, cmd_clip_thresholds)):
        parser.set_defaults(func=fn)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.func(args)


if __name__ == "__main__":
    main()
